"""`flask --app wsgi users …`: create people (the first admin), tokens, passwords, import."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from lms.accounts import services
from lms.accounts.cli_import import export_command, import_command
from lms.accounts.models import User
from lms.core.errors import DomainError
from lms.extensions import db
from lms.orgs.models import Organization


@click.group("users", help="Manage people from the command line.")
def users_cli() -> None:
    pass


users_cli.add_command(import_command)
users_cli.add_command(export_command)


def _fail(exc: DomainError) -> None:
    where = f" (поле {exc.field})" if exc.field else ""
    raise click.ClickException(f"{exc.message}{where}")


@users_cli.command("create")
@click.argument("username")
@click.option("--surname", required=True, help="Фамилия")
@click.option("--name", required=True, help="Имя")
@click.option("--patronymic", default="", help="Отчество")
@click.option("--email", default=None)
@click.option("--password", default=None, help="Без него будет сгенерирован начальный пароль.")
@click.option("--prompt-password", is_flag=True, help="Спросить пароль (не попадёт в историю команд).")
@click.option("--admin", is_flag=True, help="Глобальный администратор.")
@click.option("--org", "org_code", default=None, help="Код организации для роли.")
@click.option("--role", default=None, type=click.Choice(["student", "teacher", "methodologist", "org_admin",
                                                         "coordinator"]))
@click.option("--grade", type=int, default=None)
@with_appcontext
def create(username, surname, name, patronymic, email, password, prompt_password, admin, org_code, role, grade):
    """Create a person, e.g. the first global administrator: users create admin --surname … --name … --admin."""
    if prompt_password:
        password = click.prompt("Пароль", hide_input=True, confirmation_prompt=True)
    try:
        user, generated = services.create_user(
            username=username, by=None, password=password, surname=surname, name=name, patronymic=patronymic,
            email=email, is_admin=admin, must_change_password=password is None)
        if org_code or role:
            if not (org_code and role):
                raise click.ClickException("--org и --role задаются вместе")
            org = db.session.scalar(select(Organization).where(Organization.code == org_code.lower()))
            if org is None:
                raise click.ClickException(f"Нет организации с кодом {org_code}")
            services.add_membership(user, org, role, by=None, grade=grade)
    except DomainError as exc:
        db.session.rollback()
        _fail(exc)
    db.session.commit()
    click.echo(f"Создан пользователь {user.username} (id {user.id}).")
    if generated:
        click.echo(f"Начальный пароль: {generated} (его нужно сменить при первом входе)")


@users_cli.command("token")
@click.argument("username")
@click.option("--name", default="cli", help="Назначение токена.")
@click.option("--days", type=int, default=None, help="Срок действия в днях.")
@with_appcontext
def token(username, name, days):
    """Create a personal API token and print it (it is shown only once)."""
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None or not user.is_active:
        raise click.ClickException(f"Нет активного пользователя {username}")
    try:
        _row, raw = services.create_api_token(user, name, by=None, days=days)
    except DomainError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(raw)


@users_cli.command("set-password")
@click.argument("username")
@with_appcontext
def set_password(username):
    """Set a person's password (asked twice, not echoed)."""
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise click.ClickException(f"Нет пользователя {username}")
    password = click.prompt("Новый пароль", hide_input=True, confirmation_prompt=True)
    try:
        services.set_password(user, password, by=None)
    except DomainError as exc:
        _fail(exc)
    db.session.commit()
    click.echo("Пароль изменён; все сеансы пользователя завершены.")


@users_cli.command("deactivate")
@click.argument("username")
@with_appcontext
def deactivate(username):
    """Deactivate a person: their sessions and tokens stop working at once."""
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise click.ClickException(f"Нет пользователя {username}")
    services.deactivate_user(user, by=None)
    db.session.commit()
    click.echo(f"Пользователь {user.username} деактивирован.")
