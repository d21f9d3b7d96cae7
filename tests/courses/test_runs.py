"""Course runs: opening, capacity and the waiting list, requests and keys, the network form, bulk
enrolment from a CSV file or a whole class, and the pages."""

from __future__ import annotations

import functools
from datetime import date

import pytest
from sqlalchemy import func, select

from lms.core.errors import Conflict, DomainError, ValidationError
from lms.core.mail import OutboxMessage
from lms.core.notifications import Notification
from lms.courses import programmes as programme_services
from lms.courses import runs as services
from lms.courses.models import CourseRun, Enrolment, EnrolmentStatus
from lms.extensions import db
from lms.orgs.models import Role
from tests.courses.test_certificates import concurrent_app  # noqa: F401 - the fixture, shared
from tests.factories import make_user
from tests.helpers import at_once, count, field_error, text_of

RUN = {"name": "Поток 1", "starts_on": "2027-01-11", "ends_on": "2027-03-31"}


def published_programme(world):
    p = programme_services.create_programme(
        world.school_a, by=world.methodologist_a, title="Введение в цифровую трансформацию", kind="pd",
        audience="teachers", total_hours=36, final_attestation_form="test", final_attestation_hours=2,
        result_scale="pass_fail")
    programme_services.set_curriculum(p, [{"title": "Модуль", "lecture_hours": 14, "practice_hours": 20}],
                                      by=world.methodologist_a)
    programme_services.submit_for_review(p, [world.admin_b], by=world.methodologist_a)
    programme_services.review(p, by=world.admin_b, action="approve")
    programme_services.publish(p, by=world.admin_a)
    return p


def open_run(world, **over) -> CourseRun:
    run = services.open_run(published_programme(world), world.school_a, by=world.admin_a,
                            teachers=[world.teacher_a], groups=["Группа 1", "Группа 2"], **{**RUN, **over})
    db.session.commit()
    return run


def teachers(world, n: int, org=None):
    people = [make_user(f"uch{i}", org=org or world.school_a, role=Role.TEACHER) for i in range(n)]
    db.session.commit()
    return people


def test_runs_open_for_published_programmes_only(world):
    draft = programme_services.create_programme(world.school_a, by=world.methodologist_a, title="Черновик",
                                                kind="pd", audience="teachers", total_hours=36,
                                                final_attestation_form="test", result_scale="pass_fail")
    with pytest.raises(Conflict):
        services.open_run(draft, world.school_a, by=world.admin_a, **RUN)
    with pytest.raises(ValidationError) as exc:
        services.open_run(published_programme(world), world.school_a, by=world.admin_a,
                          **{**RUN, "ends_on": "2026-08-01", "capacity": "ноль"})
    assert set(exc.value.errors) == {"ends_on", "capacity"}


def test_a_full_run_puts_people_on_the_waiting_list_and_a_free_place_goes_to_the_first(world):
    run = open_run(world, capacity="2")
    a, b, c, d = teachers(world, 4)
    statuses = [services.enrol(run, u, by=world.admin_a).status for u in (a, b, c, d)]
    assert statuses == ["active", "active", "waitlisted", "waitlisted"]
    services.withdraw(db.session.scalar(select(Enrolment).where(Enrolment.user_id == a.id)), by=a)
    db.session.commit()
    by_user = dict(db.session.execute(select(Enrolment.user_id, Enrolment.status)).all())
    assert by_user == {a.id: "withdrawn", b.id: "active", c.id: "active", d.id: "waitlisted"}
    with pytest.raises(ValidationError):
        services.update_run(run, by=world.admin_a, **{**RUN, "capacity": "1"})  # two already hold places


def test_requests_need_approval_unless_the_key_is_known(world):
    run = open_run(world, is_published=True, self_enrolment=True, requires_approval=True)
    [u] = teachers(world, 1)
    enrolment = services.request_enrolment(run, u, note="Учитель информатики")
    assert enrolment.status == EnrolmentStatus.REQUESTED
    with pytest.raises(Conflict):
        services.request_enrolment(run, u)  # once is enough
    services.decide(enrolment, approve=True, by=world.teacher_a)
    assert enrolment.status == EnrolmentStatus.ACTIVE
    keyed = open_run(world, is_published=True, self_enrolment=True, enrolment_key="цифра-2026")
    v = make_user("uch_key", org=world.school_a, role=Role.TEACHER)
    with pytest.raises(ValidationError) as exc:
        services.request_enrolment(keyed, v, key="неверный")
    assert exc.value.field == "key"
    assert services.request_enrolment(keyed, v, key=" цифра-2026 ").status == EnrolmentStatus.ACTIVE
    closed = open_run(world, is_published=True, self_enrolment=False)
    with pytest.raises(DomainError):
        services.request_enrolment(closed, v)


def test_the_network_form_opens_a_run_to_other_organizations(world):
    local = open_run(world)
    with pytest.raises(ValidationError) as exc:
        services.enrol(local, world.student_b, by=world.admin_a)  # school B's pupil, school A's run
    assert "сетев" in exc.value.message
    network = open_run(world, is_network=True)
    assert services.enrol(network, world.student_b, by=world.admin_a).status == EnrolmentStatus.ACTIVE


def test_csv_enrolment_lists_every_bad_line_and_writes_all_or_nothing(world):
    run = open_run(world)
    people = teachers(world, 3)
    data = ("login;group\n" + "\n".join(f"{u.username};Группа 1" for u in people)
            + "\nnikto\nuch0\n" + f"{world.student_c.username}\nuch1;Группа 9\n").encode("cp1251")
    result = services.enrol_from_csv(run, data, by=world.admin_a, dry_run=True)
    assert [line for line, _reason in result.errors] == [5, 6, 7, 8]
    assert count(Enrolment) == 0
    with pytest.raises(ValidationError):
        services.enrol_from_csv(run, data, by=world.admin_a, dry_run=False)
    db.session.rollback()
    assert count(Enrolment) == 0
    good = "\n".join(f"{u.email or u.username}" for u in people).encode()
    result = services.enrol_from_csv(run, good, by=world.admin_a, dry_run=False)
    db.session.commit()
    assert len(result.enrolled) == 3 and count(Enrolment) == 3
    assert db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id.in_([u.id for u in people]), Notification.kind == "enrolment")) == 3


def test_a_whole_class_is_enrolled_at_once(world):
    run = open_run(world, is_network=True)
    mail_before = count(OutboxMessage)
    result = services.enrol_cohort(run, world.school_a, role=Role.STUDENT, by=world.admin_a, grade=9,
                                   class_letter="А")
    db.session.commit()
    assert world.student_a.id in {e.user_id for e in result.enrolled}
    # Told in the site, not by a letter each (student_a has an e-mail address).
    assert db.session.scalar(select(Notification.title).where(Notification.user_id == world.student_a.id,
                                                              Notification.kind == "enrolment"))
    assert count(OutboxMessage) == mail_before
    again = services.enrol_cohort(run, world.school_a, role=Role.STUDENT, by=world.admin_a, grade=9)
    assert not again.enrolled and again.skipped  # already in the run: named, not enrolled twice


def test_twenty_people_race_for_five_places(concurrent_app):  # noqa: F811 - the fixture
    """Each thread has its own session and connection; the run's lock keeps the count exact."""
    from lms.courses.models import Programme
    from tests.factories import make_municipality, make_org

    app = concurrent_app
    with app.app_context():
        org = make_org(make_municipality(), code="rc")
        author = make_user("author", org=org, role=Role.METHODOLOGIST)
        expert = make_user("expert", org=make_org(org.municipality, code="other"), role=Role.METHODOLOGIST)
        p = programme_services.create_programme(org, by=author, title="Курс", kind="pd", audience="teachers",
                                                total_hours=16, final_attestation_form="test",
                                                result_scale="pass_fail")
        programme_services.set_curriculum(p, [{"title": "М", "lecture_hours": 16}], by=author)
        programme_services.submit_for_review(p, [expert], by=author)
        programme_services.review(p, by=expert, action="approve")
        programme_services.publish(p, by=expert)
        run = services.open_run(db.session.get(Programme, p.id), org, by=author, capacity="5", is_published=True,
                                self_enrolment=True, requires_approval=False, **RUN)
        people = [make_user(f"t{i}", org=org, role=Role.TEACHER).id for i in range(20)]
        db.session.commit()
        run_id = run.id

    def worker(user_id: int) -> None:
        with app.app_context():
            from lms.accounts.models import User

            services.request_enrolment(db.session.get(CourseRun, run_id), db.session.get(User, user_id))
            db.session.commit()

    at_once([functools.partial(worker, u) for u in people])
    with app.app_context():
        statuses = list(db.session.scalars(select(Enrolment.status).where(Enrolment.run_id == run_id)))
    assert sorted(statuses) == ["active"] * 5 + ["waitlisted"] * 15


# --- pages ---------------------------------------------------------------------------------------

def test_coordinator_opens_a_run_and_enrols_people(client, world, login_as):
    programme = published_programme(world)
    db.session.commit()
    login_as(client, world.admin_a)
    bad = client.post(f"/programmes/{programme.id}/runs/new", data={
        "host": str(world.school_a.id), "name": "Поток", "starts_on": "31.02.2026", "ends_on": "2026-10-01"})
    assert bad.status_code == 422 and field_error(bad, "starts_on")
    assert count(CourseRun) == 0
    response = client.post(f"/programmes/{programme.id}/runs/new", data={
        "host": str(world.school_a.id), "name": "Поток 1", "starts_on": "01.09.2026", "ends_on": "2026-10-31",
        "capacity": "25", "teachers": [str(world.teacher_a.id)], "groups": "Группа 1, Группа 2",
        "is_published": "y", "self_enrolment": "y", "requires_approval": "y"})
    assert response.status_code == 302
    run = db.session.scalar(select(CourseRun))
    assert (run.starts_on, [g.name for g in run.groups]) == (date(2026, 9, 1), ["Группа 1", "Группа 2"])
    bad = client.post(f"/runs/{run.id}/enrol", data={"person-person": "nikto"})
    assert bad.status_code == 422 and field_error(bad, "person-person")
    assert client.post(f"/runs/{run.id}/enrol", data={"person-person": world.methodologist_a.username,
                                                      "person-group": ""}).status_code == 302
    page = text_of(client.get(f"/runs/{run.id}/enrolments"))
    assert world.methodologist_a.full_name in page


def test_a_teacher_finds_a_run_in_the_catalogue_and_asks_to_enrol(client, world, login_as):
    run = open_run(world, is_published=True, self_enrolment=True, is_network=True)
    login_as(client, world.admin_b)  # school B's admin as a learner of a network course
    assert run.programme.title in text_of(client.get("/catalogue?kind=pd&free=1"))
    response = client.post(f"/runs/{run.id}/request", data={"note": "Хочу учиться"})
    assert response.status_code == 302
    assert db.session.scalar(select(Enrolment.status).where(Enrolment.user_id == world.admin_b.id)) == "requested"
    client.post("/logout")
    login_as(client, world.teacher_a)  # a teacher of the run decides
    enrolment = db.session.scalar(select(Enrolment))
    assert client.post(f"/enrolments/{enrolment.id}/approve").status_code == 302
    db.session.refresh(enrolment)
    assert enrolment.status == "active"


def test_a_learner_never_sees_the_list_of_other_learners(client, world, login_as):
    run = open_run(world, is_network=True)
    services.enrol(run, world.student_a, by=world.admin_a)
    services.enrol(run, world.student_b, by=world.admin_a)
    db.session.commit()
    login_as(client, world.student_a)
    assert client.get(f"/runs/{run.id}").status_code == 200
    assert client.get(f"/runs/{run.id}/enrolments").status_code == 403
    other = db.session.scalar(select(Enrolment).where(Enrolment.user_id == world.student_b.id))
    assert client.post(f"/enrolments/{other.id}/withdraw").status_code == 403


def test_a_request_sent_twice_is_taken_once(client, world, login_as):
    run = open_run(world, is_published=True, self_enrolment=True, is_network=True)
    login_as(client, world.admin_b)
    assert client.post(f"/runs/{run.id}/request", data={"note": "Прошу"}).status_code == 302
    again = client.post(f"/runs/{run.id}/request", data={"note": "Прошу"}, follow_redirects=True)
    assert again.status_code == 200 and "уже подали заявку" in text_of(again)
    assert count(Enrolment) == 1
