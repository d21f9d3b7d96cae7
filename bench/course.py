"""Course pages of a small and a large run, against a bare route: ``python -m bench.course``.

A fresh temporary SQLite database (``flask db upgrade``) and local storage. Two runs of one published
programme: a small one (10 learners, 5 activities) and a large one (1,000 learners, 50 activities,
one in ten an assignment, every learner with progress in half of them). In one process, through the test client:

1. SQL statements per page — the course page as a learner and as the teacher, the learners' list and the
   gradebook — for the small and the large run, rendered afresh (the page caches emptied) and served from
   the page cache (the next request). A query per row shows up as a count that grows with the run.
2. The server the production way (gunicorn gthread, one worker, as ``bench.dashboard`` starts it) on the
   same database; a browser-like login; then ``bench.loadgen`` alternates the bare route ``/_bench/bare``
   (no database) and each page of the large run, ``--rounds`` times, 8 keep-alive connections. Requests
   per second (medians), the ratio page / bare against the 0.2 target, p95 latency, and the CPU of the
   server's worker and of the load generator. The loaded pages are repeated requests of one person, so they
   measure the cached page (what a learner reloading the course sees); the first view is the "rendered" cost.

A measurement: a missed target is printed, the exit code stays 0.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

TARGET = 0.2
#: name: (label, who, URL, a marker every response must contain)
PAGES = {"learner": ("course page, learner", "learner", "/runs/{run}/course", "Мой прогресс"),
         "teacher": ("course page, teacher", "teacher", "/runs/{run}/course", "Новый раздел"),
         "learners": ("learners list, teacher", "teacher", "/runs/{run}/enrolments", "Зачислить человека"),
         "gradebook": ("gradebook, teacher", "teacher", "/runs/{run}/gradebook", "Журнал оценок")}


def _args(argv):
    p = argparse.ArgumentParser(prog="python -m bench.course", description=__doc__.splitlines()[0])
    p.add_argument("--learners", type=int, default=1000)
    p.add_argument("--activities", type=int, default=50)
    p.add_argument("--duration", type=float, default=5.0, help="measured seconds per phase (5)")
    p.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each phase (1)")
    p.add_argument("--rounds", type=int, default=2, help="bare + page pairs per page; medians reported (2)")
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--threads", type=int, default=64, help="gunicorn --threads (64, as in the README)")
    p.add_argument("--pages", default="learner,teacher,learners,gradebook",
                   help="which pages, comma-separated (learner,teacher,learners,gradebook)")
    p.add_argument("--keep", action="store_true")
    return p.parse_args(argv)


def say(msg: str) -> None:
    print(msg, flush=True)  # noqa: T201


def _app(folder: Path):
    os.environ["LMS_INSTANCE_PATH"] = str(folder / "instance")
    from lms import create_app

    app = create_app({"SECRET_KEY": "bench", "TESTING": False, "BENCH_ROUTES": True,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite3'}",
                      "STORAGE_URL": f"file://{folder / 'storage'}", "WTF_CSRF_ENABLED": False})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    return app


def _seed(app, learners: int, activities: int, tag: str) -> dict:
    """A published programme, a run with ``activities`` pages over 5 sections and ``learners`` learners."""
    from sqlalchemy import insert, select

    from lms.accounts.models import User
    from lms.accounts.passwords import hash_password
    from lms.core.db import utcnow
    from lms.courses import content, programmes, runs
    from lms.courses.models import Activity, ActivityProgress, Enrolment, Section
    from lms.extensions import db
    from lms.orgs import services as orgs
    from lms.orgs.models import Membership, Role

    with app.app_context():
        m = orgs.create_municipality(name=f"Округ {tag}", time_zone="Europe/Moscow", by=None)
        org = orgs.create_organization(m, by=None, code=f"org{tag}", kind="methodological_office",
                                       name=f"ЦРО {tag}", short_name=f"ЦРО {tag}")
        other = orgs.create_organization(m, by=None, code=f"oth{tag}", kind="school", name=f"Школа {tag}",
                                         short_name=f"Школа {tag}")
        pw = hash_password("bench-pass-2026")

        def person(login, o, role):
            user = User(username=login, surname="Тестов", name="Иван", password_hash=pw, must_change_password=False)
            db.session.add(user)
            db.session.flush()
            db.session.add(Membership(user_id=user.id, organization_id=o.id, role=role))
            return user

        teacher = person(f"teacher{tag}", org, Role.METHODOLOGIST)
        expert = person(f"expert{tag}", other, Role.METHODOLOGIST)
        p = programmes.create_programme(org, by=teacher, title="Цифровая школа", kind="pd", audience="teachers",
                                        total_hours=50 + 2, final_attestation_form="test", final_attestation_hours=2,
                                        result_scale="pass_fail")
        programmes.set_curriculum(p, [{"title": f"Модуль {i}", "lecture_hours": 10} for i in range(1, 6)], by=teacher)
        programmes.submit_for_review(p, [expert], by=teacher)
        programmes.review(p, by=expert, action="approve")
        programmes.publish(p, by=expert)
        run = runs.open_run(p, org, by=teacher, teachers=[teacher], name="Поток", starts_on=date.today(),
                            ends_on=date.today() + timedelta(days=60), groups=["Группа 1", "Группа 2"])
        sections = db.session.scalars(select(Section).where(Section.run_id == run.id)).all()
        previous = None
        for i in range(activities):
            a = content.save_activity(sections[i % len(sections)], {
                "kind": "assignment" if i % 10 == 9 else "page", "title": f"Материал {i + 1}", "planned_hours": 1,
                "completion": "viewed", "max_points": 10, "pass_points": 5,
                "body": "<p>Текст</p>", "requires_activity_id": previous.id if previous and i % 5 == 1 else None,
                "group_id": run.groups[i % 2].id if i % 7 == 0 else None}, by=teacher)
            previous = a
        db.session.commit()
        now = utcnow()
        users = [{"username": f"l{tag}_{i}", "surname": f"Слушатель{i}", "name": "Анна", "password_hash": pw,
                  "must_change_password": False, "is_active": True, "is_admin": False, "locale": "ru",
                  "prefs": {}, "created_at": now, "updated_at": now} for i in range(learners)]
        db.session.execute(insert(User), users)
        ids = list(db.session.scalars(select(User.id).where(User.username.like(f"l{tag}\\_%", escape="\\"))))
        db.session.execute(insert(Membership), [{"user_id": u, "organization_id": org.id, "role": "teacher",
                                                 "created_at": now, "updated_at": now} for u in ids])
        db.session.execute(insert(Enrolment), [{
            "run_id": run.id, "user_id": u, "status": "active", "method": "csv", "note": "",
            "group_id": run.groups[n % 2].id, "requested_at": now, "created_at": now, "updated_at": now}
            for n, u in enumerate(ids)])
        acts = list(db.session.scalars(select(Activity.id).where(Activity.run_id == run.id)))
        db.session.execute(insert(ActivityProgress), [
            {"run_id": run.id, "activity_id": a, "user_id": u, "viewed_at": now, "completed_at": now,
             "attended_minutes": 0} for u in ids for a in acts[: len(acts) // 2]])
        db.session.commit()
        return {"run": run.id, "teacher": teacher.username, "learner": f"l{tag}_0"}


def _client(app, username: str):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": "bench-pass-2026"})
    if response.status_code != 302:
        raise SystemExit(f"login as {username} failed: {response.status_code}")
    return client


def _count_sql(app, client, url: str) -> tuple[int, int]:
    """Statements of one request of ``url`` rendered afresh (the caches emptied) and of the next one."""
    from sqlalchemy import event

    from lms.core.pagecache import clear_all
    from lms.extensions import db

    with app.app_context():
        engine = db.engine
    client.get(url)  # warm: templates compiled, statements cached, the session's CSRF token made
    counts = []
    for fresh in (True, False):
        seen = []

        def before(conn, cursor, statement, *args, seen=seen):
            if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE")):
                seen.append(statement)

        if fresh:
            clear_all()
        event.listen(engine, "before_cursor_execute", before)
        response = client.get(url)
        event.remove(engine, "before_cursor_execute", before)
        if response.status_code != 200:
            raise SystemExit(f"GET {url}: HTTP {response.status_code}")
        counts.append(len(seen))
    return counts[0], counts[1]


def main(argv=None) -> int:
    import secrets
    import sys

    from bench.dashboard import Server, load, login

    args = _args(argv)
    folder = Path(tempfile.mkdtemp(prefix="lms-bench-course-"))
    try:
        app = _app(folder)
        t0 = time.perf_counter()
        small = _seed(app, 10, 5, "s")
        large = _seed(app, args.learners, args.activities, "l")
        say(f"seeded in {time.perf_counter() - t0:.1f} s: small run 10 learners × 5 activities, large run "
            f"{args.learners} learners × {args.activities} activities")
        chosen = set(args.pages.split(","))
        pages = [page for name, page in PAGES.items() if name in chosen]
        say("\nSQL statements per page (the same count for both runs means no query per row);\n"
            "rendered: the page made afresh; cached: the next request, served from the page cache")
        say(f"{'page':<26}{'rendered, small':>16}{'large':>7}{'cached, small':>15}{'large':>7}")
        for label, who, url, _marker in pages:
            (fresh_s, hit_s), (fresh_l, hit_l) = [_count_sql(app, _client(app, run[who]), url.format(run=run["run"]))
                                                  for run in (small, large)]
            grows = "" if (fresh_s, hit_s) == (fresh_l, hit_l) else "   GROWS"
            say(f"{label:<26}{fresh_s:>16}{fresh_l:>7}{hit_s:>15}{hit_l:>7}{grows}")
        with app.app_context():
            from lms.extensions import db

            db.engine.dispose()

        env = dict(os.environ)
        env.pop("LMS_SOCKETIO_MESSAGE_QUEUE", None)
        env.update({"LMS_DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
                    "LMS_STORAGE_URL": f"file://{folder / 'storage'}", "LMS_INSTANCE_PATH": str(folder / "instance"),
                    "LMS_SECRET_KEY": secrets.token_urlsafe(32), "LMS_BENCH_ROUTES": "1",
                    "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
        server = Server(env, args.threads, folder / "gunicorn.log")
        results = []
        try:
            server.wait_healthy()
            cookies = {who: login(server.port, large[who], "bench-pass-2026", marker)
                       for who, marker in (("learner", "Слушатель0"), ("teacher", "Тестов"))}
            for label, who, url, marker in pages:
                bare, page = [], []
                for _ in range(args.rounds):
                    bare.append(load(server, "/_bench/bare", args, "", ["ok"]))
                    page.append(load(server, url.format(run=large["run"]), args, cookies[who], [marker]))
                results.append((label, bare, page))
        finally:
            server.stop()
        say(f"\nOver HTTP, large run, gunicorn gthread 1 worker × {args.threads} threads, {args.connections} "
            f"connections, {args.rounds} × ({args.warmup:.0f} s warm-up + {args.duration:.0f} s), medians")
        say(f"{'page':<26}{'page rps':>10}{'bare rps':>10}{'ratio':>8}{'page p95':>11}{'errors':>8}"
        f"{'server CPU':>12}{'client CPU':>12}  target ≥ {TARGET}")
        for label, bare, page in results:
            b = statistics.median(r["rps"] for r in bare)
            p = statistics.median(r["rps"] for r in page)
            p95 = statistics.median(r["p95_ms"] for r in page)
            errors = sum(r["errors"] for r in bare + page)
            ratio = p / b if b else 0
            server_cpu = statistics.median(r.get("server_cpu_pct") or 0 for r in page)
            client_cpu = statistics.median(r.get("client_cpu_pct") or 0 for r in page)
            say(f"{label:<26}{p:>10.1f}{b:>10.1f}{ratio:>8.3f}{p95:>9.1f} ms{errors:>8}{server_cpu:>11.0f}%"
                f"{client_cpu:>11.0f}%  {'PASS' if ratio >= TARGET and not errors else 'FAIL'}")
        say(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; Python {sys.version.split()[0]}")
    finally:
        if args.keep:
            say(f"kept: {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
