"""What /orgs and an organization's page show to each role."""

from __future__ import annotations

from lms.orgs import services
from lms.orgs.models import Role
from tests.factories import make_org, make_user
from tests.helpers import text_of


def _orgs_page(client, **params):
    response = client.get("/orgs", query_string=params)
    assert response.status_code == 200
    return text_of(response)


def test_org_admin_sees_only_their_school(client, world, login_as):
    login_as(client, world.admin_a)
    page = _orgs_page(client)
    assert "Школа А" in page
    assert "Школа Б" not in page and "Школа В" not in page and "Управление образования" not in page
    assert "/orgs/new" not in page


def test_coordinator_sees_their_municipality_and_none_of_the_other(client, world, login_as):
    login_as(client, world.coordinator)
    page = _orgs_page(client)
    for name in ("Школа А", "Школа Б", "Управление образования", "Городской округ Тестовый"):
        assert name in page
    assert "Школа В" not in page and "Другой округ" not in page
    assert "/orgs/new" in page


def test_admin_sees_both_municipalities_grouped(client, world, login_as):
    login_as(client, world.admin)
    page = _orgs_page(client)
    # Each municipality is the caption of its own table, in name order.
    assert page.index("<caption>Городской округ Тестовый</caption>") < page.index("Школа А") \
        < page.index("<caption>Другой округ</caption>") < page.index("Школа В")


def test_filter_by_kind_and_search_ignore_case_in_cyrillic(client, world, login_as):
    login_as(client, world.coordinator)
    page = _orgs_page(client, kind="education_department")
    assert "Управление образования" in page and "Школа А" not in page
    page = _orgs_page(client, q="школа б")
    assert "Школа Б" in page and "Школа А" not in page and "Управление образования" not in page
    page = _orgs_page(client, q="SCHOOL_A")
    assert "Школа А" in page and "Школа Б" not in page


def test_search_does_not_widen_the_scope(client, world, login_as):
    login_as(client, world.admin_a)
    page = _orgs_page(client, q="школа")
    assert "Школа А" in page and "Школа Б" not in page and "Школа В" not in page


def test_current_year_statuses_are_listed(client, world, login_as, db_session):
    year = services.ensure_academic_year(2025)
    services.set_current_year(year, by=None)
    old = services.ensure_academic_year(2024)
    services.set_org_status(world.school_a, year, "resource_centre", by=None)
    services.set_org_status(world.school_b, old, "internship_site", by=None)
    db_session.commit()
    login_as(client, world.coordinator)
    page = _orgs_page(client)
    assert "2025/2026" in page
    assert "Ресурсный центр" in page
    # Last year's status is history, not a current status.
    assert "Стажировочная площадка" not in page


def test_deactivated_organization_is_hidden_unless_asked(client, world, login_as, db_session):
    services.update_organization(world.school_b, by=None, is_active=False)
    db_session.commit()
    login_as(client, world.coordinator)
    assert "Школа Б" not in _orgs_page(client)
    page = _orgs_page(client, inactive="1")
    assert "Школа Б" in page


def test_more_than_a_hundred_organizations_are_paged(client, world, login_as, db_session):
    for n in range(101):
        make_org(world.municipality, code=f"bulk{n:03d}", name=f"Детский сад № {n:03d}", kind="preschool")
    db_session.commit()
    login_as(client, world.admin)
    first = _orgs_page(client)
    assert "Найдено: 105" in first
    assert 'rel="next"' in first
    second = _orgs_page(client, page=2)
    names = [f"Детский сад № {n:03d}" for n in range(101)]
    on_first = {n for n in names if n in first}
    on_second = {n for n in names if n in second}
    assert on_first and on_second and not on_first & on_second
    # «Городской…» sorts before «Другой округ», whose school is on the last page.
    assert "Школа В" not in first and "Школа В" in second


# --- one organization ----------------------------------------------------------------------------

def test_org_page_shows_people_counts_with_links_for_staff(client, world, login_as, db_session):
    make_user("student_a2", org=world.school_a, role=Role.STUDENT, grade=5)
    db_session.commit()
    login_as(client, world.admin_a)
    response = client.get(f"/orgs/{world.school_a.id}")
    page = response.get_data(as_text=True)
    assert f'href="/people?org={world.school_a.id}&amp;role=student">2</a>' in page
    assert f'href="/people?org={world.school_a.id}&amp;role=teacher">1</a>' in page
    assert f'href="/people?org={world.school_a.id}&amp;role=org_admin">1</a>' in page
    assert "Адм Анна" in page
    assert f'href="/orgs/{world.school_a.id}/edit"' in page


def test_deactivated_people_are_not_counted(client, world, login_as, db_session):
    from lms.accounts import services as people

    people.deactivate_user(world.teacher_a, by=None)
    db_session.commit()
    login_as(client, world.admin_a)
    page = client.get(f"/orgs/{world.school_a.id}").get_data(as_text=True)
    assert f'href="/people?org={world.school_a.id}&amp;role=teacher">0</a>' in page


def test_student_sees_counts_without_links_or_controls(client, world, login_as):
    login_as(client, world.student_a)
    response = client.get(f"/orgs/{world.school_a.id}")
    page = text_of(response)
    assert response.status_code == 200
    assert "Школа А" in page and "Адм Анна" in page
    assert "/people?org=" not in page
    assert f"/orgs/{world.school_a.id}/edit" not in page
    assert "/statuses" not in page


def test_org_page_lists_statuses_by_year(client, world, login_as, db_session):
    y25 = services.ensure_academic_year(2025)
    y24 = services.ensure_academic_year(2024)
    services.set_org_status(world.school_a, y25, "resource_centre", by=None, note="Приказ № 12")
    services.set_org_status(world.school_a, y24, "internship_site", by=None)
    db_session.commit()
    login_as(client, world.teacher_a)
    page = text_of(client.get(f"/orgs/{world.school_a.id}"))
    assert page.index("2025/2026") < page.index("Ресурсный центр") < page.index("Приказ № 12") \
        < page.index("2024/2025") < page.index("Стажировочная площадка")


def test_coordinator_of_a_deactivated_org_still_reaches_it(client, world, login_as, db_session):
    services.update_organization(world.school_b, by=None, is_active=False)
    db_session.commit()
    login_as(client, world.admin_b)
    assert client.get(f"/orgs/{world.school_b.id}").status_code == 403
    client.post("/logout")
    login_as(client, world.coordinator)
    assert client.get(f"/orgs/{world.school_b.id}").status_code == 200
