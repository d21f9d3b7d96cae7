"""Outgoing mail through one outbox table.

With SMTP settings (LMS_MAIL_SERVER …) a message is sent after the transaction that queued it
commits; without them it is only logged and stays readable in the outbox page for development.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import String, Text, event, select
from sqlalchemy.orm import Mapped, mapped_column

from lms.core import background
from lms.core.db import utcnow
from lms.extensions import db

log = logging.getLogger(__name__)


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: pending → sent | failed; 'logged' when no SMTP server is configured
    status: Mapped[str] = mapped_column(String(16), default="pending")
    sent_at: Mapped[datetime | None]
    error: Mapped[str] = mapped_column(String(500), default="")
    attempts: Mapped[int] = mapped_column(default=0)


def smtp_configured() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def queue_mail(to: str, subject: str, body: str) -> OutboxMessage:
    """Queue a plain-text message; it leaves only if the surrounding transaction commits."""
    msg = OutboxMessage(to=to, subject=subject, body=body)
    if not smtp_configured():
        msg.status = "logged"
        log.info("mail (no SMTP configured) to=%s subject=%s\n%s", to, subject, body)
    else:
        db.session.info["mail_pending"] = True
    db.session.add(msg)
    return msg


def _send_one(msg: OutboxMessage) -> None:
    cfg = current_app.config
    email = EmailMessage()
    email["From"] = cfg["MAIL_FROM"]
    email["To"] = msg.to
    email["Subject"] = msg.subject
    email.set_content(msg.body)
    context = ssl.create_default_context()
    if cfg["MAIL_USE_SSL"]:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], context=context, timeout=30)
    else:
        smtp = smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=30)
    with smtp:
        if cfg["MAIL_USE_TLS"] and not cfg["MAIL_USE_SSL"]:
            smtp.starttls(context=context)
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
        smtp.send_message(email)


def send_pending(limit: int = 100) -> int:
    """Send queued messages; a failure is kept with its reason and retried up to 5 times."""
    sent = 0
    rows = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.status.in_(("pending", "failed")),
                                    OutboxMessage.attempts < 5).limit(limit)).all()
    for msg in rows:
        msg.attempts += 1
        try:
            _send_one(msg)
        except (OSError, smtplib.SMTPException) as exc:
            msg.status, msg.error = "failed", str(exc)[:500]
            log.warning("mail to %s failed: %s", msg.to, exc)
        else:
            msg.status, msg.sent_at, msg.error = "sent", utcnow(), ""
            sent += 1
        db.session.commit()
    return sent


def init_mail(app) -> None:
    @event.listens_for(db.session, "after_commit")
    def _after_commit(session):
        # SQL cannot run inside after_commit; the background thread has its own session.
        # Inline mode (tests) leaves sending to `flask mail send` / send_pending().
        if session.info.pop("mail_pending", False) and not current_app.config.get("BACKGROUND_INLINE"):
            background.submit(send_pending)
