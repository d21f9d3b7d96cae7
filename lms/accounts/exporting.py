"""Export of people to CSV and XLSX, in the import format (so an exported file can be imported again).

Rules:
* The people are exactly those the people list shows the viewer with the same filters; one line per
  membership in an organization the viewer may see (a person without such a membership gets one line
  with empty organization and role — only a global administrator sees such people).
* СНИЛС, birth date, phone and sex are filled only where the viewer may see personal data (they manage
  one of the person's organizations, as on the person's card); elsewhere they stay empty.
* Every text cell is guarded against formula injection («=…» → «'=…»); the importer strips that guard.
* CSV is UTF-8 with BOM, «,»-separated (Moodle's upload format), produced as a stream; XLSX is written by
  openpyxl in write-only mode, so neither holds the whole set in memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from datetime import date
from typing import IO

from flask import Flask
from flask_babel import gettext as _
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.accounts.models import User
from lms.accounts.queries import PeopleFilter, people_query
from lms.core.errors import ValidationError
from lms.core.validators import format_snils, neutralize_formula, xlsx_cell
from lms.extensions import db
from lms.orgs.models import Membership, Organization
from lms.orgs.permissions import Scope, listable_org_ids, scope_of

COLUMNS = ("username", "lastname", "firstname", "middlename", "email", "organization", "role", "grade",
           "classletter", "phone", "birthdate", "sex", "snils")
FORMATS = ("csv", "xlsx")
SEX_OUT = {"m": "м", "f": "ж"}
CHUNK = 500


#: The command line exports as the system: every organization, every person, personal data included.
SYSTEM = Scope(is_admin=True)


def scope_for(viewer) -> Scope:
    """The viewer's reach as plain data (the export stream may outlive the request's session)."""
    return SYSTEM if viewer is None else scope_of(viewer)


def select_people(scope: Scope, flt: PeopleFilter) -> list[int]:
    """Ids of the people the list page shows for ``flt`` to a viewer with ``scope``, in the list's order."""
    return list(db.session.scalars(people_query(scope, flt, User.id)))


def _row_memberships(person: User, scope: Scope, visible: set[int], flt: PeopleFilter) -> list[Membership]:
    out = []
    for m in person.memberships:
        if not scope.is_admin and m.organization_id not in visible:
            continue
        if flt.org_id is not None and m.organization_id != flt.org_id:
            continue
        if flt.role and m.role != flt.role:
            continue
        if flt.grade is not None and m.grade != flt.grade:
            continue
        out.append(m)
    return out


def _date(value: date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else ""


def person_rows(person: User, memberships: list[Membership], *, personal: bool) -> Iterator[list]:
    base = [person.username, person.surname, person.name, person.patronymic or "", person.email or ""]
    private = [person.phone or "", _date(person.birth_date), SEX_OUT.get(person.sex or "", ""),
               format_snils(person.snils)] if personal else ["", "", "", ""]
    for m in memberships or [None]:
        if m is None:
            middle = ["", "", "", ""]
        else:
            middle = [m.organization.code, m.role, m.grade if m.grade is not None else "", m.class_letter or ""]
        yield [neutralize_formula(v) for v in base + middle + private]


def iter_rows(scope: Scope, user_ids: list[int], flt: PeopleFilter) -> Iterator[list]:
    """The export's data lines (without the header), loading people in chunks of CHUNK."""
    visible = set(listable_org_ids(scope))
    own_id = scope.user_id
    for i in range(0, len(user_ids), CHUNK):
        chunk = user_ids[i:i + CHUNK]
        people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(chunk)).options(
            selectinload(User.memberships).selectinload(Membership.organization)))}
        for user_id in chunk:
            person = people[user_id]
            personal = scope.is_admin or person.id == own_id or any(
                m.organization_id in scope.managed_org_ids for m in person.memberships)
            yield from person_rows(person, _row_memberships(person, scope, visible, flt), personal=personal)


def _csv_text(rows: Iterable[list], *, header: bool = False) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header:
        buffer.write("\ufeff")
        writer.writerow(COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue()


def csv_chunks(scope: Scope, user_ids: list[int], flt: PeopleFilter, *, app: Flask | None = None) -> Iterator[str]:
    """The CSV as text chunks: BOM and header first, then CHUNK people at a time.

    With ``app`` every chunk is produced inside an application context (and database session) of its own,
    pushed and popped within one step of the generator: a streamed response body is read after the view
    has returned and its context is gone."""
    yield _csv_text((), header=True)
    for i in range(0, len(user_ids), CHUNK):
        with app.app_context() if app is not None else nullcontext():
            text = _csv_text(iter_rows(scope, user_ids[i:i + CHUNK], flt))
        yield text


def write_xlsx(rows: Iterable[list], out: IO[bytes]) -> None:
    """An .xlsx workbook (one sheet, header row) in openpyxl's write-only mode; text stays text."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_("People")[:31] or "People")
    ws.append(list(COLUMNS))
    for row in rows:
        ws.append([xlsx_cell(v) for v in row])
    wb.save(out)


def parse_format(value: str | None) -> str:
    fmt = (value or "csv").lower()
    if fmt not in FORMATS:
        raise ValidationError(_("Format must be csv or xlsx."), field="format")
    return fmt


def export_filename(fmt: str, organization: Organization | None = None, today: date | None = None) -> str:
    """E.g. «Люди — Школа № 3 — 2026-05-01.csv» (Content-Disposition carries it in UTF-8)."""
    parts = [_("People")]
    if organization is not None:
        parts.append("".join(c for c in organization.short_name if c not in '/\\:*?"<>|'))
    parts.append((today or date.today()).isoformat())
    return " — ".join(parts) + f".{fmt}"
