"""Statuses of an organization per academic year are granted by the municipality, not by the school."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.core.audit import AuditEvent
from lms.extensions import db
from lms.orgs import services
from lms.orgs.models import OrganizationStatus, Role
from tests.factories import make_user
from tests.helpers import count, field_error, text_of


@pytest.fixture
def year(world, db_session):
    y = services.ensure_academic_year(2025)
    services.set_current_year(y, by=None)
    db_session.commit()
    return y


def _grant(client, org, year, status="resource_centre", note="Приказ УО № 45"):
    return client.post(f"/orgs/{org.id}/statuses",
                       data={"academic_year": year.id, "status": status, "note": note})


def test_coordinator_grants_and_removes_a_status(client, world, login_as, year):
    login_as(client, world.coordinator)
    page = text_of(client.get(f"/orgs/{world.school_a.id}"))
    assert f'action="/orgs/{world.school_a.id}/statuses"' in page
    response = _grant(client, world.school_a, year)
    assert response.status_code == 302
    page = text_of(client.get(f"/orgs/{world.school_a.id}"))
    assert "<td>Ресурсный центр</td>" in page and "<td>Приказ УО № 45</td>" in page
    assert "Ресурсный центр" in text_of(client.get("/orgs"))
    row = db.session.scalar(select(OrganizationStatus).where(
        OrganizationStatus.organization_id == world.school_a.id))
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "org_status_set",
                                                      AuditEvent.actor_id == world.coordinator.id))
    assert client.post(f"/org-statuses/{row.id}/delete").status_code == 302
    assert count(OrganizationStatus) == 0
    assert "<td>Ресурсный центр</td>" not in text_of(client.get(f"/orgs/{world.school_a.id}"))
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "org_status_removed"))


def test_granting_the_same_status_again_updates_the_note(client, world, login_as, year):
    login_as(client, world.admin)
    _grant(client, world.school_a, year, note="первый приказ")
    _grant(client, world.school_a, year, note="второй приказ")
    rows = db.session.scalars(select(OrganizationStatus)).all()
    assert [r.note for r in rows] == ["второй приказ"]


def test_org_admin_may_not_grant_their_own_school_a_status(client, world, login_as, year):
    login_as(client, world.admin_a)
    page = text_of(client.get(f"/orgs/{world.school_a.id}"))
    assert f"/orgs/{world.school_a.id}/statuses" not in page
    assert _grant(client, world.school_a, year).status_code == 403
    assert count(OrganizationStatus) == 0


def test_org_admin_may_not_remove_their_school_status(client, world, login_as, year, db_session):
    row = services.set_org_status(world.school_a, year, "internship_site", by=None)
    db_session.commit()
    login_as(client, world.admin_a)
    page = text_of(client.get(f"/orgs/{world.school_a.id}"))
    assert "Стажировочная площадка" in page and f"/org-statuses/{row.id}/delete" not in page
    assert client.post(f"/org-statuses/{row.id}/delete").status_code == 403
    assert count(OrganizationStatus) == 1


def test_coordinator_of_another_municipality_may_not_grant(client, world, login_as, year, db_session):
    other = make_user("coord_c", org=world.school_c, role=Role.COORDINATOR)
    db_session.commit()
    login_as(client, other)
    assert _grant(client, world.school_a, year).status_code == 403
    assert _grant(client, world.school_c, year).status_code == 302
    assert count(OrganizationStatus) == 1


@pytest.mark.parametrize(("data", "field"), [
    ({"status": "capital_of_the_world"}, "status"),
    ({"academic_year": "999999"}, "academic_year"),
    ({"note": "я" * 501}, "note"),
])
def test_bad_status_input_is_422_on_the_field(client, world, login_as, year, data, field):
    login_as(client, world.coordinator)
    form = {"academic_year": year.id, "status": "resource_centre", "note": ""}
    form.update(data)
    response = client.post(f"/orgs/{world.school_a.id}/statuses", data=form)
    assert response.status_code == 422
    assert field_error(response, field)
    assert "Школа А" in text_of(response)  # the organization's page, with the error
    assert count(OrganizationStatus) == 0
