"""Export of issued ДПО documents to ФИС ФРДО: the preflight check and the XLSX in the registry's template.

The file has exactly one visible sheet, «Шаблон», with the columns of the ДПО template in the order
RULES-RU.md lists. Dates are ДД.ММ.ГГГГ, СНИЛС is ``000-000-000 00``, a missing series is «Нет», the
document status is «Оригинал» or «Дубликат» (a duplicate also fills the original document's columns),
sex is «Муж» / «Жен». Columns the server holds no data for (field of professional activity, group of
specialities, qualification, the holder's higher or vocational education document) are left empty for
the coordinator to fill in the file.

Personal data come from what was printed on the certificate; where the certificate has no СНИЛС, birth
date or sex, the holder's current profile is used, so fixing a profile and checking again is enough.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import IO

from flask_babel import gettext as _
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lms.core.errors import ValidationError
from lms.core.validators import format_snils, normalize_snils, xlsx_cell
from lms.courses.certificates import settings_for
from lms.courses.models.certificates import Certificate, CertificateStatus, DocumentKind
from lms.extensions import db

SHEET_NAME = "Шаблон"
COLUMNS = (
    "Вид документа",
    "Статус документа",
    "Подтверждение утраты",
    "Подтверждение обмена",
    "Подтверждение уничтожения",
    "Серия документа",
    "Номер документа",
    "Дата выдачи документа",
    "Регистрационный номер",
    "Дополнительная профессиональная программа (повышение квалификации / профессиональная переподготовка)",
    "Наименование дополнительной профессиональной программы",
    "Наименование области профессиональной деятельности",
    "Укрупненные группы специальностей",
    "Наименование квалификации, профессии, специальности",
    "Уровень образования ВО/СПО",
    "Фамилия, указанная в дипломе о ВО или СПО",
    "Серия документа о ВО/СПО",
    "Номер документа о ВО/СПО",
    "Год начала обучения",
    "Год окончания обучения",
    "Срок обучения, часов",
    "Фамилия получателя",
    "Имя получателя",
    "Отчество получателя",
    "Дата рождения получателя",
    "Пол получателя",
    "СНИЛС",
    "Форма обучения",
    "Источник финансирования обучения",
    "Форма получения образования на момент прекращения образовательных отношений",
    "Гражданство получателя (код страны по ОКСМ)",
    "Наименование документа об образовании (оригинала)",
    "Серия (оригинала)",
    "Номер (оригинала)",
    "Регистрационный N (оригинала)",
    "Дата выдачи (оригинала)",
    "Фамилия получателя (оригинала)",
    "Имя получателя (оригинала)",
    "Отчество получателя (оригинала)",
    "Номер документа для изменения",
)

#: Documents that are reported to the registry as ДПО documents, with their names there.
FRDO_KINDS = {
    DocumentKind.PD_CERTIFICATE: "Удостоверение о повышении квалификации",
    DocumentKind.RETRAINING_DIPLOMA: "Диплом о профессиональной переподготовке",
    DocumentKind.STATEMENT: "Справка об обучении",
}
PROGRAMME_KINDS = {"pd": "Повышение квалификации", "retraining": "Профессиональная переподготовка"}
SEX = {"m": "Муж", "f": "Жен"}
NO_SERIES = "Нет"
MAX_NAME = 50
MAX_PERIOD_DAYS = 3 * 366


def _d(value: date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else ""


@dataclass
class Finding:
    """One problem of the preflight: ``cert`` is None for a problem of the organization's settings."""

    cert: Certificate | None
    field: str
    message: str

    @property
    def person(self) -> str:
        return self.cert.holder_full_name if self.cert is not None else ""


@dataclass
class Preflight:
    certificates: list[Certificate]
    findings: list[Finding]
    revoked: int

    @property
    def problem_ids(self) -> set[int]:
        return {f.cert.id for f in self.findings if f.cert is not None}

    @property
    def ok(self) -> bool:
        return not self.findings


def check_period(start: date | None, end: date | None) -> tuple[date, date]:
    errors = {}
    if start is None:
        errors["start"] = _("Date must be in the format DD.MM.YYYY.")
    if end is None:
        errors["end"] = _("Date must be in the format DD.MM.YYYY.")
    elif start is not None and end < start:
        errors["end"] = _("The end of the period is before its start.")
    elif start is not None and (end - start).days > MAX_PERIOD_DAYS:
        errors["end"] = _("The period is longer than three years.")
    if errors:
        raise ValidationError.of(errors)
    return start, end


def certificates_for(organization, start: date, end: date) -> tuple[list[Certificate], int]:
    """ДПО documents the organization issued in the period, by number; and how many were revoked (left out)."""
    rows = db.session.scalars(
        select(Certificate).where(Certificate.organization_id == organization.id,
                                  Certificate.issued_on >= start, Certificate.issued_on <= end,
                                  Certificate.kind.in_([k.value for k in FRDO_KINDS]))
        .options(joinedload(Certificate.holder), joinedload(Certificate.original))
        .order_by(Certificate.year, Certificate.registration_number)).all()
    kept = [c for c in rows if c.status != CertificateStatus.REVOKED]
    return kept, len(rows) - len(kept)


def _personal(cert: Certificate) -> tuple[str | None, date | None, str | None]:
    holder = cert.holder
    return (cert.holder_snils or (holder.snils if holder else None),
            cert.holder_birth_date or (holder.birth_date if holder else None),
            cert.holder_sex or (holder.sex if holder else None))


def _is_cyrillic_letter(char: str) -> bool:
    return "а" <= char.lower() <= "я" or char.lower() == "ё"


def _name_problem(value: str, *, required: bool) -> str | None:
    if not value:
        return _("Missing.") if required else None
    if len(value) > MAX_NAME:
        return _("Longer than %(n)d characters.", n=MAX_NAME)
    if any("a" <= c.lower() <= "z" for c in value):
        return _("Latin letters in a name: the registry accepts Cyrillic only.")
    if any(not (_is_cyrillic_letter(c) or c in " -'") for c in value):
        return _("Characters other than Cyrillic letters, spaces and hyphens.")
    return None


def _findings_of(cert: Certificate) -> Iterable[Finding]:
    names = ((_("Surname"), cert.holder_surname, True), (_("Name"), cert.holder_name, True),
             (_("Patronymic"), cert.holder_patronymic, False))
    for label, value, required in names:
        problem = _name_problem(value or "", required=required)
        if problem:
            yield Finding(cert, label, problem)
    snils, birth_date, sex = _personal(cert)
    if not snils:
        yield Finding(cert, _("SNILS"), _("Missing."))
    else:
        try:
            normalize_snils(snils)
        except ValueError as exc:
            yield Finding(cert, _("SNILS"), str(exc))
    if birth_date is None:
        yield Finding(cert, _("Birth date"), _("Missing."))
    if sex not in SEX:
        yield Finding(cert, _("Sex"), _("Missing."))
    if cert.programme_kind not in PROGRAMME_KINDS:
        yield Finding(cert, _("Programme"), _("Not a professional development or retraining programme: "
                                              "the registry's programme column cannot be filled."))


def preflight(organization, start: date, end: date) -> Preflight:
    """What is missing or invalid, per certificate, before the file is made."""
    certificates, revoked = certificates_for(organization, start, end)
    findings: list[Finding] = []
    settings = settings_for(organization)
    for label, value in ((_("Form of study"), settings.study_form), (_("Source of funding"), settings.funding_source),
                         (_("Form of education"), settings.education_form)):
        if not value and certificates:
            findings.append(Finding(None, label, _("Not set in the organization's document settings.")))
    for cert in certificates:
        findings.extend(_findings_of(cert))
    return Preflight(certificates, findings, revoked)


def _original_columns(cert: Certificate) -> list:
    original = cert.original
    if original is None:
        return [""] * 8
    return [FRDO_KINDS.get(original.kind, ""), original.series or NO_SERIES, original.number,
            str(original.registration_number), _d(original.issued_on), original.holder_surname,
            original.holder_name, original.holder_patronymic or ""]


def row_of(cert: Certificate, settings) -> list:
    snils, birth_date, sex = _personal(cert)
    row = [
        FRDO_KINDS.get(cert.kind, ""),
        "Дубликат" if cert.original_id is not None else "Оригинал",
        "Да" if cert.status == CertificateStatus.REPLACED else "",
        "",
        "",
        cert.series or NO_SERIES,
        cert.number,
        _d(cert.issued_on),
        str(cert.registration_number),
        PROGRAMME_KINDS.get(cert.programme_kind or "", ""),
        cert.programme_title,
        "", "", "", "", "", "", "",
        cert.study_start.year,
        cert.study_end.year,
        cert.hours,
        cert.holder_surname,
        cert.holder_name,
        cert.holder_patronymic or "",
        _d(birth_date),
        SEX.get(sex or "", ""),
        format_snils(snils),
        settings.study_form,
        settings.funding_source,
        settings.education_form,
        settings.citizenship_code,
        *_original_columns(cert),
        "",
    ]
    assert len(row) == len(COLUMNS)
    return [xlsx_cell(v) for v in row]


def write_xlsx(organization, certificates: Iterable[Certificate], out: IO[bytes]) -> int:
    """Write the registry's workbook (one sheet «Шаблон», header row, one row per document); returns rows."""
    settings = settings_for(organization)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=SHEET_NAME)
    ws.append(list(COLUMNS))
    n = 0
    for cert in certificates:
        ws.append(row_of(cert, settings))
        n += 1
    wb.save(out)
    return n


def export_filename(organization, start: date, end: date) -> str:
    name = "".join(c for c in organization.short_name if c not in '/\\:*?"<>|')
    return f"ФРДО — {name} — {start.isoformat()}–{end.isoformat()}.xlsx"
