"""UTC storage of times, and SQLite writes that wait for each other instead of failing."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, text

from lms.core.audit import AuditEvent
from lms.core.db import configure_engine
from lms.extensions import db


def test_times_come_back_aware_utc(world):
    moscow = timezone(timedelta(hours=3))
    event = AuditEvent(action="x", at=datetime(2026, 3, 1, 12, 0, tzinfo=moscow), details={})
    db.session.add(event)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(AuditEvent, event.id)
    assert stored.at == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert stored.at.tzinfo is not None


def test_naive_times_are_refused(world):
    db.session.add(AuditEvent(action="x", at=datetime(2026, 3, 1, 12, 0), details={}))
    with pytest.raises(Exception, match="naive"):
        db.session.flush()
    db.session.rollback()


def _sqlite_engine(path):
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})
    configure_engine(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (0)"))
    return engine


def test_sqlite_concurrent_writers_never_hit_locked(tmp_path):
    """Transactions that read, then write, from several threads: none fails with "database is locked"."""
    engine = _sqlite_engine(tmp_path / "c.db")
    errors: list[Exception] = []

    def worker():
        try:
            for _ in range(40):
                with engine.begin() as conn:
                    conn.execute(text("SELECT n FROM t")).scalar()
                    conn.execute(text("UPDATE t SET n = n + 1"))
                    conn.execute(text("SELECT n FROM t")).scalar()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM t")).scalar() == 160
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_sqlite_readers_do_not_block_a_writer(tmp_path):
    """A long read-only request holds no lock: a writer in another connection goes straight through."""
    engine = _sqlite_engine(tmp_path / "r.db")
    with engine.begin() as reader:
        reader.execute(text("SELECT n FROM t")).scalar()
        done = threading.Event()

        def write():
            with engine.begin() as conn:
                conn.execute(text("UPDATE t SET n = 7"))
            done.set()

        threading.Thread(target=write).start()
        assert done.wait(5), "the writer waited for a reader"
        assert reader.execute(text("SELECT n FROM t")).scalar() == 7  # reads see committed data


def test_sqlite_write_transaction_is_atomic(tmp_path):
    engine = _sqlite_engine(tmp_path / "a.db")
    with pytest.raises(RuntimeError), engine.begin() as conn:
        conn.execute(text("UPDATE t SET n = 5"))
        conn.execute(text("INSERT INTO t VALUES (9)"))
        raise RuntimeError("fail after two writes")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*), max(n) FROM t")).one() == (1, 0)


def test_case_insensitive_search_works_for_cyrillic(client, world, login_as):
    login_as(client, world.admin_a)
    html = client.get("/people?q=учеников").get_data(as_text=True)
    assert "Учеников" in html
    html = client.get("/people?q=УЧЕНИКОВ").get_data(as_text=True)
    assert "Учеников" in html


def test_an_idle_connection_killed_by_the_server_is_replaced_before_use():
    """PostgreSQL restarts or a firewall drop idle connections: the next request must not fail."""
    from tests.conftest import database_url

    url = database_url()
    if url.startswith("sqlite"):
        pytest.skip("a SQLite file cannot drop a connection (PostgreSQL pass only)")
    from lms.core.db import ping_idle_connections

    engine = create_engine(url, pool_size=1, max_overflow=0)
    ping_idle_connections(engine, idle_seconds=0)
    other = create_engine(url, poolclass=None)
    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        with other.connect() as killer:
            killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            killer.commit()
        with engine.connect() as conn:  # pinged, found dead, replaced: no error reaches the caller
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != pid
    finally:
        engine.dispose()
        other.dispose()


def test_a_connection_in_steady_use_is_not_pinged(tmp_path):
    """The ping costs a round trip; a connection returned a moment ago is handed out as it is."""
    from lms.core.db import ping_idle_connections

    engine = create_engine(f"sqlite:///{tmp_path / 'ping.sqlite3'}", pool_size=1, max_overflow=0)
    pings = []
    engine.dialect.do_ping = lambda dbapi_connection: pings.append(1) or True
    ping_idle_connections(engine, idle_seconds=3600)
    for _ in range(3):
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    assert pings == []
    ping_idle_connections(engine, idle_seconds=0)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert pings
    engine.dispose()


def test_statements_that_need_the_transaction():
    from lms.core.db import _is_write

    assert not _is_write("SELECT id FROM users WHERE id = 1")
    assert not _is_write("WITH s AS (SELECT 1) SELECT * FROM s")
    assert not _is_write("SHOW standard_conforming_strings")
    assert _is_write("UPDATE counters SET value = value + 1 RETURNING value")
    assert _is_write("WITH x AS (DELETE FROM t RETURNING id) SELECT count(*) FROM x")
    assert _is_write("SELECT value FROM counters WHERE id = 1 FOR UPDATE")
    assert _is_write("SELECT value FROM counters WHERE id = 1 FOR NO KEY UPDATE")
    assert _is_write("SELECT pg_advisory_xact_lock(42)")
    assert _is_write("SAVEPOINT sa_savepoint_1")
    assert not _is_write("RELEASE SAVEPOINT sa_savepoint_1")


def test_postgres_reads_run_alone_and_writes_in_one_transaction():
    from tests.conftest import database_url

    url = database_url()
    if url.startswith("sqlite"):
        pytest.skip("PostgreSQL pass only (SQLite: the tests above)")
    from psycopg.pq import TransactionStatus

    engine = create_engine(url)
    configure_engine(engine)
    try:
        with engine.connect() as conn:
            status = lambda: conn.connection.dbapi_connection.info.transaction_status  # noqa: E731
            conn.execute(text("SELECT 1"))
            assert status() == TransactionStatus.IDLE  # no BEGIN for a read
            conn.execute(text("CREATE TEMP TABLE lms_probe (x int)"))
            assert status() == TransactionStatus.INTRANS
            conn.execute(text("INSERT INTO lms_probe VALUES (1)"))
            conn.rollback()  # the table and its row go together: one transaction from the first write
            assert conn.execute(text("SELECT to_regclass('pg_temp.lms_probe')")).scalar() is None
    finally:
        engine.dispose()


class _Extension:
    """What ``db.alone`` reads of Flask-SQLAlchemy's extension: its engines."""

    def __init__(self, engine) -> None:
        self.engines = {None: engine}


def test_a_driver_statement_converts_as_sqlalchemy_does_and_commits_by_itself(tmp_path):
    """``db.alone`` with a ``DriverStatement`` (a quiz answer's save): parameters and results converted by their
    types, the statement's own values included; each statement committed by itself on a pooled connection; a
    driver's error raised as SQLAlchemy's, changing nothing; SQLite's write lock given back."""
    from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, bindparam, insert, select, update
    from sqlalchemy.exc import IntegrityError

    from lms.core.db import _WRITERS, DriverStatement, UTCDateTime, alone
    from tests.conftest import database_url

    url = database_url()
    engine = _sqlite_engine(tmp_path / "driver.sqlite3") if url.startswith("sqlite") else create_engine(url)
    if not url.startswith("sqlite"):
        configure_engine(engine)
    table = Table("lms_driver_probe", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime()),
                  Column("data", JSON), Column("kind", String(10)))
    table.drop(engine, checkfirst=True)
    table.create(engine)
    try:
        with engine.begin() as conn:
            conn.execute(insert(table), [{"id": 1, "kind": "essay"}, {"id": 2, "kind": "choice"}])
        save = DriverStatement(update(table).where(table.c.id == bindparam("pk"), table.c.kind == "essay")
                               .values(at=bindparam("moment"), data=bindparam("answer")).returning(table.c.at, table.c.data))
        moment = datetime(2026, 11, 23, 9, 30, tzinfo=timezone(timedelta(hours=3)))
        with alone(_Extension(engine)) as first:
            row = first(save, {"pk": 1, "moment": moment, "answer": {"": "Ньютон", "files": [1, 2]}})
            assert first(save, {"pk": 2, "moment": moment, "answer": {}}) is None  # not an essay: no row
        assert row == (moment, {"": "Ньютон", "files": [1, 2]}) and row[0].tzinfo == UTC
        with engine.connect() as other:  # committed by itself
            assert other.execute(select(table.c.data).where(table.c.id == 1)).scalar() == {"": "Ньютон", "files": [1, 2]}
            assert other.execute(select(table.c.at).where(table.c.id == 2)).scalar() is None

        add = DriverStatement(insert(table).values(id=bindparam("pk"), kind="essay"))
        with pytest.raises(IntegrityError), alone(_Extension(engine)) as first:
            first(add, {"pk": 3})
            first(add, {"pk": 1})  # taken
        with engine.connect() as other:
            assert other.execute(select(table.c.id).order_by(table.c.id)).scalars().all() == [1, 2, 3]
        if engine.dialect.name == "sqlite":
            assert _WRITERS[engine].acquire(blocking=False)
            _WRITERS[engine].release()
    finally:
        table.drop(engine)
        engine.dispose()
