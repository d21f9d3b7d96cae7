"""Course content rules: sections and activities of a run, sanitised text, files through the storage
interface, access restrictions, completion and hours, announcements, and copying a template run.

Plain functions: they flush, never commit, and raise ``ValidationError``/``Conflict``.
"""

from __future__ import annotations

import posixpath
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO
from urllib.parse import urlsplit

import nh3
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import User
from lms.core import audit
from lms.core.db import utcnow
from lms.core.errors import Conflict, ValidationError
from lms.core.mail import queue_mail
from lms.core.storage import delete_after_commit, get_storage
from lms.courses import grading
from lms.courses.models import (
    HOLDS_PLACE,
    SLOT_KINDS,
    Activity,
    ActivityKind,
    ActivityProgress,
    Announcement,
    CompletionRule,
    CourseRun,
    Enrolment,
    Section,
)
from lms.extensions import db

MAX_FILE_BYTES = 200 * 1024 * 1024
#: Files a browser or an OS would run rather than open: refused in course content.
REFUSED_EXTENSIONS = frozenset({".exe", ".msi", ".bat", ".cmd", ".com", ".scr", ".js", ".vbs", ".ps1", ".jar",
                                ".apk", ".sh", ".html", ".htm", ".svg", ".xhtml"})

#: Which completion rules make sense for which kind of activity.
RULES_BY_KIND = {
    ActivityKind.PAGE: (CompletionRule.NONE, CompletionRule.VIEWED),
    ActivityKind.FILE: (CompletionRule.NONE, CompletionRule.VIEWED),
    ActivityKind.LINK: (CompletionRule.NONE, CompletionRule.VIEWED),
    ActivityKind.ASSIGNMENT: (CompletionRule.NONE, CompletionRule.VIEWED, CompletionRule.SUBMITTED,
                              CompletionRule.GRADED),
    ActivityKind.QUIZ: (CompletionRule.NONE, CompletionRule.VIEWED, CompletionRule.SUBMITTED, CompletionRule.GRADED),
    ActivityKind.WEBINAR: (CompletionRule.NONE, CompletionRule.VIEWED, CompletionRule.ATTENDED),
    ActivityKind.SURVEY: (CompletionRule.NONE, CompletionRule.VIEWED, CompletionRule.SUBMITTED),
}

_TAGS = {"p", "br", "hr", "h2", "h3", "h4", "strong", "b", "em", "i", "u", "s", "sub", "sup", "blockquote",
         "code", "pre", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "caption", "img",
         "figure", "figcaption", "span"}
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height"}, "th": {"scope", "colspan", "rowspan"},
               "td": {"colspan", "rowspan"}, "ol": {"start"}}


def sanitize(html: str) -> str:
    """Rich text a teacher wrote, safe to show: no scripts, styles, event handlers or foreign frames;
    links only to http(s) and mail, opened without handing over the page (rel=noopener)."""
    return nh3.clean(html or "", tags=_TAGS, attributes=_ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer nofollow", strip_comments=True).strip()


# --- sections ------------------------------------------------------------------------------------

def build_sections(run: CourseRun, *, template: CourseRun | None = None) -> None:
    """A new run's content: a copy of the template run's, or one empty section per curriculum module."""
    if template is not None:
        copy_content(template, run)
        return
    for position, module in enumerate(run.programme.modules, start=1):
        db.session.add(Section(run_id=run.id, position=position, title=module.title, module_id=module.id))
    db.session.flush()


def copy_content(source: CourseRun, target: CourseRun) -> None:
    """Sections and activities of ``source`` into an empty ``target``; files are copied in storage, so
    each run owns its objects; restrictions by completion point at the copies."""
    if db.session.scalar(select(func.count(Section.id)).where(Section.run_id == target.id)):
        raise Conflict(_("The run already has content."))
    storage = get_storage()
    copies: dict[int, Activity] = {}
    modules = {m.position: m.id for m in target.programme.modules}
    for section in _sections(source):
        new_section = Section(run_id=target.id, position=section.position, title=section.title,
                              summary=section.summary,
                              module_id=modules.get(section.module.position) if section.module else None)
        db.session.add(new_section)
        db.session.flush()
        for a in section.activities:
            copy = Activity(run_id=target.id, section_id=new_section.id, position=a.position, kind=a.kind,
                            title=a.title, body=a.body, url=a.url, planned_hours=a.planned_hours,
                            is_visible=a.is_visible, completion=a.completion, settings=dict(a.settings or {}),
                            file_name=a.file_name, file_size=a.file_size, file_type=a.file_type)
            if a.file_key:
                copy.file_key = _file_key(target, a.file_name or "file")
                storage.put_bytes(copy.file_key, storage.get_bytes(a.file_key),
                                  content_type=a.file_type or "application/octet-stream")
            db.session.add(copy)
            copies[a.id] = copy
    db.session.flush()
    from lms.assessment.quizzes import copy_quiz  # the quiz engine builds on courses: imported when used

    for old_id, copy in copies.items():
        original = db.session.get(Activity, old_id)
        copy.requires_activity_id = copies[original.requires_activity_id].id \
            if original.requires_activity_id in copies else None
        if original.kind == ActivityKind.QUIZ:
            copy_quiz(original, copy)
    db.session.flush()


def _sections(run: CourseRun) -> list[Section]:
    return list(db.session.scalars(select(Section).where(Section.run_id == run.id).order_by(Section.position)))


def _title(value, field: str = "title") -> str:
    title = " ".join(str(value or "").split())
    if not title:
        raise ValidationError(_("Required."), field=field)
    if len(title) > 300:
        raise ValidationError(_("At most %(n)d characters.", n=300), field=field)
    return title


def add_section(run: CourseRun, *, title: str, summary: str = "", by: User) -> Section:
    position = (db.session.scalar(select(func.max(Section.position)).where(Section.run_id == run.id)) or 0) + 1
    section = Section(run_id=run.id, position=position, title=_title(title), summary=sanitize(summary))
    db.session.add(section)
    db.session.flush()
    audit.record("section_added", actor=by, organization=run.host_organization_id, obj=run, section=section.title)
    return section


def update_section(section: Section, *, title: str, summary: str = "", by: User) -> None:
    section.title, section.summary = _title(title), sanitize(summary)
    db.session.flush()


def delete_section(section: Section, *, by: User) -> None:
    if section.activities:
        raise Conflict(_("Move or delete the section's activities first."))
    run_id = section.run_id
    db.session.delete(section)
    db.session.flush()
    # Close the gap so positions stay 1..n (a unique pair with the run).
    for position, s in enumerate(_sections(db.session.get(CourseRun, run_id)), start=1):
        s.position = position
    db.session.flush()


# --- activities ----------------------------------------------------------------------------------

def _file_key(run: CourseRun, filename: str) -> str:
    name = posixpath.basename(filename.replace("\\", "/")).strip() or "file"
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[-120:] or "file"
    return f"runs/{run.id}/files/{secrets.token_hex(8)}-{safe}"


def check_upload(filename: str, length: int | None) -> str:
    name = posixpath.basename((filename or "").replace("\\", "/")).strip()
    if not name:
        raise ValidationError(_("Choose a file."), field="file")
    if posixpath.splitext(name.lower())[1] in REFUSED_EXTENSIONS:
        raise ValidationError(_("Files of this type are not accepted: pack them into a ZIP archive."), field="file")
    if length is not None and length > MAX_FILE_BYTES:
        raise ValidationError(_("The file is larger than %(n)d MB.", n=MAX_FILE_BYTES // (1024 * 1024)), field="file")
    return name


def _url(value) -> str:
    url = str(value or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 2000:
        raise ValidationError(_("A web address starting with https:// is expected."), field="url")
    return url


def _hours(value) -> int:
    text = str(value if value is not None else "").strip() or "0"
    if not text.isdecimal() or int(text) > 500:
        raise ValidationError(_("From %(low)d to %(high)d.", low=0, high=500), field="planned_hours")
    return int(text)


def _moment(value, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value
    raise ValidationError(_("A date and time are expected."), field=field)


@dataclass
class Upload:
    filename: str
    stream: BinaryIO
    length: int | None
    content_type: str


def save_activity(section: Section, data: dict, *, by: User, activity: Activity | None = None,
                  upload: Upload | None = None) -> Activity:
    """Create (``activity`` None) or change an activity of ``section``. Every rule is checked before
    anything is stored; a file goes to storage last, and its old object is removed after the new one
    is in place."""
    run = db.session.get(CourseRun, section.run_id)
    kind = activity.kind if activity is not None else data.get("kind")
    if kind not in set(ActivityKind):
        raise ValidationError(_("Choose one of the options."), field="kind")
    errors: dict[str, str] = {}
    fields: dict = {}
    for name, check in (("title", lambda: _title(data.get("title"))),
                        ("planned_hours", lambda: _hours(data.get("planned_hours"))),
                        ("available_from", lambda: _moment(data.get("available_from"), "available_from")),
                        ("available_until", lambda: _moment(data.get("available_until"), "available_until"))):
        try:
            fields[name] = check()
        except ValidationError as exc:
            errors[exc.field or name] = exc.message
    completion = data.get("completion") or CompletionRule.NONE
    if completion not in RULES_BY_KIND[kind]:
        errors["completion"] = _("This rule does not fit this kind of activity.")
    if fields.get("available_from") and fields.get("available_until") \
            and fields["available_until"] <= fields["available_from"]:
        errors["available_until"] = _("The end must come after the start.")
    required = data.get("requires_activity_id")
    if required is not None:
        other = db.session.get(Activity, required)
        if other is None or other.run_id != run.id or (activity is not None and other.id == activity.id):
            errors["requires_activity_id"] = _("Choose one of the options.")
    group_id = data.get("group_id")
    if group_id is not None and group_id not in {g.id for g in run.groups}:
        errors["group_id"] = _("Choose one of the options.")
    if kind == ActivityKind.LINK:
        try:
            fields["url"] = _url(data.get("url"))
        except ValidationError as exc:
            errors["url"] = exc.message
    if kind == ActivityKind.FILE and upload is None and (activity is None or not activity.file_key):
        errors["file"] = _("Choose a file.")
    if upload is not None:
        try:
            upload.filename = check_upload(upload.filename, upload.length)
        except ValidationError as exc:
            errors["file"] = exc.message
    if kind == ActivityKind.ASSIGNMENT:
        fields["settings"] = _assignment_settings(data, errors)
    if errors:
        raise ValidationError.of(errors)
    creating = activity is None
    if creating:
        position = (db.session.scalar(select(func.max(Activity.position))
                                      .where(Activity.section_id == section.id)) or 0) + 1
        activity = Activity(run_id=run.id, section_id=section.id, position=position, kind=kind)
        db.session.add(activity)
    for name, value in fields.items():
        setattr(activity, name, value)
    activity.body = sanitize(data.get("body") or "")
    activity.completion, activity.requires_activity_id, activity.group_id = completion, required, group_id
    activity.is_visible = bool(data.get("is_visible", True))
    old_key = activity.file_key
    if upload is not None:
        key = _file_key(run, upload.filename)
        stored = get_storage().put(key, upload.stream, length=upload.length,
                                   content_type=upload.content_type or "application/octet-stream")
        activity.file_key, activity.file_name, activity.file_size = key, upload.filename, stored.size
        activity.file_type = upload.content_type or "application/octet-stream"
    db.session.flush()
    if upload is not None and old_key:
        delete_after_commit(db.session(), old_key)
    audit.record("activity_added" if creating else "activity_changed", actor=by,
                 organization=run.host_organization_id, obj=run, activity=activity.id, kind=kind)
    return activity


def _assignment_settings(data: dict, errors: dict) -> dict:
    settings: dict = {}
    for name in ("opens_at", "due_at", "cutoff_at"):
        try:
            moment = _moment(data.get(name), name)
        except ValidationError as exc:
            errors[name] = exc.message
            continue
        settings[name] = moment.isoformat() if moment else None
    if settings.get("due_at") and settings.get("cutoff_at") and settings["cutoff_at"] < settings["due_at"]:
        errors["cutoff_at"] = _("The cut-off cannot come before the due date.")
    settings["online_text"] = bool(data.get("online_text", True))
    settings["files"] = bool(data.get("files", True))
    if not settings["online_text"] and not settings["files"]:
        errors["online_text"] = _("Allow an online text, files, or both.")
    settings.update(grading.clean_settings(data, errors))
    return settings


def delete_activity(activity: Activity, *, by: User) -> None:
    run = db.session.get(CourseRun, activity.run_id)
    key = activity.file_key
    db.session.delete(activity)
    db.session.flush()
    if key:
        delete_after_commit(db.session(), key)
    audit.record("activity_deleted", actor=by, organization=run.host_organization_id, obj=run,
                 title=activity.title)


# --- what a learner may open ---------------------------------------------------------------------

@dataclass(frozen=True)
class Access:
    open: bool
    reason: str = ""


def access(activity: Activity, *, group_ids: set[int], completed: set[int], now: datetime | None = None,
           staff: bool = False) -> Access:
    """Whether a learner may open the activity now, and why not (shown next to it)."""
    if staff:
        return Access(True)
    now = now or utcnow()
    if not activity.is_visible:
        return Access(False, _("Hidden by the teacher."))
    if activity.group_id is not None and activity.group_id not in group_ids:
        return Access(False, _("For another group."))
    if activity.available_from and now < activity.available_from:
        return Access(False, _("Opens on %(when)s.", when=_fmt(activity.available_from)))
    if activity.available_until and now > activity.available_until:
        return Access(False, _("Closed on %(when)s.", when=_fmt(activity.available_until)))
    if activity.requires_activity_id and activity.requires_activity_id not in completed:
        title = activity.requires_activity.title if activity.requires_activity else ""
        return Access(False, _("Opens when «%(title)s» is completed.", title=title))
    if activity.kind in SLOT_KINDS:
        return Access(False, _("This kind of activity is not available yet."))
    return Access(True)


def next_access_change(activities, now: datetime) -> datetime | None:
    """The first moment after ``now`` at which an activity opens or closes (None: none ahead): until then a
    learner's view of what is open stays as it is."""
    ahead = [moment for a in activities for moment in (a.available_from, a.available_until)
             if moment is not None and moment >= now]
    return min(ahead, default=None)


def _fmt(moment: datetime) -> str:
    from lms.core.i18n import fmt_datetime

    return fmt_datetime(moment)


def progress_rows(run_id: int, user_id: int) -> dict[int, ActivityProgress]:
    return {p.activity_id: p for p in db.session.scalars(select(ActivityProgress).where(
        ActivityProgress.run_id == run_id, ActivityProgress.user_id == user_id))}


def record_view(activity: Activity, user: User) -> ActivityProgress:
    """The first view is kept; an activity completed by viewing is complete from then on."""
    row = db.session.scalar(select(ActivityProgress).where(ActivityProgress.activity_id == activity.id,
                                                           ActivityProgress.user_id == user.id))
    now = utcnow()
    if row is None:
        row = ActivityProgress(run_id=activity.run_id, activity_id=activity.id, user_id=user.id, viewed_at=now)
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:  # the same learner's other tab got there first
            row = db.session.scalar(select(ActivityProgress).where(ActivityProgress.activity_id == activity.id,
                                                                   ActivityProgress.user_id == user.id))
    if row.viewed_at is None:
        row.viewed_at = now
    if activity.completion == CompletionRule.VIEWED and row.completed_at is None:
        row.completed_at = now
    db.session.flush()
    return row


def mark_complete(activity: Activity, user_id: int) -> None:
    """For engines that decide completion (a submitted assignment, a graded quiz, attended minutes)."""
    row = db.session.scalar(select(ActivityProgress).where(ActivityProgress.activity_id == activity.id,
                                                           ActivityProgress.user_id == user_id))
    if row is None:
        row = ActivityProgress(run_id=activity.run_id, activity_id=activity.id, user_id=user_id)
        db.session.add(row)
    if row.completed_at is None:
        row.completed_at = utcnow()
    db.session.flush()


@dataclass(frozen=True)
class Progress:
    required: int
    completed: int
    hours_total: int
    hours_done: int

    @property
    def percent(self) -> int:
        return round(100 * self.completed / self.required) if self.required else 0


def learner_progress(activities: list[Activity], rows: dict[int, ActivityProgress], total_hours: int) -> Progress:
    """Activities that count toward completion, and the academic hours of those completed."""
    counted = [a for a in activities if a.completion != CompletionRule.NONE]
    done = [a for a in counted if rows.get(a.id) and rows[a.id].completed_at]
    return Progress(required=len(counted), completed=len(done), hours_total=total_hours,
                    hours_done=sum(a.planned_hours for a in done))


def hours_plan(run: CourseRun, sections: list[Section]) -> list[str]:
    """Where the planned hours of the activities differ from the curriculum module's hours."""
    notes = []
    for section in sections:
        if section.module is None:
            continue
        planned = sum(a.planned_hours for a in section.activities)
        if planned != section.module.total_hours:
            notes.append(_("«%(title)s»: activities plan %(p)d h of the module's %(m)d h.", title=section.title,
                           p=planned, m=section.module.total_hours))
    return notes


# --- announcements -------------------------------------------------------------------------------

def announce(run: CourseRun, *, title: str, body: str, by: User) -> Announcement:
    """Posted on the course page and sent by e-mail to every learner of the run."""
    item = Announcement(run_id=run.id, author_id=by.id, title=_title(title), body=sanitize(body))
    db.session.add(item)
    learners = db.session.scalars(select(User).join(Enrolment, Enrolment.user_id == User.id).where(
        Enrolment.run_id == run.id, Enrolment.status.in_(sorted(HOLDS_PLACE)), User.is_active.is_(True),
        User.email.is_not(None)))
    text = nh3.clean(item.body, tags=set()).strip()
    for learner in learners:
        queue_mail(learner.email, f"{run.programme.title}: {item.title}", text)
    db.session.flush()
    audit.record("announcement_posted", actor=by, organization=run.host_organization_id, obj=run, title=item.title)
    return item
