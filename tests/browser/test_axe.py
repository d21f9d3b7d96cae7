"""axe-core (WCAG 2.1 A/AA + best practice) on the main pages, in the standard version and in every colour
scheme of the version for visually impaired users; every page also keeps its CSP and runs without a CSP
violation or a script error."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import format_violations

pytestmark = pytest.mark.browser

BLOCKING = {"serious", "critical"}

#: (user or None for a visitor, path, expected status); <user:login> and <org:code> are replaced by ids.
PAGES = [
    (None, "/login", 200),
    (None, "/password/reset", 200),
    (None, "/no-such-page", 404),
    ("coordinator", "/", 200),
    ("orgadmin", "/", 200),
    ("teacher", "/", 200),
    ("student", "/", 200),
    ("parent", "/", 200),
    ("admin", "/", 200),
    ("orgadmin", "/people", 200),
    ("orgadmin", "/people/<user:student>", 200),
    ("orgadmin", "/people/<user:student>/edit", 200),
    ("orgadmin", "/people/<user:student>/merge", 200),
    ("orgadmin", "/people/<user:student>/parents", 200),
    ("orgadmin", "/people/new", 200),
    ("orgadmin", "/audit", 200),
    ("parent", "/people/<user:student>", 200),
    ("admin", "/outbox", 200),
    ("student", "/profile", 200),
    ("student", "/accessibility", 200),
    ("student", "/password/change", 200),
    ("teacher", "/no-such-page", 404),
    ("methodologist", "/programmes", 200),
    ("methodologist", "/programmes/new", 200),
    ("methodologist", "/programmes/<programme:2>", 200),
    ("methodologist", "/programmes/<programme:4>", 200),
    ("methodologist", "/programmes/<programme:4>/curriculum", 200),
    ("methodologist", "/programmes/<programme:4>/submit", 200),
    ("lecturer", "/programmes/<programme:3>", 200),
    ("student", "/catalogue", 200),
    ("student", "/my/courses", 200),
    ("orgadmin", "/runs/<run:1>", 200),
    ("methodologist", "/runs/<run:1>/enrolments", 200),
    ("coordinator", "/programmes/<programme:1>/runs/new", 200),
    ("teacher", "/runs/<run:1>/course", 200),
    ("methodologist", "/runs/<run:1>/course", 200),
    ("teacher", "/activities/<activity:1>", 200),
    ("teacher", "/activities/<activity:3>", 200),
    ("methodologist", "/activities/<activity:3>/submissions", 200),
    ("methodologist", "/submissions/<submission:1>/grade", 200),
    ("methodologist", "/submissions/<submission:2>/grade", 200),
    ("methodologist", "/runs/<run:1>/group", 200),
    ("methodologist", "/runs/<run:1>/gradebook", 200),
    ("teacher", "/runs/<run:1>/grades", 200),
    ("teacher", "/calendar", 200),
    ("teacher", "/notifications", 200),
    ("methodologist", "/sections/<section:1>/activities/new?kind=assignment", 200),
    ("teacher", "/certificates", 200),
    ("cro_admin", "/orgs/<org:cro>/certificates", 200),
    ("cro_admin", "/certificates/<certificate:1>", 200),
    ("cro_admin", "/orgs/<org:cro>/certificates/new", 200),
    ("cro_admin", "/orgs/<org:cro>/certificates/settings", 200),
    ("coordinator", "/certificates/frdo", 200),
    (None, "/verify", 200),
    (None, "/verify/<code:1>", 200),
    (None, "/verify/no-such-code-1234", 404),
    # Question banks: the ЦРО's bank of the demo (its methodologist edits it; school 1's teacher uses it).
    ("methodologist", "/banks", 200),
    ("methodologist", "/banks/new", 200),
    ("methodologist", "/banks/<bank:1>", 200),
    ("teacher", "/banks/<bank:1>", 200),
    ("methodologist", "/banks/<bank:1>/import", 200),
    ("methodologist", "/categories/<category:1>/edit", 200),
    ("methodologist", "/banks/<bank:1>/questions/new", 200),
    ("methodologist", "/banks/<bank:1>/questions/new?qtype=ordering", 200),
    ("methodologist", "/banks/<bank:1>/questions/new?qtype=gapselect", 200),
    ("methodologist", "/banks/<bank:1>/questions/new?qtype=truefalse", 200),
    ("methodologist", "/questions/<question:1>", 200),
    ("methodologist", "/questions/<question:1>/edit", 200),
    ("methodologist", "/questions/<question:2>/edit", 200),
    ("methodologist", "/questions/<question:5>/edit", 200),
    ("methodologist", "/questions/<question:8>/edit", 200),
    ("methodologist", "/questions/<question:9>", 200),
    ("teacher", "/questions/<question:1>/preview", 200),
    ("teacher", "/questions/<question:5>/preview", 200),
    ("teacher", "/questions/<question:9>/preview", 200),
    # The teacher's pages of the demo quiz (the lyceum's course; its teacher uses the ЦРО's shared bank).
    ("teacher_lyceum6", "/quizzes/<quiz:1>/settings", 200),
    ("teacher_lyceum6", "/quizzes/<quiz:1>/questions?bank=<bank:1>", 200),
    ("teacher_lyceum6", "/quizzes/<quiz:1>/overrides", 200),
    ("teacher_lyceum6", "/quizzes/<quiz:1>/results", 200),
    ("teacher_lyceum6", "/quizzes/<quiz:1>/grading?all=1", 200),
    ("teacher_lyceum6", "/quizzes/<quiz:1>/statistics", 200),
]

#: Pages other parts of the application are still adding: checked when they render, skipped before.
OPTIONAL_PAGES = [
    ("admin", "/orgs"),
    ("orgadmin", "/orgs"),
    ("orgadmin", "/orgs/<org:school1>"),
    ("admin", "/years"),
    ("admin", "/municipalities"),
    ("orgadmin", "/people/import"),
]


def _resolve(live_server, path: str) -> str:
    if re.search(r"<(bank|question|category):", path) and "bank:1" not in live_server.ids:
        _add_bank_ids(live_server)
    if "<quiz:" in path and "quiz:1" not in live_server.ids:
        _add_quiz_ids(live_server)
    return re.sub(r"<(\w+:\w+)>", lambda m: str(live_server.ids[m.group(1)]), path)


def _add_bank_ids(live_server) -> None:
    """bank:1 …, question:1 …, category:1 … in the order lms/assessment/demo.py creates them."""
    from sqlalchemy import select

    from lms.assessment.models import Question, QuestionBank, QuestionCategory
    from lms.extensions import db

    with live_server.app.app_context():
        for kind, model in (("bank", QuestionBank), ("question", Question), ("category", QuestionCategory)):
            live_server.ids.update({f"{kind}:{n}": x.id for n, x in enumerate(
                db.session.scalars(select(model).order_by(model.id)), start=1)})
        db.session.remove()


def _add_quiz_ids(live_server) -> None:
    """quiz:1 … — the activities of kind «quiz», in the order the demo creates them."""
    from sqlalchemy import select

    from lms.courses.models import Activity
    from lms.extensions import db

    with live_server.app.app_context():
        live_server.ids.update({f"quiz:{n}": a.id for n, a in enumerate(
            db.session.scalars(select(Activity).where(Activity.kind == "quiz").order_by(Activity.id)), start=1)})
        db.session.remove()


def _ids(params) -> str:
    return f"{params[0] or 'visitor'} {params[1]}"


def check_page(tab, response, *, status: int = 200) -> None:
    """What a user of the page would notice: the page, its CSP, no blocked resource, no script error,
    no serious accessibility barrier."""
    assert response is not None and response.status == status, \
        f"{tab.page.url}: HTTP {response.status if response else None}, expected {status}"
    csp = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp and "style-src 'self'" in csp, f"CSP missing or weakened: {csp!r}"
    violations = tab.axe()
    assert not tab.csp_errors, "CSP violations:\n" + "\n".join(tab.csp_errors)
    assert not tab.page_errors, "script errors:\n" + "\n".join(tab.page_errors)
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    if len(blocking) < len(violations):  # shown with `pytest -rP` or `-s`
        print(f"axe, not blocking, on {tab.page.url}:\n{format_violations(violations)}")
    assert not blocking, f"axe on {tab.page.url}:\n{format_violations(blocking)}"


@pytest.mark.parametrize(("user", "path", "status"), PAGES, ids=[_ids(p) for p in PAGES])
def test_page_is_accessible(ui, live_server, user, path, status):
    tab = ui.tab(user) if user else ui.visitor()
    response = tab.goto(_resolve(live_server, path))
    check_page(tab, response, status=status)


@pytest.mark.parametrize(("user", "path"), OPTIONAL_PAGES, ids=[_ids(p) for p in OPTIONAL_PAGES])
def test_newer_page_is_accessible(ui, live_server, user, path):
    tab = ui.tab(user)
    response = tab.goto(_resolve(live_server, path))
    if response.status != 200 or not tab.page.locator("main#content").count():
        pytest.skip(f"{path} is not rendered yet (HTTP {response.status}, no page layout)")
    check_page(tab, response)


def test_forms_with_errors_are_accessible(ui):
    """A form sent back with errors: the summary, the marked fields and their messages pass axe too."""
    tab = ui.visitor()
    tab.goto("/login")
    tab.page.click("main button[type=submit]")
    tab.page.wait_for_selector(".error-summary")
    violations = [v for v in tab.axe() if v["impact"] in BLOCKING]
    assert not violations, format_violations(violations)

    tab = ui.tab("orgadmin")
    tab.goto("/people/new")
    with tab.page.expect_navigation():
        tab.page.click("main button[type=submit]")
    assert tab.page.locator(".field--error").count(), "the empty form should come back with errors"
    violations = [v for v in tab.axe() if v["impact"] in BLOCKING]
    assert not violations, format_violations(violations)


#: scheme → settings and the body colours (text, background) the stylesheet must produce.
SCHEMES = {
    "bw": ({"size": "normal", "images": "on", "spacing": "normal"}, "rgb(0, 0, 0)", "rgb(255, 255, 255)"),
    "wb": ({"size": "large", "images": "off", "spacing": "normal"}, "rgb(255, 255, 255)", "rgb(0, 0, 0)"),
    "blue": ({"size": "xlarge", "images": "off", "spacing": "wide"}, "rgb(6, 52, 98)", "rgb(157, 209, 255)"),
    "beige": ({"size": "large", "images": "on", "spacing": "wide"}, "rgb(77, 75, 67)", "rgb(247, 243, 214)"),
}


@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_version_for_visually_impaired_is_accessible(ui, scheme):
    settings, fg, bg = SCHEMES[scheme]
    tab = ui.tab("gym3_admin")  # used by this test only: it changes the user's display settings
    tab.goto("/accessibility")
    page = tab.page
    page.check("input[name=on][value='1']")
    page.check(f"input[name=scheme][value='{scheme}']")
    for key, value in settings.items():
        page.check(f"input[name={key}][value='{value}']")
    with page.expect_navigation():
        page.click(".a11y-form .btn--primary")
    # The dashboard in every scheme; the people list (filters, table, pager) in the dark one.
    for path in ("/", "/people") if scheme == "wb" else ("/",):
        response = tab.goto(path)
        classes = tab.body_classes()
        assert {"a11y", f"a11y-scheme-{scheme}", f"a11y-size-{settings['size']}"} <= set(classes), classes
        colours = page.evaluate("""() => {
            const s = (sel) => getComputedStyle(document.querySelector(sel));
            return [s('body').color, s('body').backgroundColor, s('main a:not(.btn)').color,
                    s('.site-header button').color, s('.site-header button').backgroundColor];
        }""")
        assert colours == [fg, bg, fg, fg, bg], f"{path}: text/background/link/button colours {colours}"
        check_page(tab, response)


def test_import_check_and_result_pages_are_accessible(ui, live_server):
    """The dry run of a CSV file with a bad line (error table) and of a good one (result and next step)."""
    tab = ui.tab("orgadmin")
    response = tab.goto("/people/import")
    page = tab.page
    if response.status != 200 or not page.locator("main input[type=file]").count():
        pytest.skip(f"/people/import is not rendered yet (HTTP {response.status})")
    files = {
        "bad": "username;lastname;firstname;role;grade;classletter\n"
               "pupil_ok;Новиков;Пётр;student;5;Б\npupil_bad;Новикова;;wizard;15;Б\n",
        "good": "username;lastname;firstname;role;grade;classletter\npupil_ok;Новиков;Пётр;student;5;Б\n",
    }
    for name, text in files.items():
        tab.goto("/people/import")
        page.set_input_files("main input[type=file]", files=[
            {"name": f"{name}.csv", "mimeType": "text/csv", "buffer": text.encode()}])
        page.select_option("main select", value=str(live_server.ids["org:school1"]))
        with page.expect_navigation():
            page.click("main form .btn--primary")
        assert "/people/import/" in page.url, f"{name}.csv: still on {page.url}: {page.inner_text('main')[:500]}"
        if name == "bad":
            assert page.locator("main table tbody tr").count() >= 1, "the bad line should be listed"
        violations = [v for v in tab.axe() if v["impact"] in BLOCKING]
        assert not violations, f"{name}.csv: {format_violations(violations)}"
        assert not tab.csp_errors and not tab.page_errors, tab.csp_errors + tab.page_errors
