"""What each role's dashboard shows: a handful of grouped queries, never one query per row.

The organization-wide parts (people counts, recent activity, classes, totals) are cached in the
process under a *version*: the newest administrative audit event of the user's organizations. Every
change those parts show — people created, changed, deactivated or merged, roles granted or revoked,
organizations changed, imports — records such an event, so a new version comes with every change and
a cached dashboard is never stale, whichever process made the change. Finding the version is one
index seek per organization.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

from flask import render_template
from flask_babel import get_locale, get_timezone
from markupsafe import Markup
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload

from lms.accounts.models import Consent, ImportJob, ParentLink, User
from lms.core.audit import ROUTINE_ACTIONS, AuditEvent, AuditEventOrg
from lms.core.templating import a11y_settings
from lms.extensions import db
from lms.orgs.models import TEACHING_ROLES, Membership, Municipality, Organization, Role
from lms.orgs.permissions import Scope


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


def _build_version_statement():
    # ORDER BY … LIMIT 1 walks the index backwards and stops: one seek per organization, however long
    # the log (max() would read every entry of the organization). Built once, run on every dashboard.
    newest_per_org = (select(AuditEventOrg.event_id)
                      .where(AuditEventOrg.organization_id == Organization.id, AuditEventOrg.routine.is_(False))
                      .order_by(AuditEventOrg.event_id.desc()).limit(1)
                      .scalar_subquery())
    return select(func.max(newest_per_org)).where(Organization.id.in_(bindparam("org_ids", expanding=True)))


_version_statement = None
_admin_version_statement = select(func.max(AuditEvent.id))


def data_version(scope: Scope) -> int | None:
    """The newest administrative audit event of the user's organizations (None: nothing to cache on)."""
    global _version_statement
    if scope.is_admin:
        return db.session.scalar(_admin_version_statement)
    org_ids = scope.member_org_ids | scope.managed_org_ids
    if not org_ids:
        return None
    if _version_statement is None:
        _version_statement = _build_version_statement()
    return db.session.scalar(_version_statement, {"org_ids": sorted(org_ids)}) or 0


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


class _VersionedCache:
    """A small thread-safe LRU map; entries are only ever looked up under their exact version."""

    def __init__(self, size: int = 2000):
        self._items: OrderedDict = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_cache = _VersionedCache()
_html_cache = _VersionedCache(size=1000)  # ~10 KB each


def build_dashboard(user: User, scope: Scope) -> Dashboard:
    version = data_version(scope)
    key = (user.id, version, scope.is_admin, scope.member_org_ids, scope.managed_org_ids) \
        if version is not None else None
    org_data = _cache.get(key) if key is not None else None
    if org_data is None:
        org_data = _org_data(user, scope)
        if key is not None:
            _cache.put(key, org_data)
    d = Dashboard(org=org_data, key=key, is_admin=scope.is_admin, is_parent=scope.is_parent)
    if scope.is_manager:
        imports = select(ImportJob).order_by(ImportJob.id.desc()).limit(5)
        if not scope.is_admin:
            imports = imports.where(ImportJob.created_by_id == user.id)
        d.imports = list(db.session.scalars(imports))
    if scope.is_parent:
        d.children = _children(user)
    return d


def org_sections_html(d: Dashboard) -> Markup:
    """The organization-wide sections, rendered once per data version, language and time zone."""
    def render() -> Markup:
        return Markup(render_template("main/_dashboard_org.html", d=d, is_admin=d.is_admin,  # noqa: S704
                                      is_parent=d.is_parent))

    if d.key is None:
        return render()
    key = (d.key, d.is_parent, str(get_locale()), str(get_timezone()))
    html = _html_cache.get(key)
    if html is None:
        html = render()
        _html_cache.put(key, html)
    return html


_page_cache = _VersionedCache(size=1000)  # ~15 KB each


def page_key(d: Dashboard, session) -> tuple | None:
    """What the whole dashboard page depends on, or None when it must be rendered afresh: the browser
    session (the page carries its CSRF token), the data version, the recent imports and their states,
    language, time zone and display settings. Pages with messages to show, and parents' pages (their
    children's data has no version), are never cached."""
    if d.key is None or d.is_parent or session.get("_flashes"):
        return None
    return (session.get("sid"), session.get("csrf_token"), d.key,
            tuple((job.id, job.status) for job in d.imports),
            str(get_locale()), str(get_timezone()), tuple(sorted(a11y_settings().items())))


def cached_page(key: tuple | None, render) -> str:
    if key is None:
        return render()
    html = _page_cache.get(key)
    if html is None:
        html = render()
        _page_cache.put(key, html)
    return html
