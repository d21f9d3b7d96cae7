"""The group at a glance: progress, hours and attestations of every learner, who is falling behind, the
attestation sheet of a module or of the final attestation, and completing learners with certificates."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from lms.accounts.models import User
from lms.core.errors import DomainError, ValidationError
from lms.core.forms import submit
from lms.core.loading import get_or_404
from lms.core.pagecache import VersionedCache, cached, page_key
from lms.core.permissions import require
from lms.courses import certificates, gradebook
from lms.courses import completion as services
from lms.courses import permissions as perm
from lms.courses.labels import course_labels
from lms.courses.models import ControlForm, CourseRun, CurriculumModule, GradeChange, GradeItem
from lms.extensions import db

bp = Blueprint("completion", __name__)


@bp.context_processor
def _labels():
    return course_labels()


def _modules(run: CourseRun) -> list[CurriculumModule]:
    return [m for m in run.programme.modules if m.control_form != ControlForm.NONE]


def group_arg(run: CourseRun) -> int | None:
    """The ``group`` of the request's query when it is one of the run's groups (None: everyone)."""
    group_id = request.args.get("group", type=int)
    return group_id if group_id in {g.id for g in run.groups} else None


def _page(run: CourseRun, *, errors: dict | None = None, status: int = 200):
    group_id = group_arg(run)
    states = services.group_state(run, group_id=group_id)
    return render_template("completion/group.html", run=run, states=states, modules=_modules(run), group_id=group_id,
                           statement_candidates=services.statement_candidates(run),
                           can_certify=perm.can_manage_run(current_user, run),
                           results=services.result_choices(run), errors=errors or {},
                           today=date.today().isoformat(), issued=services.completed_count(run)), status


@bp.route("/runs/<int:run_id>/group")
@login_required
def group(run_id: int):
    run = get_or_404(CourseRun, run_id)
    require(perm.can_enrol_others(current_user, run))
    return _page(run)


def _parse_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        return None


@bp.route("/runs/<int:run_id>/attestation", methods=["POST"])
@login_required
def record(run_id: int):
    """One sheet: the same date and examiners, a result per learner (an empty choice changes nothing).
    Every row is checked before any is written."""
    run = get_or_404(CourseRun, run_id)
    require(perm.can_enrol_others(current_user, run))
    target = request.form.get("module") or "final"
    module = None
    if target != "final":
        module = next((m for m in _modules(run) if str(m.id) == target), None)
        if module is None:
            return _page(run, errors={"module": _("Choose one of the options.")}, status=422)
    held_on = _parse_day(request.form.get("held_on"))
    if held_on is None:
        return _page(run, errors={"held_on": _("A date is expected, e.g. 01.09.2026.")}, status=422)
    states = {str(s.enrolment.user_id): s for s in services.group_state(run)}
    rows = [(states[key[7:]], value) for key, value in request.form.items()
            if key.startswith("result-") and value and key[7:] in states]
    if not rows:
        return _page(run, errors={"sheet": _("Choose a result for at least one learner.")}, status=422)

    def action():
        for state, result in rows:
            try:
                services.record_attestation(run, state.enrolment.user, module=module, held_on=held_on, result=result,
                                            examiners=request.form.get("examiners", ""), by=current_user)
            except ValidationError as exc:
                raise ValidationError(f"{state.enrolment.user.full_name}: {exc.message}", field="sheet") from exc
        return len(rows)

    ok, count = submit(action)
    if ok:
        flash(_("Results recorded: %(n)d.", n=count), "success")
    return redirect(url_for("completion.group", run_id=run.id))


@bp.route("/runs/<int:run_id>/certify", methods=["POST"])
@login_required
def certify(run_id: int):
    run = get_or_404(CourseRun, run_id)
    require(perm.can_manage_run(current_user, run))
    user_ids = [int(v) for v in request.form.getlist("learners") if v.isdecimal()]
    issued_on = _parse_day(request.form.get("issued_on")) or date.today()
    ok, issued = submit(lambda: services.complete_and_certify(run, user_ids, by=current_user, issued_on=issued_on))
    if ok:
        flash(_("Completed and certified: %(n)d.", n=len(issued)), "success")
        try:  # PDFs after the numbers are committed: the numbering lock is not held meanwhile
            for cert in issued:
                certificates.store_pdf(cert)
            db.session.commit()
        except DomainError as exc:  # e.g. no Pango here: each PDF is made on its first download instead
            db.session.rollback()
            flash(exc.message, "warning")
    return redirect(url_for("completion.group", run_id=run.id))


@bp.route("/runs/<int:run_id>/statements", methods=["POST"])
@login_required
def statements(run_id: int):
    run = get_or_404(CourseRun, run_id)
    require(perm.can_manage_run(current_user, run))
    user_ids = [int(v) for v in request.form.getlist("learners") if v.isdecimal()]
    ok, issued = submit(lambda: services.issue_statements(run, user_ids, by=current_user,
                                                          issued_on=_parse_day(request.form.get("issued_on"))))
    if ok:
        flash(_("Statements of study issued: %(n)d.", n=len(issued)), "success")
    return redirect(url_for("completion.group", run_id=run.id))


# --- gradebook -----------------------------------------------------------------------------------

GRADEBOOK_PER_PAGE = 100


def _sheet(run: CourseRun, user_ids: list[int] | None = None, page: int | None = None,
           group_id: int | None = None) -> gradebook.Sheet:
    """Keep the items the course gained first: committing after the sheet is read would expire every
    learner loaded for it, and reading their names would then cost a query per row."""
    gradebook.ensure_items(run)
    db.session.commit()
    return gradebook.sheet(run, user_ids=user_ids, page=page, per_page=GRADEBOOK_PER_PAGE, group_id=group_id)


#: Rendered gradebook pages, per session, run revisions and page (~50–150 KB each).
_gradebook_pages = VersionedCache(size=500, max_chars=64 * 1024 * 1024)


@bp.route("/runs/<int:run_id>/gradebook")
@login_required
def gradebook_view(run_id: int):
    access = perm.run_access_or_404(current_user, run_id)
    require(access.enrols_others)
    run = access.run
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    group_id = group_arg(run)
    # The sheet shows the run's items (content) and every learner's grades and names (learners).
    key = page_key("gradebook", run.id, run.created_at, run.content_rev, run.learners_rev, page, group_id)
    return cached(_gradebook_pages, key, lambda: _gradebook_page(run, page, group_id))


def _gradebook_page(run: CourseRun, page: int, group_id: int | None) -> str:
    data = _sheet(run, page=page, group_id=group_id)
    pages = max((data.total + GRADEBOOK_PER_PAGE - 1) // GRADEBOOK_PER_PAGE, 1)
    return render_template("completion/gradebook.html", run=run, data=data, aggregations=gradebook.AGGREGATIONS,
                           group_id=group_id,
                           pager=SimpleNamespace(page=min(page, pages), pages=pages, has_prev=page > 1,
                                                 has_next=page < pages, prev_num=page - 1, next_num=page + 1))


@bp.route("/runs/<int:run_id>/gradebook.<fmt>")
@login_required
def gradebook_export(run_id: int, fmt: str):
    run = get_or_404(CourseRun, run_id)
    require(perm.can_enrol_others(current_user, run))
    if fmt not in ("csv", "xlsx"):
        abort(404)
    data = _sheet(run, group_id=group_arg(run))
    body = gradebook.to_csv(data) if fmt == "csv" else gradebook.to_xlsx(data)
    mimetype = "text/csv; charset=utf-8" if fmt == "csv" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="grades-run-{run.id}.{fmt}"'})


@bp.route("/runs/<int:run_id>/gradebook/override", methods=["POST"])
@login_required
def override(run_id: int):
    run = get_or_404(CourseRun, run_id)
    require(perm.can_enrol_others(current_user, run))
    item = db.session.get(GradeItem, request.form.get("item", type=int) or 0)
    learner = db.session.get(User, request.form.get("user", type=int) or 0)
    enrolled = learner is not None and perm.is_learner(learner, run)
    if item is None or item.run_id != run.id or not enrolled:
        flash(_("Choose one of the options."), "error")
    else:
        ok, _o = submit(lambda: gradebook.override(item, learner, points=request.form.get("points"),
                                                   reason=request.form.get("reason", ""), by=current_user))
        if ok:
            flash(_("Grade changed."), "success")
    return redirect(url_for("completion.gradebook_view", run_id=run.id))


@bp.route("/runs/<int:run_id>/gradebook/categories", methods=["POST"])
@login_required
def add_category(run_id: int):
    run = get_or_404(CourseRun, run_id)
    require(perm.can_edit_content(current_user, run))
    ok, _c = submit(lambda: gradebook.set_category(run, name=request.form.get("name", ""),
                                                   aggregation=request.form.get("aggregation", "mean"),
                                                   weight=request.form.get("weight", "1"), by=current_user))
    if ok:
        flash(_("Category saved."), "success")
    return redirect(url_for("completion.gradebook_view", run_id=run.id))


@bp.route("/grade-items/<int:item_id>/place", methods=["POST"])
@login_required
def place_item(item_id: int):
    item = get_or_404(GradeItem, item_id)
    run = db.session.get(CourseRun, item.run_id)
    require(perm.can_edit_content(current_user, run))
    category = request.form.get("category", type=int)
    ok, _r = submit(lambda: gradebook.place_item(item, category_id=category, weight=request.form.get("weight", "1"),
                                                 by=current_user))
    if ok:
        flash(_("Saved."), "success")
    return redirect(url_for("completion.gradebook_view", run_id=run.id))


@bp.route("/runs/<int:run_id>/gradebook/history")
@login_required
def history(run_id: int):
    run = get_or_404(CourseRun, run_id)
    user_id = request.args.get("user", type=int)
    own = user_id is None or user_id == current_user.id
    require(perm.can_enrol_others(current_user, run) or (own and perm.is_learner(current_user, run)))
    stmt = select(GradeChange).where(GradeChange.run_id == run.id).order_by(GradeChange.at.desc()).limit(500)
    if not perm.can_enrol_others(current_user, run):
        stmt = stmt.where(GradeChange.user_id == current_user.id)
    elif user_id is not None:
        stmt = stmt.where(GradeChange.user_id == user_id)
    changes = db.session.scalars(stmt).all()
    names = {u.id: u.full_name for u in db.session.scalars(select(User).where(User.id.in_({c.user_id for c in changes})))}
    return render_template("completion/history.html", run=run, changes=changes, names=names)


@bp.route("/runs/<int:run_id>/grades")
@login_required
def my_grades(run_id: int):
    run = get_or_404(CourseRun, run_id)
    require(perm.is_learner(current_user, run))
    data = _sheet(run, user_ids=[current_user.id])
    return render_template("completion/my_grades.html", run=run, data=data, row=data.rows[0] if data.rows else None)
