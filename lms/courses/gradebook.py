"""Gradebook rules: items follow the course (each assignment, each module with a form of control, the final
attestation) and teachers may add their own; categories aggregate by weighted mean or natural sum; the course
total maps to the programme's scale (5-point thresholds, pass/fail); an override needs a reason; every change
is kept with who, when, old and new.

The whole sheet of a run is read in a fixed number of statements, however many learners and items.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.assessment.models import Quiz, QuizGrade
from lms.core import audit
from lms.core.errors import ValidationError
from lms.core.i18n import fmt_number, parse_number
from lms.core.tables import csv_bytes, xlsx_bytes
from lms.courses.models import (
    HOLDS_PLACE,
    Activity,
    ActivityKind,
    AttestationRecord,
    ControlForm,
    CourseRun,
    Enrolment,
    GradeCategory,
    GradeChange,
    GradeItem,
    GradeOverride,
    ResultScale,
    Submission,
)
from lms.extensions import db

AGGREGATIONS = ("mean", "sum")


def _attestation_max(run: CourseRun) -> int:
    programme = run.programme
    if programme.result_scale == ResultScale.FIVE_POINT:
        return 5
    if programme.result_scale == ResultScale.POINTS:
        return programme.max_points or 100
    return 1


def attestation_points(run: CourseRun, result: str | None) -> int | None:
    """An attestation result as points: pass/fail → 1/0, a mark → the mark, points → the points."""
    if result is None:
        return None
    if result in ("passed", "failed"):
        return 1 if result == "passed" else 0
    return int(result) if result.isdecimal() else None


def ensure_items(run: CourseRun) -> list[GradeItem]:
    """The run's grade items, adding those the course gained since (an assignment, a module)."""
    items = list(db.session.scalars(select(GradeItem).where(GradeItem.run_id == run.id).order_by(GradeItem.id)))
    have_activities = {i.activity_id for i in items if i.activity_id}
    have_modules = {i.module_id for i in items if i.source == "module"}
    added = False
    for activity in db.session.scalars(select(Activity).where(Activity.run_id == run.id,
                                                              Activity.kind == ActivityKind.ASSIGNMENT)
                                       .order_by(Activity.section_id, Activity.position)):
        if activity.id not in have_activities:
            items.append(GradeItem(run_id=run.id, source="assignment", activity_id=activity.id, title=activity.title,
                                   max_points=int((activity.settings or {}).get("max_points", 100))))
            added = True
    for activity, max_grade in db.session.execute(
            select(Activity, Quiz.max_grade).outerjoin(Quiz, Quiz.activity_id == Activity.id)
            .where(Activity.run_id == run.id, Activity.kind == ActivityKind.QUIZ)
            .order_by(Activity.section_id, Activity.position)):
        if activity.id not in have_activities:
            items.append(GradeItem(run_id=run.id, source="quiz", activity_id=activity.id, title=activity.title,
                                   max_points=max_grade or 10))
            added = True
    for module in run.programme.modules:
        if module.control_form != ControlForm.NONE and module.id not in have_modules:
            items.append(GradeItem(run_id=run.id, source="module", module_id=module.id,
                                   title=_("Attestation: %(title)s", title=module.title),
                                   max_points=_attestation_max(run)))
            added = True
    if not any(i.source == "final" for i in items):
        items.append(GradeItem(run_id=run.id, source="final", title=_("Final attestation"),
                               max_points=_attestation_max(run)))
        added = True
    if added:
        db.session.add_all(items)
        db.session.flush()
    return items


@dataclass
class Cell:
    points: float | None
    overridden: bool = False
    reason: str = ""


@dataclass
class Row:
    user: User
    cells: dict[int, Cell] = field(default_factory=dict)
    percent: float | None = None
    mark: str = ""


@dataclass
class Sheet:
    run: CourseRun
    items: list[GradeItem]
    categories: list[GradeCategory]
    rows: list[Row]
    #: learners in the whole sheet (the rows may be one page of them)
    total: int = 0


def sheet(run: CourseRun, *, user_ids: list[int] | None = None, page: int | None = None,
          per_page: int = 100, group_id: int | None = None) -> Sheet:
    """Learners × items with the course total; ``user_ids`` limits the rows (a learner's own view),
    ``group_id`` to one group of the run, ``page`` reads one page of ``per_page`` learners in name order
    (all of them without it)."""
    items = ensure_items(run)
    categories = list(db.session.scalars(select(GradeCategory).where(GradeCategory.run_id == run.id)
                                         .order_by(GradeCategory.id)))
    learners = select(User).join(Enrolment, Enrolment.user_id == User.id).where(
        Enrolment.run_id == run.id, Enrolment.status.in_(sorted(HOLDS_PLACE)))
    if user_ids is not None:
        learners = learners.where(User.id.in_(user_ids))
    if group_id is not None:
        learners = learners.where(Enrolment.group_id == group_id)
    learner_count = db.session.scalar(select(func.count()).select_from(learners.subquery())) or 0
    learners = learners.order_by(User.surname, User.name, User.id)
    if page is not None:
        learners = learners.offset((max(page, 1) - 1) * per_page).limit(per_page)
    users = list(db.session.scalars(learners))
    ids = [u.id for u in users]
    points: dict[tuple[int, int], int | None] = {}
    by_activity = {i.activity_id: i.id for i in items if i.activity_id}
    for activity_id, user_id, value in db.session.execute(select(
            Submission.activity_id, Submission.user_id, Submission.points).where(
            Submission.run_id == run.id, Submission.user_id.in_(ids))):
        if activity_id in by_activity:
            points[(by_activity[activity_id], user_id)] = value
    for activity_id, user_id, value in db.session.execute(select(
            Quiz.activity_id, QuizGrade.user_id, QuizGrade.grade).join(Quiz, Quiz.id == QuizGrade.quiz_id).where(
            Quiz.run_id == run.id, QuizGrade.user_id.in_(ids))):
        if activity_id in by_activity:
            points[(by_activity[activity_id], user_id)] = value
    by_module = {i.module_id: i.id for i in items if i.source == "module"}
    final = next(i.id for i in items if i.source == "final")
    for module_id, user_id, result in db.session.execute(select(
            AttestationRecord.module_id, AttestationRecord.user_id, AttestationRecord.result).where(
            AttestationRecord.run_id == run.id, AttestationRecord.user_id.in_(ids))):
        item_id = final if module_id is None else by_module.get(module_id)
        if item_id:
            points[(item_id, user_id)] = attestation_points(run, result)
    overrides = {(o.item_id, o.user_id): o for o in db.session.scalars(select(GradeOverride).where(
        GradeOverride.item_id.in_([i.id for i in items]), GradeOverride.user_id.in_(ids)))}
    rows = []
    for user in users:
        row = Row(user)
        for item in items:
            o = overrides.get((item.id, user.id))
            row.cells[item.id] = Cell(o.points, True, o.reason) if o else Cell(points.get((item.id, user.id)))
        row.percent = total(items, categories, row.cells)
        row.mark = mark(run, row.percent)
        rows.append(row)
    return Sheet(run, items, categories, rows, learner_count)


def total(items: list[GradeItem], categories: list[GradeCategory], cells: dict[int, Cell]) -> float | None:
    """The course total in percent: each category by its aggregation over its graded items, then the
    weighted mean of the categories; items outside any category form one more, by weighted mean.
    Ungraded items are left out (Moodle's «only graded items»)."""
    groups: dict[int | None, list[GradeItem]] = {}
    for item in items:
        groups.setdefault(item.category_id, []).append(item)
    weights = {c.id: c.weight for c in categories}
    aggregation = {c.id: c.aggregation for c in categories}
    parts: list[tuple[float, int]] = []
    for category_id, members in groups.items():
        graded = [(i, cells[i.id].points) for i in members if cells[i.id].points is not None and i.max_points]
        if not graded:
            continue
        if aggregation.get(category_id, "mean") == "sum":
            value = 100 * sum(p for _i, p in graded) / sum(i.max_points for i, _p in graded)
        else:
            value = sum(100 * p / i.max_points * i.weight for i, p in graded) / (sum(i.weight for i, _p in graded) or 1)
        parts.append((value, weights.get(category_id, 1)))
    if not parts:
        return None
    weight = sum(w for _v, w in parts) or 1
    return round(sum(v * w for v, w in parts) / weight, 1)


def mark(run: CourseRun, percent: float | None) -> str:
    """The total on the programme's scale: a 5-point mark by its thresholds, «passed»/«failed», or points."""
    if percent is None:
        return ""
    programme = run.programme
    if programme.result_scale == ResultScale.FIVE_POINT:
        thresholds = programme.five_point_thresholds or {}
        for grade in ("5", "4", "3"):
            if percent >= float(thresholds.get(grade, 101)):
                return grade
        return "2"
    if programme.result_scale == ResultScale.POINTS:
        return str(round(percent * (programme.max_points or 100) / 100))
    threshold = float((programme.five_point_thresholds or {}).get("3", 51))
    return "passed" if percent >= threshold else "failed"


def log_change(run_id: int, user_id: int, title: str, old, new, *, by: User, reason: str = "") -> None:
    if old == new:
        return
    db.session.add(GradeChange(run_id=run_id, user_id=user_id, title=title[:300],
                               old=None if old is None else str(old), new=None if new is None else str(new),
                               reason=reason[:500], by_id=by.id))


def source_points(item: GradeItem, user_id: int) -> int | None:
    """What the course itself says for the item: the assignment's points or the attestation result."""
    if item.source == "assignment":
        return db.session.scalar(select(Submission.points).where(Submission.activity_id == item.activity_id,
                                                                 Submission.user_id == user_id))
    if item.source == "quiz":
        return db.session.scalar(select(QuizGrade.grade).join(Quiz, Quiz.id == QuizGrade.quiz_id).where(
            Quiz.activity_id == item.activity_id, QuizGrade.user_id == user_id))
    if item.source in ("module", "final"):
        result = db.session.scalar(select(AttestationRecord.result).where(
            AttestationRecord.run_id == item.run_id, AttestationRecord.user_id == user_id,
            AttestationRecord.module_id.is_(None) if item.source == "final"
            else AttestationRecord.module_id == item.module_id))
        return attestation_points(db.session.get(CourseRun, item.run_id), result)
    return None


def override(item: GradeItem, user: User, *, points, reason: str, by: User) -> GradeOverride | None:
    """Set (or, with empty points, remove) the gradebook's own grade for the learner; a reason is required."""
    reason = " ".join((reason or "").split())
    text = str(points if points is not None else "").strip()
    existing = db.session.scalar(select(GradeOverride).where(GradeOverride.item_id == item.id,
                                                             GradeOverride.user_id == user.id))
    errors = {}
    if not reason:
        errors["reason"] = _("Say why the grade is changed.")
    elif len(reason) > 500:
        errors["reason"] = _("At most %(n)d characters.", n=500)
    points = parse_number(text)
    if text and (points is None or not 0 <= points <= item.max_points or round(points, 2) != points):
        errors["points"] = _("From %(low)d to %(high)d, to hundredths at most.", low=0, high=item.max_points)
    elif points is not None and points.is_integer():
        points = int(points)
    if errors:
        raise ValidationError.of(errors)
    old = existing.points if existing else source_points(item, user.id)
    if not text:
        if existing is not None:
            db.session.delete(existing)
        log_change(item.run_id, user.id, item.title, old, source_points(item, user.id), by=by, reason=reason)
        db.session.flush()
        return None
    row = existing or GradeOverride(item_id=item.id, user_id=user.id, points=points, reason=reason)
    row.points, row.reason, row.by_id = points, reason, by.id
    if existing is None:
        db.session.add(row)
    log_change(item.run_id, user.id, item.title, old, row.points, by=by, reason=reason)
    db.session.flush()
    run = db.session.get(CourseRun, item.run_id)
    audit.record("grade_overridden", actor=by, organization=run.host_organization_id, obj=user, item=item.id,
                 points=row.points, old=old)
    return row


def set_category(run: CourseRun, *, name: str, aggregation: str, weight, by: User) -> GradeCategory:
    name = " ".join((name or "").split())
    errors = {}
    if not name or len(name) > 100:
        errors["name"] = _("From 1 to 100 characters.")
    if aggregation not in AGGREGATIONS:
        errors["aggregation"] = _("Choose one of the options.")
    text = str(weight or "").strip()
    if not text.isdecimal() or not 0 <= int(text) <= 100:
        errors["weight"] = _("From %(low)d to %(high)d.", low=0, high=100)
    if errors:
        raise ValidationError.of(errors)
    category = db.session.scalar(select(GradeCategory).where(GradeCategory.run_id == run.id,
                                                             GradeCategory.name == name))
    if category is None:
        category = GradeCategory(run_id=run.id, name=name)
        db.session.add(category)
    category.aggregation, category.weight = aggregation, int(text)
    db.session.flush()
    return category


def place_item(item: GradeItem, *, category_id: int | None, weight, by: User) -> None:
    text = str(weight or "").strip()
    if not text.isdecimal() or not 0 <= int(text) <= 100:
        raise ValidationError(_("From %(low)d to %(high)d.", low=0, high=100), field="weight")
    if category_id is not None:
        category = db.session.get(GradeCategory, category_id)
        if category is None or category.run_id != item.run_id:
            raise ValidationError(_("Choose one of the options."), field="category")
    item.category_id, item.weight = category_id, int(text)
    db.session.flush()


def export_rows(data: Sheet) -> list[list[str]]:
    """Header and one row per learner: the cells as points, then the total percent and the mark."""
    head = [_("Learner")] + [f"{i.title} (/{i.max_points})" for i in data.items] + [_("Total, percent"), _("Mark")]
    rows = [head]
    for row in data.rows:
        rows.append([row.user.full_name] + ["" if row.cells[i.id].points is None else fmt_number(row.cells[i.id].points)
                                            for i in data.items]
                    + ["" if row.percent is None else f"{row.percent:.1f}", row.mark])
    return rows


def to_csv(data: Sheet) -> bytes:
    return csv_bytes(export_rows(data))


def to_xlsx(data: Sheet) -> bytes:
    return xlsx_bytes([(_("Grades"), export_rows(data))])
