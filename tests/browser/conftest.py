"""Headless Chromium against the real application served on a free loopback port.

- ``browser`` (session): one Chromium for the whole run. Without /usr/bin/chromium (Debian package
  ``chromium``; LMS_CHROMIUM names another binary) the tests are skipped, unless LMS_REQUIRE_BROWSER=1
  (CI), when they fail.
- ``live_server`` (module): a fresh SQLite database migrated to head and loaded with the demo network,
  served by werkzeug in a thread. Every demo login (admin, coordinator, orgadmin, teacher, student,
  parent, …) has the password ``DEMO_PASSWORD``.
- ``ui``: opens pages as a given user (one logged-in browser context per user and module), runs axe-core
  and records console messages, page errors and CSP violations.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

#: Debian's package; LMS_CHROMIUM names another Chromium binary.
CHROMIUM = Path(os.environ.get("LMS_CHROMIUM") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PROJECT_ROOT = Path(__file__).resolve().parents[2]
AXE_JS = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
#: The test server serves axe from this same-origin path, so it runs under the real CSP (script-src 'self'),
#: the page's own CSP violations are checked in the same visit, and the browser caches it between pages.
AXE_PATH = "/__test__/axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
DEMO_PASSWORD = "Demo-browser-2026"


def _unavailable(reason: str) -> None:
    if os.environ.get("LMS_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (LMS_REQUIRE_BROWSER=1 makes this an error)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        _unavailable(f"headless Chromium not found at {CHROMIUM}: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed: pip install -e '.[test]'")
    with sync_playwright() as pw:
        try:
            instance = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        except Exception as exc:  # noqa: BLE001 - any launch failure means "no browser here"
            _unavailable(f"Chromium at {CHROMIUM} did not start: {exc}")
        yield instance
        instance.close()


@dataclass
class LiveServer:
    url: str
    app: object
    ids: dict[str, int | str]  # ids by «kind:name», and verification codes («code:1»)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    from flask import send_file
    from flask_migrate import upgrade
    from sqlalchemy import select
    from werkzeug.serving import make_server

    from lms import create_app
    from lms.accounts.models import User
    from lms.demo import load_demo
    from lms.extensions import db
    from lms.orgs.models import Organization
    from tests import conftest as base

    tmp = tmp_path_factory.mktemp("browser")
    app = create_app(base.test_config(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp / 'lms.sqlite3'}",
        STORAGE_URL=f"file://{tmp / 'storage'}",
        SERVER_NAME=None,
    ))
    with app.app_context():
        upgrade()
        load_demo(DEMO_PASSWORD)
        db.session.commit()
        ids = {f"user:{u.username}": u.id for u in db.session.scalars(select(User))}
        ids.update({f"org:{o.code}": o.id for o in db.session.scalars(select(Organization))})
        from lms.courses.models import Programme

        # programme:1 … the demo programmes in the order lms/courses/demo.py creates them
        ids.update({f"programme:{n}": p.id for n, p in enumerate(
            db.session.scalars(select(Programme).order_by(Programme.id)), start=1)})
        from lms.courses.models import Activity, Certificate, CourseRun, Section, Submission

        ids.update({f"section:{n}": x.id for n, x in enumerate(
            db.session.scalars(select(Section).order_by(Section.id)), start=1)})
        ids.update({f"activity:{n}": a.id for n, a in enumerate(
            db.session.scalars(select(Activity).order_by(Activity.id)), start=1)})

        ids.update({f"submission:{n}": x.id for n, x in enumerate(
            db.session.scalars(select(Submission).order_by(Submission.id)), start=1)})

        ids.update({f"certificate:{n}": c.id for n, c in enumerate(
            db.session.scalars(select(Certificate).order_by(Certificate.id)), start=1)})
        ids.update({f"code:{n}": c.code for n, c in enumerate(
            db.session.scalars(select(Certificate).order_by(Certificate.id)), start=1)})

        ids.update({f"run:{n}": r.id for n, r in enumerate(
            db.session.scalars(select(CourseRun).order_by(CourseRun.id)), start=1)})
        db.session.remove()
    app.add_url_rule(AXE_PATH, "test_axe_js", lambda: send_file(AXE_JS, mimetype="text/javascript", max_age=3600))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app, ids=ids)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


@dataclass
class Tab:
    """One page of a browser context with what it reported since the last ``goto``."""

    page: object
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def goto(self, path: str):
        self.console_errors.clear()
        self.page_errors.clear()
        return self.page.goto(path, wait_until="load")

    @property
    def csp_errors(self) -> list[str]:
        return [m for m in self.console_errors if "Content Security Policy" in m]

    def axe(self) -> list[dict]:
        """Violations of axe-core's WCAG 2.1 A/AA and best-practice rules on the current page."""
        if not AXE_JS.exists():
            pytest.fail(f"{AXE_JS} is missing: run `npm ci` (make setup)", pytrace=False)
        self.page.add_script_tag(url=AXE_PATH)
        return self.page.evaluate(
            """async (tags) => {
                const r = await axe.run(document, {runOnly: tags, resultTypes: ['violations']});
                return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))}));
            }""",
            AXE_TAGS,
        )

    def horizontal_overflow(self) -> list[str]:
        """Elements sticking out of the viewport sideways (empty when the page does not scroll sideways)."""
        return self.page.evaluate(
            """() => {
                const root = document.documentElement;
                if (root.scrollWidth <= root.clientWidth + 1) return [];
                const out = [];
                for (const el of document.body.querySelectorAll('*')) {
                    const r = el.getBoundingClientRect();
                    if (r.right > root.clientWidth + 1 && r.width > 0) {
                        out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}`
                                 + `${el.className ? '.' + String(el.className).split(' ').join('.') : ''}`
                                 + ` right=${Math.round(r.right)}`);
                    }
                }
                return [`scrollWidth=${root.scrollWidth} clientWidth=${root.clientWidth}`, ...out.slice(0, 15)];
            }"""
        )

    def login(self, username: str, password: str = DEMO_PASSWORD) -> None:
        self.goto("/login")
        self.page.fill("#username", username)
        self.page.fill("#password", password)
        with self.page.expect_navigation():
            self.page.click("main button[type=submit]")
        assert "/login" not in self.page.url, f"login as {username} failed: {self.page.inner_text('main')[:500]}"

    def body_classes(self) -> list[str]:
        return (self.page.get_attribute("body", "class") or "").split()


def format_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']}")
        for n in v["nodes"][:10]:
            summary = " ".join((n["summary"] or "").split())[:300]
            lines.append(f"    {n['target']} — {summary}")
    return "\n".join(lines)


class UI:
    """Browser contexts of one module: ``ui.tab('orgadmin')`` is a logged-in page, ``ui.tab(None)`` anonymous."""

    def __init__(self, browser, server: LiveServer):
        self.browser = browser
        self.server = server
        self._tabs: dict[object, Tab] = {}
        self._contexts = []
        self._logins: dict[str, dict] = {}  # username → cookies of a session logged in through the form

    def new_tab(self, username: str | None = None, *, fresh_login: bool = False, **context_options) -> Tab:
        """A fresh context logged in as ``username`` (None: a visitor). The first login of a user goes through
        the login form; later contexts reuse its session cookie unless ``fresh_login``."""
        options = {"base_url": self.server.url, "locale": "ru-RU", "viewport": {"width": 1280, "height": 800}}
        options.update(context_options)
        reuse = username and not fresh_login and username in self._logins
        if reuse:
            options["storage_state"] = self._logins[username]
        context = self.browser.new_context(**options)
        self._contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        tab = Tab(page)
        page.on("console", lambda msg: tab.console_errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: tab.page_errors.append(str(exc)))
        if username and not reuse:
            tab.login(username)
            if not fresh_login:
                self._logins[username] = context.storage_state()
        return tab

    def tab(self, username: str | None) -> Tab:
        """A shared logged-in tab per user (1280×800 unless a test resizes it) for tests that only look."""
        if username not in self._tabs:
            self._tabs[username] = self.new_tab(username)
        return self._tabs[username]

    def visitor(self) -> Tab:
        """The shared tab of a visitor, with no cookies: a fresh session."""
        tab = self.tab(None)
        tab.page.context.clear_cookies()
        tab.page.set_viewport_size({"width": 1280, "height": 800})
        return tab

    def close(self) -> None:
        for context in self._contexts:
            context.close()


@pytest.fixture(scope="module")
def ui(browser, live_server) -> Iterator[UI]:
    instance = UI(browser, live_server)
    yield instance
    instance.close()
