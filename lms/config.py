"""Configuration from environment variables, with embedded defaults.

Every setting a deployment may change is read from an ``LMS_*`` variable here and nowhere else,
so the README's table of variables and this module stay one list.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a whole number, got {raw!r}") from exc


def _env_bool(name: str, default: bool = False) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on", "да"}


def instance_path() -> Path:
    return Path(_env("LMS_INSTANCE_PATH", str(PROJECT_ROOT / "instance"))).resolve()


def _secret_key(instance: Path) -> str:
    """LMS_SECRET_KEY, or a key generated once and kept in the instance folder."""
    key = _env("LMS_SECRET_KEY")
    if key:
        return key
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Created with 0600 so the key is not readable by other local users.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def load_config() -> dict:
    instance = instance_path()
    instance.mkdir(parents=True, exist_ok=True)
    idle_minutes = _env_int("LMS_SESSION_IDLE_MINUTES", 240)
    absolute_hours = _env_int("LMS_SESSION_ABSOLUTE_HOURS", 12)
    config = {
        "SECRET_KEY": _secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": _env("LMS_DATABASE_URL", f"sqlite:///{instance / 'lms.sqlite3'}"),
        "STORAGE_URL": _env("LMS_STORAGE_URL", f"file://{instance / 'storage'}"),
        "SOCKETIO_MESSAGE_QUEUE": _env("LMS_SOCKETIO_MESSAGE_QUEUE"),
        "SITE_NAME": _env("LMS_SITE_NAME", "Сетевое образование"),
        "BASE_URL": _env("LMS_BASE_URL"),
        "HOST": _env("LMS_HOST", "127.0.0.1"),
        "PORT": _env_int("LMS_PORT", 5000),
        "PROXY_FIX": _env_int("LMS_PROXY_FIX", 0),
        "DEFAULT_TIMEZONE": _env("LMS_DEFAULT_TIMEZONE", "Europe/Moscow"),
        "DEMO_PASSWORD": _env("LMS_DEMO_PASSWORD", "demo-lms-2026"),
        # Mail: without LMS_MAIL_SERVER messages are kept in the outbox table and the log.
        "MAIL_SERVER": _env("LMS_MAIL_SERVER"),
        "MAIL_PORT": _env_int("LMS_MAIL_PORT", 587),
        "MAIL_USERNAME": _env("LMS_MAIL_USERNAME"),
        "MAIL_PASSWORD": _env("LMS_MAIL_PASSWORD"),
        "MAIL_USE_TLS": _env_bool("LMS_MAIL_USE_TLS", True),
        "MAIL_USE_SSL": _env_bool("LMS_MAIL_USE_SSL", False),
        "MAIL_FROM": _env("LMS_MAIL_FROM", "lms@localhost"),
        # Sessions
        "SESSION_IDLE_SECONDS": idle_minutes * 60,
        "SESSION_ABSOLUTE_SECONDS": absolute_hours * 3600,
        "PERMANENT_SESSION_LIFETIME": absolute_hours * 3600,
        # The cookie is set at login to live as long as the absolute timeout allows; the idle timeout is
        # enforced on the server-side row. Re-signing an unchanged cookie on every response buys nothing.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "SESSION_COOKIE_NAME": "lms_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _env_bool("LMS_SESSION_COOKIE_SECURE", False),
        # Login throttling: failures counted per account and per client address in a sliding window.
        "LOGIN_ACCOUNT_MAX_FAILURES": _env_int("LMS_LOGIN_ACCOUNT_MAX_FAILURES", 10),
        "LOGIN_ACCOUNT_WINDOW_SECONDS": _env_int("LMS_LOGIN_ACCOUNT_WINDOW_SECONDS", 900),
        "LOGIN_ADDRESS_MAX_FAILURES": _env_int("LMS_LOGIN_ADDRESS_MAX_FAILURES", 200),
        "LOGIN_ADDRESS_WINDOW_SECONDS": _env_int("LMS_LOGIN_ADDRESS_WINDOW_SECONDS", 900),
        "PASSWORD_RESET_HOURS": _env_int("LMS_PASSWORD_RESET_HOURS", 2),
        # Argon2id parameters (RFC 9106 low-memory profile by default).
        "ARGON2_TIME_COST": _env_int("LMS_ARGON2_TIME_COST", 3),
        "ARGON2_MEMORY_COST": _env_int("LMS_ARGON2_MEMORY_COST", 65536),
        "ARGON2_PARALLELISM": _env_int("LMS_ARGON2_PARALLELISM", 4),
        # Forms: the CSRF token lives as long as the session, so a 4-hour olympiad round
        # never ends with a rejected form.
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": _env_int("LMS_MAX_UPLOAD_MB", 200) * 1024 * 1024,
        # Ordinary requests of one process running at once (lms.core.admission; 0: no limit).
        "MAX_ACTIVE_REQUESTS": _env_int("LMS_MAX_ACTIVE_REQUESTS", 4),
        "IMPORT_MAX_ROWS": _env_int("LMS_IMPORT_MAX_ROWS", 20000),
        # i18n
        "BABEL_DEFAULT_LOCALE": "ru",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "LANGUAGES": {"ru": "Русский", "en": "English"},
        # API (flask-smorest)
        "API_TITLE": "LMS API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "API_PAGE_SIZE_MAX": 500,
        # In-process background work (imports, mail); tests switch it to inline.
        "BACKGROUND_INLINE": False,
        "BENCH_ROUTES": _env_bool("LMS_BENCH_ROUTES", False),
    }
    config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(config["SQLALCHEMY_DATABASE_URI"])
    return config


def engine_options(url: str) -> dict:
    """Connection pool sized for one gunicorn process with many threads.

    SQLAlchemy's default pool keeps 5 connections; with more requests at once the extra connections
    are opened and closed on every request (a new PostgreSQL backend each time, or SQLite's PRAGMAs).
    PostgreSQL connections that sat idle are checked before use (``lms.core.db.ping_idle_connections``:
    the server may have restarted); a SQLite file cannot go away under us.
    """
    options = {
        "pool_size": _env_int("LMS_DB_POOL_SIZE", 16),
        "max_overflow": _env_int("LMS_DB_MAX_OVERFLOW", 48),
        "pool_recycle": 3600,
    }
    if url.startswith("sqlite") and (":memory:" in url or url.rstrip("/") == "sqlite:"):
        return {}
    return options
