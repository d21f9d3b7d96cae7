"""Business rules for municipalities, organizations, academic years and statuses."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select, update

from lms.core import audit
from lms.core.errors import Conflict, ValidationError
from lms.core.i18n import valid_time_zone
from lms.extensions import db
from lms.orgs.models import (
    AcademicYear,
    Municipality,
    Organization,
    OrganizationKind,
    OrganizationStatus,
    OrganizationStatusKind,
)

CODE = re.compile(r"^[a-z0-9][a-z0-9_\-]{1,39}$")
INN = re.compile(r"^\d{10}$|^\d{12}$")


def _text(value, field: str, *, required: bool = True, max_len: int = 300) -> str:
    text = " ".join(str(value or "").split())
    if required and not text:
        raise ValidationError(_("This field is required."), field=field)
    if len(text) > max_len:
        raise ValidationError(_("At most %(n)d characters.", n=max_len), field=field)
    return text


def _tz(value: str | None, field: str = "time_zone") -> str:
    if not valid_time_zone(value):
        raise ValidationError(_("Unknown time zone."), field=field)
    return value  # type: ignore[return-value]


# --- municipalities ------------------------------------------------------------------------------

def create_municipality(*, name: str, region: str = "", time_zone: str = "Europe/Moscow", by) -> Municipality:
    name = _text(name, "name", max_len=200)
    if db.session.scalar(select(Municipality.id).where(Municipality.name == name)):
        raise Conflict(_("A municipality with this name already exists."), field="name")
    m = Municipality(name=name, region=_text(region, "region", required=False, max_len=200),
                     time_zone=_tz(time_zone))
    db.session.add(m)
    db.session.flush()
    audit.record("municipality_created", actor=by, obj=m, name=name)
    return m


def update_municipality(m: Municipality, *, by, **data) -> None:
    if "name" in data:
        name = _text(data["name"], "name", max_len=200)
        if db.session.scalar(select(Municipality.id).where(Municipality.name == name, Municipality.id != m.id)):
            raise Conflict(_("A municipality with this name already exists."), field="name")
        m.name = name
    if "region" in data:
        m.region = _text(data["region"], "region", required=False, max_len=200)
    if "time_zone" in data:
        m.time_zone = _tz(data["time_zone"])
    audit.record("municipality_updated", actor=by, obj=m)


# --- organizations -------------------------------------------------------------------------------

def clean_org_data(data: dict, *, partial: bool = False) -> dict:
    out: dict = {}
    if "kind" in data or not partial:
        if data.get("kind") not in {k.value for k in OrganizationKind}:
            raise ValidationError(_("Unknown kind of organization."), field="kind")
        out["kind"] = data["kind"]
    if "name" in data or not partial:
        out["name"] = _text(data.get("name"), "name")
    if "short_name" in data or not partial:
        out["short_name"] = _text(data.get("short_name") or out.get("name"), "short_name", max_len=120)
    if "code" in data or not partial:
        code = str(data.get("code") or "").strip().lower()
        if not CODE.match(code):
            raise ValidationError(_("2–40 Latin letters, digits, «-» or «_», e.g. school3."), field="code")
        out["code"] = code
    if "time_zone" in data:
        out["time_zone"] = _tz(data.get("time_zone"))
    if "address" in data:
        out["address"] = _text(data.get("address"), "address", required=False, max_len=500)
    if "inn" in data:
        inn = str(data.get("inn") or "").strip() or None
        if inn is not None and not INN.match(inn):
            raise ValidationError(_("INN must have 10 or 12 digits."), field="inn")
        out["inn"] = inn
    if "is_active" in data:
        out["is_active"] = bool(data["is_active"])
    return out


def create_organization(municipality: Municipality, *, by, **data) -> Organization:
    fields = clean_org_data(data)
    if db.session.scalar(select(Organization.id).where(Organization.code == fields["code"])):
        raise Conflict(_("The code «%(v)s» is already used by another organization.", v=fields["code"]),
                       field="code")
    fields.setdefault("time_zone", municipality.time_zone)
    org = Organization(municipality=municipality, **fields)
    db.session.add(org)
    db.session.flush()
    audit.record("org_created", actor=by, organization=org, obj=org, name=org.name)
    return org


def update_organization(org: Organization, *, by, **data) -> list[str]:
    fields = clean_org_data(data, partial=True)
    if "code" in fields and db.session.scalar(
            select(Organization.id).where(Organization.code == fields["code"], Organization.id != org.id)):
        raise Conflict(_("The code «%(v)s» is already used by another organization.", v=fields["code"]),
                       field="code")
    changed = [k for k, v in fields.items() if getattr(org, k) != v]
    for key in changed:
        setattr(org, key, fields[key])
    if changed:
        audit.record("org_updated", actor=by, organization=org, obj=org, fields=changed)
    return changed


def find_organization(ref: str) -> Organization | None:
    """By code, short name or full name (case-insensitive) — as people write it in CSV files."""
    key = " ".join((ref or "").split())
    if not key:
        return None
    org = db.session.scalar(select(Organization).where(Organization.code == key.lower()))
    if org is not None:
        return org
    for column in (Organization.short_name, Organization.name):
        found = db.session.scalars(select(Organization).where(db.func.lower(column) == key.lower())).all()
        if len(found) == 1:
            return found[0]
    return None


# --- academic years and statuses -----------------------------------------------------------------

def ensure_academic_year(start_year: int, *, by=None) -> AcademicYear:
    if not 2000 <= start_year <= 2100:
        raise ValidationError(_("The year must be between 2000 and 2100."), field="start_year")
    year = db.session.scalar(select(AcademicYear).where(AcademicYear.start_year == start_year))
    if year is None:
        year = AcademicYear(start_year=start_year, starts_on=date(start_year, 9, 1),
                            ends_on=date(start_year + 1, 8, 31))
        db.session.add(year)
        db.session.flush()
        audit.record("academic_year_created", actor=by, obj=year, year=year.name)
    return year


def set_current_year(year: AcademicYear, *, by) -> None:
    db.session.execute(update(AcademicYear).where(AcademicYear.id != year.id).values(is_current=False))
    year.is_current = True
    audit.record("academic_year_current", actor=by, obj=year, year=year.name)


def current_academic_year(today: date | None = None) -> AcademicYear | None:
    year = db.session.scalar(select(AcademicYear).where(AcademicYear.is_current.is_(True)))
    if year is not None:
        return year
    start = AcademicYear.start_year_for(today or date.today())
    return db.session.scalar(select(AcademicYear).where(AcademicYear.start_year == start))


def set_org_status(org: Organization, year: AcademicYear, status: str, *, by, note: str = "") -> OrganizationStatus:
    if status not in {s.value for s in OrganizationStatusKind}:
        raise ValidationError(_("Unknown status."), field="status")
    row = db.session.scalar(select(OrganizationStatus).where(
        OrganizationStatus.organization_id == org.id, OrganizationStatus.academic_year_id == year.id,
        OrganizationStatus.status == status))
    if row is None:
        row = OrganizationStatus(organization_id=org.id, academic_year_id=year.id, status=status)
        db.session.add(row)
    row.note = _text(note, "note", required=False, max_len=500)
    db.session.flush()
    audit.record("org_status_set", actor=by, organization=org, obj=org, status=status, year=year.name)
    return row


def remove_org_status(row: OrganizationStatus, *, by) -> None:
    audit.record("org_status_removed", actor=by, organization=row.organization_id, obj=row.organization,
                 status=row.status, year=row.academic_year.name)
    db.session.delete(row)


def create_academic_year(start_year: int, *, by, make_current: bool = False) -> AcademicYear:
    """A new academic year from the form: unlike ``ensure_academic_year``, an existing year is an error."""
    if db.session.scalar(select(AcademicYear.id).where(AcademicYear.start_year == start_year)):
        raise Conflict(_("The academic year %(y)d/%(z)d already exists.", y=start_year, z=start_year + 1),
                       field="start_year")
    year = ensure_academic_year(start_year, by=by)
    if make_current:
        set_current_year(year, by=by)
    return year
