"""The gradebook: items from the course, totals by category and weight, the programme's scale, overrides
with a reason, the history of changes, exports, and a learner who sees only their own grades."""

from __future__ import annotations

from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from lms.core.errors import ValidationError
from lms.courses import assignments, completion, gradebook, runs
from lms.courses.models import GradeChange, GradeItem
from lms.extensions import db
from tests.courses.test_assignments import assignment
from tests.courses.test_completion import run  # noqa: F401 - the fixture
from tests.helpers import text_of


def graded(world, run, points_a: int, points_b: int):  # noqa: F811
    work = assignment(world, run)
    for learner, points in ((world.student_a, points_a), (world.student_b, points_b)):
        submission = assignments.submit(work, learner, text="Ответ")
        assignments.grade(submission, points=str(points), feedback="", by=world.teacher_a)
    db.session.commit()
    return work


def test_items_follow_the_course_and_totals_use_weights(world, run):  # noqa: F811
    graded(world, run, 10, 5)
    completion.record_attestation(run, world.student_a, module=None, held_on=date.today(), result="passed",
                                  by=world.teacher_a)
    db.session.commit()
    data = gradebook.sheet(run)
    sources = [i.source for i in data.items]
    assert "assignment" in sources and "final" in sources
    rows = {r.user.id: r for r in data.rows}
    assert rows[world.student_a.id].percent == 100.0  # 10/10 and the final passed (1/1)
    assert rows[world.student_b.id].percent == 50.0   # 5/10, no final yet: only graded items count
    work = next(i for i in data.items if i.source == "assignment")
    final = next(i for i in data.items if i.source == "final")
    heavy = gradebook.set_category(run, name="Практика", aggregation="mean", weight="3", by=world.teacher_a)
    gradebook.place_item(work, category_id=heavy.id, weight="1", by=world.teacher_a)
    completion.record_attestation(run, world.student_b, module=None, held_on=date.today(), result="passed",
                                  by=world.teacher_a)
    db.session.commit()
    rows = {r.user.id: r for r in gradebook.sheet(run).rows}
    assert rows[world.student_b.id].percent == pytest.approx((50 * 3 + 100 * 1) / 4, abs=0.1)
    assert final.max_points == 1


def test_the_total_on_a_five_point_scale(world, run):  # noqa: F811
    run.programme.result_scale = "five_point"
    run.programme.five_point_thresholds = {"5": 86, "4": 71, "3": 51}
    assert [gradebook.mark(run, p) for p in (90, 75, 60, 40, None)] == ["5", "4", "3", "2", ""]
    run.programme.result_scale = "pass_fail"
    assert [gradebook.mark(run, p) for p in (51, 50)] == ["passed", "failed"]


def test_overrides_need_a_reason_and_every_change_is_kept(world, run):  # noqa: F811
    graded(world, run, 4, 8)
    gradebook.ensure_items(run)
    item = db.session.scalar(select(GradeItem).where(GradeItem.source == "assignment"))
    with pytest.raises(ValidationError) as exc:
        gradebook.override(item, world.student_a, points="7", reason=" ", by=world.teacher_a)
    assert exc.value.field == "reason"
    with pytest.raises(ValidationError):
        gradebook.override(item, world.student_a, points="11", reason="апелляция", by=world.teacher_a)
    gradebook.override(item, world.student_a, points="7", reason="Апелляция: пересчёт баллов", by=world.teacher_a)
    db.session.commit()
    cell = {r.user.id: r for r in gradebook.sheet(run).rows}[world.student_a.id].cells[item.id]
    assert (cell.points, cell.overridden) == (7, True)
    changes = db.session.scalars(select(GradeChange).where(GradeChange.user_id == world.student_a.id)
                                 .order_by(GradeChange.id)).all()
    assert [(c.old, c.new) for c in changes] == [(None, "4"), ("4", "7")]
    assert changes[-1].reason.startswith("Апелляция") and changes[-1].by_id == world.teacher_a.id
    gradebook.override(item, world.student_a, points="", reason="Ошибка: вернуть оценку задания", by=world.teacher_a)
    db.session.commit()
    assert {r.user.id: r for r in gradebook.sheet(run).rows}[world.student_a.id].cells[item.id].points == 4


def test_an_override_may_be_a_fraction_as_people_type_it(world, run):  # noqa: F811
    """A quiz's grade may be 7,5: the gradebook takes «7,5» and «7.25», to hundredths, within the item's points."""
    graded(world, run, 4, 8)
    gradebook.ensure_items(run)
    item = db.session.scalar(select(GradeItem).where(GradeItem.source == "assignment"))
    for bad in ("7,555", "-1", "abc", "1e400", f"{item.max_points},01"):
        with pytest.raises(ValidationError) as exc:
            gradebook.override(item, world.student_a, points=bad, reason="апелляция", by=world.teacher_a)
        assert exc.value.field == "points" and "сотых" in exc.value.message, bad
    gradebook.override(item, world.student_a, points=" 7,5 ", reason="апелляция", by=world.teacher_a)
    db.session.commit()
    cell = {r.user.id: r for r in gradebook.sheet(run).rows}[world.student_a.id].cells[item.id]
    assert (cell.points, cell.overridden) == (7.5, True)
    assert "7,5" in gradebook.to_csv(gradebook.sheet(run)).decode("utf-8-sig")
    gradebook.override(item, world.student_a, points="6", reason="апелляция", by=world.teacher_a)
    db.session.commit()
    changes = db.session.scalars(select(GradeChange).where(GradeChange.user_id == world.student_a.id)
                                 .order_by(GradeChange.id)).all()
    assert [(c.old, c.new) for c in changes][-2:] == [("4", "7.5"), ("7.5", "6")]


def test_exports_neutralise_formulas(world, run):  # noqa: F811
    world.student_a.surname = "=HYPERLINK(\"http://evil\")"
    graded(world, run, 9, 3)
    data = gradebook.sheet(run)
    csv_text = gradebook.to_csv(data).decode("utf-8-sig")
    assert "'=HYPERLINK" in csv_text and "Итоговая аттестация" in csv_text
    import io

    sheet = load_workbook(io.BytesIO(gradebook.to_xlsx(data))).active
    cells = [c.value for row in sheet.iter_rows() for c in row]
    assert any(isinstance(v, str) and v.startswith("'=HYPERLINK") for v in cells)


def test_pages_teacher_sees_all_and_a_learner_only_their_own(client, world, login_as, run):  # noqa: F811
    graded(world, run, 9, 3)
    login_as(client, world.teacher_a)
    page = text_of(client.get(f"/runs/{run.id}/gradebook"))
    assert world.student_a.full_name in page and world.student_b.full_name in page
    assert client.get(f"/runs/{run.id}/gradebook.xlsx").status_code == 200
    client.post("/logout")
    login_as(client, world.student_a)
    mine = text_of(client.get(f"/runs/{run.id}/grades"))
    assert "9" in mine and world.student_b.full_name not in mine
    assert client.get(f"/runs/{run.id}/gradebook").status_code == 403
    assert client.get(f"/runs/{run.id}/gradebook/history?user={world.student_b.id}").status_code == 403
    own = text_of(client.get(f"/runs/{run.id}/gradebook/history"))
    assert world.student_b.full_name not in own


def test_the_gradebook_comes_a_page_at_a_time(client, world, login_as, run):  # noqa: F811
    from lms.courses import routes_completion
    from tests.factories import make_user

    for i in range(3):
        runs.enrol(run, make_user(f"uch{i}", org=world.school_a, role="teacher", surname=f"Яковлев{i}"),
                   by=world.admin_a)
    db.session.commit()
    routes_completion.GRADEBOOK_PER_PAGE = 2
    try:
        login_as(client, world.teacher_a)
        first = text_of(client.get(f"/runs/{run.id}/gradebook"))
        last = text_of(client.get(f"/runs/{run.id}/gradebook?page=3"))
    finally:
        routes_completion.GRADEBOOK_PER_PAGE = 100
    assert "Слушателей: 5." in first and "Яковлев2" not in first and "Яковлев2" in last


def test_the_xlsx_export_survives_control_characters_in_names(world, run):  # noqa: F811
    import io

    world.student_b.name = "Анна\x07"  # pasted from somewhere: openpyxl refuses such characters
    graded(world, run, 9, 3)
    sheet = load_workbook(io.BytesIO(gradebook.to_xlsx(gradebook.sheet(run)))).active
    assert any(isinstance(c.value, str) and "Анна" in c.value for row in sheet.iter_rows() for c in row)
