"""Grading an assignment with points, a scale or a rubric: the rubric's text form and its bad lines, the
points each method gives, the gradebook's maximum, the pages and the API."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.core.errors import ValidationError
from lms.courses import assignments, gradebook, grading, runs
from lms.courses.models import Activity, GradeItem, Section
from lms.extensions import db
from tests.courses.test_assignments import assignment
from tests.courses.test_content import make_run
from tests.helpers import field_error, text_of

RUBRIC = ("Полнота раскрытия темы: не раскрыта = 0; частично = 2; полностью = 4\n"
          "Оформление: с ошибками = 0; без ошибок = 2\n")


@pytest.fixture
def setup(world):
    run = make_run(world, is_network=True)
    runs.enrol(run, world.student_a, by=world.admin_a)
    runs.enrol(run, world.student_b, by=world.admin_a)
    db.session.commit()
    return run


def test_a_rubric_is_read_from_lines_and_written_back():
    criteria = grading.parse_rubric(RUBRIC)
    assert [c["title"] for c in criteria] == ["Полнота раскрытия темы", "Оформление"]
    assert criteria[0]["levels"][2] == {"text": "полностью", "points": 4}
    assert grading.rubric_maximum(criteria) == 6
    assert grading.parse_rubric(grading.rubric_text(criteria)) == criteria


@pytest.mark.parametrize(("text", "line"), [
    ("Полнота: мало = 0; много = 2\nОформление без двоеточия", 2),
    ("Полнота: мало = 0; много = два", 1),
    ("Полнота: мало = 0; много = 2\n\nОформление: одно = 1", 3),  # one level is not a choice
    ("Полнота: мало = 0; много = 101", 1),
])
def test_bad_rubric_lines_are_named(app, text, line):
    with app.test_request_context(), pytest.raises(ValidationError) as exc:
        grading.parse_rubric(text)
    assert exc.value.field == "rubric" and f"строка {line}" in exc.value.message


def test_an_empty_rubric_is_refused(app):
    with app.test_request_context(), pytest.raises(ValidationError) as exc:
        grading.parse_rubric(" \n ")
    assert exc.value.field == "rubric"


def test_grading_with_a_rubric(world, setup):
    work = assignment(world, setup, grading="rubric", rubric=RUBRIC, pass_points="4")
    assert work.settings["max_points"] == 6 and work.settings["pass_points"] == 4
    submission = assignments.submit(work, world.student_a, text="Ответ")
    with pytest.raises(ValidationError) as exc:
        assignments.grade(submission, levels=["2"], feedback="", by=world.teacher_a)
    assert exc.value.errors == {"level-2": "Выберите уровень по критерию «Оформление»."}
    with pytest.raises(ValidationError):
        assignments.grade(submission, levels=["3", "0"], feedback="", by=world.teacher_a)  # no fourth level
    assignments.grade(submission, levels=["1", "1"], feedback="", by=world.teacher_a)
    assert (submission.points, submission.rubric_levels, submission.status) == (4, [1, 1], "graded")
    db.session.commit()
    item = db.session.scalar(select(GradeItem).where(GradeItem.activity_id == work.id))
    assert item is None or item.max_points == 6
    items = gradebook.ensure_items(setup)
    assert next(i for i in items if i.activity_id == work.id).max_points == 6


def test_grading_on_a_scale(world, setup):
    work = assignment(world, setup, grading="scale", scale="five_point")
    assert (work.settings["max_points"], work.settings["pass_points"]) == (5, 3)
    submission = assignments.submit(work, world.student_a, text="Ответ")
    with pytest.raises(ValidationError) as exc:
        assignments.grade(submission, points="1", feedback="", by=world.teacher_a)  # not a mark of the scale
    assert exc.value.field == "points"
    assignments.grade(submission, points="2", feedback="", by=world.teacher_a)
    assert submission.status == "reopened"  # below «3»: the learner may send it again
    assert grading.grade_label(work.settings, 4) == "4 (хорошо)"
    passed = assignment(world, setup, grading="scale", scale="pass_fail")
    other = assignments.submit(passed, world.student_b, text="Ответ")
    assignments.grade(other, points="1", feedback="", by=world.teacher_a)
    assert other.status == "graded" and grading.grade_label(passed.settings, 1) == "зачтено"


def test_bad_grading_settings_are_refused_field_by_field(world, setup):
    section = db.session.scalar(select(Section).where(Section.run_id == setup.id))
    from lms.courses import content

    with pytest.raises(ValidationError) as exc:
        content.save_activity(section, {"kind": "assignment", "title": "Эссе", "grading": "rubric",
                                        "rubric": "Без уровней"}, by=world.teacher_a)
    assert "rubric" in exc.value.errors
    with pytest.raises(ValidationError) as exc:
        content.save_activity(section, {"kind": "assignment", "title": "Эссе", "grading": "rubric", "rubric": RUBRIC,
                                        "pass_points": "7"}, by=world.teacher_a)
    assert "pass_points" in exc.value.errors
    with pytest.raises(ValidationError) as exc:
        content.save_activity(section, {"kind": "assignment", "title": "Эссе", "grading": "stars"}, by=world.teacher_a)
    assert "grading" in exc.value.errors


def test_pages_build_and_grade_with_a_rubric(client, login_as, world, setup):
    section = db.session.scalar(select(Section).where(Section.run_id == setup.id).order_by(Section.position))
    login_as(client, world.teacher_a)
    form = {"title": "Эссе", "planned_hours": "2", "completion": "graded", "is_visible": "y", "online_text": "y",
            "grading": "rubric", "rubric": "Полнота: мало = 0; много = 4\nОформление ошибки", "pass_points": "3"}
    bad = client.post(f"/sections/{section.id}/activities/new?kind=assignment", data=form)
    assert bad.status_code == 422 and "строка 2" in field_error(bad, "rubric")
    form["rubric"] = RUBRIC
    assert client.post(f"/sections/{section.id}/activities/new?kind=assignment", data=form).status_code == 302
    work = db.session.scalar(select(Activity).where(Activity.title == "Эссе"))
    assert "Полнота раскрытия темы: не раскрыта = 0" in client.get(f"/activities/{work.id}/edit").get_data(
        as_text=True)
    submission = assignments.submit(work, world.student_a, text="Ответ")
    db.session.commit()
    page = client.get(f"/submissions/{submission.id}/grade")
    assert page.status_code == 200 and 'name="level-2"' in page.get_data(as_text=True)
    missing = client.post(f"/submissions/{submission.id}/grade", data={"level-1": "2", "feedback": ""})
    assert missing.status_code == 422 and "Выберите уровень по критерию «Оформление»" in text_of(missing)
    assert client.post(f"/submissions/{submission.id}/grade", data={"level-1": "2", "level-2": "1"}).status_code == 302
    client.post("/logout")
    login_as(client, world.student_a)
    mine = text_of(client.get(f"/activities/{work.id}"))
    assert "6 из 6" in mine and "ваш уровень" in mine and "Рубрика" in mine


def test_the_scale_on_the_grading_page(client, login_as, world, setup):
    work = assignment(world, setup, grading="scale", scale="five_point")
    submission = assignments.submit(work, world.student_a, text="Ответ")
    db.session.commit()
    login_as(client, world.teacher_a)
    page = client.get(f"/submissions/{submission.id}/grade").get_data(as_text=True)
    assert "4 (хорошо)" in page and 'type="number"' not in page.split('name="points"')[0][-200:]
    assert client.post(f"/submissions/{submission.id}/grade", data={"points": "7"}).status_code == 422
    assert client.post(f"/submissions/{submission.id}/grade", data={"points": "5"}).status_code == 302
    client.post("/logout")
    login_as(client, world.student_a)
    assert "5 (отлично)" in text_of(client.get(f"/activities/{work.id}"))
