"""Declarative base, UTC time type, timestamps and database engine tuning.

Times are stored in UTC and come back as aware ``datetime`` objects on every backend.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime. SQLite keeps naive UTC text; PostgreSQL a ``timestamptz``."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use lms.core.db.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def _upper(value):
    return value.upper() if isinstance(value, str) else value


_READS = ("SELECT", "PRAGMA", "EXPLAIN", "VALUES")
_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "RELEASE", "END")
_DML = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


def _is_write(statement: str) -> bool:
    head = statement.lstrip()[:10].upper()
    if head.startswith(_CONTROL):
        return False
    if head.startswith("WITH"):
        return bool(_DML.search(statement))
    return not head.startswith(_READS)


def configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, Unicode case folding, and writes that wait instead of failing.

    pysqlite is put in autocommit mode and the transaction is managed here:
    - reads run outside any transaction, each statement on the latest committed data, so readers
      never hold a lock and never block a writer (as PostgreSQL's READ COMMITTED);
    - the first write of a transaction first issues ``BEGIN IMMEDIATE``, which takes the write
      lock up front, waiting up to ``busy_timeout`` for another writer to finish. A deferred
      transaction that read and then writes can fail at once with "database is locked" when
      another connection wrote in between (the busy handler cannot help that upgrade); this
      never does. Everything from the first write to COMMIT/ROLLBACK is one transaction.
    As on PostgreSQL, a read-then-write must not assume nothing changed in between: use an
    atomic UPDATE or rely on a unique constraint (an IntegrityError becomes a 409 answer).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # autocommit; BEGIN is issued below
        # SQLite's lower()/upper() fold only ASCII; names here are Cyrillic. Replace them with
        # Unicode-aware versions so case-insensitive search behaves as on PostgreSQL.
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
        dbapi_connection.create_function("upper", 1, _upper, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "before_cursor_execute")
    def _begin_at_first_write(conn, cursor, statement, parameters, context, executemany):
        if cursor.connection.in_transaction or not conn.in_transaction():
            return
        if _is_write(statement):
            cursor.execute("BEGIN IMMEDIATE")


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        configure_sqlite(engine)
