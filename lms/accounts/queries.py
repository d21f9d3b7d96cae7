"""Who the people list shows: one query for the page, the API and the export."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select

from lms.accounts.models import User
from lms.core.errors import PermissionDenied
from lms.labels import ROLE_LABELS
from lms.orgs.models import Membership
from lms.orgs.permissions import Scope, listable_org_ids


@dataclass(frozen=True)
class PeopleFilter:
    """Filters of the people list. ``active``: True — active people only, False — deactivated only,
    None — both."""

    org_id: int | None = None
    role: str | None = None
    grade: int | None = None
    q: str = ""
    active: bool | None = True

    @classmethod
    def from_args(cls, args) -> PeopleFilter:
        """From the page's query string: ?org=&role=&grade=&q=&inactive=1 (unknown roles are ignored)."""
        role = args.get("role") or None
        return cls(org_id=args.get("org", type=int), role=role if role in ROLE_LABELS else None,
                   grade=args.get("grade", type=int), q=(args.get("q") or "").strip(),
                   active=None if args.get("inactive") == "1" else True)


def people_query(scope: Scope, flt: PeopleFilter, *columns) -> Select:
    """People with a role in an organization the viewer manages or teaches in (a global administrator
    without organization, role or grade filters sees everyone, people without a role too), in the
    list's order. Selects ``columns`` (default: User). An organization outside the viewer's list is
    refused (403), as the page, the API and the export answer."""
    visible = listable_org_ids(scope)
    if flt.org_id is not None and flt.org_id not in visible:
        raise PermissionDenied(_("You do not have permission to open this page."), field="org")
    members = select(Membership.user_id).where(
        Membership.organization_id.in_([flt.org_id] if flt.org_id is not None else visible))
    if flt.role:
        members = members.where(Membership.role == flt.role)
    if flt.grade is not None:
        members = members.where(Membership.grade == flt.grade)
    stmt = select(*(columns or (User,)))
    if not (scope.is_admin and flt.org_id is None and not flt.role and flt.grade is None):
        stmt = stmt.where(User.id.in_(members))
    if flt.active is not None:
        stmt = stmt.where(User.is_active.is_(flt.active))
    if flt.q:
        like = f"%{flt.q.lower()}%"
        stmt = stmt.where(or_(func.lower(User.surname).like(like), func.lower(User.name).like(like),
                              User.username.like(like), User.email.like(like)))
    return stmt.order_by(User.surname, User.name, User.id)
