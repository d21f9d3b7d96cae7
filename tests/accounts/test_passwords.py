from __future__ import annotations

import pytest

from lms.accounts.passwords import generate_password, hash_password, password_problem, verify_password


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield


@pytest.mark.parametrize("pw", ["1234567", "password", "password1", "Password2026!", "qwertyuiop", "11111111",
                                "йцукенгш", "abcdefgh", "zxcvbnm123", "87654321"])
def test_refused(ctx, pw):
    assert password_problem(pw) is not None


def test_contains_login_refused(ctx):
    assert password_problem("ivanov-2026-x", username="ivanov") is not None


@pytest.mark.parametrize("pw", ["Morskoy-briz-77", "tri-kota-na-kryshe", "Зелёный-чайник-15"])
def test_accepted(ctx, pw):
    assert password_problem(pw) is None


def test_generated_passwords_pass_the_policy(ctx):
    seen = {generate_password() for _ in range(50)}
    assert len(seen) == 50
    assert all(password_problem(p) is None and len(p) == 12 for p in seen)


def test_hash_and_verify(ctx):
    h = hash_password("Morskoy-briz-77")
    assert h.startswith("$argon2id$")
    assert verify_password(h, "Morskoy-briz-77")
    assert not verify_password(h, "morskoy-briz-77")
    assert not verify_password(None, "x")
    assert not verify_password("not-a-hash", "x")


def test_production_parameters_are_the_rfc9106_low_memory_profile(monkeypatch):
    from lms.config import load_config

    cfg = load_config()
    assert (cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_COST"], cfg["ARGON2_PARALLELISM"]) == (3, 65536, 4)
