"""SQL statements and in-process time of one logged-in dashboard request: ``python -m bench.sqlcount``.

Runs the application in this process (``create_app`` with the environment's database), logs in as
the demo coordinator through the test client, and counts statements with a SQLAlchemy
``before_cursor_execute`` listener, so a regression to one query per row shows up as a number.
It also times the dashboard and the bare route in-process (no HTTP server) and the part of the
dashboard spent executing SQL. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from bench import csrf_token


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--username", default="coordinator")
    p.add_argument("--password", required=True)
    p.add_argument("--repeat", type=int, default=10, help="in-process requests to time")
    return p.parse_args(argv)


def _login(client, username: str, password: str) -> None:
    page = client.get("/login")
    resp = client.post("/login", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                       "username": username, "password": password, "next": ""})
    if resp.status_code != 302:
        raise SystemExit(f"login as {username} failed: HTTP {resp.status_code}")


def _timed(client, path: str, repeat: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of this process (CPU excludes the PostgreSQL server's work)."""
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        resp = client.get(path)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        if resp.status_code != 200:
            raise SystemExit(f"GET {path}: HTTP {resp.status_code}")
    return round(statistics.median(wall) * 1000, 2), round(statistics.median(cpu) * 1000, 2)


def measure(args: argparse.Namespace) -> dict:
    from sqlalchemy import event

    from lms import create_app
    from lms.extensions import db

    app = create_app()
    client = app.test_client()
    _login(client, args.username, args.password)
    # The first request after login shows the login message, so it is rendered but not cached; the
    # second renders and caches the page. Count the third: the steady state the load generator sees.
    client.get("/")
    client.get("/")

    statements: list[tuple[str, float]] = []
    started: list[float] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        started.append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):
        statements.append((" ".join(statement.split())[:140], time.perf_counter() - started.pop()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    resp = client.get("/")
    event.remove(engine, "before_cursor_execute", before)
    event.remove(engine, "after_cursor_execute", after)
    if resp.status_code != 200:
        raise SystemExit(f"dashboard: HTTP {resp.status_code}")
    dashboard_ms, dashboard_cpu_ms = _timed(client, "/", args.repeat)
    bare_ms, bare_cpu_ms = _timed(app.test_client(), "/_bench/bare", args.repeat * 10)
    # SQLite's BEGIN IMMEDIATE is listed but not counted, so both backends count the same queries.
    return {
        "backend": engine.dialect.name,
        "statements": sum(1 for s, _t in statements if not s.startswith("BEGIN")),
        # Time inside cursor.execute; SQLite steps through rows later, in fetch, so it is a lower bound.
        "sql_execute_ms": round(sum(t for _s, t in statements) * 1000, 2),
        "statement_list": [[s, round(t * 1000, 3)] for s, t in statements],
        "dashboard_ms": dashboard_ms, "dashboard_cpu_ms": dashboard_cpu_ms,
        "bare_ms": bare_ms, "bare_cpu_ms": bare_cpu_ms,
    }


def main(argv: list[str] | None = None) -> int:
    result = measure(_args(argv))
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
