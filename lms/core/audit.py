"""Audit log: who did what, when, from where, to which object, in which organization."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask import has_request_context, request
from sqlalchemy import JSON, ForeignKey, Index, String, select
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
    org_links = db.relationship("AuditEventOrg", cascade="all, delete-orphan", passive_deletes=True)


class AuditEventOrg(db.Model):
    """Every organization an event concerns: the one it happened in, and those of the person it is
    about (or of the actor, for their own actions such as logging in). Managers see the events of
    their organizations through this table, by index."""

    __tablename__ = "audit_event_orgs"
    __table_args__ = (Index("ix_audit_event_orgs_org_routine_event", "organization_id", "routine", "event_id"),)

    event_id: Mapped[int] = mapped_column(ForeignKey("audit_events.id", ondelete="CASCADE"), primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"),
                                                 primary_key=True)
    #: High-volume self-service events (logins) that the dashboards' "recent activity" leaves out.
    routine: Mapped[bool] = mapped_column(default=False)


#: Actions people do for themselves many times a day; kept in the log, left out of "recent activity".
ROUTINE_ACTIONS = frozenset({"login", "login_failed", "password_reset_requested", "password_changed"})


def client_ip() -> str | None:
    return request.remote_addr if has_request_context() else None


def _orgs_of_person(user_id: int | None) -> set[int]:
    if user_id is None:
        return set()
    from lms.orgs.models import Membership

    return set(db.session.scalars(select(Membership.organization_id).where(Membership.user_id == user_id)))


def record(action: str, *, actor=None, organization=None, obj=None, org_ids: Iterable[int] | None = None,
           **details: Any) -> AuditEvent:
    """Add an audit event to the current transaction (it is committed with the change it describes).

    ``org_ids`` names the organizations the event concerns when the caller knows them (bulk imports);
    otherwise they are the event's organization plus those of the person it is about — or of the
    actor, for an action on no object (a login)."""
    organization_id = getattr(organization, "id", organization)
    actor_id = getattr(actor, "id", actor)
    event = AuditEvent(
        action=action,
        actor_id=actor_id,
        organization_id=organization_id,
        object_type=type(obj).__name__ if obj is not None else None,
        object_id=getattr(obj, "id", None),
        ip=client_ip(),
        details={k: v for k, v in details.items() if v is not None},
    )
    if org_ids is not None:
        orgs = set(org_ids)
    elif event.object_type == "User":
        orgs = _orgs_of_person(event.object_id)
    elif obj is None:
        orgs = _orgs_of_person(actor_id)
    else:
        orgs = set()
    if organization_id is not None:
        orgs.add(organization_id)
    routine = action in ROUTINE_ACTIONS
    event.org_links = [AuditEventOrg(organization_id=o, routine=routine) for o in sorted(orgs)]
    db.session.add(event)
    return event
