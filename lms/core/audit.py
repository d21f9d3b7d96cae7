"""Audit log: who did what, when, from where, to which object, in which organization."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import has_request_context, request
from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.db import utcnow
from lms.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_org_at", "organization_id", "at"),
        Index("ix_audit_events_actor_at", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None]
    ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor = db.relationship("User", foreign_keys=[actor_id], lazy="joined")
    organization = db.relationship("Organization", foreign_keys=[organization_id])


def client_ip() -> str | None:
    return request.remote_addr if has_request_context() else None


def record(action: str, *, actor=None, organization=None, obj=None, **details: Any) -> AuditEvent:
    """Add an audit event to the current transaction (it is committed with the change it describes)."""
    event = AuditEvent(
        action=action,
        actor_id=getattr(actor, "id", actor),
        organization_id=getattr(organization, "id", organization),
        object_type=type(obj).__name__ if obj is not None else None,
        object_id=getattr(obj, "id", None),
        ip=client_ip(),
        details={k: v for k, v in details.items() if v is not None},
    )
    db.session.add(event)
    return event
