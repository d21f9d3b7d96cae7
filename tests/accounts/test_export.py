"""Export of people to CSV/XLSX: who may export what, the format, formula guards, the round trip to import."""

from __future__ import annotations

import csv
import io

import openpyxl
from sqlalchemy import select

from lms.accounts import importing
from lms.accounts.exporting import COLUMNS
from lms.accounts.models import ImportJob, User
from lms.core.audit import AuditEvent
from lms.extensions import db
from lms.orgs.models import Role
from lms.orgs.services import create_organization
from tests.factories import make_user


def read_csv(response) -> list[dict[str, str]]:
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert tuple(rows[0]) == COLUMNS
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def read_xlsx(response) -> tuple[list, list[dict]]:
    ws = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    cells = list(ws.iter_rows())
    header = [c.value for c in cells[0]]
    return cells, [dict(zip(header, [c.value for c in row], strict=True)) for row in cells[1:]]


def test_formulas_in_names_are_neutralised_in_csv_and_xlsx(client, world, login_as):
    make_user("formula", org=world.school_a, role=Role.TEACHER, surname="=HYPERLINK(1)", name="=1+2",
              patronymic="@SUM(A1)", phone="+7 900 111-22-33")
    db.session.commit()
    login_as(client, world.admin_a)
    response = client.get("/people/export?format=csv&q=formula")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    [row] = read_csv(response)
    assert (row["lastname"], row["firstname"], row["middlename"], row["phone"]) == (
        "'=HYPERLINK(1)", "'=1+2", "'@SUM(A1)", "'+7 900 111-22-33")

    response = client.get("/people/export?format=xlsx&q=formula")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    cells, [row] = read_xlsx(response)
    assert (row["lastname"], row["firstname"]) == ("'=HYPERLINK(1)", "'=1+2")
    assert all(c.data_type != "f" for line in cells for c in line)


def test_export_columns_in_the_import_format(client, world, login_as):
    login_as(client, world.admin_a)
    response = client.get(f"/people/export?format=csv&org={world.school_a.id}&role=student")
    [row] = read_csv(response)
    assert row == {"username": "student_a", "lastname": "Учеников", "firstname": "Никита", "middlename": "",
                   "email": "student_a@example.org", "organization": "school_a", "role": "student",
                   "grade": "9", "classletter": "А", "phone": "", "birthdate": "", "sex": "",
                   "snils": "112-233-445 95"}
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=") and "filename*=UTF-8''" in disposition
    assert "%D0%A8%D0%BA%D0%BE%D0%BB%D0%B0" in disposition  # «Школа» in the UTF-8 name


def test_personal_fields_and_dates(client, world, login_as):
    from datetime import date

    make_user("dated", org=world.school_a, role=Role.STUDENT, grade=5, surname="Датова", name="Дарья",
              birth_date=date(2013, 2, 1), sex="f")
    db.session.commit()
    login_as(client, world.admin_a)
    [row] = read_csv(client.get("/people/export?format=csv&q=датова"))
    assert (row["birthdate"], row["sex"], row["grade"]) == ("01.02.2013", "ж", "5")


def test_an_org_admin_exports_only_their_organization(client, world, login_as):
    make_user("both", org=world.school_a, role=Role.TEACHER, surname="Двушколова", name="Вера")
    both = db.session.scalar(select(User).where(User.username == "both"))
    from lms.accounts.services import add_membership

    add_membership(both, world.school_b, Role.TEACHER, by=None)
    db.session.commit()
    login_as(client, world.admin_a)
    rows = read_csv(client.get("/people/export?format=csv"))
    assert {r["organization"] for r in rows} == {"school_a"}
    assert "student_b" not in {r["username"] for r in rows}
    assert [r["organization"] for r in rows if r["username"] == "both"] == ["school_a"]
    _cells, xrows = read_xlsx(client.get("/people/export?format=xlsx"))
    assert {r["organization"] for r in xrows} == {"school_a"}
    # The list page would answer 403 for another school: so does the export.
    assert client.get(f"/people/export?format=csv&org={world.school_b.id}").status_code == 403


def test_staff_of_another_school_see_no_personal_data_there(client, world, login_as):
    from lms.accounts.services import add_membership

    add_membership(world.admin_a, world.school_b, Role.TEACHER, by=None)
    make_user("b.snils", org=world.school_b, role=Role.STUDENT, grade=3, surname="Бэшкин", name="Борис",
              phone="+7 900 000-00-01")
    db.session.commit()
    login_as(client, world.admin_a)
    rows = {r["username"]: r for r in read_csv(client.get("/people/export?format=csv"))}
    assert rows["b.snils"]["organization"] == "school_b" and rows["b.snils"]["phone"] == ""
    assert rows["student_a"]["snils"] == "112-233-445 95"


def test_filters_match_the_list_page(client, world, login_as):
    login_as(client, world.coordinator)
    rows = read_csv(client.get("/people/export?format=csv&role=student"))
    assert sorted(r["username"] for r in rows) == ["student_a", "student_b"]  # not school_c's
    rows = read_csv(client.get("/people/export?format=csv&role=student&grade=10"))
    assert [r["username"] for r in rows] == ["student_b"]
    rows = read_csv(client.get("/people/export?format=csv&q=учител"))
    assert [r["username"] for r in rows] == ["teacher_a"]


def test_deactivated_people_only_when_asked(client, world, login_as):
    from lms.accounts.services import deactivate_user

    deactivate_user(world.teacher_a, by=None)
    db.session.commit()
    login_as(client, world.admin_a)
    assert "teacher_a" not in {r["username"] for r in read_csv(client.get("/people/export?format=csv"))}
    assert "teacher_a" in {r["username"] for r in read_csv(client.get("/people/export?format=csv&inactive=1"))}


def test_the_global_admin_sees_people_without_organization(client, world, login_as):
    login_as(client, world.admin)
    rows = {r["username"]: r for r in read_csv(client.get("/people/export?format=csv"))}
    assert rows["parent_a"]["organization"] == "" and rows["student_c"]["organization"] == "school_c"


def test_access(app, client, world, login_as):
    assert client.get("/people/export?format=csv").status_code == 302
    for user, code in ((world.teacher_a, 403), (world.student_a, 403), (world.methodologist_a, 403),
                       (world.admin_b, 200), (world.admin, 200)):
        c = app.test_client()
        login_as(c, user)
        assert c.get("/people/export?format=csv").status_code == code, user.username
    c = app.test_client()
    login_as(c, world.admin_a)
    assert c.get("/people/export?format=pdf").status_code == 422


def test_export_is_audited(client, world, login_as):
    login_as(client, world.admin_a)
    client.get("/people/export?format=xlsx")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "people_exported"))
    assert event.actor_id == world.admin_a.id and event.details["count"] == 4 and event.details["format"] == "xlsx"


def test_round_trip_export_then_import(client, world, login_as):
    make_user("formula", org=world.school_a, role=Role.TEACHER, surname="=1+2", name="Формула",
              phone="+7 900 111-22-33", email="f@example.org")
    db.session.commit()
    login_as(client, world.admin_a)
    exported = client.get("/people/export?format=csv").get_data()
    rows = read_csv(client.get("/people/export?format=csv"))
    assert len(rows) == 5

    def run(update: bool) -> ImportJob:
        job = importing.create_job(filename="export.csv", data=exported, by=world.admin_a, dry_run=True,
                                   update_existing=update)
        db.session.commit()
        importing.run_job(job.id)
        return db.session.get(ImportJob, job.id)

    job = run(update=False)
    assert len(job.errors) == 5
    assert {e["column"] for e in job.errors} == {"username"}
    assert all("уже существует" in e["message"] for e in job.errors)

    job = run(update=True)
    assert job.status == "done" and job.errors == []
    assert (job.summary["created"], job.summary["updated"], job.summary["memberships"]) == (0, 5, 0)

    # The real run changes nothing: the formula guard is undone on the way in.
    real = importing.rerun_job(job, by=world.admin_a, dry_run=False)
    db.session.commit()
    importing.run_job(real.id)
    assert db.session.get(ImportJob, real.id).status == "done"
    person = db.session.scalar(select(User).where(User.username == "formula"))
    db.session.refresh(person)
    assert (person.surname, person.phone) == ("=1+2", "+7 900 111-22-33")
    assert read_csv(client.get("/people/export?format=csv")) == rows


def test_round_trip_into_a_fresh_organization(client, world, login_as):
    """The exported file, pointed at another organization, creates the same people there."""
    login_as(client, world.coordinator)
    rows = read_csv(client.get(f"/people/export?format=csv&org={world.school_b.id}"))
    fresh = create_organization(world.municipality, by=None, code="fresh", kind="school", name="Новая школа",
                                short_name="Новая")
    db.session.commit()
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    for r in rows:
        writer.writerow(r | {"username": "new." + r["username"], "organization": "fresh", "email": ""})
    job = importing.create_job(filename="x.csv", data=out.getvalue().encode(), by=world.coordinator,
                               dry_run=False)
    db.session.commit()
    importing.run_job(job.id)
    job = db.session.get(ImportJob, job.id)
    assert job.status == "done", job.errors
    copy = db.session.scalar(select(User).where(User.username == "new.student_b"))
    assert (copy.surname, copy.memberships[0].organization_id, copy.memberships[0].grade) == (
        "Школьникова", fresh.id, 10)
