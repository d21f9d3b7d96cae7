"""/api/v1 banks, questions, quizzes, attempts and results: the pages' rules through a second path — who may see
and change what, a whole attempt, the server's deadline, sequential navigation, nothing of the key in an open
attempt, imports that write all or nothing, and bad input answered 422 with the field named."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

import lms.api.assessment as api_assessment
from lms.assessment import attempts, banks, quizzes
from lms.assessment.models import AttemptState, Question, QuestionAttempt, QuestionCategory, QuizAttempt
from lms.courses import content
from lms.courses.models import Section
from lms.extensions import db
from tests.api.conftest import assert_error
from tests.assessment.quiz_helpers import make_quiz_setup, right_values


@pytest.fixture
def h(token_for):
    """``h(user)`` → bearer headers for the user."""
    return lambda user: {"Authorization": f"Bearer {token_for(user)}"}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def questions_of(attempt_id: int) -> list[QuestionAttempt]:
    return list(db.session.scalars(select(QuestionAttempt).where(QuestionAttempt.attempt_id == attempt_id)
                                   .order_by(QuestionAttempt.slot)))


def start(client, headers, setup) -> dict:
    r = client.post(f"/api/v1/quizzes/{setup.activity.id}/attempts", headers=headers)
    assert r.status_code in (200, 201), r.get_data(as_text=True)
    return r.get_json()


def put(client, headers, attempt_id, answers):
    return client.put(f"/api/v1/attempts/{attempt_id}/answers", json={"answers": answers}, headers=headers)


# --- banks and questions ------------------------------------------------------------------------------

def test_banks_are_listed_to_those_who_may_use_them(client, world, h):
    s = make_quiz_setup(world)
    teacher = h(world.teacher_a)
    listing = client.get("/api/v1/banks", headers=teacher).get_json()
    [row] = [b for b in listing["items"] if b["id"] == s.bank.id]
    assert row["editable"] is True and row["questions"] == 9 and row["organization_id"] == world.school_a.id
    detail = client.get(f"/api/v1/banks/{s.bank.id}", headers=teacher).get_json()
    assert [c["path"] for c in detail["categories"]] == ["Арифметика"]
    # A learner has no banks; another organization's bank is not shown to exist.
    assert_error(client.get("/api/v1/banks", headers=h(world.student_a)), 403)
    for user in (world.student_a, world.admin_b):
        assert_error(client.get(f"/api/v1/banks/{s.bank.id}", headers=h(user)), 404)
        assert_error(client.get(f"/api/v1/banks/{s.bank.id}/questions", headers=h(user)), 404)
        assert_error(client.get(f"/api/v1/questions/{s.questions['capital'].id}", headers=h(user)), 404)
    other = client.get("/api/v1/banks", headers=h(world.admin_b)).get_json()
    assert s.bank.id not in [b["id"] for b in other["items"]]
    assert client.get("/api/v1/banks").status_code == 401


def test_the_questions_of_a_bank_with_their_definitions(client, world, h):
    s = make_quiz_setup(world)
    teacher = h(world.teacher_a)
    page = client.get(f"/api/v1/banks/{s.bank.id}/questions?per_page=4", headers=teacher).get_json()
    assert page["total"] == 9 and page["pages"] == 3 and len(page["items"]) == 4
    arithmetic = client.get(f"/api/v1/banks/{s.bank.id}/questions?category={s.category.id}",
                            headers=teacher).get_json()
    assert arithmetic["total"] == 5
    assert {q["category"] for q in arithmetic["items"]} == {"Арифметика"}
    capital = client.get(f"/api/v1/banks/{s.bank.id}/questions?qtype=multichoice", headers=teacher).get_json()
    [q] = capital["items"]
    assert q["current_version"] == 1 and q["definition"]["answers"][0]["feedback"] == "Верно!"
    assert_error(client.get(f"/api/v1/banks/{s.bank.id}/questions?qtype=nonsense", headers=teacher), 422, "qtype")
    assert_error(client.get(f"/api/v1/banks/{s.bank.id}/questions?category=999999", headers=teacher), 422,
                 "category")


def test_editors_add_and_edit_questions_and_a_shared_bank_is_read_only(client, world, h):
    s = make_quiz_setup(world)
    teacher = h(world.teacher_a)
    body = {"definition": {"qtype": "truefalse", "text": "Земля круглая", "answer": True},
            "category": "Природа/Земля", "tags": ["география"], "grade": 5, "difficulty": "easy"}
    r = client.post(f"/api/v1/banks/{s.bank.id}/questions", json=body, headers=teacher)
    assert r.status_code == 201, r.get_data(as_text=True)
    created = r.get_json()
    assert created["category"] == "Природа/Земля" and created["grade"] == 5 and created["versions"][0]["version"] == 1
    question_id = created["id"]

    edited = {"definition": {"qtype": "truefalse", "text": "Земля шарообразна", "answer": True}}
    r = client.post(f"/api/v1/questions/{question_id}/versions", json=edited, headers=teacher)
    assert r.status_code == 200 and r.get_json()["new_version"] is True
    assert r.get_json()["current_version"] == 2
    assert r.get_json()["category"] == "Природа/Земля" and r.get_json()["tags"] == ["география"]  # details kept
    again = client.post(f"/api/v1/questions/{question_id}/versions", json=edited, headers=teacher).get_json()
    assert again["new_version"] is False and again["current_version"] == 2
    first = client.get(f"/api/v1/questions/{question_id}?version=1", headers=teacher).get_json()
    assert first["definition"]["text"] == "Земля круглая" and [v["version"] for v in first["versions"]] == [1, 2]
    assert_error(client.get(f"/api/v1/questions/{question_id}?version=7", headers=teacher), 404)
    assert_error(client.post(f"/api/v1/questions/{question_id}/versions",
                             json={"definition": {"qtype": "essay", "text": "?"}}, headers=teacher),
                 422, "definition.qtype")

    # Shared with school B: its staff read the bank and its questions, but do not change them.
    banks.share(s.bank, [world.school_b.id], by=world.admin_a)
    db.session.commit()
    other = h(world.admin_b)
    shared = client.get(f"/api/v1/banks/{s.bank.id}", headers=other).get_json()
    assert shared["editable"] is False
    assert client.get(f"/api/v1/questions/{question_id}", headers=other).status_code == 200
    assert_error(client.post(f"/api/v1/banks/{s.bank.id}/questions", json=body, headers=other), 403)
    assert_error(client.post(f"/api/v1/questions/{question_id}/versions", json=edited, headers=other), 403)
    assert_error(client.post(f"/api/v1/banks/{s.bank.id}/import",
                             json={"format": "gift", "content": "Вопрос{=да}"}, headers=other), 403)


def test_a_bad_question_is_refused_with_its_field_and_nothing_written(client, world, h):
    s = make_quiz_setup(world)
    teacher = h(world.teacher_a)
    before = (count(Question), count(QuestionCategory))
    url = f"/api/v1/banks/{s.bank.id}/questions"
    wrong_fraction = {"qtype": "multichoice", "text": "2+2?",
                      "answers": [{"text": "4", "fraction": "много"}, {"text": "5", "fraction": 0}]}
    assert_error(client.post(url, json={"definition": wrong_fraction, "category": "Новая"}, headers=teacher),
                 422, "definition.answers-0-fraction")
    error = assert_error(client.post(url, json={"definition": {"qtype": "truefalse", "text": "", "answer": True},
                                                "grade": 12}, headers=teacher), 422)
    assert {"definition.text", "grade"} <= set(error["fields"])  # every wrong field at once
    assert_error(client.post(url, json={"definition": {"qtype": "nonsense", "text": "?"}}, headers=teacher),
                 422, "definition.qtype")
    assert_error(client.post(url, json={"definition": {"qtype": "truefalse", "text": "?", "answer": True},
                                        "difficulty": "extreme"}, headers=teacher), 422, "difficulty")
    assert_error(client.post(url, json={"name": "без определения"}, headers=teacher), 422, "definition")
    assert_error(client.post(url, json={"definition": "текст"}, headers=teacher), 422, "definition")
    assert_error(client.post(url, json={"definition": {"qtype": "truefalse", "text": "a\u0000b", "answer": True}},
                             headers=teacher), 422, "definition")
    # JSON of another shape than the type reads: refused with 422 naming the definition, never a 500.
    for shaped in ({"qtype": "gapselect", "text": "[[1]]", "options": ["один"]},
                   {"qtype": "matching", "text": "?", "pairs": 5},
                   {"qtype": "essay", "text": "?", "files": "картинка"}):
        assert_error(client.post(url, json={"definition": shaped}, headers=teacher), 422, "definition")
    assert (count(Question), count(QuestionCategory)) == before


def test_import_previews_then_writes_everything_or_nothing(client, world, h):
    s = make_quiz_setup(world)
    teacher = h(world.teacher_a)
    url = f"/api/v1/banks/{s.bank.id}/import"
    good = "$CATEGORY: Олимпиада/Математика\n\n::Сложение::2+2?{=4 ~5}\n\n::Вычитание::5-3?{=2 ~3}\n"
    broken = good + "\n::Без закрытия::2+3?{=5 ~6\n\n::Без верного::2+4?{~5 ~7}\n"
    before = count(Question)

    preview = client.post(url, json={"format": "gift", "content": broken, "dry_run": True}, headers=teacher)
    assert preview.status_code == 200
    report = preview.get_json()
    assert report["written"] is False and report["questions"] == 2
    assert [e["line"] for e in report["errors"]] == [7, 9] and all(e["reason"] for e in report["errors"])
    assert count(Question) == before

    error = assert_error(client.post(url, json={"format": "gift", "content": broken}, headers=teacher), 422,
                         "content.7")
    assert set(error["fields"]) == {"content.7", "content.9"} and "}" in error["fields"]["content.7"][0]
    assert count(Question) == before

    clean = client.post(url, json={"format": "gift", "content": good, "dry_run": True}, headers=teacher).get_json()
    assert clean == {"questions": 2, "categories": ["Олимпиада/Математика"], "errors": [], "written": False}
    assert count(Question) == before and "Олимпиада" not in banks.category_paths(s.bank).values()
    done = client.post(url, json={"format": "gift", "content": good}, headers=teacher).get_json()
    assert done["written"] is True and count(Question) == before + 2
    assert "Олимпиада/Математика" in banks.category_paths(s.bank).values()


def test_import_bad_input(client, world, h, monkeypatch):
    s = make_quiz_setup(world)
    teacher = h(world.teacher_a)
    url = f"/api/v1/banks/{s.bank.id}/import"
    assert_error(client.post(url, json={"format": "csv", "content": "a;b"}, headers=teacher), 422, "format")
    assert_error(client.post(url, json={"format": "gift"}, headers=teacher), 422, "content")
    assert_error(client.post(url, json={"format": "gift", "content": "  \n"}, headers=teacher), 422, "content")
    assert_error(client.post(url, json={"format": "gift", "content": "// только комментарий\n"}, headers=teacher),
                 422, "content")
    monkeypatch.setitem(api_assessment.MAX_IMPORT_BYTES, "gift", 100)
    assert_error(client.post(url, json={"format": "gift", "content": "Вопрос{=да}" * 20}, headers=teacher),
                 422, "content")
    preview = client.post(url, json={"format": "xml", "content": "<quiz><question", "dry_run": True},
                          headers=teacher).get_json()
    assert preview["errors"] and "XML" in preview["errors"][0]["reason"] and not preview["written"]


def test_export_in_both_formats(client, world, h):
    s = make_quiz_setup(world)
    teacher = h(world.teacher_a)
    r = client.get(f"/api/v1/banks/{s.bank.id}/export?format=gift", headers=teacher)
    assert r.status_code == 200 and r.mimetype == "text/plain" and "Столица России" in r.get_data(as_text=True)
    assert "attachment" in r.headers["Content-Disposition"]
    r = client.get(f"/api/v1/banks/{s.bank.id}/export?format=xml", headers=teacher)
    assert r.status_code == 200 and r.mimetype == "application/xml" and b"<quiz>" in r.data
    assert_error(client.get(f"/api/v1/banks/{s.bank.id}/export?format=pdf", headers=teacher), 422, "format")
    assert_error(client.get(f"/api/v1/banks/{s.bank.id}/export", headers=h(world.admin_b)), 404)


# --- quizzes ------------------------------------------------------------------------------------------

def test_quiz_settings_for_the_learner_and_the_teacher(client, world, h):
    s = make_quiz_setup(world, time_limit=30)
    quizzes.set_override(s.quiz, {"user_id": world.student_a.id, "time_limit": "90"}, by=world.teacher_a)
    db.session.commit()
    url = f"/api/v1/quizzes/{s.activity.id}"
    mine = client.get(url, headers=h(world.student_a)).get_json()
    assert mine["time_limit"] == 90 and mine["can_start"] is True and mine["learner"] is True
    assert "slots" not in mine and mine["questions"] == 6
    assert client.get(url, headers=h(world.student_b)).get_json()["time_limit"] == 30
    staff = client.get(url, headers=h(world.teacher_a)).get_json()
    assert staff["time_limit"] == 30 and len(staff["slots"]) == 6 and staff["locked"] is False
    assert_error(client.get(url, headers=h(world.admin_b)), 403)
    assert_error(client.get(url, headers=h(world.student_c)), 403)
    assert_error(client.get("/api/v1/quizzes/999999", headers=h(world.teacher_a)), 404)
    section = db.session.scalars(select(Section).where(Section.run_id == s.run.id)).first()
    page = content.save_activity(section, {"kind": "page", "title": "Текст", "body": "<p>Текст</p>",
                                           "planned_hours": 1, "completion": "viewed"}, by=world.teacher_a)
    db.session.commit()
    assert_error(client.get(f"/api/v1/quizzes/{page.id}", headers=h(world.teacher_a)), 404)
    assert_error(client.patch(f"/api/v1/quizzes/{page.id}", json={}, headers=h(world.teacher_a)), 404)


def test_teachers_change_the_settings_and_bad_ones_are_named(client, world, h):
    s = make_quiz_setup(world)
    url = f"/api/v1/quizzes/{s.activity.id}"
    teacher = h(world.teacher_a)
    r = client.patch(url, json={"time_limit": 45, "navigation": "sequential", "penalty": 25,
                                "opens_at": "2026-09-01T09:00:00+03:00", "review": {"closed": ["attempt"]}},
                     headers=teacher)
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.get_json()
    assert body["time_limit"] == 45 and body["navigation"] == "sequential" and body["penalty"] == 25
    assert body["opens_at"].startswith("2026-09-01T06:00")
    assert body["review"]["closed"] == ["attempt"] and body["review"]["during"] == quizzes.DEFAULT_REVIEW["during"]
    db.session.refresh(s.quiz)
    assert s.quiz.time_limit == 45 * 60 and s.quiz.max_grade == 10  # what was not sent is kept
    assert_error(client.patch(url, json={"time_limit": 45}, headers=h(world.student_a)), 403)
    assert_error(client.patch(url, json={"time_limit": 45}, headers=h(world.admin_b)), 403)
    assert_error(client.patch(url, json={"max_grade": 0}, headers=teacher), 422, "max_grade")
    assert_error(client.patch(url, json={"opens_at": "2026-09-01T09:00:00"}, headers=teacher), 422, "opens_at")
    assert_error(client.patch(url, json={"closes_at": "2026-08-01T09:00:00+03:00"}, headers=teacher), 422,
                 "closes_at")
    assert_error(client.patch(url, json={"overdue": "grace", "grace_period": 0}, headers=teacher), 422,
                 "grace_period")
    assert_error(client.patch(url, json={"review": {"during": ["everything"]}}, headers=teacher), 422)
    assert_error(client.patch(url, json={"behaviour": "adaptive"}, headers=teacher), 422, "behaviour")
    assert_error(client.patch(url, json={"colour": "red"}, headers=teacher), 422, "colour")
    db.session.refresh(s.quiz)
    assert s.quiz.time_limit == 45 * 60 and s.quiz.behaviour == "deferred"


# --- attempts -----------------------------------------------------------------------------------------

def test_a_whole_attempt_over_the_api(client, world, h):
    s = make_quiz_setup(world, essay=False)
    learner = h(world.student_a)
    created = client.post(f"/api/v1/quizzes/{s.activity.id}/attempts", headers=learner)
    assert created.status_code == 201
    attempt = created.get_json()
    again = client.post(f"/api/v1/quizzes/{s.activity.id}/attempts", headers=learner)
    assert again.status_code == 200 and again.get_json()["id"] == attempt["id"]  # continued, not a second one
    assert attempt["state"] == "inprogress" and attempt["pages"] == 3 and attempt["shown_page"] == 1
    assert [q["page"] for q in attempt["questions"]] == [1, 1]
    assert len(attempt["summary"]) == 5 and not any(row["answered"] for row in attempt["summary"])

    answers = [{"slot": qa.slot, "seq": 1, "values": right_values(qa)} for qa in questions_of(attempt["id"])]
    r = put(client, learner, attempt["id"], answers)
    assert r.status_code == 200 and all(saved["applied"] for saved in r.get_json()["saved"])
    assert r.get_json()["seconds_left"] is None
    retry = put(client, learner, attempt["id"], answers).get_json()  # a retried request is applied once
    assert [(x["applied"], x["seq"]) for x in retry["saved"]] == [(False, 1)] * 5
    page2 = client.get(f"/api/v1/attempts/{attempt['id']}?page=2", headers=learner).get_json()
    assert page2["shown_page"] == 2 and all(q["values"] and q["seq"] == 1 for q in page2["questions"])

    first = client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=learner)
    assert first.status_code == 200, first.get_data(as_text=True)
    second = client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=learner)
    assert first.get_json()["state"] == second.get_json()["state"] == "finished"
    assert first.get_json()["grade"] == second.get_json()["grade"] == 10
    assert first.get_json()["finished_at"] == second.get_json()["finished_at"]
    assert_error(put(client, learner, attempt["id"], [{"slot": 1, "seq": 2, "values": {"": "1"}}]), 409)

    mine = client.get(f"/api/v1/quizzes/{s.activity.id}/attempts", headers=learner).get_json()
    assert [(a["id"], a["grade"]) for a in mine["items"]] == [(attempt["id"], 10)]
    quiz = client.get(f"/api/v1/quizzes/{s.activity.id}", headers=learner).get_json()
    assert quiz["grade"] == 10 and quiz["open_attempt_id"] is None
    grades = client.get(f"/api/v1/quizzes/{s.activity.id}/grades", headers=h(world.teacher_a)).get_json()
    assert [(g["user_id"], g["grade"]) for g in grades["items"]] == [(world.student_a.id, 10)]
    assert_error(client.get(f"/api/v1/quizzes/{s.activity.id}/grades", headers=learner), 403)

    review = client.get(f"/api/v1/attempts/{attempt['id']}/review", headers=learner).get_json()
    assert review["grade"] == 10 and review["staff"] is False and len(review["questions"]) == 5
    capital = next(q for q in review["questions"] if q["view"]["qtype"] == "multichoice")
    assert capital["state"] == "correct" and capital["feedback"] == ["Верно!"] and capital["right_answer"] == "Москва"
    assert capital["mark"] == 1 and capital["response"] == "Москва"


def test_attempts_are_their_owners_and_the_review_also_the_teachers(client, world, h):
    s = make_quiz_setup(world, essay=False)
    attempt = start(client, h(world.student_a), s)
    other = h(world.student_b)
    for method, url, body in (("get", "", None), ("put", "/answers", {"answers": [{"slot": 1, "seq": 9,
                                                                                  "values": {"": "0"}}]}),
                              ("post", "/page", {"page": 2}), ("post", "/check", {"slot": 1}),
                              ("post", "/submit", None), ("get", "/review", None)):
        r = getattr(client, method)(f"/api/v1/attempts/{attempt['id']}{url}", json=body, headers=other)
        assert_error(r, 404)
    assert_error(client.get(f"/api/v1/attempts/{attempt['id']}", headers=h(world.teacher_a)), 404)
    assert_error(client.get("/api/v1/attempts/999999", headers=other), 404)
    # The learner's own review waits for the submission; the teacher sees everything at once.
    assert_error(client.get(f"/api/v1/attempts/{attempt['id']}/review", headers=h(world.student_a)), 409)
    staff = client.get(f"/api/v1/attempts/{attempt['id']}/review", headers=h(world.teacher_a)).get_json()
    assert staff["staff"] is True and "right_answer" in staff["items"] and len(staff["questions"]) == 5
    assert_error(client.get(f"/api/v1/attempts/{attempt['id']}/review", headers=h(world.admin_b)), 404)
    # Listing: the learner's own, the teacher's all (and by learner), none for a stranger.
    assert client.get(f"/api/v1/quizzes/{s.activity.id}/attempts", headers=other).get_json()["items"] == []
    everyone = client.get(f"/api/v1/quizzes/{s.activity.id}/attempts", headers=h(world.teacher_a)).get_json()
    assert [a["user_id"] for a in everyone["items"]] == [world.student_a.id]
    filtered = client.get(f"/api/v1/quizzes/{s.activity.id}/attempts?user={world.student_b.id}",
                          headers=h(world.teacher_a)).get_json()
    assert filtered["total"] == 0
    assert_error(client.get(f"/api/v1/quizzes/{s.activity.id}/attempts", headers=h(world.admin_b)), 403)
    # Staff do not take the quiz.
    assert_error(client.post(f"/api/v1/quizzes/{s.activity.id}/attempts", headers=h(world.teacher_a)), 403)


def test_starting_is_refused_with_the_reason(client, world, h):
    s = make_quiz_setup(world, essay=False, attempts_allowed=1)
    learner = h(world.student_a)
    attempt = start(client, learner, s)
    client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=learner)
    error = assert_error(client.post(f"/api/v1/quizzes/{s.activity.id}/attempts", headers=learner), 409)
    assert "Попыток больше не осталось" in error["message"]
    quiz = client.get(f"/api/v1/quizzes/{s.activity.id}", headers=learner).get_json()
    assert quiz["can_start"] is False and quiz["reason"] == error["message"]


def test_start_waits_for_the_activity_to_complete_first(client, world, h):
    s = make_quiz_setup(world, essay=False)
    section = db.session.scalars(select(Section).where(Section.run_id == s.run.id)).first()
    task = content.save_activity(section, {"kind": "assignment", "title": "Эссе к модулю", "completion": "submitted"},
                                 by=world.teacher_a)
    s.activity.requires_activity_id = task.id
    content.record_view(task, world.student_a)  # viewed, not completed
    db.session.commit()
    error = assert_error(client.post(f"/api/v1/quizzes/{s.activity.id}/attempts", headers=h(world.student_a)), 403)
    assert "Эссе к модулю" in error["message"] and count(QuizAttempt) == 0


def test_review_follows_the_review_options(client, world, h):
    s = make_quiz_setup(world, essay=False)
    learner = h(world.student_a)
    attempt = start(client, learner, s)
    capital = next(qa for qa in questions_of(attempt["id"]) if qa.question_id == s.questions["capital"].id)
    put(client, learner, attempt["id"], [{"slot": capital.slot, "seq": 1, "values": right_values(capital)}])
    client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=learner)
    s.quiz.review = {**quizzes.DEFAULT_REVIEW, "immediately": ["attempt"]}
    db.session.commit()
    review = client.get(f"/api/v1/attempts/{attempt['id']}/review", headers=learner).get_json()
    assert review["items"] == ["attempt"] and review["grade"] is None and len(review["questions"]) == 5
    text = json.dumps(review["questions"], ensure_ascii=False)
    for secret in ("Верно!", "Москва —", "right_answer", '"state"', '"mark"', '"feedback"'):
        assert secret not in text, secret
    assert next(q for q in review["questions"] if q["slot"] == capital.slot)["response"] == "Москва"  # their own
    submitted = client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=learner).get_json()
    assert submitted["grade"] is None  # marks are not shown now
    s.quiz.review = {**quizzes.DEFAULT_REVIEW, "immediately": []}
    db.session.commit()
    review = client.get(f"/api/v1/attempts/{attempt['id']}/review", headers=learner).get_json()
    assert review["items"] == [] and review["questions"] == []
    staff = client.get(f"/api/v1/attempts/{attempt['id']}/review", headers=h(world.teacher_a)).get_json()
    assert staff["grade"] is not None and staff["questions"]


def _strip_times(body: dict) -> dict:
    """The JSON without its moments: a timestamp's digits could spell «3.14» by chance."""
    return {k: v for k, v in body.items() if k not in ("started_at", "finished_at", "deadline", "grace_until")}


def test_an_open_attempt_reveals_no_key(client, world, h):
    s = make_quiz_setup(world)
    learner = h(world.student_a)
    attempt = start(client, learner, s)
    pages = [client.get(f"/api/v1/attempts/{attempt['id']}?page={p}", headers=learner).get_json()
             for p in range(1, attempt["pages"] + 1)]
    assert sum(len(p["questions"]) for p in pages) == 6
    listing = client.get(f"/api/v1/quizzes/{s.activity.id}/attempts", headers=learner).get_json()
    saved = put(client, learner, attempt["id"], [{"slot": 1, "seq": 1, "values": {"": "0"}}]).get_json()
    text = json.dumps([_strip_times(p) for p in pages] + [_strip_times(a) for a in listing["items"]] + [saved],
                      ensure_ascii=False)
    for secret in ("Верно!", "Нет.", "столица с 1918", "fraction", "3.14", "0.005", "Пушкин", "feedback",
                   "right_answer", '"mark"', '"correct"', '"wrong"'):
        assert secret not in text, secret
    for page in pages:
        for q in page["questions"]:
            assert set(q) == {"slot", "page", "number", "view", "values", "seq", "checked", "tries"}, q
        assert page["grade"] is None
    assert set(saved) == {"saved", "seconds_left"} and set(saved["saved"][0]) == {"slot", "seq", "applied"}


def test_saving_after_the_deadline_is_refused(client, world, h, monkeypatch):
    s = make_quiz_setup(world, essay=False, time_limit=20, overdue="grace", grace_period=2)
    learner = h(world.student_a)
    attempt = start(client, learner, s)
    deadline = db.session.get(QuizAttempt, attempt["id"]).deadline
    assert attempt["seconds_left"] in (20 * 60, 20 * 60 - 1)

    def at(moment):
        monkeypatch.setattr(api_assessment, "utcnow", lambda: moment)
        monkeypatch.setattr(attempts, "utcnow", lambda: moment)

    at(deadline - timedelta(seconds=1))
    ok = put(client, learner, attempt["id"], [{"slot": 1, "seq": 1, "values": {"": "0"}}])
    assert ok.status_code == 200 and ok.get_json()["seconds_left"] == 1
    at(deadline + timedelta(seconds=1))
    late = assert_error(put(client, learner, attempt["id"], [{"slot": 1, "seq": 2, "values": {"": "1"}}]), 409)
    assert "Время" in late["message"]
    overdue = client.get(f"/api/v1/attempts/{attempt['id']}", headers=learner).get_json()
    assert overdue["state"] == "overdue" and overdue["questions"] == []  # in the grace period: submit only
    assert_error(client.post(f"/api/v1/attempts/{attempt['id']}/page", json={"page": 2}, headers=learner), 409)
    submitted = client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=learner).get_json()
    assert submitted["state"] == "finished"
    qa = questions_of(attempt["id"])[0]
    assert qa.response == {"": "0"}  # what was saved in time is what counts


def test_an_attempt_past_its_deadline_is_submitted_with_what_was_saved(client, world, h, monkeypatch):
    s = make_quiz_setup(world, essay=False, time_limit=20)
    learner = h(world.student_a)
    attempt = start(client, learner, s)
    qas = questions_of(attempt["id"])
    put(client, learner, attempt["id"], [{"slot": qa.slot, "seq": 1, "values": right_values(qa)} for qa in qas])
    later = db.session.get(QuizAttempt, attempt["id"]).deadline + timedelta(minutes=5)
    monkeypatch.setattr(api_assessment, "utcnow", lambda: later)
    monkeypatch.setattr(attempts, "utcnow", lambda: later)
    assert_error(put(client, learner, attempt["id"], [{"slot": 1, "seq": 2, "values": {"": "1"}}]), 409)
    body = client.get(f"/api/v1/attempts/{attempt['id']}", headers=learner).get_json()
    assert body["state"] == "finished" and body["grade"] == 10


def test_sequential_navigation_cannot_be_skipped_or_reversed(client, world, h):
    s = make_quiz_setup(world, essay=False, navigation="sequential", random_count=0, questions_per_page=1)
    learner = h(world.student_a)
    attempt = start(client, learner, s)
    qas = {qa.page: qa for qa in questions_of(attempt["id"])}
    url = f"/api/v1/attempts/{attempt['id']}"
    assert [q["slot"] for q in attempt["questions"]] == [qas[1].slot]
    # Page 2 can be neither read nor answered before moving on, nor reached by skipping.
    assert_error(client.get(f"{url}?page=2", headers=learner), 409)
    assert_error(put(client, learner, attempt["id"], [{"slot": qas[2].slot, "seq": 1, "values": {"": "x"}}]), 409)
    assert_error(client.post(f"{url}/page", json={"page": 3}, headers=learner), 409)
    assert put(client, learner, attempt["id"],
               [{"slot": qas[1].slot, "seq": 1, "values": right_values(qas[1])}]).status_code == 200
    moved = client.post(f"{url}/page", json={"page": 2}, headers=learner)
    assert moved.status_code == 200 and [q["slot"] for q in moved.get_json()["questions"]] == [qas[2].slot]
    assert client.get(url, headers=learner).get_json()["shown_page"] == 2
    # No way back.
    assert_error(client.get(f"{url}?page=1", headers=learner), 409)
    assert_error(put(client, learner, attempt["id"], [{"slot": qas[1].slot, "seq": 2, "values": {"": "1"}}]), 409)
    assert_error(client.post(f"{url}/page", json={"page": 1}, headers=learner), 409)
    assert put(client, learner, attempt["id"],
               [{"slot": qas[2].slot, "seq": 1, "values": right_values(qas[2])}]).status_code == 200
    db.session.refresh(qas[1])
    assert qas[1].response == right_values(qas[1]) and qas[1].seq == 1


def test_interactive_checks_show_only_what_the_options_allow(client, world, h):
    s = make_quiz_setup(world, essay=False, random_count=0, behaviour="interactive", tries="3", penalty="25",
                        questions_per_page=0)
    learner = h(world.student_a)
    attempt = start(client, learner, s)
    capital = next(qa for qa in questions_of(attempt["id"]) if qa.version.definition["qtype"] == "multichoice")
    wrong = str(capital.order["choices"].index(1))
    url = f"/api/v1/attempts/{attempt['id']}"
    assert_error(client.post(f"{url}/check", json={"slot": capital.slot}, headers=learner), 422)  # no answer yet
    put(client, learner, attempt["id"], [{"slot": capital.slot, "seq": 1, "values": {"": wrong}}])
    checked = client.post(f"{url}/check", json={"slot": capital.slot}, headers=learner)
    assert checked.status_code == 200, checked.get_data(as_text=True)
    body = checked.get_json()
    # A wrong try with tries left stays open; its outcome shows as the «during» review options allow (as on
    # the page: Moodle's interactive behaviour says why before the next try).
    assert body["tries"] == 1 and body["checked"] is False and body["state"] == "wrong"
    assert body["feedback"] == ["Нет."] and "right_answer" not in body
    put(client, learner, attempt["id"], [{"slot": capital.slot, "seq": 2, "values": right_values(capital)}])
    right = client.post(f"{url}/check", json={"slot": capital.slot}, headers=learner).get_json()
    assert right["checked"] is True and right["mark"] == 0.75 and right["state"] == "correct"
    assert right["feedback"] == ["Верно!"]
    assert "right_answer" not in right and "general_feedback" not in right  # not «during» by default
    page = client.get(url, headers=learner).get_json()
    others = [q for q in page["questions"] if q["slot"] != capital.slot]
    assert others and all("state" not in q and "feedback" not in q and "mark" not in q for q in others)
    assert next(q for q in page["questions"] if q["slot"] == capital.slot)["feedback"] == ["Верно!"]
    assert_error(put(client, learner, attempt["id"], [{"slot": capital.slot, "seq": 3, "values": {"": wrong}}]),
                 409)
    assert_error(client.post(f"{url}/check", json={"slot": 99}, headers=learner), 422, "slot")


def test_a_deferred_quiz_has_no_checks(client, world, h):
    deferred = make_quiz_setup(world, essay=False)
    learner = h(world.student_a)
    attempt = start(client, learner, deferred)
    assert_error(client.post(f"/api/v1/attempts/{attempt['id']}/check", json={"slot": 1}, headers=learner), 409)


def test_sequential_interactive_checks_stay_on_the_current_page(client, world, h):
    s = make_quiz_setup(world, essay=False, random_count=0, behaviour="interactive", navigation="sequential",
                        questions_per_page=1)
    learner = h(world.student_a)
    attempt = start(client, learner, s)
    later = next(qa for qa in questions_of(attempt["id"]) if qa.page == 2)
    assert_error(client.post(f"/api/v1/attempts/{attempt['id']}/check", json={"slot": later.slot},
                             headers=learner), 409)


def test_bad_attempt_input_is_422_with_the_field_never_500(client, world, h):
    s = make_quiz_setup(world, essay=False)
    learner = h(world.student_a)
    attempt = start(client, learner, s)
    url = f"/api/v1/attempts/{attempt['id']}"
    cases = [
        ({"answers": [{"slot": 1, "seq": 1, "values": ["нет"]}]}, "answers.0.values"),
        ({"answers": [{"slot": 1, "seq": 0, "values": {}}]}, "answers.0.seq"),
        ({"answers": [{"slot": 1, "seq": 1.5, "values": {}}]}, "answers.0.seq"),
        ({"answers": [{"seq": 1, "values": {}}]}, "answers.0.slot"),
        ({"answers": [{"slot": 1, "seq": 1, "values": {"x": "1"}}]}, "answers-1"),
        ({"answers": [{"slot": 1, "seq": 1, "values": {"": {"a": 1}}}]}, "answers-1"),
        ({"answers": [{"slot": 99, "seq": 1, "values": {"": "1"}}]}, "answers-99"),
        ({"answers": [{"slot": 1, "seq": 1, "values": {"": "1"}}] * 201}, "answers"),
        ({}, "answers"),
        ({"answers": "всё"}, "answers"),
    ]
    for body, field in cases:
        assert_error(client.put(f"{url}/answers", json=body, headers=learner), 422, field)
    r = client.put(f"{url}/answers", data="{", content_type="application/json", headers=learner)
    assert_error(r, 400)
    assert_error(client.get(f"{url}?page=99", headers=learner), 422, "page")
    assert_error(client.get(f"{url}?page=abc", headers=learner), 422, "page")
    assert_error(client.post(f"{url}/page", json={"page": 0}, headers=learner), 422, "page")
    assert_error(client.post(f"{url}/page", json={"page": 9}, headers=learner), 422, "page")
    assert_error(client.post(f"{url}/page", json={}, headers=learner), 422, "page")
    assert client.get(url).status_code == 401
    assert db.session.get(QuizAttempt, attempt["id"]).state == AttemptState.IN_PROGRESS
