"""Course run rules: opening a run of a published programme, its staff and groups, and enrolment —
manual, by request (with or without approval), by enrolment key, from a CSV file, or a whole class or
organization — with capacity, a waiting list and the network form.

Plain functions: they flush, never commit, and raise ``ValidationError``/``Conflict``/``DomainError``.
Every decision that may take or free a place first takes the run's lock (``_lock``): an UPDATE of the
run's row, which on PostgreSQL holds the row until commit and on SQLite starts the write transaction —
so two requests never both take the last place.
"""

from __future__ import annotations

import csv
import hmac
import io
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from lms.accounts.importing import decode, sniff_delimiter
from lms.accounts.models import User
from lms.core import audit
from lms.core.db import utcnow
from lms.core.errors import Conflict, DomainError, ValidationError
from lms.core.notifications import notify
from lms.courses import content
from lms.courses.models import (
    ENDED,
    HOLDS_PLACE,
    CourseRun,
    Enrolment,
    EnrolmentMethod,
    EnrolmentStatus,
    Programme,
    ProgrammeStatus,
    RunGroup,
    RunStaff,
    RunStaffRole,
)
from lms.extensions import db
from lms.orgs.models import TEACHING_ROLES, Membership, Organization, Role

MAX_CSV_BYTES = 1_000_000
MAX_CSV_LINES = 5000


# --- runs ----------------------------------------------------------------------------------------

def _date(value, field: str, errors: dict) -> date | None:
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    if not text:
        errors[field] = _("Required.")
        return None
    for parse in (date.fromisoformat, lambda t: date(int(t[6:10]), int(t[3:5]), int(t[0:2]))):
        try:
            return parse(text)
        except (ValueError, IndexError):
            continue
    errors[field] = _("A date is expected, e.g. 01.09.2026.")
    return None


def clean_run_data(data: dict) -> dict:
    errors: dict[str, str] = {}
    name = " ".join(str(data.get("name") or "").split())
    if not name:
        errors["name"] = _("Required.")
    elif len(name) > 200:
        errors["name"] = _("At most %(n)d characters.", n=200)
    starts_on = _date(data.get("starts_on"), "starts_on", errors)
    ends_on = _date(data.get("ends_on"), "ends_on", errors)
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = _("The run cannot end before it starts.")
    capacity = str(data.get("capacity") or "").strip()
    if capacity and (not capacity.isdecimal() or not 1 <= int(capacity) <= 100000):
        errors["capacity"] = _("A whole number from 1, or empty for no limit.")
    key = str(data.get("enrolment_key") or "").strip() or None
    if key is not None and not 4 <= len(key) <= 64:
        errors["enrolment_key"] = _("From 4 to 64 characters, or empty.")
    if errors:
        raise ValidationError.of(errors)
    return {"name": name, "starts_on": starts_on, "ends_on": ends_on,
            "capacity": int(capacity) if capacity else None, "enrolment_key": key,
            "is_published": bool(data.get("is_published")), "self_enrolment": bool(data.get("self_enrolment")),
            "requires_approval": bool(data.get("requires_approval", True)), "is_network": bool(data.get("is_network"))}


def teacher_candidates(org_ids: list[int]) -> list[tuple[int, str]]:
    """(id, full name) of the active teaching staff of the organizations: who may be a run's teacher."""
    rows = db.session.execute(
        select(User.id, User.surname, User.name, User.patronymic).join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id.in_(org_ids), Membership.role.in_(sorted(TEACHING_ROLES)),
               User.is_active.is_(True)).distinct().order_by(User.surname, User.name).limit(1000))
    return [(i, " ".join(p for p in (s, n, pa) if p)) for i, s, n, pa in rows]


def open_run(programme: Programme, host: Organization, *, by: User, teachers: list[User] = (),
             groups: list[str] = (), template: CourseRun | None = None, **data) -> CourseRun:
    """A run of a published programme version, hosted by ``host``. Its content is a copy of ``template``
    (a template run of the same programme), or one empty section per curriculum module."""
    if programme.status != ProgrammeStatus.PUBLISHED:
        raise Conflict(_("Runs are opened for published programmes only."))
    if not host.is_active:
        raise ValidationError(_("Choose one of the options."), field="host")
    if template is not None and (not template.is_template or template.programme.lineage_id != programme.lineage_id):
        raise ValidationError(_("Choose one of the options."), field="template")
    fields = clean_run_data(data)
    fields["is_template"] = bool(data.get("is_template"))
    run = CourseRun(programme=programme, host_organization=host, created_by_id=by.id,
                    template_run_id=template.id if template else None, **fields)
    db.session.add(run)
    for user in teachers:
        run.staff.append(RunStaff(user=user, role=RunStaffRole.TEACHER))
    for name in dict.fromkeys(g.strip() for g in groups if g.strip()):
        run.groups.append(RunGroup(name=name[:100]))
    db.session.flush()
    content.build_sections(run, template=template)
    audit.record("run_opened", actor=by, organization=host, obj=run, programme=programme.id, name=run.name)
    return run


def update_run(run: CourseRun, *, by: User, **data) -> list[str]:
    fields = clean_run_data(data)
    fields["is_template"] = bool(data.get("is_template", run.is_template))
    changed = [k for k, v in fields.items() if getattr(run, k) != v]
    if "capacity" in changed and fields["capacity"] is not None:
        _lock(run)
        if places_taken(run) > fields["capacity"]:
            raise ValidationError(_("%(n)d learners are already enrolled: the capacity cannot be lower.",
                                    n=places_taken(run)), field="capacity")
    for key in changed:
        setattr(run, key, fields[key])
    if "capacity" in changed:
        _fill_from_waiting_list(run, by=by)
    if changed:
        audit.record("run_updated", actor=by, organization=run.host_organization_id, obj=run, fields=changed)
    return changed


def add_staff(run: CourseRun, user: User, role: str, *, by: User) -> RunStaff:
    if role not in set(RunStaffRole):
        raise ValidationError(_("Choose one of the options."), field="role")
    if any(s.user_id == user.id for s in run.staff):
        raise Conflict(_("%(name)s already teaches in this run.", name=user.full_name), field="user")
    row = RunStaff(run=run, user=user, role=role)
    db.session.add(row)
    db.session.flush()
    audit.record("run_staff_added", actor=by, organization=run.host_organization_id, obj=run, user=user.id,
                 role=role)
    return row


def add_group(run: CourseRun, name: str, *, by: User) -> RunGroup:
    name = " ".join((name or "").split())
    if not name or len(name) > 100:
        raise ValidationError(_("From 1 to 100 characters."), field="name")
    if any(g.name == name for g in run.groups):
        raise Conflict(_("The run already has a group «%(name)s».", name=name), field="name")
    group = RunGroup(run=run, name=name)
    db.session.add(group)
    db.session.flush()
    audit.record("run_group_added", actor=by, organization=run.host_organization_id, obj=run, group=name)
    return group


# --- places --------------------------------------------------------------------------------------

def _lock(run: CourseRun) -> None:
    """Serialise enrolment decisions on this run until the transaction ends."""
    db.session.execute(update(CourseRun).where(CourseRun.id == run.id)
                       .values(lock_version=CourseRun.lock_version + 1)
                       .execution_options(synchronize_session=False))


def places_taken(run: CourseRun) -> int:
    return db.session.scalar(select(func.count(Enrolment.id)).where(
        Enrolment.run_id == run.id, Enrolment.status.in_(sorted(HOLDS_PLACE)))) or 0


def free_places(run: CourseRun) -> int | None:
    """None: no limit."""
    return None if run.capacity is None else max(run.capacity - places_taken(run), 0)


def _fill_from_waiting_list(run: CourseRun, *, by: User | None) -> list[Enrolment]:
    promoted = []
    free = free_places(run)
    if free == 0:
        return promoted
    waiting = select(Enrolment).where(Enrolment.run_id == run.id, Enrolment.status == EnrolmentStatus.WAITLISTED) \
        .order_by(Enrolment.requested_at, Enrolment.id)
    if free is not None:
        waiting = waiting.limit(free)
    for enrolment in db.session.scalars(waiting):
        enrolment.status, enrolment.decided_at = EnrolmentStatus.ACTIVE, utcnow()
        enrolment.decided_by_id = getattr(by, "id", None)
        promoted.append(enrolment)
        _tell(enrolment)
    db.session.flush()
    return promoted


def _tell(enrolment: Enrolment, *, email: bool = True) -> None:
    """The learner hears about a decision on their enrolment, in the site and (``email``) by e-mail."""
    run = db.session.get(CourseRun, enrolment.run_id)
    user = db.session.get(User, enrolment.user_id)
    titles = {
        EnrolmentStatus.ACTIVE: _("You are enrolled in «%(course)s» (%(run)s)."),
        EnrolmentStatus.WAITLISTED: _("«%(course)s» (%(run)s) is full: you are on the waiting list."),
        EnrolmentStatus.REJECTED: _("Your request to enrol in «%(course)s» (%(run)s) was declined."),
    }
    if enrolment.status in titles:
        title = titles[enrolment.status] % {"course": run.programme.title, "run": run.name}
        notify(user, "enrolment", title, f"/runs/{run.id}", email=title if email else None)


# --- who may learn -------------------------------------------------------------------------------

def member_of_host(run: CourseRun, user: User) -> bool:
    return db.session.scalar(select(Membership.id).where(
        Membership.user_id == user.id, Membership.organization_id == run.host_organization_id).limit(1)) is not None


def _check_learner(run: CourseRun, user: User) -> None:
    if not user.is_active:
        raise ValidationError(_("%(name)s is deactivated.", name=user.full_name), field="user")
    if run.cancelled_at is not None:
        raise Conflict(_("The run is cancelled."))
    if any(s.user_id == user.id for s in run.staff):
        raise Conflict(_("%(name)s teaches in this run.", name=user.full_name), field="user")
    if not run.is_network and not member_of_host(run, user):
        raise ValidationError(_("%(name)s is not in %(org)s, and this run is not open to other organizations "
                                "(network form).", name=user.full_name, org=run.host_organization.short_name),
                              field="user")


def _group(run: CourseRun, group_id: int | None) -> int | None:
    if group_id is None:
        return None
    if group_id not in {g.id for g in run.groups}:
        raise ValidationError(_("Choose one of the options."), field="group")
    return group_id


def _place(run: CourseRun, user: User, *, status: str, method: str, by: User | None, group_id: int | None = None,
           note: str = "") -> Enrolment:
    """Create or renew the person's enrolment in the run with ``status`` (ACTIVE becomes WAITLISTED
    when the run is full). The caller holds the run's lock."""
    existing = db.session.scalar(select(Enrolment).where(Enrolment.run_id == run.id, Enrolment.user_id == user.id))
    if existing is not None and existing.status not in ENDED:
        raise Conflict(_("%(name)s is already enrolled or has asked to enrol.", name=user.full_name), field="user")
    if status == EnrolmentStatus.ACTIVE and free_places(run) == 0:
        status = EnrolmentStatus.WAITLISTED
    enrolment = existing or Enrolment(run_id=run.id, user_id=user.id)
    enrolment.status, enrolment.method, enrolment.group_id = status, method, _group(run, group_id)
    enrolment.note, enrolment.requested_at = note[:500], utcnow()
    decided = status in (EnrolmentStatus.ACTIVE, EnrolmentStatus.WAITLISTED) and by is not None and by.id != user.id
    enrolment.decided_at = utcnow() if decided else None
    enrolment.decided_by_id = by.id if decided else None
    if existing is None:
        db.session.add(enrolment)
    db.session.flush()
    return enrolment


def enrol(run: CourseRun, user: User, *, by: User, group_id: int | None = None,
          method: str = EnrolmentMethod.MANUAL) -> Enrolment:
    """A manager or teacher enrols a person (onto the waiting list when the run is full)."""
    _lock(run)
    _check_learner(run, user)
    enrolment = _place(run, user, status=EnrolmentStatus.ACTIVE, method=method, by=by, group_id=group_id)
    _tell(enrolment)
    audit.record("enrolled", actor=by, organization=run.host_organization_id, obj=user, run=run.id,
                 status=enrolment.status)
    return enrolment


def request_enrolment(run: CourseRun, user: User, *, key: str = "", note: str = "") -> Enrolment:
    """A person asks to join a run from the catalogue. With an enrolment key that matches, or when the
    run needs no approval, they are enrolled at once (or wait for a place); otherwise a manager decides."""
    if not run.self_enrolment or not run.is_published:
        raise DomainError(_("This run does not take requests to enrol."))
    if run.enrolment_key is not None and not hmac.compare_digest((key or "").strip().encode(),
                                                                   run.enrolment_key.encode()):
        raise ValidationError(_("The enrolment key is wrong. Ask the run's teacher for it."), field="key")
    _lock(run)
    _check_learner(run, user)
    at_once = run.enrolment_key is not None or not run.requires_approval
    method = EnrolmentMethod.KEY if run.enrolment_key is not None else EnrolmentMethod.SELF
    enrolment = _place(run, user, status=EnrolmentStatus.ACTIVE if at_once else EnrolmentStatus.REQUESTED,
                       method=method, by=None, note=note.strip())
    audit.record("enrolment_requested", actor=user, organization=run.host_organization_id, obj=user, run=run.id,
                 status=enrolment.status)
    return enrolment


def decide(enrolment: Enrolment, *, approve: bool, by: User) -> Enrolment:
    """A manager approves (the person gets a place, or the waiting list) or rejects a request."""
    run = enrolment.run
    _lock(run)
    db.session.refresh(enrolment)
    if enrolment.status != EnrolmentStatus.REQUESTED:
        raise Conflict(_("This request has already been decided."))
    if approve:
        enrolment.status = EnrolmentStatus.ACTIVE if free_places(run) != 0 else EnrolmentStatus.WAITLISTED
    else:
        enrolment.status = EnrolmentStatus.REJECTED
    enrolment.decided_at, enrolment.decided_by_id = utcnow(), by.id
    db.session.flush()
    _tell(enrolment)
    audit.record("enrolment_approved" if approve else "enrolment_rejected", actor=by,
                 organization=run.host_organization_id, obj=enrolment.user, run=run.id, status=enrolment.status)
    return enrolment


def withdraw(enrolment: Enrolment, *, by: User) -> list[Enrolment]:
    """The person leaves (or is removed from) the run; the first on the waiting list takes the place."""
    run = enrolment.run
    _lock(run)
    db.session.refresh(enrolment)
    if enrolment.status in ENDED or enrolment.status == EnrolmentStatus.COMPLETED:
        raise Conflict(_("This enrolment has already ended."))
    enrolment.status, enrolment.decided_at, enrolment.decided_by_id = EnrolmentStatus.WITHDRAWN, utcnow(), by.id
    db.session.flush()
    promoted = _fill_from_waiting_list(run, by=by)
    audit.record("enrolment_withdrawn", actor=by, organization=run.host_organization_id, obj=enrolment.user,
                 run=run.id, promoted=[e.user_id for e in promoted] or None)
    return promoted


def mark_completed(enrolment: Enrolment, *, by: User) -> Enrolment:
    """The learner completed the run (the completion rules of the courses issue will call this too)."""
    if enrolment.status != EnrolmentStatus.ACTIVE:
        raise Conflict(_("Only a learner who is studying can complete the course."))
    enrolment.status, enrolment.decided_at, enrolment.decided_by_id = EnrolmentStatus.COMPLETED, utcnow(), by.id
    db.session.flush()
    audit.record("enrolment_completed", actor=by, organization=enrolment.run.host_organization_id,
                 obj=enrolment.user, run=enrolment.run_id)
    return enrolment


# --- bulk ----------------------------------------------------------------------------------------

@dataclass
class BulkResult:
    enrolled: list[Enrolment] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # people already enrolled: named, not an error
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)

    @property
    def waitlisted(self) -> int:
        return sum(1 for e in self.enrolled if e.status == EnrolmentStatus.WAITLISTED)


def _decode(data: bytes) -> str:
    if len(data) > MAX_CSV_BYTES:
        raise ValidationError(_("The file is larger than %(n)d KB.", n=MAX_CSV_BYTES // 1000), field="file")
    try:
        return decode(data)[0]
    except UnicodeDecodeError:
        raise ValidationError(_("The file is neither UTF-8 nor Windows-1251 text."), field="file") from None


def parse_enrolment_csv(run: CourseRun, data: bytes) -> tuple[list[tuple[int, User, int | None]], BulkResult]:
    """Lines «login or e-mail[;group]» (a header line is allowed). Returns the people found and a result
    holding every bad line with its number and reason."""
    text = _decode(data)
    first = next((line for line in text.splitlines() if line.strip()), "")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(first)))
    if len(rows) > MAX_CSV_LINES:
        raise ValidationError(_("At most %(n)d lines in one file.", n=MAX_CSV_LINES), field="file")
    groups = {g.name.casefold(): g.id for g in run.groups}
    result = BulkResult()
    found: list[tuple[int, User, int | None]] = []
    seen: set[int] = set()
    for number, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        if not cells or not cells[0]:
            continue
        if number == 1 and cells[0].casefold() in ("username", "login", "логин", "email", "e-mail"):
            continue
        ref = cells[0].lower()
        column = User.email if "@" in ref else User.username
        user = db.session.scalar(select(User).where(func.lower(column) == ref))
        if user is None:
            result.errors.append((number, _("No person with the login or e-mail «%(ref)s».", ref=cells[0])))
            continue
        group_id = None
        if len(cells) > 1 and cells[1]:
            group_id = groups.get(cells[1].casefold())
            if group_id is None:
                result.errors.append((number, _("The run has no group «%(name)s».", name=cells[1])))
                continue
        if user.id in seen:
            result.errors.append((number, _("%(name)s is listed twice.", name=user.full_name)))
            continue
        seen.add(user.id)
        found.append((number, user, group_id))
    return found, result


def enrol_from_csv(run: CourseRun, data: bytes, *, by: User, dry_run: bool) -> BulkResult:
    """All or nothing: with any bad line nothing is written, and every bad line is listed."""
    found, result = parse_enrolment_csv(run, data)
    _lock(run)
    current = set(db.session.scalars(select(Enrolment.user_id).where(
        Enrolment.run_id == run.id, Enrolment.status.not_in(sorted(ENDED)))))
    for number, user, group_id in found:
        if user.id in current:
            result.skipped.append(user.full_name)
            continue
        try:
            _check_learner(run, user)
        except DomainError as exc:
            result.errors.append((number, exc.message))
            continue
        if not dry_run and not result.errors:
            result.enrolled.append(_place(run, user, status=EnrolmentStatus.ACTIVE, method=EnrolmentMethod.CSV,
                                          by=by, group_id=group_id))
    result.errors.sort()
    if result.errors:
        result.enrolled = []
        if not dry_run:
            raise ValidationError(_("The file has %(n)d bad lines; nothing was enrolled.", n=len(result.errors)),
                                  field="file")
    elif not dry_run:
        _tell_bulk(result.enrolled)
        audit.record("enrolled_bulk", actor=by, organization=run.host_organization_id, obj=run,
                     method="csv", count=len(result.enrolled))
    return result


def _tell_bulk(enrolled: list[Enrolment]) -> None:
    """People enrolled from a file or as a whole class hear about it in the site, not by e-mail: a class of
    thirty or a school's staff would otherwise get a letter each at once, and the run is in their «My
    courses» and calendar anyway (Moodle leaves the welcome letter of such methods off by default, too)."""
    for enrolment in enrolled:
        _tell(enrolment, email=False)


def cohort_people(organization: Organization, role: str, grade: int | None = None,
                  class_letter: str | None = None) -> list[User]:
    members = select(Membership.user_id).where(Membership.organization_id == organization.id, Membership.role == role)
    if grade is not None:
        members = members.where(Membership.grade == grade)
    if class_letter:
        members = members.where(Membership.class_letter == class_letter)
    stmt = select(User).where(User.id.in_(members), User.is_active.is_(True))
    return list(db.session.scalars(stmt.order_by(User.surname, User.name)))


def enrol_cohort(run: CourseRun, organization: Organization, *, role: str, by: User, grade: int | None = None,
                 class_letter: str | None = None, group_id: int | None = None) -> BulkResult:
    """A whole class (students of a grade and letter) or all people of a role in an organization."""
    if role not in (Role.STUDENT, Role.TEACHER, Role.METHODOLOGIST):
        raise ValidationError(_("Choose one of the options."), field="role")
    if organization.id != run.host_organization_id and not run.is_network:
        raise ValidationError(_("This run is not open to other organizations (network form)."), field="organization")
    _group(run, group_id)
    _lock(run)
    result = BulkResult()
    current = set(db.session.scalars(select(Enrolment.user_id).where(
        Enrolment.run_id == run.id, Enrolment.status.not_in(sorted(ENDED)))))
    staff = {s.user_id for s in run.staff}
    for user in cohort_people(organization, role, grade, class_letter):
        if user.id in current or user.id in staff:
            result.skipped.append(user.full_name)
            continue
        result.enrolled.append(_place(run, user, status=EnrolmentStatus.ACTIVE, method=EnrolmentMethod.COHORT,
                                      by=by, group_id=group_id))
    if not result.enrolled and not result.skipped:
        raise ValidationError(_("Nobody matches: check the class or the role."), field="grade")
    _tell_bulk(result.enrolled)
    audit.record("enrolled_bulk", actor=by, organization=run.host_organization_id, obj=run, method="cohort",
                 count=len(result.enrolled), source=organization.id)
    return result


# --- catalogue -----------------------------------------------------------------------------------

def taken_by_run(run_ids: list[int]) -> dict[int, int]:
    """Places taken per run, in one grouped query."""
    if not run_ids:
        return {}
    rows = db.session.execute(select(Enrolment.run_id, func.count(Enrolment.id)).where(
        Enrolment.run_id.in_(run_ids), Enrolment.status.in_(sorted(HOLDS_PLACE))).group_by(Enrolment.run_id))
    return dict(rows.all())
