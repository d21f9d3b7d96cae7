"""Programme (ДПП) pages: the list, the card with its учебный план, editing of the fields and the
curriculum, review, publication, versions and the printable plan.

Views: load the object (404) → one permission check → validate → call a service → commit once →
redirect with a message, or show the form again (422) with each error on its field.
"""

from __future__ import annotations

from types import SimpleNamespace

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select

from lms.core.forms import form_status, select_choices, submit
from lms.core.loading import get_or_404
from lms.core.pdf import render_pdf
from lms.core.permissions import require
from lms.courses import permissions as perm
from lms.courses import programmes as services
from lms.courses.forms import CurriculumForm, ProgrammeForm, ReviewForm, SubmitForReviewForm
from lms.courses.labels import PROGRAMME_KIND_LABELS, PROGRAMME_STATUS_LABELS, course_labels
from lms.courses.models import CourseRun, Programme
from lms.extensions import db
from lms.orgs.models import Organization

bp = Blueprint("programmes", __name__)

PER_PAGE = 50
#: Blank rows offered under the curriculum, and the most rows a form may carry.
BLANK_ROWS = 3
MAX_ROWS = 60


@bp.context_processor
def _labels():
    return course_labels()


# --- list ----------------------------------------------------------------------------------------

@bp.route("/programmes")
@login_required
def list_programmes():
    require(current_user.is_authenticated)
    status = request.args.get("status") or ""
    kind = request.args.get("kind") or ""
    org_id = request.args.get("org", type=int)
    q = " ".join((request.args.get("q") or "").split())
    conditions = []
    visible = perm.visible_programmes_condition(current_user)
    if visible is not None:
        conditions.append(visible)
    if status in PROGRAMME_STATUS_LABELS:
        conditions.append(Programme.status == status)
    if kind in PROGRAMME_KIND_LABELS:
        conditions.append(Programme.kind == kind)
    if org_id is not None:
        conditions.append(Programme.owner_organization_id == org_id)
    if q:  # «%» and «_» typed by the user are searched for, not wildcards
        needle = q.lower()
        conditions.append(or_(func.lower(Programme.title).contains(needle, autoescape=True),
                              func.lower(Programme.subject).contains(needle, autoescape=True)))
    stmt = (select(Programme).where(*conditions)
            .order_by(Programme.title, Programme.lineage_id, Programme.version.desc()))
    page = db.paginate(stmt, per_page=PER_PAGE, error_out=False)
    # The organization filter offers every owner of a programme the user may see, whatever else is filtered.
    owners = select(Programme.owner_organization_id)
    if visible is not None:
        owners = owners.where(visible)
    orgs = db.session.scalars(select(Organization).where(Organization.id.in_(owners))
                              .order_by(Organization.short_name)).all()
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("programmes/list.html", page=page, status=status, kind=kind, org_id=org_id, q=q,
                           orgs=orgs, args=args, can_create=perm.can_create_programme(current_user))


# --- create and edit -----------------------------------------------------------------------------

@bp.route("/programmes/new", methods=["GET", "POST"])
@login_required
def new_programme():
    require(perm.can_create_programme(current_user))
    orgs = perm.programme_orgs(current_user)
    form = ProgrammeForm()
    form.organization.choices = select_choices((o.id, o.short_name) for o in orgs)
    if request.method == "GET":
        form.fill(Programme(kind="pd", audience="teachers", final_attestation_form="test", result_scale="pass_fail",
                            academic_hour_minutes=orgs[0].academic_hour_minutes if orgs else 45,
                            variable_hours=0, final_attestation_hours=0, total_hours=None))
    if form.validate_on_submit():
        org = next((o for o in orgs if o.id == form.organization.data), None)
        if org is None:
            form.organization.errors = [_("Choose one of the options.")]
        else:
            ok, programme = submit(lambda: services.create_programme(org, by=current_user, **form.programme_data()),
                                   form=form, field="title")
            if ok:
                flash(_("Programme created. Now fill in its curriculum."), "success")
                return redirect(url_for("programmes.edit_curriculum", programme_id=programme.id))
    return render_template("programmes/form.html", form=form, programme=None), form_status(form)


@bp.route("/programmes/<int:programme_id>/edit", methods=["GET", "POST"])
@login_required
def edit_programme(programme_id: int):
    programme = get_or_404(Programme, programme_id)
    require(perm.can_edit_programme(current_user, programme))
    form = ProgrammeForm()
    del form.organization
    if request.method == "GET":
        form.fill(programme)
    if form.validate_on_submit():
        ok, changed = submit(lambda: services.update_programme(programme, by=current_user, **form.programme_data()),
                             form=form, field="title")
        if ok:
            flash(_("Saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("programmes.view_programme", programme_id=programme.id))
    return render_template("programmes/form.html", form=form, programme=programme), form_status(form)


@bp.route("/programmes/<int:programme_id>/curriculum", methods=["GET", "POST"])
@login_required
def edit_curriculum(programme_id: int):
    programme = get_or_404(Programme, programme_id)
    require(perm.can_edit_programme(current_user, programme))
    form = CurriculumForm()
    form.modules.max_entries = MAX_ROWS
    if request.method == "GET":
        _fill_curriculum(form, programme)
    elif form.validate_on_submit():
        if "add_rows" in request.form:  # «More rows» works without JavaScript: the same form, longer
            for _i in range(min(BLANK_ROWS, MAX_ROWS - len(form.modules))):
                form.modules.append_entry()
            return render_template("programmes/curriculum.html", form=form, programme=programme, problems=[])
        ok, _r = submit(lambda: services.set_curriculum(programme, form.rows(), by=current_user),
                        form=_RowErrors(form), field="summary")
        if ok:
            problems = services.hours_problems(programme)
            if problems:
                flash(_("Curriculum saved, but the hours do not add up yet."), "warning")
            else:
                flash(_("Curriculum saved."), "success")
            return redirect(url_for("programmes.view_programme", programme_id=programme.id))
    return render_template("programmes/curriculum.html", form=form, programme=programme,
                           problems=services.hours_problems(programme)), form_status(form)


class _RowErrors:
    """Lets ``submit`` put a service error keyed ``modules-<row>-<field>`` on that row's input; other
    messages go to the form's summary."""

    def __init__(self, form: CurriculumForm):
        self._form = form
        self.summary = SimpleNamespace(errors=form.form_errors)

    def __getattr__(self, name: str):
        parts = name.split("-")
        if len(parts) == 3 and parts[0] == "modules" and parts[1].isdecimal() and int(parts[1]) < len(self._form.modules):
            return self._form.modules[int(parts[1])].form._fields.get(parts[2])
        return None


def _fill_curriculum(form: CurriculumForm, programme: Programme) -> None:
    while len(form.modules):
        form.modules.pop_entry()
    for m in programme.modules:
        form.modules.append_entry({
            "title": m.title, "lecture_hours": str(m.lecture_hours), "practice_hours": str(m.practice_hours),
            "self_study_hours": str(m.self_study_hours), "internship_hours": str(m.internship_hours),
            "control_form": m.control_form, "is_optional": m.is_optional})
    for _i in range(BLANK_ROWS):
        form.modules.append_entry()


# --- the card ------------------------------------------------------------------------------------

@bp.route("/programmes/<int:programme_id>")
@login_required
def view_programme(programme_id: int):
    programme = get_or_404(Programme, programme_id)
    require(perm.can_view_programme(current_user, programme))
    review_form = _review_form(programme) if perm.can_review_programme(current_user, programme) else None
    return _card(programme, review_form)


def _review_form(programme: Programme, formdata=None) -> ReviewForm:
    form = ReviewForm(formdata=formdata)
    form.module.choices = select_choices([("", _("The programme as a whole"))] + [
        (str(m.id), f"{m.position}. {m.title}") for m in programme.modules])
    return form


def _card(programme: Programme, review_form: ReviewForm | None, status: int = 200):
    """The programme's card, also when a reviewer's form comes back with an error (422)."""
    return render_template(
        "programmes/view.html", programme=programme, summary=services.hours_summary(programme),
        problems=services.hours_problems(programme), versions=services.versions(programme),
        review_form=review_form,
        can_edit=perm.can_edit_programme(current_user, programme),
        can_submit=perm.can_submit_programme(current_user, programme),
        can_withdraw=perm.can_withdraw_programme(current_user, programme),
        can_publish=perm.can_publish_programme(current_user, programme),
        can_version=perm.can_version_programme(current_user, programme),
        open_version=services.open_version(programme) if programme.is_frozen else None,
        runs=_visible_runs(programme), can_open_run=perm.can_open_run(current_user, programme)), status


def _visible_runs(programme: Programme) -> list[CourseRun]:
    rows = db.session.scalars(select(CourseRun).where(CourseRun.programme_id == programme.id)
                              .order_by(CourseRun.starts_on.desc())).all()
    return [r for r in rows if perm.can_view_run(current_user, r)]


@bp.route("/programmes/<int:programme_id>/plan.pdf")
@login_required
def plan_pdf(programme_id: int):
    programme = get_or_404(Programme, programme_id)
    require(perm.can_view_programme(current_user, programme))
    html = render_template("programmes/plan_pdf.html", programme=programme,
                           summary=services.hours_summary(programme), **course_labels())
    pdf = render_pdf(html)
    filename = f"uchebnyi-plan-{programme.id}-v{programme.version}.pdf"
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


# --- review --------------------------------------------------------------------------------------

@bp.route("/programmes/<int:programme_id>/submit", methods=["GET", "POST"])
@login_required
def submit_programme(programme_id: int):
    programme = get_or_404(Programme, programme_id)
    require(perm.can_submit_programme(current_user, programme))
    candidates = services.reviewer_candidates(programme)
    form = SubmitForReviewForm()
    form.reviewers.choices = select_choices((u.id, f"{u.full_name} ({u.username})") for u in candidates)
    if form.validate_on_submit():
        ok, _r = submit(lambda: services.submit_for_review(
            programme, services.chosen_reviewers(programme, form.reviewers.data, form.expert.data, candidates=candidates),
            by=current_user, comment=form.comment.data or ""), form=form, field="reviewers")
        if ok:
            flash(_("The programme was sent for review."), "success")
            return redirect(url_for("programmes.view_programme", programme_id=programme.id))
    return render_template("programmes/submit.html", form=form, programme=programme,
                           problems=services.hours_problems(programme)), form_status(form)


@bp.route("/programmes/<int:programme_id>/review", methods=["POST"])
@login_required
def review_programme(programme_id: int):
    programme = get_or_404(Programme, programme_id)
    require(perm.can_review_programme(current_user, programme))
    form = _review_form(programme, request.form)
    if form.validate_on_submit():
        module_id = int(form.module.data) if (form.module.data or "").isdecimal() else None
        ok, _r = submit(lambda: services.review(programme, by=current_user, action=form.action.data,
                                                comment=form.comment.data or "", module_id=module_id),
                        form=form, field="comment")
        if ok:
            flash({"approve": _("Your approval is recorded."), "return": _("The programme was returned to the author."),
                   }.get(form.action.data, _("Comment added.")), "success")
            return redirect(url_for("programmes.view_programme", programme_id=programme.id))
    return _card(programme, form, form_status(form))


def _transition(programme_id: int, predicate, action, message: str):
    programme = get_or_404(Programme, programme_id)
    require(predicate(current_user, programme))
    ok, result = submit(lambda: action(programme, by=current_user))
    if ok:
        flash(message, "success")
        target = result if isinstance(result, Programme) else programme
        return redirect(url_for("programmes.view_programme", programme_id=target.id))
    return redirect(url_for("programmes.view_programme", programme_id=programme.id))


@bp.route("/programmes/<int:programme_id>/withdraw", methods=["POST"])
@login_required
def withdraw_programme(programme_id: int):
    return _transition(programme_id, perm.can_withdraw_programme, services.withdraw_from_review,
                       _("The programme was withdrawn from review and is a draft again."))


@bp.route("/programmes/<int:programme_id>/publish", methods=["POST"])
@login_required
def publish_programme(programme_id: int):
    return _transition(programme_id, perm.can_publish_programme, services.publish,
                       _("The programme is published in the catalogue."))


@bp.route("/programmes/<int:programme_id>/archive", methods=["POST"])
@login_required
def archive_programme(programme_id: int):
    return _transition(programme_id, perm.can_publish_programme, services.archive, _("The programme is archived."))


@bp.route("/programmes/<int:programme_id>/new-version", methods=["POST"])
@login_required
def new_version(programme_id: int):
    return _transition(programme_id, perm.can_version_programme, services.new_version,
                       _("A new version was created as a draft. The approved version stays as it was."))


@bp.route("/programmes/<int:programme_id>/delete", methods=["POST"])
@login_required
def delete_programme(programme_id: int):
    programme = get_or_404(Programme, programme_id)
    require(perm.can_edit_programme(current_user, programme))
    ok, _r = submit(lambda: services.delete_programme(programme, by=current_user))
    if ok:
        flash(_("The draft was deleted."), "success")
        return redirect(url_for("programmes.list_programmes"))
    return redirect(url_for("programmes.view_programme", programme_id=programme_id))


