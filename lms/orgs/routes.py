"""Organizations, their statuses per academic year, municipalities and academic years.

Views: load the object (404) → one permission check → validate the form → call a service →
commit once → redirect with a message, or show the form again (422) with the error on its field.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager
from wtforms.fields import SelectChoice

from lms.accounts.models import User
from lms.accounts.permissions import can_view_person
from lms.core.forms import form_status, select_choices, submit
from lms.core.i18n import time_zone_choices
from lms.core.loading import get_or_404, get_or_none
from lms.core.permissions import require
from lms.extensions import db
from lms.labels import ORG_KIND_LABELS, ROLE_LABELS
from lms.orgs import services
from lms.orgs.forms import (
    AcademicYearForm,
    EditOrganizationForm,
    MunicipalityForm,
    NewOrganizationForm,
    OrgStatusForm,
)
from lms.orgs.models import (
    AcademicYear,
    Membership,
    Municipality,
    Organization,
    OrganizationStatus,
    Role,
)
from lms.orgs.permissions import (
    can_create_org,
    can_list_org_people,
    can_list_orgs,
    can_manage_academic_years,
    can_manage_municipalities,
    can_manage_org,
    can_set_org_status,
    can_view_org,
    forget_scope,
    scope_of,
)

bp = Blueprint("orgs", __name__)

ORGS_PER_PAGE = 100


# --- list ----------------------------------------------------------------------------------------

def _fold(text: str) -> str:
    return (text or "").casefold().replace("ё", "е")


def _search_ids(conditions: list, q: str) -> list[int]:
    """Ids of organizations whose name, short name, code or INN contain ``q``, ignoring case.

    Done in Python: SQLite's lower() and LIKE fold only Latin letters, and these names are Cyrillic.
    A region has a few hundred organizations, so this reads a few hundred short rows at most.
    """
    needle = _fold(q)
    rows = db.session.execute(select(Organization.id, Organization.name, Organization.short_name,
                                     Organization.code, Organization.inn).where(*conditions))
    return [row.id for row in rows
            if needle in _fold(" ".join((row.name, row.short_name, row.code, row.inn or "")))]


def _current_statuses(org_ids: list[int], year: AcademicYear | None) -> dict[int, list[str]]:
    if year is None or not org_ids:
        return {}
    out: dict[int, list[str]] = {}
    rows = db.session.execute(select(OrganizationStatus.organization_id, OrganizationStatus.status).where(
        OrganizationStatus.organization_id.in_(org_ids), OrganizationStatus.academic_year_id == year.id)
        .order_by(OrganizationStatus.status))
    for org_id, status in rows:
        out.setdefault(org_id, []).append(status)
    return out


@bp.route("/orgs")
@login_required
def list_orgs():
    require(can_list_orgs(current_user))
    visible = scope_of(current_user).visible_org_ids()
    kind = request.args.get("kind") or ""
    municipality_id = request.args.get("municipality", type=int)
    q = (request.args.get("q") or "").strip()
    show_inactive = request.args.get("inactive") == "1"

    conditions = [] if visible is None else [Organization.id.in_(visible)]
    municipalities = list(db.session.scalars(
        select(Municipality).where(Municipality.id.in_(
            select(Organization.municipality_id).where(*conditions))).order_by(Municipality.name)))
    if kind in ORG_KIND_LABELS:
        conditions.append(Organization.kind == kind)
    if municipality_id is not None:
        conditions.append(Organization.municipality_id == municipality_id)
    if not show_inactive:
        conditions.append(Organization.is_active.is_(True))
    if q:
        conditions.append(Organization.id.in_(_search_ids(conditions, q)))
    stmt = (select(Organization).join(Organization.municipality).options(contains_eager(Organization.municipality))
            .where(*conditions).order_by(Municipality.name, Organization.short_name, Organization.id))
    page = db.paginate(stmt, per_page=ORGS_PER_PAGE, error_out=False)
    year = services.current_academic_year()
    statuses = _current_statuses([o.id for o in page.items], year)
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("orgs/list.html", page=page, statuses=statuses, year=year, kind=kind, q=q,
                           municipality_id=municipality_id, municipalities=municipalities,
                           show_inactive=show_inactive, args=args, can_create=can_create_org(current_user))


# --- one organization ----------------------------------------------------------------------------

def _people_counts(org: Organization) -> dict[str, int]:
    """Active people per role, counted the way the people list (which hides deactivated people) shows them."""
    rows = db.session.execute(
        select(Membership.role, func.count(Membership.id))
        .join(User, User.id == Membership.user_id)
        .where(Membership.organization_id == org.id, User.is_active.is_(True))
        .group_by(Membership.role))
    counts = dict.fromkeys(ROLE_LABELS, 0)
    counts.update({role: n for role, n in rows})
    return counts


def _administrators(org: Organization) -> list[User]:
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == org.id, Membership.role == Role.ORG_ADMIN,
               User.is_active.is_(True))
        .order_by(User.surname, User.name, User.id)))


def _statuses_by_year(org: Organization) -> list[tuple[AcademicYear, list[OrganizationStatus]]]:
    rows = db.session.scalars(
        select(OrganizationStatus).join(OrganizationStatus.academic_year)
        .options(contains_eager(OrganizationStatus.academic_year))
        .where(OrganizationStatus.organization_id == org.id)
        .order_by(AcademicYear.start_year.desc(), OrganizationStatus.status))
    grouped: dict[int, tuple[AcademicYear, list[OrganizationStatus]]] = {}
    for row in rows:
        grouped.setdefault(row.academic_year_id, (row.academic_year, []))[1].append(row)
    return list(grouped.values())


def _year_choices() -> list[SelectChoice]:
    years = db.session.scalars(select(AcademicYear).order_by(AcademicYear.start_year.desc()))
    return select_choices((y.id, y.name + (" — " + _("current") if y.is_current else "")) for y in years)


def _status_form(formdata=None) -> OrgStatusForm:
    form = OrgStatusForm(formdata=formdata)
    form.academic_year.choices = _year_choices()
    if formdata is None:
        current = services.current_academic_year()
        form.academic_year.data = current.id if current else None
    return form


def _render_org(org: Organization, status_form: OrgStatusForm | None = None, code: int = 200):
    may_set_status = can_set_org_status(current_user, org)
    if status_form is None and may_set_status:
        status_form = _status_form()
    administrators = _administrators(org)
    return render_template(
        "orgs/view.html", org=org, counts=_people_counts(org), administrators=administrators,
        linked_admins={u.id for u in administrators if can_view_person(current_user, u)},
        statuses=_statuses_by_year(org), status_form=status_form if may_set_status else None,
        can_manage=can_manage_org(current_user, org), can_set_status=may_set_status,
        can_list_people=can_list_org_people(current_user, org)), code


@bp.route("/orgs/<int:org_id>")
@login_required
def view_org(org_id: int):
    org = get_or_404(Organization, org_id)
    require(can_view_org(current_user, org))
    return _render_org(org)


# --- create and edit -----------------------------------------------------------------------------

def _creatable_municipalities() -> list[Municipality]:
    scope = scope_of(current_user)
    stmt = select(Municipality).order_by(Municipality.name)
    if not scope.is_admin:
        stmt = stmt.where(Municipality.id.in_(scope.coordinated_municipality_ids))
    return list(db.session.scalars(stmt))


@bp.route("/orgs/new", methods=["GET", "POST"])
@login_required
def create_org():
    municipality = None
    if request.method == "POST":
        municipality = get_or_none(Municipality, request.form.get("municipality", type=int))
    # The submitted municipality is checked here, before the form: one outside the user's reach is
    # a forbidden request, not a typing mistake. A missing one is left to the form to report.
    require(can_create_org(current_user, municipality) if municipality else can_create_org(current_user))
    form = NewOrganizationForm()
    form.municipality.choices = select_choices((m.id, m.name) for m in _creatable_municipalities())
    form.time_zone.choices = time_zone_choices(_("— as the municipality —"))
    if request.method == "GET" and request.args.get("municipality", type=int):
        form.municipality.data = request.args.get("municipality", type=int)
    if form.validate_on_submit():
        ok, org = submit(lambda: services.create_organization(municipality, by=current_user, **form.org_data()),
                         form=form, field="name")
        if ok:
            flash(_("Organization «%(name)s» created.", name=org.short_name), "success")
            return redirect(url_for("orgs.view_org", org_id=org.id))
    return render_template("orgs/edit.html", form=form, org=None), form_status(form)


@bp.route("/orgs/<int:org_id>/edit", methods=["GET", "POST"])
@login_required
def edit_org(org_id: int):
    org = get_or_404(Organization, org_id)
    require(can_manage_org(current_user, org))
    form = EditOrganizationForm(obj=org if request.method == "GET" else None)
    form.time_zone.choices = time_zone_choices()
    # The code (used by imports and the API) and whether the organization exists at all are decided by
    # the municipality: a school admin who deactivated their own school could not reach it to undo that.
    municipal = can_create_org(current_user, org.municipality)
    if not municipal:
        del form.code
        del form.is_active
    if form.validate_on_submit():
        ok, changed = submit(lambda: services.update_organization(org, by=current_user, **form.org_data()),
                             form=form, field="name")
        if ok:
            flash(_("Saved.") if changed else _("Nothing changed."), "success")
            forget_scope(current_user)
            if not org.is_active and not can_view_org(current_user, org):
                return redirect(url_for("orgs.list_orgs"))
            return redirect(url_for("orgs.view_org", org_id=org.id))
    return render_template("orgs/edit.html", form=form, org=org), form_status(form)


# --- statuses ------------------------------------------------------------------------------------

@bp.route("/orgs/<int:org_id>/statuses", methods=["POST"])
@login_required
def set_status(org_id: int):
    org = get_or_404(Organization, org_id)
    require(can_set_org_status(current_user, org))
    form = _status_form(request.form)
    if form.validate():
        year = get_or_404(AcademicYear, form.academic_year.data)
        ok, _row = submit(lambda: services.set_org_status(org, year, form.status.data, by=current_user,
                                                          note=form.note.data or ""), form=form, field="status")
        if ok:
            flash(_("Status saved."), "success")
            return redirect(url_for("orgs.view_org", org_id=org.id))
    return _render_org(org, form, 422)


@bp.route("/org-statuses/<int:status_id>/delete", methods=["POST"])
@login_required
def delete_status(status_id: int):
    row = get_or_404(OrganizationStatus, status_id)
    org_id = row.organization_id
    require(can_set_org_status(current_user, row.organization))
    services.remove_org_status(row, by=current_user)
    db.session.commit()
    flash(_("Status removed."), "success")
    return redirect(url_for("orgs.view_org", org_id=org_id))


# --- municipalities ------------------------------------------------------------------------------

def _municipality_form(**kwargs) -> MunicipalityForm:
    form = MunicipalityForm(**kwargs)
    form.time_zone.choices = time_zone_choices()
    return form


def _render_municipalities(form: MunicipalityForm, code: int = 200):
    counts = dict(db.session.execute(
        select(Organization.municipality_id, func.count(Organization.id))
        .where(Organization.is_active.is_(True)).group_by(Organization.municipality_id)).all())
    rows = [(m, counts.get(m.id, 0))
            for m in db.session.scalars(select(Municipality).order_by(Municipality.name))]
    return render_template("orgs/municipalities.html", rows=rows, form=form), code


@bp.route("/municipalities")
@login_required
def municipalities():
    require(can_manage_municipalities(current_user))
    return _render_municipalities(_municipality_form(formdata=None))


@bp.route("/municipalities/new", methods=["POST"])
@login_required
def create_municipality():
    require(can_manage_municipalities(current_user))
    form = _municipality_form()
    if form.validate_on_submit():
        ok, m = submit(lambda: services.create_municipality(
            name=form.name.data, region=form.region.data or "", time_zone=form.time_zone.data, by=current_user),
            form=form, field="name")
        if ok:
            flash(_("Municipality «%(name)s» created.", name=m.name), "success")
            return redirect(url_for("orgs.municipalities"))
    return _render_municipalities(form, 422)


@bp.route("/municipalities/<int:municipality_id>/edit", methods=["GET", "POST"])
@login_required
def edit_municipality(municipality_id: int):
    m = get_or_404(Municipality, municipality_id)
    require(can_manage_municipalities(current_user))
    form = _municipality_form(obj=m if request.method == "GET" else None)
    if form.validate_on_submit():
        ok, _result = submit(lambda: services.update_municipality(
            m, by=current_user, name=form.name.data, region=form.region.data or "", time_zone=form.time_zone.data),
            form=form, field="name")
        if ok:
            flash(_("Saved."), "success")
            return redirect(url_for("orgs.municipalities"))
    return render_template("orgs/municipality_edit.html", form=form, municipality=m), form_status(form)


# --- academic years ------------------------------------------------------------------------------

def _render_years(form: AcademicYearForm, code: int = 200):
    years = db.session.scalars(select(AcademicYear).order_by(AcademicYear.start_year.desc())).all()
    return render_template("orgs/years.html", years=years, form=form), code


@bp.route("/years")
@login_required
def academic_years():
    require(can_manage_academic_years(current_user))
    form = AcademicYearForm(formdata=None)
    latest = db.session.scalar(select(func.max(AcademicYear.start_year)))
    form.start_year.data = latest + 1 if latest else AcademicYear.start_year_for(date.today())
    return _render_years(form)


@bp.route("/years/new", methods=["POST"])
@login_required
def create_academic_year():
    require(can_manage_academic_years(current_user))
    form = AcademicYearForm()
    if form.validate_on_submit():
        ok, year = submit(lambda: services.create_academic_year(form.start_year.data, by=current_user,
                                                                make_current=form.make_current.data),
                          form=form, field="start_year")
        if ok:
            flash(_("Academic year %(name)s created.", name=year.name), "success")
            return redirect(url_for("orgs.academic_years"))
    return _render_years(form, 422)


@bp.route("/years/<int:year_id>/current", methods=["POST"])
@login_required
def make_year_current(year_id: int):
    year = get_or_404(AcademicYear, year_id)
    require(can_manage_academic_years(current_user))
    services.set_current_year(year, by=current_user)
    db.session.commit()
    flash(_("%(name)s is now the current academic year.", name=year.name), "success")
    return redirect(url_for("orgs.academic_years"))
