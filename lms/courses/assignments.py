"""Assignments: a learner submits online text and/or files between the opening and the cut-off (late after
the due date); a teacher grades with points and feedback; below the pass mark the learner may submit again.
Completion follows the activity's rule (submitted, or graded at or above the pass mark).

Plain functions: they flush, never commit, and raise ``ValidationError``/``Conflict``.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from lms.accounts.models import User
from lms.core import audit
from lms.core.db import utcnow
from lms.core.errors import Conflict, ValidationError
from lms.core.notifications import notify
from lms.core.storage import get_storage
from lms.courses import gradebook, grading
from lms.courses.content import Upload, check_upload, mark_complete, sanitize
from lms.courses.models import (
    HOLDS_PLACE,
    Activity,
    ActivityKind,
    CompletionRule,
    CourseRun,
    Enrolment,
    Submission,
    SubmissionFile,
    SubmissionStatus,
)
from lms.extensions import db

MAX_FILES = 10


def _moment(activity: Activity, name: str) -> datetime | None:
    value = (activity.settings or {}).get(name)
    return datetime.fromisoformat(value) if value else None


def submission_of(activity: Activity, user_id: int) -> Submission | None:
    return db.session.scalar(select(Submission).where(Submission.activity_id == activity.id,
                                                      Submission.user_id == user_id))


def can_submit_now(activity: Activity, submission: Submission | None, now: datetime | None = None) -> str | None:
    """None when the learner may submit now, else why not (shown on the page)."""
    now = now or utcnow()
    opens, cutoff = _moment(activity, "opens_at"), _moment(activity, "cutoff_at")
    if opens and now < opens:
        return _("Submissions are not open yet.")
    if cutoff and now > cutoff:
        return _("The cut-off has passed: submissions are closed.")
    if submission is not None and submission.status == SubmissionStatus.GRADED:
        return _("Your work is graded.")
    return None


def submit(activity: Activity, user: User, *, text: str = "", uploads: list[Upload] = ()) -> Submission:
    """Send (or send again) the learner's work. Earlier attempts' files are kept with their attempt."""
    if activity.kind != ActivityKind.ASSIGNMENT:
        raise ValidationError(_("Choose one of the options."), field="activity")
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.run_id == activity.run_id,
                                                          Enrolment.user_id == user.id))
    if enrolment is None or enrolment.status not in HOLDS_PLACE:
        raise Conflict(_("Only learners of the run submit work."))
    submission = submission_of(activity, user.id)
    reason = can_submit_now(activity, submission)
    if reason:
        raise Conflict(reason)
    settings = activity.settings or {}
    text = sanitize(text) if settings.get("online_text", True) else ""
    uploads = list(uploads) if settings.get("files", True) else []
    errors = {}
    if not text and not uploads:
        errors["text"] = _("Write the answer or attach a file.")
    if len(uploads) > MAX_FILES:
        errors["files"] = _("At most %(n)d files.", n=MAX_FILES)
    for upload in uploads:
        try:
            upload.filename = check_upload(upload.filename, upload.length)
        except ValidationError as exc:
            errors["files"] = f"{upload.filename}: {exc.message}"
    if errors:
        raise ValidationError.of(errors)
    now = utcnow()
    if submission is None:
        submission = Submission(run_id=activity.run_id, activity_id=activity.id, user_id=user.id, attempt=1)
        db.session.add(submission)
    else:
        submission.attempt += 1
    due = _moment(activity, "due_at")
    submission.text, submission.status, submission.submitted_at = text, SubmissionStatus.SUBMITTED, now
    submission.is_late = bool(due and now > due)
    db.session.flush()
    storage = get_storage()
    for upload in uploads:
        key = f"runs/{activity.run_id}/submissions/{submission.id}/{submission.attempt}/{upload.filename}"
        stored = storage.put(key, upload.stream, length=upload.length, content_type=upload.content_type)
        submission.files.append(SubmissionFile(attempt=submission.attempt, key=key, name=upload.filename,
                                               size=stored.size, content_type=upload.content_type))
    if activity.completion == CompletionRule.SUBMITTED:
        mark_complete(activity, user.id)
    db.session.flush()
    run = db.session.get(CourseRun, activity.run_id)
    audit.record("work_submitted", actor=user, organization=run.host_organization_id, obj=user,
                 activity=activity.id, attempt=submission.attempt, late=submission.is_late or None)
    return submission


def grade(submission: Submission, *, points=None, feedback: str, by: User, uploads: list[Upload] = (),
          levels: list | None = None) -> Submission:
    """Points (or a scale's mark, or a rubric's level per criterion) and feedback. At or above the pass mark
    the work is graded for good; below it the learner may submit again (the attempt is reopened)."""
    activity = db.session.get(Activity, submission.activity_id)
    settings = activity.settings or {}
    pass_mark = int(settings.get("pass_points", 0))
    value, chosen = grading.score(settings, points=points, levels=levels)
    for upload in uploads:
        upload.filename = check_upload(upload.filename, upload.length)
    old = submission.points
    submission.points, submission.rubric_levels, submission.feedback = value, chosen, sanitize(feedback)
    submission.graded_by_id, submission.graded_at = by.id, utcnow()
    passed = submission.points >= pass_mark
    submission.status = SubmissionStatus.GRADED if passed else SubmissionStatus.REOPENED
    storage = get_storage()
    for upload in uploads:
        key = f"runs/{activity.run_id}/submissions/{submission.id}/feedback/{upload.filename}"
        stored = storage.put(key, upload.stream, length=upload.length, content_type=upload.content_type)
        submission.files.append(SubmissionFile(attempt=submission.attempt, is_feedback=True, key=key,
                                               name=upload.filename, size=stored.size,
                                               content_type=upload.content_type))
    if passed and activity.completion == CompletionRule.GRADED:
        mark_complete(activity, submission.user_id)
    gradebook.log_change(activity.run_id, submission.user_id, activity.title, old, submission.points, by=by)
    title = _("«%(title)s» is graded: %(grade)s.", title=activity.title,
              grade=grading.grade_label(settings, submission.points))
    notify(submission.user, "grade", title, f"/activities/{activity.id}", email=title)
    db.session.flush()
    run = db.session.get(CourseRun, activity.run_id)
    audit.record("work_graded", actor=by, organization=run.host_organization_id, obj=submission.user,
                 activity=activity.id, points=submission.points, old=old)
    return submission


def submissions_for(activity: Activity) -> list[tuple[Enrolment, Submission | None]]:
    """Every learner of the run with their submission (or None), in two statements."""
    enrolments = db.session.scalars(select(Enrolment).join(User, User.id == Enrolment.user_id).where(
        Enrolment.run_id == activity.run_id, Enrolment.status.in_(sorted(HOLDS_PLACE)))
        .order_by(User.surname, User.name, User.id)).all()
    by_user = {s.user_id: s for s in db.session.scalars(select(Submission).where(
        Submission.activity_id == activity.id))}
    return [(e, by_user.get(e.user_id)) for e in enrolments]

