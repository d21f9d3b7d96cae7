"""Municipalities (global admin only) and academic years (admin and coordinators)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from lms.core.audit import AuditEvent
from lms.extensions import db
from lms.orgs import services
from lms.orgs.models import AcademicYear, Municipality
from tests.factories import make_org
from tests.helpers import count, field_error, text_of

# --- municipalities ------------------------------------------------------------------------------


def test_admin_sees_municipalities_with_active_org_counts(client, world, login_as, db_session):
    services.update_organization(world.school_b, by=None, is_active=False)
    make_org(world.other_municipality, code="c2", name="Школа Г")
    db_session.commit()
    login_as(client, world.admin)
    page = client.get("/municipalities").get_data(as_text=True)
    assert f'href="/orgs?municipality={world.municipality.id}">2</a>' in page  # dept + school_a
    assert f'href="/orgs?municipality={world.other_municipality.id}">2</a>' in page
    assert "Asia/Yekaterinburg" in page


def test_admin_creates_and_edits_a_municipality(client, world, login_as):
    login_as(client, world.admin)
    response = client.post("/municipalities/new", data={"name": "Город Дубна", "region": "Московская область",
                                                         "time_zone": "Europe/Moscow"})
    assert response.status_code == 302
    m = db.session.scalar(select(Municipality).where(Municipality.name == "Город Дубна"))
    assert m.region == "Московская область"
    assert "Город Дубна" in text_of(client.get("/municipalities"))
    response = client.post(f"/municipalities/{m.id}/edit", data={"name": "Городской округ Дубна",
                                                                  "region": "", "time_zone": "Europe/Samara"})
    assert response.status_code == 302
    db.session.refresh(m)
    assert (m.name, m.region, m.time_zone) == ("Городской округ Дубна", "", "Europe/Samara")
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "Municipality",
                                                                     AuditEvent.object_id == m.id)))
    assert actions == {"municipality_created", "municipality_updated"}


@pytest.mark.parametrize(("data", "field"), [
    ({"name": "Другой округ"}, "name"),
    ({"name": ""}, "name"),
    ({"time_zone": "Europe/Atlantis"}, "time_zone"),
])
def test_bad_municipality_input_is_422(client, world, login_as, data, field):
    login_as(client, world.admin)
    form = {"name": "Новый округ", "region": "", "time_zone": "Europe/Moscow"}
    form.update(data)
    before = count(Municipality)
    response = client.post("/municipalities/new", data=form)
    assert response.status_code == 422
    assert field_error(response, field)
    assert "Городской округ Тестовый" in text_of(response)  # the list is still shown
    assert count(Municipality) == before


def test_renaming_to_a_taken_name_is_422(client, world, login_as):
    login_as(client, world.admin)
    response = client.post(f"/municipalities/{world.municipality.id}/edit",
                           data={"name": "Другой округ", "region": "", "time_zone": "Europe/Moscow"})
    assert response.status_code == 422
    assert field_error(response, "name")
    db.session.refresh(world.municipality)
    assert world.municipality.name == "Городской округ Тестовый"


@pytest.mark.parametrize("user", ["coordinator", "admin_a"])
def test_only_the_admin_manages_municipalities(client, world, login_as, user):
    login_as(client, getattr(world, user))
    before = count(Municipality)
    assert client.post("/municipalities/new", data={"name": "Самозванный округ",
                                                    "time_zone": "Europe/Moscow"}).status_code == 403
    assert client.post(f"/municipalities/{world.municipality.id}/edit",
                       data={"name": "Переименован", "time_zone": "Europe/Moscow"}).status_code == 403
    assert count(Municipality) == before
    db.session.refresh(world.municipality)
    assert world.municipality.name == "Городской округ Тестовый"


# --- academic years ------------------------------------------------------------------------------

def test_coordinator_creates_a_current_year_and_switches_back(client, world, login_as, db_session):
    old = services.ensure_academic_year(2024)
    services.set_current_year(old, by=None)
    db_session.commit()
    login_as(client, world.coordinator)
    page = text_of(client.get("/years"))
    assert 'value="2025"' in page  # the next year is proposed
    response = client.post("/years/new", data={"start_year": "2025", "make_current": "y"})
    assert response.status_code == 302
    new = db.session.scalar(select(AcademicYear).where(AcademicYear.start_year == 2025))
    assert (new.starts_on, new.ends_on) == (date(2025, 9, 1), date(2026, 8, 31))
    db.session.refresh(old)
    assert new.is_current and not old.is_current
    page = text_of(client.get("/years"))
    assert "2025/2026" in page and "01.09.2025" in page and "31.08.2026" in page
    assert client.post(f"/years/{old.id}/current").status_code == 302
    db.session.refresh(old)
    db.session.refresh(new)
    assert old.is_current and not new.is_current
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "academic_year_created",
                                                      AuditEvent.actor_id == world.coordinator.id))


def test_creating_without_making_current_keeps_the_current_year(client, world, login_as, db_session):
    cur = services.ensure_academic_year(2025)
    services.set_current_year(cur, by=None)
    db_session.commit()
    login_as(client, world.admin)
    assert client.post("/years/new", data={"start_year": "2026"}).status_code == 302
    db.session.refresh(cur)
    assert cur.is_current


@pytest.mark.parametrize("start_year", ["2025", "1999", "two thousand", ""])
def test_bad_year_is_422(client, world, login_as, db_session, start_year):
    services.ensure_academic_year(2025)
    db_session.commit()
    login_as(client, world.admin)
    before = count(AcademicYear)
    response = client.post("/years/new", data={"start_year": start_year})
    assert response.status_code == 422
    assert field_error(response, "start_year")
    assert count(AcademicYear) == before


@pytest.mark.parametrize("user", ["admin_a", "teacher_a"])
def test_school_people_may_not_manage_years(client, world, login_as, db_session, user):
    y = services.ensure_academic_year(2025)
    db_session.commit()
    login_as(client, getattr(world, user))
    assert client.post("/years/new", data={"start_year": "2030"}).status_code == 403
    assert client.post(f"/years/{y.id}/current").status_code == 403
    db.session.refresh(y)
    assert not y.is_current and count(AcademicYear) == 1
