"""API fixtures: bearer tokens for the world's people and a small JSON client."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from lms.accounts import services
from lms.accounts.models import User
from lms.core.audit import AuditEvent
from lms.extensions import db
from lms.orgs.models import Membership

CYRILLIC = re.compile(r"[А-Яа-яЁё]")


@pytest.fixture
def token_for(world):
    """``token_for(user, **kw)`` → the raw token of a new personal access token (committed)."""

    def make(user, **kwargs) -> str:
        _row, raw = services.create_api_token(user, "test", by=None, **kwargs)
        db.session.commit()
        return raw

    return make


@pytest.fixture
def auth(token_for):
    """``auth(user)`` → headers carrying a fresh bearer token for ``user``; ``auth(None)`` → no headers."""

    def make(user) -> dict[str, str]:
        if user is None:
            return {}
        return {"Authorization": f"Bearer {token_for(user)}"}

    return make


def counts() -> dict[str, int]:
    """Rows a refused write must not have added to (people, roles, audit events)."""
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (User, Membership, AuditEvent)}


def membership_of(user, org) -> Membership:
    return db.session.scalar(select(Membership).where(
        Membership.user_id == user.id, Membership.organization_id == org.id))


def assert_error(response, status: int, field: str | None = None, *, russian: bool = True) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == status
    if field is not None:
        assert error["field"] == field, error
        assert field in error["fields"], error
    if russian:
        assert CYRILLIC.search(error["message"]), error
        for messages in error["fields"].values():
            assert all(CYRILLIC.search(m) for m in messages), error
    return error
