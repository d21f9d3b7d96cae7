"""Programmes (ДПП): hours arithmetic, the lifecycle and who may move it, versions, pages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.core.errors import Conflict, ValidationError
from lms.courses import programmes as services
from lms.courses.models import CurriculumModule, Programme, ProgrammeStatus
from lms.extensions import db
from tests.helpers import count, field_error, text_of

PD72 = {"title": "Цифровые технологии для трансформации школы", "kind": "pd", "audience": "teachers",
        "audience_note": "учителя и заместители директоров", "subject": "Информатика", "total_hours": "72",
        "final_attestation_form": "project", "final_attestation_hours": "2", "result_scale": "pass_fail"}
MODULES = [
    {"title": "Цифровая трансформация образования", "lecture_hours": "6", "practice_hours": "4",
     "self_study_hours": "6", "control_form": "credit"},
    {"title": "Цифровая образовательная среда школы", "lecture_hours": "8", "practice_hours": "12",
     "self_study_hours": "10", "control_form": "test_work"},
    {"title": "Проектирование цифровых уроков", "lecture_hours": "4", "practice_hours": "12",
     "self_study_hours": "8", "control_form": "credit"},
]  # 16 + 30 + 24 = 70, + 2 h of final attestation = 72


def make_programme(world, *, by=None, modules=MODULES, **over) -> Programme:
    by = by or world.methodologist_a
    programme = services.create_programme(world.school_a, by=by, **{**PD72, **over})
    if modules:
        services.set_curriculum(programme, modules, by=by)
    db.session.commit()
    return programme


def approved_programme(world) -> Programme:
    programme = make_programme(world)
    services.submit_for_review(programme, [world.admin_b], by=world.methodologist_a)
    services.review(programme, by=world.admin_b, action="approve")
    db.session.commit()
    return programme


# --- hours ---------------------------------------------------------------------------------------

def test_a_plan_that_adds_up_has_no_problems(world):
    programme = make_programme(world)
    summary = services.hours_summary(programme)
    assert (summary.lecture, summary.practice, summary.self_study) == (18, 28, 24)
    assert summary.planned == summary.total == 72
    assert services.hours_problems(programme) == []


def test_the_plan_says_how_many_hours_are_missing_or_too_many(world):
    programme = make_programme(world, total_hours="80")
    [problem] = services.hours_problems(programme)
    assert "70 ч" in problem and "= 72 ч" in problem and "80 ч" in problem and "не хватает 8 ч" in problem
    programme = make_programme(world, total_hours="36")
    [problem] = services.hours_problems(programme)
    assert problem.endswith("лишние 36 ч.")


def test_optional_modules_need_a_variable_part_that_they_can_fill(world):
    modules = MODULES + [{"title": "Робототехника", "practice_hours": "10", "is_optional": True},
                         {"title": "3D-моделирование", "practice_hours": "10", "is_optional": True}]
    programme = make_programme(world, modules=modules)
    assert any("вариатив" in p for p in services.hours_problems(programme))  # optional modules, variable part 0
    programme = make_programme(world, modules=modules, total_hours="82", variable_hours="10")
    assert services.hours_problems(programme) == []
    programme = make_programme(world, modules=modules, total_hours="102", variable_hours="30")
    assert any("20" in p for p in services.hours_problems(programme))  # only 20 h of optional modules


@pytest.mark.parametrize(("kind", "hours", "ok"), [("pd", 15, False), ("pd", 16, True), ("retraining", 249, False),
                                                  ("retraining", 250, True), ("profile", 8, True)])
def test_legal_minimum_hours_per_kind(kind, hours, ok):
    data = {**PD72, "kind": kind, "total_hours": str(hours)}
    if ok:
        assert services.clean_programme_data(data)["total_hours"] == hours
    else:
        with pytest.raises(ValidationError) as exc:
            services.clean_programme_data(data)
        assert exc.value.field == "total_hours"


def test_every_wrong_field_is_named_at_once():
    with pytest.raises(ValidationError) as exc:
        services.clean_programme_data({"title": "", "kind": "pd", "audience": "nobody", "total_hours": "много",
                                       "final_attestation_form": "test", "result_scale": "five_point",
                                       "threshold_5": "70", "threshold_4": "80", "threshold_3": "50"})
    assert {"title", "audience", "total_hours", "threshold_4"} <= set(exc.value.errors)


def test_curriculum_rows_are_checked_row_by_row(world):
    programme = make_programme(world, modules=None)
    with pytest.raises(ValidationError) as exc:
        services.set_curriculum(programme, [{"title": "Модуль", "lecture_hours": "4"},
                                            {"title": "", "lecture_hours": "-2"}], by=world.methodologist_a)
    assert set(exc.value.errors) == {"modules-1-title", "modules-1-lecture_hours"}
    assert all("2" in message for message in exc.value.errors.values())  # "Row 2: …"


# --- lifecycle -----------------------------------------------------------------------------------

def test_review_approve_publish_and_version(world):
    programme = make_programme(world)
    with pytest.raises(ValidationError):
        services.submit_for_review(programme, [], by=world.methodologist_a)  # no reviewer
    with pytest.raises(ValidationError):
        services.submit_for_review(programme, [world.methodologist_a], by=world.methodologist_a)  # own programme
    with pytest.raises(ValidationError):
        services.submit_for_review(programme, [world.teacher_a], by=world.methodologist_a)  # own school, not an expert
    services.submit_for_review(programme, [world.admin_b, world.coordinator], by=world.methodologist_a)
    assert programme.status == ProgrammeStatus.REVIEW
    with pytest.raises(Conflict):
        services.update_programme(programme, by=world.methodologist_a, **PD72)  # frozen while on review
    services.review(programme, by=world.admin_b, action="approve")
    assert programme.status == ProgrammeStatus.REVIEW  # the second reviewer has not decided yet
    services.review(programme, by=world.coordinator, action="approve")
    assert programme.status == ProgrammeStatus.APPROVED
    with pytest.raises(Conflict):
        services.set_curriculum(programme, MODULES[:1], by=world.methodologist_a)  # approved: frozen
    services.publish(programme, by=world.admin_a)
    v2 = services.new_version(programme, by=world.methodologist_a)
    db.session.commit()
    assert (v2.version, v2.status, v2.lineage_id) == (2, ProgrammeStatus.DRAFT, programme.lineage_id)
    assert [m.title for m in v2.modules] == [m["title"] for m in MODULES]
    with pytest.raises(Conflict):
        services.new_version(programme, by=world.methodologist_a)  # one open version at a time
    services.set_curriculum(v2, MODULES[:2] + [{**MODULES[2], "practice_hours": "10", "self_study_hours": "10"}],
                            by=world.methodologist_a)
    assert programme.modules[2].practice_hours == 12  # the published version is untouched
    services.submit_for_review(v2, [world.admin_b], by=world.methodologist_a)
    services.review(v2, by=world.admin_b, action="approve")
    services.publish(v2, by=world.admin_a)
    db.session.commit()
    assert (programme.status, v2.status) == (ProgrammeStatus.ARCHIVED, ProgrammeStatus.PUBLISHED)


def test_a_return_sends_the_programme_back_with_the_comment(world):
    programme = make_programme(world)
    services.submit_for_review(programme, [world.admin_b], by=world.methodologist_a)
    with pytest.raises(ValidationError):
        services.review(programme, by=world.admin_b, action="return", comment="")
    services.review(programme, by=world.admin_b, action="return", comment="Мало практики во втором модуле",
                    module_id=programme.modules[1].id)
    db.session.commit()
    assert programme.status == ProgrammeStatus.DRAFT
    assert programme.reviews[-1].module_id == programme.modules[1].id


def test_hours_that_do_not_add_up_cannot_go_to_review(world):
    programme = make_programme(world, total_hours="80")
    with pytest.raises(ValidationError) as exc:
        services.submit_for_review(programme, [world.admin_b], by=world.methodologist_a)
    assert "8" in exc.value.message


# --- pages ---------------------------------------------------------------------------------------

def test_methodologist_designs_a_programme_through_the_pages(client, world, login_as):
    login_as(client, world.methodologist_a)
    bad = client.post("/programmes/new", data={**PD72, "organization": str(world.school_a.id), "total_hours": "12"})
    assert bad.status_code == 422
    assert "16" in field_error(bad, "total_hours")
    assert count(Programme) == 0
    response = client.post("/programmes/new", data={**PD72, "organization": str(world.school_a.id)})
    assert response.status_code == 302
    programme = db.session.scalar(select(Programme))
    rows = {}
    for i, m in enumerate(MODULES):
        rows.update({f"modules-{i}-{k}": v for k, v in m.items()})
    rows.update({"modules-3-title": "", "modules-4-title": "Лишний", "modules-4-lecture_hours": "x"})
    bad = client.post(f"/programmes/{programme.id}/curriculum", data=rows)
    assert bad.status_code == 422
    assert "5" in field_error(bad, "modules-4-lecture_hours")  # «Строка 5: …»
    assert count(CurriculumModule) == 0
    del rows["modules-4-title"], rows["modules-4-lecture_hours"]
    assert client.post(f"/programmes/{programme.id}/curriculum", data=rows).status_code == 302
    page = text_of(client.get(f"/programmes/{programme.id}"))
    assert "Проектирование цифровых уроков" in page and "72" in page
    more = client.post(f"/programmes/{programme.id}/curriculum", data={**rows, "add_rows": "1"})
    assert more.status_code == 200 and 'name="modules-5-title"' in more.get_data(as_text=True)
    response = client.post(f"/programmes/{programme.id}/submit", data={"reviewers": [], "expert": "admin_b"})
    assert response.status_code == 302
    db.session.refresh(programme)
    assert programme.status == ProgrammeStatus.REVIEW


def test_reviewer_decides_on_the_card(client, world, login_as):
    programme = make_programme(world)
    services.submit_for_review(programme, [world.admin_b], by=world.methodologist_a)
    db.session.commit()
    login_as(client, world.admin_b)
    page = client.get(f"/programmes/{programme.id}")
    assert page.status_code == 200 and "review_programme" not in page.get_data(as_text=True)
    bad = client.post(f"/programmes/{programme.id}/review", data={"action": "return", "comment": ""})
    assert bad.status_code == 422 and field_error(bad, "comment")
    assert client.post(f"/programmes/{programme.id}/review", data={"action": "approve"}).status_code == 302
    db.session.refresh(programme)
    assert programme.status == ProgrammeStatus.APPROVED


def test_who_may_move_the_lifecycle(client, world, login_as):
    programme = approved_programme(world)
    login_as(client, world.methodologist_a)  # the author may not publish: the organization decides
    assert client.post(f"/programmes/{programme.id}/publish").status_code == 403
    client.post("/logout")
    login_as(client, world.admin_b)  # another organization's admin neither
    assert client.post(f"/programmes/{programme.id}/publish").status_code == 403
    client.post("/logout")
    login_as(client, world.admin_a)
    assert client.post(f"/programmes/{programme.id}/publish").status_code == 302
    db.session.refresh(programme)
    assert programme.status == ProgrammeStatus.PUBLISHED


def test_drafts_are_seen_by_their_organization_and_published_ones_by_everyone(client, world, login_as):
    draft = make_programme(world, title="Черновик программы")
    published = approved_programme(world)
    services.publish(published, by=world.admin_a)
    db.session.commit()
    login_as(client, world.student_b)
    assert client.get(f"/programmes/{draft.id}").status_code == 403
    assert client.get(f"/programmes/{published.id}").status_code == 200
    listing = text_of(client.get("/programmes"))
    assert "Черновик программы" not in listing and published.title in listing
    client.post("/logout")
    login_as(client, world.teacher_a)
    assert "Черновик программы" in text_of(client.get("/programmes"))


def test_curriculum_pdf(client, world, login_as):
    programme = make_programme(world)
    login_as(client, world.methodologist_a)
    response = client.get(f"/programmes/{programme.id}/plan.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
