"""Who may do what with programmes, runs and certificates. Every courses view calls one of these."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from sqlalchemy import Integer, and_, bindparam, or_, select

from lms.core.loading import MAX_ID
from lms.courses.models import (
    FROZEN,
    HOLDS_PLACE,
    CourseRun,
    Enrolment,
    Programme,
    ProgrammeReviewer,
    ProgrammeStatus,
    RunStaff,
    RunStaffRole,
)
from lms.extensions import db
from lms.orgs.models import Organization, Role
from lms.orgs.permissions import scope_of

#: Roles that design programmes in their organization (managers may as well).
AUTHOR_ROLES = frozenset({Role.TEACHER, Role.METHODOLOGIST, Role.ORG_ADMIN})


# --- programmes ----------------------------------------------------------------------------------

def programme_author_org_ids(user) -> frozenset[int] | None:
    """Organizations in which ``user`` may create programmes (None: every one, the global admin)."""
    s = scope_of(user)
    if s.is_admin:
        return None
    authored = {org_id for org_id, roles in s.roles_by_org.items() if roles & AUTHOR_ROLES}
    return frozenset(authored | s.managed_org_ids)


def can_create_programme(user, org: Organization | None = None) -> bool:
    ids = programme_author_org_ids(user)
    if org is None:
        return ids is None or bool(ids)
    return org.is_active and (ids is None or org.id in ids)


def _designs_for(user, programme: Programme) -> bool:
    """The author, a methodologist of the owner organization, or its managers."""
    s = scope_of(user)
    if s.manages(programme.owner_organization_id) or programme.author_id == user.id:
        return True
    return Role.METHODOLOGIST in s.roles_by_org.get(programme.owner_organization_id, frozenset())


def _is_reviewer(user, programme: Programme) -> bool:
    return any(r.user_id == user.id for r in programme.reviewers)


def can_view_programme(user, programme: Programme) -> bool:
    """Published programmes are the network's catalogue; the others are seen by the owner
    organization's staff, the author and the reviewers."""
    if programme.status == ProgrammeStatus.PUBLISHED:
        return True
    s = scope_of(user)
    return (s.is_admin or programme.owner_organization_id in s.staff_org_ids or programme.author_id == user.id
            or _is_reviewer(user, programme))


def can_edit_programme(user, programme: Programme) -> bool:
    return programme.status == ProgrammeStatus.DRAFT and _designs_for(user, programme)


def can_submit_programme(user, programme: Programme) -> bool:
    return can_edit_programme(user, programme)


def can_withdraw_programme(user, programme: Programme) -> bool:
    return programme.status == ProgrammeStatus.REVIEW and _designs_for(user, programme)


def can_review_programme(user, programme: Programme) -> bool:
    return programme.status == ProgrammeStatus.REVIEW and _is_reviewer(user, programme)


def can_publish_programme(user, programme: Programme) -> bool:
    """Publishing into the catalogue and archiving are the owner organization's managers' decisions."""
    return (programme.status in (ProgrammeStatus.APPROVED, ProgrammeStatus.PUBLISHED)
            and scope_of(user).manages(programme.owner_organization_id))


def can_version_programme(user, programme: Programme) -> bool:
    return programme.status in FROZEN and _designs_for(user, programme)


def visible_programmes_condition(user):
    """SQL condition: the programmes ``user`` may see in lists (None: all, the global admin)."""
    s = scope_of(user)
    if s.is_admin:
        return None
    reviewing = select(ProgrammeReviewer.programme_id).where(ProgrammeReviewer.user_id == user.id)
    return or_(Programme.status == ProgrammeStatus.PUBLISHED,
               Programme.owner_organization_id.in_(sorted(s.staff_org_ids)),
               Programme.author_id == user.id, Programme.id.in_(reviewing))


def programme_orgs(user) -> list[Organization]:
    """The active organizations in which ``user`` may create programmes, by name."""
    ids = programme_author_org_ids(user)
    stmt = select(Organization).where(Organization.is_active.is_(True)).order_by(Organization.short_name)
    if ids is not None:
        stmt = stmt.where(Organization.id.in_(sorted(ids)))
    return list(db.session.scalars(stmt))


# --- certificates --------------------------------------------------------------------------------

def can_manage_certificates(user, organization) -> bool:
    """Issue, revoke, export and edit the document templates of an organization: its administrator,
    the municipality's coordinator and the global administrator."""
    return organization is not None and scope_of(user).manages(organization.id)


def can_view_certificate(user, certificate) -> bool:
    """The holder and the issuing organization's managers; nobody else (not another organization's admin,
    not the holder's teachers)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return certificate.holder_id == user.id or scope_of(user).manages(certificate.organization_id)


def can_download_certificate(user, certificate) -> bool:
    """Managers download any PDF of their organization; the holder, only a document not revoked."""
    if not getattr(user, "is_authenticated", False):
        return False
    if scope_of(user).manages(certificate.organization_id):
        return True
    return certificate.holder_id == user.id and certificate.status != "revoked"


def can_export_frdo(user) -> bool:
    """The ФИС ФРДО page: anyone who manages an organization."""
    return scope_of(user).is_manager


# --- course runs ---------------------------------------------------------------------------------
# (kept below the certificates' predicates: each block stands alone)

def run_host_orgs(user) -> list:
    """Organizations in which ``user`` may open runs: those they manage (all, for the global admin)."""
    from lms.orgs.permissions import managed_organizations

    return managed_organizations(user)


def can_open_run(user, programme) -> bool:
    return programme.status == ProgrammeStatus.PUBLISHED and scope_of(user).is_manager


def can_manage_run(user, run) -> bool:
    return scope_of(user).manages(run.host_organization_id)


def teaches_run(user, run) -> bool:
    return any(s.user_id == user.id for s in run.staff)


def can_enrol_others(user, run) -> bool:
    """Managers of the host organization and the run's teachers enrol people and decide requests."""
    return can_manage_run(user, run) or teaches_run(user, run)


def enrolment_of(user, run):
    """The person's enrolment in the run, whatever its status (None: never enrolled)."""
    return db.session.scalar(select(Enrolment).where(Enrolment.run_id == run.id, Enrolment.user_id == user.id))


def holds_place(enrolment) -> bool:
    return enrolment is not None and enrolment.status in HOLDS_PLACE


def can_view_run(user, run) -> bool:
    if can_enrol_others(user, run):
        return True
    if run.is_published and run.cancelled_at is None:
        return True
    return enrolment_of(user, run) is not None


def can_request_enrolment(user, run) -> bool:
    return run.is_published and run.self_enrolment and run.cancelled_at is None and not teaches_run(user, run)


def can_leave(user, enrolment) -> bool:
    return enrolment.user_id == user.id or can_enrol_others(user, enrolment.run)


# --- course content ------------------------------------------------------------------------------

def can_edit_content(user, run) -> bool:
    """Managers of the host organization and the run's teachers (assistants grade, they do not edit)."""
    return can_manage_run(user, run) or any(s.user_id == user.id and s.role == "teacher" for s in run.staff)


def is_learner(user, run) -> bool:
    return holds_place(enrolment_of(user, run))


def can_view_content(user, run) -> bool:
    return can_enrol_others(user, run) or is_learner(user, run)


@dataclass(frozen=True)
class RunAccess:
    """A person's standing in a run, read in one statement with the run: the predicates above, without
    loading the run's staff or the enrolment separately (the course page and the gradebook use it)."""

    run: CourseRun
    enrolment: Enrolment | None
    staff_role: str | None
    manages: bool

    @property
    def enrols_others(self) -> bool:  # can_enrol_others
        return self.manages or self.staff_role is not None

    @property
    def edits_content(self) -> bool:  # can_edit_content
        return self.manages or self.staff_role == RunStaffRole.TEACHER

    @property
    def learns(self) -> bool:  # is_learner
        return holds_place(self.enrolment)

    @property
    def group_id(self) -> int | None:  # the learner's group in the run
        return self.enrolment.group_id if self.enrolment is not None else None

    @property
    def views_content(self) -> bool:  # can_view_content
        return self.enrols_others or self.learns


_run_access_statement = None


def _run_access() -> object:
    """Built once: the statement's cache key is then computed from a ready object on every call."""
    global _run_access_statement  # noqa: PLW0603 - a module-level memo
    if _run_access_statement is None:
        user_id = bindparam("user_id", type_=Integer)
        _run_access_statement = (
            select(CourseRun, Enrolment, RunStaff.role)
            .outerjoin(Enrolment, and_(Enrolment.run_id == CourseRun.id, Enrolment.user_id == user_id))
            .outerjoin(RunStaff, and_(RunStaff.run_id == CourseRun.id, RunStaff.user_id == user_id))
            .where(CourseRun.id == bindparam("run_id", type_=Integer)))
    return _run_access_statement


def run_access_or_404(user, run_id: int) -> RunAccess:
    """The run with ``user``'s enrolment and staff role in it; 404 when there is no such run."""
    if not 0 < run_id <= MAX_ID:
        abort(404)
    row = db.session.execute(_run_access(), {"user_id": user.id, "run_id": run_id}).first()
    if row is None:
        abort(404)
    run, enrolment, role = row
    return RunAccess(run, enrolment, role, can_manage_run(user, run))


def can_see_submission(user, submission, run) -> bool:
    """The learner who sent it, and the run's teachers and assistants and the host's managers."""
    return submission.user_id == user.id or can_enrol_others(user, run)
