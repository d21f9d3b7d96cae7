"""Test data built through the same services the application uses."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from lms.accounts import services as people
from lms.accounts.models import User
from lms.accounts.passwords import hash_password
from lms.extensions import db
from lms.orgs import services as orgs
from lms.orgs.models import Municipality, Organization, Role

_seq = itertools.count(1)


def make_municipality(name: str | None = None, tz: str = "Europe/Moscow") -> Municipality:
    return orgs.create_municipality(name=name or f"Округ {next(_seq)}", time_zone=tz, by=None)


def make_org(municipality: Municipality, code: str | None = None, kind: str = "school",
             name: str | None = None, tz: str | None = None) -> Organization:
    n = next(_seq)
    return orgs.create_organization(
        municipality, by=None, code=code or f"org{n}", kind=kind, name=name or f"Школа № {n}",
        short_name=name or f"Школа № {n}", **({"time_zone": tz} if tz else {}))


_hash_cache: dict[str, str] = {}


def make_user(username: str | None = None, *, org: Organization | None = None, role: str | None = None,
              grade: int | None = None, class_letter: str | None = None, password: str = "Test-pass-2026",
              admin: bool = False, **data) -> User:
    if password not in _hash_cache:
        _hash_cache[password] = hash_password(password)
    n = next(_seq)
    data.setdefault("surname", "Тестов")
    data.setdefault("name", f"Пользователь{n}".replace("1", "").replace("0", "") or "Иван")
    user, _ = people.create_user(username=username or f"user{n}", by=None, password_hash=_hash_cache[password],
                                 must_change_password=False, is_admin=admin, **data)
    if org is not None and role is not None:
        if role == Role.STUDENT and grade is None:
            grade = 7
        people.add_membership(user, org, role, by=None, grade=grade, class_letter=class_letter)
    db.session.flush()
    return user


@dataclass
class World:
    municipality: Municipality
    other_municipality: Municipality
    department: Organization
    school_a: Organization
    school_b: Organization
    school_c: Organization  # in the other municipality
    admin: User
    coordinator: User
    admin_a: User
    admin_b: User
    admin_c: User
    teacher_a: User
    methodologist_a: User
    student_a: User
    student_b: User
    student_c: User
    parent_a: User


def build_world(password: str) -> World:
    m = make_municipality("Городской округ Тестовый")
    m2 = make_municipality("Другой округ", tz="Asia/Yekaterinburg")
    dept = make_org(m, "dept", kind="education_department", name="Управление образования")
    a = make_org(m, "school_a", name="Школа А")
    b = make_org(m, "school_b", name="Школа Б")
    c = make_org(m2, "school_c", name="Школа В", tz="Asia/Yekaterinburg")
    w = World(
        municipality=m, other_municipality=m2, department=dept, school_a=a, school_b=b, school_c=c,
        admin=make_user("admin", admin=True, surname="Админов", name="Админ", password=password),
        coordinator=make_user("coord", org=dept, role=Role.COORDINATOR, surname="Координаторова",
                              name="Ольга", password=password),
        admin_a=make_user("admin_a", org=a, role=Role.ORG_ADMIN, surname="Адм", name="Анна", password=password),
        admin_b=make_user("admin_b", org=b, role=Role.ORG_ADMIN, surname="Адм", name="Борис", password=password),
        admin_c=make_user("admin_c", org=c, role=Role.ORG_ADMIN, surname="Адм", name="Вера", password=password),
        teacher_a=make_user("teacher_a", org=a, role=Role.TEACHER, surname="Учителева", name="Татьяна",
                            password=password),
        methodologist_a=make_user("method_a", org=a, role=Role.METHODOLOGIST, surname="Методистова",
                                  name="Мария", password=password),
        student_a=make_user("student_a", org=a, role=Role.STUDENT, grade=9, class_letter="А",
                            surname="Учеников", name="Никита", password=password, snils="112-233-445 95",
                            email="student_a@example.org"),
        student_b=make_user("student_b", org=b, role=Role.STUDENT, grade=10, surname="Школьникова",
                            name="Дарья", password=password),
        student_c=make_user("student_c", org=c, role=Role.STUDENT, grade=8, surname="Далёкий",
                            name="Пётр", password=password),
        parent_a=make_user("parent_a", surname="Ученикова", name="Ирина", password=password),
    )
    people.link_parent(w.parent_a, w.student_a, relation="mother", by=None)
    db.session.commit()
    return w
