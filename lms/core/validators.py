"""Validation of Russian personal data formats, shared by forms, imports, the API and exports."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

SNILS_DIGITS = re.compile(r"\D")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@\-]{1,99}$")
PHONE = re.compile(r"^\+?[0-9 ()\-]{5,32}$")


def snils_checksum(nine_digits: str) -> int:
    """Control number of a СНИЛС: Σ digit × weight (9..1 from the left) mod 101; 100 and 101 → 0."""
    total = sum(int(d) * w for d, w in zip(nine_digits, range(9, 0, -1), strict=True))
    if total < 100:
        return total
    if total in (100, 101):
        return 0
    rest = total % 101
    return 0 if rest == 100 else rest


def normalize_snils(value: str | None) -> str | None:
    """Return the 11 digits of a valid СНИЛС, None for an empty value; raise ValueError otherwise.

    The checksum is defined for numbers above 001-001-998; smaller numbers are accepted as given.
    """
    if value is None or not value.strip():
        return None
    digits = SNILS_DIGITS.sub("", value)
    if len(digits) != 11:
        raise ValueError(str(_l("SNILS must have 11 digits (format 000-000-000 00).")))
    if int(digits[:9]) > 1001998 and snils_checksum(digits[:9]) != int(digits[9:]):
        raise ValueError(str(_l("SNILS checksum does not match: check the digits.")))
    return digits


def format_snils(digits: str | None) -> str:
    if not digits or len(digits) != 11:
        return ""
    return f"{digits[0:3]}-{digits[3:6]}-{digits[6:9]} {digits[9:11]}"


def neutralize_formula(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula (CSV/XLSX injection)."""
    if isinstance(value, str) and value and value[0] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def xlsx_cell(value: object) -> object:
    """A value an .xlsx cell can hold safely: no control characters (openpyxl refuses them, which would
    fail the whole download) and no formula."""
    if isinstance(value, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        return neutralize_formula(ILLEGAL_CHARACTERS_RE.sub("", value))
    return value
