"""Bulk import of people: the page, the service's rules, all-or-nothing writing, passwords, progress, restarts."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.accounts import importing
from lms.accounts.models import ImportJob, User
from lms.core.audit import AuditEvent
from lms.core.db import utcnow
from lms.core.storage import get_storage
from lms.core.validators import snils_checksum
from lms.extensions import db
from lms.orgs.models import Membership, Role
from tests.factories import make_org, make_user

HEADER = ["username", "lastname", "firstname", "middlename", "email", "organization", "role", "grade", "phone",
          "birthdate", "sex", "snils"]
MALE = [("Иванов", "ivanov"), ("Смирнов", "smirnov"), ("Кузнецов", "kuznetsov"), ("Попов", "popov"),
        ("Соколов", "sokolov"), ("Лебедев", "lebedev"), ("Козлов", "kozlov"), ("Новиков", "novikov"),
        ("Морозов", "morozov"), ("Волков", "volkov"), ("Соловьёв", "solovyov"), ("Васильев", "vasilyev")]
MALE_NAMES = ["Александр", "Дмитрий", "Максим", "Сергей", "Андрей", "Алексей", "Артём", "Илья", "Кирилл",
              "Михаил", "Никита", "Егор"]
FEMALE_NAMES = ["Анастасия", "Мария", "Дарья", "Анна", "Елизавета", "Полина", "Виктория", "Екатерина",
                "Софья", "Ксения", "Алиса", "Варвара"]
PATRONYMICS_M = ["Александрович", "Дмитриевич", "Сергеевич", "Андреевич", "Игоревич", "Олегович"]
PATRONYMICS_F = ["Александровна", "Дмитриевна", "Сергеевна", "Андреевна", "Игоревна", "Олеговна"]
LETTERS = "АБВ"
BAD_LINES = (120, 500, 873)


def valid_snils(n: int) -> str:
    nine = f"{200000000 + n * 7919:09d}"
    return f"{nine[0:3]}-{nine[3:6]}-{nine[6:9]} {snils_checksum(nine):02d}"


def people_rows(n: int = 1000, orgs: tuple[str, ...] = ("school_a", "Школа Б", "school_d"), *,
                bad: bool = False, prefix: str = "p") -> list[list[str]]:
    """``n`` realistic lines; with ``bad`` exactly lines 120, 500 and 873 (header = line 1) are wrong."""
    rows = []
    for i in range(n):
        surname, latin = MALE[i % len(MALE)]
        female = i % 2 == 1
        name = (FEMALE_NAMES if female else MALE_NAMES)[(i // 2) % 12]
        patronymic = (PATRONYMICS_F if female else PATRONYMICS_M)[(i // 3) % 6]
        if female:
            surname += "а"
        username = f"{latin}{'a' if female else ''}.{prefix}{i:04d}"
        teacher = i % 10 == 9
        grade = "" if teacher else f"{1 + i % 11}{LETTERS[i % 3]}"
        email = f"{username}@school.example.ru" if i % 3 == 0 else ""
        birth = "" if teacher else f"{1 + i % 28:02d}.{1 + i % 12:02d}.{2008 + i % 10}"
        rows.append([username, surname, name, patronymic, email, orgs[i % len(orgs)],
                     "учитель" if teacher else "ученик", grade, f"+7 900 {i:03d}-00-00" if i % 4 == 0 else "",
                     birth, "ж" if female else "м", valid_snils(i) if i % 5 == 0 else ""])
    if bad:
        rows[120 - 2][4] = "ivanov@@example"  # bad e-mail
        rows[500 - 2][5] = "Школа № 999"  # unknown organization
        rows[873 - 2][0] = rows[10][0]  # duplicate of line 12's login, another person
    return rows


def to_csv(rows: list[list[str]], header: list[str] = HEADER, *, delimiter: str = ",",
           encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def counts() -> tuple[int, int]:
    return (db.session.scalar(select(func.count(User.id))), db.session.scalar(select(func.count(Membership.id))))


def run_import(data: bytes, by, *, org=None, dry_run: bool = False, update: bool = False) -> ImportJob:
    job = importing.create_job(filename="people.csv", data=data, by=by, organization=org, dry_run=dry_run,
                               update_existing=update)
    db.session.commit()
    importing.run_job(job.id)
    return db.session.get(ImportJob, job.id)


def upload(client, data: bytes, *, dry_run: bool, org: int = 0, update: bool = False, name: str = "people.csv"):
    form = {"file": (io.BytesIO(data), name), "organization": str(org)}
    if dry_run:
        form["dry_run"] = "y"
    if update:
        form["update_existing"] = "y"
    return client.post("/people/import", data=form, content_type="multipart/form-data")


def latest_job() -> ImportJob:
    return db.session.scalar(select(ImportJob).order_by(ImportJob.id.desc()))


def error_lines(job: ImportJob) -> list[int]:
    return sorted({e["line"] for e in job.errors})


@pytest.fixture
def school_d(world):
    org = make_org(world.municipality, "school_d", name="Школа Г")
    db.session.commit()
    return org


# --- the 1,000-line file -------------------------------------------------------------------------

def test_dry_run_on_the_page_names_exactly_the_three_bad_lines(client, world, school_d, login_as):
    login_as(client, world.coordinator)
    before = counts()
    response = upload(client, to_csv(people_rows(bad=True)), dry_run=True)
    assert response.status_code == 302
    job = latest_job()
    assert response.headers["Location"].endswith(f"/people/import/{job.id}")
    assert job.dry_run and job.status == "failed"
    assert (job.total, job.processed) == (1000, 1000)
    assert error_lines(job) == list(BAD_LINES)
    by_line = {e["line"]: e for e in job.errors}
    assert by_line[120]["column"] == "email"
    assert by_line[500]["column"] == "organization" and "Школа № 999" in by_line[500]["message"]
    assert by_line[873]["column"] == "username" and "12" in by_line[873]["message"]
    assert counts() == before
    assert get_storage().exists(job.storage_key) and job.storage_key.startswith(f"imports/{job.id}/")
    page = client.get(f"/people/import/{job.id}").get_data(as_text=True)
    for line in BAD_LINES:
        assert f"<td>{line}</td>" in page
    assert "Выполнить импорт" not in page


def test_real_run_of_the_bad_file_writes_nothing(client, world, school_d, login_as):
    login_as(client, world.coordinator)
    before = counts()
    upload(client, to_csv(people_rows(bad=True)), dry_run=False)
    job = latest_job()
    assert not job.dry_run and job.status == "failed"
    assert error_lines(job) == list(BAD_LINES)
    assert counts() == before
    assert job.credentials_key is None
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "users_imported")) is None


def test_the_fixed_file_imports_everyone_with_working_initial_passwords(app, client, world, school_d, login_as):
    login_as(client, world.coordinator)
    users, memberships = counts()
    response = upload(client, to_csv(people_rows()), dry_run=False)
    job = latest_job()
    assert job.status == "done", job.errors
    assert job.summary["created"] == 1000 and job.summary["memberships"] == 1000
    assert counts() == (users + 1000, memberships + 1000)
    teachers = db.session.scalar(select(func.count(Membership.id)).where(Membership.role == Role.TEACHER,
                                                                         Membership.organization_id == school_d.id))
    assert teachers > 0
    anna = db.session.scalar(select(User).where(User.username == "smirnova.p0001"))
    assert (anna.surname, anna.name, anna.sex, anna.must_change_password) == ("Смирнова", "Анастасия", "f", True)
    m = anna.memberships[0]
    assert (m.organization.code, m.role, m.grade, m.class_letter) == ("school_b", "student", 2, "Б")
    ivan = db.session.scalar(select(User).where(User.username == "ivanov.p0000"))
    assert ivan.snils == "200000000" + f"{snils_checksum('200000000'):02d}"
    assert (ivan.email, ivan.phone, ivan.birth_date.isoformat()) == (
        "ivanov.p0000@school.example.ru", "+7 900 000-00-00", "2008-01-01")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "users_imported"))
    assert event.details["created"] == 1000 and event.actor_id == world.coordinator.id
    assert "(один раз)" in client.get(response.headers["Location"]).get_data(as_text=True)

    # Another manager may not take the passwords.
    other = app.test_client()
    login_as(other, world.admin_a)
    assert other.post(f"/people/import/{job.id}/credentials").status_code == 403
    assert other.get(f"/people/import/{job.id}").status_code == 403

    download = client.post(f"/people/import/{job.id}/credentials")
    assert download.status_code == 200
    assert "filename*=UTF-8''" in download.headers["Content-Disposition"]
    text = download.get_data().decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert len(lines) == 1001
    logins = {row[0]: row for row in lines[1:]}
    assert logins["smirnova.p0001"][1:3] == ["Смирнова Анастасия Александровна", "Школа Б"]
    # Once only: the object is gone from storage and the key cleared.
    assert client.post(f"/people/import/{job.id}/credentials").status_code == 410
    db.session.refresh(job)
    assert job.credentials_key is None
    assert "скачан и удалён" in client.get(f"/people/import/{job.id}").get_data(as_text=True)
    # No plaintext password in the database.
    password = logins["popova.p0003"][3]
    stored = db.session.scalar(select(User.password_hash).where(User.username == "popova.p0003"))
    assert password not in stored and stored.startswith("$argon2")

    newcomer = app.test_client()
    response = login_as(newcomer, "popova.p0003", password)
    assert response.headers["Location"].endswith("/password/change")


# --- file formats --------------------------------------------------------------------------------

def test_windows_1251_semicolons_and_russian_headers(world):
    header = ["Логин", "Фамилия", "Имя", "Отчество", "Организация", "Роль", "Класс", "Дата рождения", "Пол",
              "СНИЛС", "Телефон"]
    rows = [["petrova.ea", "Петрова", "Ёлка", "Андреевна", "Школа А", "Ученица", "10Б", "2010-03-07", "Ж",
             "", "+7 (912) 000-11-22"],
            ["sidorov", "Сидоров", "Пётр", "", "school_a", "Педагог", "", "", "м", "", ""]]
    data = to_csv(rows, header, delimiter=";", encoding="cp1251")
    job = run_import(data, world.admin_a)
    assert job.status == "done", job.errors
    assert (job.summary["encoding"], job.summary["delimiter"]) == ("windows-1251", ";")
    p = db.session.scalar(select(User).where(User.username == "petrova.ea"))
    assert (p.name, p.birth_date.isoformat(), p.sex, p.phone) == ("Ёлка", "2010-03-07", "f", "+7 (912) 000-11-22")
    assert (p.memberships[0].grade, p.memberships[0].class_letter) == (10, "Б")
    s = db.session.scalar(select(User).where(User.username == "sidorov"))
    assert s.memberships[0].role == "teacher" and s.memberships[0].grade is None


def test_tab_separated_utf8_without_bom(world):
    data = to_csv([["tab.one", "Табов", "Иван", "", "", "school_a", "teacher", "", "", "", "", ""]],
                  delimiter="\t", encoding="utf-8")
    job = run_import(data, world.admin_a)
    assert job.status == "done", job.errors
    assert job.summary["delimiter"] == "\t"


def test_excel_separator_hint_line(world):
    data = "sep=;\nusername;lastname;firstname;organization;role\nhint.one;Подсказкин;Иван;school_a;teacher\n"
    job = run_import(data.encode("cp1251"), world.admin_a)
    assert job.status == "done", job.errors
    assert job.summary["delimiter"] == ";"
    bad = "sep=;\nusername;lastname;firstname;organization;role\nhint.two;Подсказкин;Иван;nowhere;teacher\n"
    assert error_lines(run_import(bad.encode(), world.admin_a)) == [3]


def test_moodle_header_with_a_default_organization_and_given_passwords(app, client, world, login_as):
    data = ("username,password,firstname,lastname,email,role\n"
            "moodle.one,Uchenik-Strong-7,Ольга,Мудлова,one@example.org,student\n"
            "moodle.two,qwerty,Олег,Мудлов,,teacher\n").encode()
    job = run_import(data, world.admin_a, org=world.school_a)
    assert job.status == "failed"
    assert [(e["line"], e["column"]) for e in job.errors] == [(2, "grade"), (3, "password")]

    data = ("username,password,firstname,lastname,email,role,grade\n"
            "moodle.one,Uchenik-Strong-7,Ольга,Мудлова,one@example.org,student,5\n"
            "moodle.two,,Олег,Мудлов,,teacher,\n").encode()
    job = run_import(data, world.admin_a, org=world.school_a)
    assert job.status == "done", job.errors
    one = db.session.scalar(select(User).where(User.username == "moodle.one"))
    assert one.memberships[0].organization_id == world.school_a.id and one.memberships[0].grade == 5
    assert "Uchenik-Strong-7" not in (one.password_hash or "")
    response = login_as(client, "moodle.one", "Uchenik-Strong-7")
    assert response.headers["Location"].endswith("/password/change")


def test_unknown_and_missing_columns_are_file_errors(world):
    job = run_import(b"username,lastname,firstname,city,shoe size\nx1,A,B,C,D\n", world.admin_a)
    assert job.status == "failed"
    assert len(job.errors) == 1 and job.errors[0]["line"] == 1
    assert "«city»" in job.errors[0]["message"] and "«shoe size»" in job.errors[0]["message"]

    job = run_import(b"username,lastname,firstname\nx1,A,B\n", world.admin_a)
    assert "organization" in job.errors[0]["message"] and "role" in job.errors[0]["message"]


@pytest.mark.parametrize("data, message", [
    (b"", "пуст"),
    (b"username,lastname,firstname,organization,role\n", "нет строк данных"),
    (b"PK\x03\x04\x00\x00binary", "не текстовый файл CSV"),
])
def test_files_that_are_not_tables(world, data, message):
    job = run_import(data, world.admin_a)
    assert job.status == "failed" and message in job.errors[0]["message"]


def test_too_many_lines(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 5)
    job = run_import(to_csv(people_rows(6, ("school_a",))), world.admin_a)
    assert job.status == "failed" and "больше 5 строк" in job.errors[0]["message"]


# --- line rules ----------------------------------------------------------------------------------

def test_line_rules_each_bad_line_reported_with_its_column(world):
    rows = [
        ["ok.one", "Хорошов", "Иван", "", "", "school_a", "student", "7А", "", "31.12.2011", "м", ""],
        ["Bad Login!", "Плохов", "Иван", "", "", "school_a", "student", "7", "", "", "", ""],
        ["no.grade", "Безклассов", "Иван", "", "", "school_a", "student", "", "", "", "", ""],
        ["big.grade", "Большов", "Иван", "", "", "school_a", "student", "12", "", "", "", ""],
        ["bad.role", "Ролев", "Иван", "", "", "school_a", "директор", "", "", "", "", ""],
        ["bad.date", "Датов", "Иван", "", "", "school_a", "teacher", "", "", "2011/12/31", "x", ""],
        ["bad.snils", "Снилсов", "Иван", "", "", "school_a", "teacher", "", "", "", "", "123-456-789 00"],
        ["bad.name", "<script>", "", "", "", "school_a", "teacher", "", "", "", "", ""],
        ["taken", "Занятов", "Иван", "", "student_a@example.org", "school_a", "teacher", "", "", "", "", ""],
        ["dup.mail", "Почтов", "Иван", "", "same@example.org", "school_a", "teacher", "", "", "", "", ""],
        ["dup.mail2", "Почтова", "Анна", "", "Same@Example.org", "school_a", "teacher", "", "", "", "", ""],
        ["student_a", "Учеников", "Никита", "", "", "school_a", "teacher", "", "", "", "", ""],
    ]
    before = counts()
    job = run_import(to_csv(rows), world.admin_a, dry_run=True)
    found = {(e["line"], e["column"]) for e in job.errors}
    assert found == {(3, "username"), (4, "grade"), (5, "grade"), (6, "role"), (7, "birthdate"), (7, "sex"),
                     (8, "snils"), (9, "lastname"), (9, "firstname"), (10, "email"), (12, "email"),
                     (13, "username")}
    dup = next(e for e in job.errors if e["line"] == 12)
    assert "строке 11" in dup["message"]
    exists = next(e for e in job.errors if e["line"] == 13)
    assert "уже существует" in exists["message"]
    assert counts() == before


def test_the_same_person_on_several_lines_gets_several_roles(world):
    rows = [["two.roles", "Двуролев", "Иван", "", "", "school_a", "teacher", "", "", "", "", ""],
            ["two.roles", "Двуролев", "Иван", "", "", "school_a", "methodologist", "", "", "", "", ""],
            ["two.roles", "Двуролев", "Иван", "", "", "school_a", "methodologist", "", "", "", "", ""]]
    job = run_import(to_csv(rows), world.admin_a)
    assert error_lines(job) == [4]  # the exact repeat
    job = run_import(to_csv(rows[:2]), world.admin_a)
    assert job.status == "done" and job.summary["created"] == 1 and job.summary["memberships"] == 2
    user = db.session.scalar(select(User).where(User.username == "two.roles"))
    assert sorted(m.role for m in user.memberships) == ["methodologist", "teacher"]


def test_an_org_admin_may_not_import_into_another_school_or_grant_coordinator(world):
    rows = [["into.b", "Чужой", "Иван", "", "", "school_b", "student", "5", "", "", "", ""],
            ["coord.a", "Координатов", "Иван", "", "", "school_a", "coordinator", "", "", "", "", ""],
            ["fine.a", "Свой", "Иван", "", "", "school_a", "teacher", "", "", "", "", ""]]
    before = counts()
    job = run_import(to_csv(rows), world.admin_a)
    assert {(e["line"], e["column"]) for e in job.errors} == {(2, "organization"), (3, "role")}
    assert counts() == before
    # The coordinator of the municipality may do both.
    assert run_import(to_csv(rows), world.coordinator).status == "done"


def test_default_organization_must_be_one_the_user_manages(client, world, login_as):
    login_as(client, world.admin_a)
    data = b"username,firstname,lastname,role\nx.y,A,B,teacher\n"
    response = upload(client, data, dry_run=True, org=world.school_b.id)
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(ImportJob.id))) == 0


# --- updating existing people ---------------------------------------------------------------------

def test_update_existing_updates_names_and_adds_the_role(world):
    rows = [["student_a", "Учеников-Новый", "Никита", "Олегович", "", "school_b", "ученик", "9А", "", "", "", ""]]
    job = run_import(to_csv(rows), world.coordinator)
    assert job.status == "failed" and "уже существует" in job.errors[0]["message"]

    job = run_import(to_csv(rows), world.coordinator, update=True)
    assert job.status == "done", job.errors
    assert (job.summary["created"], job.summary["updated"], job.summary["memberships"]) == (0, 1, 1)
    person = db.session.get(User, world.student_a.id)
    db.session.refresh(person)
    assert (person.surname, person.patronymic) == ("Учеников-Новый", "Олегович")
    assert person.email == "student_a@example.org"  # an empty cell leaves the value
    assert person.snils == "11223344595"
    assert {(m.organization.code, m.class_name) for m in person.memberships} == {("school_a", "9А"),
                                                                                 ("school_b", "9А")}
    assert job.credentials_key is None  # nobody new, no passwords


def test_update_existing_refuses_people_of_schools_the_user_does_not_manage(world):
    rows = [["student_b", "Подменова", "Дарья", "", "evil@example.org", "school_a", "student", "5", "", "", "",
             ""]]
    job = run_import(to_csv(rows), world.admin_a, update=True)
    assert job.status == "failed" and job.errors[0]["column"] == "username"
    assert db.session.get(User, world.student_b.id).email is None


# --- all or nothing, passwords off the write transaction ----------------------------------------

def test_a_clash_found_while_writing_rolls_back_the_whole_file(world, monkeypatch):
    rows = people_rows(30, ("school_a",))
    real_hash = importing.hash_passwords

    def hash_and_race(passwords, progress=None):
        # Someone creates one of the file's logins between the check and the write.
        make_user(rows[20][0], surname="Успел", name="Раньше")
        db.session.commit()
        return real_hash(passwords, progress)

    monkeypatch.setattr(importing, "hash_passwords", hash_and_race)
    before = counts()
    stored_before = {o.key for o in get_storage().list("imports/")}
    job = run_import(to_csv(rows), world.admin_a)
    assert job.status == "failed"
    assert job.errors[0]["line"] == 22 and job.errors[0]["column"] == "username"
    assert counts() == (before[0] + 1, before[1])  # only the racer
    assert {o.key for o in get_storage().list("imports/")} == stored_before | {job.storage_key}


def test_passwords_are_hashed_in_threads_before_writing(world, monkeypatch):
    seen = []
    real_hash = importing.hash_passwords

    def spy(passwords, progress=None):
        seen.append(len(passwords))
        assert db.session.scalar(select(func.count(User.id)).where(User.username.like("%.p00%"))) == 0
        return real_hash(passwords, progress)

    monkeypatch.setattr(importing, "hash_passwords", spy)
    job = run_import(to_csv(people_rows(120, ("school_a",))), world.admin_a)
    assert job.status == "done" and seen == [120]
    hashes = db.session.scalars(select(User.password_hash).where(User.username.like("%.p0%"))).all()
    assert len(set(hashes)) == 120


# --- progress, restarts, run again --------------------------------------------------------------

def test_status_json(client, world, login_as):
    login_as(client, world.admin_a)
    upload(client, to_csv(people_rows(60, ("school_a",))), dry_run=True)
    job = latest_job()
    body = client.get(f"/people/import/{job.id}/status.json").get_json()
    assert body == {"status": "done", "processed": 60, "total": 60, "errors_count": 0, "done": True,
                    "phase": "finished"}


def test_running_page_has_the_progress_bar_and_script(client, world, login_as):
    login_as(client, world.admin_a)
    job = importing.create_job(filename="wait.csv", data=b"x", by=world.admin_a)
    job.total, job.processed, job.status = 200, 50, "running"
    db.session.commit()
    page = client.get(f"/people/import/{job.id}").get_data(as_text=True)
    assert '<progress max="200" value="50"' in page
    assert 'type="module" src="/static/js/import-progress.js"' in page
    assert 'aria-live="polite"' in page and f'href="/people/import/{job.id}"' in page
    assert client.get(f"/people/import/{job.id}/status.json").get_json()["done"] is False


def test_mark_interrupted_flips_only_stale_jobs(world):
    now = utcnow()
    jobs = {}
    for name, status, created, beat in [
        ("stale-running", "running", now - timedelta(minutes=20), now - timedelta(minutes=6)),
        ("fresh-running", "running", now - timedelta(minutes=20), now - timedelta(minutes=1)),
        ("stale-pending", "pending", now - timedelta(minutes=10), None),
        ("fresh-pending", "pending", now - timedelta(minutes=1), None),
        ("old-done", "done", now - timedelta(days=1), now - timedelta(days=1)),
    ]:
        jobs[name] = ImportJob(filename=name, storage_key="imports/x.csv", status=status, created_at=created,
                               heartbeat_at=beat, created_by_id=world.admin_a.id)
        db.session.add(jobs[name])
    db.session.commit()
    assert importing.mark_interrupted() == 2
    db.session.commit()
    status = {name: db.session.get(ImportJob, job.id).status for name, job in jobs.items()}
    assert status == {"stale-running": "interrupted", "fresh-running": "running",
                      "stale-pending": "interrupted", "fresh-pending": "pending", "old-done": "done"}
    assert importing.mark_interrupted() == 0


def test_an_interrupted_job_runs_again_from_its_stored_file(client, world, login_as):
    login_as(client, world.admin_a)
    job = importing.create_job(filename="people.csv", data=to_csv(people_rows(40, ("school_a",))),
                               by=world.admin_a, dry_run=False)
    job.status, job.created_at = "running", utcnow() - timedelta(minutes=30)
    db.session.commit()
    assert importing.mark_interrupted() == 1
    db.session.commit()
    page = client.get(f"/people/import/{job.id}").get_data(as_text=True)
    assert "interrupted" in page and f"/people/import/{job.id}/rerun" in page
    before = counts()
    response = client.post(f"/people/import/{job.id}/rerun")
    new = latest_job()
    assert response.headers["Location"].endswith(f"/people/import/{new.id}")
    assert new.id != job.id and new.storage_key == job.storage_key and not new.dry_run
    assert new.status == "done" and new.summary["rerun_of"] == job.id
    assert counts() == (before[0] + 40, before[1] + 40)


def test_import_for_real_after_a_clean_dry_run(client, world, login_as):
    login_as(client, world.admin_a)
    before = counts()
    upload(client, to_csv(people_rows(25, ("school_a",))), dry_run=True)
    dry = latest_job()
    assert dry.status == "done" and dry.summary["created"] == 25
    assert counts() == before
    page = client.get(f"/people/import/{dry.id}").get_data(as_text=True)
    assert "Выполнить импорт" in page
    client.post(f"/people/import/{dry.id}/run")
    real = latest_job()
    assert real.id != dry.id and not real.dry_run and real.status == "done"
    assert counts() == (before[0] + 25, before[1] + 25)
    # A dry run with errors cannot be turned into a real one.
    upload(client, to_csv(people_rows(3, ("Нет такой",))), dry_run=True)
    bad = latest_job()
    client.post(f"/people/import/{bad.id}/run")
    assert latest_job().id == bad.id


def test_errors_report_csv_lists_every_error(client, world, login_as):
    login_as(client, world.admin_a)
    upload(client, to_csv(people_rows(5, ("=cmd|' /C calc'!A0",))), dry_run=True)
    job = latest_job()
    report = client.get(f"/people/import/{job.id}/errors.csv").get_data().decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(report)))
    assert [row[0] for row in lines[1:]] == ["2", "3", "4", "5", "6"]
    assert all(row[2].startswith("Неизвестная организация") for row in lines[1:])


# --- access --------------------------------------------------------------------------------------

def test_access_to_import_pages(app, client, world, login_as):
    job = importing.create_job(filename="a.csv", data=b"username\n", by=world.admin_a)
    db.session.commit()
    urls = ["/people/import", f"/people/import/{job.id}", f"/people/import/{job.id}/status.json",
            f"/people/import/{job.id}/errors.csv", "/people/import/template.csv"]
    for url in urls:
        assert client.get(url).status_code == 302  # anonymous → login
    expected = {
        world.student_a: [403, 403, 403, 403, 403],
        world.teacher_a: [403, 403, 403, 403, 403],
        world.admin_b: [200, 403, 403, 403, 200],
        world.admin_a: [200, 200, 200, 200, 200],
        world.admin: [200, 200, 200, 200, 200],
    }
    for user, codes in expected.items():
        c = app.test_client()
        login_as(c, user)
        assert [c.get(url).status_code for url in urls] == codes, user.username
        if user is world.admin_b:
            assert c.post(f"/people/import/{job.id}/rerun").status_code == 403


def test_start_page_lists_columns_and_recent_imports(client, world, login_as):
    login_as(client, world.admin_a)
    upload(client, to_csv(people_rows(2, ("school_a",))), dry_run=True, name="класс 7А.csv")
    page = client.get("/people/import").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and "<caption>" in page and 'scope="col"' in page
    assert "класс 7А.csv" in page
    template = client.get("/people/import/template.csv")
    assert template.status_code == 200 and template.get_data().decode("utf-8-sig").startswith("username,")
