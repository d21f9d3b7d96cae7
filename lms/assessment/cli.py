"""``flask questions import FILE --format gift|xml --bank ID [--dry-run]`` and ``flask questions export``."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from lms.extensions import db


@click.group("questions", help="Question banks: import and export GIFT or Moodle XML.")
def questions_cli() -> None:
    pass


def _bank(bank_id: int):
    from lms.assessment.models import QuestionBank

    bank = db.session.get(QuestionBank, bank_id)
    if bank is None:
        raise click.ClickException(f"Банк вопросов {bank_id} не найден.")
    return bank


@questions_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["gift", "xml"]), required=True)
@click.option("--bank", "bank_id", type=int, required=True, help="Id of the question bank.")
@click.option("--dry-run", is_flag=True, help="Check and list the questions; write nothing.")
@with_appcontext
def import_command(file: Path, fmt: str, bank_id: int, dry_run: bool):
    """Import questions into a bank: all or nothing; every bad question is listed with its line."""
    from lms.assessment import banks
    from lms.core.errors import DomainError

    bank = _bank(bank_id)
    try:
        report = banks.import_questions(bank, file.read_bytes(), fmt, by=None, dry_run=dry_run)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    for line, reason in report.errors:
        click.echo(f"{'строка' if fmt == 'gift' else 'вопрос'} {line}: {reason}", err=True)
    if report.errors:
        db.session.rollback()
        raise click.ClickException(f"Ошибок: {len(report.errors)}; ничего не записано.")
    if dry_run:
        click.echo(f"Проверено: вопросов {report.questions}, категорий {len(report.categories)}; ничего не записано.")
        return
    db.session.commit()
    click.echo(f"Загружено вопросов: {report.questions}.")


@questions_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["gift", "xml"]), required=True)
@click.option("--bank", "bank_id", type=int, required=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: stdout).")
@with_appcontext
def export_command(fmt: str, bank_id: int, output: Path | None):
    """Export every question of a bank (its current versions)."""
    from lms.assessment import banks

    data = banks.export_questions(_bank(bank_id), fmt)
    if output is None:
        click.echo(data.decode("utf-8"), nl=False)
    else:
        output.write_bytes(data)
        click.echo(f"Записано: {output}")


@click.group("quizzes", help="Quizzes: close overdue attempts.")
def quizzes_cli() -> None:
    pass


@quizzes_cli.command("close-overdue")
@with_appcontext
def close_overdue_command() -> None:
    """Submit, move into their grace period or abandon the attempts past their deadline (the periodic job does
    the same every few minutes)."""
    from lms.assessment.attempts import close_overdue

    n = close_overdue()
    db.session.commit()
    click.echo(f"Закрыто просроченных попыток: {n}")
