"""Completion: the group at a glance, attestation sheets, and completing learners with certificates."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from lms.core.errors import Conflict, ValidationError
from lms.courses import completion, content, runs
from lms.courses.models import Certificate, Enrolment, Section
from lms.extensions import db
from tests.courses.test_content import make_run
from tests.helpers import count, text_of


@pytest.fixture
def run(world):
    today = date.today()
    run = make_run(world, is_network=True, starts_on=today - timedelta(days=30), ends_on=today + timedelta(days=30))
    section = db.session.scalar(select(Section).where(Section.run_id == run.id))
    content.save_activity(section, {"kind": "page", "title": "Лекция", "completion": "viewed", "planned_hours": 2},
                          by=world.teacher_a)
    for learner in (world.student_a, world.student_b):
        runs.enrol(run, learner, by=world.admin_a)
    db.session.commit()
    return run


def finish(world, run, learner):
    page = db.session.scalar(select(content.Activity).where(content.Activity.run_id == run.id))
    content.record_view(page, learner)
    for module in run.programme.modules:
        if module.control_form != "none":
            completion.record_attestation(run, learner, module=module, held_on=date.today(), result="passed",
                                          by=world.teacher_a)
    completion.record_attestation(run, learner, module=None, held_on=date.today(), result="passed",
                                  examiners="Учителева Т. А.", by=world.teacher_a)


def test_the_group_shows_what_each_learner_still_needs(world, run):
    finish(world, run, world.student_a)
    db.session.commit()
    states = {s.enrolment.user_id: s for s in completion.group_state(run)}
    assert states[world.student_a.id].complete
    missing = states[world.student_b.id].missing
    assert any("0 из 1" in m for m in missing) and any("итогов" in m for m in missing)
    assert not completion.group_state(run, today=run.starts_on)[1].behind  # nobody is behind on day one
    late = completion.group_state(run, today=run.ends_on - timedelta(days=1))
    assert {s.enrolment.user_id for s in late if s.behind} == {world.student_b.id}


def test_nobody_completes_a_run_that_has_not_started(world):
    future = make_run(world)  # starts next year
    runs.enrol(future, world.student_a, by=world.admin_a)
    with pytest.raises(ValidationError) as exc:
        completion.complete_and_certify(future, [world.student_a.id], by=world.admin_a)
    assert exc.value.field == "issued_on"


def test_results_follow_the_programmes_scale(world, run):
    with pytest.raises(ValidationError):
        completion.record_attestation(run, world.student_a, module=None, held_on=date.today(), result="5",
                                      by=world.teacher_a)  # a pass/fail programme
    with pytest.raises(Conflict):
        completion.record_attestation(run, world.methodologist_a, module=None, held_on=date.today(),
                                      result="passed", by=world.teacher_a)  # not a learner


def test_completing_issues_numbered_certificates_all_or_nothing(world, run):
    finish(world, run, world.student_a)
    db.session.commit()
    with pytest.raises(ValidationError) as exc:
        completion.complete_and_certify(run, [world.student_a.id, world.student_b.id], by=world.admin_a)
    assert world.student_b.surname in exc.value.message
    db.session.rollback()
    assert count(Certificate) == 0
    [cert] = completion.complete_and_certify(run, [world.student_a.id], by=world.admin_a)
    db.session.commit()
    assert (cert.run_id, cert.hours, cert.registration_number) == (run.id, run.programme.total_hours, 1)
    assert db.session.scalar(select(Enrolment.status).where(Enrolment.user_id == world.student_a.id)) == "completed"
    with pytest.raises(Conflict):
        completion.complete_and_certify(run, [world.student_a.id], by=world.admin_a)


def test_the_sheet_and_the_certificates_through_the_pages(client, world, login_as, run):
    login_as(client, world.student_a)
    assert client.get(f"/runs/{run.id}/group").status_code == 403
    client.post("/logout")
    login_as(client, world.teacher_a)
    assert client.post(f"/runs/{run.id}/attestation", data={"module": "final", "held_on": "31.02.2026",
                                                            f"result-{world.student_a.id}": "passed"}).status_code == 422
    response = client.post(f"/runs/{run.id}/attestation", data={
        "module": "final", "held_on": date.today().isoformat(), "examiners": "Комиссия ЦРО",
        f"result-{world.student_a.id}": "passed", f"result-{world.student_b.id}": "failed"})
    assert response.status_code == 302
    page = text_of(client.get(f"/runs/{run.id}/group"))
    assert "зачтено" in page and "не зачтено" in page
    assert client.post(f"/runs/{run.id}/certify", data={"learners": [str(world.student_a.id)]}).status_code == 403
    client.post("/logout")
    page_activity = db.session.scalar(select(content.Activity).where(content.Activity.run_id == run.id))
    content.record_view(page_activity, world.student_a)
    for module in run.programme.modules:
        if module.control_form != "none":
            completion.record_attestation(run, world.student_a, module=module, held_on=date.today(),
                                          result="passed", by=world.teacher_a)
    db.session.commit()
    login_as(client, world.admin_a)
    assert client.post(f"/runs/{run.id}/certify", data={"learners": [str(world.student_a.id)]}).status_code == 302
    assert db.session.scalar(select(Certificate.holder_id)) == world.student_a.id


def test_a_learner_who_left_gets_a_statement_of_the_hours_completed(world, run):
    page = db.session.scalar(select(content.Activity).where(content.Activity.run_id == run.id))
    content.record_view(page, world.student_b)
    runs.withdraw(db.session.scalar(select(Enrolment).where(Enrolment.user_id == world.student_b.id)),
                  by=world.student_b)
    db.session.commit()
    with pytest.raises(ValidationError) as exc:
        completion.issue_statements(run, [world.student_a.id], by=world.admin_a)  # no hours yet
    assert world.student_a.surname in exc.value.message
    [statement] = completion.issue_statements(run, [world.student_b.id], by=world.admin_a)
    db.session.commit()
    assert (statement.kind, statement.hours, statement.holder_id) == ("statement", 2, world.student_b.id)
    assert statement.study_end <= date.today()
