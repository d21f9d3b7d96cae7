"""A person's calendar: events every domain contributes (course runs and deadlines now; webinars and
olympiad rounds later) through a provider registry, shown on a page and published as an iCalendar feed
under a private token that can be renewed."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.db import utcnow
from lms.extensions import db


class CalendarFeed(db.Model):
    """The private address of a person's iCalendar feed (only its hash is stored)."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True)
class Event:
    uid: str
    title: str
    start: datetime | date
    #: inclusive (the last day of a day event)
    end: datetime | date | None = None
    link: str = ""
    description: str = ""


Provider = Callable[[object, datetime, datetime], list[Event]]
_providers: list[Provider] = []


def calendar_provider(fn: Provider) -> Provider:
    """Register ``fn(user, start, end) -> [Event]``; each domain adds its own events."""
    _providers.append(fn)
    return fn


def events_for(user, start: datetime, end: datetime) -> list[Event]:
    events = [e for provider in _providers for e in provider(user, start, end)]
    return sorted(events, key=lambda e: _as_datetime(e.start))


def _as_datetime(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_feed_token(user) -> str:
    """A new private token for the user's feed; the old address stops working."""
    token = secrets.token_urlsafe(24)
    row = db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id))
    if row is None:
        row = CalendarFeed(user_id=user.id)
        db.session.add(row)
    row.token_hash, row.created_at = _hash(token), utcnow()
    db.session.flush()
    return token


def user_for_token(token: str):
    from lms.accounts.models import User

    if not token or len(token) > 100:
        return None
    row = db.session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == _hash(token)))
    user = db.session.get(User, row.user_id) if row else None
    return user if user is not None and user.is_active else None


def has_feed(user) -> bool:
    return db.session.scalar(select(CalendarFeed.id).where(CalendarFeed.user_id == user.id)) is not None


# --- iCalendar (RFC 5545) ------------------------------------------------------------------------

def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (never inside a character)."""
    out, current = [], ""
    for char in line:
        if len((current + char).encode()) > 75:
            out.append(current)
            current = " " + char
        else:
            current += char
    out.append(current)
    return "\r\n".join(out)


def _stamp(value: datetime | date) -> str:
    if isinstance(value, datetime):
        return ";VALUE=DATE-TIME:" + value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return ";VALUE=DATE:" + value.strftime("%Y%m%d")


def to_ical(events: list[Event], *, name: str, base_url: str) -> str:
    now = utcnow().strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//lms//calendar//RU", "CALSCALE:GREGORIAN",
             f"X-WR-CALNAME:{_escape(name)}"]
    for e in events:
        lines += ["BEGIN:VEVENT", f"UID:{e.uid}", f"DTSTAMP:{now}", f"DTSTART{_stamp(e.start)}"]
        if e.end is not None:  # a day event's end is inclusive here, exclusive in iCalendar
            end = e.end if isinstance(e.end, datetime) else e.end + timedelta(days=1)
            lines.append(f"DTEND{_stamp(end)}")
        lines.append(f"SUMMARY:{_escape(e.title)}")
        if e.description:
            lines.append(f"DESCRIPTION:{_escape(e.description)}")
        if e.link:
            lines.append(f"URL:{base_url.rstrip('/')}{e.link}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
