"""What each role's dashboard shows: a handful of grouped queries, never one query per row."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from lms.accounts.models import Consent, ImportJob, ParentLink, User
from lms.core.audit import ROUTINE_ACTIONS, AuditEvent, AuditEventOrg
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
    return AuditEvent.id.in_(
        select(AuditEventOrg.event_id).where(AuditEventOrg.organization_id.in_(scope.managed_org_ids)))


def recent_activity(scope: Scope, limit: int = 10) -> list[AuditEvent]:
    """The latest administrative events a manager may see (logins and the like are left out).

    Two small indexed queries: the newest event ids of the managed organizations, then the events."""
    if scope.is_admin:
        ids_stmt = (select(AuditEvent.id).where(AuditEvent.action.not_in(ROUTINE_ACTIONS))
                    .order_by(AuditEvent.id.desc()).limit(limit))
    else:
        ids_stmt = (select(AuditEventOrg.event_id)
                    .where(AuditEventOrg.organization_id.in_(scope.managed_org_ids),
                           AuditEventOrg.routine.is_(False))
                    .distinct().order_by(AuditEventOrg.event_id.desc()).limit(limit))
    ids = list(db.session.scalars(ids_stmt))
    if not ids:
        return []
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.id.in_(ids)).order_by(AuditEvent.id.desc())))


def people_counts(org_ids: list[int]) -> dict[int, dict[str, int]]:
    """Active people per organization and role: all memberships (read from the covering index on
    organization and role) minus those of deactivated people (few, found through their own index)."""
    counts: dict[int, dict[str, int]] = {i: {} for i in org_ids}
    if not org_ids:
        return counts
    rows = db.session.execute(
        select(Membership.organization_id, Membership.role, func.count())
        .where(Membership.organization_id.in_(org_ids))
        .group_by(Membership.organization_id, Membership.role))
    for org_id, role, n in rows:
        counts[org_id][role] = n
    inactive = select(User.id).where(User.is_active.is_(False)).scalar_subquery()
    rows = db.session.execute(
        select(Membership.organization_id, Membership.role, func.count())
        .where(Membership.user_id.in_(inactive), Membership.organization_id.in_(org_ids))
        .group_by(Membership.organization_id, Membership.role))
    for org_id, role, n in rows:
        counts[org_id][role] -= n
    return counts


def _managed_counts(scope: Scope, limit: int = 50) -> list[tuple[Organization, dict[str, int]]]:
    stmt = select(Organization).where(Organization.is_active.is_(True)).order_by(Organization.name).limit(limit)
    if not scope.is_admin:
        stmt = stmt.where(Organization.id.in_(scope.managed_org_ids))
    orgs = list(db.session.scalars(stmt))
    counts = people_counts([o.id for o in orgs])
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
