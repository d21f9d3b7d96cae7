"""`flask --app wsgi users import FILE.csv` and `users export FILE.(csv|xlsx)`: the same services as the pages.

The lead registers both into the ``users`` group (``users_cli.add_command(import_command)``,
``users_cli.add_command(export_command)``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from lms.accounts import exporting, importing
from lms.accounts.models import ImportJob, User
from lms.accounts.queries import PeopleFilter
from lms.core import audit
from lms.extensions import db
from lms.orgs.models import Organization
from lms.orgs.services import find_organization

PHASES = {"checking": "Проверка строк", "passwords": "Подготовка паролей", "writing": "Запись"}


def _organization(code: str | None) -> Organization | None:
    if not code:
        return None
    org = find_organization(code)
    if org is None:
        raise click.ClickException(f"Нет организации «{code}» (код, краткое или полное название).")
    return org


def _actor(username: str | None) -> User | None:
    if not username:
        return None
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None or not user.is_active:
        raise click.ClickException(f"Нет активного пользователя {username}")
    return user


def _write_private(path: Path, data: bytes) -> None:
    """Create or replace ``path`` readable by its owner only (0600) — it holds passwords or personal data."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its old mode through O_CREAT
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


class _Bar:
    """One click progress bar per phase, on stderr."""

    def __init__(self) -> None:
        self.phase = None
        self.bar = None
        self.shown = 0

    def __call__(self, phase: str, processed: int, total: int) -> None:
        if phase != self.phase:
            self.close()
            self.phase, self.shown = phase, 0
            self.bar = click.progressbar(length=max(total, 1), label=PHASES.get(phase, phase), file=sys.stderr)
            self.bar.__enter__()
        if processed > self.shown:
            self.bar.update(processed - self.shown)
            self.shown = processed

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Только проверить файл, ничего не записывать.")
@click.option("--org", "org_code", default=None, help="Организация по умолчанию (код) для строк без неё.")
@click.option("--update", "update_existing", is_flag=True, help="Обновлять уже существующих людей (по логину).")
@click.option("--as", "as_username", default=None,
              help="От чьего имени (логин): его права проверяются для каждой строки. Без него — система.")
@with_appcontext
def import_command(file: Path, dry_run: bool, org_code: str | None, update_existing: bool,
                   as_username: str | None) -> None:
    """Import people from a CSV file (the same format and rules as the «Import» page).

    Every bad line is printed as «строка N, столбец X: причина» and the exit code is 1; nothing is written
    then. On success the initial passwords go to FILE.passwords.csv (readable by you only).
    """
    actor = _actor(as_username)
    org = _organization(org_code)
    job = importing.create_job(filename=file.name, data=file.read_bytes(), by=actor, organization=org,
                               dry_run=dry_run, update_existing=update_existing)
    db.session.commit()
    bar = _Bar()
    try:
        importing.run_job(job.id, progress=bar)
    finally:
        bar.close()
    job = db.session.get(ImportJob, job.id)
    summary = job.summary or {}
    if job.errors:
        for e in job.errors:
            where = [f"строка {e['line']}" if e.get("line") else "файл"]
            if e.get("column"):
                where.append(f"столбец {e['column']}")
            click.echo(f"{', '.join(where)}: {e['message']}")
        bad = len({e.get("line") for e in job.errors})
        click.echo(f"Ошибок: {len(job.errors)} (строк: {bad}). Ничего не записано.", err=True)
        sys.exit(1)
    if job.status != "done":
        raise click.ClickException(f"Импорт не завершён: {job.status}")
    counts = (f"создано людей: {summary.get('created', 0)}, обновлено: {summary.get('updated', 0)}, "
              f"добавлено ролей: {summary.get('memberships', 0)}")
    if dry_run:
        click.echo(f"Ошибок нет ({summary.get('rows', 0)} строк). При импорте будет {counts}.")
        return
    click.echo(f"Импорт выполнен (задание {job.id}): {counts}.")
    data = importing.take_credentials(job)
    db.session.commit()
    if data:
        target = file.with_name(file.name + ".passwords.csv")
        _write_private(target, data)
        click.echo(f"Логины и начальные пароли записаны в {target.resolve()} (доступ только владельцу, 0600). "
                   "Раздайте их и удалите файл; при первом входе пароль нужно сменить.")


@click.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--org", "org_code", default=None, help="Только эта организация (код, краткое или полное название).")
@with_appcontext
def export_command(file: Path, org_code: str | None) -> None:
    """Export people to FILE.csv or FILE.xlsx in the import format (everyone, or one organization)."""
    fmt = file.suffix.lower().lstrip(".")
    if fmt not in exporting.FORMATS:
        raise click.ClickException("Файл должен оканчиваться на .csv или .xlsx")
    org = _organization(org_code)
    flt = PeopleFilter(org_id=org.id if org else None)
    user_ids = exporting.select_people(exporting.SYSTEM, flt)
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # personal data: readable by the owner only, even when replacing a file
    with os.fdopen(fd, "wb") as out:
        if fmt == "csv":
            for chunk in exporting.csv_chunks(exporting.SYSTEM, user_ids, flt):
                out.write(chunk.encode("utf-8"))
        else:
            exporting.write_xlsx(exporting.iter_rows(exporting.SYSTEM, user_ids, flt), out)
    audit.record("people_exported", actor=None, organization=org, count=len(user_ids), format=fmt, cli=True)
    db.session.commit()
    click.echo(f"Выгружено людей: {len(user_ids)} → {file.resolve()}")
