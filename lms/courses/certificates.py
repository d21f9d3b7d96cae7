"""Certificates: issuing with gap-free numbering, revoking, duplicates, PDFs, templates, verification.

Rules enforced here (pages, the API and course completion call the same functions):
* Registration numbers run per issuing organization and calendar year of issue, from 1, with no gap and
  no duplicate even under concurrent issuers: numbers are taken by one atomic
  ``UPDATE certificate_sequences SET last = last + n … RETURNING last`` inside the issuing transaction,
  so a rolled-back issue gives its numbers back. A unique constraint backs this up.
* What is printed is a snapshot taken at issue; the verification code is random (``secrets``), not
  derived from the id or the number.
* A duplicate is a new certificate with its own number, pointing at the original, which becomes «replaced».
* Functions flush, never commit; they raise DomainError subclasses naming the field at fault.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update

from lms.core import audit, signals
from lms.core.db import utcnow
from lms.core.errors import Conflict, DomainError, ValidationError
from lms.core.pdf import qr_svg, render_pdf
from lms.core.storage import ObjectNotFound, get_storage
from lms.courses import certificate_templates as templates
from lms.courses.models import FROZEN, MIN_HOURS, Programme, ProgrammeKind
from lms.courses.models.certificates import (
    Certificate,
    CertificateSequence,
    CertificateSettings,
    CertificateStatus,
    CertificateTemplate,
    DocumentKind,
    VerificationAttempt,
)
from lms.extensions import db

#: The legal minimum of hours of a document kind (RULES-RU.md: PD ≥ 16 h, retraining ≥ 250 h).
KIND_MIN_HOURS = {DocumentKind.PD_CERTIFICATE: MIN_HOURS[ProgrammeKind.PD],
                  DocumentKind.RETRAINING_DIPLOMA: MIN_HOURS[ProgrammeKind.RETRAINING]}
#: The document a programme of each kind ends with.
KIND_FOR_PROGRAMME = {
    ProgrammeKind.PD: DocumentKind.PD_CERTIFICATE,
    ProgrammeKind.RETRAINING: DocumentKind.RETRAINING_DIPLOMA,
}
MAX_HOURS = 5000
CODE_BYTES = 12  # 96 random bits, 16 URL-safe characters
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,32}$")
PDF_CONTENT_TYPE = "application/pdf"


def kind_for_programme(programme: Programme | None) -> str:
    """The usual document for a programme: удостоверение for PD, диплом for retraining, else сертификат."""
    if programme is None:
        return DocumentKind.PD_CERTIFICATE
    return KIND_FOR_PROGRAMME.get(programme.kind, DocumentKind.PROFILE_CERTIFICATE)


# --- settings and templates ----------------------------------------------------------------------

SETTINGS_FIELDS = {"city": 100, "director_name": 200, "director_title": 200, "series": 20, "study_form": 60,
                   "funding_source": 120, "education_form": 120, "citizenship_code": 3}


def settings_for(organization) -> CertificateSettings:
    """The organization's document settings (defaults, not yet saved, when it has none)."""
    row = db.session.get(CertificateSettings, organization.id)
    if row is None:
        row = CertificateSettings(organization_id=organization.id, city="", director_name="", director_title="",
                                  series="", study_form="Заочная", funding_source="", education_form="",
                                  citizenship_code="643")
    return row


def update_settings(organization, *, by, **values: Any) -> list[str]:
    """Save the printed city, director and series and the ФИС ФРДО defaults; returns the changed fields."""
    errors = {}
    clean = {}
    for name, value in values.items():
        if name not in SETTINGS_FIELDS:
            raise ValueError(f"unknown certificate setting {name}")
        text = " ".join(str(value or "").split())
        if len(text) > SETTINGS_FIELDS[name]:
            errors[name] = _("At most %(n)d characters.", n=SETTINGS_FIELDS[name])
        clean[name] = text
    code = clean.get("citizenship_code")
    if code and not (code.isdecimal() and len(code) == 3):
        errors["citizenship_code"] = _("Three digits of the OKSM country code (643 for Russia).")
    if errors:
        raise ValidationError.of(errors)
    row = settings_for(organization)
    changed = [k for k, v in clean.items() if getattr(row, k) != v]
    for name in changed:
        setattr(row, name, clean[name])
    if changed:
        db.session.add(row)
        db.session.flush()
        audit.record("certificate_settings_changed", actor=by, organization=organization, fields=changed)
    return changed


def _check_kind(kind: str, field: str = "kind") -> str:
    if kind not in {k.value for k in DocumentKind}:
        raise ValidationError(_("Unknown document kind."), field=field)
    return kind


def current_template(organization, kind: str) -> CertificateTemplate | None:
    """The organization's latest saved version of the template of ``kind`` (None: the default)."""
    return db.session.scalar(select(CertificateTemplate).where(
        CertificateTemplate.organization_id == organization.id, CertificateTemplate.kind == kind)
        .order_by(CertificateTemplate.id.desc()).limit(1))


def template_source(organization, kind: str) -> str:
    row = current_template(organization, kind)
    return row.html if row is not None else templates.default_template(kind)


def save_template(organization, kind: str, html: str, *, by) -> CertificateTemplate:
    """Save a new version of the template after checking it in the sandbox (see certificate_templates)."""
    _check_kind(kind)
    html = (html or "").replace("\r\n", "\n")
    templates.check(html, kind)
    row = CertificateTemplate(organization_id=organization.id, kind=kind, html=html,
                              created_by_id=getattr(by, "id", None))
    db.session.add(row)
    db.session.flush()
    audit.record("certificate_template_changed", actor=by, organization=organization, obj=row, kind=kind)
    return row


# --- numbering -----------------------------------------------------------------------------------

def _insert_ignore():
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def take_numbers(organization_id: int, year: int, count: int) -> range:
    """Reserve ``count`` consecutive registration numbers of an organization's year, in the current
    transaction: one atomic increment, so concurrent issuers queue on the sequence row and a rollback
    returns the numbers."""
    insert = _insert_ignore()
    db.session.execute(insert(CertificateSequence).values(organization_id=organization_id, year=year, last=0)
                       .on_conflict_do_nothing(index_elements=["organization_id", "year"]))
    last = db.session.execute(
        update(CertificateSequence)
        .where(CertificateSequence.organization_id == organization_id, CertificateSequence.year == year)
        .values(last=CertificateSequence.last + count)
        .returning(CertificateSequence.last)
        .execution_options(synchronize_session=False)).scalar_one()
    return range(last - count + 1, last + 1)


def document_number(year: int, registration_number: int) -> str:
    """The printed document number: the two digits of the year and the registration number, e.g. 2600017."""
    return f"{year % 100:02d}{registration_number:05d}"


def new_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


# --- issuing -------------------------------------------------------------------------------------

@dataclass
class IssueItem:
    """One certificate of a bulk issue."""

    holder: Any
    programme: Programme | None
    kind: str
    hours: int
    study_start: date
    study_end: date
    run_id: int | None = None
    enrolment_id: int | None = None
    programme_title: str | None = None


def _item_errors(item: IssueItem, issued_on: date) -> dict[str, str]:
    errors: dict[str, str] = {}
    holder = item.holder
    if holder is None or not getattr(holder, "is_active", False):
        errors["holder"] = _("Choose an active person.")
    elif not (holder.surname and holder.name):
        errors["holder"] = _("The person has no surname or name.")
    if item.kind not in {k.value for k in DocumentKind}:
        errors["kind"] = _("Unknown document kind.")
    title = item.programme.title if item.programme is not None else (item.programme_title or "").strip()
    if item.programme is not None and item.programme.status not in FROZEN:
        errors["programme"] = _("Certificates are issued only for an approved or published programme.")
    elif not title:
        errors["programme"] = _("Choose a programme.")
    elif len(title) > 300:
        errors["programme"] = _("At most %(n)d characters.", n=300)
    if isinstance(item.hours, bool) or not isinstance(item.hours, int) or not 0 < item.hours <= MAX_HOURS:
        errors["hours"] = _("Hours must be a whole number from 1 to %(n)d.", n=MAX_HOURS)
    elif item.hours < KIND_MIN_HOURS.get(item.kind, 0):
        errors["hours"] = _("This document requires at least %(n)d academic hours.",
                            n=KIND_MIN_HOURS[item.kind])
    if not isinstance(item.study_start, date):
        errors["study_start"] = _("Date must be in the format DD.MM.YYYY.")
    if not isinstance(item.study_end, date):
        errors["study_end"] = _("Date must be in the format DD.MM.YYYY.")
    elif isinstance(item.study_start, date) and item.study_end < item.study_start:
        errors["study_end"] = _("The end of study is before its start.")
    elif item.study_end > issued_on:
        errors["study_end"] = _("The end of study is after the date of issue.")
    return errors


def _check_issue_date(issued_on: date | None) -> date:
    today = date.today()
    issued_on = issued_on or today
    if not isinstance(issued_on, date):
        raise ValidationError(_("Date must be in the format DD.MM.YYYY."), field="issued_on")
    # A day of slack: the organization's calendar day may be ahead of the server's.
    if issued_on > today + timedelta(days=1) or issued_on.year < 2000:
        raise ValidationError(_("The date of issue cannot be in the future."), field="issued_on")
    return issued_on


def _snapshot_holder(cert: Certificate, holder) -> None:
    cert.holder_id = holder.id
    cert.holder_surname = holder.surname
    cert.holder_name = holder.name
    cert.holder_patronymic = holder.patronymic or ""
    cert.holder_birth_date = holder.birth_date
    cert.holder_sex = holder.sex
    cert.holder_snils = holder.snils


def _new_certificate(organization, settings: CertificateSettings, template: CertificateTemplate | None,
                     issued_on: date, number: int, *, by) -> Certificate:
    return Certificate(
        organization_id=organization.id, organization_name=organization.name, year=issued_on.year,
        registration_number=number, number=document_number(issued_on.year, number), series=settings.series,
        code=new_code(), issued_on=issued_on, city=settings.city, director_name=settings.director_name,
        director_title=settings.director_title, template_id=template.id if template else None,
        status=CertificateStatus.VALID, revoke_reason="", issued_by_id=getattr(by, "id", None))


def issue_certificates(organization, items: Sequence[IssueItem], *, by, issued_on: date | None = None,
                       ) -> list[Certificate]:
    """Issue several certificates at once: all or nothing, numbered in one pass in the order given.

    Every item is checked first; a ValidationError lists the wrong fields of the first wrong item
    (``errors`` carries ``"<index>.<field>"`` keys for all of them) and nothing is written."""
    issued_on = _check_issue_date(issued_on)
    if not items:
        raise ValidationError(_("Nobody to issue a certificate to."), field="holder")
    all_errors: dict[str, str] = {}
    for index, item in enumerate(items):
        for field, message in _item_errors(item, issued_on).items():
            all_errors[f"{index}.{field}" if len(items) > 1 else field] = message
    if all_errors:
        raise ValidationError.of(all_errors)
    settings = settings_for(organization)
    template_rows = {kind: current_template(organization, kind) for kind in {i.kind for i in items}}
    numbers = take_numbers(organization.id, issued_on.year, len(items))
    certificates = []
    for item, number in zip(items, numbers, strict=True):
        cert = _new_certificate(organization, settings, template_rows[item.kind], issued_on, number, by=by)
        _snapshot_holder(cert, item.holder)
        cert.kind = item.kind
        cert.programme_id = item.programme.id if item.programme is not None else None
        cert.programme_title = item.programme.title if item.programme is not None else item.programme_title.strip()
        cert.programme_kind = item.programme.kind if item.programme is not None else None
        cert.run_id, cert.enrolment_id = item.run_id, item.enrolment_id
        cert.hours, cert.study_start, cert.study_end = item.hours, item.study_start, item.study_end
        certificates.append(cert)
    db.session.add_all(certificates)
    db.session.flush()
    for cert in certificates:
        audit.record("certificate_issued", actor=by, organization=organization, obj=cert,
                     registration_number=cert.registration_number, year=cert.year, holder_id=cert.holder_id)
        signals.certificate_issued.send(cert, by=by)
    return certificates


def issue_certificate(holder, organization, *, programme: Programme | None, kind: str, hours: int,
                      study_start: date, study_end: date, by, issued_on: date | None = None,
                      run_id: int | None = None, enrolment_id: int | None = None,
                      programme_title: str | None = None) -> Certificate:
    """Issue one certificate (course completion and the manual issue form call this). ``programme_title``
    is printed when no programme version is given (a certificate registered for an earlier course)."""
    item = IssueItem(holder=holder, programme=programme, kind=kind, hours=hours, study_start=study_start,
                     study_end=study_end, run_id=run_id, enrolment_id=enrolment_id,
                     programme_title=programme_title)
    return issue_certificates(organization, [item], by=by, issued_on=issued_on)[0]


def revoke(cert: Certificate, reason: str, by) -> None:
    """Revoke a valid certificate (or a replaced original) with a reason; verification shows it revoked."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError(_("Give the reason."), field="reason")
    if len(reason) > 500:
        raise ValidationError(_("At most %(n)d characters.", n=500), field="reason")
    if cert.status == CertificateStatus.REVOKED:
        raise Conflict(_("This certificate is already revoked."))
    cert.status = CertificateStatus.REVOKED
    cert.revoke_reason = reason
    cert.revoked_at = utcnow()
    cert.revoked_by_id = getattr(by, "id", None)
    db.session.flush()
    audit.record("certificate_revoked", actor=by, organization=cert.organization_id, obj=cert, reason=reason,
                 registration_number=cert.registration_number, year=cert.year)


def issue_duplicate(cert: Certificate, by, *, issued_on: date | None = None) -> Certificate:
    """Issue a duplicate of a valid certificate: a new number and code, the same programme, hours and dates,
    the holder's current name; the original becomes «replaced». No ``certificate_issued`` signal: the
    holder's achievement is the same one."""
    if cert.status != CertificateStatus.VALID:
        raise Conflict(_("A duplicate is issued only for a valid certificate."))
    issued_on = _check_issue_date(issued_on)
    organization = cert.organization
    settings = settings_for(organization)
    number = take_numbers(organization.id, issued_on.year, 1)[0]
    dup = _new_certificate(organization, settings, current_template(organization, cert.kind), issued_on, number,
                           by=by)
    _snapshot_holder(dup, cert.holder)
    for name in ("kind", "programme_id", "programme_title", "programme_kind", "run_id", "enrolment_id", "hours",
                 "study_start", "study_end"):
        setattr(dup, name, getattr(cert, name))
    dup.original_id = cert.id
    cert.status = CertificateStatus.REPLACED
    db.session.add(dup)
    db.session.flush()
    audit.record("certificate_duplicate_issued", actor=by, organization=organization, obj=dup,
                 original_id=cert.id, registration_number=dup.registration_number, year=dup.year)
    return dup


def duplicate_of(cert: Certificate) -> Certificate | None:
    """The duplicate that replaced ``cert``, if any."""
    return db.session.scalar(select(Certificate).where(Certificate.original_id == cert.id)
                             .order_by(Certificate.id.desc()).limit(1))


# --- printing ------------------------------------------------------------------------------------

def verify_url(code: str) -> str:
    """The absolute address of the public verification page (printed as a QR code)."""
    base = current_app.config.get("BASE_URL")
    if base:
        return f"{base.rstrip('/')}/verify/{code}"
    if has_request_context() or current_app.config.get("SERVER_NAME"):
        return url_for("certificates.verify", code=code, _external=True)
    return f"http://localhost/verify/{code}"


def certificate_html(cert: Certificate) -> str:
    """The HTML a certificate's PDF is made from: the template version it was issued with, in the sandbox."""
    source = cert.template.html if cert.template is not None else templates.default_template(cert.kind)
    url = verify_url(cert.code)
    try:
        return templates.render(source, templates.context_for(cert, verify_url=url, qr=qr_svg(url)))
    except DomainError:
        raise
    except Exception:  # noqa: BLE001 - a saved template passed the check; this is the last guard
        current_app.logger.exception("certificate %s: template failed, using the default", cert.id)
        return templates.render(templates.default_template(cert.kind),
                                templates.context_for(cert, verify_url=url, qr=qr_svg(url)))


def pdf_key(cert: Certificate) -> str:
    return f"certificates/{cert.organization_id}/{cert.year}/{cert.registration_number:06d}-{cert.code}.pdf"


def store_pdf(cert: Certificate) -> bytes:
    """Render the certificate's PDF and keep it in storage (``cert.pdf_key``); returns the PDF."""
    pdf = render_pdf(certificate_html(cert))
    key = pdf_key(cert)
    get_storage().put_bytes(key, pdf, content_type=PDF_CONTENT_TYPE)
    if cert.pdf_key != key:
        cert.pdf_key = key
        db.session.flush()
    return pdf


def certificate_pdf(cert: Certificate) -> bytes:
    """The stored PDF, made now if it is missing (the issue committed but the PDF was never stored)."""
    if cert.pdf_key:
        try:
            return get_storage().get_bytes(cert.pdf_key)
        except ObjectNotFound:
            pass
    return store_pdf(cert)


def preview_pdf(organization, kind: str, html: str) -> bytes:
    """A PDF of a template being edited, with sample data; the template is checked first."""
    _check_kind(kind)
    return render_pdf(templates.check(html, kind))


def pdf_filename(cert: Certificate) -> str:
    return f"{templates.DOCUMENT_TITLES.get(cert.kind, 'Документ')} {cert.registration_number}-{cert.year} " \
           f"{cert.holder_surname}.pdf"


# --- verification --------------------------------------------------------------------------------

class VerificationThrottled(DomainError):
    status = 429


VERIFY_WINDOW_SECONDS = 900
#: Lookups of unknown codes per address and window (guessing codes), and lookups of any kind.
VERIFY_MAX_MISSES = 20
VERIFY_MAX_LOOKUPS = 300


def check_verification_throttle(ip: str) -> None:
    """Refuse an address that looked up too many codes recently (sliding window, kept in the database)."""
    cfg = current_app.config
    window = cfg.get("VERIFY_WINDOW_SECONDS", VERIFY_WINDOW_SECONDS)
    since = utcnow() - timedelta(seconds=window)
    lookups, misses = db.session.execute(
        select(func.count(VerificationAttempt.id),
               func.count(VerificationAttempt.id).filter(VerificationAttempt.found.is_(False)))
        .where(VerificationAttempt.ip == (ip or ""), VerificationAttempt.at >= since)).one()
    if misses >= cfg.get("VERIFY_MAX_MISSES", VERIFY_MAX_MISSES) or \
            lookups >= cfg.get("VERIFY_MAX_LOOKUPS", VERIFY_MAX_LOOKUPS):
        raise VerificationThrottled(_("Too many checks from your address. Try again in %(n)d min.",
                                      n=max(1, window // 60)))


def find_by_code(code: str | None) -> Certificate | None:
    """The certificate with this verification code; None for an unknown or malformed code."""
    code = (code or "").strip()
    if not CODE_PATTERN.match(code):
        return None
    return db.session.scalar(select(Certificate).where(Certificate.code == code))


def verify(code: str | None, *, ip: str) -> Certificate | None:
    """Look a code up for the public page under throttling; the attempt is recorded (the caller commits).
    The address's attempts older than the window go at the same time, so the table stays small."""
    check_verification_throttle(ip)
    cert = find_by_code(code)
    ip = (ip or "")[:64]
    window = current_app.config.get("VERIFY_WINDOW_SECONDS", VERIFY_WINDOW_SECONDS)
    db.session.execute(delete(VerificationAttempt).where(
        VerificationAttempt.ip == ip, VerificationAttempt.at < utcnow() - timedelta(seconds=window)))
    db.session.add(VerificationAttempt(ip=ip, found=cert is not None))
    return cert


# --- merged people -------------------------------------------------------------------------------

@signals.users_merged.connect
def _move_certificates(keep, merged=None, by=None, **_kwargs) -> None:
    """A merged duplicate's certificates belong to the person kept (the printed snapshot stays as it was)."""
    if merged is None:
        return
    db.session.execute(update(Certificate).where(Certificate.holder_id == merged.id)
                       .values(holder_id=keep.id).execution_options(synchronize_session=False))
