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
