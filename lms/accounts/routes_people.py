"""People of the organizations a user manages: list, card, create, edit, deactivate, merge,
memberships, parents and consents. Views: load → one permission check → form → service → commit."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields import SelectChoice

from lms.accounts import permissions as perm
from lms.accounts import services
from lms.accounts.forms import (
    ConsentForm,
    MembershipForm,
    MergeForm,
    NewPersonForm,
    ParentLinkForm,
    PersonForm,
)
from lms.accounts.models import Consent, ParentLink, User
from lms.accounts.queries import PeopleFilter, people_query
from lms.core.errors import ValidationError
from lms.core.forms import flash_form_errors, form_status, select_choices, submit
from lms.core.i18n import time_zone_choices
from lms.core.loading import get_or_404, get_or_none
from lms.core.permissions import require
from lms.extensions import db
from lms.labels import ROLE_LABELS
from lms.orgs.models import Membership, Organization, Role
from lms.orgs.permissions import can_grant_role, listable_organizations, managed_organizations, scope_of

bp = Blueprint("people", __name__)


def _role_choices() -> list[SelectChoice]:
    scope = scope_of(current_user)
    roles = [r for r in Role if r != Role.COORDINATOR or scope.is_admin or scope.is_coordinator]
    return select_choices((r.value, str(ROLE_LABELS[r.value])) for r in roles)


# --- list ----------------------------------------------------------------------------------------

@bp.route("/people")
@login_required
def list_people():
    scope = scope_of(current_user)
    require(perm.can_list_people(current_user))
    orgs = listable_organizations(current_user)
    flt = PeopleFilter.from_args(request.args)
    stmt = people_query(scope, flt).options(
        selectinload(User.memberships).selectinload(Membership.organization))
    page = db.paginate(stmt, per_page=50, error_out=False)
    args = {k: v for k, v in request.args.items() if k != "page"}
    can_manage_any = scope.is_manager
    return render_template("people/list.html", page=page, orgs=orgs, org_id=flt.org_id, role=flt.role or "",
                           grade=flt.grade, q=flt.q, show_inactive=flt.active is None, args=args,
                           can_manage_any=can_manage_any, visible_org_ids={o.id for o in orgs})


# --- card ----------------------------------------------------------------------------------------

@bp.route("/people/<int:user_id>")
@login_required
def view_person(user_id: int):
    person = get_or_404(User, user_id)
    require(perm.can_view_person(current_user, person))
    scope = scope_of(current_user)
    parents = db.session.scalars(select(ParentLink).where(ParentLink.student_id == person.id)).all()
    children = db.session.scalars(select(ParentLink).where(ParentLink.parent_id == person.id)).all()
    personal = perm.can_view_personal_data(current_user, person)
    consents = db.session.scalars(select(Consent).where(Consent.subject_id == person.id)
                                  .order_by(Consent.given_on.desc())).all() if personal else []
    membership_form = None
    if scope.is_manager and perm.can_edit_person(current_user, person):
        membership_form = MembershipForm(formdata=None)
        membership_form.organization.choices = select_choices((o.id, o.short_name)
                                                              for o in managed_organizations(current_user))
        membership_form.role.choices = _role_choices()
    consent_form = None
    if perm.can_manage_parents(current_user, person):
        consent_form = _consent_form(person, formdata=None)
    merged_into = db.session.get(User, person.merged_into_id) if person.merged_into_id else None
    return render_template(
        "people/view.html", person=person, parents=parents, children=children, consents=consents,
        personal=personal, can_edit=perm.can_edit_person(current_user, person),
        can_deactivate=perm.can_deactivate_person(current_user, person),
        can_manage_parents=perm.can_manage_parents(current_user, person),
        manages=lambda org_id: scope.manages(org_id), membership_form=membership_form,
        consent_form=consent_form, merged_into=merged_into,
        new_password=None)


def _consent_form(person: User, formdata=None) -> ConsentForm:
    form = ConsentForm(formdata=formdata)
    links = db.session.scalars(select(ParentLink).where(ParentLink.student_id == person.id)).all()
    form.given_by.choices = select_choices([(person.id, _("the person themselves"))] + [
        (link.parent_id, link.parent.full_name) for link in links])
    if formdata is None:
        form.given_on.data = date.today()
    return form


# --- create and edit -----------------------------------------------------------------------------

def _new_person_form(formdata=None) -> NewPersonForm:
    form = NewPersonForm(formdata=formdata)
    form.organization.choices = select_choices((o.id, o.short_name)
                                               for o in managed_organizations(current_user))
    form.role.choices = _role_choices()
    form.time_zone.choices = time_zone_choices(_("— as the organization —"))
    if formdata is None and request.args.get("org", type=int):
        form.organization.data = request.args.get("org", type=int)
    return form


@bp.route("/people/new", methods=["GET", "POST"])
@login_required
def create_person():
    require(perm.can_create_people(current_user))
    form = _new_person_form(request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate_on_submit():
        org = db.session.get(Organization, form.organization.data)
        if org is None or not can_grant_role(current_user, org, form.role.data):
            abort(403)
        def create():
            person, password = services.create_user(username=form.username.data, by=current_user,
                                                    **form.person_data())
            services.add_membership(person, org, form.role.data, by=current_user,
                                    grade=form.grade.data, class_letter=form.class_letter.data)
            return person, password

        ok, created = submit(create, form=form, field="username")
        if ok:
            flash(_("Person created."), "success")
            return render_template("people/password_once.html", person=created[0], password=created[1])
    return render_template("people/edit.html", form=form, person=None), form_status(form)


@bp.route("/people/<int:user_id>/edit", methods=["GET", "POST"])
@login_required
def edit_person(user_id: int):
    person = get_or_404(User, user_id)
    require(perm.can_edit_person(current_user, person))
    form = PersonForm(formdata=request.form if request.method == "POST" else None,
                      obj=person if request.method == "GET" else None)
    form.time_zone.choices = time_zone_choices(_("— as the organization —"))
    if request.method == "GET":
        form.snils.data = person.snils_display
        form.sex.data = person.sex or ""
    if request.method == "POST" and form.validate_on_submit():
        ok, _changed = submit(lambda: services.update_user(person, form.person_data(), by=current_user),
                              form=form, field="surname")
        if ok:
            flash(_("Saved."), "success")
            return redirect(url_for("people.view_person", user_id=person.id))
    return render_template("people/edit.html", form=form, person=person), form_status(form)


@bp.route("/people/<int:user_id>/deactivate", methods=["POST"])
@login_required
def deactivate_person(user_id: int):
    person = get_or_404(User, user_id)
    require(perm.can_deactivate_person(current_user, person))
    services.deactivate_user(person, by=current_user)
    db.session.commit()
    flash(_("The person is deactivated; all their sessions have ended."), "success")
    return redirect(url_for("people.view_person", user_id=person.id))


@bp.route("/people/<int:user_id>/reactivate", methods=["POST"])
@login_required
def reactivate_person(user_id: int):
    person = get_or_404(User, user_id)
    require(perm.can_deactivate_person(current_user, person))
    services.reactivate_user(person, by=current_user)
    db.session.commit()
    flash(_("The person is active again."), "success")
    return redirect(url_for("people.view_person", user_id=person.id))


@bp.route("/people/<int:user_id>/password", methods=["POST"])
@login_required
def reset_person_password(user_id: int):
    person = get_or_404(User, user_id)
    require(perm.can_edit_person(current_user, person) and person.id != current_user.id)
    password = services.reset_password_by_manager(person, by=current_user)
    db.session.commit()
    return render_template("people/password_once.html", person=person, password=password)


@bp.route("/people/<int:user_id>/merge", methods=["GET", "POST"])
@login_required
def merge_person(user_id: int):
    keep = get_or_404(User, user_id)
    require(perm.can_edit_person(current_user, keep))
    form = MergeForm()
    if form.validate_on_submit():
        duplicate = db.session.scalar(select(User).where(
            User.username == form.duplicate_username.data.strip().lower()))
        if duplicate is None:
            form.duplicate_username.errors.append(_("No person with this login."))
        elif not perm.can_merge_people(current_user, keep, duplicate):
            form.duplicate_username.errors.append(
                _("You may merge only people of organizations you manage, and not with themselves."))
        else:
            ok, _result = submit(lambda: services.merge_users(keep, duplicate, by=current_user),
                                 form=form, field="duplicate_username", aliases={"duplicate": "duplicate_username"})
            if ok:
                flash(_("Accounts merged: %(dup)s → %(keep)s.", dup=duplicate.username, keep=keep.username),
                      "success")
                return redirect(url_for("people.view_person", user_id=keep.id))
    return render_template("people/merge.html", form=form, person=keep), form_status(form)


# --- memberships ---------------------------------------------------------------------------------

@bp.route("/people/<int:user_id>/memberships", methods=["POST"])
@login_required
def add_membership(user_id: int):
    person = get_or_404(User, user_id)
    form = MembershipForm()
    form.organization.choices = select_choices((o.id, o.short_name)
                                               for o in managed_organizations(current_user))
    form.role.choices = _role_choices()
    org = get_or_none(Organization, request.form.get("organization", type=int))
    require(org is not None and perm.can_edit_person(current_user, person)
            and can_grant_role(current_user, org, request.form.get("role", "")))
    if form.validate_on_submit():
        ok, _m = submit(lambda: services.add_membership(person, org, form.role.data, by=current_user,
                                                        grade=form.grade.data, class_letter=form.class_letter.data))
        if ok:
            flash(_("Role added."), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("people.view_person", user_id=person.id))


@bp.route("/memberships/<int:membership_id>/delete", methods=["POST"])
@login_required
def remove_membership(membership_id: int):
    m = get_or_404(Membership, membership_id)
    require(can_grant_role(current_user, m.organization, m.role))
    user_id = m.user_id
    ok, _result = submit(lambda: services.remove_membership(m, by=current_user))
    if ok:
        flash(_("Role removed."), "success")
    return redirect(url_for("people.view_person", user_id=user_id))


@bp.route("/memberships/<int:membership_id>/class", methods=["POST"])
@login_required
def change_class(membership_id: int):
    m = get_or_404(Membership, membership_id)
    require(perm.manageable_membership(current_user, m))
    ok, _m = submit(lambda: services.change_membership(m, by=current_user, grade=request.form.get("grade", type=int),
                                                       class_letter=request.form.get("class_letter")))
    if ok:
        flash(_("Class changed."), "success")
    return redirect(url_for("people.view_person", user_id=m.user_id))


# --- parents and consents ------------------------------------------------------------------------

@bp.route("/people/<int:user_id>/parents", methods=["GET", "POST"])
@login_required
def link_parent(user_id: int):
    student = get_or_404(User, user_id)
    require(perm.can_manage_parents(current_user, student))
    form = ParentLinkForm()
    if form.validate_on_submit():
        def link():
            new_password = None
            if form.parent_username.data:
                parent = db.session.scalar(select(User).where(
                    User.username == form.parent_username.data.strip().lower()))
                if parent is None:
                    raise ValidationError(_("No person with this login."), field="parent_username")
            else:
                base = (form.surname.data or "").strip().lower()
                username = services.suggest_username(base or "parent", form.email.data)
                parent, new_password = services.create_user(
                    username=username, by=current_user, surname=form.surname.data, name=form.name.data,
                    patronymic=form.patronymic.data or "", email=form.email.data)
            services.link_parent(parent, student, relation=form.relation.data, by=current_user)
            return parent, new_password

        ok, linked = submit(link, form=form, field="parent_username")
        if ok:
            flash(_("Parent linked."), "success")
            parent, new_password = linked
            if new_password:
                return render_template("people/password_once.html", person=parent, password=new_password)
            return redirect(url_for("people.view_person", user_id=student.id))
    return render_template("people/parent.html", form=form, student=student), form_status(form)


@bp.route("/parent-links/<int:link_id>/delete", methods=["POST"])
@login_required
def unlink_parent(link_id: int):
    link = get_or_404(ParentLink, link_id)
    require(perm.can_manage_parents(current_user, link.student))
    student_id = link.student_id
    services.unlink_parent(link, by=current_user)
    db.session.commit()
    flash(_("Parent unlinked."), "success")
    return redirect(url_for("people.view_person", user_id=student_id))


@bp.route("/people/<int:user_id>/consents", methods=["POST"])
@login_required
def add_consent(user_id: int):
    person = get_or_404(User, user_id)
    require(perm.can_manage_parents(current_user, person))
    form = _consent_form(person, formdata=request.form)
    if form.validate_on_submit():
        given_by = db.session.get(User, form.given_by.data)
        ok, _consent = submit(lambda: services.record_consent(
            person, form.kind.data, given_on=form.given_on.data, by=current_user, given_by=given_by,
            document=form.document.data or ""))
        if ok:
            flash(_("Consent recorded."), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("people.view_person", user_id=person.id))


@bp.route("/consents/<int:consent_id>/withdraw", methods=["POST"])
@login_required
def withdraw_consent(consent_id: int):
    consent = get_or_404(Consent, consent_id)
    require(perm.can_manage_parents(current_user, consent.subject))
    services.withdraw_consent(consent, on=date.today(), by=current_user)
    db.session.commit()
    flash(_("Consent withdrawn."), "success")
    return redirect(url_for("people.view_person", user_id=consent.subject_id))
