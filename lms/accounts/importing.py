"""Bulk import of people from a CSV file (Moodle's «upload users» columns where they overlap).

The rules this module enforces:

* Every line is checked and every bad line is reported as ``{line, column, message}`` — ``line`` is the
  physical line of the file (the header is line 1), ``column`` the header as written in the file.
* A dry run writes nothing but the job row. A real run checks the same way and writes nothing if any line
  is bad; otherwise it writes every line in ONE transaction (all or nothing).
* Passwords are hashed before the write transaction opens (in threads: argon2 releases the GIL), so the
  database write lock is held only for the inserts. Plaintext passwords never reach the database: the
  initial ones go to a credentials CSV in storage that the job's creator may download once.
* Progress (``processed``/``total``, ``heartbeat_at``) is committed in short transactions every
  ``PROGRESS_EVERY`` lines; a job whose heartbeat stops is flipped to «interrupted» by
  :func:`mark_interrupted` and can be run again from its stored file.

Entry points: :func:`create_job` (store the file, add the job), :func:`run_job` (the background worker,
also used by the CLI), :func:`rerun_job`, :func:`take_credentials`, :func:`mark_interrupted`.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import secrets
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app, g
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from lms.accounts import services
from lms.accounts.models import ImportJob, User
from lms.accounts.passwords import generate_password, hash_password, password_problem
from lms.accounts.permissions import can_edit_person
from lms.core import audit, signals
from lms.core.db import utcnow
from lms.core.errors import DomainError
from lms.core.storage import ObjectNotFound, get_storage
from lms.core.validators import neutralize_formula
from lms.extensions import db
from lms.labels import ROLE_LABELS
from lms.orgs.models import Membership, Organization, Role
from lms.orgs.permissions import can_grant_role, forget_scope, scope_of
from lms.orgs.services import find_organization

log = logging.getLogger(__name__)

#: Canonical column names, in the order of a template file.
COLUMNS = ("username", "password", "lastname", "firstname", "middlename", "email", "organization", "role",
           "grade", "classletter", "phone", "birthdate", "sex", "snils")
#: Header spellings people use (compared lower-case, without spaces, «_», «-», «.»; «ё» as «е»).
COLUMN_ALIASES = {
    "username": ("username", "login", "user", "логин", "пользователь", "имяпользователя", "учетнаязапись"),
    "password": ("password", "пароль"),
    "firstname": ("firstname", "first", "name", "givenname", "имя"),
    "lastname": ("lastname", "last", "surname", "familyname", "фамилия"),
    "middlename": ("middlename", "middle", "patronymic", "отчество"),
    "email": ("email", "mail", "emailaddress", "почта", "электроннаяпочта", "эл.почта", "адресэлектроннойпочты"),
    "organization": ("organization", "organisation", "org", "school", "institution", "организация", "оо",
                     "школа", "образовательнаяорганизация", "учреждение"),
    "role": ("role", "роль"),
    "grade": ("grade", "class", "form", "класс", "параллель"),
    "classletter": ("classletter", "letter", "литера", "буква", "букваkласса", "букваkласса", "букваkл"),
    "phone": ("phone", "phone1", "tel", "telephone", "телефон"),
    "birthdate": ("birthdate", "birthday", "dateofbirth", "датарождения", "деньрождения"),
    "sex": ("sex", "gender", "пол"),
    "snils": ("snils", "снилс"),
}
ROLE_ALIASES = {
    Role.STUDENT: ("student", "pupil", "ученик", "ученица", "учащийся", "учащаяся", "обучающийся",
                   "обучающаяся", "школьник", "школьница"),
    Role.TEACHER: ("teacher", "editingteacher", "учитель", "учительница", "педагог", "преподаватель"),
    Role.METHODOLOGIST: ("methodologist", "методист"),
    Role.ORG_ADMIN: ("org_admin", "orgadmin", "admin", "administrator", "manager", "администратор",
                     "администраторорганизации"),
    Role.COORDINATOR: ("coordinator", "координатор", "муниципальныйкоординатор"),
}
SEX_ALIASES = {"m": ("m", "male", "м", "муж", "мужской"), "f": ("f", "female", "ж", "жен", "женский")}
#: Import column → person field of ``services.clean_person_data``.
PERSON_COLUMNS = {"lastname": "surname", "firstname": "name", "middlename": "patronymic", "email": "email",
                  "phone": "phone", "birthdate": "birth_date", "sex": "sex", "snils": "snils"}
REQUIRED = ("username", "firstname", "lastname", "role")
_COLUMN_OF_FIELD = {v: k for k, v in PERSON_COLUMNS.items()} | {"class_letter": "classletter"}

PROGRESS_EVERY = 50
STALE_AFTER = timedelta(minutes=5)
HASH_CHUNK = 50
FINISHED = frozenset({"done", "failed", "interrupted"})

ProgressFn = Callable[[str, int, int], None]


def _key(text: str) -> str:
    return re.sub(r"[\s_\-.]", "", text.strip().lower().replace("ё", "е"))


_COLUMN_BY_KEY = {_key(alias): col for col, aliases in COLUMN_ALIASES.items() for alias in aliases}
_ROLE_BY_KEY = {_key(alias): str(role) for role, aliases in ROLE_ALIASES.items() for alias in aliases}
_SEX_BY_KEY = {alias: code for code, aliases in SEX_ALIASES.items() for alias in aliases}
_GRADE = re.compile(r"^(\d{1,2})\s*[-\s]?\s*([A-Za-zА-ЯЁа-яё]{0,4})$")
_DMY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_FORMULA_PREFIXES = ("=", "+", "-", "@")
_SEP_HINT = re.compile(r"^sep=([,;\t])$", re.IGNORECASE)


def column_for_header(header: str) -> str | None:
    """The canonical column a header names (``Фамилия`` → ``lastname``), or None if unknown."""
    return _COLUMN_BY_KEY.get(_key(header))


def role_for(value: str) -> str | None:
    return _ROLE_BY_KEY.get(_key(value))


def _error(line: int | None, column: str | None, message: str) -> dict[str, Any]:
    return {"line": line, "column": column, "message": str(message)}


# --- reading the file ----------------------------------------------------------------------------

@dataclass
class Table:
    """A decoded CSV file: canonical columns, the labels the file used, and the data lines."""

    encoding: str = ""
    delimiter: str = ","
    labels: dict[str, str] = field(default_factory=dict)
    #: (physical line, {canonical column: value}, values outside the named columns)
    rows: list[tuple[int, dict[str, str], bool]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


def decode(data: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM), else Windows-1251 — what Excel saves as «CSV» on a Russian Windows."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1251"), "windows-1251"


def sniff_delimiter(header_line: str) -> str:
    """The most frequent of «,», «;» and tab in the header line («,» when none occurs)."""
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_table(data: bytes, *, max_rows: int) -> Table:
    """Decode and split the file; problems with the file as a whole come back in ``Table.errors``."""
    table = Table()
    if not data.strip():
        table.errors.append(_error(None, None, _("The file is empty.")))
        return table
    if b"\x00" in data:
        table.errors.append(_error(None, None, _(
            "This is not a CSV text file. In Excel use «Save as» → «CSV UTF-8» or «CSV (delimited by semicolons)».")))
        return table
    try:
        text, table.encoding = decode(data)
    except UnicodeDecodeError:
        table.errors.append(_error(None, None, _("The file is neither UTF-8 nor Windows-1251 text.")))
        return table
    first = next((line for line in text.splitlines() if line.strip()), "")
    hint = _SEP_HINT.match(first.strip())
    table.delimiter = hint[1] if hint else sniff_delimiter(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=table.delimiter)
    columns: list[str | None] | None = None
    last = 0
    if hint:
        # Excel's «sep=;» line names the separator; the header follows it.
        next(reader)
        last = reader.line_num
    try:
        for cells in reader:
            line, last = last + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if columns is None:
                columns = _read_header(cells, line, table)
                if table.errors:
                    return table
                continue
            if len(table.rows) >= max_rows:
                table.errors.append(_error(None, None, _(
                    "The file has more than %(max)d lines of data; split it into several files.", max=max_rows)))
                return table
            values = {col: cell.strip() for col, cell in zip(columns, cells, strict=False) if col}
            extra = any(cell.strip() for col, cell in zip(columns, cells, strict=False) if col is None) or any(
                cell.strip() for cell in cells[len(columns):])
            table.rows.append((line, values, extra))
    except csv.Error as exc:
        table.errors.append(_error(reader.line_num, None, _("The file cannot be read here: %(e)s", e=str(exc))))
        return table
    if columns is None or not table.rows:
        table.errors.append(_error(None, None, _("The file has no lines of data under the header.")))
    return table


def _read_header(cells: list[str], line: int, table: Table) -> list[str | None]:
    columns: list[str | None] = []
    unknown: list[str] = []
    repeated: list[str] = []
    for cell in cells:
        label = cell.strip()
        col = column_for_header(label) if label else None
        if label and col is None:
            unknown.append(label)
        if col is not None and col in table.labels:
            repeated.append(label)
        if col is not None:
            table.labels.setdefault(col, label)
        columns.append(col)
    if unknown:
        table.errors.append(_error(line, None, _(
            "Unknown columns: %(names)s. Known columns: %(known)s.",
            names=", ".join(f"«{u}»" for u in unknown), known=", ".join(COLUMNS))))
    if repeated:
        table.errors.append(_error(line, None, _("Columns given twice: %(names)s.",
                                                 names=", ".join(f"«{r}»" for r in repeated))))
    return columns


def _required_missing(table: Table, *, default_org: bool) -> list[str]:
    required = REQUIRED if default_org else REQUIRED + ("organization",)
    return [col for col in required if col not in table.labels]


# --- checking lines ------------------------------------------------------------------------------

@dataclass
class Planned:
    """One good line, ready to write."""

    line: int
    username: str
    fields: dict[str, Any]
    #: person fields whose cell was empty: an update leaves them as they are
    blank: frozenset[str]
    org: Organization
    role: str
    grade: int | None
    class_letter: str | None
    password: str | None
    existing_id: int | None = None
    #: first line of this login in the file (later lines only add roles)
    first: bool = True


def unneutralize(value: str) -> str:
    """Undo an export's formula guard («'=…» → «=…»), so an exported file re-imports unchanged."""
    if len(value) > 1 and value[0] == "'" and value[1] in _FORMULA_PREFIXES:
        return value[1:]
    return value


def parse_date(value: str) -> date:
    """ДД.ММ.ГГГГ or ГГГГ-ММ-ДД; ValueError otherwise."""
    m = _DMY.match(value)
    if m:
        return date(int(m[3]), int(m[2]), int(m[1]))
    m = _ISO.match(value)
    if m:
        return date(int(m[1]), int(m[2]), int(m[3]))
    raise ValueError(value)


def parse_grade(value: str) -> tuple[int, str | None]:
    """«7» → (7, None); «7А», «10 Б», «5-В» → (grade, letter); ValueError otherwise."""
    m = _GRADE.match(value.strip())
    if not m:
        raise ValueError(value)
    return int(m[1]), (m[2].upper() or None)


class Checker:
    """Checks lines against the rules and against the database as it is now.

    Per-line rules reuse ``services`` (names, e-mail, СНИЛС, login) and the permission predicates
    (``can_grant_role``, ``can_edit_person``); their answers are cached per organization and role, and per
    kind of existing person, so a 20,000-line file costs a handful of permission queries.
    """

    def __init__(self, table: Table, *, actor: User | None, default_org: Organization | None,
                 update_existing: bool):
        self.table = table
        self.actor = actor
        self.default_org = default_org
        self.update_existing = update_existing
        self.errors: list[dict[str, Any]] = []
        self.plans: list[Planned] = []
        self._orgs: dict[str, Organization | None] = {}
        self._grant: dict[tuple[int, str], bool] = {}
        self._edit: dict[tuple, bool] = {}
        self._logins: dict[str, tuple[int, tuple]] = {}
        self._roles: dict[tuple[str, int, str], int] = {}
        self._emails: dict[str, tuple[int, str]] = {}
        self._snils: dict[str, tuple[int, str]] = {}
        self.existing: dict[str, User] = {}
        self.owner_of_email: dict[str, str] = {}
        self.owner_of_snils: dict[str, str] = {}
        self.had_roles: set[tuple[str, int, str]] = set()

    def label(self, column: str) -> str:
        return self.table.labels.get(column, column)

    # -- cached lookups

    def organization(self, ref: str) -> Organization | None:
        key = " ".join(ref.split()).casefold()
        if key not in self._orgs:
            self._orgs[key] = find_organization(ref)
        return self._orgs[key]

    def may_grant(self, org: Organization, role: str) -> bool:
        if self.actor is None:
            return True
        key = (org.id, role)
        if key not in self._grant:
            self._grant[key] = can_grant_role(self.actor, org, role)
        return self._grant[key]

    def may_edit(self, person: User) -> bool:
        if self.actor is None:
            return True
        # can_edit_person reads only these facts about the person: cache its answer per combination.
        key = (person.is_admin, frozenset((m.organization_id, m.role, m.organization.municipality_id)
                                          for m in person.memberships))
        if key not in self._edit:
            self._edit[key] = can_edit_person(self.actor, person)
        return self._edit[key]

    # -- the run

    def check(self, progress: ProgressFn) -> None:
        """Fill ``plans`` (when every line is good) and ``errors``."""
        missing = _required_missing(self.table, default_org=self.default_org is not None)
        if missing:
            self.errors.append(_error(1, None, _("Required columns are missing: %(names)s.",
                                                 names=", ".join(missing))))
            return
        total = len(self.table.rows)
        cleaned: list[tuple[int, dict[str, Any]]] = []
        for n, (line, values, extra) in enumerate(self.table.rows, start=1):
            row = self._clean_line(line, values, extra)
            if row is not None:
                cleaned.append((line, row))
            if n % PROGRESS_EVERY == 0:
                progress("checking", n, total)
        self._load_existing(row for _line, row in cleaned)
        for line, row in cleaned:
            self._check_against_others(line, row)
        progress("checking", total, total)
        # Line-local errors come first, repeats and clashes second: show them in file order.
        self.errors.sort(key=lambda e: e["line"] or 0)
        if self.errors:
            self.plans = []

    def _err(self, line: int, column: str | None, message: str) -> None:
        self.errors.append(_error(line, self.label(column) if column else None, message))

    def _clean_line(self, line: int, values: dict[str, str], extra: bool) -> dict[str, Any] | None:
        """Rules that need only the line itself; returns the cleaned line or None if it is bad."""
        before = len(self.errors)
        if extra:
            self._err(line, None, _("The line has more values than the header has columns; put values "
                                    "containing «%(d)s» in double quotes.", d=self.table.delimiter))
        row: dict[str, Any] = {"fields": {}, "blank": set()}
        try:
            row["username"] = services.normalize_username(values.get("username", ""))
        except DomainError as exc:
            self._err(line, "username", exc.message)
        for column, key in PERSON_COLUMNS.items():
            if column in values:
                self._clean_person_field(line, row, column, key, unneutralize(values[column]))
        row["org"] = self._line_org(line, values.get("organization", ""))
        row["role"] = self._line_role(line, values.get("role", ""))
        row["grade"], row["class_letter"] = self._line_class(line, values, row["role"])
        if row["org"] is not None and row["role"] is not None and not self.may_grant(row["org"], row["role"]):
            if self.actor is not None and not scope_of(self.actor).manages(row["org"].id):
                self._err(line, "organization", _("You do not manage «%(org)s»: you may not add people there.",
                                                  org=row["org"].short_name))
            else:
                self._err(line, "role", _("You may not give the role «%(role)s» in «%(org)s».",
                                          role=ROLE_LABELS.get(row["role"], row["role"]), org=row["org"].short_name))
        row["password"] = values.get("password") or None
        if row["password"]:
            problem = password_problem(row["password"], username=row.get("username", ""),
                                       email=row["fields"].get("email"))
            if problem:
                self._err(line, "password", problem)
        return row if len(self.errors) == before else None

    def _clean_person_field(self, line: int, row: dict, column: str, key: str, raw: str) -> None:
        value: Any = raw
        if not raw:
            row["blank"].add(key)
        if column == "birthdate" and raw:
            try:
                value = parse_date(raw)
            except ValueError:
                self._err(line, column, _("Date must be in the format DD.MM.YYYY or YYYY-MM-DD."))
                return
        elif column == "birthdate":
            value = None
        elif column == "sex":
            value = _SEX_BY_KEY.get(raw.lower(), raw) if raw else None
        try:
            row["fields"].update(services.clean_person_data({key: value}, partial=True))
        except DomainError as exc:
            self._err(line, column, exc.message)

    def _line_org(self, line: int, ref: str) -> Organization | None:
        if not ref:
            if self.default_org is None:
                self._err(line, "organization", _("This field is required."))
            return self.default_org
        org = self.organization(ref)
        if org is None:
            self._err(line, "organization", _("Unknown organization «%(v)s»: give its code, short or full name.",
                                              v=ref))
        elif not org.is_active:
            self._err(line, "organization", _("The organization «%(v)s» is deactivated.", v=org.short_name))
            return None
        return org

    def _line_role(self, line: int, value: str) -> str | None:
        if not value:
            self._err(line, "role", _("This field is required."))
            return None
        role = role_for(value)
        if role is None:
            self._err(line, "role", _("Unknown role «%(v)s»: student, teacher, methodologist, org_admin or "
                                      "coordinator (or in Russian: ученик, учитель, методист, администратор, "
                                      "координатор).", v=value))
        return role

    def _line_class(self, line: int, values: dict[str, str], role: str | None) -> tuple[int | None, str | None]:
        if role != Role.STUDENT:
            return None, None
        raw, letter_raw = values.get("grade", ""), values.get("classletter", "")
        if not raw:
            self._err(line, "grade", _("A student needs a grade (0–11)."))
            return None, None
        try:
            grade, letter = parse_grade(raw)
        except ValueError:
            self._err(line, "grade", _("Grade: a number from 0 to 11, with a class letter if you like (7, 7А, 10Б)."))
            return None, None
        if not 0 <= grade <= 11:
            self._err(line, "grade", _("Grade must be from 0 to 11."))
            return None, None
        if letter_raw:
            try:
                letter = services.check_class_letter(letter_raw)
            except DomainError as exc:
                self._err(line, "classletter", exc.message)
                return None, None
        return grade, letter

    def _load_existing(self, rows: Iterable[dict[str, Any]]) -> None:
        """Who among the file's logins, e-mails and СНИЛС already exists: a few IN queries, not one per line."""
        rows = list(rows)
        logins = sorted({r["username"] for r in rows})
        emails = sorted({r["fields"]["email"] for r in rows if r["fields"].get("email")})
        snils = sorted({r["fields"]["snils"] for r in rows if r["fields"].get("snils")})
        for chunk in _chunks(logins, 500):
            for user in db.session.scalars(select(User).where(User.username.in_(chunk)).options(
                    selectinload(User.memberships).selectinload(Membership.organization))):
                self.existing[user.username] = user
                self.had_roles |= {(user.username, m.organization_id, m.role) for m in user.memberships}
        for values, column, owners in ((emails, User.email, self.owner_of_email),
                                       (snils, User.snils, self.owner_of_snils)):
            for chunk in _chunks(values, 500):
                for username, value in db.session.execute(select(User.username, column).where(column.in_(chunk))):
                    owners[value] = username

    def _check_against_others(self, line: int, row: dict[str, Any]) -> None:
        """Repeats inside the file and clashes with people who already exist."""
        before = len(self.errors)
        username, fields = row["username"], row["fields"]
        identity = (tuple(sorted((k, str(v)) for k, v in fields.items())), row["password"])
        first = username not in self._logins
        if not first:
            seen_line, seen_identity = self._logins[username]
            role_key = (username, row["org"].id, row["role"])
            if seen_identity != identity:
                self._err(line, "username", _("The login «%(v)s» is also on line %(n)d, with other personal data.",
                                              v=username, n=seen_line))
            elif role_key in self._roles:
                self._err(line, "role", _("Line %(n)d already gives this person this role in this organization.",
                                          n=self._roles[role_key]))
        for column, key, seen, owners in (("email", "email", self._emails, self.owner_of_email),
                                          ("snils", "snils", self._snils, self.owner_of_snils)):
            value = fields.get(key)
            if not value:
                continue
            if value in seen and seen[value][1] != username:
                self._err(line, column, _("The same value is on line %(n)d, for the login «%(v)s».",
                                          n=seen[value][0], v=seen[value][1]))
            owner = owners.get(value)
            if owner is not None and owner != username:
                self._err(line, column, _("This value already belongs to another person (login «%(v)s»).", v=owner))
        existing = self.existing.get(username)
        if existing is not None and first:
            if not self.update_existing:
                self._err(line, "username", _("A person with the login «%(v)s» already exists. Tick «update people "
                                              "who already exist» to update them.", v=username))
            elif not self.may_edit(existing):
                self._err(line, "username", _("The person «%(v)s» belongs to organizations you do not manage: you "
                                              "may not change them.", v=username))
        if len(self.errors) != before:
            return
        self._logins.setdefault(username, (line, identity))
        self._roles.setdefault((username, row["org"].id, row["role"]), line)
        for key, seen in (("email", self._emails), ("snils", self._snils)):
            if fields.get(key):
                seen.setdefault(fields[key], (line, username))
        self.plans.append(Planned(
            line=line, username=username, fields=fields, blank=frozenset(row["blank"]), org=row["org"],
            role=row["role"], grade=row["grade"], class_letter=row["class_letter"], password=row["password"],
            existing_id=existing.id if existing is not None else None, first=first))

    def summary(self) -> dict[str, int]:
        """What a run would do (the dry run shows it; the real run reports what it did)."""
        new_logins = {p.username for p in self.plans if p.existing_id is None}
        return {
            "rows": len(self.table.rows),
            "created": len(new_logins),
            "updated": len({p.username for p in self.plans if p.existing_id is not None}),
            "memberships": sum(1 for p in self.plans
                               if (p.username, p.org.id, p.role) not in self.had_roles),
        }


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


# --- passwords and writing -----------------------------------------------------------------------

def _hash_chunk(app, passwords: list[str]) -> list[str]:
    with app.app_context():
        return [hash_password(pw) for pw in passwords]


def hash_passwords(passwords: list[str], progress: Callable[[int], None] | None = None) -> list[str]:
    """Hash in a thread pool (argon2-cffi releases the GIL), in order; ``progress(done)`` after each chunk."""
    if not passwords:
        return []
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    chunks = list(_chunks(passwords, HASH_CHUNK))
    # Each hash takes ARGON2_MEMORY_COST (64 MiB by default): four at a time bound the memory.
    workers = max(1, min(len(chunks), os.cpu_count() or 2, 4))
    hashes: list[str] = []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lms-import-hash") as pool:
        for result in pool.map(lambda chunk: _hash_chunk(app, chunk), chunks):
            hashes.extend(result)
            if progress is not None:
                progress(len(hashes))
    return hashes


@dataclass
class Credential:
    username: str
    full_name: str
    organization: str
    password: str


def write_plans(plans: list[Planned], hashes: dict[str, str], *, actor: User | None,
                had_roles: set[tuple[str, int, str]]) -> dict[str, int]:
    """Create or update every planned person and give the roles, inside the caller's transaction.

    New people and their roles are inserted in bulk (a few multi-row INSERTs rather than ~7 statements a
    line), with the same audit records and signals ``services.create_user``/``add_membership`` emit: on
    SQLite every transaction holds the write lock, and 20,000 lines must not stall the site for minutes.
    People who already exist are changed through the services. Uniqueness is checked again here, inside
    the transaction: a login taken since the check raises a DomainError (with ``.line``) and the caller
    rolls the whole file back.
    """
    _recheck_unique(plans)
    counts = {"created": 0, "updated": 0, "memberships": 0}
    people: dict[str, User] = {}
    for plan in plans:
        if plan.first and plan.existing_id is not None:
            user = db.session.get(User, plan.existing_id)
            data = {k: v for k, v in plan.fields.items() if k not in plan.blank or k in ("surname", "name")}
            _at_line(plan, services.update_user, user, data, by=actor)
            people[plan.username] = user
            counts["updated"] += 1
    created: list[User] = []
    for plan in plans:
        if plan.first and plan.existing_id is None:
            user = User(username=plan.username, password_hash=hashes[plan.username], must_change_password=True,
                        is_admin=False, prefs={}, **plan.fields)
            people[plan.username] = user
            created.append(user)
    added: list[tuple[Membership, Planned]] = []
    for plan in plans:
        user = people[plan.username]
        if plan.existing_id is None:
            # Set while the user is still pending: the collection is then known empty, no lazy load.
            added.append((Membership(user=user, organization_id=plan.org.id, role=plan.role, grade=plan.grade,
                                     class_letter=plan.class_letter), plan))
        else:
            if (plan.username, plan.org.id, plan.role) not in had_roles:
                counts["memberships"] += 1
            _at_line(plan, services.add_membership, user, plan.org, plan.role, by=actor, grade=plan.grade,
                     class_letter=plan.class_letter)
    db.session.add_all(created)
    db.session.add_all(m for m, _plan in added)
    db.session.flush()
    orgs_of: dict[str, set[int]] = {}
    for _m, plan in added:
        orgs_of.setdefault(plan.username, set()).add(plan.org.id)
    for user in created:
        audit.record("user_created", actor=actor, obj=user, username=user.username,
                     org_ids=orgs_of.get(user.username, ()))
        signals.user_created.send(user, by=actor)
    for m, plan in added:
        audit.record("role_granted", actor=actor, organization=plan.org.id, obj=m.user, role=m.role,
                     grade=m.grade, class_letter=m.class_letter, org_ids=orgs_of.get(plan.username, ()))
        signals.membership_changed.send(m, by=actor, change="added")
    for user in people.values():
        forget_scope(user)
    counts["created"] = len(created)
    counts["memberships"] += len(added)
    return counts


def _at_line(plan: Planned, fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except DomainError as exc:
        exc.line = plan.line  # type: ignore[attr-defined]
        raise


def _recheck_unique(plans: list[Planned]) -> None:
    """Logins, e-mails and СНИЛС taken by someone else since the check (a few IN queries)."""
    firsts = [p for p in plans if p.first]
    new = [p.username for p in firsts if p.existing_id is None]
    for chunk in _chunks(new, 500):
        taken = set(db.session.scalars(select(User.username).where(User.username.in_(chunk))))
        for plan in firsts:
            if plan.username in taken and plan.existing_id is None:
                exc = DomainError(_("The login «%(v)s» is already taken.", v=plan.username), field="username")
                exc.line = plan.line  # type: ignore[attr-defined]
                raise exc
    for key, column in (("email", User.email), ("snils", User.snils)):
        owners = {p.fields[key]: p for p in firsts if p.fields.get(key)}
        for chunk in _chunks(list(owners), 500):
            for username, value in db.session.execute(select(User.username, column).where(column.in_(chunk))):
                plan = owners[value]
                if username != plan.username:
                    exc = DomainError(_("This value already belongs to another person (login «%(v)s»).",
                                        v=username), field=key)
                    exc.line = plan.line  # type: ignore[attr-defined]
                    raise exc


def credentials_csv(rows: list[Credential]) -> bytes:
    """UTF-8 with BOM (Excel opens it), «,»-separated, formula-guarded."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_("Login"), _("Full name"), _("Organization"), _("Initial password")])
    for c in rows:
        writer.writerow([neutralize_formula(v) for v in (c.username, c.full_name, c.organization, c.password)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --- jobs ----------------------------------------------------------------------------------------

def _clean_filename(name: str) -> str:
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if c.isprintable()).strip()
    return base[:255] or "import.csv"


def create_job(*, filename: str, data: bytes, by: User | None, organization: Organization | None = None,
               dry_run: bool = True, update_existing: bool = False) -> ImportJob:
    """Keep the uploaded file in storage (so a restart loses nothing) and add a pending job; the caller
    commits and then starts :func:`run_job`. ``by=None`` is the system (the CLI without --as)."""
    job = ImportJob(filename=_clean_filename(filename), storage_key="", dry_run=dry_run,
                    update_existing=update_existing, organization_id=organization.id if organization else None,
                    created_by_id=by.id if by is not None else None, status="pending", errors=[],
                    summary={"system": True} if by is None else {})
    db.session.add(job)
    db.session.flush()
    job.storage_key = f"imports/{job.id}/{uuid.uuid4().hex}.csv"
    get_storage().put_bytes(job.storage_key, data, content_type="text/csv")
    return job


def rerun_job(job: ImportJob, *, by: User | None, dry_run: bool | None = None) -> ImportJob:
    """A new pending job on the same stored file ("run again", "import for real"); the caller commits."""
    new = ImportJob(filename=job.filename, storage_key=job.storage_key, organization_id=job.organization_id,
                    dry_run=job.dry_run if dry_run is None else dry_run, update_existing=job.update_existing,
                    created_by_id=by.id if by is not None else None, status="pending", errors=[],
                    summary={"rerun_of": job.id} | ({"system": True} if by is None else {}))
    db.session.add(new)
    db.session.flush()
    return new


class _Progress:
    """Commits progress in short transactions: a few column updates every PROGRESS_EVERY lines."""

    def __init__(self, job_id: int, callback: ProgressFn | None):
        self.job_id = job_id
        self.callback = callback
        self.phase = ""
        self.saved = -PROGRESS_EVERY

    def __call__(self, phase: str, processed: int, total: int) -> None:
        if self.callback is not None:
            self.callback(phase, processed, total)
        if phase == self.phase and processed - self.saved < PROGRESS_EVERY and processed != total:
            return
        self.phase, self.saved = phase, processed
        job = db.session.get(ImportJob, self.job_id)
        job.processed, job.total, job.heartbeat_at = processed, total, utcnow()
        job.summary = {**(job.summary or {}), "phase": phase}
        db.session.commit()


def run_job(job_id: int, *, progress: ProgressFn | None = None) -> None:
    """Run a pending job to its end (the background worker; the CLI calls it directly)."""
    job = db.session.get(ImportJob, job_id)
    if job is None or job.status != "pending":
        return
    actor = db.session.get(User, job.created_by_id) if job.created_by_id else None
    job.status, job.heartbeat_at, job.processed = "running", utcnow(), 0
    db.session.commit()
    locale = actor.locale if actor is not None else current_app.config["BABEL_DEFAULT_LOCALE"]
    g.lms_import_job = job_id  # force_locale only acts once something is on g (a fresh worker context)
    with force_locale(locale):
        try:
            if actor is None and not (job.summary or {}).get("system"):
                # The creator was deleted: never fall back to the system's unlimited rights.
                _finish(job_id, "failed", [_error(None, None, _("The person who started the import no longer "
                                                                "exists."))], {})
            elif actor is not None and not actor.is_active:
                _finish(job_id, "failed", [_error(None, None, _("The person who started the import is "
                                                                "deactivated."))], {})
            else:
                _run(job_id, actor, _Progress(job_id, progress))
        except Exception:
            log.exception("import job %s failed", job_id)
            db.session.rollback()
            _finish(job_id, "failed", [_error(None, None, _(
                "The import stopped because of an internal error; nothing was written. Run it again; if it "
                "repeats, tell the administrator."))], {})


def _finish(job_id: int, status: str, errors: list[dict], summary: dict, **values: Any) -> ImportJob:
    job = db.session.get(ImportJob, job_id)
    job.status, job.errors, job.finished_at, job.heartbeat_at = status, errors, utcnow(), utcnow()
    job.summary = {**(job.summary or {}), **summary, "phase": "finished"}
    for key, value in values.items():
        setattr(job, key, value)
    db.session.commit()
    return job


def _run(job_id: int, actor: User | None, progress: _Progress) -> None:
    job = db.session.get(ImportJob, job_id)
    dry_run, update_existing = job.dry_run, job.update_existing
    default_org = db.session.get(Organization, job.organization_id) if job.organization_id else None
    try:
        data = get_storage().get_bytes(job.storage_key)
    except ObjectNotFound:
        _finish(job_id, "failed", [_error(None, None, _("The stored file is gone; upload it again."))], {})
        return
    table = read_table(data, max_rows=current_app.config["IMPORT_MAX_ROWS"])
    info = {"encoding": table.encoding, "delimiter": table.delimiter, "rows": len(table.rows)}
    if table.errors:
        _finish(job_id, "failed", table.errors, info)
        return
    progress("checking", 0, len(table.rows))
    checker = Checker(table, actor=actor, default_org=default_org, update_existing=update_existing)
    checker.check(progress)
    info |= checker.summary() if not checker.errors else {}
    if checker.errors or dry_run:
        db.session.rollback()  # close the reading transaction
        _finish(job_id, "failed" if checker.errors else "done", checker.errors, info)
        return
    # Passwords first, outside any write transaction.
    db.session.commit()
    plans, had_roles = checker.plans, checker.had_roles
    initial = {p.username: p.password or generate_password() for p in plans if p.first and p.existing_id is None}
    logins = list(initial)
    total = len(table.rows)
    done = hash_passwords([initial[u] for u in logins],
                          lambda n: progress("passwords", n * total // max(len(logins), 1), total))
    hashes = dict(zip(logins, done, strict=True))
    progress("writing", 0, total)
    _write(job_id, plans, hashes, initial, had_roles, actor, info)


def _write(job_id: int, plans: list[Planned], hashes: dict[str, str], initial: dict[str, str],
           had_roles: set, actor: User | None, info: dict) -> None:
    """The one write transaction: people, roles, the job's outcome and the audit record commit together."""
    storage = get_storage()
    credentials_key = None
    try:
        counts = write_plans(plans, hashes, actor=actor, had_roles=had_roles)
        job = db.session.get(ImportJob, job_id)
        if initial:
            rows = [Credential(p.username, " ".join(x for x in (p.fields.get("surname"), p.fields.get("name"),
                                                               p.fields.get("patronymic")) if x),
                               p.org.short_name, initial[p.username])
                    for p in plans if p.first and p.username in initial]
            credentials_key = f"imports/{job_id}/credentials-{secrets.token_hex(16)}.csv"
            storage.put_bytes(credentials_key, credentials_csv(rows), content_type="text/csv; charset=utf-8")
        audit.record("users_imported", actor=actor, organization=job.organization_id, obj=job,
                     rows=info["rows"], **counts)
        job.status, job.errors, job.finished_at, job.heartbeat_at = "done", [], utcnow(), utcnow()
        job.processed, job.credentials_key = info["rows"], credentials_key
        job.summary = {**(job.summary or {}), **info, **counts, "phase": "finished"}
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        _drop(storage, credentials_key)
        column = _COLUMN_OF_FIELD.get(exc.field or "", exc.field)
        _finish(job_id, "failed", [_error(getattr(exc, "line", None), column, exc.message)], info)
    except IntegrityError:
        # Another writer got in between (PostgreSQL runs transactions side by side): nothing is written.
        db.session.rollback()
        _drop(storage, credentials_key)
        _finish(job_id, "failed", [_error(None, None, _(
            "Someone changed the same people while the import was being written; nothing was written. "
            "Run it again."))], info)
    except BaseException:
        db.session.rollback()
        _drop(storage, credentials_key)
        raise


def _drop(storage, key: str | None) -> None:
    if key:
        try:
            storage.delete(key)
        except Exception:  # noqa: BLE001 - the failure being reported matters more than the cleanup
            log.exception("could not delete %s", key)


def mark_interrupted(now: datetime | None = None) -> int:
    """Jobs whose worker died (server restart): pending or running, with no heartbeat for 5 minutes
    (or none at all and created more than 5 minutes ago), become «interrupted». Returns their number;
    the caller commits."""
    cutoff = (now or utcnow()) - STALE_AFTER
    stale = and_(ImportJob.status.in_(("pending", "running")), or_(
        ImportJob.heartbeat_at < cutoff,
        and_(ImportJob.heartbeat_at.is_(None), ImportJob.created_at < cutoff)))
    result = db.session.execute(update(ImportJob).where(stale).values(status="interrupted", finished_at=utcnow()),
                                execution_options={"synchronize_session": False})
    return result.rowcount or 0


def take_credentials(job: ImportJob) -> bytes | None:
    """The credentials file, once: the key is cleared with a conditional UPDATE (two simultaneous
    downloads cannot both win) and the object is deleted. The caller commits."""
    key = job.credentials_key
    if not key:
        return None
    won = db.session.execute(
        update(ImportJob).where(ImportJob.id == job.id, ImportJob.credentials_key == key)
        .values(credentials_key=None), execution_options={"synchronize_session": False}).rowcount
    db.session.expire(job, ["credentials_key"])
    if not won:
        return None
    storage = get_storage()
    data = storage.get_bytes(key)
    storage.delete(key)
    return data


def error_report_csv(job: ImportJob) -> str:
    """Every error of a job as CSV (line, column, message) for files with many bad lines."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_("Line"), _("Column"), _("Problem")])
    for e in job.errors or []:
        writer.writerow([e.get("line") or "", neutralize_formula(e.get("column") or ""),
                         neutralize_formula(e.get("message") or "")])
    return "\ufeff" + out.getvalue()


def template_csv() -> str:
    """An example file with every column."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerow(["ivanova.anna", "", "Иванова", "Анна", "Сергеевна", "ivanova@example.org", "school1",
                     "student", "7А", "", "+7 900 000-00-00", "01.09.2012", "ж", ""])
    writer.writerow(["petrov.ps", "", "Петров", "Пётр", "Сергеевич", "", "school1", "учитель", "", "", "", "",
                     "м", ""])
    return "\ufeff" + out.getvalue()


# --- permissions ---------------------------------------------------------------------------------

def can_start_import(user) -> bool:
    return scope_of(user).is_manager


def can_view_job(user, job: ImportJob) -> bool:
    """The job's creator or the global administrator (the file holds personal data)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_admin) or (job.created_by_id is not None and job.created_by_id == user.id)


def can_download_credentials(user, job: ImportJob) -> bool:
    """Only the creator: initial passwords go to the one person who ran the import."""
    return getattr(user, "is_authenticated", False) and job.created_by_id == user.id
