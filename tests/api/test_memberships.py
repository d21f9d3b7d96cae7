"""Roles through the API: list, grant, change a student's class, remove."""

from __future__ import annotations

from sqlalchemy import select

from lms.core.audit import AuditEvent
from lms.extensions import db
from lms.orgs.models import Membership
from tests.api.conftest import assert_error, counts, membership_of


def test_change_class(client, world, auth):
    m = membership_of(world.student_a, world.school_a)
    h = auth(world.admin_a)
    response = client.patch(f"/api/v1/memberships/{m.id}", json={"grade": 10, "class_letter": "в"}, headers=h)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["class_name"] == "10В"
    db.session.refresh(m)
    assert (m.grade, m.class_letter) == (10, "В")
    only_letter = client.patch(f"/api/v1/memberships/{m.id}", json={"class_letter": "Г"}, headers=h)
    assert only_letter.get_json()["class_name"] == "10Г"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "membership_changed")
                              .order_by(AuditEvent.id.desc()))
    assert event.actor_id == world.admin_a.id and event.details["new"] == "10Г"


def test_change_class_bad_input(client, world, auth):
    h = auth(world.admin_a)
    m = membership_of(world.student_a, world.school_a)
    before = counts()
    assert_error(client.patch(f"/api/v1/memberships/{m.id}", json={"grade": 12}, headers=h), 422, "grade")
    assert_error(client.patch(f"/api/v1/memberships/{m.id}", json={"grade": None}, headers=h), 422, "grade")
    assert_error(client.patch(f"/api/v1/memberships/{m.id}", json={"class_letter": "АБВГД"}, headers=h),
                 422, "class_letter")
    assert_error(client.patch(f"/api/v1/memberships/{m.id}", json={"role": "teacher"}, headers=h), 422, "role")
    teacher = membership_of(world.teacher_a, world.school_a)
    assert_error(client.patch(f"/api/v1/memberships/{teacher.id}", json={"grade": 5}, headers=h), 422, "grade")
    assert counts() == before
    db.session.refresh(m)
    assert (m.grade, m.class_letter) == (9, "А")


def test_remove_membership(client, world, auth):
    m_id = membership_of(world.methodologist_a, world.school_a).id
    response = client.delete(f"/api/v1/memberships/{m_id}", headers=auth(world.admin_a))
    assert response.status_code == 204
    assert response.get_data() == b""
    assert db.session.get(Membership, m_id) is None
    assert db.session.scalar(select(AuditEvent.actor_id).where(AuditEvent.action == "role_revoked")) == \
        world.admin_a.id
    assert_error(client.delete(f"/api/v1/memberships/{m_id}", headers=auth(world.admin_a)), 404)


def test_last_admin_cannot_remove_their_own_role(client, world, auth):
    m = membership_of(world.admin_a, world.school_a)
    h = auth(world.admin_a)
    before = counts()
    assert_error(client.delete(f"/api/v1/memberships/{m.id}", headers=h), 409)
    assert counts() == before
    assert db.session.get(Membership, m.id) is not None


def test_only_admins_and_coordinators_grant_the_coordinator_role(client, world, auth):
    body = {"user": world.teacher_a.id, "organization": world.school_a.id, "role": "coordinator"}
    assert_error(client.post("/api/v1/memberships", json=body, headers=auth(world.admin_a)), 403)
    response = client.post("/api/v1/memberships", json=body, headers=auth(world.coordinator))
    assert response.status_code == 201, response.get_json()


def test_grant_role(client, world, auth):
    h = auth(world.admin_a)
    body = {"user": world.methodologist_a.id, "organization": world.school_a.id, "role": "teacher"}
    created = client.post("/api/v1/memberships", json=body, headers=h)
    assert created.status_code == 201, created.get_json()
    data = created.get_json()
    assert (data["user"]["username"], data["organization"]["code"], data["role"]) == \
        ("method_a", "school_a", "teacher")
    again = client.post("/api/v1/memberships", json=body, headers=h)
    assert again.status_code == 200 and again.get_json()["id"] == data["id"]

    before = counts()
    student = {"user": world.teacher_a.id, "organization": world.school_a.id, "role": "student"}
    assert_error(client.post("/api/v1/memberships", json=student, headers=h), 422, "grade")
    assert_error(client.post("/api/v1/memberships", json={**body, "user": 999999}, headers=h), 422, "user")
    assert_error(client.post("/api/v1/memberships", json={**body, "role": "boss"}, headers=h), 422, "role")
    assert counts() == before


def test_list_memberships_with_filters(client, world, auth):
    h = auth(world.teacher_a)
    everything = client.get("/api/v1/memberships?per_page=500", headers=h).get_json()
    assert {m["user"]["username"] for m in everything["items"]} == {"admin_a", "teacher_a", "method_a", "student_a"}
    mine = client.get(f"/api/v1/memberships?user={world.student_a.id}", headers=h).get_json()
    assert [(m["role"], m["class_name"]) for m in mine["items"]] == [("student", "9А")]
    elsewhere = client.get(f"/api/v1/memberships?user={world.student_b.id}", headers=h).get_json()
    assert elsewhere["items"] == [] and elsewhere["total"] == 0
    assert_error(client.get(f"/api/v1/memberships?organization={world.school_b.id}", headers=h), 403)
    assert_error(client.get("/api/v1/memberships?user=abc", headers=h), 422, "user")
