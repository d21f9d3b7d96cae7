"""The teacher's quiz pages: settings by Moodle's groups with every problem next to its field, the questions
(from banks, random, marks, pages; fixed once learners attempted), overrides, results with a regrade dry run,
grading essays by hand (reaching the gradebook), statistics with their XLSX, the preview, and who may open
what."""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from lms.assessment import attempts, banks, quizzes
from lms.assessment.models import AttemptState, QuestionAttempt, QuizAttempt, QuizOverride, QuizSlot
from lms.core.audit import AuditEvent
from lms.courses import content, gradebook, runs
from lms.courses.models import Enrolment, Section
from lms.extensions import db
from tests.assessment.quiz_helpers import make_quiz_setup, right_values
from tests.helpers import field_error, text_of


@pytest.fixture
def setup(world):
    return make_quiz_setup(world)


@pytest.fixture
def teacher(client, world, login_as):
    login_as(client, world.teacher_a)
    return client


def url(setup, page: str = "settings") -> str:
    return f"/quizzes/{setup.activity.id}/{page}"


def slot_ids(setup) -> list[int]:
    return list(db.session.scalars(select(QuizSlot.id).where(QuizSlot.quiz_id == setup.quiz.id)
                                   .order_by(QuizSlot.position)))


def finish(setup, user, *, right=True, essay="Потому что люблю детей и знания", rng=None):
    """A learner's submitted attempt: the right answers (or wrong ones), the essay's text as given."""
    attempt = attempts.start(setup.quiz, user, rng=rng or random.Random(user.id))
    db.session.commit()
    answers = []
    for qa in attempt.questions:
        kind = qa.version.definition["qtype"]
        values = right_values(qa) if right else {"": "неверно"}
        if kind == "multichoice" and not right:
            values = {"": str(qa.order["choices"].index(1))}
        if kind == "essay":
            values = {"": essay}
        answers.append((qa.slot, 1, values))
    attempts.save(attempt.id, user.id, answers)
    attempts.submit(attempt, user_id=user.id)
    db.session.commit()
    return attempt


SETTINGS = {"opens_at": "2027-01-11T09:00", "closes_at": "2027-01-20T18:30", "time_limit": "45",
            "overdue": "grace", "grace_period": "10", "attempts_allowed": "2", "grade_method": "average",
            "max_grade": "20", "pass_grade": "12,5", "questions_per_page": "3", "navigation": "sequential",
            "shuffle_questions": "y", "behaviour": "interactive", "tries": "2", "penalty": "25",
            "review-during": ["attempt", "correctness"], "review-immediately": ["attempt", "marks", "right_answer"],
            "review-closed": ["attempt", "marks"]}


# --- settings ----------------------------------------------------------------------------------------

def test_settings_are_saved_by_moodles_groups(teacher, world, setup):
    page = teacher.get(url(setup))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for name in ("opens_at", "time_limit", "grace_period", "grade_method", "pass_grade", "navigation",
                 "shuffle_answers", "penalty", "review-closed-right_answer"):
        assert f'id="{name}"' in html, name
    response = teacher.post(url(setup), data=SETTINGS)
    assert response.status_code == 302, text_of(response)[:3000]
    quiz = setup.quiz
    db.session.refresh(quiz)
    zone = ZoneInfo(setup.run.host_organization.time_zone)
    assert quiz.opens_at == datetime(2027, 1, 11, 9, 0, tzinfo=zone).astimezone(UTC)
    assert quiz.closes_at == datetime(2027, 1, 20, 18, 30, tzinfo=zone).astimezone(UTC)
    assert (quiz.time_limit, quiz.overdue, quiz.grace_period) == (45 * 60, "grace", 600)
    assert (quiz.attempts_allowed, quiz.grade_method, quiz.max_grade, quiz.pass_grade) == (2, "average", 20, 12.5)
    assert (quiz.questions_per_page, quiz.navigation) == (3, "sequential")
    assert quiz.shuffle_questions and not quiz.shuffle_answers  # an unticked box turns it off
    assert (quiz.behaviour, quiz.tries, quiz.penalty) == ("interactive", 2, 0.25)
    assert quiz.review == {"during": ["attempt", "correctness"], "immediately": ["attempt", "marks", "right_answer"],
                           "open": [], "closed": ["attempt", "marks"]}
    again = teacher.get(url(setup)).get_data(as_text=True)  # the form shows what was saved, in local time
    assert 'value="2027-01-11T09:00"' in again and 'value="12,5"' in again


def test_wrong_settings_are_named_by_field_and_change_nothing(teacher, world, setup):
    before = (setup.quiz.time_limit, setup.quiz.max_grade, dict(setup.quiz.review))
    bad = {**SETTINGS, "opens_at": "завтра", "time_limit": "-5", "grace_period": "", "grade_method": "best",
           "pass_grade": "25", "penalty": "много", "review-open": ["attempt", "everything"]}
    response = teacher.post(url(setup), data=bad)
    assert response.status_code == 422
    for name in ("opens_at", "time_limit", "grace_period", "grade_method", "pass_grade", "penalty"):
        assert field_error(response, name), name
    assert 'id="review-open-error"' in response.get_data(as_text=True)
    assert 'value="-5"' in response.get_data(as_text=True)  # the input is kept for correcting
    db.session.refresh(setup.quiz)
    assert (setup.quiz.time_limit, setup.quiz.max_grade, dict(setup.quiz.review)) == before
    assert teacher.post(url(setup), data={**SETTINGS, "closes_at": "2027-01-01T09:00"}).status_code == 422


def test_the_maximum_grade_is_fixed_once_learners_attempted(teacher, world, setup):
    finish(setup, world.student_a)
    response = teacher.post(url(setup), data={**SETTINGS, "max_grade": "50"})
    assert response.status_code == 422 and field_error(response, "max_grade")
    db.session.refresh(setup.quiz)
    assert setup.quiz.max_grade == 10


# --- questions ---------------------------------------------------------------------------------------

def test_the_questions_page_lists_slots_by_page(teacher, world, setup):
    response = teacher.get(url(setup, "questions"))
    assert response.status_code == 200
    text = text_of(response)
    for name in ("capital", "author", "pi", "essay"):
        assert name in text
    assert text.count("Аттестация: Арифметика") >= 2  # the two random slots, with their category's path
    assert f'id="mark-{slot_ids(setup)[0]}"' in text


def test_questions_are_added_from_a_usable_bank(teacher, world, setup):
    extra = banks.add_question(setup.bank, {"qtype": "truefalse", "text": "Земля круглая", "answer": True},
                               by=world.teacher_a, name="Земля")
    other = banks.create_bank(name="Чужой банк", organization=world.school_b, by=world.admin_b)
    foreign = banks.add_question(other, {"qtype": "truefalse", "text": "Чужой", "answer": True}, by=world.admin_b,
                                 name="Чужой вопрос")
    db.session.commit()
    listed = teacher.get(url(setup, "questions") + f"?bank={setup.bank.id}")
    assert "Земля" in text_of(listed) and "Чужой банк" not in text_of(listed)
    count = len(slot_ids(setup))
    response = teacher.post(url(setup, "questions/add"), data={"question_ids": [str(extra.id)],
                                                               "bank": str(setup.bank.id)})
    assert response.status_code == 302
    assert len(slot_ids(setup)) == count + 1
    assert db.session.get(QuizSlot, slot_ids(setup)[-1]).question_id == extra.id
    for data in ({}, {"question_ids": [str(foreign.id)]}, {"question_ids": ["99999999999"]}):
        response = teacher.post(url(setup, "questions/add"), data={**data, "bank": str(setup.bank.id)})
        assert response.status_code == 422 and "add-question_ids-error" in response.get_data(as_text=True)
    assert len(slot_ids(setup)) == count + 1


def test_random_questions_from_a_category(teacher, world, setup):
    count = len(slot_ids(setup))
    response = teacher.post(url(setup, "questions/random"),
                            data={"category_id": str(setup.category.id), "count": "2", "include_subcategories": "1"})
    assert response.status_code == 302
    added = [db.session.get(QuizSlot, i) for i in slot_ids(setup)[count:]]
    assert len(added) == 2 and all(s.category_id == setup.category.id and s.question_id is None for s in added)
    too_many = teacher.post(url(setup, "questions/random"), data={"category_id": str(setup.category.id), "count": "9"})
    assert too_many.status_code == 422 and field_error(too_many, "random-count")
    no_category = teacher.post(url(setup, "questions/random"), data={"category_id": "abc", "count": "1"})
    assert no_category.status_code == 422 and field_error(no_category, "random-category_id")
    tagged = teacher.post(url(setup, "questions/random"), data={"category_id": str(setup.category.id), "count": "1",
                                                               "tags": "олимпиада"})
    assert tagged.status_code == 422  # no question of the category has the tag
    assert len(slot_ids(setup)) == count + 2


def test_slots_are_moved_removed_and_their_marks_set(teacher, world, setup):
    first, second, *_rest = slot_ids(setup)
    assert teacher.post(url(setup, f"slots/{second}/move"), data={"direction": "up"}).status_code == 302
    assert slot_ids(setup)[:2] == [second, first]
    assert teacher.post(url(setup, f"slots/{second}/move"), data={"direction": "sideways"}).status_code == 422
    response = teacher.post(url(setup, "marks"), data={f"mark-{first}": "2,5", f"page-{first}": "4"})
    assert response.status_code == 302
    slot = db.session.get(QuizSlot, first)
    assert (slot.max_mark, slot.page) == (2.5, 4)
    bad = teacher.post(url(setup, "marks"), data={f"mark-{second}": "3", f"mark-{first}": "много"})
    assert bad.status_code == 422 and field_error(bad, f"mark-{first}")
    db.session.refresh(slot)
    assert db.session.get(QuizSlot, second).max_mark == 1.0 and slot.max_mark == 2.5  # all or nothing
    assert teacher.post(url(setup, "repaginate"), data={"per_page": "1"}).status_code == 302
    assert [db.session.get(QuizSlot, i).page for i in slot_ids(setup)] == list(range(1, 7))
    assert teacher.post(url(setup, "repaginate"), data={"per_page": "-1"}).status_code == 422
    assert teacher.post(url(setup, f"slots/{first}/remove")).status_code == 302
    assert first not in slot_ids(setup) and len(slot_ids(setup)) == 5
    other = make_quiz_setup(world)
    assert teacher.post(url(setup, f"slots/{slot_ids(other)[0]}/remove")).status_code == 404


def test_the_structure_is_locked_once_learners_attempted_but_marks_change(teacher, world, setup):
    attempts.start(setup.quiz, world.student_a)
    db.session.commit()
    first = slot_ids(setup)[0]
    count = len(slot_ids(setup))
    for path, data in ((f"slots/{first}/remove", {}), (f"slots/{first}/move", {"direction": "down"}),
                       ("questions/random", {"category_id": str(setup.category.id), "count": "1"}),
                       ("repaginate", {"per_page": "1"}), ("marks", {f"page-{first}": "7"})):
        response = teacher.post(url(setup, path), data=data)
        assert response.status_code == 409, path
        assert "flash--error" in response.get_data(as_text=True)
    assert len(slot_ids(setup)) == count
    page = teacher.get(url(setup, "questions"))
    assert 'id="add-h"' not in page.get_data(as_text=True)  # no adding once locked
    response = teacher.post(url(setup, "marks"), data={f"mark-{first}": "2"}, follow_redirects=True)
    assert response.status_code == 200 and "flash--warning" in response.get_data(as_text=True)  # regrade hint
    assert db.session.get(QuizSlot, first).max_mark == 2.0


# --- overrides ---------------------------------------------------------------------------------------

def test_overrides_for_a_learner_and_a_group(teacher, world, setup):
    page = teacher.get(url(setup, "overrides"))
    assert page.status_code == 200 and world.student_a.full_name in text_of(page)
    response = teacher.post(url(setup, "overrides"), data={"user": str(world.student_a.id), "time_limit": "90",
                                                           "closes_at": "2027-02-01T12:00"})
    assert response.status_code == 302
    row = db.session.scalar(select(QuizOverride).where(QuizOverride.quiz_id == setup.quiz.id))
    assert row.user_id == world.student_a.id and row.time_limit == 90 * 60
    assert quizzes.effective(setup.quiz, world.student_a.id).time_limit == 90 * 60
    group = setup.run.groups[0]
    assert teacher.post(url(setup, "overrides"), data={"group": str(group.id), "attempts_allowed": "3"}) \
        .status_code == 302
    listed = text_of(teacher.get(url(setup, "overrides")))
    assert world.student_a.full_name in listed and group.name in listed
    edit = teacher.get(url(setup, "overrides") + f"?edit={row.id}").get_data(as_text=True)
    assert 'value="90"' in edit
    for data, name in (({"time_limit": "10"}, "user"), ({"user": str(world.student_a.id)}, "opens_at"),
                       ({"user": str(world.teacher_a.id), "time_limit": "5"}, "user"),
                       ({"user": str(world.student_a.id), "time_limit": "-1"}, "time_limit"),
                       ({"user": str(world.student_a.id), "opens_at": "вчера"}, "opens_at")):
        response = teacher.post(url(setup, "overrides"), data=data)
        assert response.status_code == 422 and field_error(response, name), data
    assert db.session.scalar(select(func.count()).select_from(QuizOverride)) == 2
    other = make_quiz_setup(world)
    quizzes.set_override(other.quiz, {"user_id": world.student_a.id, "time_limit": "5"}, by=world.teacher_a)
    db.session.commit()
    foreign = db.session.scalar(select(QuizOverride.id).where(QuizOverride.quiz_id == other.quiz.id))
    assert teacher.post(url(setup, f"overrides/{foreign}/delete")).status_code == 404
    row_id = row.id
    assert teacher.post(url(setup, f"overrides/{row_id}/delete")).status_code == 302
    db.session.expunge_all()
    assert db.session.get(QuizOverride, row_id) is None
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "quiz_override_removed"))


# --- results and regrading -------------------------------------------------------------------------------

def test_results_list_every_learner_and_export(teacher, world, setup):
    a = finish(setup, world.student_a)
    response = teacher.get(url(setup, "results"))
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert world.student_a.full_name in text_of(response) and world.student_b.full_name in text_of(response)
    assert f"/attempts/{a.id}/review" in text
    group = setup.run.groups[0]
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.run_id == setup.run.id,
                                                         Enrolment.user_id == world.student_b.id))
    enrolment.group_id = group.id
    db.session.commit()
    only = text_of(teacher.get(url(setup, "results") + f"?group={group.id}"))
    assert world.student_b.full_name in only and world.student_a.full_name not in only
    csv_response = teacher.get(url(setup, "results.csv"))
    assert csv_response.status_code == 200 and csv_response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(csv_response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    assert any(r[0] == world.student_a.full_name and r[1] == "1" for r in rows)
    xlsx = teacher.get(url(setup, "results.xlsx"))
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] and any(r[0] == world.student_a.full_name for r in values[1:])
    assert teacher.get(url(setup, "results.pdf")).status_code == 404


def test_results_are_paged_by_learner_with_the_counts_of_the_whole_list(teacher, world, setup, monkeypatch):
    from lms.assessment import routes_quiz_admin

    monkeypatch.setattr(routes_quiz_admin, "RESULTS_PER_PAGE", 1)
    first, second = sorted((world.student_a, world.student_b), key=lambda u: (u.surname, u.name, u.id))
    finish(setup, second)  # the essay waits for a teacher
    page1, page2 = (text_of(teacher.get(url(setup, "results") + f"?page={n}")) for n in (1, 2))
    assert first.full_name in page1 and second.full_name not in page1
    assert second.full_name in page2 and first.full_name not in page2
    assert "Попыток: 1; ждут оценивания: 1." in page1  # the whole list's, not the page's
    assert "Страница 1 из 2" in page1
    assert teacher.get(url(setup, "results") + "?page=99").status_code == 200  # past the end: an empty page
    assert len(list(csv.reader(io.StringIO(teacher.get(url(setup, "results.csv")).get_data(as_text=True)),
                               delimiter=";"))) == 3  # the export is never paged


def test_regrade_dry_run_shows_and_changes_nothing_then_applies(teacher, world):
    s = make_quiz_setup(world, essay=False, random_count=0)
    attempt = attempts.start(s.quiz, world.student_a)
    db.session.commit()
    author = next(q for q in attempt.questions if q.question_id == s.questions["author"].id)
    attempts.save(attempt.id, world.student_a.id, [(author.slot, 1, {"": "Александр Пушкин"})])
    attempts.submit(attempt, user_id=world.student_a.id)
    db.session.commit()
    assert author.fraction == 0.5
    banks.edit_question(s.questions["author"], {**author.version.definition,
                                                "answers": [{"text": "*Пушкин*", "fraction": 1}]}, by=world.teacher_a)
    db.session.commit()
    dry = teacher.post(url(s, "regrade"), data={"action": "dry_run"})
    assert dry.status_code == 200
    assert world.student_a.full_name in text_of(dry) and "author" in text_of(dry) and "0,5" in text_of(dry)
    db.session.refresh(author)
    assert author.fraction == 0.5  # a dry run stores nothing
    assert teacher.post(url(s, "regrade"), data={"action": "later"}).status_code == 422
    assert teacher.post(url(s, "regrade"), data={"action": "apply"}).status_code == 302
    db.session.refresh(author)
    assert author.fraction == 1.0 and author.version.version == 2


# --- grading by hand -----------------------------------------------------------------------------------

def test_grading_an_essay_reaches_the_attempt_and_the_gradebook(teacher, world, setup):
    a = finish(setup, world.student_a, essay="<script>alert(1)</script> Потому что люблю детей")
    b = finish(setup, world.student_b, essay="Так сложилось в жизни")
    essay = setup.questions["essay"]
    queue = teacher.get(url(setup, "grading"))
    assert queue.status_code == 200 and "essay" in text_of(queue)
    assert f"/grading/{essay.id}" in queue.get_data(as_text=True)
    page = teacher.get(url(setup, f"grading/{essay.id}"))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    qa_a = next(q for q in a.questions if q.question_id == essay.id)
    qa_b = next(q for q in b.questions if q.question_id == essay.id)
    bad = teacher.post(url(setup, f"grading/{essay.id}"), data={f"mark-{qa_a.id}": "0,5", f"mark-{qa_b.id}": "5"})
    assert bad.status_code == 422 and field_error(bad, f"mark-{qa_b.id}")
    db.session.refresh(qa_a)
    assert qa_a.state == attempts.WAITING  # nothing saved while one mark is wrong
    saved = teacher.post(url(setup, f"grading/{essay.id}"), data={
        "only": str(qa_a.id), f"mark-{qa_a.id}": "0,5", f"comment-{qa_a.id}": "Раскройте мысль",
        f"mark-{qa_b.id}": "1"})
    assert saved.status_code == 302
    db.session.refresh(qa_a)
    db.session.refresh(qa_b)
    db.session.refresh(a)
    assert (qa_a.state, qa_a.fraction, qa_a.comment, qa_a.graded_by_id) == ("graded", 0.5, "Раскройте мысль",
                                                                            world.teacher_a.id)
    assert qa_b.state == attempts.WAITING  # «save this mark» saves that one only
    assert a.sum_marks == 5.5
    sheet = gradebook.sheet(setup.run)
    item = next(i for i in sheet.items if i.activity_id == setup.activity.id)
    row = next(r for r in sheet.rows if r.user.id == world.student_a.id)
    assert row.cells[item.id].points == round(5.5 / 6 * 10, 2)
    # «save all»: the unchanged graded answer stays as it is, the waiting one is graded
    assert teacher.post(url(setup, f"grading/{essay.id}"), data={
        f"mark-{qa_a.id}": "0,5", f"comment-{qa_a.id}": "Раскройте мысль", f"mark-{qa_b.id}": "1"}).status_code == 302
    db.session.refresh(qa_b)
    assert qa_b.state == "graded" and qa_b.fraction == 1.0
    empty = teacher.post(url(setup, f"grading/{essay.id}"), data={"only": str(qa_a.id), f"mark-{qa_a.id}": ""})
    assert empty.status_code == 422 and field_error(empty, f"mark-{qa_a.id}")
    assert teacher.get(url(setup, "grading/99999")).status_code == 404


# --- statistics, preview -----------------------------------------------------------------------------------

def test_statistics_page_and_xlsx(teacher, world):
    s = make_quiz_setup(world, essay=False, random_count=0)
    finish(s, world.student_a, right=True)
    finish(s, world.student_b, right=False)
    response = teacher.get(url(s, "statistics"))
    assert response.status_code == 200
    text = text_of(response)
    assert "Москва" in text and "Казань" in text  # the response distribution of the multiple choice
    assert "50 %" in text  # each response given by half of the attempts
    assert teacher.get(url(s, "statistics") + "?attempts=all").status_code == 200
    xlsx = teacher.get(url(s, "statistics") + "?format=xlsx&attempts=all")
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.data))
    assert len(book.sheetnames) == 3
    quiz_sheet = [[c.value for c in row] for row in book.worksheets[0].iter_rows()]
    assert quiz_sheet[2][1] == 2  # «number of attempts»: both learners' attempts
    questions = [[c.value for c in row] for row in book.worksheets[1].iter_rows()]
    assert len(questions) == 1 + 3 and questions[1][4] == 50  # facility index of each question: 50 %
    assert teacher.get(url(s, "statistics") + "?format=pdf").status_code == 404


def test_preview_starts_the_teachers_own_attempt(teacher, world, setup):
    response = teacher.post(url(setup, "preview"))
    assert response.status_code == 302
    attempt = db.session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == world.teacher_a.id))
    assert attempt.is_preview and response.headers["Location"].endswith(f"/attempts/{attempt.id}")
    assert not quizzes.has_attempts(setup.quiz)  # a preview does not lock the questions


def test_a_quiz_without_questions_cannot_be_previewed(teacher, world, setup):
    section = db.session.scalars(select(Section).where(Section.run_id == setup.run.id)).first()
    empty = content.save_activity(section, {"kind": "quiz", "title": "Пустой тест", "completion": "none"},
                                  by=world.teacher_a)
    db.session.commit()
    response = teacher.post(f"/quizzes/{empty.id}/preview")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/quizzes/{empty.id}/questions")
    assert db.session.scalar(select(func.count()).select_from(QuizAttempt)) == 0
    for page in PAGES:  # an empty quiz's pages (its settings made on first use) all open
        assert teacher.get(f"/quizzes/{empty.id}/{page}").status_code == 200, page
    assert teacher.get(f"/quizzes/{empty.id}/statistics?format=xlsx").status_code == 200


# --- who may -----------------------------------------------------------------------------------------

PAGES = ("settings", "questions", "overrides", "results", "grading", "statistics")


def test_learners_and_other_organizations_are_refused(client, world, setup, login_as):
    for user in (world.student_a, world.admin_b):
        login_as(client, user)
        for page in PAGES:
            assert client.get(url(setup, page)).status_code == 403, (user.username, page)
        assert client.post(url(setup, "preview")).status_code == 403
        assert client.post(url(setup, "regrade"), data={"action": "apply"}).status_code == 403
        client.post("/logout")
    login_as(client, world.teacher_a)
    section = db.session.scalars(select(Section).where(Section.run_id == setup.run.id)).first()
    page = content.save_activity(section, {"kind": "page", "title": "Не тест", "body": "<p>Текст</p>",
                                           "completion": "viewed"}, by=world.teacher_a)
    db.session.commit()
    assert client.get(f"/quizzes/{page.id}/settings").status_code == 404


def test_assistants_grade_but_do_not_edit(client, world, setup, login_as):
    runs.add_staff(setup.run, world.methodologist_a, "assistant", by=world.admin_a)
    db.session.commit()
    login_as(client, world.methodologist_a)
    for page in ("settings", "questions", "overrides"):
        assert client.get(url(setup, page)).status_code == 403, page
    for page in ("results", "grading", "statistics"):
        assert client.get(url(setup, page)).status_code == 200, page
    results = client.get(url(setup, "results")).get_data(as_text=True)
    assert 'id="regrade-h"' not in results and f'href="{url(setup)}"' not in results  # not offered either


def test_the_staff_bar_links_every_page(teacher, world, setup):
    html = teacher.get(url(setup, "results")).get_data(as_text=True)
    for page in PAGES:
        assert f'href="{url(setup, page)}"' in html, page
    assert f'action="{url(setup, "preview")}"' in html and 'aria-current="page"' in html


def test_changes_are_audited(teacher, world, setup):
    teacher.post(url(setup), data=SETTINGS)
    first = slot_ids(setup)[0]
    teacher.post(url(setup, f"slots/{first}/move"), data={"direction": "down"})
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"quiz_changed", "quiz_questions_moved"} <= actions
    log = teacher.get("/audit")
    assert log.status_code in (200, 403)


def test_answers_of_previews_are_not_graded_or_counted(teacher, world, setup):
    attempt = attempts.start(setup.quiz, world.teacher_a, preview=True)
    db.session.commit()
    attempts.submit(attempt, user_id=world.teacher_a.id)
    db.session.commit()
    assert attempt.state == AttemptState.FINISHED
    queue = teacher.get(url(setup, "grading"))
    assert f"/grading/{setup.questions['essay'].id}" not in queue.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(QuestionAttempt)) == 6


def test_a_dry_run_of_an_interactive_quiz_without_edits_changes_nothing(teacher, world):
    s = make_quiz_setup(world, essay=False, random_count=0, behaviour="interactive", tries="3", penalty="25")
    attempt = attempts.start(s.quiz, world.student_a)
    db.session.commit()
    capital = next(q for q in attempt.questions if q.version.definition["qtype"] == "multichoice")
    attempts.save(attempt.id, world.student_a.id, [(capital.slot, 1, {"": str(capital.order["choices"].index(1))})])
    attempts.check(attempt, capital.slot, user_id=world.student_a.id)  # a wrong first try, then the right answer
    attempts.save(attempt.id, world.student_a.id, [(capital.slot, 2, right_values(capital))])
    attempts.submit(attempt, user_id=world.student_a.id)
    db.session.commit()
    assert capital.fraction == 0.75
    dry = teacher.post(url(s, "regrade"), data={"action": "dry_run"})
    assert dry.status_code == 200 and "<table>" not in dry.get_data(as_text=True).split('id="regrade-h"')[1]
