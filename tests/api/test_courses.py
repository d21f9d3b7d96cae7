"""/api/v1 programmes, runs, enrolments, completion, grades and certificates: the pages' rules."""

from __future__ import annotations

from datetime import date, timedelta

from lms.courses import assignments, completion, runs
from lms.extensions import db
from tests.api.conftest import assert_error
from tests.courses.test_assignments import assignment
from tests.courses.test_content import make_run
from tests.courses.test_programmes import make_programme


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_programmes_as_the_pages_show_them(client, world, token_for):
    draft = make_programme(world, title="Черновик ДПП")
    run = make_run(world)  # a published programme with a run
    student_b = bearer(token_for(world.student_b))
    titles = [p["title"] for p in client.get("/api/v1/programmes", headers=student_b).get_json()["items"]]
    assert run.programme.title in titles and "Черновик ДПП" not in titles
    assert client.get(f"/api/v1/programmes/{draft.id}", headers=student_b).status_code == 403
    body = client.get(f"/api/v1/programmes/{run.programme.id}", headers=student_b).get_json()
    assert body["total_hours"] == 36 and body["modules"][0]["total_hours"] == 34


def test_enrolment_through_the_api_follows_the_rules(client, world, token_for):
    run = make_run(world)  # school A's run, not in the network form
    teacher = bearer(token_for(world.teacher_a))
    response = client.post(f"/api/v1/runs/{run.id}/enrolments", json={"user": world.student_a.id}, headers=teacher)
    assert response.status_code == 201 and response.get_json()["status"] == "active"
    assert_error(client.post(f"/api/v1/runs/{run.id}/enrolments", json={"user": world.student_b.id},
                             headers=teacher), 422, "user")  # another school: not a network run
    assert_error(client.post(f"/api/v1/runs/{run.id}/enrolments", json={"user": world.methodologist_a.id},
                             headers=bearer(token_for(world.student_a))), 403)
    listing = client.get(f"/api/v1/runs/{run.id}/enrolments", headers=teacher).get_json()
    assert [e["user_id"] for e in listing["items"]] == [world.student_a.id]


def test_a_request_and_the_catalogue(client, world, token_for):
    run = make_run(world, is_published=True, self_enrolment=True, is_network=True)
    token = bearer(token_for(world.student_b))
    assert run.id in [r["id"] for r in client.get("/api/v1/runs", headers=token).get_json()["items"]]
    response = client.post(f"/api/v1/runs/{run.id}/requests", json={"note": "Прошу зачислить"}, headers=token)
    assert response.status_code == 201 and response.get_json()["status"] == "requested"
    assert_error(client.post(f"/api/v1/runs/{run.id}/requests", json={}, headers=token), 409)


def test_grades_own_for_a_learner_all_for_the_teacher_and_certificates(client, world, token_for):
    today = date.today()
    run = make_run(world, is_network=True, starts_on=today - timedelta(days=10), ends_on=today + timedelta(days=10))
    for learner in (world.student_a, world.student_b):
        runs.enrol(run, learner, by=world.admin_a)
    work = assignment(world, run)
    for learner, points in ((world.student_a, 9), (world.student_b, 4)):
        assignments.grade(assignments.submit(work, learner, text="Ответ"), points=str(points), feedback="",
                          by=world.teacher_a)
    db.session.commit()
    mine = client.get(f"/api/v1/runs/{run.id}/grades", headers=bearer(token_for(world.student_a))).get_json()
    assert [r["user_id"] for r in mine] == [world.student_a.id]
    teacher = bearer(token_for(world.teacher_a))
    assert len(client.get(f"/api/v1/runs/{run.id}/grades", headers=teacher).get_json()) == 2
    state = client.get(f"/api/v1/runs/{run.id}/completion", headers=teacher).get_json()
    assert {s["user_id"] for s in state} == {world.student_a.id, world.student_b.id}
    assert client.get(f"/api/v1/runs/{run.id}/completion", headers=bearer(token_for(world.student_a))).status_code == 403
    completion.record_attestation(run, world.student_a, module=None, held_on=today, result="passed", by=world.teacher_a)
    for module in run.programme.modules:
        if module.control_form != "none":
            completion.record_attestation(run, world.student_a, module=module, held_on=today, result="passed",
                                          by=world.teacher_a)
    [cert] = completion.complete_and_certify(run, [world.student_a.id], by=world.admin_a)
    db.session.commit()
    own = client.get("/api/v1/certificates", headers=bearer(token_for(world.student_a))).get_json()
    assert [c["id"] for c in own["items"]] == [cert.id] and own["items"][0]["code"]
    assert client.get(f"/api/v1/certificates/{cert.id}", headers=bearer(token_for(world.admin_b))).status_code == 403


def test_grading_and_attestation_through_the_api(client, world, token_for):
    run = make_run(world, is_network=True)
    runs.enrol(run, world.student_a, by=world.admin_a)
    work = assignment(world, run)
    submission = assignments.submit(work, world.student_a, text="Ответ")
    db.session.commit()
    teacher = bearer(token_for(world.teacher_a))
    listing = client.get(f"/api/v1/runs/{run.id}/submissions", headers=teacher).get_json()
    assert [s["id"] for s in listing["items"]] == [submission.id]
    assert_error(client.post(f"/api/v1/runs/{run.id}/submissions/{submission.id}/grade", json={"points": 11},
                             headers=teacher), 422, "points")  # over the assignment's maximum of 10
    graded = client.post(f"/api/v1/runs/{run.id}/submissions/{submission.id}/grade",
                         json={"points": 8, "feedback": "Хорошо"}, headers=teacher)
    assert graded.status_code == 200 and graded.get_json()["status"] == "graded"
    assert_error(client.post(f"/api/v1/runs/{run.id}/submissions/{submission.id}/grade", json={"points": 5},
                             headers=bearer(token_for(world.student_a))), 403)
    record = client.post(f"/api/v1/runs/{run.id}/attestation", headers=teacher, json={
        "user": world.student_a.id, "held_on": date.today().isoformat(), "result": "passed"})
    assert record.status_code == 200 and record.get_json()["passed"] is True
    assert_error(client.post(f"/api/v1/runs/{run.id}/attestation", headers=teacher, json={
        "user": world.student_a.id, "held_on": date.today().isoformat(), "result": "5"}), 422, "result")


def test_grading_with_a_rubric_through_the_api(client, world, token_for):
    run = make_run(world, is_network=True)
    runs.enrol(run, world.student_a, by=world.admin_a)
    work = assignment(world, run, grading="rubric", pass_points="4",
                      rubric="Полнота: нет = 0; частично = 2; полностью = 4\nОформление: с ошибками = 0; без ошибок = 2")
    submission = assignments.submit(work, world.student_a, text="Ответ")
    db.session.commit()
    teacher = bearer(token_for(world.teacher_a))
    url = f"/api/v1/runs/{run.id}/submissions/{submission.id}/grade"
    assert_error(client.post(url, json={"levels": [2]}, headers=teacher), 422, "level-2")
    graded = client.post(url, json={"levels": [2, 0]}, headers=teacher)
    assert graded.status_code == 200
    assert graded.get_json()["points"] == 4 and graded.get_json()["rubric_levels"] == [2, 0]


def test_a_programme_from_draft_to_a_run_with_certificates_through_the_api(client, world, token_for):
    author, student = bearer(token_for(world.methodologist_a)), bearer(token_for(world.student_a))
    admin_a, admin_b = bearer(token_for(world.admin_a)), bearer(token_for(world.admin_b))
    draft = {"organization": world.school_a.id, "title": "Цифровая школа", "kind": "pd", "audience": "teachers",
             "total_hours": 10, "final_attestation_form": "test", "final_attestation_hours": 2}
    assert_error(client.post("/api/v1/programmes", json=draft, headers=author), 422, "total_hours")  # PD ≥ 16 h
    assert_error(client.post("/api/v1/programmes", json={**draft, "organization": world.school_c.id, "total_hours": 36},
                             headers=author), 422, "organization")
    created = client.post("/api/v1/programmes", json={**draft, "total_hours": 36}, headers=author)
    assert created.status_code == 201 and created.get_json()["status"] == "draft"
    pid = created.get_json()["id"]
    modules = {"modules": [{"title": "Нормативная база", "lecture_hours": 14, "practice_hours": 20,
                            "control_form": "credit"}]}
    assert_error(client.put(f"/api/v1/programmes/{pid}/curriculum", json=modules, headers=student), 403)
    assert_error(client.put(f"/api/v1/programmes/{pid}/curriculum",
                            json={"modules": [{"title": "", "lecture_hours": 5}]}, headers=author), 422,
                 "modules-0-title")
    plan = client.put(f"/api/v1/programmes/{pid}/curriculum", json=modules, headers=author)
    assert plan.status_code == 200 and plan.get_json()["modules"][0]["total_hours"] == 34
    assert_error(client.post(f"/api/v1/programmes/{pid}/submit", json={"reviewers": [world.student_b.id]},
                             headers=author), 422, "reviewers")
    sent = client.post(f"/api/v1/programmes/{pid}/submit", json={"expert": world.admin_b.username}, headers=author)
    assert sent.status_code == 200 and sent.get_json()["status"] == "review"
    assert_error(client.post(f"/api/v1/programmes/{pid}/review", json={"action": "approve"}, headers=author), 403)
    assert_error(client.post(f"/api/v1/programmes/{pid}/review", json={"action": "return"}, headers=admin_b), 422,
                 "comment")
    approved = client.post(f"/api/v1/programmes/{pid}/review", json={"action": "approve"}, headers=admin_b)
    assert approved.get_json()["status"] == "approved"
    assert_error(client.post(f"/api/v1/programmes/{pid}/publish", headers=author), 403)
    assert client.post(f"/api/v1/programmes/{pid}/publish", headers=admin_a).get_json()["status"] == "published"

    today = date.today()
    run = {"programme": pid, "host": world.school_a.id, "name": "Поток 1", "starts_on": today.isoformat(),
           "ends_on": (today + timedelta(days=30)).isoformat(), "teachers": [world.teacher_a.id],
           "groups": ["Группа 1"]}
    assert_error(client.post("/api/v1/runs", json=run, headers=author), 403)
    assert_error(client.post("/api/v1/runs", json={**run, "host": world.school_b.id}, headers=admin_a), 422, "host")
    assert_error(client.post("/api/v1/runs", json={**run, "teachers": [world.student_b.id]}, headers=admin_a), 422,
                 "teachers")
    assert_error(client.post("/api/v1/runs", json={**run, "ends_on": "2020-01-01"}, headers=admin_a), 422, "ends_on")
    opened = client.post("/api/v1/runs", json=run, headers=admin_a)
    assert opened.status_code == 201
    rid = opened.get_json()["id"]
    teacher = bearer(token_for(world.teacher_a))
    assert client.post(f"/api/v1/runs/{rid}/enrolments", json={"user": world.student_a.id},
                       headers=teacher).status_code == 201
    assert_error(client.post(f"/api/v1/runs/{rid}/certificates", json={"learners": [world.student_a.id]},
                             headers=admin_a), 422, "learners")  # the final attestation is not passed yet
    record = {"user": world.student_a.id, "held_on": today.isoformat(), "result": "passed"}
    module = {"module": plan.get_json()["modules"][0]["id"]}
    for body in ({**record, **module}, record):  # the module's credit, then the final test
        assert client.post(f"/api/v1/runs/{rid}/attestation", headers=teacher, json=body).status_code == 200
    assert_error(client.post(f"/api/v1/runs/{rid}/certificates", json={"learners": [world.student_a.id]},
                             headers=teacher), 403)  # issuing is the host's managers' decision
    issued = client.post(f"/api/v1/runs/{rid}/certificates", json={"learners": [world.student_a.id]}, headers=admin_a)
    assert issued.status_code == 201, issued.get_json()
    cert = issued.get_json()[0]
    assert cert["holder_id"] == world.student_a.id and cert["registration_number"] == 1 and cert["status"] == "valid"
    assert_error(client.post(f"/api/v1/certificates/{cert['id']}/revoke", json={"reason": "Ошибка"}, headers=student),
                 403)
    revoked = client.post(f"/api/v1/certificates/{cert['id']}/revoke", json={"reason": "Ошибка в фамилии"},
                          headers=admin_a)
    assert revoked.status_code == 200 and revoked.get_json()["status"] == "revoked"
