"""Bulk import of people from CSV and export to CSV/XLSX. Thin views over ``importing`` and ``exporting``:
load → one permission check → form → service → commit once → redirect or render."""

from __future__ import annotations

import tempfile

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from lms.accounts import exporting, importing
from lms.accounts.forms import ImportForm
from lms.accounts.models import ImportJob, User
from lms.accounts.queries import PeopleFilter
from lms.core import audit, background
from lms.core.forms import form_status, select_choices
from lms.core.loading import get_or_404
from lms.core.permissions import require
from lms.core.storage import content_disposition
from lms.extensions import db
from lms.orgs.models import Organization
from lms.orgs.permissions import managed_organizations, scope_of

bp = Blueprint("imports", __name__)

#: The status page lists this many errors; the CSV report has them all.
ERRORS_SHOWN = 500
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PHASE_LABELS = {
    "pending": _l("Waiting to start"),
    "checking": _l("Checking lines"),
    "passwords": _l("Preparing passwords"),
    "writing": _l("Writing"),
    "finished": _l("Finished"),
}
COLUMN_HELP = {
    "username": _l("Login: Latin letters, digits and . _ - @"),
    "password": _l("Initial password; empty — generated. Either way it must be changed at the first login."),
    "lastname": _l("Surname"),
    "firstname": _l("Name"),
    "middlename": _l("Patronymic"),
    "email": _l("E-mail"),
    "organization": _l("Code, short or full name of the organization"),
    "role": _l("student, teacher, methodologist, org_admin, coordinator — or ученик, учитель, педагог, "
               "методист, администратор, координатор"),
    "grade": _l("For students: 0–11, a letter may follow (7, 7А, 10Б)"),
    "classletter": _l("Class letter, if not given with the grade"),
    "phone": _l("Phone"),
    "birthdate": _l("Birth date: DD.MM.YYYY or YYYY-MM-DD"),
    "sex": _l("м/ж or m/f"),
    "snils": _l("SNILS: 000-000-000 00, the checksum is verified"),
}


def _start_job(job: ImportJob):
    db.session.commit()
    background.submit(importing.run_job, job.id)
    return redirect(url_for("imports.status", job_id=job.id))


# --- import --------------------------------------------------------------------------------------

@bp.route("/people/import", methods=["GET", "POST"])
@login_required
def start():
    require(importing.can_start_import(current_user))
    form = ImportForm()
    form.organization.choices = select_choices([(0, _("— as given in the file —"))] + [
        (o.id, o.short_name) for o in managed_organizations(current_user)])
    if form.validate_on_submit():
        org = db.session.get(Organization, form.organization.data) if form.organization.data else None
        upload = form.file.data
        job = importing.create_job(filename=upload.filename or "", data=upload.read(), by=current_user,
                                   organization=org, dry_run=bool(form.dry_run.data),
                                   update_existing=bool(form.update_existing.data))
        return _start_job(job)
    jobs = db.session.scalars(select(ImportJob).where(ImportJob.created_by_id == current_user.id)
                              .order_by(ImportJob.id.desc()).limit(10)).all()
    columns = [(col, importing.COLUMN_ALIASES[col][1:4], col in importing.REQUIRED, COLUMN_HELP[col])
               for col in importing.COLUMNS]
    status = form_status(form)
    return render_template("imports/start.html", form=form, jobs=jobs, columns=columns,
                           max_rows=current_app.config["IMPORT_MAX_ROWS"]), status


@bp.route("/people/import/template.csv")
@login_required
def template():
    require(importing.can_start_import(current_user))
    response = Response(importing.template_csv(), mimetype="text/csv")
    response.headers["Content-Disposition"] = content_disposition(_("people-import-example.csv"))
    return response


@bp.route("/people/import/<int:job_id>")
@login_required
def status(job_id: int):
    job = get_or_404(ImportJob, job_id)
    require(importing.can_view_job(current_user, job))
    errors = job.errors or []
    return render_template(
        "imports/status.html", job=job, errors=errors[:ERRORS_SHOWN], errors_total=len(errors),
        bad_lines=len({e.get("line") for e in errors if e.get("line")}),
        finished=job.status in importing.FINISHED, summary=job.summary or {},
        phase=PHASE_LABELS.get((job.summary or {}).get("phase") or job.status, ""),
        phases={k: str(v) for k, v in PHASE_LABELS.items()},
        default_org=db.session.get(Organization, job.organization_id) if job.organization_id else None,
        creator=db.session.get(User, job.created_by_id) if job.created_by_id else None,
        is_creator=importing.can_download_credentials(current_user, job),
        can_start=importing.can_start_import(current_user))


@bp.route("/people/import/<int:job_id>/status.json")
@login_required
def status_json(job_id: int):
    job = get_or_404(ImportJob, job_id)
    require(importing.can_view_job(current_user, job))
    response = jsonify(status=job.status, processed=job.processed, total=job.total,
                       errors_count=len(job.errors or []), done=job.status in importing.FINISHED,
                       phase=(job.summary or {}).get("phase") or job.status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/people/import/<int:job_id>/errors.csv")
@login_required
def errors_csv(job_id: int):
    job = get_or_404(ImportJob, job_id)
    require(importing.can_view_job(current_user, job))
    response = Response(importing.error_report_csv(job), mimetype="text/csv")
    response.headers["Content-Disposition"] = content_disposition(_("errors — %(name)s", name=job.filename))
    return response


@bp.route("/people/import/<int:job_id>/run", methods=["POST"])
@login_required
def run_for_real(job_id: int):
    """After a clean dry run: the real import of the same stored file."""
    job = get_or_404(ImportJob, job_id)
    require(importing.can_view_job(current_user, job) and importing.can_start_import(current_user))
    if not (job.dry_run and job.status == "done" and not job.errors):
        flash(_("Only a dry run that found no errors can be imported for real."), "error")
        return redirect(url_for("imports.status", job_id=job.id))
    return _start_job(importing.rerun_job(job, by=current_user, dry_run=False))


@bp.route("/people/import/<int:job_id>/rerun", methods=["POST"])
@login_required
def rerun(job_id: int):
    """Run again from the stored file with the same options (after an interruption, say)."""
    job = get_or_404(ImportJob, job_id)
    require(importing.can_view_job(current_user, job) and importing.can_start_import(current_user))
    if job.status not in importing.FINISHED:
        flash(_("This import is still running."), "error")
        return redirect(url_for("imports.status", job_id=job.id))
    return _start_job(importing.rerun_job(job, by=current_user))


@bp.route("/people/import/<int:job_id>/credentials", methods=["POST"])
@login_required
def credentials(job_id: int):
    """The initial passwords, once, to the job's creator only. POST (not a link) so that no prefetcher or
    link scanner can use up the one download."""
    job = get_or_404(ImportJob, job_id)
    require(importing.can_download_credentials(current_user, job))
    data = importing.take_credentials(job)
    if data is None:
        db.session.rollback()
        abort(410 if not job.dry_run and job.status == "done" else 404)
    audit.record("import_credentials_downloaded", actor=current_user, obj=job)
    db.session.commit()
    response = Response(data, mimetype="text/csv")
    response.headers["Content-Disposition"] = content_disposition(_("passwords — %(name)s", name=job.filename))
    response.headers["Cache-Control"] = "no-store"
    return response


# --- export --------------------------------------------------------------------------------------

@bp.route("/people/export")
@login_required
def export_people():
    require(scope_of(current_user).is_manager)
    fmt = exporting.parse_format(request.args.get("format"))
    flt = PeopleFilter.from_args(request.args)
    scope = exporting.scope_for(current_user)
    user_ids = exporting.select_people(scope, flt)
    audit.record("people_exported", actor=current_user, organization=flt.org_id, count=len(user_ids), format=fmt,
                 role=flt.role or None, grade=flt.grade, q=flt.q or None)
    db.session.commit()
    org = db.session.get(Organization, flt.org_id) if flt.org_id else None
    name = exporting.export_filename(fmt, org)
    if fmt == "csv":
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        response = Response(exporting.csv_chunks(scope, user_ids, flt, app=app), mimetype="text/csv")
    else:
        out = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 - send_file closes it
        exporting.write_xlsx(exporting.iter_rows(scope, user_ids, flt), out)
        out.seek(0)
        response = send_file(out, mimetype=XLSX_MIME, as_attachment=True, download_name=name)
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["Cache-Control"] = "no-store"
    return response

