"""The session cookie and the CSRF token are verified once per process and then remembered: the remembered
result must refuse exactly what a fresh check refuses (another session's token, a forged or expired cookie,
a missing token, a foreign referrer over HTTPS)."""

from __future__ import annotations

import time

from lms.core import security


def _session_cookie(client) -> str:
    cookie = client.get_cookie("lms_session", domain="lms.test")
    assert cookie is not None
    return cookie.value


def test_a_remembered_cookie_still_expires_and_a_forged_one_is_refused(app, client, world, login_as, monkeypatch):
    login_as(client, world.teacher_a)
    cookie = _session_cookie(client)
    assert client.get("/profile").status_code == 200
    assert cookie in app.session_interface._verified  # noqa: SLF001 - remembered after its first check
    assert client.get("/profile").status_code == 200  # served from the memory
    forged = cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")
    client.set_cookie("lms_session", forged, domain="lms.test")
    assert client.get("/profile").status_code == 302  # a bad signature: no session, back to the login page
    assert forged not in app.session_interface._verified  # noqa: SLF001
    client.set_cookie("lms_session", cookie, domain="lms.test")
    lifetime = app.permanent_session_lifetime.total_seconds()
    real = time.time
    monkeypatch.setattr(security.time, "time", lambda: real() + lifetime + 5)
    assert client.get("/profile").status_code == 302  # remembered, but past its lifetime


def test_pending_flash_messages_are_never_remembered(app, client, world, login_as):
    login_as(client, world.teacher_a)
    with client.session_transaction() as sess:
        sess["_flashes"] = [("info", "Привет")]
    cookie = _session_cookie(client)
    assert "Привет" in client.get("/profile").get_data(as_text=True)
    assert cookie not in app.session_interface._verified  # noqa: SLF001 - a list could change in place


def test_a_remembered_csrf_token_serves_only_its_own_session(app, client, world, login_as):
    login_as(client, world.teacher_a)
    token = client.csrf_token()
    other = app.test_client()
    login_as(other, world.admin_a)
    save = "/attempts/99999/save"  # past the CSRF check the answer is «not found»

    def post(who, value, **kw):
        return who.post(save, json={"answers": []}, headers={"X-CSRFToken": value} if value else {}, **kw)

    assert post(client, token).status_code == 404  # verified for its own session…
    assert token in app.extensions["csrf"]._verified  # noqa: SLF001 - …and remembered
    assert post(client, token).status_code == 404  # from the memory
    assert post(other, token).status_code == 400  # another session's token: refused, remembered or not
    assert post(other, "x" + token).status_code == 400
    assert post(other, None).status_code == 400
    assert client.post("/logout", data={"csrf_token": token}, csrf=False).status_code == 302


def test_over_https_the_referrer_must_be_this_site(app, client, world, login_as):
    login_as(client, world.teacher_a)
    token = client.csrf_token()
    base = {"base_url": "https://lms.test", "data": {"csrf_token": token}, "csrf": False}
    assert client.post("/logout", headers={"Referer": "https://evil.example/"}, **base).status_code == 400
    assert client.post("/logout", **base).status_code == 400  # no referrer at all
    assert client.post("/logout", headers={"Referer": "https://lms.test/profile"}, **base).status_code == 302
