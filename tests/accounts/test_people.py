"""People pages and rules: who sees whom, create/edit with bad input, deactivate, merge,
memberships, parents (read-only view of the child) and consents."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from lms.accounts import services
from lms.accounts.models import Consent, ParentLink, User
from lms.core.audit import AuditEvent
from lms.extensions import db
from lms.orgs.models import Membership, Role
from tests.conftest import login
from tests.factories import make_user
from tests.helpers import count


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


# --- visibility ----------------------------------------------------------------------------------

def test_org_admin_sees_only_own_organization(client, world, login_as):
    login_as(client, world.admin_a)
    html = page(client, "/people")
    assert "Учеников" in html  # student of school A
    assert "Школьникова" not in html  # school B
    assert "Далёкий" not in html  # other municipality
    assert client.get(f"/people/{world.student_b.id}").status_code == 403
    assert client.get(f"/people/{world.student_c.id}").status_code == 403
    assert client.get(f"/people?org={world.school_b.id}").status_code == 403


def test_coordinator_sees_the_municipality_only(client, world, login_as):
    login_as(client, world.coordinator)
    html = page(client, "/people")
    assert "Учеников" in html and "Школьникова" in html
    assert "Далёкий" not in html
    assert client.get(f"/people/{world.student_c.id}").status_code == 403


def test_teacher_sees_names_but_no_personal_data(client, world, login_as):
    login_as(client, world.teacher_a)
    html = page(client, f"/people/{world.student_a.id}")
    assert "Учеников" in html
    assert "112-233-445 95" not in html  # СНИЛС hidden from a teacher
    assert client.get(f"/people/{world.student_a.id}/edit").status_code == 403
    assert client.get("/people/new").status_code == 403


def test_student_cannot_list_people(client, world, login_as):
    login_as(client, world.student_a)
    assert client.get("/people").status_code == 403
    assert client.get(f"/people/{world.teacher_a.id}").status_code == 403
    assert page(client, f"/people/{world.student_a.id}")  # own card


def test_parent_sees_own_child_read_only(client, world, login_as):
    login_as(client, world.parent_a)
    dashboard = page(client, "/")
    assert "Учеников" in dashboard and "Школа А" in dashboard
    card = page(client, f"/people/{world.student_a.id}")
    assert "112-233-445 95" in card  # a parent sees the child's data
    assert client.get(f"/people/{world.student_a.id}/edit").status_code == 403
    assert client.post(f"/people/{world.student_a.id}/deactivate").status_code == 403
    assert client.get(f"/people/{world.student_b.id}").status_code == 403


# --- create and edit -----------------------------------------------------------------------------

def _new_person(world, **over):
    data = {"username": "petrov", "surname": "Петров", "name": "Пётр", "patronymic": "Петрович",
            "organization": str(world.school_a.id), "role": "student", "grade": "5", "class_letter": "б",
            "email": "", "phone": "", "snils": "", "sex": "m", "time_zone": ""}
    data.update(over)
    return data


def test_create_person_shows_initial_password_once(client, world, login_as):
    login_as(client, world.admin_a)
    response = client.post("/people/new", data=_new_person(world))
    assert response.status_code == 200
    person = db.session.scalar(select(User).where(User.username == "petrov"))
    assert person.must_change_password
    assert person.memberships[0].class_name == "5Б"
    html = response.get_data(as_text=True)
    password = html.split('class="token">')[1].split("<")[0]
    client.post("/logout")
    assert login(client, "petrov", password).headers["Location"].endswith("/password/change")


def test_create_person_bad_input_names_the_field_and_writes_nothing(client, world, login_as):
    login_as(client, world.admin_a)
    before = count(User)
    cases = [
        ({"snils": "112-233-445 96"}, "snils"),
        ({"email": "student_a@example.org"}, "email"),
        ({"username": "student_a"}, "username"),
        ({"username": "Пётр!"}, "username"),
        ({"grade": ""}, "grade"),
        ({"surname": "<script>"}, "surname"),
    ]
    for over, field in cases:
        response = client.post("/people/new", data=_new_person(world, **over))
        assert response.status_code == 422, over
        html = response.get_data(as_text=True)
        assert f'id="{field}-error"' in html, (over, field)
    assert count(User) == before


def test_org_admin_cannot_create_people_in_another_organization(client, world, login_as):
    login_as(client, world.admin_a)
    response = client.post("/people/new", data=_new_person(world, organization=str(world.school_b.id)))
    assert response.status_code in (403, 422)
    assert db.session.scalar(select(User).where(User.username == "petrov")) is None


def test_org_admin_cannot_grant_coordinator(client, world, login_as):
    login_as(client, world.admin_a)
    response = client.post(f"/people/{world.teacher_a.id}/memberships",
                           data={"organization": world.school_a.id, "role": "coordinator"})
    assert response.status_code == 403
    assert not any(m.role == Role.COORDINATOR for m in world.teacher_a.memberships)


def test_edit_person_and_audit(client, world, login_as):
    login_as(client, world.admin_a)
    response = client.post(f"/people/{world.student_a.id}/edit", data={
        "surname": "Ученикова", "name": "Ника", "patronymic": "", "email": "nika@example.org", "phone": "+7 900 000-00-00",
        "birth_date": "2011-05-04", "sex": "f", "snils": "112-233-445 95", "time_zone": ""})
    assert response.status_code == 302
    person = db.session.get(User, world.student_a.id)
    assert (person.surname, person.email, person.birth_date) == ("Ученикова", "nika@example.org", date(2011, 5, 4))
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user_updated")).one()
    assert event.actor_id == world.admin_a.id and "surname" in event.details["fields"]


def test_admin_of_school_a_cannot_edit_the_coordinator(client, world, login_as):
    services.add_membership(world.coordinator, world.school_a, Role.TEACHER, by=None)
    db.session.commit()
    login_as(client, world.admin_a)
    assert client.get(f"/people/{world.coordinator.id}/edit").status_code == 403


# --- deactivation --------------------------------------------------------------------------------

def test_deactivate_only_when_all_organizations_are_managed(client, world, login_as):
    services.add_membership(world.teacher_a, world.school_b, Role.TEACHER, by=None)
    db.session.commit()
    login_as(client, world.admin_a)
    # The teacher also works at school B: admin A may not switch them off for B.
    assert client.post(f"/people/{world.teacher_a.id}/deactivate").status_code == 403
    assert client.post(f"/people/{world.student_a.id}/deactivate").status_code == 302
    assert not db.session.get(User, world.student_a.id).is_active
    assert client.post(f"/people/{world.student_a.id}/reactivate").status_code == 302
    assert db.session.get(User, world.student_a.id).is_active


def test_coordinator_may_deactivate_across_the_municipality(client, world, login_as):
    services.add_membership(world.teacher_a, world.school_b, Role.TEACHER, by=None)
    db.session.commit()
    login_as(client, world.coordinator)
    assert client.post(f"/people/{world.teacher_a.id}/deactivate").status_code == 302


def test_nobody_deactivates_themselves(client, world, login_as):
    login_as(client, world.admin_a)
    assert client.post(f"/people/{world.admin_a.id}/deactivate").status_code == 403


# --- merge ---------------------------------------------------------------------------------------

def test_merge_duplicates(client, world, login_as):
    dup = make_user("uchenikov2", org=world.school_a, role=Role.STUDENT, grade=9, surname="Учеников",
                    name="Никита", phone="+7 911 111-11-11")
    services.add_membership(dup, world.school_a, Role.TEACHER, by=None)  # a role only the duplicate has
    services.record_consent(dup, "publish_results", given_on=date(2025, 9, 1), by=None)
    db.session.commit()
    login_as(client, world.admin_a)
    response = client.post(f"/people/{world.student_a.id}/merge",
                           data={"duplicate_username": "uchenikov2", "confirm": "y"})
    assert response.status_code == 302
    keep = db.session.get(User, world.student_a.id)
    dup = db.session.get(User, dup.id)
    assert not dup.is_active and dup.merged_into_id == keep.id
    assert sorted(m.role for m in keep.memberships) == ["student", "teacher"]
    assert keep.phone == "+7 911 111-11-11"
    assert db.session.scalar(select(func.count(Consent.id)).where(Consent.subject_id == keep.id)) == 1
    assert db.session.scalar(select(func.count(Membership.id)).where(Membership.user_id == dup.id)) == 0


def test_merge_refused_across_organizations(client, world, login_as):
    login_as(client, world.admin_a)
    response = client.post(f"/people/{world.student_a.id}/merge",
                           data={"duplicate_username": "student_b", "confirm": "y"})
    assert response.status_code == 422
    assert db.session.get(User, world.student_b.id).is_active


def test_merge_moves_parent_links(world):
    dup = make_user("dup_child", org=world.school_a, role=Role.STUDENT, grade=9)
    other_parent = make_user("father")
    services.link_parent(other_parent, dup, relation="father", by=None)
    services.link_parent(world.parent_a, dup, relation="mother", by=None)  # same parent on both
    services.merge_users(world.student_a, dup, by=None)
    db.session.flush()
    parents = set(db.session.scalars(select(ParentLink.parent_id).where(ParentLink.student_id == world.student_a.id)))
    assert parents == {world.parent_a.id, other_parent.id}


# --- memberships, parents, consents ------------------------------------------------------------

def test_add_and_remove_role_and_change_class(client, world, login_as):
    login_as(client, world.admin_a)
    client.post(f"/people/{world.teacher_a.id}/memberships",
                data={"organization": world.school_a.id, "role": "methodologist"})
    roles = {m.role for m in db.session.get(User, world.teacher_a.id).memberships}
    assert roles == {"teacher", "methodologist"}
    m = db.session.scalar(select(Membership).where(Membership.user_id == world.student_a.id))
    client.post(f"/memberships/{m.id}/class", data={"grade": "10", "class_letter": "в"})
    db.session.refresh(m)
    assert m.class_name == "10В"
    client.post(f"/memberships/{m.id}/class", data={"grade": "12", "class_letter": "в"})
    db.session.refresh(m)
    assert m.class_name == "10В"  # out-of-range grade refused, nothing changed
    method = db.session.scalar(select(Membership).where(Membership.user_id == world.teacher_a.id,
                                                        Membership.role == "methodologist"))
    client.post(f"/memberships/{method.id}/delete")
    assert {m.role for m in db.session.get(User, world.teacher_a.id).memberships} == {"teacher"}


def test_role_change_is_audited(client, world, login_as):
    login_as(client, world.admin_a)
    client.post(f"/people/{world.teacher_a.id}/memberships",
                data={"organization": world.school_a.id, "role": "org_admin"})
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "role_granted")
                               .order_by(AuditEvent.id.desc())).first()
    assert event.actor_id == world.admin_a.id and event.details["role"] == "org_admin"
    assert event.organization_id == world.school_a.id


def test_link_new_parent_and_record_consent(client, world, login_as):
    student = make_user("child2", org=world.school_a, role=Role.STUDENT, grade=3, surname="Малышев", name="Ваня")
    db.session.commit()
    login_as(client, world.admin_a)
    response = client.post(f"/people/{student.id}/parents", data={
        "relation": "father", "surname": "Малышев", "name": "Олег", "email": "oleg@example.org"})
    assert response.status_code == 200  # shows the new parent's initial password
    parent = db.session.scalar(select(User).where(User.email == "oleg@example.org"))
    assert parent.username == "oleg"
    response = client.post(f"/people/{student.id}/consents", data={
        "kind": "olympiad_participation", "given_on": "2026-09-01", "given_by": parent.id, "document": "№ 12"})
    assert response.status_code == 302
    consent = db.session.scalar(select(Consent).where(Consent.subject_id == student.id))
    assert consent.given_by_id == parent.id and consent.is_valid
    client.post(f"/consents/{consent.id}/withdraw")
    db.session.refresh(consent)
    assert not consent.is_valid
    assert services.has_consent(student, "olympiad_participation") is False


def test_consent_in_the_future_is_refused(client, world, login_as):
    login_as(client, world.admin_a)
    client.post(f"/people/{world.student_a.id}/consents", data={
        "kind": "personal_data", "given_on": "2999-01-01", "given_by": world.student_a.id})
    assert db.session.scalar(select(func.count(Consent.id))) == 0


def test_parent_of_another_school_cannot_be_managed(client, world, login_as):
    login_as(client, world.admin_b)
    assert client.get(f"/people/{world.student_a.id}/parents").status_code == 403


def test_manager_sets_new_initial_password(client, world, login_as):
    login_as(client, world.admin_a)
    response = client.post(f"/people/{world.student_a.id}/password")
    assert response.status_code == 200
    password = response.get_data(as_text=True).split('class="token">')[1].split("<")[0]
    client.post("/logout")
    assert login(client, "student_a", password).headers["Location"].endswith("/password/change")


def test_every_wrong_field_is_reported_at_once(client, world, login_as):
    login_as(client, world.admin_a)
    response = client.post("/people/new", data=_new_person(world, username="Bad Login!", snils="123-456-789 00",
                                                          email="not-an-email", phone="abc"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for field in ("username", "snils", "email", "phone"):
        assert f'id="{field}-error"' in html, field
    assert "Логин: Логин" not in html  # the summary adds the label once
