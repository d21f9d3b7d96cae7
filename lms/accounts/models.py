"""People and what authenticates them."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import TimestampMixin, utcnow
from lms.extensions import db
from lms.orgs.models import Membership


class Sex(enum.StrEnum):
    MALE = "m"
    FEMALE = "f"


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Lower-case login name, unique.
    username: Mapped[str] = mapped_column(String(100), unique=True)
    #: Lower-case e-mail; unique when present.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(default=False)
    surname: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(100))
    patronymic: Mapped[str] = mapped_column(String(100), default="")
    birth_date: Mapped[date | None]
    sex: Mapped[str | None] = mapped_column(String(1))
    phone: Mapped[str] = mapped_column(String(32), default="")
    #: СНИЛС as 11 digits (validated with its checksum), shown as 000-000-000 00.
    snils: Mapped[str | None] = mapped_column(String(11), unique=True)
    locale: Mapped[str] = mapped_column(String(8), default="ru")
    time_zone: Mapped[str | None] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(default=True, index=True)
    is_admin: Mapped[bool] = mapped_column(default=False)
    deactivated_at: Mapped[datetime | None]
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    last_login_at: Mapped[datetime | None]
    #: Display preferences, e.g. the version for visually impaired users.
    prefs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by=Membership.id)

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.surname, self.name, self.patronymic) if p)

    @property
    def short_name(self) -> str:
        initials = "".join(f"{p[0]}." for p in (self.name, self.patronymic) if p)
        return f"{self.surname} {initials}".strip()

    @property
    def snils_display(self) -> str:
        s = self.snils or ""
        return f"{s[0:3]}-{s[3:6]}-{s[6:9]} {s[9:11]}" if len(s) == 11 else ""

    def __str__(self) -> str:
        return self.full_name or self.username


class AuthSession(db.Model):
    """A logged-in browser session. The cookie carries its id; deleting the row ends the session."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(300), default="")

    user: Mapped[User] = relationship()


class LoginAttempt(db.Model):
    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    #: what was typed, lower-cased (so attempts on unknown names are throttled too)
    username: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    ip: Mapped[str] = mapped_column(String(64), default="")
    success: Mapped[bool] = mapped_column(default=False)
    #: 'login' or 'reset' (password-reset requests are throttled by the same table)
    kind: Mapped[str] = mapped_column(String(16), default="login")


class PasswordResetToken(db.Model):
    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class ApiToken(db.Model):
    """A personal access token for ``Authorization: Bearer …``; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class ParentRelation(enum.StrEnum):
    MOTHER = "mother"
    FATHER = "father"
    GUARDIAN = "guardian"


class ParentLink(db.Model):
    """A parent (or guardian) account linked to a student: read-only view of the child."""

    __tablename__ = "parent_links"
    __table_args__ = (UniqueConstraint("parent_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    relation: Mapped[str] = mapped_column(String(16), default=ParentRelation.GUARDIAN)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    parent: Mapped[User] = relationship(foreign_keys=[parent_id])
    student: Mapped[User] = relationship(foreign_keys=[student_id])


class ConsentKind(enum.StrEnum):
    PERSONAL_DATA = "personal_data"
    PUBLISH_RESULTS = "publish_results"
    OLYMPIAD_PARTICIPATION = "olympiad_participation"


class Consent(db.Model):
    """A written consent (152-ФЗ) recorded for a person, given by them or by a parent."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_subject_kind", "subject_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    given_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32))
    given_on: Mapped[date]
    document: Mapped[str] = mapped_column(String(300), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_on: Mapped[date | None]

    subject: Mapped[User] = relationship(foreign_keys=[subject_id])
    given_by: Mapped[User | None] = relationship(foreign_keys=[given_by_id])

    @property
    def is_valid(self) -> bool:
        return self.withdrawn_on is None


class ImportJob(db.Model):
    """A bulk user import: the file lives in storage, progress and the outcome in this row."""

    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str] = mapped_column(String(255))
    dry_run: Mapped[bool] = mapped_column(default=True)
    update_existing: Mapped[bool] = mapped_column(default=False)
    #: pending → running → done | failed | interrupted
    status: Mapped[str] = mapped_column(String(16), default="pending")
    total: Mapped[int] = mapped_column(default=0)
    processed: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    credentials_key: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
