"""Course content: sections from the curriculum, template runs, sanitised text, files, access restrictions,
completion and hours, announcements, and who may open what."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.core.db import utcnow
from lms.core.errors import ValidationError
from lms.core.mail import OutboxMessage
from lms.courses import content as services
from lms.courses import runs
from lms.courses.models import Activity, ActivityProgress, CourseRun, Section
from lms.extensions import db
from tests.courses.test_runs import RUN, published_programme
from tests.helpers import count, field_error, text_of


def make_run(world, **over) -> CourseRun:
    run = runs.open_run(published_programme(world), world.school_a, by=world.admin_a, teachers=[world.teacher_a],
                        groups=["Группа 1"], **{**RUN, **over})
    db.session.commit()
    return run


def page(section, title="Введение", by=None, **data):
    return services.save_activity(section, {"kind": "page", "title": title, "body": "<p>Текст</p>",
                                            "planned_hours": 2, "completion": "viewed", **data},
                                  by=by or section_owner(section))


def section_owner(section):
    return db.session.get(CourseRun, section.run_id).staff[0].user


def test_a_new_run_has_a_section_per_curriculum_module(world):
    run = make_run(world)
    sections = db.session.scalars(select(Section).where(Section.run_id == run.id)).all()
    assert [s.title for s in sections] == [m.title for m in run.programme.modules]
    assert all(s.module_id for s in sections)


def test_text_is_sanitised():
    dirty = ('<p onclick="steal()">Привет<script>alert(1)</script></p><a href="javascript:alert(1)">x</a>'
             '<img src="x" onerror="alert(1)"><iframe src="https://evil.example"></iframe>'
             '<a href="https://example.org">ссылка</a>')
    clean = services.sanitize(dirty)
    for bad in ("onclick", "<script", "javascript:", "onerror", "<iframe"):
        assert bad not in clean
    assert "Привет" in clean and 'href="https://example.org"' in clean and "noopener" in clean


def test_bad_activities_are_refused_field_by_field(world):
    run = make_run(world)
    section = run_sections(run)[0]
    with pytest.raises(ValidationError) as exc:
        services.save_activity(section, {"kind": "link", "title": "", "url": "javascript:alert(1)",
                                         "planned_hours": "-1", "completion": "graded"}, by=world.teacher_a)
    assert {"title", "url", "planned_hours", "completion"} <= set(exc.value.errors)
    with pytest.raises(ValidationError) as exc:
        services.save_activity(section, {"kind": "file", "title": "Программа"}, by=world.teacher_a,
                               upload=services.Upload("setup.exe", io.BytesIO(b"MZ"), 2, "application/x-msdownload"))
    assert exc.value.field == "file"
    assert count(Activity) == 0


def run_sections(run):
    return db.session.scalars(select(Section).where(Section.run_id == run.id).order_by(Section.position)).all()


def test_restrictions_by_date_completion_and_group(world):
    run = make_run(world)
    section = run_sections(run)[0]
    first = page(section)
    later = page(section, "Позже", available_from=utcnow() + timedelta(days=3))
    after_first = page(section, "После введения", requires_activity_id=first.id)
    for_group = page(section, "Для группы", group_id=run.groups[0].id)
    quiz = services.save_activity(section, {"kind": "quiz", "title": "Тест", "completion": "graded"},
                                  by=world.teacher_a)
    webinar = services.save_activity(section, {"kind": "webinar", "title": "Вебинар", "completion": "viewed"},
                                     by=world.teacher_a)
    db.session.commit()

    def state(activity, completed=(), groups=()):
        return services.access(activity, group_ids=set(groups), completed=set(completed))

    assert state(first).open
    assert not state(later).open and "Откроется" in state(later).reason
    assert not state(after_first).open and "Введение" in state(after_first).reason
    assert state(after_first, completed=[first.id]).open
    assert not state(for_group).open and state(for_group, groups=[run.groups[0].id]).open
    assert state(quiz).open  # quizzes are taken (lms.assessment)
    assert not state(webinar).open  # its engine comes with the webinars issue


def test_viewing_completes_and_counts_the_hours(world):
    run = make_run(world)
    runs.enrol(run, world.student_a, by=world.admin_a)
    section = run_sections(run)[0]
    first, second = page(section), page(section, "Второй материал")
    services.save_activity(section, {"kind": "page", "title": "Справочно", "planned_hours": 1,
                                     "completion": "none"}, by=world.teacher_a)
    services.record_view(first, world.student_a)
    services.record_view(first, world.student_a)  # a second view changes nothing
    db.session.commit()
    activities = db.session.scalars(select(Activity).where(Activity.run_id == run.id)).all()
    progress = services.learner_progress(activities, services.progress_rows(run.id, world.student_a.id), 36)
    assert (progress.required, progress.completed, progress.hours_done, progress.percent) == (2, 1, 2, 50)
    assert count(ActivityProgress) == 1 and second.id


def test_a_template_run_gives_its_content_to_new_runs(world):
    template = make_run(world, is_template=True)
    section = run_sections(template)[0]
    intro = page(section)
    page(section, "Далее", requires_activity_id=intro.id)
    services.save_activity(section, {"kind": "file", "title": "Памятка", "completion": "viewed"},
                           by=world.teacher_a, upload=services.Upload("pamyatka.pdf", io.BytesIO(b"%PDF-1.4 x"), 10,
                                                                      "application/pdf"))
    db.session.commit()
    new = runs.open_run(template.programme, world.school_a, by=world.admin_a, template=template,
                        **{**RUN, "name": "Поток 2"})
    db.session.commit()
    copied = db.session.scalars(select(Activity).where(Activity.run_id == new.id).order_by(Activity.position)).all()
    assert [a.title for a in copied] == ["Введение", "Далее", "Памятка"]
    assert copied[1].requires_activity_id == copied[0].id  # points at the copy, not the template's activity
    original = db.session.scalar(select(Activity).where(Activity.run_id == template.id, Activity.kind == "file"))
    assert copied[2].file_key != original.file_key


def test_announcements_reach_every_learner_by_mail(world):
    run = make_run(world, is_network=True)
    world.student_a.email, world.student_b.email = "a@school.example", "b@school.example"
    runs.enrol(run, world.student_a, by=world.admin_a)
    runs.enrol(run, world.student_b, by=world.admin_a)
    runs.enrol(run, world.methodologist_a, by=world.admin_a)  # no e-mail: nothing to send
    before = count(OutboxMessage)
    services.announce(run, title="Перенос вебинара", body="<p>Вебинар переносится на четверг.</p>",
                      by=world.teacher_a)
    db.session.commit()
    mails = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()[before:]
    assert sorted(m.to for m in mails) == ["a@school.example", "b@school.example"]
    assert "четверг" in mails[0].body


# --- pages ---------------------------------------------------------------------------------------

def test_teacher_builds_the_course_and_a_learner_takes_it(client, world, login_as):
    run = make_run(world)
    runs.enrol(run, world.student_a, by=world.admin_a)
    db.session.commit()
    section = run_sections(run)[0]
    login_as(client, world.teacher_a)
    bad = client.post(f"/sections/{section.id}/activities/new?kind=link",
                      data={"title": "Видео", "url": "ftp://x", "planned_hours": "1", "completion": "viewed"})
    assert bad.status_code == 422 and field_error(bad, "url")
    response = client.post(f"/sections/{section.id}/activities/new?kind=file",
                           data={"title": "Методичка", "planned_hours": "2", "completion": "viewed",
                                 "is_visible": "y", "file": (io.BytesIO(b"%PDF-1.4 test"), "metodichka.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    activity = db.session.scalar(select(Activity).where(Activity.kind == "file"))
    client.post("/logout")
    login_as(client, world.student_a)
    course = text_of(client.get(f"/runs/{run.id}/course"))
    assert "Методичка" in course and "0 из 1" in course
    assert client.get(f"/activities/{activity.id}/download").status_code == 302
    assert "1 из 1" in text_of(client.get(f"/runs/{run.id}/course"))


def test_content_is_for_the_runs_people_only(client, world, login_as):
    run = make_run(world, is_published=True)
    activity = page(run_sections(run)[0], by=world.teacher_a)
    hidden = page(run_sections(run)[0], "Скрытый", by=world.teacher_a, is_visible=False)
    runs.enrol(run, world.student_a, by=world.admin_a)
    db.session.commit()
    login_as(client, world.methodologist_a)  # same school, not in the run
    assert client.get(f"/runs/{run.id}/course").status_code == 403
    assert client.get(f"/activities/{activity.id}").status_code == 403
    client.post("/logout")
    login_as(client, world.student_a)
    assert client.get(f"/activities/{activity.id}").status_code == 200
    assert client.get(f"/activities/{hidden.id}").status_code == 403
    assert client.post(f"/activities/{activity.id}/delete").status_code == 403


def test_periodic_jobs_include_the_courses_and_prune_old_lookups(world):
    from lms.core.jobs import _registry
    from lms.courses.jobs import prune_verification_attempts
    from lms.courses.models import VerificationAttempt

    assert prune_verification_attempts in _registry
    db.session.add_all([VerificationAttempt(ip="10.0.0.1", at=utcnow() - timedelta(days=2)),
                        VerificationAttempt(ip="10.0.0.1", at=utcnow())])
    db.session.commit()
    assert "1" in prune_verification_attempts()
    assert count(VerificationAttempt) == 1


def test_a_replaced_file_goes_only_when_the_change_is_committed(world):
    from lms.core.storage import get_storage

    run = make_run(world)
    section = run_sections(run)[0]
    activity = services.save_activity(section, {"kind": "file", "title": "Памятка", "completion": "viewed"},
                                      by=world.teacher_a,
                                      upload=services.Upload("v1.pdf", io.BytesIO(b"%PDF-1.4 one"), 12, "application/pdf"))
    db.session.commit()
    first = activity.file_key
    services.save_activity(section, {"title": "Памятка", "completion": "viewed"}, by=world.teacher_a,
                           activity=activity,
                           upload=services.Upload("v2.pdf", io.BytesIO(b"%PDF-1.4 two"), 12, "application/pdf"))
    db.session.rollback()  # the change is abandoned: the row still names the first file
    db.session.commit()  # a later commit must not delete it either
    assert get_storage().exists(first)
    activity = db.session.get(Activity, activity.id)
    services.save_activity(section, {"title": "Памятка", "completion": "viewed"}, by=world.teacher_a,
                           activity=activity,
                           upload=services.Upload("v3.pdf", io.BytesIO(b"%PDF-1.4 three"), 14, "application/pdf"))
    db.session.commit()
    assert not get_storage().exists(first) and get_storage().exists(activity.file_key)
