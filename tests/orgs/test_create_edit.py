"""Creating and editing organizations: who may, what is checked, what is recorded."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.core.audit import AuditEvent
from lms.extensions import db
from lms.orgs.models import Organization
from tests.helpers import count, field_error, text_of


def _new_org(world, **overrides) -> dict:
    data = {"municipality": world.municipality.id, "kind": "school", "name": "МБОУ «Средняя школа № 7»",
            "short_name": "Школа № 7", "code": "school7", "time_zone": "", "address": "ул. Ленина, 1",
            "inn": "5001234567"}
    data.update(overrides)
    return data


def test_coordinator_creates_an_organization_in_their_municipality(client, world, login_as):
    login_as(client, world.coordinator)
    form = text_of(client.get("/orgs/new"))
    assert "Городской округ Тестовый" in form and "Другой округ" not in form
    assert '<label for="code">' in form and '<label for="inn">' in form
    response = client.post("/orgs/new", data=_new_org(world))
    assert response.status_code == 302
    org = db.session.scalar(select(Organization).where(Organization.code == "school7"))
    assert response.headers["Location"].endswith(f"/orgs/{org.id}")
    assert org.municipality_id == world.municipality.id
    assert org.time_zone == world.municipality.time_zone  # "as the municipality"
    assert org.inn == "5001234567"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "org_created",
                                                       AuditEvent.object_id == org.id))
    assert event is not None and event.actor_id == world.coordinator.id
    page = text_of(client.get(response.headers["Location"]))
    assert "МБОУ «Средняя школа № 7»" in page and "ул. Ленина, 1" in page
    assert "Школа № 7" in text_of(client.get("/orgs"))


def test_admin_creates_an_organization_in_any_municipality_with_its_own_time_zone(client, world, login_as):
    login_as(client, world.admin)
    response = client.post("/orgs/new", data=_new_org(world, municipality=world.other_municipality.id,
                                                       time_zone="Asia/Omsk", code="omsk1"))
    assert response.status_code == 302
    org = db.session.scalar(select(Organization).where(Organization.code == "omsk1"))
    assert org.municipality_id == world.other_municipality.id and org.time_zone == "Asia/Omsk"


def test_coordinator_may_not_create_in_another_municipality(client, world, login_as):
    login_as(client, world.coordinator)
    before = count(Organization)
    response = client.post("/orgs/new", data=_new_org(world, municipality=world.other_municipality.id))
    assert response.status_code == 403
    assert count(Organization) == before


@pytest.mark.parametrize("user", ["admin_a", "teacher_a"])
def test_school_staff_may_not_create_organizations(client, world, login_as, user):
    login_as(client, getattr(world, user))
    before = count(Organization)
    assert client.post("/orgs/new", data=_new_org(world)).status_code == 403
    assert count(Organization) == before


@pytest.mark.parametrize(("overrides", "field", "words"), [
    ({"code": "school_a"}, "code", ("school_a",)),
    ({"code": "Школа 1"}, "code", ("school3",)),
    ({"time_zone": "Mars/Olympus"}, "time_zone", ("time zone", "часов")),
    ({"inn": "50012345678"}, "inn", ("10", "12")),
    ({"kind": "spaceport"}, "kind", ("kind", "вид", "тип")),
    ({"name": "  "}, "name", ("required", "обязательно")),
    ({"municipality": ""}, "municipality", ("required", "обязательно")),
])
def test_bad_input_is_reported_on_its_field_and_writes_nothing(client, world, login_as, overrides, field, words):
    login_as(client, world.coordinator)
    before, events = count(Organization), count(AuditEvent)
    response = client.post("/orgs/new", data=_new_org(world, **overrides))
    assert response.status_code == 422
    message = field_error(response, field)
    assert message, f"no error shown under {field}"
    assert any(w.lower() in message.lower() for w in words), message
    assert f'id="{field}"' in response.get_data(as_text=True)
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    # The user's input is kept so they can correct it.
    assert "МБОУ «Средняя школа № 7»" in text_of(response) or field == "name"
    assert count(Organization) == before
    assert count(AuditEvent) == events


def test_duplicate_code_is_checked_ignoring_case(client, world, login_as):
    login_as(client, world.admin)
    response = client.post("/orgs/new", data=_new_org(world, code="SCHOOL_A"))
    assert response.status_code == 422
    assert "school_a" in field_error(response, "code")


# --- edit ----------------------------------------------------------------------------------------

def _edit(org, **overrides) -> dict:
    data = {"kind": org.kind, "name": org.name, "short_name": org.short_name, "code": org.code,
            "time_zone": org.time_zone, "address": org.address, "inn": org.inn or ""}
    if org.is_active:
        data["is_active"] = "y"
    data.update(overrides)
    return data


def test_org_admin_edits_their_school_but_not_its_code_or_existence(client, world, login_as):
    login_as(client, world.admin_a)
    form = text_of(client.get(f"/orgs/{world.school_a.id}/edit"))
    assert 'name="code"' not in form and 'name="is_active"' not in form
    assert "school_a" in form  # shown, read-only
    data = _edit(world.school_a, name="МБОУ «Школа А»", address="пр. Мира, 5", code="hijacked")
    data.pop("is_active")  # an unchecked box: would deactivate if it were read
    response = client.post(f"/orgs/{world.school_a.id}/edit", data=data)
    assert response.status_code == 302
    db.session.refresh(world.school_a)
    assert world.school_a.name == "МБОУ «Школа А»" and world.school_a.address == "пр. Мира, 5"
    assert world.school_a.code == "school_a"
    assert world.school_a.is_active
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "org_updated",
                                                       AuditEvent.object_id == world.school_a.id))
    assert event.actor_id == world.admin_a.id and set(event.details["fields"]) == {"name", "address"}


def test_coordinator_changes_the_code(client, world, login_as):
    login_as(client, world.coordinator)
    assert 'name="code"' in client.get(f"/orgs/{world.school_a.id}/edit").get_data(as_text=True)
    response = client.post(f"/orgs/{world.school_a.id}/edit", data=_edit(world.school_a, code="gym1"))
    assert response.status_code == 302
    db.session.refresh(world.school_a)
    assert world.school_a.code == "gym1"


def test_edit_with_a_taken_code_keeps_the_old_one(client, world, login_as):
    login_as(client, world.coordinator)
    response = client.post(f"/orgs/{world.school_a.id}/edit",
                           data=_edit(world.school_a, code="school_b", name="Новое имя"))
    assert response.status_code == 422
    assert "school_b" in field_error(response, "code")
    db.session.refresh(world.school_a)
    assert world.school_a.code == "school_a" and world.school_a.name == "Школа А"


def test_edit_with_bad_inn_is_422(client, world, login_as):
    login_as(client, world.admin_a)
    response = client.post(f"/orgs/{world.school_a.id}/edit", data=_edit(world.school_a, inn="12345"))
    assert response.status_code == 422
    assert field_error(response, "inn")
    db.session.refresh(world.school_a)
    assert world.school_a.inn is None


def test_coordinator_deactivates_a_school_and_its_people_lose_it(client, world, login_as):
    login_as(client, world.coordinator)
    data = _edit(world.school_b)
    data.pop("is_active")
    assert client.post(f"/orgs/{world.school_b.id}/edit", data=data).status_code == 302
    db.session.refresh(world.school_b)
    assert not world.school_b.is_active
    assert client.get(f"/orgs/{world.school_b.id}").status_code == 200  # still the coordinator's
    client.post("/logout")
    login_as(client, world.admin_b)
    assert client.get(f"/orgs/{world.school_b.id}").status_code == 403


def test_find_organization_by_cyrillic_name_in_any_case(world):
    from lms.orgs.services import find_organization

    assert find_organization("ШКОЛА а") == world.school_a
    assert find_organization("  школа   б ") == world.school_b
    assert find_organization("school_a") == world.school_a
    assert find_organization("нет такой") is None
