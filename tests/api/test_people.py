"""People through the API: creation with the initial password, bad input, personal data, edit, deactivate."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.accounts.models import User
from lms.accounts.passwords import verify_password
from lms.core.audit import AuditEvent
from lms.extensions import db
from tests.api.conftest import CYRILLIC, assert_error, counts


def new_student(world, **overrides) -> dict:
    """A valid body for POST /people (a 5Б student of school A), with ``overrides``."""
    body = {"username": "novikov", "surname": "Новиков", "name": "Илья", "organization": world.school_a.id,
            "role": "student", "grade": 5, "class_letter": "б", "email": "novikov@example.org"}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}  # ``...`` leaves a key out


def test_create_person_returns_the_initial_password_once(client, world, auth):
    h = auth(world.admin_a)
    response = client.post("/api/v1/people", json=new_student(world, snils="129-304-458 51"), headers=h)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    password = body["initial_password"]
    assert password and len(password) >= 8
    assert body["must_change_password"] is True
    assert body["username"] == "novikov" and body["snils"] == "129-304-458 51"
    assert [(m["organization_id"], m["role"], m["class_name"]) for m in body["memberships"]] == [
        (world.school_a.id, "student", "5Б")]

    person = db.session.get(User, body["id"])
    assert verify_password(person.password_hash, password)
    assert person.must_change_password
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == person.id,
                                                                      AuditEvent.actor_id == world.admin_a.id)))
    assert {"user_created", "role_granted"} <= actions

    again = client.get(f"/api/v1/people/{person.id}", headers=h).get_json()
    assert "initial_password" not in again
    listed = client.get("/api/v1/people?q=novikov", headers=h).get_json()["items"]
    assert [p["id"] for p in listed] == [person.id] and "initial_password" not in listed[0]


def test_create_person_with_a_given_password_returns_none(client, world, auth):
    body = new_student(world, role="teacher", grade=..., class_letter=..., password="Kedr-Sosna-Pihta-42")
    response = client.post("/api/v1/people", json=body, headers=auth(world.admin_a))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["initial_password"] is None
    person = db.session.get(User, response.get_json()["id"])
    assert verify_password(person.password_hash, "Kedr-Sosna-Pihta-42")


@pytest.mark.parametrize(("overrides", "status", "field"), [
    ({"email": "not-an-email"}, 422, "email"),
    ({"snils": "112-233-445 96"}, 422, "snils"),
    ({"snils": "112-233"}, 422, "snils"),
    ({"role": "janitor"}, 422, "role"),
    ({"grade": ...}, 422, "grade"),
    ({"grade": None}, 422, "grade"),
    ({"grade": 12}, 422, "grade"),
    ({"grade": 5.5}, 422, "grade"),
    ({"grade": True}, 422, "grade"),
    ({"patronymic": "Ива\x00новна"}, 422, "patronymic"),
    ({"surname": ...}, 422, "surname"),
    ({"surname": "   "}, 422, "surname"),
    ({"name": None}, 422, "name"),
    ({"name": "Я" * 101}, 422, "name"),
    ({"username": "Иван Петров"}, 422, "username"),
    ({"birth_date": "31.02.2010"}, 422, "birth_date"),
    ({"birth_date": "1812-09-07"}, 422, "birth_date"),
    ({"sex": "x"}, 422, "sex"),
    ({"phone": "call me"}, 422, "phone"),
    ({"time_zone": "Mars/Olympus"}, 422, "time_zone"),
    ({"organization": 999999}, 422, "organization"),
    ({"organization": 2**70}, 422, "organization"),
    ({"organization": "школа"}, 422, "organization"),
    ({"is_admin": True}, 422, "is_admin"),
    ({"class_letter": "А-1"}, 422, "class_letter"),
])
def test_bad_input_is_refused_in_russian_naming_the_field_and_writes_nothing(
        client, world, auth, overrides, status, field):
    h = auth(world.admin_a)
    before = counts()
    response = client.post("/api/v1/people", json=new_student(world, **overrides), headers=h)
    assert_error(response, status, field)
    assert counts() == before


def test_duplicate_username_is_a_conflict_and_writes_nothing(client, world, auth):
    h = auth(world.admin_a)
    before = counts()
    response = client.post("/api/v1/people", json=new_student(world, username="Student_A"), headers=h)
    assert_error(response, 409, "username")
    assert counts() == before


def test_weak_password_is_refused_by_the_service_on_its_field(client, world, auth):
    h = auth(world.admin_a)
    before = counts()
    for weak in ("qwertyuiop", "novikov-2026"):
        response = client.post("/api/v1/people", json=new_student(world, password=weak), headers=h)
        assert_error(response, 422, "password")
    assert_error(client.post("/api/v1/people", json=new_student(world, password="Ab1!"), headers=h),
                 422, "password")
    assert counts() == before


@pytest.mark.parametrize("payload", [[1, 2], "text", None])
def test_body_that_is_not_an_object_is_refused(client, world, auth, payload):
    h = auth(world.admin_a)
    before = counts()
    response = client.post("/api/v1/people", json=payload, headers=h)
    assert response.status_code in (400, 422)
    assert_error(response, response.status_code)
    assert counts() == before


def test_malformed_json_is_400_not_500(client, world, auth):
    headers = {**auth(world.admin_a), "Content-Type": "application/json"}
    response = client.post("/api/v1/people", data="{not json", headers=headers)
    assert_error(response, 400)


def test_several_errors_are_all_named(client, world, auth):
    response = client.post("/api/v1/people", json={"email": "x", "role": "x"}, headers=auth(world.admin_a))
    error = assert_error(response, 422)
    assert {"username", "surname", "name", "organization", "role", "email"} <= set(error["fields"])
    assert error["fields"]["username"] == ["Обязательное поле."]
    assert error["field"] in error["fields"]


def test_personal_data_is_hidden_from_a_teacher(client, world, auth):
    url = f"/api/v1/people/{world.student_a.id}"
    seen_by_teacher = client.get(url, headers=auth(world.teacher_a)).get_json()
    assert seen_by_teacher["surname"] == "Учеников"
    assert not {"snils", "birth_date", "phone", "sex"} & set(seen_by_teacher)
    listed = client.get("/api/v1/people?role=student", headers=auth(world.teacher_a)).get_json()["items"]
    assert listed and not any({"snils", "birth_date", "phone", "sex"} & set(p) for p in listed)

    seen_by_manager = client.get(url, headers=auth(world.admin_a)).get_json()
    assert seen_by_manager["snils"] == "112-233-445 95"
    assert {"birth_date", "phone", "sex"} <= set(seen_by_manager)
    assert client.get("/api/v1/me", headers=auth(world.student_a)).get_json()["snils"] == "112-233-445 95"


def test_people_filters(client, world, auth):
    h = auth(world.admin)

    def names(query):
        response = client.get(f"/api/v1/people?per_page=500&{query}", headers=h)
        assert response.status_code == 200, response.get_json()
        return {p["username"] for p in response.get_json()["items"]}

    assert {"parent_a", "admin"} <= names("")  # the administrator sees people without roles too
    assert names(f"organization={world.school_a.id}&role=student") == {"student_a"}
    assert names("role=student&grade=10") == {"student_b"}
    assert names("q=STUDENT_") == {"student_a", "student_b", "student_c"}
    assert names("q=example.org") == {"student_a"}
    assert names(f"organization={world.school_b.id}") == {"admin_b", "student_b"}
    db.session.get(User, world.student_b.id).is_active = False
    db.session.commit()
    assert names(f"organization={world.school_b.id}&active=false") == {"student_b"}
    assert names(f"organization={world.school_b.id}&active=true") == {"admin_b"}
    response = client.get("/api/v1/people?role=janitor", headers=h)
    assert_error(response, 422, "role")


def test_edit_person(client, world, auth):
    h = auth(world.admin_a)
    url = f"/api/v1/people/{world.student_a.id}"
    response = client.patch(url, json={"phone": "+7 900 123-45-67", "snils": "", "birth_date": "2011-03-04"},
                            headers=h)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["phone"], body["snils"], body["birth_date"]) == ("+7 900 123-45-67", None, "2011-03-04")
    person = db.session.get(User, world.student_a.id)
    assert person.snils is None and person.phone == "+7 900 123-45-67"

    before = counts()
    assert_error(client.patch(url, json={"birth_date": "04.03.2011"}, headers=h), 422, "birth_date")
    assert_error(client.patch(url, json={"username": "other"}, headers=h), 422, "username")
    assert_error(client.patch(url, json={"email": "admin_a@x"}, headers=h), 422, "email")
    assert counts() == before
    other = client.patch(url, json={"email": "Student_A@Example.org"}, headers=h)
    assert other.status_code == 200 and other.get_json()["email"] == "student_a@example.org"


def test_edit_person_email_taken_is_a_conflict(client, world, auth):
    url = f"/api/v1/people/{world.student_b.id}"
    response = client.patch(url, json={"email": "student_a@example.org"}, headers=auth(world.admin_b))
    assert_error(response, 409, "email")
    assert db.session.get(User, world.student_b.id).email is None


def test_deactivate_person_ends_their_token(client, world, auth):
    student_headers = auth(world.student_a)
    assert client.get("/api/v1/me", headers=student_headers).status_code == 200
    response = client.post(f"/api/v1/people/{world.student_a.id}/deactivate", json={"reason": "выбыл"},
                           headers=auth(world.admin_a))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["is_active"] is False
    assert client.get("/api/v1/me", headers=student_headers).status_code == 401
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user_deactivated",
                                                       AuditEvent.object_id == world.student_a.id))
    assert event.actor_id == world.admin_a.id and event.details["reason"] == "выбыл"


def test_nobody_deactivates_themselves(client, world, auth):
    response = client.post(f"/api/v1/people/{world.admin_a.id}/deactivate", headers=auth(world.admin_a))
    assert_error(response, 403)


def test_russian_messages_for_field_types(client, world, auth):
    h = auth(world.admin_a)
    cases = {
        "grade": ("пять", "Ожидается целое число."),
        "birth_date": ("вчера", "Ожидается дата в формате ГГГГ-ММ-ДД."),
        "email": ("a@", "Неверный адрес e-mail."),  # the same message as the pages
        "role": ("boss", "Допустимые значения: student, teacher, methodologist, org_admin, coordinator."),
        "name": ("", "Поле не может быть пустым."),
        "surname": (None, "Поле не может быть null."),
        "patronymic": ("Ж" * 101, "Не более 100 символов."),  # the rule and message of the pages
        "is_admin": (True, "Неизвестное поле."),
    }
    body = new_student(world, **{field: value for field, (value, _) in cases.items()})
    error = assert_error(client.post("/api/v1/people", json=body, headers=h), 422)
    for field, (_, message) in cases.items():
        assert error["fields"][field] == [message], (field, error["fields"])
    flag = client.patch(f"/api/v1/organizations/{world.school_a.id}", json={"is_active": "может быть"}, headers=h)
    assert assert_error(flag, 422, "is_active")["fields"]["is_active"] == [
        "Ожидается логическое значение: true или false."]
    assert CYRILLIC.search(error["title"])


def test_messages_follow_the_token_owners_language(client, world, auth):
    """Validation, domain and service messages come in the token owner's language, not always Russian."""
    world.admin_a.locale = "en"
    db.session.commit()
    h = auth(world.admin_a)
    body = new_student(world, grade="five", snils="112-233-445 96", is_admin=True)
    error = client.post("/api/v1/people", json=body, headers=h).get_json()["error"]
    assert error["fields"]["grade"] == ["A whole number is expected."]
    assert error["fields"]["is_admin"] == ["Unknown field."]
    assert error["fields"]["snils"] == ["SNILS checksum does not match: check the digits."]
    assert error["title"] == "Invalid data" and error["message"].startswith("Check the data:")
    duplicate = client.post("/api/v1/people", json=new_student(world, username="student_a"), headers=h)
    assert "already taken" in duplicate.get_json()["error"]["message"]
