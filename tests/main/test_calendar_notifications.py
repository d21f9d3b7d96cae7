"""Calendar (page and private iCalendar feed) and in-app notifications."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lms.core.calendar import Event, to_ical
from lms.core.db import utcnow
from lms.core.notifications import Notification
from lms.courses import assignments, runs
from lms.extensions import db
from tests.courses.test_assignments import assignment
from tests.courses.test_content import make_run
from tests.helpers import text_of


def test_ical_escapes_and_folds_lines():
    from datetime import date

    body = to_ical([Event(uid="x@lms", title="Курс; длинное название, " + "очень " * 20,
                          start=date(2026, 12, 1), end=date(2026, 12, 3))], name="Курсы", base_url="https://lms.example/")
    lines = body.split("\r\n")
    assert "DTEND;VALUE=DATE:20261204" in lines  # the last day is included
    assert all(len(line.encode()) <= 75 for line in lines)
    assert "Курс\\; длинное название\\," in body.replace("\r\n ", "")


def test_the_calendar_and_its_private_feed(client, world, login_as):
    run = make_run(world, is_network=True, starts_on=utcnow().date(), ends_on=utcnow().date() + timedelta(days=30))
    runs.enrol(run, world.student_a, by=world.admin_a)
    assignment(world, run, due_at=utcnow() + timedelta(days=3))
    db.session.commit()
    login_as(client, world.student_a)
    page = text_of(client.get("/calendar"))
    assert run.programme.title in page and "Практическая работа" in page
    client.post("/calendar/feed")
    page = text_of(client.get("/calendar"))
    url = page.split('id="feed-url" type="text" readonly value="')[1].split('"')[0]
    path = url.split("lms.test", 1)[1] if "lms.test" in url else url[url.index("/calendar/"):]
    client.post("/logout")
    feed = client.get(path)
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    assert "BEGIN:VEVENT" in feed.get_data(as_text=True)
    assert client.get("/calendar/not-a-token.ics").status_code == 404
    login_as(client, world.student_a)
    client.post("/calendar/feed")  # renewed: the old address stops working
    client.post("/logout")
    assert client.get(path).status_code == 404


def test_people_are_notified_of_decisions_and_grades(client, world, login_as):
    run = make_run(world, is_network=True, is_published=True, self_enrolment=True)
    enrolment = runs.request_enrolment(run, world.student_a)
    runs.decide(enrolment, approve=True, by=world.teacher_a)
    work = assignment(world, run)
    submission = assignments.submit(work, world.student_a, text="Ответ")
    assignments.grade(submission, points="9", feedback="", by=world.teacher_a)
    db.session.commit()
    kinds = [n.kind for n in db.session.scalars(select(Notification).where(Notification.user_id == world.student_a.id))]
    assert kinds == ["enrolment", "grade"]
    login_as(client, world.student_a)
    page = text_of(client.get("/notifications"))
    assert "9 из 10" in page
    client.post("/notifications/read")
    assert all(n.read_at for n in db.session.scalars(select(Notification)))
