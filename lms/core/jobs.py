"""Periodic housekeeping, run by `flask --app wsgi jobs run` (a timer) and in-process by the dev server."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, or_

from lms.core.db import utcnow
from lms.extensions import db

_registry: list = []


def periodic(fn):
    """Register a housekeeping function ``fn() -> str`` (other domains add theirs: overdue attempts, reminders)."""
    _registry.append(fn)
    return fn


@periodic
def expire_sessions() -> str:
    from lms.accounts.models import AuthSession

    cfg = current_app.config
    now = utcnow()
    n = db.session.execute(delete(AuthSession).where(or_(
        AuthSession.last_seen_at < now - timedelta(seconds=cfg["SESSION_IDLE_SECONDS"]),
        AuthSession.created_at < now - timedelta(seconds=cfg["SESSION_ABSOLUTE_SECONDS"]),
    ))).rowcount
    return f"expired sessions: {n}"


@periodic
def prune_attempts() -> str:
    from lms.accounts.services import prune_login_attempts

    return f"old login attempts removed: {prune_login_attempts()}"


@periodic
def mark_interrupted_imports() -> str:
    from lms.accounts.importing import mark_interrupted

    return f"interrupted imports: {mark_interrupted()}"


@periodic
def send_mail() -> str:
    from lms.core.mail import send_pending, smtp_configured

    if not smtp_configured():
        return "mail: no SMTP configured"
    return f"mail sent: {send_pending()}"


def run_periodic() -> list[str]:
    out = []
    for fn in _registry:
        out.append(fn())
        db.session.commit()
    return out
