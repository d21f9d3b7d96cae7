"""What each role's dashboard shows: a handful of grouped queries, never one query per row.

The organization-wide parts (people counts, recent activity, classes, totals) are cached in the
process under a *version*: the newest administrative audit event of the user's organizations. Every
change those parts show — people created, changed, deactivated or merged, roles granted or revoked,
organizations changed, imports — records such an event, so a new version comes with every change and
a cached dashboard is never stale, whichever process made the change. Finding the version is one
index seek per organization.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import render_template
from flask_babel import get_locale, get_timezone
from markupsafe import Markup
from sqlalchemy import Integer, bindparam, func, select, union_all
from sqlalchemy.orm import joinedload

from lms.accounts.models import Consent, ImportJob, ParentLink, User
from lms.core.audit import ROUTINE_ACTIONS, AuditEvent, AuditEventOrg
from lms.core.pagecache import VersionedCache, cached, page_key
from lms.extensions import db
from lms.orgs.models import TEACHING_ROLES, Membership, Municipality, Organization, Role
from lms.orgs.permissions import Scope, const, remember_scope, scope_from_rows, scope_union


@dataclass(frozen=True)
class OrgRow:
    id: int
    short_name: str


@dataclass(frozen=True)
class MembershipRow:
    organization_id: int
    org_name: str
    role: str
    class_name: str


@dataclass(frozen=True)
class ActivityRow:
    at: datetime
    action: str
    actor_name: str


@dataclass
class OrgData:
    """The cacheable part: plain values only (no ORM objects), labels translated at rendering."""

    memberships: list[MembershipRow] = field(default_factory=list)
    managed: list[tuple[OrgRow, dict[str, int]]] = field(default_factory=list)
    classes: list[tuple[OrgRow, int | None, str | None, int]] = field(default_factory=list)
    activity: list[ActivityRow] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)


@dataclass
class Dashboard:
    org: OrgData
    #: the cache key of ``org`` (None when it was not cached)
    key: tuple | None = None
    is_admin: bool = False
    is_parent: bool = False
    children: list[tuple[ParentLink, list[Membership], list[Consent]]] = field(default_factory=list)
    imports: list[ImportJob] = field(default_factory=list)

    def __getattr__(self, name):  # d.managed, d.activity … read through to the cached part
        return getattr(self.org, name)


def audit_visibility(scope: Scope):
    """SQL condition limiting audit events to what a manager may see (None: everything)."""
    if scope.is_admin:
        return None
    return AuditEvent.id.in_(
        select(AuditEventOrg.event_id).where(AuditEventOrg.organization_id.in_(scope.managed_org_ids)))


def recent_activity(scope: Scope, limit: int = 10) -> list[ActivityRow]:
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
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.id.in_(ids)).order_by(AuditEvent.id.desc()))
    return [ActivityRow(e.at, e.action, e.actor.short_name if e.actor else "") for e in events]


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


def _managed_counts(scope: Scope, limit: int = 50) -> list[tuple[OrgRow, dict[str, int]]]:
    stmt = (select(Organization.id, Organization.short_name).where(Organization.is_active.is_(True))
            .order_by(Organization.name).limit(limit))
    if not scope.is_admin:
        stmt = stmt.where(Organization.id.in_(scope.managed_org_ids))
    orgs = [OrgRow(i, n) for i, n in db.session.execute(stmt)]
    counts = people_counts([o.id for o in orgs])
    return [(o, counts[o.id]) for o in orgs]


def _classes(scope: Scope) -> list[tuple[OrgRow, int | None, str | None, int]]:
    org_ids = {org_id for org_id, roles in scope.roles_by_org.items()
               if roles & TEACHING_ROLES}
    if not org_ids:
        return []
    rows = db.session.execute(
        select(Organization.id, Organization.short_name, Membership.grade, Membership.class_letter,
               func.count(Membership.id))
        .join(Membership, Membership.organization_id == Organization.id)
        .join(User, User.id == Membership.user_id)
        .where(Organization.id.in_(org_ids), Membership.role == Role.STUDENT, User.is_active.is_(True))
        .group_by(Organization.id, Membership.grade, Membership.class_letter)
        .order_by(Organization.name, Membership.grade, Membership.class_letter)
        .limit(200))
    return [(OrgRow(org_id, name), grade, letter, n) for org_id, name, grade, letter, n in rows]


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


@dataclass(frozen=True)
class DashboardState:
    """What decides whether a cached dashboard is still right, read in one statement."""

    scope: Scope
    #: the newest administrative audit event of the user's organizations (None: nothing to cache on)
    version: int | None
    #: (id, status) of the newest imports a manager sees, newest first
    imports: tuple[tuple[int, str], ...] = ()


def _build_state_statement(is_admin: bool):
    """The user's scope rows (``scope_union``), one "v" row with the data version and "i" rows with the
    newest import jobs, in one UNION ALL: a cached dashboard costs this statement and the session's.

    The version is the newest non-routine event per organization of the scope: ORDER BY … LIMIT 1 walks
    the index backwards and stops, one seek per organization however long the log (max() over the
    organization would read all of its entries). The global administrator's version is the newest event."""
    scope = scope_union().cte("scope")
    org_id = scope.c.org_id
    nulls = (const(None, Integer), const(None), const(None, Integer), const(None))
    if is_admin:
        version = select(func.max(AuditEvent.id).label("n"), *nulls, const("v"))
    else:
        newest_per_org = (select(AuditEventOrg.event_id)
                          .where(AuditEventOrg.organization_id == org_id, AuditEventOrg.routine.is_(False))
                          .order_by(AuditEventOrg.event_id.desc()).limit(const(1, Integer))
                          .scalar_subquery())
        version = (select(func.max(newest_per_org).label("n"), *nulls, const("v"))
                   .where(org_id.is_not(None)))
    jobs = select(ImportJob.id, ImportJob.status).order_by(ImportJob.id.desc()).limit(const(5, Integer))
    if not is_admin:
        jobs = jobs.where(ImportJob.created_by_id == bindparam("user_id", type_=Integer))
    jobs = jobs.subquery()
    imports = select(jobs.c.id, const(None, Integer), jobs.c.status, const(None, Integer), const(None),
                     const("i"))
    union = union_all(select(scope), version, imports).subquery()
    return select(union).order_by(union.c.kind, union.c.n)


_state_statements: dict[bool, object] = {}


def dashboard_state(user: User) -> DashboardState:
    """The scope (kept for the rest of the request), data version and recent imports of ``user``."""
    is_admin = bool(user.is_admin)
    stmt = _state_statements.get(is_admin)
    if stmt is None:
        stmt = _state_statements[is_admin] = _build_state_statement(is_admin)
    rows = db.session.execute(stmt, {"user_id": user.id}).all()
    scope = scope_from_rows(user, rows)
    remember_scope(user, scope)
    version = next((row[0] for row in rows if row[5] == "v"), None)
    if version is None and (is_admin or scope.member_org_ids or scope.managed_org_ids):
        version = 0  # organizations without any event yet: still a version to cache on
    imports = tuple(sorted(((row[0], row[2]) for row in rows if row[5] == "i"), reverse=True)) \
        if scope.is_manager else ()
    return DashboardState(scope, version, imports)


def _org_data(user: User, scope: Scope) -> OrgData:
    d = OrgData()
    d.memberships = [
        MembershipRow(m.organization_id, m.organization.short_name, m.role, m.class_name)
        for m in db.session.scalars(select(Membership).options(joinedload(Membership.organization))
                                    .where(Membership.user_id == user.id).order_by(Membership.id))]
    if scope.is_manager:
        d.managed = _managed_counts(scope)
        d.activity = recent_activity(scope)
    if scope.is_admin:
        d.totals = {
            "municipalities": db.session.scalar(select(func.count(Municipality.id))) or 0,
            "organizations": db.session.scalar(select(func.count(Organization.id))) or 0,
            "people": db.session.scalar(select(func.count(User.id)).where(User.is_active.is_(True))) or 0,
        }
    d.classes = _classes(scope)
    return d


_cache = VersionedCache()
_html_cache = VersionedCache(size=1000)  # ~10 KB each


def build_dashboard(user: User, state: DashboardState) -> Dashboard:
    scope, version = state.scope, state.version
    key = (user.id, version, scope.is_admin, scope.member_org_ids, scope.managed_org_ids) \
        if version is not None else None
    org_data = _cache.get(key) if key is not None else None
    if org_data is None:
        org_data = _org_data(user, scope)
        if key is not None:
            _cache.put(key, org_data)
    d = Dashboard(org=org_data, key=key, is_admin=scope.is_admin, is_parent=scope.is_parent)
    if state.imports:
        d.imports = list(db.session.scalars(select(ImportJob).where(ImportJob.id.in_([i for i, _s in state.imports]))
                                            .order_by(ImportJob.id.desc())))
    if scope.is_parent:
        d.children = _children(user)
    return d


def org_sections_html(d: Dashboard) -> Markup:
    """The organization-wide sections, rendered once per data version, language and time zone."""
    def render() -> Markup:
        return Markup(render_template("main/_dashboard_org.html", d=d, is_admin=d.is_admin,  # noqa: S704
                                      is_parent=d.is_parent))

    key = None if d.key is None else (d.key, d.is_parent, str(get_locale()), str(get_timezone()))
    return cached(_html_cache, key, render)


_page_cache = VersionedCache(size=1000)  # ~15 KB each


def dashboard_page_key(user: User, state: DashboardState) -> tuple | None:
    """What the whole dashboard page depends on besides the layout (``lms.core.pagecache.page_key``), or None
    when it must be rendered afresh: the data version, the recent imports and their states. Parents' pages
    (their children's data has no version) are never cached."""
    scope = state.scope
    if state.version is None or scope.is_parent:
        return None
    return page_key("dashboard", user.id, state.version, scope.is_admin, scope.member_org_ids,
                    scope.managed_org_ids, state.imports)


def cached_page(key: tuple | None, render) -> str:
    return cached(_page_cache, key, render)
