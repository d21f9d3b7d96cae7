"""Files attached to essays in attempts (the page with and without its script, the API) and grading essays
with a rubric in the manual grading queue."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from lms.assessment import attempt_files, attempts, banks
from lms.assessment.models import AttemptFile, QuestionAttempt, QuizAttempt
from lms.core.storage import get_storage
from lms.courses.content import Upload
from lms.extensions import db
from tests.assessment.quiz_helpers import ESSAY, make_quiz_setup

RUBRIC = "Полнота раскрытия: не раскрыта = 0; частично = 2; полностью = 4\nОформление: с ошибками = 0; без ошибок = 2"


@pytest.fixture
def setup(world):
    s = make_quiz_setup(world, random_count=0, questions_per_page=0)
    banks.edit_question(s.questions["essay"], {**ESSAY, "attachments": 2, "rubric": RUBRIC}, by=world.teacher_a)
    db.session.commit()
    return s


def start(client, setup) -> QuizAttempt:
    r = client.post(f"/quizzes/{setup.activity.id}/start")
    assert r.status_code == 303, r.get_data(as_text=True)
    return db.session.get(QuizAttempt, int(re.search(r"/attempts/(\d+)", r.headers["Location"]).group(1)))


def essay_of(attempt: QuizAttempt) -> QuestionAttempt:
    return next(qa for qa in attempt.questions if qa.version.definition["qtype"] == "essay")


def other_of(attempt: QuizAttempt) -> QuestionAttempt:
    return next(qa for qa in attempt.questions if qa.version.definition["qtype"] != "essay")


def upload(data: bytes = b"%PDF-1.4 work", name: str = "work.pdf") -> Upload:
    return Upload(filename=name, stream=io.BytesIO(data), length=len(data), content_type="application/pdf")


def count_files() -> int:
    return db.session.scalar(select(func.count()).select_from(AttemptFile))


def test_the_rules_of_attaching(app, world, setup):
    from lms.assessment import attempts as engine

    attempt = engine.start(setup.quiz, world.student_a)
    db.session.commit()
    essay, other = essay_of(attempt), other_of(attempt)
    rows = attempt_files.attach(attempt.id, world.student_a.id, essay.slot, [upload(), upload(name="work.pdf")])
    db.session.commit()
    assert [r.name for r in rows] == ["work.pdf", "work.pdf"] and rows[0].key != rows[1].key  # never overwritten
    assert get_storage().get_bytes(rows[0].key) == b"%PDF-1.4 work"
    with pytest.raises(engine.ValidationError) as too_many:
        attempt_files.attach(attempt.id, world.student_a.id, essay.slot, [upload()])
    assert too_many.value.field == f"q{essay.slot}-files" and "не больше 2" in too_many.value.message
    with pytest.raises(engine.ValidationError) as no_files:
        attempt_files.attach(attempt.id, world.student_a.id, other.slot, [upload()])
    assert no_files.value.field == f"q{other.slot}-files"
    with pytest.raises(engine.ValidationError):
        attempt_files.attach(attempt.id, world.student_a.id, essay.slot, [upload(name="virus.exe")])
    with pytest.raises(engine.NotFound):
        attempt_files.attach(attempt.id, world.student_b.id, essay.slot, [upload()])
    with pytest.raises(engine.NotFound):
        attempt_files.detach(attempt.id, world.student_b.id, rows[0].id)
    db.session.rollback()
    removed = attempt_files.detach(attempt.id, world.student_a.id, rows[0].id)
    db.session.commit()
    attempt_files.discard(removed.key)
    assert count_files() == 1 and not get_storage().exists(removed.key)
    # An essay with a file and no text is an answer: it waits for a teacher.
    engine.submit(attempt, user_id=world.student_a.id)
    db.session.commit()
    db.session.refresh(essay)
    assert essay.state == engine.WAITING and attempt.sum_marks is None
    with pytest.raises(engine.AttemptClosed):
        attempt_files.attach(attempt.id, world.student_a.id, essay.slot, [upload()])
    with pytest.raises(engine.AttemptClosed):
        attempt_files.detach(attempt.id, world.student_a.id, rows[1].id)


def test_files_through_the_page_without_and_with_its_script(client, login_as, world, setup):
    login_as(client, world.student_a)
    attempt = start(client, setup)
    essay = essay_of(attempt)
    page = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and f'name="q{essay.slot}-files"' in page
    # Without the script: the page's form carries the text and the file together.
    r = client.post(f"/attempts/{attempt.id}", data={
        "page": "1", "goto": "stay", f"q{essay.slot}": "Мой ответ в файле", f"seq-{essay.slot}": "1",
        f"q{essay.slot}-files": (io.BytesIO(b"one"), "план урока.docx")}, content_type="multipart/form-data")
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/attempts/{attempt.id}?page=1")
    db.session.refresh(essay)
    assert essay.response == {"": "Мой ответ в файле"} and [f.name for f in essay.files] == ["план урока.docx"]
    page = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    assert "план урока.docx" in page and "3 байт" in page
    # A refused file names the question, keeps the saved answers and stays on the page.
    r = client.post(f"/attempts/{attempt.id}", data={
        "page": "1", "goto": "summary", f"q{essay.slot}": "Ответ изменён", f"seq-{essay.slot}": "2",
        f"q{essay.slot}-files": [(io.BytesIO(b"a"), "a.exe")]}, content_type="multipart/form-data")
    assert r.status_code == 303 and "summary" not in r.headers["Location"]
    db.session.refresh(essay)
    assert essay.response == {"": "Ответ изменён"} and len(essay.files) == 1
    flashed = client.get(r.headers["Location"]).get_data(as_text=True)
    assert re.search(r"Вопрос \d+: a\.exe: ", flashed)
    # With the script: a chosen file is sent at once and the list comes back.
    headers = {"X-CSRFToken": client.csrf_token(), "Accept": "application/json"}
    r = client.post(f"/attempts/{attempt.id}/files", headers=headers, content_type="multipart/form-data",
                    data={"slot": str(essay.slot), f"q{essay.slot}-files": (io.BytesIO(b"two"), "схема.png")})
    assert r.status_code == 200 and "схема.png" in r.get_json()["html"]
    r = client.post(f"/attempts/{attempt.id}/files", headers=headers, content_type="multipart/form-data",
                    data={"slot": str(essay.slot), f"q{essay.slot}-files": (io.BytesIO(b"3"), "лишний.txt")})
    assert r.status_code == 422 and r.get_json()["error"]["field"] == f"q{essay.slot}-files"
    r = client.post(f"/attempts/{attempt.id}/files", headers=headers, content_type="multipart/form-data",
                    data={"slot": "²"})
    assert r.status_code == 422
    file_id = essay.files[0].id
    assert client.post(f"/attempts/{attempt.id}/files/{file_id}/remove", csrf=False).status_code == 400
    r = client.post(f"/attempts/{attempt.id}/files/{file_id}/remove", headers=headers)
    assert r.status_code == 200 and "план урока.docx" not in r.get_json()["html"]
    # «Remove» without the script: the page's button, which saves the answers too.
    second = db.session.scalars(select(AttemptFile).where(AttemptFile.question_attempt_id == essay.id)).one()
    r = client.post(f"/attempts/{attempt.id}", data={"page": "1", "remove_file": str(second.id),
                                                      f"q{essay.slot}": "Итог", f"seq-{essay.slot}": "9"})
    assert r.status_code == 303 and count_files() == 0
    db.session.refresh(essay)
    assert essay.response == {"": "Итог"}


def test_who_may_download_and_the_review(client, login_as, world, setup):
    login_as(client, world.student_a)
    attempt = start(client, setup)
    essay = essay_of(attempt)
    row = attempt_files.attach(attempt.id, world.student_a.id, essay.slot, [upload(b"secret work")])[0]
    db.session.commit()
    url = f"/attempts/{attempt.id}/files/{row.id}"
    r = client.get(url)
    assert r.status_code == 302
    assert client.get(r.headers["Location"]).get_data() == b"secret work"
    assert client.get(f"/attempts/{attempt.id + 1}/files/{row.id}").status_code == 404
    client.post(f"/attempts/{attempt.id}/submit")
    review = client.get(f"/attempts/{attempt.id}/review").get_data(as_text=True)
    assert "work.pdf" in review and url in review
    login_as(client, world.student_b)
    assert client.get(url).status_code == 404
    assert client.post(f"/attempts/{attempt.id}/files/{row.id}/remove",
                       headers={"X-CSRFToken": client.csrf_token()}).status_code == 404
    login_as(client, world.teacher_a)
    assert client.get(url).status_code == 302
    grading = client.get(f"/quizzes/{setup.activity.id}/grading/{essay.question_id}").get_data(as_text=True)
    assert url in grading and "Полнота раскрытия" in grading


def test_grading_an_essay_with_its_rubric(client, login_as, world, setup):
    login_as(client, world.student_a)
    attempt = start(client, setup)
    essay = essay_of(attempt)
    client.post(f"/attempts/{attempt.id}", data={"page": "1", "goto": "stay", f"q{essay.slot}": "Мой ответ",
                                                  f"seq-{essay.slot}": "1"})
    client.post(f"/attempts/{attempt.id}/submit")
    login_as(client, world.teacher_a)
    url = f"/quizzes/{setup.activity.id}/grading/{essay.question_id}"
    page = client.get(url).get_data(as_text=True)
    assert f'name="level-{essay.id}-1"' in page and f'name="mark-{essay.id}"' not in page
    # One criterion left out: 422 naming it, nothing stored.
    r = client.post(url, data={"only": str(essay.id), f"level-{essay.id}-1": "2", f"comment-{essay.id}": "Хорошо"})
    assert r.status_code == 422 and f'href="#level-{essay.id}-2"' in r.get_data(as_text=True)
    db.session.refresh(essay)
    assert essay.state == attempts.WAITING and essay.rubric_levels is None
    r = client.post(url, data={"only": str(essay.id), f"level-{essay.id}-1": "9", f"level-{essay.id}-2": "1"})
    assert r.status_code == 422
    # «полностью» (4) and «с ошибками» (0): 4 of 6 points of the rubric is 4/6 of the question's mark.
    r = client.post(url, data={"only": str(essay.id), f"level-{essay.id}-1": "2", f"level-{essay.id}-2": "0",
                               f"comment-{essay.id}": "Проверьте оформление"})
    assert r.status_code == 302
    db.session.refresh(essay)
    assert essay.rubric_levels == [2, 0] and essay.fraction == pytest.approx(4 / 6)
    assert essay.state == attempts.GRADED_BY_PERSON and essay.comment == "Проверьте оформление"
    db.session.refresh(attempt)
    assert attempt.sum_marks is not None
    page = client.get(url).get_data(as_text=True)
    assert f'id="level-{essay.id}-1-2" name="level-{essay.id}-1" value="2" checked' in page
    # The same levels and comment again change nothing.
    r = client.post(url, data={f"level-{essay.id}-1": "2", f"level-{essay.id}-2": "0",
                               f"comment-{essay.id}": "Проверьте оформление"}, follow_redirects=True)
    assert "Ничего не изменилось" in r.get_data(as_text=True)


def test_remove_without_script_stays_on_the_page_of_a_sequential_quiz(client, login_as, world):
    s = make_quiz_setup(world, random_count=0, questions_per_page=0, navigation="sequential")
    banks.edit_question(s.questions["essay"], {**ESSAY, "attachments": 2}, by=world.teacher_a)
    db.session.commit()
    login_as(client, world.student_a)
    attempt = start(client, s)
    essay = essay_of(attempt)
    row = attempt_files.attach(attempt.id, world.student_a.id, essay.slot, [upload()])[0]
    db.session.commit()
    r = client.post(f"/attempts/{attempt.id}", data={"page": "1", "remove_file": str(row.id)})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/attempts/{attempt.id}?page=1")
    assert count_files() == 0
    # an id beyond the key range is no file: the answers are saved, nothing fails
    r = client.post(f"/attempts/{attempt.id}", data={"page": "1", "remove_file": "99999999999"})
    assert r.status_code == 303 and "summary" not in r.headers["Location"]


def test_file_sizes_read_in_russian(app):
    from lms.core.i18n import fmt_size

    with app.test_request_context(headers={"Accept-Language": "ru"}):
        assert [fmt_size(n) for n in (1, 3, 5, 21, 1536, 3 * 1024 * 1024)] == [
            "1 байт", "3 байта", "5 байт", "21 байт", "1,5 КБ", "3 МБ"]
