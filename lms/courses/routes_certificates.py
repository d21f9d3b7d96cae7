"""Certificate pages: an organization's register with filters and a ZIP of the PDFs, the certificate card
(PDF, revoke, duplicate), the manual issue form, document settings and template editor, the ФИС ФРДО
export, the holder's own certificates, and the public verification page.

Views: load the object (404) → one permission check → validate → call a service → commit once →
redirect with a message, or show the form again (422) with each error on its field.
"""

from __future__ import annotations

import tempfile
import zipfile
from datetime import date

from flask import Blueprint, Response, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import String, cast, func, or_, select

from lms.accounts.models import User
from lms.core.errors import ValidationError
from lms.core.forms import form_status, select_choices, submit
from lms.core.loading import MAX_ID, get_or_404
from lms.core.pdf import PdfUnavailable
from lms.core.permissions import require
from lms.core.storage import StorageError, content_disposition
from lms.courses import certificate_templates as templates
from lms.courses import certificates as services
from lms.courses import frdo
from lms.courses import permissions as perm
from lms.courses.forms_certificates import (
    DOCUMENT_KIND_LABELS,
    SETTINGS_LABELS,
    STATUS_LABELS,
    FrdoForm,
    IssueForm,
    RevokeForm,
    SettingsForm,
    TemplateForm,
)
from lms.courses.models import Programme, ProgrammeStatus
from lms.courses.models.certificates import Certificate, CertificateStatus, CertificateTemplate
from lms.extensions import db
from lms.orgs.models import Membership, Organization
from lms.orgs.permissions import managed_organizations, scope_of

bp = Blueprint("certificates", __name__)

PER_PAGE = 50
#: A ZIP of PDFs holds at most this many certificates and this many bytes (narrow the filters for more).
ZIP_MAX_FILES = 1000
ZIP_MAX_BYTES = 300 * 1024 * 1024
PEOPLE_CHOICES = 200


@bp.context_processor
def _labels():
    return {"kind_labels": DOCUMENT_KIND_LABELS, "cert_status_labels": STATUS_LABELS}


def _org_or_404(org_id: int) -> Organization:
    return get_or_404(Organization, org_id)


# --- the holder's certificates and the managers' way in ------------------------------------------

@bp.route("/certificates")
@login_required
def mine():
    require(current_user.is_authenticated)
    own = db.session.scalars(select(Certificate).where(Certificate.holder_id == current_user.id)
                             .order_by(Certificate.issued_on.desc(), Certificate.id.desc())).all()
    orgs = managed_organizations(current_user)
    return render_template("certificates/mine.html", certificates=own, orgs=orgs)


# --- an organization's register ------------------------------------------------------------------

def _filtered(org: Organization):
    """The register's statement for the filters in the query string, and the filter values."""
    args = request.args
    flt = {"year": args.get("year", type=int), "status": args.get("status") or "",
           "kind": args.get("kind") or "", "programme": args.get("programme", type=int),
           "q": " ".join((args.get("q") or "").split())}
    conditions = [Certificate.organization_id == org.id]
    if flt["year"] is not None:
        conditions.append(Certificate.year == flt["year"])
    if flt["status"] in STATUS_LABELS:
        conditions.append(Certificate.status == flt["status"])
    if flt["kind"] in DOCUMENT_KIND_LABELS:
        conditions.append(Certificate.kind == flt["kind"])
    if flt["programme"] is not None and 0 < flt["programme"] <= MAX_ID:
        conditions.append(Certificate.programme_id == flt["programme"])
    if flt["q"]:
        full = func.lower(Certificate.holder_surname + " " + Certificate.holder_name + " "
                          + Certificate.holder_patronymic)
        needle = flt["q"].lower()
        options = [full.contains(needle, autoescape=True)]
        if flt["q"].isdecimal():
            options.append(cast(Certificate.registration_number, String) == flt["q"])
        conditions.append(or_(*options))
    stmt = select(Certificate).where(*conditions).order_by(Certificate.year.desc(),
                                                           Certificate.registration_number.desc())
    return stmt, flt


@bp.route("/orgs/<int:org_id>/certificates")
@login_required
def org_certificates(org_id: int):
    org = _org_or_404(org_id)
    require(perm.can_manage_certificates(current_user, org))
    stmt, flt = _filtered(org)
    page = db.paginate(stmt, per_page=PER_PAGE, error_out=False)
    years = db.session.scalars(select(Certificate.year).where(Certificate.organization_id == org.id)
                               .distinct().order_by(Certificate.year.desc())).all()
    programmes = db.session.execute(
        select(Programme.id, Programme.title, Programme.version)
        .where(Programme.id.in_(select(Certificate.programme_id).where(Certificate.organization_id == org.id)))
        .order_by(Programme.title, Programme.version)).all()
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("certificates/list.html", org=org, page=page, flt=flt, years=years,
                           programmes=programmes, args=args)


@bp.route("/orgs/<int:org_id>/certificates.zip")
@login_required
def download_zip(org_id: int):
    """The PDFs of the filtered register in one ZIP, built in a temporary file (not in memory)."""
    org = _org_or_404(org_id)
    require(perm.can_manage_certificates(current_user, org))
    stmt, _flt = _filtered(org)
    certificates = db.session.scalars(stmt.limit(ZIP_MAX_FILES + 1)).all()
    if not certificates:
        raise ValidationError(_("No certificates match the filters."), field="q")
    if len(certificates) > ZIP_MAX_FILES:
        raise ValidationError(_("More than %(n)d certificates: narrow the filters (a year, a programme).",
                                n=ZIP_MAX_FILES), field="year")
    spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 - send_file closes it
    total = 0
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_STORED) as archive:  # PDFs are compressed already
        for cert in certificates:
            pdf = services.certificate_pdf(cert)
            total += len(pdf)
            if total > ZIP_MAX_BYTES:
                spool.close()
                raise ValidationError(_("The archive would be too large: narrow the filters."), field="year")
            archive.writestr(f"{cert.year}-{cert.registration_number:05d} {cert.holder_surname}.pdf", pdf)
    db.session.commit()  # PDFs made now keep their storage keys
    spool.seek(0)
    name = f"{_('Certificates')} — {org.short_name} — {date.today().isoformat()}.zip"
    return send_file(spool, mimetype="application/zip", as_attachment=True, download_name=name)


# --- issuing -------------------------------------------------------------------------------------

def _eligible_condition(org: Organization):
    """People who may receive a document of ``org`` from the current user: members of any organization
    the user manages (a coordinator: the municipality's network), or anyone for the global admin."""
    scope = scope_of(current_user)
    if scope.is_admin:
        return User.is_active.is_(True)
    managed = sorted(scope.managed_org_ids | {org.id})
    return User.is_active.is_(True) & User.id.in_(
        select(Membership.user_id).where(Membership.organization_id.in_(managed)))


def _people_choices(org: Organization, q: str, chosen: int | None) -> list[tuple[int, str]]:
    stmt = select(User).where(_eligible_condition(org))
    if q:
        full = func.lower(User.surname + " " + User.name + " " + User.patronymic)
        stmt = stmt.where(or_(full.contains(q.lower(), autoescape=True), User.username == q.lower(),
                              User.snils == "".join(c for c in q if c.isdecimal())))
    else:
        stmt = stmt.where(User.id.in_(select(Membership.user_id).where(Membership.organization_id == org.id)))
    people = list(db.session.scalars(stmt.order_by(User.surname, User.name, User.id).limit(PEOPLE_CHOICES)))
    if chosen and chosen not in {p.id for p in people} and 0 < chosen <= MAX_ID:
        person = db.session.scalar(select(User).where(User.id == chosen, _eligible_condition(org)))
        if person is not None:
            people.insert(0, person)
    return [(p.id, f"{p.full_name} ({p.username})") for p in people]


def _issuable_programmes(org: Organization) -> list[Programme]:
    return list(db.session.scalars(select(Programme).where(
        Programme.owner_organization_id == org.id,
        Programme.status.in_([ProgrammeStatus.APPROVED, ProgrammeStatus.PUBLISHED]))
        .order_by(Programme.title, Programme.version)))


def _issue(org: Organization, form: IssueForm, people: list[tuple[int, str]], programmes: list[Programme]):
    holder_ids = {pid for pid, _label in people}
    if form.holder.data not in holder_ids:
        raise ValidationError(_("Choose a person from the list."), field="holder")
    programme = next((p for p in programmes if p.id == form.programme.data), None)
    if programme is None:
        raise ValidationError(_("Choose a programme from the list."), field="programme")
    holder = db.session.get(User, form.holder.data)
    return services.issue_certificate(
        holder, org, programme=programme, kind=form.kind.data or services.kind_for_programme(programme),
        hours=form.hours.data or programme.total_hours, study_start=form.study_start.data,
        study_end=form.study_end.data, issued_on=form.issued_on.data, by=current_user)


def _store_pdf_after_commit(cert: Certificate) -> None:
    """Make the PDF in a transaction of its own, after the numbered certificate is committed: the
    numbering lock is held only for the insert. A failure leaves the certificate; its PDF is made on
    the first download."""
    try:
        services.store_pdf(cert)
        db.session.commit()
    except (PdfUnavailable, StorageError) as exc:
        db.session.rollback()
        flash(_("The PDF could not be made now; it will be made on the first download (%(error)s).",
                error=getattr(exc, "message", str(exc))), "warning")


@bp.route("/orgs/<int:org_id>/certificates/new", methods=["GET", "POST"])
@login_required
def issue(org_id: int):
    org = _org_or_404(org_id)
    require(perm.can_manage_certificates(current_user, org))
    q = " ".join((request.values.get("q") or "").split())[:100]
    form = IssueForm()
    people = _people_choices(org, q, form.holder.data if request.method == "POST" else None)
    programmes = _issuable_programmes(org)
    form.holder.choices = select_choices(people)
    form.programme.choices = select_choices((p.id, f"{p.title} (v{p.version}, {p.total_hours} ч)")
                                            for p in programmes)
    form.kind.choices = select_choices([("", _("— as the programme —"))] + list(DOCUMENT_KIND_LABELS.items()))
    if form.validate_on_submit():
        ok, cert = submit(lambda: _issue(org, form, people, programmes), form=form, field="holder")
        if ok:
            _store_pdf_after_commit(cert)
            flash(_("Certificate № %(n)d issued.", n=cert.registration_number), "success")
            return redirect(url_for("certificates.view", cert_id=cert.id))
    return render_template("certificates/issue.html", org=org, form=form, q=q,
                           has_programmes=bool(programmes)), form_status(form)


# --- one certificate -----------------------------------------------------------------------------

@bp.route("/certificates/<int:cert_id>")
@login_required
def view(cert_id: int):
    cert = get_or_404(Certificate, cert_id)
    require(perm.can_view_certificate(current_user, cert))
    manages = perm.can_manage_certificates(current_user, cert.organization)
    return render_template("certificates/view.html", cert=cert, manages=manages,
                           can_download=perm.can_download_certificate(current_user, cert),
                           duplicate=services.duplicate_of(cert), revoke_form=RevokeForm(formdata=None),
                           verify_url=services.verify_url(cert.code))


@bp.route("/certificates/<int:cert_id>/pdf")
@login_required
def pdf(cert_id: int):
    cert = get_or_404(Certificate, cert_id)
    require(perm.can_download_certificate(current_user, cert))
    data = services.certificate_pdf(cert)
    db.session.commit()
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(services.pdf_filename(cert))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/certificates/<int:cert_id>/revoke", methods=["POST"])
@login_required
def revoke(cert_id: int):
    cert = get_or_404(Certificate, cert_id)
    require(perm.can_manage_certificates(current_user, cert.organization))
    form = RevokeForm()
    if form.validate_on_submit():
        ok, _result = submit(lambda: services.revoke(cert, form.reason.data, current_user), form=form,
                             field="reason")
        if ok:
            flash(_("Certificate revoked."), "success")
            return redirect(url_for("certificates.view", cert_id=cert.id))
    return render_template("certificates/view.html", cert=cert, manages=True, can_download=True,
                           duplicate=services.duplicate_of(cert), revoke_form=form,
                           verify_url=services.verify_url(cert.code)), 422


@bp.route("/certificates/<int:cert_id>/duplicate", methods=["POST"])
@login_required
def duplicate(cert_id: int):
    cert = get_or_404(Certificate, cert_id)
    require(perm.can_manage_certificates(current_user, cert.organization))
    ok, dup = submit(lambda: services.issue_duplicate(cert, current_user))
    if not ok:
        return redirect(url_for("certificates.view", cert_id=cert.id))
    _store_pdf_after_commit(dup)
    flash(_("Duplicate № %(n)d issued.", n=dup.registration_number), "success")
    return redirect(url_for("certificates.view", cert_id=dup.id))


# --- settings and templates ----------------------------------------------------------------------

def _template_versions(org: Organization) -> dict[str, CertificateTemplate]:
    return {kind: services.current_template(org, kind) for kind in DOCUMENT_KIND_LABELS}


@bp.route("/orgs/<int:org_id>/certificates/settings", methods=["GET", "POST"])
@login_required
def settings(org_id: int):
    org = _org_or_404(org_id)
    require(perm.can_manage_certificates(current_user, org))
    row = services.settings_for(org)
    form = SettingsForm(obj=row if request.method == "GET" else None)
    if form.validate_on_submit():
        values = {name: getattr(form, name).data or "" for name in SETTINGS_LABELS}
        ok, changed = submit(lambda: services.update_settings(org, by=current_user, **values), form=form,
                             field="city")
        if ok:
            flash(_("Saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("certificates.settings", org_id=org.id))
    return render_template("certificates/settings.html", org=org, form=form,
                           versions=_template_versions(org)), form_status(form)


@bp.route("/orgs/<int:org_id>/certificates/templates/<kind>", methods=["GET", "POST"])
@login_required
def edit_template(org_id: int, kind: str):
    org = _org_or_404(org_id)
    require(perm.can_manage_certificates(current_user, org))
    if kind not in DOCUMENT_KIND_LABELS:
        return redirect(url_for("certificates.settings", org_id=org.id))
    current = services.current_template(org, kind)
    form = TemplateForm()
    if request.method == "GET":
        form.html.data = current.html if current is not None else templates.default_template(kind)
    action = request.form.get("action", "save")
    if request.method == "POST" and action == "reset":
        form.html.data = templates.default_template(kind)
    if form.validate_on_submit():
        if action == "preview":
            try:
                data = services.preview_pdf(org, kind, form.html.data)
            except ValidationError as exc:
                form.html.errors.append(exc.message)
            else:
                response = Response(data, mimetype="application/pdf")
                response.headers["Content-Disposition"] = content_disposition(_("Preview") + ".pdf", inline=True)
                response.headers["Cache-Control"] = "private, no-store"
                return response
        else:
            ok, _row = submit(lambda: services.save_template(org, kind, form.html.data, by=current_user),
                              form=form, field="html")
            if ok:
                flash(_("Template saved. New certificates are printed from it."), "success")
                return redirect(url_for("certificates.edit_template", org_id=org.id, kind=kind))
    return render_template("certificates/template.html", org=org, kind=kind, form=form, current=current,
                           variables=templates.VARIABLES), form_status(form)


# --- ФИС ФРДО ------------------------------------------------------------------------------------

def _frdo_request():
    """The export form from the query string; (form, organization) once it is valid, else (form, None)."""
    form = FrdoForm(formdata=request.args if request.args else None)
    orgs = managed_organizations(current_user)
    form.org.choices = select_choices((o.id, o.short_name) for o in orgs)
    if not request.args:
        today = date.today()
        form.start.data, form.end.data = date(today.year, 1, 1), today
        return form, None
    if not form.validate():
        return form, None
    org = _org_or_404(form.org.data) if 0 < (form.org.data or 0) <= MAX_ID else None
    if org is None:
        form.org.errors.append(_("Choose an organization."))
        return form, None
    require(perm.can_manage_certificates(current_user, org))
    try:
        frdo.check_period(form.start.data, form.end.data)
    except ValidationError as exc:
        for name, message in exc.errors.items():
            getattr(form, name).errors.append(message)
        return form, None
    return form, org


@bp.route("/certificates/frdo")
@login_required
def frdo_page():
    require(perm.can_export_frdo(current_user))
    form, org = _frdo_request()
    result = frdo.preflight(org, form.start.data, form.end.data) if org is not None else None
    status = 422 if request.args and org is None else 200
    args = {k: v for k, v in request.args.items() if k != "only_valid"}
    return render_template("certificates/frdo.html", form=form, org=org, result=result, args=args), status


@bp.route("/certificates/frdo.xlsx")
@login_required
def frdo_download():
    require(perm.can_export_frdo(current_user))
    form, org = _frdo_request()
    if org is None:
        return render_template("certificates/frdo.html", form=form, org=None, result=None,
                               args=request.args.to_dict()), 422
    result = frdo.preflight(org, form.start.data, form.end.data)
    rows = result.certificates
    if request.args.get("only_valid") == "1":
        rows = [c for c in rows if c.id not in result.problem_ids]
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - send_file closes it
    frdo.write_xlsx(org, rows, spool)
    spool.seek(0)
    return send_file(spool, as_attachment=True, download_name=frdo.export_filename(org, form.start.data,
                                                                                   form.end.data),
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# --- public verification -------------------------------------------------------------------------

@bp.route("/verify")
def verify_form():
    code = (request.args.get("code") or "").strip()
    if code:
        return redirect(url_for("certificates.verify", code=code[:64]))
    return render_template("certificates/verify.html", cert=None, searched=False)


@bp.route("/verify/<code>")
def verify(code: str):
    try:
        cert = services.verify(code, ip=request.remote_addr or "")
    except services.VerificationThrottled as exc:
        db.session.rollback()
        response = Response(render_template("certificates/verify.html", cert=None, searched=False,
                                            throttled=exc.message), status=429)
        response.headers["Retry-After"] = str(services.VERIFY_WINDOW_SECONDS)
        return response
    db.session.commit()
    duplicate = services.duplicate_of(cert) if cert is not None and cert.status == CertificateStatus.REPLACED \
        else None
    response = Response(render_template("certificates/verify.html", cert=cert, searched=True, code=code[:64],
                                        duplicate=duplicate), status=200 if cert is not None else 404)
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Cache-Control"] = "no-store"
    return response
