"""Dashboard throughput against a bare Flask route, on SQLite and PostgreSQL: ``python -m bench.dashboard``.

For each backend: a fresh database, ``flask db upgrade``, ``flask demo load`` and a city-sized data set
(``bench.seed``); the server started the documented production way (gunicorn gthread, one worker) with
``LMS_BENCH_ROUTES=1``; a login as the demo coordinator; then a load generator in its own process
(``bench.loadgen``) alternates between ``/_bench/bare`` and ``/`` (bare, dashboard, bare, dashboard…)
against the same server. Prints requests per second, latency percentiles, errors, the dashboard/bare
ratio against the 0.3 target, and the SQL statements one dashboard request runs (``bench.sqlcount``).
It is a measurement: a missed target is printed, not turned into a failing exit code.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from bench import csrf_token

ROOT = Path(__file__).resolve().parent.parent
TARGET = 0.3
DEFAULT_DEMO_PASSWORD = "demo-lms-2026"
#: Tried, in order, when neither --postgres nor LMS_BENCH_POSTGRES_URL is given: the role .ci/run creates.
LOCAL_POSTGRES = ["postgresql+psycopg://lms:lms@127.0.0.1:5432/lms_test"]


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.dashboard", description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=float, default=8.0, help="measured seconds per phase (8)")
    p.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each phase (2)")
    p.add_argument("--rounds", type=int, default=2, help="bare+dashboard pairs per backend; medians reported (2)")
    p.add_argument("--connections", type=int, default=8, help="concurrent keep-alive connections (8)")
    p.add_argument("--threads", type=int, default=64, help="gunicorn --threads (64, as in the README)")
    p.add_argument("--postgres", metavar="URL", help="a PostgreSQL server to use (a fresh database or schema "
                   "is created there and dropped afterwards); default $LMS_BENCH_POSTGRES_URL or a local server")
    p.add_argument("--no-postgres", action="store_true", help="SQLite only")
    p.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    p.add_argument("--schools", type=int, default=12)
    p.add_argument("--pupils", type=int, default=6500)
    p.add_argument("--teachers", type=int, default=850)
    p.add_argument("--audit", type=int, default=5000, help="audit events in the city (5000)")
    p.add_argument("--show-sql", action="store_true", help="list the dashboard's SQL statements")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder and database")
    return p.parse_args(argv)


def say(msg: str) -> None:
    print(msg, flush=True)  # noqa: T201


# --- databases -----------------------------------------------------------------------------------

@dataclass
class Backend:
    name: str
    url: str
    cleanup: list = field(default_factory=list)


def _pg_connect(url: str):
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1), connect_timeout=3,
                           autocommit=True)


def find_postgres(args: argparse.Namespace) -> str | None:
    if args.no_postgres:
        return None
    explicit = args.postgres or os.environ.get("LMS_BENCH_POSTGRES_URL")
    for url in [explicit] if explicit else LOCAL_POSTGRES:
        try:
            _pg_connect(url).close()
            return url
        except Exception as exc:  # noqa: BLE001 - any failure means "not usable"
            if explicit:
                say(f"PostgreSQL at {_redact(url)} is not reachable: {exc}")
    if not explicit:
        say("PostgreSQL: skipped (no LMS_BENCH_POSTGRES_URL, --postgres URL, and no local server at "
            f"{', '.join(_redact(u) for u in LOCAL_POSTGRES)}).")
    return None


def _redact(url: str) -> str:
    head, sep, tail = url.rpartition("@")
    if not sep:
        return url
    scheme, _, cred = head.partition("://")
    return f"{scheme}://{cred.split(':')[0]}:***@{tail}"


def fresh_postgres(url: str, keep: bool) -> Backend:
    """A new database on the server (needs CREATEDB), else a new schema in the given database."""
    name = f"lms_bench_{secrets.token_hex(4)}"
    base, _, _db = url.rpartition("/")
    admin = _pg_connect(url)
    try:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\'')
        backend = Backend("postgresql", f"{base}/{name}")
        if not keep:
            backend.cleanup.append(lambda: _pg_run(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        return backend
    except Exception:  # noqa: BLE001 - no CREATEDB: fall back to a schema
        admin.execute(f'CREATE SCHEMA "{name}"')
        sep = "&" if "?" in url else "?"
        backend = Backend("postgresql", f"{url}{sep}options=-csearch_path%3D{name}")
        if not keep:
            backend.cleanup.append(lambda: _pg_run(url, f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        return backend
    finally:
        admin.close()


def _pg_run(url: str, sql: str) -> None:
    conn = _pg_connect(url)
    try:
        conn.execute(sql)
    finally:
        conn.close()


# --- processes -----------------------------------------------------------------------------------

def run_step(label: str, argv: list[str], env: dict[str, str]) -> str:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{label} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    say(f"  {label:<28} {time.perf_counter() - t0:5.1f} s")
    return proc.stdout


def last_json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn as the README runs it in production: gthread, one worker, threads."""

    def __init__(self, env: dict[str, str], threads: int, log_path: Path):
        self.port = free_port()
        self.log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--workers", "1",
             "--threads", str(threads), "--bind", f"127.0.0.1:{self.port}",
             # not a serving setting: keeps this server off the shared ~/.gunicorn control socket
             "--no-control-socket", "wsgi:app"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.log_path = log_path

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                status, _h, _b = request(self.port, "GET", "/healthz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not become healthy; log:\n{self.log_path.read_text()[-3000:]}")

    def worker_cpu_seconds(self) -> float | None:
        """CPU time of the worker process (Linux /proc), to show whether the server was saturated."""
        try:
            kids = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
            fields = Path(f"/proc/{kids[0]}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def request(port: int, method: str, path: str, body: str | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, http.client.HTTPResponse, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


def login(port: int, username: str, password: str, marker: str) -> str:
    """Log in like a browser: GET the form, POST it with its CSRF token; returns the Cookie header."""
    status, resp, page = request(port, "GET", "/login")
    jar = SimpleCookie()
    for value in resp.headers.get_all("Set-Cookie") or []:
        jar.load(value)
    cookie = "; ".join(f"{k}={m.value}" for k, m in jar.items())
    form = urlencode({"csrf_token": csrf_token(page), "username": username, "password": password, "next": ""})
    status, resp, _ = request(port, "POST", "/login", form, {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    if status != 302:
        raise RuntimeError(f"login as {username}: HTTP {status}")
    for value in resp.headers.get_all("Set-Cookie") or []:
        jar.load(value)
    cookie = "; ".join(f"{k}={m.value}" for k, m in jar.items())
    status, _, page = request(port, "GET", "/", headers={"Cookie": cookie})
    if status != 200 or marker not in page:
        raise RuntimeError(f"dashboard after login: HTTP {status}, marker {marker!r} "
                           f"{'found' if marker in page else 'missing'}")
    return cookie


def load(server: Server, path: str, args: argparse.Namespace, cookie: str = "",
         expect: list[str] | None = None) -> dict:
    argv = [sys.executable, "-m", "bench.loadgen", f"http://127.0.0.1:{server.port}{path}",
            "--connections", str(args.connections), "--duration", str(args.duration),
            "--warmup", str(args.warmup)]
    if cookie:
        argv += ["--cookie", cookie]
    for e in expect or []:
        argv += ["--expect", e]
    cpu0, t0 = server.worker_cpu_seconds(), time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False,
                          timeout=args.warmup + args.duration + 120)
    cpu1, wall = server.worker_cpu_seconds(), time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{proc.stderr[-3000:]}")
    result = last_json(proc.stdout)
    result["server_cpu_pct"] = None if cpu0 is None or cpu1 is None else round(100 * (cpu1 - cpu0) / wall, 1)
    return result


# --- one backend ---------------------------------------------------------------------------------

def bench_backend(backend: Backend, args: argparse.Namespace, tmp: Path) -> dict:
    password = os.environ.get("LMS_DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD
    env = dict(os.environ)
    env.pop("LMS_SOCKETIO_MESSAGE_QUEUE", None)  # one process: no queue needed
    env.update({
        "LMS_DATABASE_URL": backend.url,
        "LMS_STORAGE_URL": f"file://{tmp / 'storage'}",
        "LMS_INSTANCE_PATH": str(tmp / "instance"),
        "LMS_SECRET_KEY": secrets.token_urlsafe(32),
        "LMS_DEMO_PASSWORD": password,
        "LMS_BENCH_ROUTES": "1",
        "PYTHONPATH": str(ROOT),
    })
    py = sys.executable
    run_step("flask db upgrade", [py, "-m", "flask", "--app", "wsgi", "db", "upgrade"], env)
    run_step("flask demo load", [py, "-m", "flask", "--app", "wsgi", "demo", "load"], env)
    seeded = last_json(run_step("city data set (bench.seed)", [
        py, "-m", "bench.seed", "--schools", str(args.schools), "--pupils", str(args.pupils),
        "--teachers", str(args.teachers), "--audit", str(args.audit)], env))
    sql = last_json(run_step("SQL count (bench.sqlcount)", [
        py, "-m", "bench.sqlcount", "--password", password], env))
    say(f"  data: {seeded['organizations']} organizations, {seeded['people']} people, "
        f"{seeded['audit_events']} audit events added")

    server = Server(env, args.threads, tmp / f"gunicorn-{backend.name}.log")
    phases: dict[str, list[dict]] = {"bare": [], "dashboard": []}
    try:
        server.wait_healthy()
        cookie = login(server.port, "coordinator", password, seeded["coordinator_name"])
        dashboard_markers = [seeded["coordinator_name"], 'id="managed-h"', 'id="activity-h"']
        for n in range(args.rounds):
            for kind, path, cookie_, expect in (("bare", "/_bench/bare", "", ["ok"]),
                                                 ("dashboard", "/", cookie, dashboard_markers)):
                r = load(server, path, args, cookie_, expect)
                phases[kind].append(r)
                say(f"  round {n + 1} {kind:<9} {r['rps']:8.1f} req/s  p50 {r['p50_ms']} ms  "
                    f"p95 {r['p95_ms']} ms  p99 {r['p99_ms']} ms  errors {r['errors']}  "
                    f"server CPU {r['server_cpu_pct']}%  client CPU {r['client_cpu_pct']}%"
                    + (f"  first error: {r['first_error']}" if r["errors"] else ""))
    finally:
        server.stop()
    result = summarise(backend.name, phases, sql)
    result["load_average"] = [round(x, 1) for x in os.getloadavg()]
    return result


def _median(phases: list[dict], key: str) -> float | None:
    values = [p[key] for p in phases if p[key] is not None]
    return round(statistics.median(values), 2) if values else None


def summarise(name: str, phases: dict[str, list[dict]], sql: dict) -> dict:
    bare, dash = _median(phases["bare"], "rps"), _median(phases["dashboard"], "rps")
    ratio = round(dash / bare, 3) if bare and dash is not None else None
    errors = sum(p["errors"] for ps in phases.values() for p in ps)
    return {
        "backend": name, "bare_rps": bare, "dashboard_rps": dash, "ratio": ratio,
        "bare_p95_ms": _median(phases["bare"], "p95_ms"), "dashboard_p95_ms": _median(phases["dashboard"], "p95_ms"),
        "dashboard_p99_ms": _median(phases["dashboard"], "p99_ms"),
        "errors": errors, "sql_statements": sql["statements"], "sql": sql,
        "passed": ratio is not None and ratio >= TARGET and errors == 0, "phases": phases,
    }


# --- report --------------------------------------------------------------------------------------

def print_table(results: list[dict], args: argparse.Namespace) -> None:
    head = ("backend", "bare rps", "dash rps", "ratio", "bare p95", "dash p95", "errors", "SQL/req",
            "target", "result")
    rows = [head]
    for r in results:
        rows.append((r["backend"], f"{r['bare_rps']:.0f}", f"{r['dashboard_rps']:.0f}", f"{r['ratio']:.3f}",
                     f"{r['bare_p95_ms']} ms", f"{r['dashboard_p95_ms']} ms", str(r["errors"]),
                     str(r["sql_statements"]), f"≥ {TARGET}", "PASS" if r["passed"] else "FAIL"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    say("")
    load_avg = [round(x, 1) for x in os.getloadavg()]
    if load_avg[0] > (os.cpu_count() or 1):
        say(f"Note: the machine was busy (load average {load_avg[0]} on {os.cpu_count()} cores): absolute "
            "figures are depressed; the ratio, measured alternately against the same server, less so.")
    say(f"Dashboard vs bare route — {os.cpu_count()} cores, gunicorn gthread 1 worker × {args.threads} "
        f"threads, {args.connections} keep-alive connections, {args.rounds} × ({args.warmup:g} s warm-up + "
        f"{args.duration:g} s) per route, medians")
    for i, row in enumerate(rows):
        say("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        if i == 0:
            say("  ".join("-" * w for w in widths))
    for r in results:
        s = r["sql"]
        say(f"{r['backend']}: load average after the run {r['load_average']}; in-process (test client, no HTTP) dashboard {s['dashboard_ms']} ms wall / "
            f"{s['dashboard_cpu_ms']} ms CPU, bare {s['bare_ms']} / {s['bare_cpu_ms']} ms; "
            f"{s['statements']} SQL statements per dashboard, {s['sql_execute_ms']} ms in cursor.execute")
        if args.show_sql:
            for stmt, ms in s["statement_list"]:
                say(f"    {ms:7.3f} ms  {stmt}")
        if r["errors"]:
            say(f"{r['backend']}: {r['errors']} errors — any non-200 or a page without the dashboard counts")


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    backends: list[str] = [] if args.no_sqlite else ["sqlite"]
    pg_url = find_postgres(args)
    if pg_url:
        backends.append("postgresql")
    results, broken = [], []
    for name in backends:
        tmp = Path(tempfile.mkdtemp(prefix=f"lms-bench-{name}-"))
        backend = None
        say(f"\n== {name}")
        try:
            backend = (Backend("sqlite", f"sqlite:///{tmp / 'bench.sqlite3'}") if name == "sqlite"
                       else fresh_postgres(pg_url, args.keep))
            results.append(bench_backend(backend, args, tmp))
        except Exception as exc:  # noqa: BLE001 - report it and go on with the other backend
            broken.append(name)
            say(f"  {name}: could not be measured: {exc}")
        finally:
            for step in backend.cleanup if backend else []:
                try:
                    step()
                except Exception as exc:  # noqa: BLE001 - cleanup is best effort
                    say(f"  cleanup: {exc}")
            if args.keep:
                say(f"  kept: {tmp}" + (f" and {_redact(backend.url)}" if backend else ""))
            else:
                shutil.rmtree(tmp, ignore_errors=True)
    if results:
        print_table(results, args)
    if args.json:
        Path(args.json).write_text(json.dumps({"load_average_end": os.getloadavg(), "cores": os.cpu_count(),
                                               "results": results}, indent=2, ensure_ascii=False))
    # A missed target is a result, not a failure; only a harness that could not measure fails.
    return 1 if broken else 0


if __name__ == "__main__":
    raise SystemExit(main())
