"""Login, throttling, session rotation and end, timeouts, password change and reset, CSRF, headers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.accounts import services
from lms.accounts.models import AuthSession, LoginAttempt, PasswordResetToken, User
from lms.core.db import utcnow
from lms.core.mail import OutboxMessage
from lms.extensions import db
from tests.conftest import TEST_PASSWORD, login


def session_cookie(client) -> str | None:
    cookie = client.get_cookie("lms_session", domain="lms.test")
    return cookie.value if cookie else None


def test_login_by_username_and_by_email(client, world):
    assert login(client, "student_a").status_code == 302
    client.post("/logout")
    response = login(client, "STUDENT_A@example.org")
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_wrong_password_is_refused_with_a_message_and_recorded(client, world):
    response = login(client, "student_a", "wrong-password")
    assert response.status_code == 401
    assert "Wrong login or password" in response.get_data(as_text=True) or \
        "Неверный логин или пароль" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still anonymous
    n = db.session.scalar(select(func.count(LoginAttempt.id)).where(
        LoginAttempt.username == "student_a", LoginAttempt.success.is_(False)))
    assert n == 1


def test_unknown_login_gets_the_same_message(client, world):
    a = login(client, "student_a", "wrong-password").get_data(as_text=True)
    b = login(client, "nobody-here", "wrong-password").get_data(as_text=True)
    msg = re.compile(r'class="error-summary".*?</div>', re.S)
    assert msg.search(a).group(0) == msg.search(b).group(0)


def test_deactivated_user_cannot_log_in(client, world):
    services.deactivate_user(world.student_b, by=None)
    db.session.commit()
    response = login(client, "student_b")
    assert response.status_code == 401
    assert client.get("/").status_code == 302


def test_throttling_per_account(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ACCOUNT_MAX_FAILURES", 3)
    for _ in range(3):
        assert login(client, "teacher_a", "bad-password-x").status_code == 401
    # Even the right password is refused while the account is throttled, with a clear message.
    response = login(client, "teacher_a")
    assert response.status_code == 429
    assert "min" in response.get_data(as_text=True) or "мин" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    # Another account from the same address is not affected.
    assert login(client, "student_a").status_code == 302


def test_throttling_window_slides(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ACCOUNT_MAX_FAILURES", 2)
    for _ in range(2):
        login(client, "teacher_a", "bad-password-x")
    assert login(client, "teacher_a").status_code == 429
    # The failures age out of the window.
    db.session.execute(LoginAttempt.__table__.update().values(at=utcnow() - timedelta(hours=2)))
    db.session.commit()
    assert login(client, "teacher_a").status_code == 302


def test_throttling_per_address(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ADDRESS_MAX_FAILURES", 4)
    for i in range(4):
        login(client, f"guess{i}", "bad-password-x")
    assert login(client, "student_a").status_code == 429


def test_account_limit_never_exceeds_100_an_hour(app):
    cfg = app.config
    per_hour = cfg["LOGIN_ACCOUNT_MAX_FAILURES"] * (3600 / cfg["LOGIN_ACCOUNT_WINDOW_SECONDS"])
    assert per_hour <= 100


def test_session_id_is_rotated_at_login(client, world):
    client.get("/login")
    client.csrf_token()  # a pre-login session with a CSRF token exists
    before = session_cookie(client)
    with client.session_transaction() as s:
        pre_sid = s.get("sid")
    login(client, "student_a")
    after = session_cookie(client)
    assert before != after
    with client.session_transaction() as s:
        assert s.get("sid") and s.get("sid") != pre_sid
        assert "csrf_token" not in s or s["csrf_token"] is not None


def test_fixated_session_cookie_is_useless(app, client, world):
    """An attacker's pre-login cookie does not become an authenticated session."""
    client.get("/login")
    client.csrf_token()
    attacker_cookie = session_cookie(client)
    login(client, "student_a")
    attacker = app.test_client()
    attacker.set_cookie("lms_session", attacker_cookie, domain="lms.test")
    assert attacker.get("/").status_code == 302


def test_logout_ends_the_server_side_session(app, client, world):
    login(client, "student_a")
    stolen = session_cookie(client)
    assert client.post("/logout").status_code == 302
    thief = app.test_client()
    thief.set_cookie("lms_session", stolen, domain="lms.test")
    assert thief.get("/").status_code == 302


def test_deactivation_ends_sessions_at_once(app, client, world, login_as):
    login_as(client, world.student_a)
    assert client.get("/").status_code == 200
    admin = app.test_client()
    login_as(admin, world.admin_a)
    assert admin.post(f"/people/{world.student_a.id}/deactivate").status_code == 302
    assert client.get("/").status_code == 302
    assert db.session.scalar(select(func.count(AuthSession.id)).where(
        AuthSession.user_id == world.student_a.id)) == 0


def test_idle_timeout(app, client, world):
    login(client, "student_a")
    db.session.execute(AuthSession.__table__.update().values(
        last_seen_at=utcnow() - timedelta(seconds=app.config["SESSION_IDLE_SECONDS"] + 5)))
    db.session.commit()
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_absolute_timeout(app, client, world):
    login(client, "student_a")
    db.session.execute(AuthSession.__table__.update().values(
        created_at=utcnow() - timedelta(seconds=app.config["SESSION_ABSOLUTE_SECONDS"] + 5)))
    db.session.commit()
    assert client.get("/").status_code == 302


def test_activity_keeps_the_session_alive(app, client, world):
    login(client, "student_a")
    db.session.execute(AuthSession.__table__.update().values(last_seen_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    assert client.get("/").status_code == 200
    row = db.session.scalar(select(AuthSession))
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)


def test_initial_password_must_be_changed(client, world):
    person, generated = services.create_user(username="newbie", by=None, surname="Новиков", name="Иван")
    db.session.commit()
    response = login(client, "newbie", generated)
    assert response.status_code == 302 and "/password/change" in response.headers["Location"]
    # Every other page sends them back to the change form.
    assert "/password/change" in client.get("/").headers["Location"]
    response = client.post("/password/change", data={
        "current_password": generated, "new_password": "Morskoy-briz-77", "confirm": "Morskoy-briz-77"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    db.session.refresh(person)
    assert person.must_change_password is False


@pytest.mark.parametrize("new, expected", [
    ("short1", "at least 8"),
    ("password123", "too common"),
    ("qwerty2026", "too common"),
    ("12345678", "too common"),
    ("aaaaaaaaaa", "too common"),
])
def test_weak_passwords_are_refused(client, world, new, expected):
    login(client, "student_a")
    response = client.post("/password/change", data={
        "current_password": TEST_PASSWORD, "new_password": new, "confirm": new})
    assert response.status_code == 422
    assert expected in response.get_data(as_text=True) or "пароль" in response.get_data(as_text=True)


def test_password_change_ends_other_sessions(app, client, world):
    login(client, "student_a")
    other = app.test_client()
    login(other, "student_a")
    assert other.get("/").status_code == 200
    client.post("/password/change", data={
        "current_password": TEST_PASSWORD, "new_password": "Severnoe-siyanie-9", "confirm": "Severnoe-siyanie-9"})
    assert other.get("/").status_code == 302
    assert client.get("/").status_code == 200


def _reset_link(client, login_name: str) -> str:
    client.post("/password/reset", data={"login": login_name})
    body = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first().body
    return re.search(r"(/password/reset/[\w\-]+)", body).group(1)


def test_password_reset_by_email_token_single_use(client, world):
    link = _reset_link(client, "student_a")
    assert client.get(link).status_code == 200
    response = client.post(link, data={"new_password": "Zimniy-les-2031", "confirm": "Zimniy-les-2031"})
    assert response.status_code == 302
    assert login(client, "student_a", "Zimniy-les-2031").status_code == 302
    client.post("/logout")
    # Used once: the same link is dead.
    assert client.get(link).status_code == 410
    assert client.post(link, data={"new_password": "Drugoy-parol-55", "confirm": "Drugoy-parol-55"}).status_code == 410
    assert login(client, "student_a", "Drugoy-parol-55").status_code == 401


def test_password_reset_token_expires(client, world):
    link = _reset_link(client, "student_a")
    db.session.execute(PasswordResetToken.__table__.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.get(link).status_code == 410


def test_password_reset_does_not_reveal_accounts(client, world):
    a = client.post("/password/reset", data={"login": "student_a"}, follow_redirects=True)
    b = client.post("/password/reset", data={"login": "no-such-person"}, follow_redirects=True)
    flash = re.compile(r'class="flash[^"]*"[^>]*>(.*?)</div>', re.S)
    assert flash.findall(a.get_data(as_text=True)) == flash.findall(b.get_data(as_text=True))
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1


def test_password_reset_only_stores_a_hash(client, world):
    link = _reset_link(client, "student_a")
    token = link.rsplit("/", 1)[1]
    stored = db.session.scalar(select(PasswordResetToken.token_hash))
    assert token not in stored and len(stored) == 64


def test_open_redirect_after_login_is_refused(client, world):
    client.get("/login?next=https://evil.example/")
    response = client.post("/login", data={"username": "student_a", "password": TEST_PASSWORD,
                                           "next": "https://evil.example/"})
    assert response.headers["Location"].endswith("/")
    assert "evil" not in response.headers["Location"]


def test_csrf_is_required_on_state_changing_requests(client, world):
    response = client.post("/login", data={"username": "student_a", "password": TEST_PASSWORD}, csrf=False)
    assert response.status_code == 400
    login(client, "student_a")
    assert client.post("/logout", csrf=False).status_code == 400
    assert client.get("/").status_code == 200  # still logged in


def test_csrf_token_has_no_time_limit(app):
    assert app.config["WTF_CSRF_TIME_LIMIT"] is None


def test_security_headers(client, world):
    response = client.get("/login")
    h = response.headers
    assert "script-src 'self'" in h["Content-Security-Policy"]
    assert "unsafe-inline" not in h["Content-Security-Policy"]
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["X-Frame-Options"] == "DENY"
    assert h["Referrer-Policy"] == "same-origin"
    assert h["Cross-Origin-Opener-Policy"] == "same-origin" and "geolocation=()" in h["Permissions-Policy"]
    assert h["Cache-Control"] == "no-store"  # a page
    assert "Strict-Transport-Security" not in h  # plain HTTP
    assert all(len(h.getlist(name)) == 1 for name in {key for key, _value in h})  # each once


def test_a_view_keeps_its_own_header(app):
    """The security headers are added only where the view set none of its own (in any letter case)."""
    with app.test_request_context("/courses"):
        own = app.response_class("<p>ok</p>", mimetype="text/html",
                                 headers={"x-frame-options": "SAMEORIGIN", "Cache-Control": "private, max-age=60"})
        h = app.process_response(own).headers
    assert h.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert h.getlist("Cache-Control") == ["private, max-age=60"]
    assert h["X-Content-Type-Options"] == "nosniff"


def test_pages_have_no_inline_script_or_style(client, world, login_as):
    login_as(client, world.admin_a)
    for url in ("/login", "/", "/people", "/profile", "/accessibility", f"/people/{world.student_a.id}"):
        html = client.get(url).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert " style=" not in html, url
        assert not re.search(r"\son[a-z]+=", html), url


def test_session_cookie_flags(client, world):
    response = login(client, "student_a")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP in tests


def test_session_cookie_is_secure_over_https(client, world):
    client.get("/login", base_url="https://lms.test")
    # Over HTTPS Flask-WTF also checks that the Referer is this site (browsers send it: same-origin policy).
    response = client.post("/login", base_url="https://lms.test", headers={"Referer": "https://lms.test/login"},
                           data={"username": "student_a", "password": TEST_PASSWORD})
    assert "Secure" in response.headers["Set-Cookie"]
    assert "Strict-Transport-Security" in response.headers


def test_audit_records_logins(client, world):
    from lms.core.audit import AuditEvent

    login(client, "student_a", "bad-password-x")
    login(client, "student_a")
    actions = [e.action for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.actor_id == world.student_a.id).order_by(AuditEvent.id))]
    assert actions[-2:] == ["login_failed", "login"]


def test_password_hash_is_argon2(world):
    user = db.session.get(User, world.student_a.id)
    assert user.password_hash.startswith("$argon2id$")


def test_hash_upgrades_to_current_parameters_on_login(app, client, world, monkeypatch):
    old = db.session.get(User, world.student_a.id).password_hash
    monkeypatch.setitem(app.config, "ARGON2_TIME_COST", 2)
    assert login(client, "student_a").status_code == 302
    new = db.session.get(User, world.student_a.id).password_hash
    assert new != old and ",t=2," in new
