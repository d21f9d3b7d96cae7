from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lms.core.validators import format_snils, neutralize_formula, normalize_snils, snils_checksum


@pytest.mark.parametrize("raw, digits", [
    ("112-233-445 95", "11223344595"),
    ("11223344595", "11223344595"),
    ("087-654-303 00", "08765430300"),  # sum 101 → 00
    ("001-001-997 21", "00100199721"),  # below the checksum range: accepted as given
])
def test_valid_snils(raw, digits):
    assert normalize_snils(raw) == digits


@pytest.mark.parametrize("raw", ["112-233-445 96", "1122334459", "abc", "112-233-445 9512"])
def test_invalid_snils(raw, app):
    with app.test_request_context(), pytest.raises(ValueError):
        normalize_snils(raw)


def test_empty_snils_is_none():
    assert normalize_snils("  ") is None and normalize_snils(None) is None


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_checksum_round_trip(nine):
    check = snils_checksum(nine)
    assert 0 <= check <= 99
    digits = nine + f"{check:02d}"
    if int(nine) > 1001998:
        assert normalize_snils(format_snils(digits)) == digits


def test_checksum_rule_from_the_frdo_template():
    # Σ digit × position from the right (9..1): 100 and 101 give 00, above 101 take mod 101.
    assert snils_checksum("112233445") == 95
    assert snils_checksum("087654303") == 0


@pytest.mark.parametrize("value, expected", [
    ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("+7 900", "'+7 900"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("Иванов", "Иванов"), ("", ""), (5, 5), (None, None),
])
def test_formula_neutralisation(value, expected):
    assert neutralize_formula(value) == expected
