"""Who may see and change people. Every people view calls exactly one of these predicates."""

from __future__ import annotations

from sqlalchemy import select

from lms.accounts.models import ParentLink, User
from lms.extensions import db
from lms.orgs.models import Membership, Role
from lms.orgs.permissions import scope_of


def _org_ids(person: User) -> set[int]:
    return {m.organization_id for m in person.memberships}


def is_parent_of(viewer, person: User) -> bool:
    if not getattr(viewer, "is_authenticated", False):
        return False
    return db.session.scalar(
        select(ParentLink.id).where(ParentLink.parent_id == viewer.id, ParentLink.student_id == person.id)
    ) is not None


def _outranks_or_equal(viewer, person: User) -> bool:
    """A manager may act on a person only if that person holds no wider power than the manager."""
    s = scope_of(viewer)
    if s.is_admin:
        return True
    if person.is_admin:
        return False
    for m in person.memberships:
        if m.role == Role.COORDINATOR and m.organization.municipality_id not in s.coordinated_municipality_ids:
            return False
    return True


def can_view_person(viewer, person: User) -> bool:
    """Self, administrators, managers and staff of one of the person's organizations, parents."""
    s = scope_of(viewer)
    if s.is_admin or viewer.id == person.id:
        return True
    orgs = _org_ids(person)
    if orgs & (s.managed_org_ids | s.staff_org_ids):
        return True
    return is_parent_of(viewer, person)


def can_view_personal_data(viewer, person: User) -> bool:
    """СНИЛС, birth date, phone and consents: the person, administrators, managers, parents."""
    s = scope_of(viewer)
    if s.is_admin or viewer.id == person.id:
        return True
    if _org_ids(person) & s.managed_org_ids:
        return True
    return is_parent_of(viewer, person)


def can_edit_person(viewer, person: User) -> bool:
    s = scope_of(viewer)
    if s.is_admin:
        return True
    return bool(_org_ids(person) & s.managed_org_ids) and _outranks_or_equal(viewer, person)


def can_deactivate_person(viewer, person: User) -> bool:
    """Only someone who manages every organization the person belongs to (so no other school loses them)."""
    s = scope_of(viewer)
    if viewer.id == person.id:
        return False
    if s.is_admin:
        return True
    orgs = _org_ids(person)
    return bool(orgs) and orgs <= s.managed_org_ids and _outranks_or_equal(viewer, person)


def can_merge_people(viewer, keep: User, duplicate: User) -> bool:
    return (keep.id != duplicate.id and can_deactivate_person(viewer, duplicate)
            and can_edit_person(viewer, keep))


def can_manage_parents(viewer, student: User) -> bool:
    s = scope_of(viewer)
    if s.is_admin:
        return True
    return any(m.role == Role.STUDENT and m.organization_id in s.managed_org_ids for m in student.memberships)


def can_list_people(viewer) -> bool:
    """The people list: managers and teaching staff."""
    s = scope_of(viewer)
    return s.is_manager or bool(s.staff_org_ids)


def can_view_audit(viewer) -> bool:
    return scope_of(viewer).is_manager


def can_read_outbox(viewer) -> bool:
    return scope_of(viewer).is_admin


def can_create_people(viewer) -> bool:
    return scope_of(viewer).is_manager


def manageable_membership(viewer, membership: Membership) -> bool:
    return scope_of(viewer).manages(membership.organization_id)
