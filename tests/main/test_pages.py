"""Health check, error pages, language, the version for visually impaired users, dashboards, audit."""

from __future__ import annotations

from sqlalchemy import select

from lms.accounts.models import User
from lms.core.storage import StorageUnavailable, get_storage
from lms.extensions import db


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "storage": "ok"}


def test_healthz_503_when_storage_is_down(app, client, monkeypatch):
    storage = get_storage()

    def down():
        raise StorageUnavailable("down")

    monkeypatch.setattr(storage, "check", down)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["storage"] == "unavailable" and response.json["database"] == "ok"


def test_healthz_503_when_database_is_down(app, client, monkeypatch):
    from sqlalchemy.exc import OperationalError

    real_execute = db.session.execute

    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(type(db.session), "execute", lambda self, *a, **k: broken())
    try:
        response = client.get("/healthz")
    finally:
        monkeypatch.undo()
    assert response.status_code == 503 and response.json["database"] == "unavailable"
    assert real_execute


def test_404_page_in_russian(client, world, login_as):
    login_as(client, world.student_a)
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert 'lang="ru"' in response.get_data(as_text=True)


def test_api_errors_are_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code in (401, 404)
    assert response.is_json and "error" in response.json


def test_anonymous_is_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_switch_language_is_remembered_per_user(client, world, login_as):
    login_as(client, world.teacher_a)
    client.post("/locale", data={"locale": "en", "next": "/"})
    assert db.session.get(User, world.teacher_a.id).locale == "en"
    html = client.get("/").get_data(as_text=True)
    assert 'lang="en"' in html and "Log out" in html
    client.post("/locale", data={"locale": "ru", "next": "/"})
    assert 'lang="ru"' in client.get("/").get_data(as_text=True)


def test_unknown_language_is_ignored(client, world, login_as):
    login_as(client, world.teacher_a)
    client.post("/locale", data={"locale": "xx"})
    assert db.session.get(User, world.teacher_a.id).locale == "ru"


def test_version_for_visually_impaired_is_remembered_per_user(app, client, world, login_as):
    login_as(client, world.teacher_a)
    client.post("/accessibility", data={"toggle": "1", "next": "/"})
    html = client.get("/").get_data(as_text=True)
    assert 'class="a11y a11y-size-large a11y-scheme-bw a11y-images-off' in html
    client.post("/accessibility", data={"on": "1", "size": "xlarge", "scheme": "wb", "images": "on",
                                        "spacing": "wide"})
    client.post("/logout")
    login_as(client, world.teacher_a)
    html = client.get("/").get_data(as_text=True)
    assert "a11y-size-xlarge a11y-scheme-wb a11y-images-on a11y-spacing-wide" in html
    # Bad values are ignored, not stored.
    client.post("/accessibility", data={"on": "1", "size": "<huge>"})
    assert db.session.get(User, world.teacher_a.id).prefs["a11y"]["size"] == "xlarge"


def test_version_for_visually_impaired_for_visitors(client):
    client.post("/accessibility", data={"toggle": "1", "next": "/login"})
    assert "a11y-size-large" in client.get("/login").get_data(as_text=True)


def test_redirect_after_settings_stays_on_site(client):
    response = client.post("/accessibility", data={"toggle": "1", "next": "//evil.example/"})
    assert "evil" not in response.headers["Location"]


def test_dashboards_show_real_data(client, world, login_as):
    login_as(client, world.coordinator)
    html = client.get("/").get_data(as_text=True)
    assert "Школа А" in html and "Школа Б" in html and "Школа В" not in html
    client.post("/logout")

    login_as(client, world.teacher_a)
    html = client.get("/").get_data(as_text=True)
    assert "Школа А" in html and "9А" in html  # their students' class
    client.post("/logout")

    login_as(client, world.student_a)
    html = client.get("/").get_data(as_text=True)
    assert "Школа А" in html and "9А" in html
    assert "Организации, которыми я управляю" not in html and "Organizations I manage" not in html
    client.post("/logout")

    login_as(client, world.admin)
    html = client.get("/").get_data(as_text=True)
    assert "Школа В" in html


def test_dashboard_recent_activity_is_scoped(client, world, login_as):
    login_as(client, world.admin_b)
    client.post(f"/people/{world.student_b.id}/edit", data={"surname": "Новикова", "name": "Дарья"})
    client.post("/logout")
    login_as(client, world.admin_a)
    html = client.get("/audit").get_data(as_text=True)
    assert "Новикова" not in html and f"/people/{world.student_b.id}" not in html
    client.post("/logout")
    login_as(client, world.admin_b)
    html = client.get("/audit").get_data(as_text=True)
    assert f"/people/{world.student_b.id}" in html


def test_audit_log_is_for_managers_only(client, world, login_as):
    login_as(client, world.teacher_a)
    assert client.get("/audit").status_code == 403


def test_audit_filter_bad_date_does_not_break(client, world, login_as):
    login_as(client, world.admin)
    assert client.get("/audit?date_from=31.02.2026&actor=admin").status_code == 200


def test_outbox_admin_only(client, world, login_as):
    client.post("/password/reset", data={"login": "student_a"})
    login_as(client, world.admin)
    assert "student_a@example.org" in client.get("/outbox").get_data(as_text=True)
    client.post("/logout")
    login_as(client, world.admin_a)
    assert client.get("/outbox").status_code == 403


def test_times_are_shown_in_the_organization_time_zone(client, world, login_as):
    from datetime import UTC, datetime

    from lms.core.audit import record

    event = record("login", actor=world.admin_c)
    event.at = datetime(2026, 1, 10, 6, 0, tzinfo=UTC)
    db.session.commit()
    login_as(client, world.admin_c)  # school C is in Asia/Yekaterinburg (UTC+5)
    html = client.get("/audit").get_data(as_text=True)
    assert "10.01.2026 11:00" in html


def test_profile_token_create_and_revoke(client, world, login_as):
    login_as(client, world.teacher_a)
    response = client.post("/profile/tokens", data={"name": "синхронизация", "days": "30"})
    html = response.get_data(as_text=True)
    token = html.split('class="token">')[1].split("<")[0]
    assert token.startswith("lms_")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    from lms.accounts.models import ApiToken

    row = db.session.scalar(select(ApiToken))
    assert token not in (row.token_hash, row.prefix)
    client.post(f"/profile/tokens/{row.id}/revoke")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_profile_bad_email_is_refused(client, world, login_as):
    login_as(client, world.teacher_a)
    response = client.post("/profile", data={"email": "not-an-email", "phone": "", "locale": "ru", "time_zone": ""})
    assert response.status_code == 422
    assert 'id="email-error"' in response.get_data(as_text=True)


def test_cannot_revoke_someone_elses_token(client, world, login_as):
    from lms.accounts import services

    row, _raw = services.create_api_token(world.admin, "x", by=None)
    db.session.commit()
    login_as(client, world.teacher_a)
    assert client.post(f"/profile/tokens/{row.id}/revoke").status_code == 403


def _student_count(html: str, org_id: int) -> int:
    import re

    match = re.search(rf'\?org={org_id}&amp;role=student">(\d+)</a>', html)
    assert match, "the managed-organizations table lists the school"
    return int(match.group(1))


def test_dashboard_counts_follow_every_change(app, client, world, login_as):
    """The dashboard is cached under the newest audit event: a change anywhere shows at once."""
    from lms.main import dashboard

    login_as(client, world.coordinator)
    before = _student_count(client.get("/").get_data(as_text=True), world.school_a.id)
    assert _student_count(client.get("/").get_data(as_text=True), world.school_a.id) == before  # cached
    other = app.test_client()
    login_as(other, world.admin_a)
    other.post("/people/new", data={"username": "novyi", "surname": "Новый", "name": "Ученик", "patronymic": "",
                                    "organization": str(world.school_a.id), "role": "student", "grade": "3",
                                    "class_letter": "", "email": "", "phone": "", "snils": "", "sex": "",
                                    "time_zone": ""})
    assert _student_count(client.get("/").get_data(as_text=True), world.school_a.id) == before + 1
    other.post(f"/people/{world.student_a.id}/deactivate")
    assert _student_count(client.get("/").get_data(as_text=True), world.school_a.id) == before
    assert len(dashboard._cache._items) >= 1


def test_dashboard_recent_activity_shows_the_latest_change(app, client, world, login_as):
    login_as(client, world.coordinator)
    assert "Адм Б." not in client.get("/").get_data(as_text=True)  # school B's admin has done nothing yet
    other = app.test_client()
    login_as(other, world.admin_b)
    other.post(f"/people/{world.student_b.id}/edit", data={"surname": "Переименованная", "name": "Дарья"})
    assert "Адм Б." in client.get("/").get_data(as_text=True)  # their change, in recent activity


def test_dashboard_state_reads_the_same_scope_as_every_other_page(app, world):
    """The dashboard reads the scope together with its version; it must be the scope every check uses."""
    from lms.main.dashboard import dashboard_state
    from lms.orgs.permissions import _compute_scope

    for user in (world.admin, world.coordinator, world.admin_a, world.admin_c, world.teacher_a,
                 world.methodologist_a, world.student_a, world.parent_a):
        with app.test_request_context("/"):
            state = dashboard_state(user)
            assert state.scope == _compute_scope(user), user.username
            assert state.version is not None or not (state.scope.member_org_ids or state.scope.managed_org_ids)


def test_dashboard_follows_the_state_of_an_import(app, client, world, login_as):
    from lms.accounts.models import ImportJob

    job = ImportJob(organization_id=world.school_a.id, created_by_id=world.admin_a.id, filename="klass-9a.csv",
                    storage_key="imports/x.csv", dry_run=False, status="pending")
    db.session.add(job)
    db.session.commit()
    login_as(client, world.admin_a)
    html = client.get("/").get_data(as_text=True)
    assert "klass-9a.csv" in html and "в очереди" in html
    job.status = "running"
    db.session.commit()
    assert "выполняется" in client.get("/").get_data(as_text=True)
    job.status = "done"
    db.session.commit()
    assert "завершён" in client.get("/").get_data(as_text=True)
