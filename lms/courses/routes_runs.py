"""Course run pages: the network's catalogue, opening and editing a run, its staff and groups, enrolment
(manual, a class or organization, a CSV file, requests with approval, an enrolment key), and «my courses».
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import contains_eager, selectinload
from wtforms.fields import SelectChoice

from lms.accounts.models import User
from lms.accounts.services import find_by_login
from lms.core.forms import flash_form_errors, form_status, select_choices, submit
from lms.core.loading import get_or_404
from lms.core.permissions import require
from lms.courses import permissions as perm
from lms.courses import runs as services
from lms.courses.forms import (
    EnrolCohortForm,
    EnrolCsvForm,
    EnrolPersonForm,
    GroupForm,
    RequestEnrolmentForm,
    RunForm,
    StaffForm,
)
from lms.courses.labels import AUDIENCE_LABELS, PROGRAMME_KIND_LABELS, course_labels
from lms.courses.models import (
    ENDED,
    HOLDS_PLACE,
    CourseRun,
    Enrolment,
    EnrolmentStatus,
    Programme,
    RunStaff,
)
from lms.extensions import db
from lms.orgs.models import Organization

bp = Blueprint("runs", __name__)

PER_PAGE = 30


@bp.context_processor
def _labels():
    return course_labels()


# --- catalogue -----------------------------------------------------------------------------------

@bp.route("/catalogue")
@login_required
def catalogue():
    require(current_user.is_authenticated)
    kind = request.args.get("kind") or ""
    audience = request.args.get("audience") or ""
    org_id = request.args.get("org", type=int)
    subject = " ".join((request.args.get("subject") or "").split())
    q = " ".join((request.args.get("q") or "").split())
    free_only = request.args.get("free") == "1"
    starts_from = _parse_date(request.args.get("from"))
    conditions = [CourseRun.is_published.is_(True), CourseRun.cancelled_at.is_(None),
                  CourseRun.ends_on >= (starts_from or date.today())]
    if starts_from:
        conditions.append(CourseRun.starts_on >= starts_from)
    if kind in PROGRAMME_KIND_LABELS:
        conditions.append(Programme.kind == kind)
    if audience in AUDIENCE_LABELS:
        conditions.append(Programme.audience == audience)
    if org_id is not None:
        conditions.append(CourseRun.host_organization_id == org_id)
    if subject:  # «%» and «_» typed by the user are searched for, not wildcards
        conditions.append(func.lower(Programme.subject).contains(subject.lower(), autoescape=True))
    if q:
        conditions.append(or_(func.lower(Programme.title).contains(q.lower(), autoescape=True),
                              func.lower(CourseRun.name).contains(q.lower(), autoescape=True)))
    stmt = (select(CourseRun).join(Programme, Programme.id == CourseRun.programme_id).where(*conditions)
            .order_by(CourseRun.starts_on, CourseRun.id))
    if free_only:
        taken = (select(func.count(Enrolment.id)).where(Enrolment.run_id == CourseRun.id,
                                                       Enrolment.status.in_(sorted(HOLDS_PLACE)))
                 .scalar_subquery())
        stmt = stmt.where(or_(CourseRun.capacity.is_(None), CourseRun.capacity > taken))
    page = db.paginate(stmt, per_page=PER_PAGE, error_out=False)
    taken = services.taken_by_run([r.id for r in page.items])
    mine = dict(db.session.execute(select(Enrolment.run_id, Enrolment.status).where(
        Enrolment.user_id == current_user.id, Enrolment.run_id.in_([r.id for r in page.items]))).all())
    hosts = db.session.scalars(select(Organization).where(Organization.id.in_(
        select(CourseRun.host_organization_id).where(CourseRun.is_published.is_(True))))
        .order_by(Organization.short_name)).all()
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("runs/catalogue.html", page=page, taken=taken, mine=mine, hosts=hosts, kind=kind,
                           audience=audience, org_id=org_id, subject=subject, q=q, free_only=free_only,
                           starts_from=request.args.get("from") or "", args=args)


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@bp.route("/my/courses")
@login_required
def my_courses():
    require(current_user.is_authenticated)
    enrolments = db.session.scalars(select(Enrolment).join(CourseRun, CourseRun.id == Enrolment.run_id)
                                    .where(Enrolment.user_id == current_user.id)
                                    .order_by(CourseRun.starts_on.desc())).all()
    teaching = db.session.scalars(select(CourseRun).join(RunStaff, RunStaff.run_id == CourseRun.id)
                                  .where(RunStaff.user_id == current_user.id)
                                  .order_by(CourseRun.starts_on.desc())).all()
    return render_template("runs/mine.html", enrolments=enrolments, teaching=teaching)


# --- open and edit -------------------------------------------------------------------------------

@bp.route("/programmes/<int:programme_id>/runs/new", methods=["GET", "POST"])
@login_required
def open_run(programme_id: int):
    programme = get_or_404(Programme, programme_id)
    require(perm.can_open_run(current_user, programme))
    hosts = perm.run_host_orgs(current_user)
    form = RunForm()
    form.host.choices = select_choices((o.id, o.short_name) for o in hosts)
    candidates = services.teacher_candidates([o.id for o in hosts])
    form.teachers.choices = select_choices(candidates)
    templates = list(db.session.scalars(select(CourseRun).join(Programme, Programme.id == CourseRun.programme_id)
                                        .where(CourseRun.is_template.is_(True),
                                               Programme.lineage_id == programme.lineage_id)
                                        .order_by(CourseRun.starts_on.desc())))
    form.template.choices = select_choices([("", _("None: empty sections"))]
                                           + [(str(t.id), t.name) for t in templates])
    if request.method == "GET":
        form.template.data = str(templates[0].id) if templates else ""
        form.name.data = _("Run %(n)d", n=1 + (db.session.scalar(select(func.count(CourseRun.id)).where(
            CourseRun.programme_id == programme.id)) or 0))
        if programme.owner_organization_id in {o.id for o in hosts}:
            form.host.data = programme.owner_organization_id
    if form.validate_on_submit():
        host = next((o for o in hosts if o.id == form.host.data), None)
        teacher_ids = set(form.teachers.data or [])
        teachers = [u for u in db.session.scalars(select(User).where(User.id.in_(teacher_ids)))
                    if u.id in {i for i, _n in candidates}]
        if host is None:
            form.host.errors = [_("Choose one of the options.")]
        else:
            template = next((t for t in templates if str(t.id) == form.template.data), None)
            ok, run = submit(lambda: services.open_run(programme, host, by=current_user, teachers=teachers,
                                                       groups=(form.groups.data or "").split(","),
                                                       template=template, **form.run_data()),
                             form=form, field="name")
            if ok:
                flash(_("The run is open. Now enrol the learners."), "success")
                return redirect(url_for("runs.enrolments", run_id=run.id))
    return render_template("runs/form.html", form=form, programme=programme, run=None), form_status(form)


@bp.route("/runs/<int:run_id>/edit", methods=["GET", "POST"])
@login_required
def edit_run(run_id: int):
    run = get_or_404(CourseRun, run_id)
    require(perm.can_manage_run(current_user, run))
    form = RunForm(obj=run if request.method == "GET" else None)
    del form.host, form.teachers, form.groups, form.template
    if request.method == "GET":
        form.starts_on.data, form.ends_on.data = run.starts_on.isoformat(), run.ends_on.isoformat()
        form.capacity.data = "" if run.capacity is None else str(run.capacity)
    if form.validate_on_submit():
        ok, changed = submit(lambda: services.update_run(run, by=current_user, **form.run_data()), form=form,
                             field="name")
        if ok:
            flash(_("Saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("runs.view_run", run_id=run.id))
    return render_template("runs/form.html", form=form, programme=run.programme, run=run), form_status(form)


# --- the run -------------------------------------------------------------------------------------

@bp.route("/runs/<int:run_id>")
@login_required
def view_run(run_id: int):
    run = get_or_404(CourseRun, run_id)
    require(perm.can_view_run(current_user, run))
    return _run_page(run)


def _run_page(run: CourseRun, request_form: RequestEnrolmentForm | None = None, status: int = 200):
    """The run's page; ``request_form`` is the learner's request coming back with an error (422)."""
    mine = db.session.scalar(select(Enrolment).where(Enrolment.run_id == run.id,
                                                     Enrolment.user_id == current_user.id))
    if request_form is None and perm.can_request_enrolment(current_user, run) and (
            mine is None or mine.status in ENDED):
        request_form = RequestEnrolmentForm(formdata=None)
    return render_template("runs/view.html", run=run, mine=mine, request_form=request_form,
                           taken=services.places_taken(run), free=services.free_places(run),
                           can_manage=perm.can_manage_run(current_user, run),
                           can_enrol=perm.can_enrol_others(current_user, run),
                           staff_form=StaffForm(formdata=None), group_form=GroupForm(formdata=None),
                           can_open_course=perm.can_view_content(current_user, run)), status


@bp.route("/runs/<int:run_id>/staff", methods=["POST"])
@login_required
def add_staff(run_id: int):
    run = get_or_404(CourseRun, run_id)
    require(perm.can_manage_run(current_user, run))
    form = StaffForm()
    if form.validate_on_submit():
        person = find_by_login(form.person.data or "")
        if person is None or not person.is_active:
            flash(_("No active person with this login or e-mail."), "error")
        else:
            ok, _row = submit(lambda: services.add_staff(run, person, form.role.data, by=current_user))
            if ok:
                flash(_("%(name)s was added to the run's staff.", name=person.full_name), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("runs.view_run", run_id=run.id))


@bp.route("/runs/<int:run_id>/groups", methods=["POST"])
@login_required
def add_group(run_id: int):
    run = get_or_404(CourseRun, run_id)
    require(perm.can_manage_run(current_user, run))
    form = GroupForm()
    if form.validate_on_submit():
        ok, _g = submit(lambda: services.add_group(run, form.name.data or "", by=current_user))
        if ok:
            flash(_("Group added."), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("runs.view_run", run_id=run.id))


# --- enrolment -----------------------------------------------------------------------------------

def _group_choices(run: CourseRun) -> list[SelectChoice]:
    return select_choices([("", _("No group"))] + [(str(g.id), g.name) for g in run.groups])


def _group_id(value: str | None) -> int | None:
    return int(value) if (value or "").isdecimal() else None


def _cohort_orgs(run: CourseRun) -> list[Organization]:
    """The host, and for a network run every active organization of its municipality."""
    if not run.is_network:
        return [run.host_organization]
    return list(db.session.scalars(select(Organization).where(
        Organization.municipality_id == run.host_organization.municipality_id, Organization.is_active.is_(True))
        .order_by(Organization.short_name)))


def _enrolment_forms(run: CourseRun, formdata=None):
    person = EnrolPersonForm(formdata=formdata, prefix="person")
    cohort = EnrolCohortForm(formdata=formdata, prefix="cohort")
    upload = EnrolCsvForm(formdata=formdata, prefix="csv")
    person.group.choices = cohort.group.choices = _group_choices(run)
    cohort.organization.choices = select_choices((o.id, o.short_name) for o in _cohort_orgs(run))
    return person, cohort, upload


ENROLMENTS_PER_PAGE = 100


def _enrolments_page(run: CourseRun, person, cohort, upload, *, bulk=None, status: int = 200):
    """Requests first, then the waiting list, then the learners; a page at a time, each row's person and
    group read with the page (no query per row)."""
    order = case({"requested": 0, "waitlisted": 1, "active": 2, "completed": 3}, value=Enrolment.status, else_=4)
    stmt = (select(Enrolment).join(User, User.id == Enrolment.user_id)
            .options(contains_eager(Enrolment.user), selectinload(Enrolment.group))
            .where(Enrolment.run_id == run.id).order_by(order, User.surname, User.name, User.id))
    page = db.paginate(stmt, per_page=ENROLMENTS_PER_PAGE, error_out=False)
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("runs/enrolments.html", run=run, rows=page.items, page=page, args=args,
                           person_form=person, cohort_form=cohort, csv_form=upload, bulk=bulk,
                           taken=services.places_taken(run), free=services.free_places(run)), status


@bp.route("/runs/<int:run_id>/enrolments")
@login_required
def enrolments(run_id: int):
    run = get_or_404(CourseRun, run_id)
    require(perm.can_enrol_others(current_user, run))
    return _enrolments_page(run, *_enrolment_forms(run))


@bp.route("/runs/<int:run_id>/enrol", methods=["POST"])
@login_required
def enrol_person(run_id: int):
    run = get_or_404(CourseRun, run_id)
    require(perm.can_enrol_others(current_user, run))
    person_form, cohort_form, csv_form = _enrolment_forms(run, request.form)
    if person_form.validate_on_submit():
        person = find_by_login(person_form.person.data or "")
        if person is None:
            person_form.person.errors = [_("No person with this login or e-mail.")]
        else:
            ok, enrolment = submit(lambda: services.enrol(run, person, by=current_user,
                                                          group_id=_group_id(person_form.group.data)),
                                   form=person_form, field="person", aliases={"user": "person"})
            if ok:
                flash(_("%(name)s is enrolled.", name=person.full_name) if enrolment.status == "active"
                      else _("The run is full: %(name)s is on the waiting list.", name=person.full_name), "success")
                return redirect(url_for("runs.enrolments", run_id=run.id))
    return _enrolments_page(run, person_form, cohort_form, csv_form, status=422)


@bp.route("/runs/<int:run_id>/enrol/cohort", methods=["POST"])
@login_required
def enrol_cohort(run_id: int):
    run = get_or_404(CourseRun, run_id)
    require(perm.can_enrol_others(current_user, run))
    person_form, form, csv_form = _enrolment_forms(run, request.form)
    if form.validate_on_submit():
        org = next((o for o in _cohort_orgs(run) if o.id == form.organization.data), None)
        grade = (form.grade.data or "").strip()
        if org is None:
            form.organization.errors = [_("Choose one of the options.")]
        elif grade and (not grade.isdecimal() or not 1 <= int(grade) <= 11):
            form.grade.errors = [_("From %(low)d to %(high)d.", low=1, high=11)]
        else:
            ok, result = submit(lambda: services.enrol_cohort(
                run, org, role=form.role.data, by=current_user, grade=int(grade) if grade else None,
                class_letter=(form.class_letter.data or "").strip().upper() or None,
                group_id=_group_id(form.group.data)), form=form, field="grade")
            if ok:
                flash(_("Enrolled: %(n)d, of them on the waiting list: %(w)d; already in the run: %(s)d.",
                        n=len(result.enrolled), w=result.waitlisted, s=len(result.skipped)), "success")
                return redirect(url_for("runs.enrolments", run_id=run.id))
    return _enrolments_page(run, person_form, form, csv_form, status=422)


@bp.route("/runs/<int:run_id>/enrol/csv", methods=["POST"])
@login_required
def enrol_csv(run_id: int):
    run = get_or_404(CourseRun, run_id)
    require(perm.can_enrol_others(current_user, run))
    person_form, cohort_form, form = _enrolment_forms(run, request.form)
    upload = request.files.get("csv-file")
    if form.validate_on_submit():
        if upload is None or not upload.filename:
            form.file.errors = [_("Choose a file.")]
        else:
            data = upload.read(services.MAX_CSV_BYTES + 1)
            dry_run = bool(form.dry_run.data)
            ok, result = submit(lambda: services.enrol_from_csv(run, data, by=current_user, dry_run=dry_run),
                                form=form, field="file")
            if ok and not dry_run:
                flash(_("Enrolled: %(n)d, of them on the waiting list: %(w)d; already in the run: %(s)d.",
                        n=len(result.enrolled), w=result.waitlisted, s=len(result.skipped)), "success")
                return redirect(url_for("runs.enrolments", run_id=run.id))
            if ok:  # a dry run: show what would happen, with every bad line
                return _enrolments_page(run, person_form, cohort_form, form, bulk=result,
                                        status=200 if not result.errors else 422)
            # the real run refused: list the lines again
            try:
                _found, result = services.parse_enrolment_csv(run, data)
            except Exception:  # noqa: BLE001 - the file-level error is already on the form
                result = None
            return _enrolments_page(run, person_form, cohort_form, form, bulk=result, status=422)
    return _enrolments_page(run, person_form, cohort_form, form, status=422)


@bp.route("/runs/<int:run_id>/request", methods=["POST"])
@login_required
def request_enrolment(run_id: int):
    run = get_or_404(CourseRun, run_id)
    require(perm.can_request_enrolment(current_user, run))
    mine = db.session.scalar(select(Enrolment.status).where(Enrolment.run_id == run.id,
                                                            Enrolment.user_id == current_user.id))
    if mine is not None and mine not in ENDED:  # sent twice, or the page reloaded: nothing to do again
        flash(_("You have already asked to enrol in this run."), "info")
        return redirect(url_for("runs.view_run", run_id=run.id))
    form = RequestEnrolmentForm()
    if form.validate_on_submit():
        ok, enrolment = submit(lambda: services.request_enrolment(run, current_user, key=form.key.data or "",
                                                                  note=form.note.data or ""),
                               form=form, field="key", aliases={"user": "key"})
        if ok:
            flash({EnrolmentStatus.ACTIVE: _("You are enrolled."),
                   EnrolmentStatus.WAITLISTED: _("The run is full: you are on the waiting list."),
                   }.get(enrolment.status, _("Your request was sent. You will get an answer by e-mail.")), "success")
            return redirect(url_for("runs.view_run", run_id=run.id))
    return _run_page(run, form, 422)


def _decision(enrolment_id: int, approve: bool):
    enrolment = get_or_404(Enrolment, enrolment_id)
    require(perm.can_enrol_others(current_user, enrolment.run))
    ok, _e = submit(lambda: services.decide(enrolment, approve=approve, by=current_user))
    if ok:
        flash(_("Request approved.") if approve else _("Request rejected."), "success")
    return redirect(url_for("runs.enrolments", run_id=enrolment.run_id))


@bp.route("/enrolments/<int:enrolment_id>/approve", methods=["POST"])
@login_required
def approve_enrolment(enrolment_id: int):
    return _decision(enrolment_id, True)


@bp.route("/enrolments/<int:enrolment_id>/reject", methods=["POST"])
@login_required
def reject_enrolment(enrolment_id: int):
    return _decision(enrolment_id, False)


@bp.route("/enrolments/<int:enrolment_id>/withdraw", methods=["POST"])
@login_required
def withdraw_enrolment(enrolment_id: int):
    enrolment = get_or_404(Enrolment, enrolment_id)
    require(perm.can_leave(current_user, enrolment))
    own = enrolment.user_id == current_user.id
    ok, _p = submit(lambda: services.withdraw(enrolment, by=current_user))
    if ok:
        flash(_("You left the run.") if own else _("%(name)s was removed from the run.",
                                                    name=enrolment.user.full_name), "success")
    if own and not perm.can_enrol_others(current_user, enrolment.run):
        return redirect(url_for("runs.view_run", run_id=enrolment.run_id))
    return redirect(url_for("runs.enrolments", run_id=enrolment.run_id))

