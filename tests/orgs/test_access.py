"""Every organization page as anonymous, student, teacher, another organization's admin, the school's
admin, the municipal coordinator and the global admin."""

from __future__ import annotations

import pytest


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers["Location"]


ROLES = ("anonymous", "student_a", "teacher_a", "admin_c", "admin_a", "coordinator", "admin")

# url builder, roles answered 200 (all others 403; anonymous is sent to the login page)
PAGES = {
    "list": (lambda w: "/orgs", {"student_a", "teacher_a", "admin_c", "admin_a", "coordinator", "admin"}),
    "view school_a": (lambda w: f"/orgs/{w.school_a.id}", {"student_a", "teacher_a", "admin_a", "coordinator",
                                                           "admin"}),
    "edit school_a": (lambda w: f"/orgs/{w.school_a.id}/edit", {"admin_a", "coordinator", "admin"}),
    "new org": (lambda w: "/orgs/new", {"coordinator", "admin"}),
    "municipalities": (lambda w: "/municipalities", {"admin"}),
    "edit municipality": (lambda w: f"/municipalities/{w.municipality.id}/edit", {"admin"}),
    "years": (lambda w: "/years", {"coordinator", "admin"}),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES)
def test_page_access(client, world, login_as, page, role):
    url_of, allowed = PAGES[page]
    if role != "anonymous":
        login_as(client, getattr(world, role))
    response = client.get(url_of(world))
    if role == "anonymous":
        assert is_login_redirect(response)
    elif role in allowed:
        assert response.status_code == 200
    else:
        assert response.status_code == 403


def test_person_without_organizations_gets_no_list(client, world, login_as):
    login_as(client, world.parent_a)
    assert client.get("/orgs").status_code == 403


@pytest.mark.parametrize("other", ["school_b", "school_c", "department"])
def test_org_admin_sees_nothing_of_other_organizations(client, world, login_as, other):
    login_as(client, world.admin_a)
    org = getattr(world, other)
    for url in (f"/orgs/{org.id}", f"/orgs/{org.id}/edit"):
        response = client.get(url)
        assert response.status_code == 403
        assert org.name not in response.get_data(as_text=True)
    assert client.post(f"/orgs/{org.id}/edit", data={"name": "Захват", "kind": "school"}).status_code == 403


def test_missing_objects_are_404(client, world, login_as):
    login_as(client, world.admin)
    assert client.get("/orgs/999999").status_code == 404
    assert client.get("/orgs/999999/edit").status_code == 404
    assert client.get("/municipalities/999999/edit").status_code == 404
    assert client.post("/org-statuses/999999/delete").status_code == 404
    assert client.post("/years/999999/current").status_code == 404


@pytest.mark.parametrize("url", ["/orgs/new", "/municipalities/new", "/years/new"])
def test_anonymous_posts_go_to_login(client, world, url):
    assert is_login_redirect(client.post(url, data={}))
