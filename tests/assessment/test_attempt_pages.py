"""A learner's attempt over HTTP: the quiz page, starting, saving page by page without JavaScript and by the
page's script (idempotent, up to the server's deadline), submitting (fifty at once grade once), the review
options, nothing of the key in an open attempt's HTML or JSON, and answers surviving a server restart."""

from __future__ import annotations

import functools
import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.assessment import attempts, quizzes
from lms.assessment.models import AttemptState, QuestionAttempt, Quiz, QuizAttempt, QuizGrade
from lms.core.db import utcnow
from lms.courses.models import GradeChange
from lms.extensions import db
from tests.assessment.quiz_helpers import make_quiz_setup, right_values
from tests.courses.test_certificates import concurrent_app  # noqa: F401 - the fixture, shared
from tests.helpers import at_once


@pytest.fixture
def setup(world):
    return make_quiz_setup(world)


def start(client, setup) -> QuizAttempt:
    r = client.post(f"/quizzes/{setup.activity.id}/start")
    assert r.status_code == 303, r.get_data(as_text=True)
    attempt_id = int(re.search(r"/attempts/(\d+)", r.headers["Location"]).group(1))
    return db.session.get(QuizAttempt, attempt_id)


def autosave(client, attempt_id, answers):
    return client.post(f"/attempts/{attempt_id}/save", json={"answers": answers},
                       headers={"X-CSRFToken": client.csrf_token()})


def test_the_quiz_page_and_starting(client, login_as, world, setup):
    login_as(client, world.student_a)
    page = client.get(f"/quizzes/{setup.activity.id}").get_data(as_text=True)
    assert "Итоговый тест" in page and "Начать тестирование" in page
    assert client.get(f"/activities/{setup.activity.id}").status_code == 302  # the activity link leads here
    attempt = start(client, setup)
    again = start(client, setup)
    assert again.id == attempt.id  # a second «Start» continues the open attempt
    r = client.get(f"/attempts/{attempt.id}")
    assert r.status_code == 200 and 'data-save-url' in r.get_data(as_text=True)


def test_start_waits_for_the_activity_to_complete_first(client, login_as, world, setup):
    """«Start» opens the quiz as its activity page does: an activity that must be completed first is not enough
    viewed (the API: tests/api/test_assessment_api.py)."""
    from lms.courses import content
    from lms.courses.models import Section

    section = db.session.scalars(select(Section).where(Section.run_id == setup.run.id)).first()
    task = content.save_activity(section, {"kind": "assignment", "title": "Эссе к модулю", "completion": "submitted"},
                                 by=world.teacher_a)
    setup.activity.requires_activity_id = task.id
    db.session.commit()
    login_as(client, world.student_a)
    assert client.get(f"/activities/{task.id}").status_code == 200  # viewed, not completed
    r = client.post(f"/quizzes/{setup.activity.id}/start")
    assert r.status_code == 403 and "Эссе к модулю" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(QuizAttempt)) == 0


def test_an_open_attempt_reveals_no_key(client, login_as, world, setup):
    login_as(client, world.student_a)
    attempt = start(client, setup)
    html = "".join(client.get(f"/attempts/{attempt.id}?page={p}").get_data(as_text=True)
                   for p in range(1, attempt.pages + 1))
    for secret in ("Верно!", "Нет.", "столица с 1918", "fraction", "3.14", "0.005", "Пушкин", "feedback"):
        assert secret not in html, secret
    body = autosave(client, attempt.id, [{"slot": 1, "seq": 1, "values": {"": "0"}}]).get_json()
    assert set(body) == {"saved", "seconds_left"}
    assert set(body["saved"][0]) == {"slot", "seq", "applied"}


def test_without_javascript_the_page_form_saves_and_moves_on(client, login_as, world, setup):
    login_as(client, world.student_a)
    attempt = start(client, setup)
    first = [qa for qa in attempt.questions if qa.page == 1]
    data = {"page": "1", "goto": "2"}
    for qa in first:
        for suffix, value in right_values(qa).items():
            data[f"q{qa.slot}{suffix}"] = value
    r = client.post(f"/attempts/{attempt.id}", data=data)
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/attempts/{attempt.id}?page=2")
    for qa in first:
        db.session.refresh(qa)
        assert qa.response == right_values(qa) and qa.seq == 1
    page1 = client.get(f"/attempts/{attempt.id}?page=1").get_data(as_text=True)
    assert 'checked' in page1 or 'value="Пушкин"' in page1  # the answers are shown again


def test_script_saves_are_idempotent(client, login_as, world, setup):
    login_as(client, world.student_a)
    attempt = start(client, setup)
    r1 = autosave(client, attempt.id, [{"slot": 1, "seq": 3, "values": {"": "1"}}])
    r2 = autosave(client, attempt.id, [{"slot": 1, "seq": 3, "values": {"": "2"}}])
    r3 = autosave(client, attempt.id, [{"slot": 1, "seq": 2, "values": {"": "0"}}])
    assert [r.get_json()["saved"][0]["applied"] for r in (r1, r2, r3)] == [True, False, False]
    assert r3.get_json()["saved"][0]["seq"] == 3
    qa = db.session.scalar(select(QuestionAttempt).where(QuestionAttempt.attempt_id == attempt.id,
                                                         QuestionAttempt.slot == 1))
    assert qa.response == {"": "1"}
    bad = autosave(client, attempt.id, [{"slot": 1, "seq": 4, "values": ["нет"]}])
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "answers-1"
    assert client.post(f"/attempts/{attempt.id}/save", data="{", content_type="application/json",
                       headers={"X-CSRFToken": client.csrf_token()}).status_code == 422
    assert client.post(f"/attempts/{attempt.id}/save", json={"answers": []}).status_code == 400  # no CSRF token


def test_a_save_checks_the_session_as_every_page(app, client, login_as, world, setup):
    """A save checks who is asking inside its own statement: the same rules as ``load_user`` (a live session of
    the attempt's owner, active, within both timeouts), the session touched at most once a minute."""
    from lms.accounts.models import AuthSession

    login_as(client, world.student_a)
    attempt = start(client, setup)
    sessions = AuthSession.__table__

    def stored():
        return db.session.scalar(select(QuestionAttempt.response).where(QuestionAttempt.attempt_id == attempt.id,
                                                                        QuestionAttempt.slot == 1))

    db.session.execute(sessions.update().values(last_seen_at=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    assert autosave(client, attempt.id, [{"slot": 1, "seq": 1, "values": {"": "0"}}]).status_code == 200
    touched = db.session.scalar(select(AuthSession.last_seen_at).where(AuthSession.user_id == world.student_a.id))
    assert utcnow() - touched < timedelta(minutes=1)
    db.session.execute(sessions.update().values(
        created_at=utcnow() - timedelta(seconds=app.config["SESSION_ABSOLUTE_SECONDS"] + 5)))
    db.session.commit()
    r = autosave(client, attempt.id, [{"slot": 1, "seq": 2, "values": {"": "1"}}])
    assert r.status_code == 401 and "сеанс" in r.get_json()["error"]["message"].lower()
    assert db.session.scalar(select(func.count()).select_from(AuthSession).where(
        AuthSession.user_id == world.student_a.id)) == 0  # an expired session is ended, as by a page
    login_as(client, world.student_a)
    world.student_a.is_active = False  # deactivated, the session row left behind
    db.session.commit()
    assert autosave(client, attempt.id, [{"slot": 1, "seq": 3, "values": {"": "1"}}]).status_code == 401
    assert stored() == {"": "0"}


def test_one_request_may_carry_new_and_old_answers(client, login_as, world, setup):
    login_as(client, world.student_a)
    attempt = start(client, setup)
    assert autosave(client, attempt.id, [{"slot": 2, "seq": 3, "values": {"": "1"}}]).status_code == 200
    r = autosave(client, attempt.id, [{"slot": 1, "seq": 5, "values": {"": "1"}},
                                      {"slot": 2, "seq": 2, "values": {"": "0"}},
                                      {"slot": 3, "seq": 1, "values": {"": "2"}}])
    assert r.status_code == 200
    assert r.get_json()["saved"] == [{"slot": 1, "seq": 5, "applied": True}, {"slot": 2, "seq": 3, "applied": False},
                                     {"slot": 3, "seq": 1, "applied": True}]
    rows = dict(db.session.execute(select(QuestionAttempt.slot, QuestionAttempt.seq).where(
        QuestionAttempt.attempt_id == attempt.id, QuestionAttempt.slot <= 3)).all())
    assert rows == {1: 5, 2: 3, 3: 1}


def test_deadline_boundaries_over_http(client, login_as, world, monkeypatch):
    s = make_quiz_setup(world, time_limit=20, overdue="grace", grace_period=2)
    login_as(client, world.student_a)
    attempt = start(client, s)
    deadline = attempt.deadline
    import lms.assessment.routes_attempts as routes

    monkeypatch.setattr(routes, "utcnow", lambda: deadline - timedelta(seconds=1))
    assert autosave(client, attempt.id, [{"slot": 1, "seq": 1, "values": {"": "0"}}]).status_code == 200
    monkeypatch.setattr(routes, "utcnow", lambda: deadline + timedelta(seconds=1))
    late = autosave(client, attempt.id, [{"slot": 1, "seq": 2, "values": {"": "1"}}])
    assert late.status_code == 409 and "Время" in late.get_json()["error"]["message"]
    monkeypatch.setattr(routes, "utcnow", lambda: deadline + timedelta(minutes=2, seconds=1))
    closed = autosave(client, attempt.id, [{"slot": 1, "seq": 3, "values": {"": "1"}}])
    assert closed.status_code == 409
    monkeypatch.setattr(attempts, "utcnow", lambda: deadline + timedelta(minutes=2, seconds=1))
    r = client.post(f"/attempts/{attempt.id}/submit")
    assert r.status_code == 303
    db.session.refresh(attempt)
    assert attempt.state == AttemptState.ABANDONED
    qa = next(q for q in attempt.questions if q.slot == 1)
    db.session.refresh(qa)
    assert qa.response == {"": "0"}  # what was saved in time is kept


def test_writing_after_submit_is_refused(client, login_as, world, setup):
    login_as(client, world.student_a)
    attempt = start(client, setup)
    assert client.post(f"/attempts/{attempt.id}/submit").status_code == 303
    assert autosave(client, attempt.id, [{"slot": 1, "seq": 1, "values": {"": "0"}}]).status_code == 409
    r = client.post(f"/attempts/{attempt.id}", data={"page": "1", "q1": "0"})
    assert r.status_code == 303 and "/summary" in r.headers["Location"]
    assert client.get(f"/attempts/{attempt.id}").status_code == 302  # to the review
    assert client.post(f"/attempts/{attempt.id}/submit").status_code == 303  # again: the same result


def test_another_learner_cannot_see_or_answer(client, login_as, world, setup):
    login_as(client, world.student_a)
    attempt = start(client, setup)
    client.post("/logout")
    login_as(client, world.student_b)
    for url in (f"/attempts/{attempt.id}", f"/attempts/{attempt.id}/summary", f"/attempts/{attempt.id}/review"):
        assert client.get(url).status_code == 404, url
    assert autosave(client, attempt.id, [{"slot": 1, "seq": 9, "values": {"": "0"}}]).status_code == 404
    assert client.post(f"/attempts/{attempt.id}/submit").status_code == 404


def test_review_shows_what_the_options_allow(client, login_as, world, setup):
    login_as(client, world.student_a)
    attempt = start(client, setup)
    capital = next(q for q in attempt.questions if q.question_id == setup.questions["capital"].id)
    autosave(client, attempt.id, [{"slot": capital.slot, "seq": 1, "values": right_values(capital)}])
    client.post(f"/attempts/{attempt.id}/submit")
    page = client.get(f"/attempts/{attempt.id}/review").get_data(as_text=True)
    assert "Верно!" in page and "столица с 1918" in page and "Правильный ответ: Москва" in page
    setup.quiz.review = {**quizzes.DEFAULT_REVIEW, "immediately": ["attempt", "marks"]}
    db.session.commit()
    page = client.get(f"/attempts/{attempt.id}/review").get_data(as_text=True)
    assert "Верно!" not in page and "Правильный ответ" not in page
    setup.quiz.review = {**quizzes.DEFAULT_REVIEW, "immediately": []}
    db.session.commit()
    page = client.get(f"/attempts/{attempt.id}/review").get_data(as_text=True)
    assert "сейчас не показываются" in page and "Столица России" not in page
    client.post("/logout")
    login_as(client, world.teacher_a)
    page = client.get(f"/attempts/{attempt.id}/review").get_data(as_text=True)
    assert "Правильный ответ: Москва" in page  # the teacher sees everything


def _learner_with_an_attempt(app) -> tuple:
    """On an app with a real engine (``concurrent_app``): a quiz, its learner logged in, and their attempt
    started. Returns the learner's client and the attempt's id."""
    from tests.conftest import TEST_PASSWORD, Client
    from tests.factories import build_world

    app.test_client_class = Client
    with app.app_context():
        world = build_world(TEST_PASSWORD)
        s = make_quiz_setup(world, essay=False)
        db.session.commit()
        activity_id, username = s.activity.id, world.student_a.username
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": TEST_PASSWORD}).status_code == 302
    r = client.post(f"/quizzes/{activity_id}/start")
    return client, int(re.search(r"/attempts/(\d+)", r.headers["Location"]).group(1))


def test_answers_survive_a_server_restart(concurrent_app):  # noqa: F811 - the fixture
    """Answers saved through one process are on the page a new process serves (nothing lives in memory)."""
    from lms import create_app
    from tests.conftest import Client, test_config

    app = concurrent_app
    client, attempt_id = _learner_with_an_attempt(app)
    assert autosave(client, attempt_id, [{"slot": 1, "seq": 1, "values": {"": "2"}}]).status_code == 200
    cookie = client.get_cookie("lms_session", domain="lms.test")
    with app.app_context():
        db.engine.dispose()
    restarted = create_app(test_config(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                                       SQLALCHEMY_ENGINE_OPTIONS=app.config["SQLALCHEMY_ENGINE_OPTIONS"]))
    restarted.test_client_class = Client
    other = restarted.test_client()
    other.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
    page = other.get(f"/attempts/{attempt_id}?page=1").get_data(as_text=True)
    assert re.search(r'name="q1" id="q1-2" value="2"[^>]*checked', page), page[:3000]
    with restarted.app_context():
        db.session.remove()
        db.engine.dispose()


def test_fifty_simultaneous_submits_grade_once(concurrent_app):  # noqa: F811 - the fixture
    """Fifty threads, each with its own session and connection, submit the same attempt at once."""
    from tests.factories import build_world

    app = concurrent_app
    with app.app_context():
        world = build_world("Test-pass-2026")
        s = make_quiz_setup(world, essay=False)
        attempt = attempts.start(s.quiz, world.student_a)
        db.session.commit()
        for qa in attempt.questions:
            attempts.save(attempt.id, world.student_a.id, [(qa.slot, 1, right_values(qa))])
        db.session.commit()
        attempt_id, user_id = attempt.id, world.student_a.id

    def worker() -> None:
        with app.app_context():
            a = db.session.get(QuizAttempt, attempt_id)
            attempts.submit(a, user_id=user_id)
            db.session.commit()
            assert a.state == AttemptState.FINISHED

    at_once([worker] * 50)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(GradeChange)) == 1
        assert db.session.scalar(select(QuizGrade.grade)) == 10
        assert db.session.get(QuizAttempt, attempt_id).finished_at is not None


def test_twenty_simultaneous_starts_of_one_learner_make_one_attempt(concurrent_app):  # noqa: F811 - the fixture
    """Twenty «Start» requests of the same learner at once, each with its own session and connection (no
    transaction open before, so a lost race is rolled back whole): one attempt, and every request gets it."""
    from tests.factories import build_world

    app = concurrent_app
    with app.app_context():
        world = build_world("Test-pass-2026")
        s = make_quiz_setup(world, essay=False)
        quiz_id, user_id = s.quiz.id, world.student_a.id
    ids: list[int] = []

    def worker() -> None:
        with app.app_context():
            from lms.accounts.models import User

            ids.append(attempts.start_id(db.session.get(Quiz, quiz_id), db.session.get(User, user_id)))
            db.session.commit()

    at_once([worker] * 20)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(QuizAttempt)) == 1
        assert set(ids) == {db.session.scalar(select(QuizAttempt.id))}
        assert db.session.scalar(select(func.count()).select_from(QuestionAttempt)) == 5  # 3 fixed, 2 drawn


def test_the_overdue_job_and_the_cli(app, world):
    s = make_quiz_setup(world, time_limit=1)
    attempt = attempts.start(s.quiz, world.student_a, now=utcnow() - timedelta(minutes=5))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["quizzes", "close-overdue"])
    assert result.exit_code == 0 and "1" in result.output
    db.session.refresh(attempt)
    assert attempt.state == AttemptState.FINISHED


def test_digits_that_are_not_numbers_are_bad_input_not_errors(client, login_as, world, setup):
    """«²» passes str.isdigit() but not int(): every id, page and choice token read from a request refuses it."""
    login_as(client, world.student_a)
    attempt = start(client, setup)
    assert client.get(f"/attempts/{attempt.id}?page=²").status_code == 200
    assert client.post(f"/attempts/{attempt.id}", data={"page": "²", "goto": "²", "check": "²"}).status_code == 303
    saved = autosave(client, attempt.id, [{"slot": 1, "seq": 1, "values": {"": "²"}}])
    assert saved.status_code == 200
    assert client.post(f"/attempts/{attempt.id}/submit").status_code == 303  # grading reads the «²» token
    client.post("/logout")
    login_as(client, world.teacher_a)
    for url in (f"/banks/{setup.bank.id}?category=²&grade=²", f"/quizzes/{setup.activity.id}/questions?bank=²",
                f"/quizzes/{setup.activity.id}/overrides?edit=²"):
        assert client.get(url).status_code in (200, 404), url


def test_a_slot_beyond_any_number_is_bad_input(client, login_as, world, setup):
    """A slot too large for the database's integers is named, not a server error (on both backends)."""
    login_as(client, world.student_a)
    attempt = start(client, setup)
    for slot in (10**20, 2**31):
        r = autosave(client, attempt.id, [{"slot": slot, "seq": 1, "values": {"": "1"}}])
        assert r.status_code == 422 and r.get_json()["error"]["field"] == "slot", slot


def test_a_submission_grades_every_save_that_raced_it(concurrent_app):  # noqa: F811 - the fixture
    """Learners' saves keep coming while the attempt is submitted: every save answered «applied» before the
    submission is what was graded, and every one after it is refused (409), never stored ungraded."""
    app = concurrent_app
    client, attempt_id = _learner_with_an_attempt(app)
    with app.app_context():
        typed = [(qa.slot, right_values(qa)) for qa in db.session.get(QuizAttempt, attempt_id).questions
                 if qa.version.definition["qtype"] in ("shortanswer", "numerical")]
    token = client.csrf_token()
    cookie = client.get_cookie("lms_session", domain="lms.test")
    answered: dict[int, list[tuple[int, int, bool]]] = {slot: [] for slot, _ in typed}

    def own_client():
        c = app.test_client()
        c.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
        return c

    def saver(slot: int, right: dict) -> None:
        c = own_client()
        for seq in range(1, 2000):
            r = c.post(f"/attempts/{attempt_id}/save", headers={"X-CSRFToken": token}, json={"answers": [
                {"slot": slot, "seq": seq, "values": right if seq % 2 else {"": "неверно"}}]})
            answered[slot].append((seq, r.status_code, r.status_code == 200 and r.get_json()["saved"][0]["applied"]))
            if r.status_code != 200:
                break

    def submitter() -> None:
        c = own_client()
        time.sleep(0.1)
        assert c.post(f"/attempts/{attempt_id}/submit", data={"csrf_token": token}).status_code == 303

    at_once([functools.partial(saver, slot, right) for slot, right in typed] + [submitter])
    with app.app_context():
        attempt = db.session.get(QuizAttempt, attempt_id)
        assert attempt.state == AttemptState.FINISHED
        for qa in attempt.questions:
            if qa.slot not in answered:
                continue
            tried = answered[qa.slot]
            assert tried[-1][1] == 409, tried[-3:]  # the saver went on until the submission refused it
            last_applied = max(seq for seq, _status, applied in tried if applied)
            assert qa.seq == last_applied
            assert qa.fraction == (1 if last_applied % 2 else 0), (qa.slot, last_applied, qa.response)
