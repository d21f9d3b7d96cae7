"""Municipalities and organizations through the API."""

from __future__ import annotations

from lms.extensions import db
from lms.orgs.models import Organization
from tests.api.conftest import assert_error, counts


def test_create_organization(client, world, auth):
    body = {"municipality": world.municipality.id, "kind": "supplementary_centre", "name": "Центр «Поиск»",
            "code": "Poisk", "inn": "7701234567"}
    response = client.post("/api/v1/organizations", json=body, headers=auth(world.coordinator))
    assert response.status_code == 201, response.get_json()
    org = response.get_json()
    assert (org["code"], org["short_name"], org["time_zone"], org["is_active"]) == \
        ("poisk", "Центр «Поиск»", "Europe/Moscow", True)
    assert db.session.get(Organization, org["id"]).municipality_id == world.municipality.id


def test_coordinator_cannot_create_in_another_municipality(client, world, auth):
    body = {"municipality": world.other_municipality.id, "kind": "school", "name": "Школа", "code": "s99"}
    h = auth(world.coordinator)
    before = counts()
    assert_error(client.post("/api/v1/organizations", json=body, headers=h), 403)
    assert counts() == before


def test_create_organization_bad_input(client, world, auth):
    h = auth(world.admin)
    good = {"municipality": world.municipality.id, "kind": "school", "name": "Школа № 9", "code": "school9"}
    before = counts()
    for change, field, status in (
            ({"code": "school_a"}, "code", 409), ({"code": "№9"}, "code", 422), ({"kind": "zoo"}, "kind", 422),
            ({"inn": "12345"}, "inn", 422), ({"name": " "}, "name", 422), ({"municipality": 999999}, "municipality", 422),
            ({"time_zone": "Europe/Nowhere"}, "time_zone", 422), ({"address": "ул.\x00"}, "address", 422)):
        response = client.post("/api/v1/organizations", json={**good, **change}, headers=h)
        assert_error(response, status, field)
    assert counts() == before


def test_org_admin_edits_their_organization_but_not_its_code_or_activity(client, world, auth):
    url = f"/api/v1/organizations/{world.school_a.id}"
    h = auth(world.admin_a)
    response = client.patch(url, json={"address": "ул. Ленина, 5", "code": "SCHOOL_A"}, headers=h)
    assert response.status_code == 200, response.get_json()  # the same code is not a change
    assert response.get_json()["address"] == "ул. Ленина, 5"
    before = counts()
    assert_error(client.patch(url, json={"code": "school-1"}, headers=h), 403)
    assert_error(client.patch(url, json={"is_active": False}, headers=h), 403)
    assert counts() == before
    coordinator = client.patch(url, json={"code": "school-1"}, headers=auth(world.coordinator))
    assert coordinator.status_code == 200 and coordinator.get_json()["code"] == "school-1"
    taken = client.patch(url, json={"code": "school_b"}, headers=auth(world.coordinator))
    assert_error(taken, 409, "code")
    assert db.session.get(Organization, world.school_a.id).code == "school-1"


def test_organization_filters(client, world, auth):
    h = auth(world.admin)

    def codes(query):
        response = client.get(f"/api/v1/organizations?{query}", headers=h)
        assert response.status_code == 200, response.get_json()
        return {o["code"] for o in response.get_json()["items"]}

    assert codes("") == {"dept", "school_a", "school_b", "school_c"}
    assert codes("kind=education_department") == {"dept"}
    assert codes(f"municipality={world.other_municipality.id}") == {"school_c"}
    db.session.get(Organization, world.school_b.id).is_active = False
    db.session.commit()
    assert codes("active=false") == {"school_b"}
    assert "school_b" not in codes("active=true")
    assert_error(client.get("/api/v1/organizations?kind=zoo", headers=h), 422, "kind")


def test_people_without_organizations(client, world, auth):
    h = auth(world.parent_a)
    assert client.get("/api/v1/municipalities", headers=h).get_json()["items"] == []
    assert_error(client.get("/api/v1/organizations", headers=h), 403)


def test_municipalities(client, world, auth):
    everyone = client.get("/api/v1/municipalities", headers=auth(world.admin)).get_json()
    assert {m["name"] for m in everyone["items"]} == {"Городской округ Тестовый", "Другой округ"}
    assert everyone["total"] == 2
    theirs = client.get("/api/v1/municipalities", headers=auth(world.student_c)).get_json()
    assert [(m["name"], m["time_zone"]) for m in theirs["items"]] == [("Другой округ", "Asia/Yekaterinburg")]
