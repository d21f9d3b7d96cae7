"""What each role's dashboard shows: a handful of grouped queries, never one query per row."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from lms.accounts.models import Consent, ImportJob, ParentLink, User
from lms.core.audit import AuditEvent
from lms.extensions import db
from lms.orgs.models import Membership, Municipality, Organization, Role
from lms.orgs.permissions import Scope


@dataclass
class Dashboard:
    memberships: list[Membership] = field(default_factory=list)
    managed: list[tuple[Organization, dict[str, int]]] = field(default_factory=list)
    classes: list[tuple[Organization, int | None, str | None, int]] = field(default_factory=list)
    children: list[tuple[ParentLink, list[Membership], list[Consent]]] = field(default_factory=list)
    activity: list[AuditEvent] = field(default_factory=list)
    imports: list[ImportJob] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)


def audit_visibility(scope: Scope):
    """SQL condition limiting audit events to what a manager may see (None: everything)."""
    if scope.is_admin:
        return None
    org_ids = scope.managed_org_ids
    people = select(Membership.user_id).where(Membership.organization_id.in_(org_ids))
    return or_(
        AuditEvent.organization_id.in_(org_ids),
        (AuditEvent.object_type == "User") & AuditEvent.object_id.in_(people),
        # e.g. logins and failed logins of the organization's own people
        AuditEvent.organization_id.is_(None) & AuditEvent.actor_id.in_(people),
    )


def recent_activity(scope: Scope, limit: int = 10) -> list[AuditEvent]:
    stmt = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    cond = audit_visibility(scope)
    if cond is not None:
        stmt = stmt.where(cond)
    return list(db.session.scalars(stmt))


def _managed_counts(scope: Scope, limit: int = 50) -> list[tuple[Organization, dict[str, int]]]:
    stmt = select(Organization).where(Organization.is_active.is_(True)).order_by(Organization.name).limit(limit)
    if not scope.is_admin:
        stmt = stmt.where(Organization.id.in_(scope.managed_org_ids))
    orgs = list(db.session.scalars(stmt))
    ids = [o.id for o in orgs]
    counts: dict[int, dict[str, int]] = {i: {} for i in ids}
    if ids:
        rows = db.session.execute(
            select(Membership.organization_id, Membership.role, func.count(Membership.id))
            .join(User, User.id == Membership.user_id)
            .where(Membership.organization_id.in_(ids), User.is_active.is_(True))
            .group_by(Membership.organization_id, Membership.role))
        for org_id, role, n in rows:
            counts[org_id][role] = n
    return [(o, counts[o.id]) for o in orgs]


def _classes(scope: Scope) -> list[tuple[Organization, int | None, str | None, int]]:
    org_ids = {org_id for org_id, roles in scope.roles_by_org.items()
               if roles & {Role.TEACHER, Role.METHODOLOGIST}}
    if not org_ids:
        return []
    rows = db.session.execute(
        select(Organization, Membership.grade, Membership.class_letter, func.count(Membership.id))
        .join(Membership, Membership.organization_id == Organization.id)
        .join(User, User.id == Membership.user_id)
        .where(Organization.id.in_(org_ids), Membership.role == Role.STUDENT, User.is_active.is_(True))
        .group_by(Organization.id, Membership.grade, Membership.class_letter)
        .order_by(Organization.name, Membership.grade, Membership.class_letter)
        .limit(200))
    return [tuple(r) for r in rows]


def _children(user: User) -> list[tuple[ParentLink, list[Membership], list[Consent]]]:
    links = list(db.session.scalars(
        select(ParentLink).options(joinedload(ParentLink.student)).where(ParentLink.parent_id == user.id)))
    if not links:
        return []
    ids = [link.student_id for link in links]
    memberships: dict[int, list[Membership]] = {i: [] for i in ids}
    for m in db.session.scalars(select(Membership).options(joinedload(Membership.organization))
                                .where(Membership.user_id.in_(ids))):
        memberships[m.user_id].append(m)
    consents: dict[int, list[Consent]] = {i: [] for i in ids}
    for c in db.session.scalars(select(Consent).where(Consent.subject_id.in_(ids)).order_by(Consent.given_on)):
        consents[c.subject_id].append(c)
    return [(link, memberships[link.student_id], consents[link.student_id]) for link in links]


def build_dashboard(user: User, scope: Scope) -> Dashboard:
    d = Dashboard()
    d.memberships = list(db.session.scalars(
        select(Membership).options(joinedload(Membership.organization))
        .where(Membership.user_id == user.id).order_by(Membership.id)))
    if scope.is_manager:
        d.managed = _managed_counts(scope)
        d.activity = recent_activity(scope)
        imports = select(ImportJob).order_by(ImportJob.id.desc()).limit(5)
        if not scope.is_admin:
            imports = imports.where(ImportJob.created_by_id == user.id)
        d.imports = list(db.session.scalars(imports))
    if scope.is_admin:
        d.totals = {
            "municipalities": db.session.scalar(select(func.count(Municipality.id))) or 0,
            "organizations": db.session.scalar(select(func.count(Organization.id))) or 0,
            "people": db.session.scalar(select(func.count(User.id)).where(User.is_active.is_(True))) or 0,
        }
    d.classes = _classes(scope)
    d.children = _children(user)
    return d
