"""A quiz attempt in a real browser loses nothing when the network drops: answer, go offline (DevTools), answer
more, see «Нет связи», come back online, reload, submit — every answer is recorded on the server."""

from __future__ import annotations

import pytest
from sqlalchemy import select

pytestmark = pytest.mark.browser


def _quiz_activity_id(app) -> int:
    from lms.courses.models import Activity
    from lms.extensions import db

    with app.app_context():
        activity_id = db.session.scalar(select(Activity.id).where(Activity.kind == "quiz").order_by(Activity.id))
        db.session.remove()
    return activity_id


def _responses(app, attempt_id: int) -> dict[int, dict]:
    from lms.assessment.models import QuestionAttempt, QuizAttempt
    from lms.extensions import db

    with app.app_context():
        state = db.session.scalar(select(QuizAttempt.state).where(QuizAttempt.id == attempt_id))
        rows = {qa.slot: qa.response for qa in db.session.scalars(
            select(QuestionAttempt).where(QuestionAttempt.attempt_id == attempt_id))}
        db.session.remove()
    return {"state": state, **rows}


def test_answers_survive_a_lost_connection_and_a_reload(ui, live_server):
    tab = ui.new_tab("student")
    page = tab.page
    page.on("dialog", lambda dialog: dialog.accept())  # «the quiz has a time limit…», «once you submit…»
    tab.goto(f"/quizzes/{_quiz_activity_id(live_server.app)}")
    with page.expect_navigation():
        page.click("main form[action$='/start'] button[type=submit]")
    attempt_id = int(page.url.split("/attempts/")[1].split("?")[0])
    banner = page.locator("[data-offline-banner]")

    page.check("#q1-true")                                # «Сумма двух нечётных чисел всегда чётна» — true
    page.wait_for_function("() => document.querySelector('[data-save-status]').textContent.includes('сохранены')")
    assert _responses(live_server.app, attempt_id)[1] == {"": "true"}

    page.context.set_offline(True)
    page.fill("#q2", "ньютон")                            # the unit of force, typed while offline
    banner.wait_for(state="visible")
    assert "Нет связи" in banner.inner_text()
    assert _responses(live_server.app, attempt_id)[2] is None  # the server has not got it
    kept = page.evaluate(f"() => window.localStorage.getItem('lms-attempt-{attempt_id}')")
    assert "ньютон" in kept

    page.context.set_offline(False)
    page.reload(wait_until="load")
    assert page.input_value("#q2") == "ньютон"            # put back from the browser's storage
    # confirmed by the server: nothing is left waiting in the browser
    page.wait_for_function(f"() => window.localStorage.getItem('lms-attempt-{attempt_id}') === null")
    assert banner.is_hidden()
    assert _responses(live_server.app, attempt_id)[2] == {"": "ньютон"}

    # Saves failing while pages still load: a reload puts the unsent answer back from the browser's storage.
    page.route("**/attempts/*/save", lambda route: route.abort())
    page.fill("#q2", "Ньютон")
    banner.wait_for(state="visible")
    page.reload(wait_until="load")
    assert page.input_value("#q2") == "Ньютон"
    assert _responses(live_server.app, attempt_id)[2] == {"": "ньютон"}
    page.unroute("**/attempts/*/save")
    page.wait_for_function(f"() => window.localStorage.getItem('lms-attempt-{attempt_id}') === null", timeout=30_000)
    assert _responses(live_server.app, attempt_id)[2] == {"": "Ньютон"}

    with page.expect_navigation():
        page.click("button[name=goto][value=summary]")
    with page.expect_navigation():
        page.click("main form[action$='/submit'] button[type=submit]")
    assert f"/attempts/{attempt_id}/review" in page.url
    recorded = _responses(live_server.app, attempt_id)
    assert recorded["state"] == "finished"
    assert recorded[1] == {"": "true"} and recorded[2] == {"": "Ньютон"}
    assert not tab.page_errors and not tab.csp_errors, (tab.page_errors, tab.console_errors)


def test_quiz_pages_are_accessible(ui, live_server):
    """axe, CSP and script errors on every page of an attempt, as the learner and as the teacher."""
    from tests.browser.test_axe import check_page

    activity_id = _quiz_activity_id(live_server.app)
    teacher = ui.new_tab("teacher_lyceum6")
    check_page(teacher, teacher.goto(f"/quizzes/{activity_id}"))
    tab = ui.new_tab("student")
    page = tab.page
    page.on("dialog", lambda dialog: dialog.accept())
    check_page(tab, tab.goto(f"/quizzes/{activity_id}"))
    with page.expect_navigation():
        page.click("main form[action$='/start'] button[type=submit]")
    attempt_id = int(page.url.split("/attempts/")[1].split("?")[0])
    for number in range(1, 5):
        check_page(tab, tab.goto(f"/attempts/{attempt_id}?page={number}"))
    check_page(tab, tab.goto(f"/attempts/{attempt_id}/summary"))
    with page.expect_navigation():
        page.click("main form[action$='/submit'] button[type=submit]")
    check_page(tab, tab.goto(f"/attempts/{attempt_id}/review"))
    check_page(teacher, teacher.goto(f"/attempts/{attempt_id}/review"))
