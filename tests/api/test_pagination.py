"""?page=&per_page= on every list, the envelope, and the bounds."""

from __future__ import annotations

import pytest

from lms.accounts.models import User
from lms.extensions import db
from tests.api.conftest import assert_error
from tests.factories import make_user

LISTS = ("/api/v1/municipalities", "/api/v1/organizations", "/api/v1/people", "/api/v1/memberships")


def test_pages_of_people(client, world, auth):
    for n in range(5):
        make_user(f"extra{n}")
    db.session.commit()
    total = db.session.query(User).count()
    h = auth(world.admin)
    seen = []
    pages = -(-total // 3)
    for page in range(1, pages + 1):
        body = client.get(f"/api/v1/people?per_page=3&page={page}", headers=h).get_json()
        assert (body["page"], body["per_page"], body["total"], body["pages"]) == (page, 3, total, pages)
        assert len(body["items"]) == (3 if page < pages else total - 3 * (pages - 1))
        seen += [p["id"] for p in body["items"]]
    assert sorted(seen) == sorted(set(seen)) and len(seen) == total
    beyond = client.get(f"/api/v1/people?per_page=3&page={pages + 1}", headers=h).get_json()
    assert beyond["items"] == [] and beyond["total"] == total


def test_defaults(client, world, auth):
    body = client.get("/api/v1/people", headers=auth(world.admin)).get_json()
    assert (body["page"], body["per_page"]) == (1, 50)
    empty = client.get("/api/v1/people?q=nobody-like-this", headers=auth(world.admin)).get_json()
    assert (empty["items"], empty["total"], empty["pages"]) == ([], 0, 0)


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize(("query", "field"), [
    ("per_page=0", "per_page"), ("per_page=501", "per_page"), ("per_page=-3", "per_page"),
    ("per_page=ten", "per_page"), ("page=0", "page"), ("page=x", "page"), (f"page={2**70}", "page"),
])
def test_out_of_range_is_422_naming_the_parameter(client, world, auth, url, query, field):
    assert_error(client.get(f"{url}?{query}", headers=auth(world.admin)), 422, field)


@pytest.mark.parametrize("url", LISTS)
def test_largest_page_is_allowed_and_configurable(app, client, world, auth, monkeypatch, url):
    h = auth(world.admin)
    assert client.get(f"{url}?per_page=500", headers=h).status_code == 200
    monkeypatch.setitem(app.config, "API_PAGE_SIZE_MAX", 20)
    error = assert_error(client.get(f"{url}?per_page=21", headers=h), 422, "per_page")
    assert "20" in error["fields"]["per_page"][0]
