"""What the courses domain tells people: its events in their calendar (runs, assignment deadlines) and
notifications for a certificate issued. Imported once when the application starts."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from lms.core import signals
from lms.core.calendar import Event, calendar_provider
from lms.core.notifications import notify
from lms.courses.models import HOLDS_PLACE, Activity, ActivityKind, CourseRun, Enrolment, RunStaff
from lms.extensions import db


@calendar_provider
def course_events(user, start: datetime, end: datetime) -> list[Event]:
    """The runs a person studies or teaches in (start to end, all day) and their visible assignments'
    due dates."""
    learning = select(Enrolment.run_id).where(Enrolment.user_id == user.id, Enrolment.status.in_(sorted(HOLDS_PLACE)))
    teaching = select(RunStaff.run_id).where(RunStaff.user_id == user.id)
    runs = db.session.scalars(select(CourseRun).where(
        (CourseRun.id.in_(learning)) | (CourseRun.id.in_(teaching)), CourseRun.cancelled_at.is_(None),
        CourseRun.ends_on >= start.date(), CourseRun.starts_on <= end.date())).all()
    events = [Event(uid=f"run-{r.id}@lms", title=f"{r.programme.title} ({r.name})", start=r.starts_on,
                    end=r.ends_on, link=f"/runs/{r.id}") for r in runs]
    if runs:
        for a in db.session.scalars(select(Activity).where(Activity.run_id.in_([r.id for r in runs]),
                                                           Activity.kind == ActivityKind.ASSIGNMENT,
                                                           Activity.is_visible.is_(True))):
            due = (a.settings or {}).get("due_at")
            if due and start <= datetime.fromisoformat(due) <= end:
                moment = datetime.fromisoformat(due)
                events.append(Event(uid=f"due-{a.id}@lms", title=_("Due: %(title)s", title=a.title),
                                    start=moment, end=moment, link=f"/activities/{a.id}"))
    return events


@signals.certificate_issued.connect
def _certificate_issued(cert, by=None, **_kw):
    from lms.accounts.models import User

    holder = db.session.get(User, cert.holder_id)
    if holder is not None:
        title = _("Your document «%(title)s» is issued, № %(n)s.", title=cert.programme_title, n=cert.number)
        notify(holder, "certificate", title, f"/certificates/{cert.id}", email=title)
