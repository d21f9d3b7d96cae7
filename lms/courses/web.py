"""What the course pages share with other blueprints and the API: opening an activity (who may, and the
learner's access conditions), reading uploaded files, and date inputs in the run's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import abort, request
from flask_babel import gettext as _
from flask_login import current_user

from lms.core.errors import ValidationError
from lms.core.permissions import require
from lms.courses import content as services
from lms.courses import permissions as perm
from lms.courses.models import Activity, CourseRun


def opened(activity: Activity) -> perm.RunAccess:
    """The activity's run with the user's standing in it (one statement), or a refusal: 404 without the run, 403
    unless they see its content, and 403 with the reason while the activity is closed to the learner (its
    dates, group, visibility, or an activity to complete first)."""
    access = perm.run_access_or_404(current_user, activity.run_id)
    require(access.views_content)
    if not access.enrols_others:
        group_id = access.group_id
        completed = set()
        if activity.requires_activity_id:
            completed = {a for a, p in services.progress_rows(access.run.id, current_user.id).items() if p.completed_at}
        state = services.access(activity, group_ids={group_id} if group_id else set(), completed=completed)
        if not state.open:
            abort(403, description=state.reason)
    return access


def open_activity(activity: Activity) -> tuple[CourseRun, bool]:
    """``opened``: the run, and whether the user is on its staff (teaches or manages it)."""
    access = opened(activity)
    return access.run, access.enrols_others


def as_upload(file) -> services.Upload:
    file.stream.seek(0, 2)  # the upload is spooled to a temporary file: its size is known
    length = file.stream.tell()
    file.stream.seek(0)
    return services.Upload(filename=file.filename, stream=file.stream, length=length,
                           content_type=file.mimetype or "application/octet-stream")


def upload(name: str = "file") -> services.Upload | None:
    file = request.files.get(name)
    return as_upload(file) if file is not None and file.filename else None


def uploads(name: str) -> list[services.Upload]:
    return [as_upload(f) for f in request.files.getlist(name) if f and f.filename]


def _zone(run: CourseRun) -> ZoneInfo:
    return ZoneInfo(run.host_organization.time_zone or "Europe/Moscow")


def local_input(moment: datetime | None, run: CourseRun) -> str:
    return moment.astimezone(_zone(run)).strftime("%Y-%m-%dT%H:%M") if moment else ""


def parse_local(value: str | None, run: CourseRun, field: str) -> datetime | None:
    """A «datetime-local» input, in the host organization's time zone, as UTC."""
    text = (value or "").strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=_zone(run)).astimezone(UTC)
        except ValueError:
            continue
    raise ValidationError(_("A date and time are expected, e.g. 01.09.2026 09:00."), field=field)
