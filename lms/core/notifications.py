"""In-app notifications, with an e-mail copy: one call for every domain (enrolment decisions, grades,
certificates, deadlines). Stored in the database, so nothing is lost when nobody is online."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.db import utcnow
from lms.core.mail import queue_mail
from lms.extensions import db


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: enrolment, grade, certificate, deadline, announcement …
    kind: Mapped[str] = mapped_column(String(24))
    title: Mapped[str] = mapped_column(String(300))
    #: A path inside the site (never an external address).
    link: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


def notify(user, kind: str, title: str, link: str = "", *, email: str | None = None) -> Notification:
    """Add a notification for ``user`` (in the caller's transaction); with ``email`` text, also mail it
    to the user's address if they have one."""
    row = Notification(user_id=user.id, kind=kind, title=title[:300],
                       link=link if link.startswith("/") and not link.startswith("//") else "")
    db.session.add(row)
    if email and getattr(user, "email", None) and user.is_active:
        queue_mail(user.email, title[:300], email)
    return row


def unread_count(user_id: int) -> int:
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def mark_all_read(user_id: int) -> int:
    return db.session.execute(update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)).values(read_at=utcnow())).rowcount
