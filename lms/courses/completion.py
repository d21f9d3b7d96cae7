"""Completion of a run: required activities, intermediate attestations of the modules that have a form of
control, and the final attestation. The group at a glance (who is falling behind), attestation records, and
completing learners with their certificates in one all-or-nothing step.

Plain functions: they flush, never commit, and raise ``ValidationError``/``Conflict``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.core import audit
from lms.core.errors import Conflict, ValidationError
from lms.courses import certificates, gradebook, runs
from lms.courses.models import (
    HOLDS_PLACE,
    Activity,
    ActivityProgress,
    AttestationRecord,
    CompletionRule,
    ControlForm,
    CourseRun,
    CurriculumModule,
    Enrolment,
    EnrolmentStatus,
    ResultScale,
)
from lms.extensions import db

PASS, FAIL = "passed", "failed"


def result_choices(run: CourseRun) -> list[str]:
    """The results the programme's scale allows, best first."""
    programme = run.programme
    if programme.result_scale == ResultScale.FIVE_POINT:
        return ["5", "4", "3", "2"]
    if programme.result_scale == ResultScale.POINTS:
        return [str(n) for n in range(programme.max_points or 100, -1, -1)]
    return [PASS, FAIL]


def is_pass(run: CourseRun, result: str) -> bool:
    programme = run.programme
    if programme.result_scale == ResultScale.FIVE_POINT:
        return result in ("5", "4", "3")
    if programme.result_scale == ResultScale.POINTS:
        return int(result) >= (programme.pass_points or 0)
    return result == PASS


def record_attestation(run: CourseRun, user: User, *, module: CurriculumModule | None, held_on: date,
                       result: str, examiners: str = "", by: User) -> AttestationRecord:
    """The learner's intermediate (``module``) or final (``module`` None) attestation; recording it again
    replaces the result (the audit log keeps the earlier one)."""
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.run_id == run.id, Enrolment.user_id == user.id))
    if enrolment is None or enrolment.status not in HOLDS_PLACE:
        raise Conflict(_("%(name)s is not a learner of this run.", name=user.full_name))
    if module is not None and (module.programme_id != run.programme_id or module.control_form == ControlForm.NONE):
        raise ValidationError(_("Choose one of the options."), field="module")
    if result not in result_choices(run):
        raise ValidationError(_("Choose one of the options."), field="result")
    if held_on is None:
        raise ValidationError(_("Required."), field="held_on")
    examiners = " ".join((examiners or "").split())
    if len(examiners) > 300:
        raise ValidationError(_("At most %(n)d characters.", n=300), field="examiners")
    row = db.session.scalar(select(AttestationRecord).where(
        AttestationRecord.run_id == run.id, AttestationRecord.user_id == user.id,
        AttestationRecord.module_id.is_(None) if module is None else AttestationRecord.module_id == module.id))
    old = row.result if row else None
    if row is None:
        row = AttestationRecord(run_id=run.id, user_id=user.id, module_id=module.id if module else None)
        db.session.add(row)
    row.form = module.control_form if module else run.programme.final_attestation_form
    row.held_on, row.result, row.passed = held_on, result, is_pass(run, result)
    row.examiners, row.recorded_by_id = examiners, by.id
    gradebook.log_change(run.id, user.id, module.title if module else _("Final attestation"), old, result, by=by)
    db.session.flush()
    audit.record("attestation_recorded", actor=by, organization=run.host_organization_id, obj=user, run=run.id,
                 module=module.id if module else None, result=result, old=old)
    return row


@dataclass
class LearnerState:
    enrolment: Enrolment
    done: int = 0
    required: int = 0
    hours_done: int = 0
    modules: dict[int, AttestationRecord] = field(default_factory=dict)
    final: AttestationRecord | None = None
    missing: list[str] = field(default_factory=list)
    behind: bool = False

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.required) if self.required else 100

    @property
    def complete(self) -> bool:
        return not self.missing


def group_state(run: CourseRun, *, today: date | None = None, statuses: frozenset[str] = HOLDS_PLACE,
                group_id: int | None = None) -> list[LearnerState]:
    """Every learner of the run with progress, attestations and what stands between them and completion,
    in four statements however large the group. «Behind»: more than 20 points under the share of the run's
    time already gone."""
    chosen = select(Enrolment).join(User, User.id == Enrolment.user_id).where(
        Enrolment.run_id == run.id, Enrolment.status.in_(sorted(statuses)))
    if group_id is not None:
        chosen = chosen.where(Enrolment.group_id == group_id)
    enrolments = db.session.scalars(chosen.order_by(User.surname, User.name, User.id)).all()
    activities = db.session.scalars(select(Activity).where(Activity.run_id == run.id,
                                                           Activity.completion != CompletionRule.NONE)).all()
    hours = {a.id: a.planned_hours for a in activities}
    done: dict[int, list[int]] = {}
    for user_id, activity_id in db.session.execute(select(ActivityProgress.user_id, ActivityProgress.activity_id).where(
            ActivityProgress.run_id == run.id, ActivityProgress.completed_at.is_not(None),
            ActivityProgress.activity_id.in_(list(hours) or [0]))):
        done.setdefault(user_id, []).append(activity_id)
    records: dict[int, list[AttestationRecord]] = {}
    for row in db.session.scalars(select(AttestationRecord).where(AttestationRecord.run_id == run.id)):
        records.setdefault(row.user_id, []).append(row)
    controlled = [m for m in run.programme.modules if m.control_form != ControlForm.NONE]
    today = today or date.today()
    span = max((run.ends_on - run.starts_on).days, 1)
    expected = min(max((today - run.starts_on).days / span, 0), 1) * 100
    states = []
    for enrolment in enrolments:
        s = LearnerState(enrolment, required=len(hours))
        finished = done.get(enrolment.user_id, [])
        s.done, s.hours_done = len(finished), sum(hours[a] for a in finished)
        for row in records.get(enrolment.user_id, []):
            if row.module_id is None:
                s.final = row
            else:
                s.modules[row.module_id] = row
        if s.done < s.required:
            s.missing.append(_("activities: %(d)d of %(r)d", d=s.done, r=s.required))
        failed = [m.title for m in controlled if not (s.modules.get(m.id) and s.modules[m.id].passed)]
        if failed:
            s.missing.append(_("module attestation: %(names)s", names=", ".join(failed)))
        if not (s.final and s.final.passed):
            s.missing.append(_("final attestation"))
        s.behind = enrolment.status == EnrolmentStatus.ACTIVE and s.percent + 20 < expected
        states.append(s)
    return states


def complete_and_certify(run: CourseRun, user_ids: list[int], *, by: User, issued_on: date | None = None) -> list:
    """Complete the chosen learners who met every requirement and issue their certificates in one
    numbering pass. All or nothing: one learner who has not completed refuses the whole batch, naming them."""
    day = issued_on or date.today()
    if day < run.starts_on:
        raise ValidationError(_("The run starts on %(d)s: nobody can complete it before that.",
                                d=run.starts_on.strftime("%d.%m.%Y")), field="issued_on")
    states = {s.enrolment.user_id: s for s in group_state(run)}
    chosen = [states[u] for u in dict.fromkeys(user_ids) if u in states]
    if not chosen:
        raise ValidationError(_("Choose at least one learner."), field="learners")
    not_ready = [f"{s.enrolment.user.full_name} ({'; '.join(s.missing)})" for s in chosen if not s.complete]
    if not_ready:
        raise ValidationError(_("Not completed yet: %(names)s.", names="; ".join(not_ready)), field="learners")
    already = [s.enrolment.user.full_name for s in chosen if s.enrolment.status == EnrolmentStatus.COMPLETED]
    if already:
        raise Conflict(_("Already completed and certified: %(names)s.", names=", ".join(already)), field="learners")
    programme = run.programme
    kind = certificates.kind_for_programme(programme)
    items = [certificates.IssueItem(holder=s.enrolment.user, programme=programme, kind=kind,
                                    hours=programme.total_hours, study_start=run.starts_on,
                                    study_end=min(run.ends_on, day), run_id=run.id,
                                    enrolment_id=s.enrolment.id) for s in chosen]
    issued = certificates.issue_certificates(run.host_organization, items, by=by, issued_on=issued_on)
    for s in chosen:
        runs.mark_completed(s.enrolment, by=by)
    audit.record("run_completed", actor=by, organization=run.host_organization_id, obj=run, learners=len(chosen))
    return issued


#: Who may get a справка об обучении: learners still studying who have not completed, and those who left.
STATEMENT_STATUSES = frozenset({EnrolmentStatus.ACTIVE, EnrolmentStatus.WITHDRAWN})


def statement_candidates(run: CourseRun) -> list[LearnerState]:
    return [s for s in group_state(run, statuses=STATEMENT_STATUSES) if not s.complete or
            s.enrolment.status == EnrolmentStatus.WITHDRAWN]


def issue_statements(run: CourseRun, user_ids: list[int], *, by: User, issued_on: date | None = None) -> list:
    """A справка об обучении (о периоде обучения) for learners who did not complete: the period they
    studied and the academic hours of what they completed. All or nothing."""
    day = issued_on or date.today()
    states = {s.enrolment.user_id: s for s in statement_candidates(run)}
    chosen = [states[u] for u in dict.fromkeys(user_ids) if u in states]
    if not chosen:
        raise ValidationError(_("Choose at least one learner."), field="learners")
    empty = [s.enrolment.user.full_name for s in chosen if s.hours_done <= 0]
    if empty:
        raise ValidationError(_("No academic hours completed yet: %(names)s.", names=", ".join(empty)),
                              field="learners")
    items = []
    for s in chosen:
        left = s.enrolment.decided_at.date() if s.enrolment.status == EnrolmentStatus.WITHDRAWN \
            and s.enrolment.decided_at else day
        items.append(certificates.IssueItem(
            holder=s.enrolment.user, programme=run.programme, kind=certificates.DocumentKind.STATEMENT,
            hours=s.hours_done, study_start=run.starts_on, study_end=max(min(run.ends_on, left), run.starts_on),
            run_id=run.id, enrolment_id=s.enrolment.id))
    issued = certificates.issue_certificates(run.host_organization, items, by=by, issued_on=issued_on)
    audit.record("statements_issued", actor=by, organization=run.host_organization_id, obj=run, learners=len(items))
    return issued


def completed_count(run: CourseRun) -> int:
    return db.session.scalar(select(func.count(Enrolment.id)).where(
        Enrolment.run_id == run.id, Enrolment.status == EnrolmentStatus.COMPLETED)) or 0
