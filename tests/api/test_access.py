"""Every endpoint as anonymous, student, teacher, another organization's admin, admin (and the
organization's own admin), on objects of school A; and what an org admin of school A sees of others."""

from __future__ import annotations

import pytest

from lms.accounts import services
from lms.extensions import db
from lms.orgs.models import Role
from tests.api.conftest import assert_error, counts, membership_of
from tests.factories import make_user

ACTORS = ("anonymous", "student", "teacher", "other_admin", "admin", "own_admin")


def _actor(world, name):
    return {"anonymous": None, "student": world.student_a, "teacher": world.teacher_a,
            "other_admin": world.admin_b, "admin": world.admin, "own_admin": world.admin_a}[name]


# (method, url(world), body(world) or None, expected status per actor in ACTORS order)
CASES = {
    "me": ("GET", lambda w: "/api/v1/me", None, (401, 200, 200, 200, 200, 200)),
    "municipalities": ("GET", lambda w: "/api/v1/municipalities", None, (401, 200, 200, 200, 200, 200)),
    "organizations": ("GET", lambda w: "/api/v1/organizations", None, (401, 200, 200, 200, 200, 200)),
    "organization": ("GET", lambda w: f"/api/v1/organizations/{w.school_a.id}", None,
                     (401, 200, 200, 403, 200, 200)),
    "create organization": (
        "POST", lambda w: "/api/v1/organizations",
        lambda w: {"municipality": w.municipality.id, "kind": "school", "name": "Школа № 7", "code": "school7"},
        (401, 403, 403, 403, 201, 403)),
    "edit organization": ("PATCH", lambda w: f"/api/v1/organizations/{w.school_a.id}",
                          lambda w: {"address": "ул. Новая, 1"}, (401, 403, 403, 403, 200, 200)),
    "people": ("GET", lambda w: "/api/v1/people", None, (401, 403, 200, 200, 200, 200)),
    "create person": (
        "POST", lambda w: "/api/v1/people",
        lambda w: {"username": "novikov", "surname": "Новиков", "name": "Илья", "organization": w.school_a.id,
                   "role": "student", "grade": 5},
        (401, 403, 403, 403, 201, 201)),
    "person": ("GET", lambda w: f"/api/v1/people/{w.methodologist_a.id}", None, (401, 403, 200, 403, 200, 200)),
    "edit person": ("PATCH", lambda w: f"/api/v1/people/{w.methodologist_a.id}",
                    lambda w: {"patronymic": "Петровна"}, (401, 403, 403, 403, 200, 200)),
    "deactivate person": ("POST", lambda w: f"/api/v1/people/{w.methodologist_a.id}/deactivate",
                          lambda w: {}, (401, 403, 403, 403, 200, 200)),
    "memberships": ("GET", lambda w: "/api/v1/memberships", None, (401, 403, 200, 200, 200, 200)),
    "programmes": ("GET", lambda w: "/api/v1/programmes", None, (401, 200, 200, 200, 200, 200)),
    "runs": ("GET", lambda w: "/api/v1/runs", None, (401, 200, 200, 200, 200, 200)),
    "certificates": ("GET", lambda w: "/api/v1/certificates", None, (401, 200, 200, 200, 200, 200)),
    "add membership": (
        "POST", lambda w: "/api/v1/memberships",
        lambda w: {"user": w.methodologist_a.id, "organization": w.school_a.id, "role": "teacher"},
        (401, 403, 403, 403, 201, 201)),
    "change class": ("PATCH", lambda w: f"/api/v1/memberships/{membership_of(w.student_a, w.school_a).id}",
                     lambda w: {"class_letter": "Б"}, (401, 403, 403, 403, 200, 200)),
    "remove membership": (
        "DELETE", lambda w: f"/api/v1/memberships/{membership_of(w.methodologist_a, w.school_a).id}",
        None, (401, 403, 403, 403, 204, 204)),
}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("case", list(CASES))
def test_access_matrix(client, world, auth, case, actor):
    method, url, body, expected = CASES[case]
    status = expected[ACTORS.index(actor)]
    headers = auth(_actor(world, actor))
    kwargs = {"json": body(world)} if body else {}
    before = counts()
    response = client.open(url(world), method=method, headers=headers, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)
    if status >= 400:
        assert_error(response, status)
        assert counts() == before  # a refused request writes nothing, not even an audit event


# --- an organization's admin sees nothing of other organizations ---------------------------------

def _get(client, url, headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_org_admin_lists_only_their_organization(client, world, auth):
    h = auth(world.admin_a)
    a = world.school_a.id
    people = _get(client, "/api/v1/people?per_page=500", h)["items"]
    assert {p["username"] for p in people} == {"admin_a", "teacher_a", "method_a", "student_a"}
    assert all(m["organization_id"] == a for p in people for m in p["memberships"])
    orgs = _get(client, "/api/v1/organizations", h)
    assert [o["code"] for o in orgs["items"]] == ["school_a"] and orgs["total"] == 1
    assert [m["id"] for m in _get(client, "/api/v1/municipalities", h)["items"]] == [world.municipality.id]
    memberships = _get(client, "/api/v1/memberships?per_page=500", h)["items"]
    assert memberships and {m["organization_id"] for m in memberships} == {a}
    for url in ("/api/v1/people?q=student_b", "/api/v1/people?q=student_c", "/api/v1/people?role=org_admin"):
        assert {p["username"] for p in _get(client, url, h)["items"]} <= {"admin_a"}


def test_org_admin_is_refused_objects_of_other_organizations(client, world, auth):
    h = auth(world.admin_a)
    b, c = world.school_b, world.school_c
    forbidden = [
        ("GET", f"/api/v1/people?organization={b.id}", None),
        ("GET", f"/api/v1/memberships?organization={c.id}", None),
        ("GET", f"/api/v1/organizations/{b.id}", None),
        ("PATCH", f"/api/v1/organizations/{c.id}", {"address": "x"}),
        ("GET", f"/api/v1/people/{world.student_b.id}", None),
        ("GET", f"/api/v1/people/{world.student_c.id}", None),
        ("PATCH", f"/api/v1/people/{world.student_b.id}", {"name": "Мария"}),
        ("POST", f"/api/v1/people/{world.student_c.id}/deactivate", {}),
        ("PATCH", f"/api/v1/memberships/{membership_of(world.student_b, b).id}", {"grade": 3}),
        ("DELETE", f"/api/v1/memberships/{membership_of(world.admin_c, c).id}", None),
        ("POST", "/api/v1/memberships", {"user": world.student_a.id, "organization": b.id, "role": "student",
                                         "grade": 9}),
        ("POST", "/api/v1/people", {"username": "intruder", "surname": "Чужой", "name": "Иван",
                                    "organization": c.id, "role": "teacher"}),
    ]
    before = counts()
    for method, url, body in forbidden:
        response = client.open(url, method=method, headers=h, **({"json": body} if body is not None else {}))
        assert_error(response, 403)
    assert counts() == before
    for method, url in (("GET", "/api/v1/people/999999"), ("GET", "/api/v1/organizations/999999"),
                        ("PATCH", "/api/v1/memberships/999999"), ("DELETE", "/api/v1/memberships/999999"),
                        ("GET", f"/api/v1/people/{2**70}")):
        response = client.open(url, method=method, headers=h, **({"json": {}} if method == "PATCH" else {}))
        assert_error(response, 404)


def test_roles_elsewhere_are_hidden_from_an_org_admin_but_not_from_the_person(client, world, auth):
    both = make_user("both", org=world.school_a, role=Role.TEACHER, surname="Совместителева", name="Анна")
    services.add_membership(both, world.school_c, Role.TEACHER, by=None)
    db.session.commit()
    seen = _get(client, f"/api/v1/people/{both.id}", auth(world.admin_a))
    assert [m["organization"]["code"] for m in seen["memberships"]] == ["school_a"]
    own = _get(client, "/api/v1/me", auth(both))
    assert sorted(m["organization"]["code"] for m in own["memberships"]) == ["school_a", "school_c"]
    everything = _get(client, f"/api/v1/people/{both.id}", auth(world.admin))
    assert len(everything["memberships"]) == 2


def test_coordinator_reaches_every_organization_of_their_municipality(client, world, auth):
    h = auth(world.coordinator)
    orgs = {o["code"] for o in _get(client, "/api/v1/organizations", h)["items"]}
    assert orgs == {"dept", "school_a", "school_b"}
    people = {p["username"] for p in _get(client, "/api/v1/people?per_page=500", h)["items"]}
    assert {"student_a", "student_b", "admin_b"} <= people and "student_c" not in people
    response = client.get(f"/api/v1/organizations/{world.school_c.id}", headers=h)
    assert_error(response, 403)


def test_parent_sees_their_child_but_lists_nothing(client, world, auth):
    h = auth(world.parent_a)
    assert _get(client, f"/api/v1/people/{world.student_a.id}", h)["snils"] == "112-233-445 95"
    assert_error(client.get("/api/v1/people", headers=h), 403)
    assert_error(client.get(f"/api/v1/people/{world.student_b.id}", headers=h), 403)
