"""The attempt engine: starting (versions, random draws, one open attempt), the server's deadline and the
three overdue choices, idempotent saves, submitting once, grading methods, interactive tries, grading by a
person, regrading, overrides, and the grade reaching the gradebook and completion."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.assessment import attempts, banks, quizzes
from lms.assessment.models import AttemptState, QuestionAttempt, QuizAttempt, QuizGrade
from lms.core.db import utcnow
from lms.core.errors import Conflict, ValidationError
from lms.courses import gradebook
from lms.courses.models import ActivityProgress
from lms.extensions import db
from tests.assessment.quiz_helpers import make_quiz_setup, right_values


@pytest.fixture
def setup(world):
    return make_quiz_setup(world)


def answer_all(attempt, user, *, right=True, seq=1, now=None):
    answers = []
    for qa in attempt.questions:
        values = right_values(qa) if right else {"": "неверно"}
        if qa.version.definition["qtype"] == "multichoice" and not right:
            values = {"": str(qa.order["choices"].index(1))}
        answers.append((qa.slot, seq, values))
    return attempts.save(attempt.id, user.id, answers, now=now)


def test_an_attempt_gets_its_questions_once(world, setup):
    attempt = attempts.start(setup.quiz, world.student_a, rng=random.Random(3))
    db.session.commit()
    assert attempt.number == 1 and attempt.state == AttemptState.IN_PROGRESS
    assert len(attempt.questions) == 6 and attempt.pages == 3
    drawn = [qa.question_id for qa in attempt.questions if qa.question_id not in
             {q.id for q in setup.questions.values()}]
    assert len(drawn) == len(set(drawn)) == 2  # two different questions from the category
    assert attempts.start(setup.quiz, world.student_a) is attempt  # the same open attempt, not a second one
    assert attempt.max_marks == 6


def test_an_edited_question_does_not_change_a_started_attempt(world, setup):
    attempt = attempts.start(setup.quiz, world.student_a)
    db.session.commit()
    capital = setup.questions["capital"]
    banks.edit_question(capital, {**capital.versions[0].definition, "text": "Главный город России?"},
                        by=world.teacher_a)
    db.session.commit()
    qa = next(q for q in attempt.questions if q.question_id == capital.id)
    assert qa.version.version == 1
    later = attempts.start(setup.quiz, world.student_b)
    assert next(q for q in later.questions if q.question_id == capital.id).version.version == 2


def test_saves_are_idempotent_and_never_go_back(world, setup):
    attempt = attempts.start(setup.quiz, world.student_a)
    db.session.commit()
    first = attempt.questions[0]
    assert attempts.save(attempt.id, world.student_a.id, [(first.slot, 2, {"": "1"})])[0].applied
    again = attempts.save(attempt.id, world.student_a.id, [(first.slot, 2, {"": "2"})])[0]
    older = attempts.save(attempt.id, world.student_a.id, [(first.slot, 1, {"": "0"})])[0]
    db.session.commit()
    assert not again.applied and not older.applied and again.seq == 2
    db.session.refresh(first)
    assert first.response == {"": "1"} and first.seq == 2


def test_another_learner_cannot_read_or_write_the_attempt(world, setup):
    from werkzeug.exceptions import NotFound

    attempt = attempts.start(setup.quiz, world.student_a)
    db.session.commit()
    with pytest.raises(NotFound):
        attempts.save(attempt.id, world.student_b.id, [(1, 1, {"": "x"})])
    with pytest.raises(NotFound):
        attempts.submit(attempt, user_id=world.student_b.id)


@pytest.mark.parametrize("values", [["список"], {"x": "1"}, {"": {"a": 1}}, {"": "я" * 300_000}, {"": "\ud800"},
                                    {"": "a\x00b"}])
def test_malformed_answers_are_refused_by_name(world, setup, values):
    attempt = attempts.start(setup.quiz, world.student_a)
    db.session.commit()
    with pytest.raises(ValidationError) as exc:
        attempts.save(attempt.id, world.student_a.id, [(1, 1, values)])
    assert exc.value.field == "answers-1"
    with pytest.raises(ValidationError):
        attempts.save(attempt.id, world.student_a.id, [(99, 1, {"": "1"})])
    with pytest.raises(ValidationError):
        attempts.save(attempt.id, world.student_a.id, [(1, 0, {"": "1"})])


def test_the_deadline_is_the_servers(world):
    s = make_quiz_setup(world, time_limit=30)
    start = utcnow()
    attempt = attempts.start(s.quiz, world.student_a, now=start)
    db.session.commit()
    deadline = start + timedelta(minutes=30)
    assert attempt.deadline == deadline
    assert attempts.save(attempt.id, world.student_a.id, [(1, 1, {"": "0"})], now=deadline - timedelta(seconds=1))
    assert attempts.save(attempt.id, world.student_a.id, [(1, 2, {"": "1"})], now=deadline)
    db.session.commit()
    with pytest.raises(attempts.AttemptClosed):
        attempts.save(attempt.id, world.student_a.id, [(1, 3, {"": "2"})], now=deadline + timedelta(seconds=1))
    db.session.rollback()
    # submitted automatically with what was saved by the deadline
    attempts.submit(attempt, user_id=world.student_a.id, now=deadline + timedelta(hours=1))
    db.session.commit()
    assert attempt.state == AttemptState.FINISHED and attempt.finished_at == deadline
    assert attempt.questions[0].response == {"": "1"}


def test_the_close_date_shortens_the_deadline_and_overrides_lengthen_it(world):
    s = make_quiz_setup(world, time_limit=60)
    now = utcnow()
    s.quiz.closes_at = now + timedelta(minutes=20)
    quizzes.set_override(s.quiz, {"user_id": world.student_b.id, "time_limit": "90",
                                  "closes_at": now + timedelta(hours=3)}, by=world.teacher_a)
    db.session.commit()
    assert attempts.start(s.quiz, world.student_a, now=now).deadline == now + timedelta(minutes=20)
    assert attempts.start(s.quiz, world.student_b, now=now).deadline == now + timedelta(minutes=90)
    with pytest.raises(ValidationError) as exc:
        quizzes.set_override(s.quiz, {"user_id": world.student_a.id}, by=world.teacher_a)
    assert exc.value.field == "opens_at"


def test_grace_period_submit_only_then_abandoned(world):
    s = make_quiz_setup(world, time_limit=10, overdue="grace", grace_period=5)
    now = utcnow()
    attempt = attempts.start(s.quiz, world.student_a, now=now)
    db.session.commit()
    deadline = attempt.deadline
    assert attempts.close_overdue(deadline + timedelta(minutes=1)) == 1
    assert attempt.state == AttemptState.OVERDUE
    with pytest.raises(attempts.AttemptClosed):  # no more answers during the grace period
        attempts.save(attempt.id, world.student_a.id, [(1, 1, {"": "0"})], now=deadline + timedelta(minutes=1))
    db.session.rollback()
    attempts.submit(attempt, user_id=world.student_a.id, now=deadline + timedelta(minutes=4))
    assert attempt.state == AttemptState.FINISHED
    late = attempts.start(s.quiz, world.student_b, now=now)
    db.session.commit()
    with pytest.raises(attempts.AttemptClosed):
        attempts.submit(late, user_id=world.student_b.id, now=late.deadline + timedelta(minutes=5, seconds=1))
    assert late.state == AttemptState.ABANDONED


def test_abandon_mode_and_the_periodic_job(world):
    s = make_quiz_setup(world, time_limit=10, overdue="abandon")
    now = utcnow()
    a = attempts.start(s.quiz, world.student_a, now=now)
    b = attempts.start(s.quiz, world.student_b, now=now)
    db.session.commit()
    answer_all(a, world.student_a, now=now)
    assert attempts.close_overdue(now + timedelta(minutes=5)) == 0
    assert attempts.close_overdue(now + timedelta(minutes=11)) == 2
    db.session.commit()
    assert a.state == b.state == AttemptState.ABANDONED
    assert db.session.scalar(select(func.count()).select_from(QuizGrade)) == 0  # abandoned attempts never count


def test_submitting_grades_once_and_again_returns_the_same(world, setup):
    attempt = attempts.start(setup.quiz, world.student_a)
    db.session.commit()
    answer_all(attempt, world.student_a)
    attempts.submit(attempt, user_id=world.student_a.id)
    db.session.commit()
    assert attempt.state == AttemptState.FINISHED
    assert attempt.sum_marks is None  # the essay waits for a teacher
    again = attempts.submit(attempt, user_id=world.student_a.id)
    assert again is attempt
    with pytest.raises(attempts.AttemptClosed):
        attempts.save(attempt.id, world.student_a.id, [(1, 5, {"": "0"})])
    db.session.rollback()
    essay = next(q for q in attempt.questions if q.state == attempts.WAITING)
    attempts.grade_question(essay, mark="0,5", comment="<p>Раскройте мысль</p>", by=world.teacher_a)
    db.session.commit()
    assert attempt.sum_marks == 5.5
    grade = db.session.scalar(select(QuizGrade.grade).where(QuizGrade.user_id == world.student_a.id))
    assert grade == round(5.5 / 6 * 10, 2)
    with pytest.raises(ValidationError) as exc:
        attempts.grade_question(essay, mark="2", by=world.teacher_a)
    assert exc.value.field == "mark"


def test_the_grade_reaches_the_gradebook_and_completion(world):
    s = make_quiz_setup(world, essay=False, pass_grade="6")
    attempt = attempts.start(s.quiz, world.student_a)
    db.session.commit()
    answer_all(attempt, world.student_a)
    attempts.submit(attempt, user_id=world.student_a.id)
    db.session.commit()
    sheet = gradebook.sheet(s.run)
    item = next(i for i in sheet.items if i.activity_id == s.activity.id)
    row = next(r for r in sheet.rows if r.user.id == world.student_a.id)
    assert item.max_points == 10 and row.cells[item.id].points == 10
    assert db.session.scalar(select(ActivityProgress.completed_at).where(
        ActivityProgress.activity_id == s.activity.id, ActivityProgress.user_id == world.student_a.id))


@pytest.mark.parametrize(("method", "expected"), [("highest", 10), ("average", 5), ("first", 0), ("last", 10)])
def test_grading_methods(world, method, expected):
    s = make_quiz_setup(world, essay=False, grade_method=method, random_count=0)
    for right in (False, True):
        attempt = attempts.start(s.quiz, world.student_a)
        db.session.commit()
        answer_all(attempt, world.student_a, right=right)
        attempts.submit(attempt, user_id=world.student_a.id)
        db.session.commit()
    assert db.session.scalar(select(QuizGrade.grade)) == expected


def test_attempts_allowed_and_dates(world):
    s = make_quiz_setup(world, essay=False, attempts_allowed="1", random_count=0)
    attempt = attempts.start(s.quiz, world.student_a)
    attempts.submit(attempt, user_id=world.student_a.id)
    db.session.commit()
    with pytest.raises(Conflict):
        attempts.start(s.quiz, world.student_a)
    s.quiz.opens_at = utcnow() + timedelta(days=1)
    db.session.commit()
    with pytest.raises(Conflict):
        attempts.start(s.quiz, world.student_b)
    assert attempts.start(s.quiz, world.teacher_a, preview=True).is_preview  # a teacher previews any time


def test_questions_are_fixed_once_learners_attempted(world, setup):
    attempts.start(setup.quiz, world.student_a)
    db.session.commit()
    with pytest.raises(Conflict):
        quizzes.add_questions(setup.quiz, [setup.questions["pi"].id], by=world.teacher_a)
    with pytest.raises(Conflict):
        quizzes.remove_slot(setup.quiz.slots[0], by=world.teacher_a)


def test_interactive_tries_and_penalty(world):
    s = make_quiz_setup(world, essay=False, random_count=0, behaviour="interactive", tries="3", penalty="25")
    attempt = attempts.start(s.quiz, world.student_a)
    db.session.commit()
    capital = next(q for q in attempt.questions if q.version.definition["qtype"] == "multichoice")
    wrong = str(capital.order["choices"].index(1))
    attempts.save(attempt.id, world.student_a.id, [(capital.slot, 1, {"": wrong})])
    qa = attempts.check(attempt, capital.slot, user_id=world.student_a.id)
    assert qa.tries == 1 and not qa.checked and qa.fraction == 0
    attempts.save(attempt.id, world.student_a.id, [(capital.slot, 2, right_values(capital))])
    qa = attempts.check(attempt, capital.slot, user_id=world.student_a.id)
    assert qa.checked and qa.fraction == 0.75
    with pytest.raises(attempts.AttemptClosed):
        attempts.save(attempt.id, world.student_a.id, [(capital.slot, 3, {"": wrong})])


def test_sequential_navigation_cannot_be_skipped_or_reversed(world):
    s = make_quiz_setup(world, essay=False, navigation="sequential", random_count=0, questions_per_page=1)
    attempt = attempts.start(s.quiz, world.student_a)
    db.session.commit()
    later = next(q for q in attempt.questions if q.page == 2)
    with pytest.raises(attempts.AttemptClosed):
        attempts.save(attempt.id, world.student_a.id, [(later.slot, 1, {"": "x"})])
    with pytest.raises(attempts.AttemptClosed):
        attempts.go_to_page(attempt, 2 + 1, user_id=world.student_a.id)
    assert attempts.go_to_page(attempt, 2, user_id=world.student_a.id) == 2
    first = next(q for q in attempt.questions if q.page == 1)
    with pytest.raises(attempts.AttemptClosed):
        attempts.save(attempt.id, world.student_a.id, [(first.slot, 1, {"": "x"})])
    with pytest.raises(attempts.AttemptClosed):
        attempts.go_to_page(attempt, 1, user_id=world.student_a.id)


def test_regrade_shows_what_changes_and_applies_it(world):
    s = make_quiz_setup(world, essay=False, random_count=0)
    attempt = attempts.start(s.quiz, world.student_a)
    db.session.commit()
    author = next(q for q in attempt.questions if q.question_id == s.questions["author"].id)
    attempts.save(attempt.id, world.student_a.id, [(author.slot, 1, {"": "Александр Пушкин"})])
    attempts.submit(attempt, user_id=world.student_a.id)
    db.session.commit()
    assert author.fraction == 0.5
    fixed = {**author.version.definition, "answers": [{"text": "*Пушкин*", "fraction": 1}]}
    banks.edit_question(s.questions["author"], fixed, by=world.teacher_a)
    db.session.commit()
    changes = attempts.regrade(s.quiz, by=world.teacher_a, dry_run=True)
    db.session.commit()
    assert [(c.old_fraction, c.new_fraction) for c in changes] == [(0.5, 1.0)]
    db.session.refresh(author)
    assert author.fraction == 0.5  # a dry run changes nothing
    attempts.regrade(s.quiz, by=world.teacher_a, dry_run=False)
    db.session.commit()
    assert author.fraction == 1.0 and author.version.version == 2 and attempt.sum_marks == 1.0
    assert db.session.scalar(select(QuizGrade.grade)) == round(1 / 3 * 10, 2)


def test_review_options_follow_the_moment(world, setup):
    attempt = attempts.start(setup.quiz, world.student_a)
    db.session.commit()
    now = utcnow()
    assert attempts.review_items(setup.quiz, attempt, now) == frozenset()  # deferred feedback: nothing during
    attempts.submit(attempt, user_id=world.student_a.id, now=now)
    setup.quiz.review = {**setup.quiz.review, "open": ["attempt", "marks"]}
    db.session.commit()
    assert "right_answer" in attempts.review_items(setup.quiz, attempt, now + timedelta(seconds=60))
    assert attempts.review_items(setup.quiz, attempt, now + timedelta(minutes=5)) == {"attempt", "marks"}
    assert attempts.review_items(setup.quiz, attempt, now + timedelta(minutes=5), staff=True) >= {"right_answer"}


def test_settings_name_the_wrong_field(world, setup):
    for data, field in (({"time_limit": "-5"}, "time_limit"), ({"overdue": "grace"}, "grace_period"),
                        ({"grade_method": "best"}, "grade_method"), ({"pass_grade": "11"}, "pass_grade"),
                        ({"review": {"open": ["everything"]}}, "review-open"),
                        ({"opens_at": utcnow(), "closes_at": utcnow() - timedelta(days=1)}, "closes_at")):
        with pytest.raises(ValidationError) as exc:
            quizzes.save_settings(setup.quiz, data, by=world.teacher_a)
        assert field in exc.value.errors, data


def test_random_slots_need_enough_questions(world, setup):
    with pytest.raises(ValidationError) as exc:
        quizzes.add_random(setup.quiz, category_id=setup.category.id, count=9, by=world.teacher_a)
    assert exc.value.field == "count"
    assert db.session.scalar(select(func.count()).select_from(QuestionAttempt)) == 0
    assert db.session.scalar(select(func.count()).select_from(QuizAttempt)) == 0


def test_a_template_runs_quiz_is_copied_with_its_settings_and_questions(world):
    from lms.courses import runs
    from lms.courses.models import Activity
    from tests.courses.test_runs import RUN

    s = make_quiz_setup(world, time_limit=20, pass_grade="6")
    s.run.is_template = True
    db.session.commit()
    new = runs.open_run(s.run.programme, world.school_a, by=world.admin_a, template=s.run,
                        **{**RUN, "name": "Поток 2"})
    db.session.commit()
    copy = db.session.scalar(select(Activity).where(Activity.run_id == new.id, Activity.kind == "quiz"))
    quiz = quizzes.quiz_of(copy)
    assert quiz.id != s.quiz.id and quiz.run_id == new.id
    assert (quiz.time_limit, quiz.pass_grade, quiz.max_grade) == (20 * 60, 6.0, 10)
    assert [(x.question_id, x.category_id, x.max_mark) for x in quiz.slots] == \
        [(x.question_id, x.category_id, x.max_mark) for x in s.quiz.slots]
