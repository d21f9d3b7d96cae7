"""Assignments: submitting within the dates, late work, files, grading with a pass mark, resubmission,
completion, and who may read whose work."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.core.db import utcnow
from lms.core.errors import Conflict, ValidationError
from lms.courses import assignments, content, runs
from lms.courses.models import ActivityProgress, Section, Submission
from lms.extensions import db
from tests.courses.test_content import make_run
from tests.helpers import field_error, text_of


def assignment(world, run, **settings):
    section = db.session.scalar(select(Section).where(Section.run_id == run.id).order_by(Section.position))
    activity = content.save_activity(section, {"kind": "assignment", "title": "Практическая работа",
                                               "completion": "graded", "max_points": 10, "pass_points": 6,
                                               **settings}, by=world.teacher_a)
    db.session.commit()
    return activity


@pytest.fixture
def setup(world):
    run = make_run(world, is_network=True)
    runs.enrol(run, world.student_a, by=world.admin_a)
    runs.enrol(run, world.student_b, by=world.admin_a)
    db.session.commit()
    return run


def test_submit_grade_below_the_pass_mark_and_again(world, setup):
    activity = assignment(world, setup)
    with pytest.raises(ValidationError):
        assignments.submit(activity, world.student_a, text="  ")
    first = assignments.submit(activity, world.student_a, text="<p>Мой план урока</p><script>x()</script>",
                               uploads=[content.Upload("plan.docx", io.BytesIO(b"PK.."), 4, "application/zip")])
    assert "<script" not in first.text and [f.name for f in first.files] == ["plan.docx"]
    assignments.grade(first, points="4", feedback="Не хватает рефлексии", by=world.teacher_a)
    assert first.status == "reopened"
    assert not db.session.scalar(select(ActivityProgress.completed_at).where(
        ActivityProgress.user_id == world.student_a.id))
    second = assignments.submit(activity, world.student_a, text="<p>Исправленный план</p>")
    assert second.id == first.id and second.attempt == 2
    with pytest.raises(ValidationError):
        assignments.grade(second, points="11", feedback="", by=world.teacher_a)  # over the maximum
    assignments.grade(second, points="8", feedback="Хорошо", by=world.teacher_a)
    db.session.commit()
    assert second.status == "graded"
    assert db.session.scalar(select(ActivityProgress.completed_at).where(
        ActivityProgress.user_id == world.student_a.id))
    with pytest.raises(Conflict):
        assignments.submit(activity, world.student_a, text="ещё раз")  # graded for good


def test_dates_late_work_and_the_cut_off(world, setup):
    now = utcnow()
    early = assignment(world, setup, opens_at=now + timedelta(days=1))
    with pytest.raises(Conflict):
        assignments.submit(early, world.student_a, text="рано")
    late = assignment(world, setup, due_at=now - timedelta(days=1), cutoff_at=now + timedelta(days=1))
    assert assignments.submit(late, world.student_a, text="поздно").is_late
    closed = assignment(world, setup, due_at=now - timedelta(days=3), cutoff_at=now - timedelta(days=1))
    with pytest.raises(Conflict):
        assignments.submit(closed, world.student_a, text="слишком поздно")


def test_only_learners_submit(world, setup):
    activity = assignment(world, setup)
    with pytest.raises(Conflict):
        assignments.submit(activity, world.methodologist_a, text="не слушатель")


def test_pages_submit_grade_and_privacy(client, world, login_as, setup):
    activity = assignment(world, setup)
    login_as(client, world.student_a)
    bad = client.post(f"/activities/{activity.id}/submit", data={"text": ""})
    assert bad.status_code == 422 and field_error(bad, "text")
    response = client.post(f"/activities/{activity.id}/submit",
                           data={"text": "Ответ", "files": [(io.BytesIO(b"%PDF-1.4"), "otvet.pdf")]},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    submission = db.session.scalar(select(Submission))
    file_id = submission.files[0].id
    assert client.get(f"/submission-files/{file_id}").status_code == 302
    client.post("/logout")
    login_as(client, world.student_b)  # another learner of the same run
    assert client.get(f"/submission-files/{file_id}").status_code == 403
    assert client.get(f"/activities/{activity.id}/submissions").status_code == 403
    assert client.get(f"/submissions/{submission.id}/grade").status_code == 403
    client.post("/logout")
    login_as(client, world.teacher_a)
    assert "Ответ" in text_of(client.get(f"/submissions/{submission.id}/grade"))
    assert client.post(f"/submissions/{submission.id}/grade", data={"points": "7", "feedback": "Хорошо"}).status_code == 302
    client.post("/logout")
    login_as(client, world.student_a)
    page = text_of(client.get(f"/activities/{activity.id}"))
    assert "7 из 10" in page and "Хорошо" in page


def test_learners_who_have_not_submitted_are_reminded_once_before_the_due_date(world, setup):
    from lms.core.mail import OutboxMessage
    from lms.courses.jobs import send_deadline_reminders

    world.student_a.email, world.student_b.email = "a@school.example", "b@school.example"
    activity = assignment(world, setup, due_at=utcnow() + timedelta(hours=10))
    assignment(world, setup, due_at=utcnow() + timedelta(days=5))  # not yet
    assignments.submit(activity, world.student_b, text="Сдано заранее")
    db.session.commit()
    before = db.session.scalar(select(db.func.count(OutboxMessage.id)))
    assert send_deadline_reminders() == 1
    assert send_deadline_reminders() == 0  # once per due date
    mail = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()[before:]
    assert [m.to for m in mail] == ["a@school.example"] and "Практическая работа" in mail[0].subject
