"""`flask users import` and `flask users export`: the same service as the page, driven from the shell."""

from __future__ import annotations

import csv
import io
import stat

import click
import openpyxl
import pytest
from sqlalchemy import func, select

from lms.accounts.cli_import import export_command, import_command
from lms.accounts.models import ImportJob, User
from lms.core.storage import get_storage
from lms.extensions import db
from lms.orgs.models import Membership
from tests.accounts.test_import import BAD_LINES, people_rows, to_csv
from tests.factories import make_org


@pytest.fixture
def cli(app, db_session):
    group = click.Group("users")
    group.add_command(import_command)
    group.add_command(export_command)
    runner = app.test_cli_runner()

    def invoke(*args: str):
        return runner.invoke(group, list(args))

    return invoke


def people() -> int:
    return db.session.scalar(select(func.count(User.id)))


def test_command_names():
    assert (import_command.name, export_command.name) == ("import", "export")


def test_dry_run_of_the_1000_line_file_names_the_three_bad_lines(cli, world, tmp_path):
    make_org(world.municipality, "school_d", name="Школа Г")
    db.session.commit()
    path = tmp_path / "people.csv"
    path.write_bytes(to_csv(people_rows(bad=True)))
    before = people()
    result = cli("import", str(path), "--dry-run", "--as", "coord")
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("строка")]
    assert [int(line.split()[1].rstrip(",")) for line in lines] == list(BAD_LINES)
    assert lines[0].startswith("строка 120, столбец email: ")
    assert lines[1].startswith("строка 500, столбец organization: ")
    assert lines[2].startswith("строка 873, столбец username: ")
    assert people() == before
    assert not (tmp_path / "people.csv.passwords.csv").exists()


def test_real_import_writes_the_passwords_file(cli, world, tmp_path):
    path = tmp_path / "school.csv"
    path.write_bytes(to_csv(people_rows(60, ("school_a", "school_b"))))
    before = people()
    stored_before = {o.key for o in get_storage().list("imports/")}
    result = cli("import", str(path), "--as", "coord")
    assert result.exit_code == 0, result.output
    assert people() == before + 60
    target = tmp_path / "school.csv.passwords.csv"
    assert str(target) in result.stdout and "создано людей: 60" in result.stdout
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    rows = list(csv.reader(io.StringIO(target.read_bytes().decode("utf-8-sig"))))
    assert len(rows) == 61
    job = db.session.scalar(select(ImportJob).order_by(ImportJob.id.desc()))
    assert job.created_by_id == world.coordinator.id and job.credentials_key is None
    # The passwords left storage with the download: only the uploaded file remains.
    assert {o.key for o in get_storage().list("imports/")} == stored_before | {job.storage_key}


def test_system_import_with_a_default_organization_and_update(cli, world, tmp_path):
    path = tmp_path / "b.csv"
    path.write_text("username,firstname,lastname,role,grade\n"
                    "student_a,Никита,Учеников,student,9А\n"
                    "cli.new,Новый,Клиев,учитель,\n", encoding="utf-8")
    result = cli("import", str(path), "--org", "school_c")
    assert result.exit_code == 1 and "student_a" in result.stdout
    result = cli("import", str(path), "--org", "school_c", "--update")
    assert result.exit_code == 0, result.output
    assert "обновлено: 1" in result.stdout and "создано людей: 1" in result.stdout
    roles = db.session.execute(select(Membership.organization_id, Membership.role)
                               .join(User).where(User.username == "student_a")).all()
    assert (world.school_c.id, "student") in roles
    job = db.session.scalar(select(ImportJob).order_by(ImportJob.id.desc()))
    assert job.created_by_id is None and job.summary["system"] is True


def test_as_a_user_applies_their_rights(cli, world, tmp_path):
    path = tmp_path / "b.csv"
    path.write_text("username;firstname;lastname;organization;role\nx.b;Икс;Бэ;school_b;teacher\n",
                    encoding="utf-8")
    result = cli("import", str(path), "--as", "admin_a")
    assert result.exit_code == 1
    assert "строка 2, столбец organization:" in result.stdout


def test_unknown_actor_or_organization(cli, world, tmp_path):
    path = tmp_path / "b.csv"
    path.write_text("username,firstname,lastname,organization,role\n", encoding="utf-8")
    assert cli("import", str(path), "--as", "nobody").exit_code == 1
    result = cli("import", str(path), "--org", "nowhere")
    assert result.exit_code == 1 and "nowhere" in result.output


def test_export_csv_and_xlsx(cli, world, tmp_path):
    path = tmp_path / "all.csv"
    result = cli("export", str(path), "--org", "school_a")
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    rows = list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    assert {r["organization"] for r in rows} == {"school_a"} and len(rows) == 4
    xlsx = tmp_path / "all.xlsx"
    assert cli("export", str(xlsx)).exit_code == 0
    sheet = openpyxl.load_workbook(xlsx).active
    usernames = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert {"student_c", "parent_a", "admin"} <= usernames
    assert cli("export", str(tmp_path / "x.pdf")).exit_code == 1
