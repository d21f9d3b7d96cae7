"""Periodic jobs of the courses domain (run by `flask --app wsgi jobs run` and the dev server's timer):
deadline reminders and the clean-up of old verification lookups."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select

from lms.accounts.models import User
from lms.core.db import utcnow
from lms.core.i18n import fmt_datetime
from lms.core.jobs import periodic
from lms.core.notifications import notify
from lms.courses.certificates import VERIFY_WINDOW_SECONDS
from lms.courses.models import (
    HOLDS_PLACE,
    Activity,
    ActivityKind,
    CourseRun,
    Enrolment,
    Submission,
    VerificationAttempt,
)
from lms.extensions import db

#: How long before an assignment's due date its learners are reminded.
REMIND_BEFORE = timedelta(hours=24)


def send_deadline_reminders(now: datetime | None = None) -> int:
    """Remind each learner who has not submitted an assignment due within a day, in the site and by e-mail —
    once per due date (a moved due date is reminded again). Returns how many learners were reminded."""
    now = now or utcnow()
    sent = 0
    # Only runs still going: the job runs every few minutes, and finished runs keep their assignments forever.
    current = select(CourseRun.id).where(CourseRun.ends_on >= (now - timedelta(days=1)).date(),
                                         CourseRun.cancelled_at.is_(None))
    for activity in db.session.scalars(select(Activity).where(Activity.kind == ActivityKind.ASSIGNMENT,
                                                              Activity.is_visible.is_(True),
                                                              Activity.run_id.in_(current))):
        settings = dict(activity.settings or {})
        due = settings.get("due_at")
        if not due or settings.get("reminded_for") == due:
            continue
        due_at = datetime.fromisoformat(due)
        if not now < due_at <= now + REMIND_BEFORE:
            continue
        run = db.session.get(CourseRun, activity.run_id)
        submitted = select(Submission.user_id).where(Submission.activity_id == activity.id)
        learners = db.session.scalars(select(User).join(Enrolment, Enrolment.user_id == User.id).where(
            Enrolment.run_id == run.id, Enrolment.status.in_(sorted(HOLDS_PLACE)), User.is_active.is_(True),
            User.id.not_in(submitted)))
        for learner in learners:
            notify(learner, "deadline", _("Deadline tomorrow: %(title)s", title=activity.title),
                   f"/activities/{activity.id}",
                   email=_("The assignment «%(title)s» of the course «%(course)s» is due %(when)s. You have not "
                           "submitted it yet.", title=activity.title, course=run.programme.title,
                           when=fmt_datetime(due_at, tz=run.host_organization.time_zone)))
            sent += 1
        settings["reminded_for"] = due
        activity.settings = settings
    db.session.flush()
    return sent


@periodic
def deadline_reminders() -> str:
    return f"deadline reminders: {send_deadline_reminders()}"


@periodic
def prune_verification_attempts() -> str:
    """Lookups older than the throttling window count for nothing: remove them."""
    window = current_app.config.get("VERIFY_WINDOW_SECONDS", VERIFY_WINDOW_SECONDS)
    n = db.session.execute(delete(VerificationAttempt).where(
        VerificationAttempt.at < utcnow() - timedelta(seconds=window))).rowcount
    return f"old verification lookups removed: {n}"
