"""A quiz attempt in a real browser loses nothing when the network drops: answer, go offline (DevTools), answer
more, see «Нет связи», come back online, reload, submit — every answer is recorded on the server."""

from __future__ import annotations

import time

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


def _files(app, attempt_id: int) -> list[str]:
    from lms.assessment.models import AttemptFile, QuestionAttempt
    from lms.extensions import db

    with app.app_context():
        names = list(db.session.scalars(select(AttemptFile.name).join(QuestionAttempt).where(
            QuestionAttempt.attempt_id == attempt_id).order_by(AttemptFile.id)))
        db.session.remove()
    return names


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

    # A reload while a save is on its way: the server may read the page before it stores the save, and the old
    # page may get the save's answer before it goes; the answer kept in the browser must stay for the new page.
    held = []

    def hold(route):
        held.append(route)

    page.route("**/attempts/*/save", hold)
    page.fill("#q2", "Ньютон (Н)")
    while not held:
        page.wait_for_timeout(50)

    def page_read_before_the_save(route):
        response = route.fetch()           # the page as the server has it before the save
        held.pop().continue_()
        time.sleep(1)                      # meanwhile the old page gets the save's answer
        route.fulfill(response=response)

    def the_attempt_page(url: str) -> bool:
        return url.split("?")[0].endswith(f"/attempts/{attempt_id}")

    page.route(the_attempt_page, page_read_before_the_save)
    page.reload(wait_until="load")
    page.unroute(the_attempt_page)
    page.unroute("**/attempts/*/save")
    assert page.input_value("#q2") == "Ньютон (Н)"
    page.wait_for_function(f"() => window.localStorage.getItem('lms-attempt-{attempt_id}') === null")
    assert _responses(live_server.app, attempt_id)[2] == {"": "Ньютон (Н)"}

    # Two pages of one attempt (another tab; or a page read before a save was stored, with no local storage to
    # put the answer back): the answer typed last is kept, though its page's numbering was behind the server's.
    behind = ui.new_tab("student")
    behind.goto(f"/attempts/{attempt_id}")
    page.fill("#q2", "Н")
    page.wait_for_function(f"() => window.localStorage.getItem('lms-attempt-{attempt_id}') === null")
    assert _responses(live_server.app, attempt_id)[2] == {"": "Н"}
    behind.page.fill("#q2", "Ньютон (Н)")
    behind.page.wait_for_function(f"() => window.localStorage.getItem('lms-attempt-{attempt_id}') === null")
    assert _responses(live_server.app, attempt_id)[2] == {"": "Ньютон (Н)"}
    assert not behind.page_errors
    behind.page.close()

    # The essay takes a file: sent as soon as it is chosen, removed with its button; a file chosen while the
    # connection is down is not lost: it stays chosen, and «Приложить» sends it once the connection is back.
    tab.goto(f"/attempts/{attempt_id}?page=4")
    # The essay (which takes files) is saved by the script after a reload too: its numbering goes on from the
    # server's, so the newer text is applied, not taken for an old save.
    essay = page.locator("section[data-slot] textarea")
    slot = int(essay.get_attribute("name")[1:])
    essay.fill("Грамотность — это уважение к читателю.")
    page.wait_for_function(f"() => window.localStorage.getItem('lms-attempt-{attempt_id}') === null")
    page.reload(wait_until="load")
    essay.fill("Грамотность — уважение к читателю и к себе.")
    page.wait_for_function(f"() => window.localStorage.getItem('lms-attempt-{attempt_id}') === null")
    assert _responses(live_server.app, attempt_id)[slot] == {"": "Грамотность — уважение к читателю и к себе."}
    files = page.locator("[data-files]")
    draft = {"name": "черновик.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8 draft"}
    page.set_input_files("[data-files] input[type=file]", files=[draft])
    files.locator("[data-files-list] li").filter(has_text="черновик.jpg").wait_for()
    assert _files(live_server.app, attempt_id) == ["черновик.jpg"]
    files.locator("[data-remove-file]").click()
    files.locator("[data-files-list] li").wait_for(state="detached")
    assert _files(live_server.app, attempt_id) == []
    page.context.set_offline(True)
    page.set_input_files("[data-files] input[type=file]", files=[{**draft, "name": "черновик-2.jpg"}])
    files.locator("[data-files-error]").wait_for(state="visible")
    assert "нет связи" in files.locator("[data-files-error]").inner_text()
    page.context.set_offline(False)
    files.locator("[data-attach]").click()
    files.locator("[data-files-list] li").filter(has_text="черновик-2.jpg").wait_for()
    assert files.locator("[data-files-error]").is_hidden()
    assert _files(live_server.app, attempt_id) == ["черновик-2.jpg"]

    with page.expect_navigation():
        page.click("button[name=goto][value=summary]")
    with page.expect_navigation():
        page.click("main form[action$='/submit'] button[type=submit]")
    assert f"/attempts/{attempt_id}/review" in page.url
    recorded = _responses(live_server.app, attempt_id)
    assert recorded["state"] == "finished"
    assert recorded[1] == {"": "true"} and recorded[2] == {"": "Ньютон (Н)"}
    assert "черновик-2.jpg" in page.content()
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
    # the manual grading of the essay, with its rubric
    check_page(teacher, teacher.goto(f"/quizzes/{activity_id}/grading"))
    link = teacher.page.locator("main table a[href*='/grading/']").first.get_attribute("href")
    check_page(teacher, teacher.goto(link))
    assert "Содержание" in teacher.page.content()  # the rubric's first criterion
