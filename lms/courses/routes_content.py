"""The course page of a run, its sections and activities (page, file, link or video, assignment; slots for
quizzes, webinars and surveys), what a learner may open and has completed, and announcements."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.core.db import utcnow
from lms.core.errors import ValidationError
from lms.core.forms import flash_form_errors, form_status, select_choices, submit
from lms.core.loading import get_or_404
from lms.core.pagecache import VersionedCache, cached_until, page_key
from lms.core.permissions import require
from lms.core.storage import get_storage
from lms.courses import assignments, grading
from lms.courses import content as services
from lms.courses import permissions as perm
from lms.courses.forms import ActivityForm, AnnouncementForm, GradeForm, SectionForm, SubmitWorkForm
from lms.courses.labels import ACTIVITY_KIND_LABELS, course_labels
from lms.courses.models import (
    Activity,
    ActivityKind,
    Announcement,
    CourseRun,
    Enrolment,
    Section,
    Submission,
    SubmissionFile,
)
from lms.courses.web import local_input, open_activity, parse_local, upload, uploads
from lms.extensions import db

bp = Blueprint("content", __name__)


@bp.context_processor
def _labels():
    return course_labels()


# --- the course page -----------------------------------------------------------------------------

#: Rendered course pages, per session, run revision and learner revision (~20–60 KB each).
_course_pages = VersionedCache(size=2000, max_chars=64 * 1024 * 1024)


@bp.route("/runs/<int:run_id>/course")
@login_required
def course(run_id: int):
    access = perm.run_access_or_404(current_user, run_id)
    require(access.views_content)
    run, staff = access.run, access.enrols_others
    editing = access.edits_content
    enrolment = None if staff else access.enrolment
    # The page shows the run's content (its revision) and, to a learner, their own state (their revision,
    # status and group) as it stands until the next activity opens or closes.
    learner = None if staff else (enrolment.id, enrolment.created_at, enrolment.rev, enrolment.status,
                                  enrolment.group_id)
    key = page_key("course", run.id, run.created_at, run.content_rev, staff, editing, learner)
    return cached_until(_course_pages, key, lambda: _course_page(run, enrolment, staff, editing))


def _course_page(run: CourseRun, enrolment: Enrolment | None, staff: bool, editing: bool):
    """(the page, the moment it stops being right or None)."""
    sections = list(db.session.scalars(
        select(Section).where(Section.run_id == run.id).order_by(Section.position)
        .options(selectinload(Section.module), selectinload(Section.activities).selectinload(Activity.requires_activity))))
    activities = [a for s in sections for a in s.activities]
    rows = {} if staff else services.progress_rows(run.id, enrolment.user_id)
    completed = {a for a, p in rows.items() if p.completed_at}
    groups = {enrolment.group_id} if enrolment and enrolment.group_id else set()
    now = utcnow()
    access = {a.id: services.access(a, group_ids=groups, completed=completed, staff=staff, now=now)
              for a in activities}
    visible = activities if staff else [a for a in activities if a.is_visible and
                                        (a.group_id is None or a.group_id in groups)]
    progress = services.learner_progress(visible, rows, run.programme.total_hours)
    announcements = db.session.scalars(select(Announcement).where(Announcement.run_id == run.id)
                                       .order_by(Announcement.created_at.desc()).limit(5)).all()
    # Built once per page, not once per activity: 50 activities would otherwise make ~150 catalogue lookups
    # and 50 URL builds, the largest part of this page's time.
    words = {"kinds": {k: str(v) for k, v in ACTIVITY_KIND_LABELS.items()}, "hours": _("%(n)d h"),
             "done": _("completed"), "todo": _("not completed yet"), "hidden": _("hidden"),
             "activity_url": url_for("content.view_activity", activity_id=0).removesuffix("0")}
    html = render_template("content/course.html", run=run, sections=sections, access=access, rows=rows, words=words,
                           progress=progress, editing=editing, staff=staff, announcements=announcements,
                           hours_notes=services.hours_plan(run, sections) if editing else [],
                           section_form=SectionForm(formdata=None), announcement_form=AnnouncementForm(formdata=None),
                           kinds=list(ActivityKind))
    return html, None if staff else services.next_access_change(activities, now)


@bp.route("/runs/<int:run_id>/sections", methods=["POST"])
@login_required
def add_section(run_id: int):
    run = get_or_404(CourseRun, run_id)
    require(perm.can_edit_content(current_user, run))
    form = SectionForm()
    if form.validate_on_submit():
        ok, _s = submit(lambda: services.add_section(run, title=form.title.data, summary=form.summary.data or "",
                                                     by=current_user))
        if ok:
            flash(_("Section added."), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("content.course", run_id=run.id))


@bp.route("/sections/<int:section_id>/edit", methods=["GET", "POST"])
@login_required
def edit_section(section_id: int):
    section = get_or_404(Section, section_id)
    run = db.session.get(CourseRun, section.run_id)
    require(perm.can_edit_content(current_user, run))
    form = SectionForm(obj=section if request.method == "GET" else None)
    if form.validate_on_submit():
        ok, _r = submit(lambda: services.update_section(section, title=form.title.data,
                                                        summary=form.summary.data or "", by=current_user),
                        form=form, field="title")
        if ok:
            flash(_("Saved."), "success")
            return redirect(url_for("content.course", run_id=run.id))
    return render_template("content/section_form.html", form=form, section=section, run=run), form_status(form)


@bp.route("/sections/<int:section_id>/delete", methods=["POST"])
@login_required
def delete_section(section_id: int):
    section = get_or_404(Section, section_id)
    run = db.session.get(CourseRun, section.run_id)
    require(perm.can_edit_content(current_user, run))
    ok, _r = submit(lambda: services.delete_section(section, by=current_user))
    if ok:
        flash(_("Section deleted."), "success")
    return redirect(url_for("content.course", run_id=run.id))


# --- activities ----------------------------------------------------------------------------------

def _activity_form(run: CourseRun, activity: Activity | None, formdata=None) -> ActivityForm:
    form = ActivityForm(formdata=formdata)
    others = db.session.scalars(select(Activity).where(Activity.run_id == run.id).order_by(Activity.id)).all()
    form.requires_activity.choices = select_choices([("", _("No condition"))] + [
        (str(a.id), a.title) for a in others if activity is None or a.id != activity.id])
    form.group.choices = select_choices([("", _("Everyone"))] + [(str(g.id), g.name) for g in run.groups])
    if formdata is None and activity is not None:
        for name in ("title", "body", "url", "planned_hours", "completion", "is_visible"):
            getattr(form, name).data = getattr(activity, name)
        form.planned_hours.data = str(activity.planned_hours)
        form.available_from.data = local_input(activity.available_from, run)
        form.available_until.data = local_input(activity.available_until, run)
        form.requires_activity.data = str(activity.requires_activity_id or "")
        form.group.data = str(activity.group_id or "")
        settings = activity.settings or {}
        for name in ("opens_at", "due_at", "cutoff_at"):
            value = settings.get(name)
            getattr(form, name).data = local_input(datetime.fromisoformat(value), run) if value else ""
        form.online_text.data = settings.get("online_text", True)
        form.files.data = settings.get("files", True)
        form.max_points.data = str(settings.get("max_points", 100))
        form.pass_points.data = str(settings.get("pass_points", 0))
        form.grading.data = grading.method_of(settings)
        form.scale.data = settings.get("scale", grading.FIVE_POINT)
        form.rubric.data = grading.rubric_text(settings.get("rubric") or [])
    return form


def _activity_data(form: ActivityForm, run: CourseRun, kind: str) -> dict:
    data = {name: getattr(form, name).data for name in (
        "title", "body", "url", "planned_hours", "completion", "is_visible", "online_text", "files", "max_points",
        "pass_points", "grading", "scale", "rubric")}
    data["kind"] = kind
    errors = {}
    for name in ("available_from", "available_until", "opens_at", "due_at", "cutoff_at"):
        try:
            data[name] = parse_local(getattr(form, name).data, run, name)
        except ValidationError as exc:
            errors[name] = exc.message
    if errors:
        raise ValidationError.of(errors)
    data["requires_activity_id"] = int(form.requires_activity.data) if (form.requires_activity.data or "").isdecimal() \
        else None
    data["group_id"] = int(form.group.data) if (form.group.data or "").isdecimal() else None
    return data


@bp.route("/sections/<int:section_id>/activities/new", methods=["GET", "POST"])
@login_required
def new_activity(section_id: int):
    section = get_or_404(Section, section_id)
    run = db.session.get(CourseRun, section.run_id)
    require(perm.can_edit_content(current_user, run))
    kind = request.args.get("kind", "page")
    if kind not in set(ActivityKind):
        abort(404)
    form = _activity_form(run, None, request.form if request.method == "POST" else None)
    if request.method == "GET":
        form.completion.data = "submitted" if kind == ActivityKind.ASSIGNMENT else "viewed"
        form.planned_hours.data = "1"
        form.max_points.data, form.pass_points.data = "100", "50"
    if form.validate_on_submit():
        ok, activity = submit(lambda: services.save_activity(section, _activity_data(form, run, kind), by=current_user,
                                                             upload=upload()),
                              form=form, field="title", aliases=_ALIASES)
        if ok:
            flash(_("Activity added."), "success")
            return redirect(url_for("content.course", run_id=run.id, _anchor=f"activity-{activity.id}"))
    return render_template("content/activity_form.html", form=form, section=section, run=run, kind=kind,
                           activity=None), form_status(form)


_ALIASES = {"requires_activity_id": "requires_activity", "group_id": "group", "kind": "title"}


@bp.route("/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@login_required
def edit_activity(activity_id: int):
    activity = get_or_404(Activity, activity_id)
    run = db.session.get(CourseRun, activity.run_id)
    require(perm.can_edit_content(current_user, run))
    form = _activity_form(run, activity, request.form if request.method == "POST" else None)
    if form.validate_on_submit():
        ok, _a = submit(lambda: services.save_activity(activity.section, _activity_data(form, run, activity.kind),
                                                       by=current_user, activity=activity, upload=upload()),
                        form=form, field="title", aliases=_ALIASES)
        if ok:
            flash(_("Saved."), "success")
            return redirect(url_for("content.course", run_id=run.id, _anchor=f"activity-{activity.id}"))
    return render_template("content/activity_form.html", form=form, section=activity.section, run=run,
                           kind=activity.kind, activity=activity), form_status(form)


@bp.route("/activities/<int:activity_id>/delete", methods=["POST"])
@login_required
def delete_activity(activity_id: int):
    activity = get_or_404(Activity, activity_id)
    run = db.session.get(CourseRun, activity.run_id)
    require(perm.can_edit_content(current_user, run))
    ok, _r = submit(lambda: services.delete_activity(activity, by=current_user))
    if ok:
        flash(_("Activity deleted."), "success")
    return redirect(url_for("content.course", run_id=run.id))


@bp.route("/activities/<int:activity_id>")
@login_required
def view_activity(activity_id: int):
    activity = get_or_404(Activity, activity_id)
    run, staff = open_activity(activity)
    if not staff:
        services.record_view(activity, current_user)
        db.session.commit()
    if activity.kind == ActivityKind.QUIZ:
        return redirect(url_for("attempts.quiz", activity_id=activity.id))
    return _activity_page(activity, run, staff)


def _activity_page(activity: Activity, run: CourseRun, staff: bool, form: SubmitWorkForm | None = None,
                   status: int = 200):
    settings = activity.settings or {}
    moments = {k: datetime.fromisoformat(v) for k, v in settings.items() if k.endswith("_at") and v}
    submission = closed = None
    if activity.kind == ActivityKind.ASSIGNMENT and not staff:
        submission = assignments.submission_of(activity, current_user.id)
        closed = assignments.can_submit_now(activity, submission)
        form = form or SubmitWorkForm(formdata=None)
    method = grading.method_of(settings)
    return render_template("content/activity.html", activity=activity, run=run, staff=staff, moments=moments,
                           editing=perm.can_edit_content(current_user, run), submission=submission,
                           closed=closed, form=form, method=method, method_label=grading.METHOD_LABELS[method],
                           scale_label=grading.SCALE_LABELS.get(settings.get("scale"), ""),
                           criteria=settings.get("rubric") or [] if method == grading.RUBRIC else [],
                           grade_text=grading.grade_label(settings, submission.points) if submission else ""), status


@bp.route("/activities/<int:activity_id>/submit", methods=["POST"])
@login_required
def submit_work(activity_id: int):
    activity = get_or_404(Activity, activity_id)
    run, staff = open_activity(activity)
    require(not staff and perm.is_learner(current_user, run))
    form = SubmitWorkForm()
    if form.validate_on_submit():
        ok, _s = submit(lambda: assignments.submit(activity, current_user, text=form.text.data or "",
                                                   uploads=uploads("files")), form=form, field="text")
        if ok:
            flash(_("Your work is submitted."), "success")
            return redirect(url_for("content.view_activity", activity_id=activity.id))
    return _activity_page(activity, run, staff, form, 422)


@bp.route("/activities/<int:activity_id>/submissions")
@login_required
def submissions(activity_id: int):
    activity = get_or_404(Activity, activity_id)
    run = db.session.get(CourseRun, activity.run_id)
    require(perm.can_enrol_others(current_user, run) and activity.kind == ActivityKind.ASSIGNMENT)
    return render_template("content/submissions.html", activity=activity, run=run,
                           rows=assignments.submissions_for(activity))


@bp.route("/submissions/<int:submission_id>/grade", methods=["GET", "POST"])
@login_required
def grade_submission(submission_id: int):
    submission = get_or_404(Submission, submission_id)
    run = db.session.get(CourseRun, submission.run_id)
    require(perm.can_enrol_others(current_user, run))
    activity = db.session.get(Activity, submission.activity_id)
    form = GradeForm()
    settings = activity.settings or {}
    if request.method == "GET" and submission.points is not None:
        form.points.data, form.feedback.data = str(submission.points), submission.feedback
    criteria = settings.get("rubric") or [] if grading.method_of(settings) == grading.RUBRIC else []
    levels = [request.form.get(f"level-{n}") for n in range(1, len(criteria) + 1)] if request.method == "POST" \
        else list(submission.rubric_levels or [])
    level_errors: dict[str, str] = {}
    if request.method == "POST" and criteria:  # each criterion's error shown at its own choice of levels
        try:
            grading.score(settings, levels=levels)
        except ValidationError as exc:
            level_errors = exc.errors or {}
    if form.validate_on_submit() and not level_errors:
        ok, _s = submit(lambda: assignments.grade(submission, points=form.points.data, levels=levels,
                                                  feedback=form.feedback.data or "", by=current_user,
                                                  uploads=uploads("files")),
                        form=form, field="points", aliases={"file": "files"})
        if ok:
            flash(_("Grade saved."), "success")
            return redirect(url_for("content.submissions", activity_id=activity.id))
    chosen = {n: str(v) for n, v in enumerate(levels) if v is not None}
    return render_template("content/grade.html", submission=submission, activity=activity, run=run, form=form,
                           method=grading.method_of(settings), marks=grading.marks(settings), criteria=criteria,
                           chosen=chosen, level_errors=level_errors), form_status(form)


@bp.route("/submission-files/<int:file_id>")
@login_required
def submission_file(file_id: int):
    row = get_or_404(SubmissionFile, file_id)
    submission = db.session.get(Submission, row.submission_id)
    require(perm.can_see_submission(current_user, submission, db.session.get(CourseRun, submission.run_id)))
    return redirect(get_storage().presigned_url(row.key, download_name=row.name))


@bp.route("/activities/<int:activity_id>/download")
@login_required
def download(activity_id: int):
    activity = get_or_404(Activity, activity_id)
    if not activity.file_key:
        abort(404)
    run, staff = open_activity(activity)
    if not staff:
        services.record_view(activity, current_user)
        db.session.commit()
    return redirect(get_storage().presigned_url(activity.file_key, download_name=activity.file_name))


# --- announcements -------------------------------------------------------------------------------

@bp.route("/runs/<int:run_id>/announcements", methods=["POST"])
@login_required
def announce(run_id: int):
    run = get_or_404(CourseRun, run_id)
    require(perm.can_edit_content(current_user, run))
    form = AnnouncementForm()
    if form.validate_on_submit():
        ok, _a = submit(lambda: services.announce(run, title=form.title.data, body=form.body.data or "",
                                                  by=current_user))
        if ok:
            flash(_("The announcement is posted and sent to the learners by e-mail."), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("content.course", run_id=run.id))
