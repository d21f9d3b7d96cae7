"""Issuing certificates with PDFs, against bare WeasyPrint: ``python -m bench.certificates``.

A fresh temporary SQLite database (migrated with ``flask db upgrade``) and local storage; one organization,
one published 72-hour programme and ``--count`` people. Then, in one process:

1. baseline — WeasyPrint renders the HTML of one certificate ``--baseline`` times: no database, no storage;
2. issue — the people get their certificates in one bulk issue (one transaction, one numbering pass,
   audit rows and the ``certificate_issued`` signal), committed;
3. PDFs — every certificate's PDF is rendered from its template in the sandbox and put into storage,
   the storage keys committed every 100;
4. memory — another ``--memory-count`` certificates issued and printed under ``tracemalloc``.

Prints PDFs per second for the baseline and for the whole issue + PDF run, the ratio of the two, the
time of each phase, the Python heap peak (tracemalloc) and the process's peak RSS. A measurement: there
is no target to fail.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.certificates", description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=1000, help="certificates issued with PDFs (1000)")
    p.add_argument("--baseline", type=int, default=200, help="bare WeasyPrint renderings (200)")
    p.add_argument("--memory-count", type=int, default=100, help="certificates printed under tracemalloc (100)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder")
    return p.parse_args(argv)


def say(msg: str) -> None:
    print(msg, flush=True)  # noqa: T201


def _app(folder: Path):
    os.environ["LMS_INSTANCE_PATH"] = str(folder / "instance")
    from lms import create_app

    app = create_app({
        "SECRET_KEY": "bench", "TESTING": False,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite3'}",
        "STORAGE_URL": f"file://{folder / 'storage'}",
        "BASE_URL": "https://lms.example.ru", "MAIL_SERVER": None,
    })
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    return app


def _seed(count: int):
    """An organization, a published programme and ``count`` + spare people (rows written directly)."""
    from lms.accounts.models import User
    from lms.courses.models import Programme
    from lms.extensions import db
    from lms.orgs import services as orgs
    from lms.orgs.models import Membership

    municipality = orgs.create_municipality(name="Городской округ Дубна", time_zone="Europe/Moscow", by=None)
    org = orgs.create_organization(municipality, by=None, code="cro", kind="methodological_office",
                                   name="Центр развития образования", short_name="ЦРО")
    programme = Programme(owner_organization_id=org.id, title="Цифровые технологии для трансформации школы",
                          kind="pd", audience="teachers", total_hours=72, final_attestation_form="project",
                          result_scale="pass_fail", status="published")
    db.session.add(programme)
    db.session.flush()
    people = [User(username=f"teacher{i}", surname="Преподавателева", name="Анна", patronymic="Сергеевна",
                   sex="f", birth_date=date(1980, 1, 1) + timedelta(days=i), is_active=True)
              for i in range(count)]
    db.session.add_all(people)
    db.session.flush()
    db.session.add_all([Membership(user_id=p.id, organization_id=org.id, role="teacher") for p in people])
    db.session.commit()
    return org, programme, people


def _items(people, programme):
    from lms.courses.certificates import IssueItem

    return [IssueItem(holder=p, programme=programme, kind="pd_certificate", hours=72,
                      study_start=date(2026, 2, 2), study_end=date(2026, 3, 27)) for p in people]


def _issue_and_print(org, programme, people) -> tuple[float, float]:
    """Issue in one transaction, then print and store every PDF; returns (issue seconds, PDF seconds)."""
    from lms.courses import certificates as services
    from lms.extensions import db

    started = time.perf_counter()
    certificates = services.issue_certificates(org, _items(people, programme), by=None, issued_on=date(2026, 3, 30))
    db.session.commit()
    issued = time.perf_counter()
    for i, cert in enumerate(certificates, 1):
        services.store_pdf(cert)
        if i % 100 == 0:
            db.session.commit()
    db.session.commit()
    return issued - started, time.perf_counter() - issued


def _baseline(html: str, n: int) -> float:
    from lms.core.pdf import render_pdf

    started = time.perf_counter()
    for _ in range(n):
        render_pdf(html)
    return time.perf_counter() - started


def run(args: argparse.Namespace) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="lms-bench-certs-"))
    try:
        app = _app(folder)
        with app.app_context():
            from lms.courses import certificates as services
            from lms.extensions import db

            org, programme, people = _seed(args.count + args.memory_count + 1)
            sample = services.issue_certificate(people[-1], org, programme=programme, kind="pd_certificate",
                                                hours=72, study_start=date(2026, 2, 2), study_end=date(2026, 3, 27),
                                                issued_on=date(2026, 3, 30), by=None)
            db.session.commit()
            html = services.certificate_html(sample)
            services.store_pdf(sample)  # warm up fonts, Pango and the template cache
            db.session.commit()

            say(f"baseline: WeasyPrint renders one certificate's HTML {args.baseline} times …")
            base_seconds = _baseline(html, args.baseline)
            say(f"issue: {args.count} certificates in one bulk issue, then their PDFs into storage …")
            issue_seconds, pdf_seconds = _issue_and_print(org, programme, people[:args.count])

            say(f"memory: {args.memory_count} more under tracemalloc …")
            tracemalloc.start()
            _issue_and_print(org, programme, people[args.count:args.count + args.memory_count])
            _current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            stored = sum(1 for _ in (folder / "storage" / "objects").rglob("*.pdf"))
        maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        total = issue_seconds + pdf_seconds
        result = {
            "count": args.count,
            "baseline_pdfs_per_second": args.baseline / base_seconds,
            "pdfs_per_second": args.count / total,
            "ratio": (args.count / total) / (args.baseline / base_seconds),
            "issue_seconds": issue_seconds,
            "pdf_seconds": pdf_seconds,
            "total_seconds": total,
            "tracemalloc_peak_mib": peak / 2**20,
            "memory_count": args.memory_count,
            "maxrss_mib": maxrss_kib / 1024,
            "pdfs_stored": stored,
        }
        return result
    finally:
        if args.keep:
            say(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    r = run(args)
    say("")
    say(f"{'baseline (bare WeasyPrint)':<36}{r['baseline_pdfs_per_second']:>10.1f} PDFs/s")
    say(f"{'issue + PDF + storage':<36}{r['pdfs_per_second']:>10.1f} PDFs/s   "
        f"ratio {r['ratio']:.2f} of the baseline")
    say(f"{'  issue (1 transaction, numbering)':<36}{r['issue_seconds']:>10.2f} s for {r['count']}")
    say(f"{'  PDFs rendered and stored':<36}{r['pdf_seconds']:>10.2f} s")
    say(f"{'  total':<36}{r['total_seconds']:>10.2f} s")
    say(f"{'Python heap peak (tracemalloc)':<36}{r['tracemalloc_peak_mib']:>10.1f} MiB "
        f"while printing {r['memory_count']}")
    say(f"{'process peak RSS (ru_maxrss)':<36}{r['maxrss_mib']:>10.1f} MiB")
    say(f"{'PDF files in storage':<36}{r['pdfs_stored']:>10d}")
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
