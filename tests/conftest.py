"""Shared fixtures: one migrated database per run, each test inside a rolled-back transaction.

LMS_TEST_DATABASE_URL selects the database (PostgreSQL in CI's second pass); without it a
temporary SQLite file is used. Fixtures:
- ``app``, ``client`` (CSRF tokens filled in automatically; ``csrf=False`` to leave them out)
- ``db_session``: the transaction every test runs in
- ``world``: two municipalities with organizations and people of every role
- ``login_as(client, user)``
"""

from __future__ import annotations

import contextvars
import os
import secrets
import tempfile
from pathlib import Path

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import text

from tests.factories import World, build_world

TEST_PASSWORD = "Test-pass-2026"
_tmp = Path(tempfile.mkdtemp(prefix="lms-test-"))
os.environ.setdefault("LMS_INSTANCE_PATH", str(_tmp / "instance"))


def database_url() -> str:
    return os.environ.get("LMS_TEST_DATABASE_URL") or f"sqlite:///{_tmp / 'test.sqlite3'}"


def test_config(**extra) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url(),
        "STORAGE_URL": f"file://{_tmp / 'storage'}",
        "SERVER_NAME": "lms.test",
        "BACKGROUND_INLINE": True,
        # Cheap hashing keeps the suite fast; production parameters are tested separately.
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
        "ARGON2_PARALLELISM": 1,
        "MAIL_SERVER": None,
    }
    config.update(extra)
    return config


class Client(FlaskClient):
    """A test client that sends a valid CSRF token with every form it posts, as a browser would.

    Each request runs in a fresh context, so it gets its own application context, ``g`` and
    database session, exactly as in production (otherwise Flask reuses the test's app context
    and ``g`` — with the logged-in user cached in it — leaks from one request into the next).
    """

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(self._open, *args, **kwargs)
        if has_app_context():
            from lms.extensions import db

            db.session.expire_all()  # the test's own objects see what the request committed
        return response

    def _open(self, *args, **kwargs):
        csrf = kwargs.pop("csrf", True)
        method = (kwargs.get("method") or "GET").upper()
        path = args[0] if args and isinstance(args[0], str) else kwargs.get("path", "")
        if csrf and method in {"POST", "PUT", "PATCH", "DELETE"} and not str(path).startswith("/api/") \
                and "json" not in kwargs:
            data = kwargs.get("data")
            if data is None:
                data = {}
            if isinstance(data, dict) and "csrf_token" not in data:
                data = dict(data)
                data["csrf_token"] = self.csrf_token()
                kwargs["data"] = data
        return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        with self.session_transaction() as sess:
            raw = sess.setdefault("csrf_token", secrets.token_hex(20))
        return URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token").dumps(raw)


def _reset_database(app) -> None:
    from flask_migrate import upgrade

    from lms.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def app():
    from lms import create_app

    application = create_app(test_config())
    application.test_client_class = Client
    _reset_database(application)
    return application


@pytest.fixture
def db_session(app):
    """Every test runs in one outer transaction that is rolled back; commits become savepoints."""
    from lms.extensions import db

    with app.app_context():
        engines = db.engines  # Flask-SQLAlchemy resolves binds from this map, not from Session(bind=…)
        engine = engines[None]
        connection = engine.connect()
        outer = connection.begin()
        if connection.dialect.name == "sqlite":
            # Reads otherwise run outside transactions (lms.core.db): hold one open for the test.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        original = db.session
        engines[None] = connection
        db.session = db._make_scoped_session({"join_transaction_mode": "create_savepoint"})
        try:
            yield db.session
        finally:
            # Rolled-back ids come again in the next test: versions cached under them would lie.
            from lms.core.pagecache import clear_all

            clear_all()
            engines[None] = engine
            try:
                db.session.remove()
            finally:
                db.session = original
                outer.rollback()
                connection.close()


@pytest.fixture(autouse=True)
def no_unhandled_errors(request):
    """Fail any test during which the server answered with an unhandled error (a 500)."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    errors = app.extensions.setdefault("lms_unhandled_errors", __import__("collections").deque(maxlen=20))
    errors.clear()
    yield
    if errors and not request.node.get_closest_marker("allow_500"):
        pytest.fail("the server raised unhandled errors: " + "; ".join(errors), pytrace=False)


@pytest.fixture
def client(app, db_session):
    return app.test_client()


@pytest.fixture
def world(app, db_session) -> World:
    return build_world(TEST_PASSWORD)


def login(client: Client, username: str, password: str = TEST_PASSWORD):
    return client.post("/login", data={"username": username, "password": password})


@pytest.fixture
def login_as():
    def _login(client: Client, user, password: str = TEST_PASSWORD):
        response = login(client, user.username if hasattr(user, "username") else user, password)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return response

    return _login
