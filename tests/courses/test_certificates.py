"""Certificates: gap-free numbering (also under 20 concurrent issuers), verification, revoke and duplicate,
PDFs, the template sandbox, and who sees what."""

from __future__ import annotations

import functools
import os
import secrets
import threading
from datetime import date

import pytest
from sqlalchemy import create_engine, select, text

from lms.core import signals
from lms.core.audit import AuditEvent
from lms.core.errors import Conflict, ValidationError
from lms.courses import certificate_templates as templates
from lms.courses import certificates as services
from lms.courses.models.certificates import Certificate, CertificateSequence, CertificateStatus
from lms.extensions import db
from tests.courses.certificate_helpers import issue, make_programme
from tests.helpers import at_once, count, field_error, text_of

# --- numbering -----------------------------------------------------------------------------------


def test_numbers_run_per_organization_and_restart_every_year(world):
    programme = make_programme(world.school_a)
    other = make_programme(world.school_b)
    a1 = issue(world.teacher_a, world.school_a, programme)
    a2 = issue(world.student_a, world.school_a, programme)
    b1 = issue(world.student_b, world.school_b, other)
    a_last_year = issue(world.teacher_a, world.school_a, programme, issued_on=date(2025, 12, 20))
    assert [a1.registration_number, a2.registration_number] == [1, 2]
    assert b1.registration_number == 1  # separate per organization
    assert (a_last_year.year, a_last_year.registration_number) == (2025, 1)  # a sequence per year
    assert a1.number == "2600001" and a_last_year.number == "2500001"


def test_a_rolled_back_issue_leaves_no_gap(world):
    programme = make_programme(world.school_a)
    issue(world.teacher_a, world.school_a, programme)
    db.session.commit()
    issue(world.student_a, world.school_a, programme)
    db.session.rollback()  # e.g. the request failed after the insert
    again = issue(world.student_a, world.school_a, programme)
    db.session.commit()
    assert again.registration_number == 2


def test_bulk_issue_is_all_or_nothing_and_numbers_in_order(world):
    programme = make_programme(world.school_a)
    db.session.commit()
    items = [services.IssueItem(holder=p, programme=programme, kind="pd_certificate", hours=36,
                                study_start=date(2026, 3, 2), study_end=date(2026, 3, 27))
             for p in (world.teacher_a, world.methodologist_a, world.student_a)]
    bad = services.IssueItem(holder=world.admin_a, programme=programme, kind="pd_certificate", hours=8,
                             study_start=date(2026, 3, 2), study_end=date(2026, 3, 27))
    with pytest.raises(ValidationError) as err:
        services.issue_certificates(world.school_a, [*items, bad], by=world.admin_a, issued_on=date(2026, 3, 30))
    assert "3.hours" in err.value.errors  # the fourth person: a PD certificate needs at least 16 hours
    db.session.rollback()
    assert count(Certificate) == 0
    issued = services.issue_certificates(world.school_a, items, by=world.admin_a, issued_on=date(2026, 3, 30))
    assert [c.registration_number for c in issued] == [1, 2, 3]
    assert [c.holder_id for c in issued] == [world.teacher_a.id, world.methodologist_a.id, world.student_a.id]


def test_the_registration_number_is_unique_in_the_database(world):
    from sqlalchemy.exc import IntegrityError

    programme = make_programme(world.school_a)
    first = issue(world.teacher_a, world.school_a, programme)
    db.session.commit()
    clash = issue(world.student_a, world.school_a, programme)
    db.session.commit()
    clash.registration_number = first.registration_number
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def _concurrency_database(tmp_path):
    """A database of its own that real threads commit to: a SQLite file, or a fresh schema of the
    PostgreSQL test database (dropped afterwards)."""
    from lms.config import engine_options

    url = os.environ.get("LMS_TEST_DATABASE_URL")
    if not url:
        path = f"sqlite:///{tmp_path / 'numbers.sqlite3'}"
        return path, engine_options(path), None
    schema = f"numbers_{secrets.token_hex(4)}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    options = engine_options(url)
    options["connect_args"] = {"options": f"-csearch_path={schema}"}
    return url, options, schema


@pytest.fixture
def concurrent_app(tmp_path):
    from lms import create_app
    from tests.conftest import test_config

    url, options, schema = _concurrency_database(tmp_path)
    application = create_app(test_config(SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ENGINE_OPTIONS=options,
                                         STORAGE_URL=f"file://{tmp_path / 'storage'}"))
    with application.app_context():
        db.metadata.create_all(db.engine)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    if schema:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


def test_twenty_concurrent_issuers_get_numbers_without_gaps_or_duplicates(concurrent_app):
    """Twenty threads, each with its own session and connection, issue certificates of the same
    organization and year at the same moment; every fourth transaction is rolled back after taking its
    number. The numbers that remain are exactly 1..n."""
    from tests.factories import make_municipality, make_org, make_user

    app = concurrent_app
    with app.app_context():
        org = make_org(make_municipality(), code="rc")
        programme = make_programme(org)
        holders = [make_user(f"p{i}", org=org, role="teacher").id for i in range(20)]
        db.session.commit()
        org_id, programme_id = org.id, programme.id

    kept: list[int] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        for round_ in range(4):
            with app.app_context():
                from lms.accounts.models import User
                from lms.courses.models import Programme
                from lms.orgs.models import Organization

                cert = issue(db.session.get(User, holders[index]), db.session.get(Organization, org_id),
                             db.session.get(Programme, programme_id))
                if (index + round_) % 4 == 0:
                    db.session.rollback()
                    continue
                number = cert.registration_number
                db.session.commit()
                with lock:
                    kept.append(number)

    at_once([functools.partial(worker, i) for i in range(20)])
    with app.app_context():
        stored = sorted(db.session.scalars(select(Certificate.registration_number)
                                           .where(Certificate.organization_id == org_id)))
        last = db.session.scalar(select(CertificateSequence.last).where(CertificateSequence.organization_id == org_id))
    assert len(kept) == 60
    assert stored == sorted(kept) == list(range(1, 61))
    assert last == 60


# --- issuing rules, snapshot, signal, audit --------------------------------------------------------


def test_issue_snapshots_what_is_printed_and_tells_the_portfolio(world):
    programme = make_programme(world.school_a, hours=72)
    received = []

    def receiver(cert, by=None, **_kw):
        received.append((cert, by))

    signals.certificate_issued.connect(receiver)
    try:
        cert = issue(world.student_a, world.school_a, programme, by=world.admin_a)
    finally:
        signals.certificate_issued.disconnect(receiver)
    assert received == [(cert, world.admin_a)]
    second = issue(world.teacher_a, world.school_a, programme)
    assert second.code != cert.code  # random, not derived from anything shared
    world.student_a.surname = "Другая"
    programme.title = "Иное"
    db.session.flush()
    assert cert.holder_surname == "Учеников" and cert.programme_title == "Введение в цифровую трансформацию"
    assert cert.holder_snils == "11223344595" and cert.hours == 72
    assert cert.kind == "pd_certificate" and cert.status == CertificateStatus.VALID
    assert services.CODE_PATTERN.match(cert.code) and len(cert.code) >= 16
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "certificate_issued")
                              .order_by(AuditEvent.id))
    assert event.organization_id == world.school_a.id and event.object_id == cert.id


@pytest.mark.parametrize("change, field", [
    ({"hours": 8}, "hours"),                                   # PD ≥ 16 h
    ({"kind": "retraining_diploma", "hours": 72}, "hours"),    # retraining ≥ 250 h
    ({"kind": "nonsense"}, "kind"),
    ({"study_end": date(2026, 2, 1)}, "study_end"),            # before the start
    ({"issued_on": date(2099, 1, 1)}, "issued_on"),
])
def test_bad_issue_data_is_refused_naming_the_field(world, change, field):
    programme = make_programme(world.school_a)
    data = {"programme": programme, "kind": "pd_certificate", "hours": 36, "study_start": date(2026, 3, 2),
            "study_end": date(2026, 3, 27), "issued_on": date(2026, 3, 30), "by": None, **change}
    with pytest.raises(ValidationError) as err:
        services.issue_certificate(world.teacher_a, world.school_a, **data)
    assert err.value.field == field
    db.session.rollback()
    assert count(Certificate) == 0


def test_a_draft_programme_gets_no_certificate(world):
    draft = make_programme(world.school_a, status="draft")
    with pytest.raises(ValidationError) as err:
        issue(world.teacher_a, world.school_a, draft)
    assert err.value.field == "programme"


# --- revoke, duplicate, verification ---------------------------------------------------------------


def test_verification_of_valid_revoked_duplicate_and_unknown_codes(client, world):
    programme = make_programme(world.school_a)
    valid = issue(world.teacher_a, world.school_a, programme)
    revoked = issue(world.methodologist_a, world.school_a, programme)
    original = issue(world.student_a, world.school_a, programme)
    services.revoke(revoked, "Приказ № 12 от 01.04.2026", by=world.admin_a)
    dup = services.issue_duplicate(original, world.admin_a, issued_on=date(2026, 4, 2))
    db.session.commit()
    assert dup.registration_number == 4 and dup.original_id == original.id
    assert original.status == CertificateStatus.REPLACED

    page = client.get(f"/verify/{valid.code}")
    assert page.status_code == 200
    html = text_of(page)
    assert "Учителева Татьяна" in html and "Введение в цифровую трансформацию" in html and "36" in html
    assert "Документ действителен" in html and "Школа А" in html

    html = text_of(client.get(f"/verify/{revoked.code}"))
    assert "Документ аннулирован" in html and "Приказ" not in html  # the reason stays internal

    html = text_of(client.get(f"/verify/{dup.code}"))
    assert "дубликат" in html.lower() and "№ 3 (2026)" in html
    html = text_of(client.get(f"/verify/{original.code}"))
    assert "заменён дубликатом" in html and "№ 4 (2026)" in html

    missing = client.get("/verify/NoSuchCode12345")
    assert missing.status_code == 404 and "не найден" in text_of(missing)
    assert client.get("/verify/%3Cscript%3E").status_code == 404
    assert client.get("/verify?code=" + valid.code).headers["Location"].endswith(f"/verify/{valid.code}")
    assert client.get("/verify").status_code == 200


def test_verification_is_throttled_per_address(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "VERIFY_MAX_MISSES", 3)
    programme = make_programme(world.school_a)
    cert = issue(world.teacher_a, world.school_a, programme)
    db.session.commit()
    for i in range(3):
        assert client.get(f"/verify/Guess{i:08d}").status_code == 404
    blocked = client.get(f"/verify/{cert.code}")
    assert blocked.status_code == 429 and "Слишком много проверок" in text_of(blocked)
    assert blocked.headers["Retry-After"]
    other = app.test_client()
    assert other.get(f"/verify/{cert.code}", environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code == 200


def test_revoke_needs_a_reason_and_happens_once(world):
    cert = issue(world.teacher_a, world.school_a, make_programme(world.school_a))
    with pytest.raises(ValidationError):
        services.revoke(cert, "  ", by=world.admin_a)
    services.revoke(cert, "ошибка в фамилии", by=world.admin_a)
    assert cert.revoked_by_id == world.admin_a.id and cert.revoked_at is not None
    with pytest.raises(Conflict):
        services.revoke(cert, "ещё раз", by=world.admin_a)
    with pytest.raises(Conflict):
        services.issue_duplicate(cert, world.admin_a)


# --- PDF and templates -----------------------------------------------------------------------------


def test_the_pdf_is_made_from_the_template_and_stored(app, world):
    from lms.core.storage import get_storage

    cert = issue(world.student_a, world.school_a, make_programme(world.school_a, hours=72))
    html = services.certificate_html(cert)
    assert f"№ {cert.number}" in html and f"Регистрационный номер {cert.registration_number}" in html
    assert "Учеников Никита" in html and "72 часа" in html and "прошёл" in html and "<svg" in html
    assert f"/verify/{cert.code}" in html
    pdf = services.store_pdf(cert)
    assert pdf.startswith(b"%PDF")
    assert cert.pdf_key and get_storage().get_bytes(cert.pdf_key) == pdf
    assert services.certificate_pdf(cert) == pdf


def test_an_edited_template_prints_new_certificates_and_issued_ones_keep_theirs(world):
    programme = make_programme(world.school_a)
    before = issue(world.teacher_a, world.school_a, programme)
    services.save_template(world.school_a, "pd_certificate",
                           "<html><body><h1>Особый бланк</h1><p>{{ holder_full_name }} № {{ registration_number }}"
                           "</p>{{ qr }}</body></html>", by=world.admin_a)
    after = issue(world.methodologist_a, world.school_a, programme)
    assert "Особый бланк" in services.certificate_html(after) and "№ 2" in services.certificate_html(after)
    assert "Особый бланк" not in services.certificate_html(before)
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "certificate_template_changed"))


@pytest.mark.parametrize("source", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ holder_name.__class__.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{% include '/etc/passwd' %}",
    "{{ unknown_variable }}",
    "{% for x in %}",
])
def test_templates_cannot_reach_the_server(world, source):
    with pytest.raises(ValidationError) as err:
        services.save_template(world.school_a, "pd_certificate", f"<p>{source}</p>", by=world.admin_a)
    assert err.value.field == "html"


@pytest.mark.parametrize("source", [
    '<img src="https://example.org/logo.png">',
    '<img src="file:///etc/passwd">',
    "<style>body { background: url(http://10.0.0.1/x.png) }</style>",
    "<style>@import 'https://example.org/a.css';</style>",
    '<link rel="stylesheet" href="//example.org/a.css">',
])
def test_templates_cannot_name_external_resources(world, source):
    with pytest.raises(ValidationError) as err:
        services.save_template(world.school_a, "pd_certificate", source, by=world.admin_a)
    assert "external" in err.value.message or "внешн" in err.value.message


def test_a_data_url_image_is_allowed():
    html = templates.check('<img alt="" src="data:image/png;base64,iVBORw0KGgo="><p>{{ holder_full_name }}</p>')
    assert "Иванова Мария Петровна" in html


def test_hours_are_printed_with_the_right_russian_word():
    assert [templates.hours_text(n) for n in (1, 2, 16, 21, 36, 72, 111, 250)] == [
        "1 час", "2 часа", "16 часов", "21 час", "36 часов", "72 часа", "111 часов", "250 часов"]


# --- pages and access ------------------------------------------------------------------------------


def test_manager_issues_from_the_form_and_gets_a_pdf(client, world, login_as):
    programme = make_programme(world.school_a)
    login_as(client, world.admin_a)
    page = client.get(f"/orgs/{world.school_a.id}/certificates/new")
    assert page.status_code == 200 and "Учителева" in text_of(page)
    response = client.post(f"/orgs/{world.school_a.id}/certificates/new", data={
        "holder": world.teacher_a.id, "programme": programme.id, "kind": "", "hours": "",
        "study_start": "2026-03-02", "study_end": "2026-03-27", "issued_on": "2026-03-30"})
    assert response.status_code == 302, text_of(response)[:3000]
    cert = db.session.scalar(select(Certificate))
    assert (cert.kind, cert.hours, cert.issued_by_id) == ("pd_certificate", 36, world.admin_a.id)
    assert cert.pdf_key  # made right after the issue
    pdf = client.get(f"/certificates/{cert.id}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    listing = text_of(client.get(f"/orgs/{world.school_a.id}/certificates?q=учителева"))
    assert "Учителева Татьяна" in listing
    archive = client.get(f"/orgs/{world.school_a.id}/certificates.zip")
    assert archive.status_code == 200 and archive.data.startswith(b"PK")


def test_the_issue_form_names_the_wrong_field_and_writes_nothing(client, world, login_as):
    programme = make_programme(world.school_a)
    login_as(client, world.admin_a)
    response = client.post(f"/orgs/{world.school_a.id}/certificates/new", data={
        "holder": world.teacher_a.id, "programme": programme.id, "hours": "4",
        "study_start": "2026-03-02", "study_end": "2026-03-27"})
    assert response.status_code == 422
    assert "16" in field_error(response, "hours")
    outsider = client.post(f"/orgs/{world.school_a.id}/certificates/new", data={
        "holder": world.student_c.id, "programme": programme.id, "study_start": "2026-03-02",
        "study_end": "2026-03-27"})  # a pupil of another municipality's school
    assert outsider.status_code == 422 and field_error(outsider, "holder")
    bad_date = client.post(f"/orgs/{world.school_a.id}/certificates/new", data={
        "holder": world.teacher_a.id, "programme": programme.id, "study_start": "вчера", "study_end": "2026-03-27"})
    assert bad_date.status_code == 422 and field_error(bad_date, "study_start")
    assert count(Certificate) == 0


def test_the_holder_sees_their_own_and_nobody_else_does(client, world, login_as):
    programme = make_programme(world.school_a)
    cert = issue(world.student_a, world.school_a, programme)
    db.session.commit()
    login_as(client, world.student_a)
    assert "Введение в цифровую трансформацию" in text_of(client.get("/certificates"))
    assert client.get(f"/certificates/{cert.id}").status_code == 200
    assert client.get(f"/certificates/{cert.id}/pdf").data.startswith(b"%PDF")
    for user in (world.teacher_a, world.admin_b, world.parent_a, world.admin_c):
        other = client.application.test_client()
        login_as(other, user)
        assert other.get(f"/certificates/{cert.id}").status_code == 403
        assert other.get(f"/certificates/{cert.id}/pdf").status_code == 403
        assert "Введение" not in text_of(other.get("/certificates"))
    login_as(client, world.admin_b)
    assert client.get(f"/orgs/{world.school_a.id}/certificates").status_code == 403


def test_revoke_and_duplicate_from_the_card(client, world, login_as):
    cert = issue(world.teacher_a, world.school_a, make_programme(world.school_a))
    db.session.commit()
    login_as(client, world.coordinator)  # the municipality's coordinator manages school A
    empty = client.post(f"/certificates/{cert.id}/revoke", data={"reason": ""})
    assert empty.status_code == 422 and field_error(empty, "reason")
    dup = client.post(f"/certificates/{cert.id}/duplicate")
    assert dup.status_code == 302
    duplicate = db.session.scalar(select(Certificate).where(Certificate.original_id == cert.id))
    assert duplicate.registration_number == 2
    assert client.post(f"/certificates/{duplicate.id}/revoke", data={"reason": "утерян"}).status_code == 302
    db.session.refresh(duplicate)
    assert duplicate.status == CertificateStatus.REVOKED and duplicate.revoke_reason == "утерян"


def test_template_editor_previews_saves_and_refuses_unsafe_templates(client, world, login_as):
    login_as(client, world.admin_a)
    url = f"/orgs/{world.school_a.id}/certificates/templates/pd_certificate"
    page = client.get(url)
    assert page.status_code == 200 and "holder_full_name" in text_of(page)
    preview = client.post(url, data={"html": "<h1>{{ holder_full_name }}</h1>", "action": "preview"})
    assert preview.status_code == 200 and preview.data.startswith(b"%PDF")
    unsafe = client.post(url, data={"html": "{{ ''.__class__.__base__ }}", "action": "save"})
    assert unsafe.status_code == 422 and field_error(unsafe, "html")
    external = client.post(url, data={"html": '<img src="http://169.254.169.254/">', "action": "preview"})
    assert external.status_code == 422 and field_error(external, "html")
    assert client.post(url, data={"html": "<h1>{{ holder_full_name }}</h1>", "action": "save"}).status_code == 302
    assert services.current_template(world.school_a, "pd_certificate").html == "<h1>{{ holder_full_name }}</h1>"
    settings = client.post(f"/orgs/{world.school_a.id}/certificates/settings", data={
        "city": "Дубна", "director_title": "Директор", "director_name": "А. А. Образцов", "series": "",
        "study_form": "Заочная", "citizenship_code": "RUS"})
    assert settings.status_code == 422 and field_error(settings, "citizenship_code")
    ok = client.post(f"/orgs/{world.school_a.id}/certificates/settings", data={
        "city": "Дубна", "director_title": "Директор", "director_name": "А. А. Образцов", "series": "",
        "study_form": "Заочная", "citizenship_code": "643"})
    assert ok.status_code == 302 and services.settings_for(world.school_a).city == "Дубна"
