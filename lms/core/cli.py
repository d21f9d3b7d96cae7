"""Operations commands: sending mail and the periodic housekeeping job a timer runs."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from lms.extensions import db


@click.group("mail", help="Outgoing mail.")
def mail_cli() -> None:
    pass


@mail_cli.command("send")
@with_appcontext
def send():
    """Send queued and failed messages (retries up to 5 times)."""
    from lms.core.mail import send_pending, smtp_configured

    if not smtp_configured():
        raise click.ClickException("LMS_MAIL_SERVER не задан: письма сохраняются только в журнале (outbox).")
    click.echo(f"Отправлено: {send_pending()}")


@click.group("jobs", help="Periodic jobs (run them from a systemd timer or cron every few minutes).")
def jobs_cli() -> None:
    pass


@jobs_cli.command("run")
@with_appcontext
def run():
    """Housekeeping: expired sessions, old login attempts, interrupted imports, queued mail."""
    from lms.core.jobs import run_periodic

    for line in run_periodic():
        click.echo(line)
    db.session.commit()
