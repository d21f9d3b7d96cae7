"""Who may see and manage organizations. Every org view calls exactly one of these predicates.

A user's reach is computed once per request (``scope_of``): the organizations they belong to,
those they manage (as organization admin, or all organizations of a municipality they coordinate),
and those they teach in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import g, has_request_context
from sqlalchemy import Integer, String, bindparam, cast, exists, literal_column, null, select, union_all

from lms.extensions import db
from lms.orgs.models import TEACHING_ROLES, Membership, Municipality, Organization, Role


@dataclass(frozen=True)
class Scope:
    user_id: int | None = None
    is_admin: bool = False
    member_org_ids: frozenset[int] = frozenset()
    managed_org_ids: frozenset[int] = frozenset()
    staff_org_ids: frozenset[int] = frozenset()
    coordinated_municipality_ids: frozenset[int] = frozenset()
    roles_by_org: dict[int, frozenset[str]] = field(default_factory=dict)
    #: time zone of the user's first organization (for showing times)
    time_zone: str | None = None
    #: linked to at least one child as a parent
    is_parent: bool = False

    def manages(self, org_id: int | None) -> bool:
        return self.is_admin or (org_id is not None and org_id in self.managed_org_ids)

    @property
    def is_manager(self) -> bool:
        return self.is_admin or bool(self.managed_org_ids)

    @property
    def is_coordinator(self) -> bool:
        return bool(self.coordinated_municipality_ids)

    def visible_org_ids(self) -> frozenset[int] | None:
        """None means every organization (global administrator)."""
        if self.is_admin:
            return None
        return self.member_org_ids | self.managed_org_ids


ANONYMOUS = Scope()


def const(value, type_=String):
    """A constant written into the SQL text, not a bound parameter: the hot statements below carry
    fewer parameters to adapt on every request. Only for values of this code, never user input."""
    if value is None:
        return cast(null(), type_)
    if isinstance(value, str):
        assert "'" not in value
        return literal_column(f"'{value}'", type_)
    return literal_column(str(int(value)), type_)


def scope_union():
    """The rows of a user's scope as one UNION ALL (bound parameter ``user_id``): the user's memberships
    (kind "m"), every organization of the municipalities they coordinate ("c"), and whether they are
    someone's parent ("p", without an organization). Columns: n, org_id, role, municipality_id,
    time_zone, kind."""
    user_id = bindparam("user_id", type_=Integer)
    mine = (select(Membership.id.label("n"), Membership.organization_id.label("org_id"), Membership.role,
                   Organization.municipality_id, Organization.time_zone, const("m").label("kind"))
            .join(Organization, Organization.id == Membership.organization_id)
            .where(Membership.user_id == user_id, Organization.is_active.is_(True)))
    coordinated = (select(Organization.municipality_id)
                   .join(Membership, Membership.organization_id == Organization.id)
                   .where(Membership.user_id == user_id, Membership.role == const(Role.COORDINATOR.value),
                          Organization.is_active.is_(True)))
    municipal = (select(const(0, Integer).label("n"), Organization.id, const(None).label("role"),
                        Organization.municipality_id, const(None).label("time_zone"), const("c").label("kind"))
                 .where(Organization.municipality_id.in_(coordinated)))
    parent_links = db.metadata.tables["parent_links"]  # accounts' table: orgs does not import accounts
    parent = (select(const(0, Integer).label("n"), const(None, Integer), const(None), const(None, Integer),
                     const(None), const("p").label("kind"))
              .where(exists().where(parent_links.c.parent_id == user_id)))
    return union_all(mine, municipal, parent)


def _build_scope_statement():
    """Built once: constructing the statement per request costs more than running it."""
    union = scope_union().subquery()
    return select(union).order_by(union.c.kind, union.c.n)


_scope_statement = None


def _scope_rows(user_id: int):
    global _scope_statement
    if _scope_statement is None:
        _scope_statement = _build_scope_statement()
    return db.session.execute(_scope_statement, {"user_id": user_id}).all()


def _compute_scope(user) -> Scope:
    return scope_from_rows(user, _scope_rows(user.id))


def scope_from_rows(user, rows) -> Scope:
    """A Scope from the rows of ``scope_union`` ordered by kind and n; rows of other kinds are ignored."""
    roles: dict[int, set[str]] = {}
    coordinated: set[int] = set()
    managed: set[int] = set()
    time_zone = None
    is_parent = False
    for _n, org_id, role, municipality_id, tz, kind in rows:
        if kind == "m":
            roles.setdefault(org_id, set()).add(role)
            time_zone = time_zone or tz  # of the first membership
            if role == Role.COORDINATOR:
                coordinated.add(municipality_id)
            elif role == Role.ORG_ADMIN:
                managed.add(org_id)
        elif kind == "c":
            managed.add(org_id)
        elif kind == "p":
            is_parent = True
    staff = {org_id for org_id, rs in roles.items() if rs & TEACHING_ROLES}
    return Scope(
        user_id=user.id,
        is_admin=bool(user.is_admin),
        member_org_ids=frozenset(roles),
        managed_org_ids=frozenset(managed),
        staff_org_ids=frozenset(staff | managed),
        coordinated_municipality_ids=frozenset(coordinated),
        roles_by_org={k: frozenset(v) for k, v in roles.items()},
        time_zone=time_zone,
        is_parent=is_parent,
    )


def scope_of(user) -> Scope:
    if user is None or not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    if not has_request_context():
        return _compute_scope(user)
    cache = g.setdefault("lms_scopes", {})
    if user.id not in cache:
        cache[user.id] = _compute_scope(user)
    return cache[user.id]


def remember_scope(user, scope: Scope) -> None:
    """Use a scope computed elsewhere in this request (the dashboard reads it with its version)."""
    if has_request_context():
        g.setdefault("lms_scopes", {})[user.id] = scope


def forget_scope(user) -> None:
    """Call after changing a user's memberships within a request."""
    if has_request_context():
        g.setdefault("lms_scopes", {}).pop(getattr(user, "id", None), None)


def can_list_orgs(user) -> bool:
    """Anyone who belongs to or manages at least one organization (the global admin: all)."""
    s = scope_of(user)
    return s.is_admin or bool(s.member_org_ids or s.managed_org_ids)


def can_view_org(user, org: Organization) -> bool:
    s = scope_of(user)
    return s.is_admin or org.id in s.member_org_ids or org.id in s.managed_org_ids


def can_manage_org(user, org: Organization) -> bool:
    return scope_of(user).manages(org.id)


def can_list_org_people(user, org: Organization) -> bool:
    s = scope_of(user)
    return s.manages(org.id) or org.id in s.staff_org_ids


def can_create_org(user, municipality: Municipality | None = None) -> bool:
    s = scope_of(user)
    if s.is_admin:
        return True
    if municipality is None:
        return s.is_coordinator
    return municipality.id in s.coordinated_municipality_ids


def can_manage_municipalities(user) -> bool:
    return scope_of(user).is_admin


def can_manage_academic_years(user) -> bool:
    s = scope_of(user)
    return s.is_admin or s.is_coordinator


def can_set_org_status(user, org: Organization) -> bool:
    """Statuses (resource centre, internship site) are granted by the municipality, not by the school."""
    s = scope_of(user)
    return s.is_admin or org.municipality_id in s.coordinated_municipality_ids


def can_grant_role(user, org: Organization, role: str) -> bool:
    s = scope_of(user)
    if not s.manages(org.id):
        return False
    if role == Role.COORDINATOR:
        return s.is_admin or org.municipality_id in s.coordinated_municipality_ids
    return True


#: Organization fields decided by the municipality, not by the organization's own administrator:
#: the code is used by imports and the API across the network, and an administrator who closed their
#: own organization could not reach it to reopen it.
MUNICIPAL_ORG_FIELDS = ("code", "is_active")


def can_edit_org(user, org: Organization, changes: dict) -> bool:
    """Managers edit their organization; code and activity only at the municipality level."""
    wanted = dict(changes)
    if isinstance(wanted.get("code"), str):
        wanted["code"] = wanted["code"].strip().lower()
    municipal = any(key in wanted and wanted[key] != getattr(org, key) for key in MUNICIPAL_ORG_FIELDS)
    return can_manage_org(user, org) and (not municipal or can_create_org(user, org.municipality))


def _active_orgs(who, *, teaching_too: bool):
    s = who if isinstance(who, Scope) else scope_of(who)
    stmt = select(Organization).where(Organization.is_active.is_(True)).order_by(Organization.short_name)
    if not s.is_admin:
        stmt = stmt.where(Organization.id.in_(s.managed_org_ids | (s.staff_org_ids if teaching_too else set())))
    return stmt


def managed_organizations(user) -> list[Organization]:
    """Active organizations ``user`` manages (all for admins), by short name: the choices of forms
    that add people or roles."""
    return list(db.session.scalars(_active_orgs(user, teaching_too=False)))


def listable_organizations(user) -> list[Organization]:
    """Active organizations whose people ``user`` may list: those they manage or teach in (all for admins)."""
    return list(db.session.scalars(_active_orgs(user, teaching_too=True)))


def listable_org_ids(who) -> list[int]:
    """Ids of :func:`listable_organizations`; ``who`` is a user or a Scope (the command line exports as
    an administrator's scope without a user)."""
    return list(db.session.scalars(_active_orgs(who, teaching_too=True).with_only_columns(Organization.id)))
