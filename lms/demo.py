"""`flask --app wsgi demo load|logins`: a small municipal network to try the server with.

Dubna's municipal network (seed 004): the education department, the education development centre
(ЦРО), three schools and the university; people of every role. Loading twice changes nothing.
"""

from __future__ import annotations

import random
from datetime import date

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from lms.accounts import services as people
from lms.accounts.models import ConsentKind, User
from lms.accounts.passwords import hash_password
from lms.extensions import db
from lms.orgs import services as orgs
from lms.orgs.models import AcademicYear, Municipality, Role

MUNICIPALITY = "Городской округ Дубна"

ORGANIZATIONS = [
    # code, kind, full name, short name
    ("uno", "education_department", "Управление народного образования Администрации города Дубны",
     "Управление образования"),
    ("cro", "methodological_office", "МБОУ ДПО «Центр развития образования города Дубны»", "ЦРО"),
    ("school1", "school", "МБОУ «Средняя общеобразовательная школа № 1»", "Школа № 1"),
    ("gym3", "school", "МБОУ «Гимназия № 3»", "Гимназия № 3"),
    ("lyceum6", "school", "МБОУ «Лицей № 6»", "Лицей № 6"),
    ("uni", "university", "Государственный университет «Дубна»", "Университет «Дубна»"),
]

#: login, surname, name, patronymic, sex, org code, role, grade, class letter, note for the printed list
PEOPLE = [
    ("admin", "Сергеев", "Андрей", "Викторович", "m", None, None, None, None, "глобальный администратор"),
    ("coordinator", "Петрова", "Ольга", "Николаевна", "f", "uno", Role.COORDINATOR, None, None,
     "муниципальный координатор"),
    ("methodologist", "Васильева", "Марина", "Игоревна", "f", "cro", Role.METHODOLOGIST, None, None, "методист ЦРО"),
    ("cro_admin", "Григорьева", "Светлана", "Петровна", "f", "cro", Role.ORG_ADMIN, None, None,
     "администратор ЦРО"),
    ("orgadmin", "Кузнецова", "Елена", "Сергеевна", "f", "school1", Role.ORG_ADMIN, None, None,
     "администратор школы № 1"),
    ("gym3_admin", "Орлов", "Дмитрий", "Павлович", "m", "gym3", Role.ORG_ADMIN, None, None,
     "администратор гимназии № 3"),
    ("teacher", "Смирнова", "Анна", "Владимировна", "f", "school1", Role.TEACHER, None, None, "учитель школы № 1"),
    ("teacher_gym3", "Иванов", "Павел", "Андреевич", "m", "gym3", Role.TEACHER, None, None, "учитель гимназии № 3"),
    ("teacher_lyceum6", "Николаева", "Татьяна", "Юрьевна", "f", "lyceum6", Role.TEACHER, None, None,
     "учитель лицея № 6"),
    ("lecturer", "Лебедев", "Константин", "Олегович", "m", "uni", Role.TEACHER, None, None,
     "преподаватель университета"),
    ("student", "Морозов", "Никита", "Алексеевич", "m", "school1", Role.STUDENT, 10, "А", "ученик 10А школы № 1"),
    ("student_gym3", "Соколова", "Дарья", "Игоревна", "f", "gym3", Role.STUDENT, 8, "Б", "ученица 8Б гимназии № 3"),
    ("parent", "Морозова", "Ирина", "Викторовна", "f", None, None, None, None, "родитель ученика Морозова"),
]

_SURNAMES_M = ["Алексеев", "Борисов", "Волков", "Голубев", "Давыдов", "Егоров", "Жуков", "Зайцев", "Ильин",
               "Козлов", "Лазарев", "Макаров", "Никитин", "Осипов", "Павлов", "Романов", "Семёнов", "Тихонов"]
_NAMES_M = ["Артём", "Иван", "Максим", "Михаил", "Матвей", "Егор", "Кирилл", "Лев", "Тимофей", "Глеб"]
_NAMES_F = ["Анна", "Мария", "Алиса", "Варвара", "Полина", "Софья", "Ксения", "Вероника", "Ева", "Милана"]
_PATRONYMICS = [("Андреевич", "Андреевна"), ("Сергеевич", "Сергеевна"), ("Дмитриевич", "Дмитриевна"),
                ("Олегович", "Олеговна"), ("Игоревич", "Игоревна")]


def _student_rows() -> list[tuple]:
    """Deterministic extra students: a class of each grade 7–11 per school."""
    rnd = random.Random(2026)  # noqa: S311 - demo names, not security
    rows = []
    for code in ("school1", "gym3", "lyceum6"):
        for grade in (7, 8, 9, 10, 11):
            for i in range(4):
                female = rnd.random() < 0.5
                surname = rnd.choice(_SURNAMES_M) + ("а" if female else "")
                name = rnd.choice(_NAMES_F if female else _NAMES_M)
                patronymic = rnd.choice(_PATRONYMICS)[1 if female else 0]
                login = f"{code}_{grade}a_{i + 1}"
                rows.append((login, surname, name, patronymic, "f" if female else "m", code, Role.STUDENT,
                             grade, "А", None))
    return rows


def load_demo(password: str) -> bool:
    """Load the demo network; returns False when it is already there."""
    if db.session.scalar(select(Municipality.id).where(Municipality.name == MUNICIPALITY)):
        return False
    today = date.today()
    for start in (AcademicYear.start_year_for(today) - 1, AcademicYear.start_year_for(today)):
        year = orgs.ensure_academic_year(start)
    orgs.set_current_year(year, by=None)
    municipality = orgs.create_municipality(name=MUNICIPALITY, region="Московская область",
                                            time_zone="Europe/Moscow", by=None)
    by_code = {}
    for code, kind, name, short in ORGANIZATIONS:
        by_code[code] = orgs.create_organization(
            municipality, by=None, code=code, kind=kind, name=name, short_name=short,
            address="141980, Московская область, г. Дубна", time_zone="Europe/Moscow")
    orgs.set_org_status(by_code["lyceum6"], year, "resource_centre", by=None,
                        note="Инженерные классы, профильные курсы")
    orgs.set_org_status(by_code["cro"], year, "internship_site", by=None)
    orgs.set_org_status(by_code["gym3"], year, "innovation_site", by=None)

    pw_hash = hash_password(password)
    users = {}
    for login, surname, name, patronymic, sex, code, role, grade, letter, _note in PEOPLE + _student_rows():
        user, _ = people.create_user(
            username=login, by=None, password_hash=pw_hash, must_change_password=False,
            is_admin=login == "admin", surname=surname, name=name, patronymic=patronymic, sex=sex,
            email=f"{login}@demo.example.org")
        users[login] = user
        if code:
            people.add_membership(user, by_code[code], role, by=None, grade=grade, class_letter=letter)
    # The lyceum's teacher also teaches a network profile course at the university.
    people.add_membership(users["teacher_lyceum6"], by_code["uni"], Role.TEACHER, by=None)
    users["student"].snils = "11223344595"
    users["student"].birth_date = date(today.year - 16, 3, 14)
    people.link_parent(users["parent"], users["student"], relation="mother", by=None)
    for kind in (ConsentKind.PERSONAL_DATA, ConsentKind.OLYMPIAD_PARTICIPATION):
        people.record_consent(users["student"], kind, given_on=date(today.year, 1, 15) if today.month > 1
                              else date(today.year - 1, 9, 1), by=None, given_by=users["parent"],
                              document="Заявление в личном деле")
    from lms.courses.demo import load_programmes

    load_programmes(by_code, users)
    from lms.assessment.demo import load_banks, load_quizzes

    load_banks(by_code, users)
    load_quizzes(by_code, users)
    return True


@click.group("demo", help="Demo data.")
def demo_cli() -> None:
    pass


@demo_cli.command("load")
@with_appcontext
def load():
    """Load the demo network once (running it again changes nothing)."""
    password = current_app.config["DEMO_PASSWORD"]
    if load_demo(password):
        db.session.commit()
        click.echo("Демо-данные загружены.")
    else:
        click.echo("Демо-данные уже загружены.")


@demo_cli.command("logins")
@with_appcontext
def logins():
    """Print the demo logins."""
    password = current_app.config["DEMO_PASSWORD"]
    existing = set(db.session.scalars(select(User.username).where(User.username.in_([p[0] for p in PEOPLE]))))
    if not existing:
        click.echo("Демо-данных нет: выполните flask --app wsgi demo load")
        return
    host, port = current_app.config["HOST"], current_app.config["PORT"]
    click.echo("")
    click.echo(f"Демо-входы на http://{host}:{port}/login — пароль у всех: {password}")
    for login, *_rest, note in PEOPLE:
        if login in existing:
            click.echo(f"  {login:<16} {note}")
    click.echo("")
