"""Bearer-token authentication: never the session cookie, 401 with WWW-Authenticate otherwise."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from lms.accounts import services
from lms.accounts.models import ApiToken
from lms.core.db import utcnow
from lms.extensions import db
from tests.api.conftest import assert_error, counts, membership_of


def _assert_401(response) -> None:
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", [
    None, "", "Bearer", "Bearer ", "Basic YWRtaW46cGFzcw==", "Bearer lms_not-a-real-token",
    "Bearer not-even-the-prefix", "Token lms_x",
])
def test_missing_or_bad_token_is_401(client, world, header):
    headers = {} if header is None else {"Authorization": header}
    _assert_401(client.get("/api/v1/me", headers=headers))


def test_valid_token_identifies_the_user(client, world, token_for):
    raw = token_for(world.teacher_a)
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["username"] == "teacher_a"
    assert [(m["organization"]["code"], m["role"]) for m in body["memberships"]] == [("school_a", "teacher")]
    # the scheme name is case-insensitive (RFC 7235)
    assert client.get("/api/v1/me", headers={"Authorization": f"bearer {raw}"}).status_code == 200


def test_revoked_token_is_401(client, world, token_for):
    raw = token_for(world.teacher_a)
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == world.teacher_a.id))
    services.revoke_api_token(row, by=world.teacher_a)
    db.session.commit()
    _assert_401(client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"}))


def test_expired_token_is_401(client, world, token_for):
    raw = token_for(world.teacher_a, days=1)
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == world.teacher_a.id))
    row.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    _assert_401(client.get("/api/v1/me", headers=headers))


def test_deactivated_users_token_is_401(client, world, token_for):
    raw = token_for(world.student_a)
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    services.deactivate_user(world.student_a, by=None)
    db.session.commit()
    _assert_401(client.get("/api/v1/me", headers=headers))


def test_every_endpoint_but_the_document_needs_a_token(app, client, world):
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/")]
    assert len(rules) >= 9
    for rule in rules:
        url = re.sub(r"<int:\w+>", "1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, json={})
            if rule.rule.endswith("openapi.json"):
                assert response.status_code == 200
            else:
                _assert_401(response)


def test_session_cookie_alone_is_refused_and_bearer_needs_no_csrf(client, world, login_as, token_for):
    """A logged-in browser cannot use the API through its cookie (so no CSRF is possible); a client
    with a bearer token posts without any CSRF token."""
    login_as(client, world.admin_a)
    assert client.get("/people").status_code == 200  # the browser session works for the pages
    body = {"user": world.methodologist_a.id, "organization": world.school_a.id, "role": "teacher"}
    before = counts()

    _assert_401(client.get("/api/v1/me"))
    _assert_401(client.post("/api/v1/memberships", json=body))
    assert counts() == before

    raw = token_for(world.admin_a)
    response = client.post("/api/v1/memberships", json=body, headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["role"] == "teacher"


def test_token_use_is_recorded_with_one_commit_per_request(client, world, token_for):
    raw = token_for(world.admin_a)
    headers = {"Authorization": f"Bearer {raw}"}
    commits = []

    def count(_session):
        commits.append(1)

    event.listen(Session, "after_commit", count)
    try:
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        assert len(commits) == 1  # the first use is saved
        row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == world.admin_a.id))
        assert row.last_used_at is not None

        commits.clear()
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        assert commits == []  # touched at most every few minutes: nothing to save

        row.last_used_at = utcnow() - timedelta(hours=1)
        db.session.commit()
        commits.clear()
        body = {"grade": 9, "class_letter": "Б"}
        m = membership_of(world.student_a, world.school_a)
        assert client.patch(f"/api/v1/memberships/{m.id}", json=body, headers=headers).status_code == 200
        assert len(commits) == 1  # the write and the token's use in one commit
        db.session.refresh(row)
        assert utcnow() - row.last_used_at < timedelta(minutes=1)
    finally:
        event.remove(Session, "after_commit", count)


def test_pages_keep_their_own_error_pages(client, world, login_as):
    """flask-smorest's JSON error handler must not replace the application's pages."""
    login_as(client, world.admin_a)
    response = client.get("/people/999999")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    api_like = client.get("/api/v1/no-such-thing")
    assert api_like.status_code == 404 and "error" in api_like.get_json()
