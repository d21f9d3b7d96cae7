"""Migrations: empty → head → base → head, and the models match the migrations."""

from __future__ import annotations

import os
import tempfile

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from lms.extensions import db
from tests.conftest import test_config as app_config


@pytest.fixture
def fresh_app():
    """An app on its own database (SQLite file, or the same PostgreSQL database when testing on it)."""
    from lms import create_app

    url = os.environ.get("LMS_TEST_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/mig.sqlite3"
    app = create_app(app_config(SQLALCHEMY_DATABASE_URI=url))
    yield app
    with app.app_context():
        upgrade()  # leave the shared database at head for the rest of the suite
        db.engine.dispose()


def tables(app) -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_downgrade_upgrade(fresh_app):
    with fresh_app.app_context():
        upgrade()
        assert {"users", "organizations", "memberships", "audit_events"} <= tables(fresh_app)
        downgrade(revision="base")
        assert tables(fresh_app) == set()
        upgrade()
        assert {"users", "organizations", "memberships", "audit_events"} <= tables(fresh_app)


def test_models_match_migrations(fresh_app):
    with fresh_app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(ctx, db.metadata)
        assert diff == [], f"models differ from migrations: {diff}"
