"""Quiz attempts under load, on SQLite and PostgreSQL: ``python -m bench.quiz``.

For each backend: a fresh database (``flask db upgrade``), a run with ``--learners`` learners and a quiz of
ten questions (six fixed, four drawn at random from a category), the server started the documented production
way (gunicorn gthread, one worker, 64 threads, ``LMS_BENCH_ROUTES=1``), and every learner and the teacher
logged in through the login form. Then:

(a) **answer saves**: ``--connections`` learners, each on its own keep-alive connection, save answers as the
    attempt page's script does (``POST /attempts/<id>/save``, JSON, a rising sequence number, the CSRF
    header), alternating with the bare route ``/_bench/bare`` measured by the same client code:
    requests per second, p95; target p95 ≤ 250 ms and saves ≥ 0.5 × bare.
(b) **1,000 starts at one instant**: one thread per learner, each with its own connection, released together
    by a barrier, ``POST /quizzes/<id>/start`` (a 303 to the attempt is a success; anything else an error):
    the time until the last attempt has started (target ≤ 10 s, 0 errors), and p50/p95/p99 of the starts.
(c) the same while the teacher edits the quiz's course (renames an activity of the run, posts announcements)
    in a loop: p99 against (b)'s (target ≤ 1.5 ×).

Logins use cheap argon2 parameters (``LMS_ARGON2_*``): logging in is not what is measured. A measurement: a
missed target is printed, the exit code stays 0 (1 only when a backend could not be measured at all).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from bench import csrf_token
from bench.dashboard import (
    ROOT,
    Backend,
    Server,
    find_postgres,
    fresh_postgres,
    last_json,
    request,
    run_step,
)

PASSWORD = "bench-pass-2026"


def _args(argv):
    p = argparse.ArgumentParser(prog="python -m bench.quiz", description=__doc__.splitlines()[0])
    p.add_argument("--learners", type=int, default=1000)
    p.add_argument("--connections", type=int, default=8, help="saving learners in (a) (8)")
    p.add_argument("--duration", type=float, default=6.0, help="measured seconds per (a) phase (6)")
    p.add_argument("--warmup", type=float, default=1.5)
    p.add_argument("--rounds", type=int, default=3, help="bare + save pairs in (a); medians reported (3)")
    p.add_argument("--threads", type=int, default=64, help="gunicorn --threads (64, as in the README)")
    p.add_argument("--postgres", metavar="URL")
    p.add_argument("--no-postgres", action="store_true")
    p.add_argument("--no-sqlite", action="store_true")
    p.add_argument("--json", metavar="PATH")
    p.add_argument("--keep", action="store_true")
    sub = p.add_subparsers(dest="step")
    seed = sub.add_parser("seed", help="(internal) seed the database named by LMS_DATABASE_URL")
    seed.add_argument("--learners", type=int, default=1000)
    sub.add_parser("reset", help="(internal) remove every attempt")
    sub.add_parser("settle", help="(internal) let the database's upkeep of the last phase finish")
    return p.parse_args(argv)


def say(msg: str) -> None:
    print(msg, flush=True)  # noqa: T201


# --- steps run as subprocesses with the backend's environment -------------------------------------

def _seed(learners: int) -> dict:
    from sqlalchemy import select

    from bench.course import _seed as seed_run
    from lms import create_app
    from lms.assessment import banks, quizzes
    from lms.courses import content
    from lms.courses.models import Activity, CourseRun, Section
    from lms.extensions import db

    app = create_app()
    made = seed_run(app, learners, 5, "q")
    with app.app_context():
        run = db.session.get(CourseRun, made["run"])
        teacher = run.staff[0].user
        bank = banks.create_bank(name="Аттестация", run=run, by=teacher)
        for n in range(6):
            banks.add_question(bank, {"qtype": "multichoice", "text": f"Вопрос {n + 1}: выберите верное", "answers": [
                {"text": "верно", "fraction": 1}, {"text": "неверно", "fraction": 0},
                {"text": "тоже неверно", "fraction": 0}, {"text": "совсем неверно", "fraction": 0}]},
                by=teacher, name=f"Вопрос {n + 1}")
        category = banks.category_path(bank, "Расчёты")
        for n in range(20):
            banks.add_question(bank, {"qtype": "numerical", "text": f"{n} × 3 = ?", "answers": [
                {"value": str(3 * n), "tolerance": "0", "fraction": 1}]}, by=teacher, name=f"Расчёт {n}",
                category=category)
        section = db.session.scalar(select(Section).where(Section.run_id == run.id).order_by(Section.position))
        activity = content.save_activity(section, {"kind": "quiz", "title": "Итоговое тестирование",
                                                   "completion": "graded", "planned_hours": 2}, by=teacher)
        quiz = quizzes.quiz_of(activity)
        quizzes.save_settings(quiz, {"time_limit": "45", "questions_per_page": "5", "max_grade": "10",
                                     "shuffle_questions": True}, by=teacher)
        fixed = [q.id for q in db.session.scalars(select(banks.Question).where(
            banks.Question.bank_id == bank.id, banks.Question.category_id.is_(None)).order_by(banks.Question.id))]
        quizzes.add_questions(quiz, fixed, by=teacher)
        quizzes.add_random(quiz, category_id=category.id, count=4, by=teacher)
        page = db.session.scalar(select(Activity).where(Activity.run_id == run.id, Activity.kind == "page")
                                 .order_by(Activity.id))
        db.session.commit()
        return {"run": run.id, "quiz_activity": activity.id, "page_activity": page.id,
                "teacher": made["teacher"], "learner_prefix": "lq_", "learners": learners}


def _reset() -> dict:
    from sqlalchemy import delete

    from lms import create_app
    from lms.assessment.models import QuestionAttempt, QuizAttempt, QuizGrade
    from lms.extensions import db

    app = create_app()
    with app.app_context():
        db.session.execute(delete(QuestionAttempt))
        n = db.session.execute(delete(QuizAttempt)).rowcount
        db.session.execute(delete(QuizGrade))
        db.session.commit()
    return {"removed": n}


def _settle() -> dict:
    """The database's upkeep after a phase that wrote thousands of rows, done now rather than during the next
    measurement (PostgreSQL's autovacuum, SQLite's WAL checkpoint would otherwise take CPU from it at random)."""
    from lms import create_app
    from lms.extensions import db

    app = create_app()
    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
        raw = db.engine.raw_connection()  # in autocommit (lms.core.db): VACUUM runs outside any transaction
        try:
            raw.driver_connection.execute("VACUUM (ANALYZE)" if postgres else "PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
    return {"settled": True}


# --- HTTP helpers ----------------------------------------------------------------------------------

def _cookies(resp, jar: SimpleCookie) -> str:
    for value in resp.headers.get_all("Set-Cookie") or []:
        jar.load(value)
    return "; ".join(f"{k}={m.value}" for k, m in jar.items())


def login(port: int, username: str, then: str) -> tuple[str, str]:
    """Log in through the form, open ``then``: (the Cookie header, that page's CSRF token)."""
    status, resp, page = request(port, "GET", "/login")
    jar = SimpleCookie()
    cookie = _cookies(resp, jar)
    form = urlencode({"csrf_token": csrf_token(page), "username": username, "password": PASSWORD, "next": ""})
    status, resp, _ = request(port, "POST", "/login", form, {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    if status != 302:
        raise RuntimeError(f"login as {username}: HTTP {status}")
    cookie = _cookies(resp, jar)
    status, resp, page = request(port, "GET", then, headers={"Cookie": cookie})
    if status != 200:
        raise RuntimeError(f"GET {then} as {username}: HTTP {status}")
    return _cookies(resp, jar), csrf_token(page)


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))], 1)


# --- (b) and (c): starts at one instant ---------------------------------------------------------------

def starts(port: int, people: list[dict], activity_id: int, teacher: dict | None, seed: dict) -> dict:
    barrier = threading.Barrier(len(people) + 1)
    latencies: list[float] = []
    errors: list[str] = []
    done_at: list[float] = []
    lock = threading.Lock()

    def one(person: dict) -> None:
        body = urlencode({"csrf_token": person["token"]})
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            conn.connect()
            barrier.wait(timeout=120)
            t0 = time.perf_counter()
            conn.request("POST", f"/quizzes/{activity_id}/start", body=body, headers={
                "Content-Type": "application/x-www-form-urlencoded", "Cookie": person["cookie"]})
            resp = conn.getresponse()
            resp.read()
            t1 = time.perf_counter()
            ok = resp.status == 303 and "/attempts/" in (resp.getheader("Location") or "")
            with lock:
                latencies.append(t1 - t0)
                done_at.append(t1)
                if not ok:
                    errors.append(f"HTTP {resp.status}")
        except Exception as exc:  # noqa: BLE001 - counted and reported
            with lock:
                errors.append(repr(exc))
        finally:
            conn.close()

    stop = threading.Event()
    edits = [0]

    def edit_course() -> None:
        """The teacher edits the run's course while the learners start: renames an activity, announces."""
        n = 0
        while not stop.is_set():
            n += 1
            if n % 2:
                path = f"/activities/{seed['page_activity']}/edit"
                form = {"csrf_token": teacher["edit_token"], "title": f"Материал 1 (правка {n})",
                        "planned_hours": "1", "completion": "viewed", "body": "<p>Текст</p>", "is_visible": "y"}
            else:
                path = f"/runs/{seed['run']}/announcements"
                form = {"csrf_token": teacher["edit_token"], "title": f"Объявление {n}", "body": "<p>Текст</p>"}
            status, _r, _b = request(port, "POST", path, urlencode(form), {
                "Content-Type": "application/x-www-form-urlencoded", "Cookie": teacher["cookie"]})
            if status not in (200, 302, 303):
                errors.append(f"teacher edit: HTTP {status}")
            edits[0] += 1

    threads = [threading.Thread(target=one, args=(p,), daemon=True) for p in people]
    for t in threads:
        t.start()
    editor = threading.Thread(target=edit_course, daemon=True) if teacher else None
    if editor:
        editor.start()
        time.sleep(0.5)  # the edits are going on when the learners press «Start»
    barrier.wait(timeout=120)
    released = time.perf_counter()
    for t in threads:
        t.join(timeout=300)
    stop.set()
    if editor:
        editor.join(timeout=60)
    return {"started": len(latencies) - len(errors), "errors": len(errors), "first_error": errors[0] if errors else "",
            "all_started_s": round(max(done_at) - released, 2) if done_at else None,
            "p50_ms": _pct(latencies, 0.5), "p95_ms": _pct(latencies, 0.95), "p99_ms": _pct(latencies, 0.99),
            "teacher_edits": edits[0]}


# --- (a): answer saves against the bare route --------------------------------------------------------

def saves(port: int, savers: list[dict], args, bare: bool) -> dict:
    start_at = time.perf_counter() + 0.2
    measure_from = start_at + args.warmup
    stop_at = measure_from + args.duration
    latencies: list[float] = []
    errors = [0]
    first = [""]
    closed = [0]
    lock = threading.Lock()

    def one(person: dict) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        seq = person.setdefault("seq", 0)
        mine: list[float] = []
        bad = 0
        while time.perf_counter() < start_at:
            time.sleep(0.001)
        while True:
            t0 = time.perf_counter()
            if t0 >= stop_at:
                break
            try:
                if bare:
                    conn.request("GET", "/_bench/bare")
                else:
                    seq += 1
                    slot = seq % 5 + 1
                    body = json.dumps({"answers": [{"slot": slot, "seq": seq, "values": {"": str(seq % 4)}}]})
                    conn.request("POST", f"/attempts/{person['attempt']}/save", body=body, headers={
                        "Content-Type": "application/json", "Cookie": person["cookie"],
                        "X-CSRFToken": person["token"]})
                resp = conn.getresponse()
                data = resp.read()
                if resp.will_close:
                    closed[0] += 1
                ok = resp.status == 200 and (bare or b'"applied":true' in data)
                if not ok and not first[0]:
                    first[0] = f"HTTP {resp.status} {data[:200]!r}"
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                ok = False
                if not first[0]:
                    first[0] = repr(exc)
            t1 = time.perf_counter()
            if t1 < measure_from:
                continue
            if t1 > stop_at:
                break
            if ok:
                mine.append(t1 - t0)
            else:
                bad += 1
        person["seq"] = seq
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=one, args=(p,), daemon=True) for p in savers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"rps": round(len(latencies) / args.duration, 1), "requests": len(latencies), "errors": errors[0],
            "p50_ms": _pct(latencies, 0.5), "p95_ms": _pct(latencies, 0.95), "p99_ms": _pct(latencies, 0.99),
            "first_error": first[0], "closed_by_server": closed[0]}


# --- one backend ------------------------------------------------------------------------------------

def bench_backend(backend: Backend, args, tmp: Path) -> dict:
    tmp.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.pop("LMS_SOCKETIO_MESSAGE_QUEUE", None)
    env.update({"LMS_DATABASE_URL": backend.url, "LMS_STORAGE_URL": f"file://{tmp / 'storage'}",
                "LMS_INSTANCE_PATH": str(tmp / "instance"), "LMS_SECRET_KEY": secrets.token_urlsafe(32),
                "LMS_BENCH_ROUTES": "1", "PYTHONPATH": str(ROOT), "LMS_ARGON2_TIME_COST": "1",
                "LMS_ARGON2_MEMORY_COST": "1024", "LMS_ARGON2_PARALLELISM": "1"})
    py = sys.executable
    run_step("flask db upgrade", [py, "-m", "flask", "--app", "wsgi", "db", "upgrade"], env)
    seed = last_json(run_step("run, learners, quiz", [py, "-m", "bench.quiz", "seed", "--learners",
                                                      str(args.learners)], env))
    server = Server(env, args.threads, tmp / f"gunicorn-quiz-{backend.name}.log")
    result: dict = {"backend": backend.name}
    try:
        server.wait_healthy()
        t0 = time.perf_counter()
        names = [f"{seed['learner_prefix']}{i}" for i in range(seed["learners"])]
        quiz_page = f"/quizzes/{seed['quiz_activity']}"

        def ready(username: str) -> dict:
            cookie, token = login(server.port, username, quiz_page)
            return {"username": username, "cookie": cookie, "token": token}

        with ThreadPoolExecutor(8) as pool:
            people = list(pool.map(ready, names))
        cookie, token = login(server.port, seed["teacher"], f"/activities/{seed['page_activity']}/edit")
        teacher = {"cookie": cookie, "edit_token": token}
        say(f"  {len(people)} learners and the teacher logged in  {time.perf_counter() - t0:5.1f} s")

        run_step("settle the database", [py, "-m", "bench.quiz", "settle"], env)
        result["b"] = starts(server.port, people, seed["quiz_activity"], None, seed)
        say(f"  (b) {args.learners} starts at once: all started in {result['b']['all_started_s']} s, "
            f"errors {result['b']['errors']}, p50 {result['b']['p50_ms']} ms, p95 {result['b']['p95_ms']} ms, "
            f"p99 {result['b']['p99_ms']} ms" + (f"  first error: {result['b']['first_error']}"
                                                  if result['b']['errors'] else ""))
        run_step("remove the attempts", [py, "-m", "bench.quiz", "reset"], env)
        run_step("settle the database", [py, "-m", "bench.quiz", "settle"], env)
        result["c"] = starts(server.port, people, seed["quiz_activity"], teacher, seed)
        say(f"  (c) the same while the teacher edits: all started in {result['c']['all_started_s']} s, "
            f"errors {result['c']['errors']}, p99 {result['c']['p99_ms']} ms, teacher's edits "
            f"{result['c']['teacher_edits']}" + (f"  first error: {result['c']['first_error']}"
                                                 if result['c']['errors'] else ""))
        savers = people[: args.connections]
        for person in savers:
            status, resp, _b = request(server.port, "POST", f"/quizzes/{seed['quiz_activity']}/start",
                                       urlencode({"csrf_token": person["token"]}), {
                                           "Content-Type": "application/x-www-form-urlencoded",
                                           "Cookie": person["cookie"]})
            person["attempt"] = int(re.search(r"/attempts/(\d+)", resp.getheader("Location")).group(1))
            person["seq"] = 0
        run_step("settle the database", [py, "-m", "bench.quiz", "settle"], env)
        phases: dict[str, list[dict]] = {"bare": [], "save": []}
        for n in range(args.rounds):
            for kind in ("bare", "save"):
                cpu0, t0 = server.worker_cpu_seconds(), time.perf_counter()
                r = saves(server.port, savers, args, bare=kind == "bare")
                cpu1, wall = server.worker_cpu_seconds(), time.perf_counter() - t0
                r["server_cpu_pct"] = None if cpu0 is None or cpu1 is None else round(100 * (cpu1 - cpu0) / wall, 1)
                phases[kind].append(r)
                say(f"  (a) round {n + 1} {kind:<4} {r['rps']:8.1f} req/s  p50 {r['p50_ms']} ms  "
                    f"p95 {r['p95_ms']} ms  p99 {r['p99_ms']} ms  errors {r['errors']}  "
                    f"connections closed by the server {r['closed_by_server']}  server CPU {r['server_cpu_pct']}%"
                    + (f"  first error: {r['first_error']}" if r["errors"] else ""))
        med = {k: {m: round(statistics.median([p[m] for p in v if p[m] is not None] or [0]), 1)
                   for m in ("rps", "p95_ms", "p99_ms")} for k, v in phases.items()}
        result["a"] = {"bare_rps": med["bare"]["rps"], "save_rps": med["save"]["rps"],
                       "save_p95_ms": med["save"]["p95_ms"], "bare_p95_ms": med["bare"]["p95_ms"],
                       "ratio": round(med["save"]["rps"] / med["bare"]["rps"], 3) if med["bare"]["rps"] else None,
                       "errors": sum(p["errors"] for p in phases["save"])}
    finally:
        server.stop()
    result["load_average"] = [round(x, 1) for x in os.getloadavg()]
    return result


def print_table(results: list[dict]) -> None:
    say("")
    say("| backend | (a) saves/s | bare/s | ratio (≥ 0.5) | save p95 (≤ 250 ms) | (b) 1,000 starts: all in (≤ 10 s) "
        "| errors | p99 | (c) with edits: all in | p99 | p99 (c)/(b) (≤ 1.5) |")
    say("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        a, b, c = r["a"], r["b"], r["c"]
        ratio_c = round(c["p99_ms"] / b["p99_ms"], 2) if b.get("p99_ms") and c.get("p99_ms") else None
        r["c_over_b_p99"] = ratio_c
        say(f"| {r['backend']} | {a['save_rps']} | {a['bare_rps']} | **{a['ratio']}** | {a['save_p95_ms']} ms | "
            f"**{b['all_started_s']} s** | {b['errors']} | {b['p99_ms']} ms | {c['all_started_s']} s | "
            f"{c['p99_ms']} ms | **{ratio_c}** |")
    say("")
    for r in results:
        a, b, c = r["a"], r["b"], r["c"]
        verdicts = [("(a) saves ≥ 0.5 × bare", a["ratio"] is not None and a["ratio"] >= 0.5),
                    ("(a) p95 ≤ 250 ms", a["save_p95_ms"] is not None and a["save_p95_ms"] <= 250),
                    ("(b) all started ≤ 10 s, 0 errors", b["all_started_s"] is not None and b["all_started_s"] <= 10
                     and b["errors"] == 0),
                    ("(c) p99 ≤ 1.5 × (b), 0 errors", r["c_over_b_p99"] is not None and r["c_over_b_p99"] <= 1.5
                     and c["errors"] == 0)]
        say(f"{r['backend']}: " + "; ".join(f"{name}: {'PASS' if ok else 'MISS'}" for name, ok in verdicts)
            + f"  (load average {r['load_average']})")


def main(argv=None) -> int:
    args = _args(argv)
    if args.step == "seed":
        say(json.dumps(_seed(args.learners)))
        return 0
    if args.step == "reset":
        say(json.dumps(_reset()))
        return 0
    if args.step == "settle":
        say(json.dumps(_settle()))
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="lms-bench-quiz-"))
    backends: list[Backend] = []
    if not args.no_sqlite:
        backends.append(Backend("sqlite", f"sqlite:///{tmp / 'bench.sqlite3'}"))
    pg = find_postgres(args)
    if pg:
        backends.append(fresh_postgres(pg, args.keep))
    results, failed = [], False
    try:
        for backend in backends:
            say(f"{backend.name}:")
            try:
                results.append(bench_backend(backend, args, tmp / backend.name))
            except Exception as exc:  # noqa: BLE001 - reported; the other backend still runs
                failed = True
                say(f"  {backend.name} could not be measured: {exc}")
            finally:
                for fn in backend.cleanup:
                    try:
                        fn()
                    except Exception as exc:  # noqa: BLE001
                        say(f"  cleanup: {exc}")
        if results:
            print_table(results)
        if args.json:
            Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=2))
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed or not results else 0


if __name__ == "__main__":
    raise SystemExit(main())
