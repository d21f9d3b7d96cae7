"""Declarative base, UTC time type, timestamps and database engine tuning.

Times are stored in UTC and come back as aware ``datetime`` objects on every backend.
"""

from __future__ import annotations

import functools
import re
import threading
import time
import weakref
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError
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


_READS = ("SELECT", "PRAGMA", "EXPLAIN", "VALUES", "SHOW")
_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "RELEASE", "END")
_DML = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
#: Reads that only mean something inside a transaction: row locks, transaction-scoped advisory locks.
_TRANSACTIONAL_READ = re.compile(r"\bFOR\s+(NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)\b|\bpg_advisory_xact_lock",
                                 re.IGNORECASE)


@functools.lru_cache(maxsize=2048)  # statements come from SQLAlchemy's compiled cache: few distinct texts
def _is_write(statement: str) -> bool:
    """Whether a statement must run inside the transaction (see ``begin_at_first_write``)."""
    head = statement.lstrip()[:10].upper()
    if head.startswith(_CONTROL):
        return False
    if _TRANSACTIONAL_READ.search(statement):
        return True
    if head.startswith("WITH"):
        return bool(_DML.search(statement))
    return not head.startswith(_READS)


def transaction_open(connection) -> bool:
    """Whether ``connection``'s database connection is inside a transaction (this request wrote before, or a
    test holds one open): reads alone never open one (``begin_at_first_write``)."""
    dbapi_connection = connection.connection.dbapi_connection
    if connection.dialect.name == "sqlite":
        return dbapi_connection.in_transaction
    from psycopg.pq import TransactionStatus

    return dbapi_connection.info.transaction_status != TransactionStatus.IDLE


class DriverStatement:
    """A statement compiled once per dialect and run straight on the DBAPI cursor, its parameters and results
    still converted by their types (JSON, UTC datetimes). For the hottest write (a quiz answer: one UPDATE …
    RETURNING), SQLAlchemy's execution path — the compiled-cache lookup, the execution context, the result
    object — cost the worker more than the rest of the save. Run it with ``alone``."""

    def __init__(self, statement) -> None:
        self.statement = statement
        self._by_dialect: dict[str, tuple] = {}

    def _compiled(self, dialect) -> tuple:
        known = self._by_dialect.get(dialect.name)
        if known is None:
            compiled = self.statement.compile(dialect=dialect)
            values = {name: value for name, value in compiled.construct_params(_check=False).items()
                      if value is not None}  # the statement's own values; the caller gives the rest
            binds = tuple((name, processor) for name, bind in compiled.binds.items()
                          if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None)
            results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                            for column in self.statement.exported_columns)
            order = tuple(compiled.positiontup) if compiled.positional else None
            known = self._by_dialect[dialect.name] = (compiled.string, values, binds, results, order)
        return known

    def first(self, dialect, dbapi_connection, params: dict) -> tuple | None:
        """The first row the statement returns (None without one); the statement is run to its end."""
        sql, values, binds, results, order = self._compiled(dialect)
        params = {**values, **params}
        for name, processor in binds:
            params[name] = processor(params[name])
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(sql, params if order is None else tuple(params[name] for name in order))
            rows = cursor.fetchall() if cursor.description else ()  # SQLite ends a statement when it is read out
        except dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(sql, params, exc, dialect.loaded_dbapi.Error, dialect=dialect,
                                      connection_invalidated=dialect.is_disconnect(exc, dbapi_connection, cursor),
                                      ) from exc
        finally:
            cursor.close()
        if not rows:
            return None
        return tuple(value if processor is None else processor(value)
                     for value, processor in zip(rows[0], results, strict=True))


#: SQLite engine → the lock its writes take in turn (``configure_sqlite``); an engine disposed of is forgotten.
_WRITERS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()


@contextmanager
def alone(db):
    """Yields ``first(statement, params)`` for writes each a transaction by itself (a ``DriverStatement`` whose
    own locks are all it needs), committed as they run: straight on a pooled connection's driver, in autocommit
    (on PostgreSQL without the BEGIN and COMMIT round trips; on SQLite holding this process's write lock, as a
    transaction does), with no ORM session made for them. ``db``: the Flask-SQLAlchemy extension. Bound to a
    single connection (the tests' outer transaction), they run in its session's transaction."""
    bind = db.engines[None]
    dialect = bind.dialect
    if not isinstance(bind, Engine):
        dbapi_connection = db.session.connection().connection.dbapi_connection
        yield lambda statement, params: statement.first(dialect, dbapi_connection, params)
        db.session.commit()
        return
    pooled = bind.raw_connection()
    writer = _WRITERS.get(bind)
    locked = writer is not None and writer.acquire(timeout=60)  # else SQLite's busy handler waits
    try:
        dbapi_connection = pooled.driver_connection
        yield lambda statement, params: statement.first(dialect, dbapi_connection, params)
    except DBAPIError as exc:
        if exc.connection_invalidated:
            pooled.invalidate(exc)
        raise
    finally:
        pooled.close()
        if locked:
            writer.release()


def begin_at_first_write(engine: Engine, begin_sql: str, in_transaction, before_begin=None) -> None:
    """Run reads outside any transaction and open the transaction at the first write.

    The DBAPI connection is in autocommit mode (set on connect by the caller). A read runs on the
    latest committed data and holds nothing; the first write — or a locking read such as
    ``SELECT … FOR UPDATE`` — first issues ``begin_sql``; everything from there to COMMIT/ROLLBACK is
    one transaction, which SQLAlchemy ends as usual. ``in_transaction(dbapi_connection)`` says whether
    the database connection is already inside one."""

    @event.listens_for(engine, "before_cursor_execute")
    def _begin(conn, cursor, statement, parameters, context, executemany):
        if not conn.in_transaction() or in_transaction(cursor.connection):
            return
        if _is_write(statement):
            if before_begin is not None:
                before_begin(conn)
            cursor.execute(begin_sql)


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

    # The threads of one process queue for SQLite's write lock on a Python lock instead: waiting in SQLite's
    # busy handler means sleeping in growing steps (up to 100 ms) and polling, so under concurrent writes
    # (quiz answers saved on every change) most of the time went to sleeping with the lock free. Held from
    # BEGIN IMMEDIATE to COMMIT/ROLLBACK, exactly like SQLite's own lock; other processes still meet
    # SQLite's lock and its busy handler.
    writer = _WRITERS[engine] = threading.Lock()

    def _take(conn) -> None:
        if writer.acquire(timeout=60):
            conn.info["lms_writer"] = True

    def _give(info) -> None:
        if info.pop("lms_writer", False):
            writer.release()

    event.listen(engine, "commit", lambda conn: _give(conn.info))
    event.listen(engine, "rollback", lambda conn: _give(conn.info))
    # A connection returned to the pool mid-transaction is rolled back by the pool, not through the events above.
    event.listen(engine, "checkin", lambda _dbapi, record: _give(record.info))
    event.listen(engine, "reset", lambda _dbapi, record, _state: _give(record.info))

    begin_at_first_write(engine, "BEGIN IMMEDIATE", lambda dbapi_connection: dbapi_connection.in_transaction,
                         before_begin=_take)


def configure_psycopg(engine: Engine) -> None:
    """PostgreSQL through psycopg, the same way as SQLite: reads outside transactions, a transaction
    from the first write on. Under READ COMMITTED every statement sees the latest committed data
    anyway, so reads lose nothing by running alone, and a page that only reads saves the BEGIN and
    ROLLBACK round trips."""
    from psycopg.pq import TransactionStatus

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.autocommit = True

    begin_at_first_write(engine, "BEGIN", lambda dbapi_connection:
                         dbapi_connection.info.transaction_status != TransactionStatus.IDLE)


#: A pooled connection unused for longer than this is pinged before it is handed out.
PING_AFTER_IDLE_SECONDS = 10.0


def ping_idle_connections(engine: Engine, idle_seconds: float = PING_AFTER_IDLE_SECONDS) -> None:
    """Check a connection before use only when it has sat idle in the pool.

    ``pool_pre_ping`` pings on every checkout: one more round trip on every request. A connection in
    steady use has just proved itself; one that sat idle may have been closed by a server restart or
    a firewall, so that one is pinged, and a dead one is replaced before the request sees it. If the
    server restarts while connections are busy, SQLAlchemy invalidates the whole pool on the first
    disconnect error, so the next checkouts open fresh connections."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record):
        record.info["lms_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, record, _proxy):
        since = record.info.get("lms_idle_since")
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # noqa: BLE001 - any failure means the connection is gone
            raise DisconnectionError(str(exc)) from exc
        if alive is False:
            raise DisconnectionError("connection did not answer the ping")


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        configure_sqlite(engine)
        return
    if engine.dialect.driver == "psycopg":
        configure_psycopg(engine)
    ping_idle_connections(engine)
