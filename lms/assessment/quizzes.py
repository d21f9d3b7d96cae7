"""Quizzes as activities of a course run: their settings (Moodle's, which teachers know), the questions in
their slots (fixed, or drawn at random from a category and tags), overrides for a learner or a group, and the
settings that hold for one learner.

Plain functions: they flush, never commit, and raise ``ValidationError``/``Conflict``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import false, func, or_, select
from werkzeug.exceptions import NotFound

from lms.accounts.models import User
from lms.assessment import banks
from lms.assessment.models import (
    OverdueHandling,
    Question,
    QuestionAttempt,
    QuestionBank,
    QuestionCategory,
    Quiz,
    QuizAttempt,
    QuizOverride,
    QuizSlot,
)
from lms.core import audit
from lms.core.errors import Conflict, ValidationError
from lms.core.loading import MAX_ID
from lms.courses.models import Activity, ActivityKind, CourseRun, Enrolment, GradeItem
from lms.courses.revisions import bump
from lms.extensions import db

GRADE_METHODS = {"highest": _l("Highest grade"), "average": _l("Average grade"), "first": _l("First attempt"),
                 "last": _l("Last attempt")}
BEHAVIOURS = {"deferred": _l("Deferred feedback"), "interactive": _l("Interactive with multiple tries")}
NAVIGATION = {"free": _l("Free"), "sequential": _l("Sequential")}
OVERDUE = {OverdueHandling.AUTOSUBMIT: _l("Open attempts are submitted automatically"),
           OverdueHandling.GRACE: _l("There is a grace period when open attempts can be submitted, but no more "
                                     "questions answered"),
           OverdueHandling.ABANDON: _l("Attempts must be submitted before time expires, or they are not counted")}
REVIEW_MOMENTS = {"during": _l("During the attempt"), "immediately": _l("Immediately after the attempt"),
                  "open": _l("Later, while the quiz is still open"), "closed": _l("After the quiz is closed")}
REVIEW_ITEMS = {"attempt": _l("The attempt"), "correctness": _l("Whether correct"), "marks": _l("Marks"),
                "feedback": _l("Specific feedback"), "general_feedback": _l("General feedback"),
                "right_answer": _l("Right answer")}
DEFAULT_REVIEW = {"during": ["attempt", "correctness", "marks", "feedback"],
                  "immediately": list(REVIEW_ITEMS), "open": list(REVIEW_ITEMS), "closed": list(REVIEW_ITEMS)}
#: «Immediately after» lasts this long after the submission (as in Moodle).
IMMEDIATELY_SECONDS = 120


# --- the quiz of an activity ------------------------------------------------------------------------

def quiz_of(activity: Activity) -> Quiz:
    """The activity's quiz, made with default settings the first time it is asked for."""
    if activity.kind != ActivityKind.QUIZ:
        raise ValidationError(_("Choose one of the options."), field="activity")
    quiz = db.session.scalar(select(Quiz).where(Quiz.activity_id == activity.id))
    if quiz is None:
        quiz = Quiz(activity_id=activity.id, run_id=activity.run_id, review=DEFAULT_REVIEW)
        db.session.add(quiz)
        db.session.flush()
    return quiz


def activity_and_quiz(activity_id: int) -> tuple[Activity, Quiz]:
    """A quiz activity with its quiz (read in one statement; made on first use), or NotFound."""
    row = db.session.execute(select(Activity, Quiz).outerjoin(Quiz, Quiz.activity_id == Activity.id)
                             .where(Activity.id == activity_id)).first() if 0 < activity_id <= MAX_ID else None
    if row is None or row[0].kind != ActivityKind.QUIZ:
        raise NotFound()
    activity, quiz = row
    return activity, quiz or quiz_of(activity)


_COPIED_SETTINGS = tuple(c.key for c in Quiz.__table__.columns
                         if c.key not in ("id", "activity_id", "run_id", "rev", "created_at", "updated_at"))
_COPIED_SLOT = ("position", "page", "question_id", "version", "category_id", "include_subcategories", "tags",
                "max_mark")


def copy_quiz(source: Activity, target: Activity) -> None:
    """A template run's quiz into the copy of its activity: the settings and the slots (the questions stay in
    their banks; overrides and attempts belong to the template's learners and are not copied)."""
    old = db.session.scalar(select(Quiz).where(Quiz.activity_id == source.id))
    if old is None:
        return
    new = Quiz(activity_id=target.id, run_id=target.run_id, **{k: getattr(old, k) for k in _COPIED_SETTINGS})
    new.review = {k: list(v) for k, v in (old.review or {}).items()}
    new.slots = [QuizSlot(**{k: getattr(s, k) for k in _COPIED_SLOT}) for s in old.slots]
    db.session.add(new)


def has_attempts(quiz: Quiz) -> bool:
    """Whether learners have attempted it (previews do not count): its questions are then fixed."""
    return db.session.scalar(select(func.count()).select_from(QuizAttempt).where(
        QuizAttempt.quiz_id == quiz.id, QuizAttempt.is_preview.is_(False))) > 0


def _int(data: dict, name: str, errors: dict, *, low: int, high: int, default: int | None = 0) -> int | None:
    value = str(data.get(name) if data.get(name) is not None else "").strip()
    if value == "":
        return default
    if not value.lstrip("-").isdecimal() or not low <= int(value) <= high:
        errors[name] = _("From %(low)d to %(high)d.", low=low, high=high)
        return default
    return int(value)


def _number(data: dict, name: str, errors: dict, *, low: float, high: float) -> float | None:
    value = str(data.get(name) if data.get(name) is not None else "").strip().replace(",", ".")
    if value == "":
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not low <= number <= high:
        errors[name] = _("From %(low)s to %(high)s.", low=f"{low:g}".replace(".", ","),
                         high=f"{high:g}".replace(".", ","))
        return None
    return number


def _choice(data: dict, name: str, options, errors: dict, default: str) -> str:
    value = data.get(name) or default
    if value not in options:
        errors[name] = _("Choose one of the options.")
        return default
    return value


def clean_settings(data: dict) -> dict:
    """Check the settings form (or the API's body); every problem is named by its field. Times are aware UTC
    datetimes (the pages read them in the organization's zone); the time limit and grace are in minutes."""
    errors: dict[str, str] = {}
    out: dict = {}
    for name in ("opens_at", "closes_at"):
        value = data.get(name)
        if value is not None and not isinstance(value, datetime):
            errors[name] = _("Enter a date and time.")
            value = None
        out[name] = value
    if out["opens_at"] and out["closes_at"] and out["closes_at"] <= out["opens_at"]:
        errors["closes_at"] = _("The end must come after the start.")
    minutes = _int(data, "time_limit", errors, low=0, high=24 * 60, default=0)
    out["time_limit"] = minutes * 60 if minutes else None
    out["overdue"] = _choice(data, "overdue", OverdueHandling.ALL, errors, OverdueHandling.AUTOSUBMIT)
    out["grace_period"] = (_int(data, "grace_period", errors, low=0, high=7 * 24 * 60) or 0) * 60
    if out["overdue"] == OverdueHandling.GRACE and not out["grace_period"]:
        errors["grace_period"] = _("Set the grace period in minutes.")
    out["attempts_allowed"] = _int(data, "attempts_allowed", errors, low=0, high=100)
    out["grade_method"] = _choice(data, "grade_method", GRADE_METHODS, errors, "highest")
    out["max_grade"] = _int(data, "max_grade", errors, low=1, high=1000, default=10)
    out["pass_grade"] = _number(data, "pass_grade", errors, low=0, high=out["max_grade"] or 10)
    out["questions_per_page"] = _int(data, "questions_per_page", errors, low=0, high=50, default=1)
    out["navigation"] = _choice(data, "navigation", NAVIGATION, errors, "free")
    out["shuffle_questions"] = bool(data.get("shuffle_questions", False))
    out["shuffle_answers"] = bool(data.get("shuffle_answers", True))
    out["behaviour"] = _choice(data, "behaviour", BEHAVIOURS, errors, "deferred")
    out["tries"] = _int(data, "tries", errors, low=1, high=10, default=3)
    penalty = _number(data, "penalty", errors, low=0, high=100)
    out["penalty"] = (penalty / 100) if penalty is not None else 1 / 3
    review = data.get("review")
    if review is None:
        out["review"] = DEFAULT_REVIEW
    elif not isinstance(review, dict):
        errors["review"] = _("Choose one of the options.")
    else:
        out["review"] = {}
        for moment in REVIEW_MOMENTS:
            items = review.get(moment) or []
            if not isinstance(items, list) or any(i not in REVIEW_ITEMS for i in items):
                errors[f"review-{moment}"] = _("Choose one of the options.")
                items = []
            # Marks, feedback and the right answer are part of the attempt: without it, nothing is shown.
            out["review"][moment] = [i for i in REVIEW_ITEMS if i in items] if "attempt" in items else []
    if errors:
        raise ValidationError.of(errors)
    return out


def save_settings(quiz: Quiz, data: dict, *, by: User) -> None:
    values = clean_settings(data)
    # Marks already given stay on the scale they were given on.
    if values["max_grade"] != quiz.max_grade and has_attempts(quiz):
        raise ValidationError(_("Learners have attempted the quiz: the maximum grade is fixed."), field="max_grade")
    for name, value in values.items():
        setattr(quiz, name, value)
    item = db.session.scalar(select(GradeItem).where(GradeItem.activity_id == quiz.activity_id))
    if item is not None:
        item.max_points = quiz.max_grade
    db.session.flush()
    bump(db.session, content={quiz.run_id})
    run = db.session.get(CourseRun, quiz.run_id)
    audit.record("quiz_changed", actor=by, organization=run.host_organization_id, obj=run, activity=quiz.activity_id)


# --- slots ----------------------------------------------------------------------------------------

def _editable(quiz: Quiz) -> None:
    if has_attempts(quiz):
        raise Conflict(_("Learners have attempted the quiz: its questions can no longer be added, removed or "
                         "moved. Fix a question in its bank and regrade instead."))


def _next_position(quiz: Quiz) -> int:
    return (db.session.scalar(select(func.max(QuizSlot.position)).where(QuizSlot.quiz_id == quiz.id)) or 0) + 1


def _page_for(quiz: Quiz, position: int) -> int:
    if quiz.questions_per_page <= 0:
        return 1
    last = db.session.scalar(select(QuizSlot).where(QuizSlot.quiz_id == quiz.id).order_by(QuizSlot.position.desc())
                             .limit(1))
    if last is None:
        return 1
    on_last = db.session.scalar(select(func.count()).select_from(QuizSlot).where(
        QuizSlot.quiz_id == quiz.id, QuizSlot.page == last.page))
    return last.page + 1 if on_last >= quiz.questions_per_page else last.page


def usable_banks(user: User, run: CourseRun) -> list[QuestionBank]:
    """Banks whose questions the user may put in the run's quizzes: the run's own, and the organization banks
    they may edit or that are shared with them."""
    stmt = select(QuestionBank).where(or_(QuestionBank.run_id == run.id, QuestionBank.run_id.is_(None)))
    condition = banks.banks_condition(user)
    if condition is not None:
        stmt = stmt.where(condition)
    return list(db.session.scalars(stmt.order_by(QuestionBank.name)))


def add_questions(quiz: Quiz, question_ids: list[int], *, by: User) -> list[QuizSlot]:
    _editable(quiz)
    run = db.session.get(CourseRun, quiz.run_id)
    questions = db.session.scalars(select(Question).where(Question.id.in_(question_ids))).all()
    if not questions or len(questions) != len(set(question_ids)):
        raise ValidationError(_("Choose questions."), field="question_ids")
    for q in questions:
        bank = db.session.get(QuestionBank, q.bank_id)
        if not banks.can_use_bank(by, bank) or (bank.run_id is not None and bank.run_id != run.id):
            raise ValidationError(_("Choose questions."), field="question_ids")
    slots = []
    for q in sorted(questions, key=lambda q: question_ids.index(q.id)):
        position = _next_position(quiz)
        slot = QuizSlot(quiz_id=quiz.id, position=position, page=_page_for(quiz, position), question_id=q.id,
                        max_mark=1.0)
        db.session.add(slot)
        db.session.flush()
        slots.append(slot)
    _changed(quiz, by, "quiz_questions_added", count=len(slots))
    return slots


def add_random(quiz: Quiz, *, category_id, count, include_subcategories: bool = True, tags=(),
               by: User) -> list[QuizSlot]:
    """``count`` slots each drawing one question from the category (and its subcategories) with all the tags;
    one attempt never gets the same question twice."""
    _editable(quiz)
    run = db.session.get(CourseRun, quiz.run_id)
    errors = {}
    category = db.session.get(QuestionCategory, category_id) if str(category_id or "").isdecimal() else None
    bank = db.session.get(QuestionBank, category.bank_id) if category else None
    if bank is None or not banks.can_use_bank(by, bank) or (bank.run_id is not None and bank.run_id != run.id):
        errors["category_id"] = _("Choose one of the options.")
    n = _int({"count": count}, "count", errors, low=1, high=100, default=1)
    tags = sorted({str(t).strip() for t in tags if str(t).strip()})
    if not errors:
        available = len(candidates(category, include_subcategories, tags))
        if available < (n or 1):
            errors["count"] = _("The category has %(have)d such questions, fewer than %(want)d.",
                                have=available, want=n)
    if errors:
        raise ValidationError.of(errors)
    slots = []
    for _i in range(n):
        position = _next_position(quiz)
        slot = QuizSlot(quiz_id=quiz.id, position=position, page=_page_for(quiz, position), category_id=category.id,
                        include_subcategories=include_subcategories, tags=tags, max_mark=1.0)
        db.session.add(slot)
        db.session.flush()
        slots.append(slot)
    _changed(quiz, by, "quiz_questions_added", count=len(slots))
    return slots


def category_ids(category: QuestionCategory, include_subcategories: bool) -> list[int]:
    ids = [category.id]
    if include_subcategories:
        children: dict[int | None, list[int]] = {}
        for cid, parent in db.session.execute(select(QuestionCategory.id, QuestionCategory.parent_id).where(
                QuestionCategory.bank_id == category.bank_id)):
            children.setdefault(parent, []).append(cid)
        stack = [category.id]
        while stack:
            for child in children.get(stack.pop(), []):
                ids.append(child)
                stack.append(child)
    return ids


def candidates(category: QuestionCategory, include_subcategories: bool, tags) -> list[int]:
    """Ids of the questions a random slot may draw (descriptions take no answer: never drawn)."""
    rows = db.session.execute(select(Question.id, Question.tags).where(
        Question.category_id.in_(category_ids(category, include_subcategories)),
        Question.qtype != "description").order_by(Question.id)).all()
    wanted = set(tags or ())
    return [qid for qid, qtags in rows if wanted <= set(qtags or ())]


def remove_slot(slot: QuizSlot, *, by: User) -> None:
    quiz = slot.quiz
    _editable(quiz)
    db.session.delete(slot)
    db.session.flush()
    for n, other in enumerate(db.session.scalars(select(QuizSlot).where(QuizSlot.quiz_id == quiz.id)
                                                 .order_by(QuizSlot.position)), start=1):
        other.position = -n  # two steps: the (quiz, position) pairs stay unique on the way
    db.session.flush()
    for other in db.session.scalars(select(QuizSlot).where(QuizSlot.quiz_id == quiz.id)):
        other.position = -other.position
    _changed(quiz, by, "quiz_questions_removed", count=1)


def move_slot(slot: QuizSlot, direction: int, *, by: User) -> None:
    quiz = slot.quiz
    _editable(quiz)
    others = list(db.session.scalars(select(QuizSlot).where(QuizSlot.quiz_id == quiz.id).order_by(QuizSlot.position)))
    i = others.index(slot)
    j = i + (1 if direction > 0 else -1)
    if not 0 <= j < len(others):
        return
    a, b = others[i], others[j]
    a.position, b.position = -b.position, -a.position
    a.page, b.page = b.page, a.page
    db.session.flush()
    a.position, b.position = -a.position, -b.position
    _changed(quiz, by, "quiz_questions_moved", count=1)


def set_slot(slot: QuizSlot, data: dict, *, by: User) -> None:
    """A slot's mark and page (these may change while attempts exist: a regrade applies new marks)."""
    errors: dict = {}
    mark = _number(data, "max_mark", errors, low=0, high=1000)
    page = _int(data, "page", errors, low=1, high=500, default=slot.page)
    if errors:
        raise ValidationError.of(errors)
    if page != slot.page:
        _editable(slot.quiz)
        slot.page = page
    if mark is not None:
        slot.max_mark = mark
    _changed(slot.quiz, by, "quiz_changed")


def repaginate(quiz: Quiz, per_page: int, *, by: User) -> None:
    _editable(quiz)
    errors: dict = {}
    per_page = _int({"per_page": per_page}, "per_page", errors, low=0, high=50)
    if errors:
        raise ValidationError.of(errors)
    quiz.questions_per_page = per_page
    for n, slot in enumerate(db.session.scalars(select(QuizSlot).where(QuizSlot.quiz_id == quiz.id)
                                                .order_by(QuizSlot.position))):
        slot.page = n // per_page + 1 if per_page else 1
    _changed(quiz, by, "quiz_changed")


def _changed(quiz: Quiz, by: User, action: str, **details) -> None:
    quiz.rev += 1
    db.session.flush()
    run = db.session.get(CourseRun, quiz.run_id)
    audit.record(action, actor=by, organization=run.host_organization_id, obj=run, activity=quiz.activity_id,
                 **details)


def total_marks(quiz: Quiz) -> float:
    return sum(s.max_mark for s in quiz.slots)


def usage(question_ids: list[int]) -> dict[int, list[Activity]]:
    """Which quizzes use each question: put in a slot, or given in an attempt."""
    out: dict[int, list[Activity]] = {}
    if not question_ids:
        return out
    rows = db.session.execute(select(QuizSlot.question_id, Activity).join(Quiz, Quiz.id == QuizSlot.quiz_id)
                              .join(Activity, Activity.id == Quiz.activity_id)
                              .where(QuizSlot.question_id.in_(question_ids))).all()
    rows += db.session.execute(select(QuestionAttempt.question_id, Activity).distinct()
                               .join(QuizAttempt, QuizAttempt.id == QuestionAttempt.attempt_id)
                               .join(Quiz, Quiz.id == QuizAttempt.quiz_id)
                               .join(Activity, Activity.id == Quiz.activity_id)
                               .where(QuestionAttempt.question_id.in_(question_ids))).all()
    for qid, activity in rows:
        if activity not in out.setdefault(qid, []):
            out[qid].append(activity)
    return out


# --- overrides and the settings for one learner ------------------------------------------------------

@dataclass(frozen=True)
class Effective:
    opens_at: datetime | None
    closes_at: datetime | None
    time_limit: int | None
    attempts_allowed: int


def effective(quiz: Quiz, user_id: int, group_id: int | None = None) -> Effective:
    """The quiz's timing and attempts for one learner: their own override, else their group's, else the quiz's
    (each field of an override that is empty keeps the quiz's value)."""
    rows = db.session.scalars(select(QuizOverride).where(
        QuizOverride.quiz_id == quiz.id,
        or_(QuizOverride.user_id == user_id, QuizOverride.group_id == group_id if group_id else false()))).all()
    override = next((o for o in rows if o.user_id == user_id), None) or next(iter(rows), None)
    if override is None:
        return Effective(quiz.opens_at, quiz.closes_at, quiz.time_limit, quiz.attempts_allowed)
    return Effective(override.opens_at or quiz.opens_at, override.closes_at or quiz.closes_at,
                     override.time_limit if override.time_limit is not None else quiz.time_limit,
                     override.attempts_allowed if override.attempts_allowed is not None else quiz.attempts_allowed)


def set_override(quiz: Quiz, data: dict, *, by: User) -> QuizOverride:
    """Add or change the override of a learner (``user_id``) or a group (``group_id``) of the run."""
    errors: dict = {}
    user_id, group_id = data.get("user_id"), data.get("group_id")
    run = db.session.get(CourseRun, quiz.run_id)
    if bool(user_id) == bool(group_id):
        errors["user_id"] = _("Choose a learner or a group.")
    elif user_id and not db.session.scalar(select(Enrolment.id).where(Enrolment.run_id == run.id,
                                                                      Enrolment.user_id == user_id)):
        errors["user_id"] = _("Choose one of the options.")
    elif group_id and group_id not in {g.id for g in run.groups}:
        errors["group_id"] = _("Choose one of the options.")
    values = {}
    for name in ("opens_at", "closes_at"):
        value = data.get(name)
        if value is not None and not isinstance(value, datetime):
            errors[name] = _("Enter a date and time.")
            value = None
        values[name] = value
    opens, closes = values["opens_at"] or quiz.opens_at, values["closes_at"] or quiz.closes_at
    if opens and closes and closes <= opens:
        errors["closes_at"] = _("The end must come after the start.")
    minutes = _int(data, "time_limit", errors, low=0, high=24 * 60, default=None)
    values["time_limit"] = None if minutes is None else (minutes * 60 or None)
    values["attempts_allowed"] = _int(data, "attempts_allowed", errors, low=0, high=100, default=None)
    if not errors and not any(v is not None for v in values.values()):
        errors["opens_at"] = _("Change at least one setting.")
    if errors:
        raise ValidationError.of(errors)
    row = db.session.scalar(select(QuizOverride).where(
        QuizOverride.quiz_id == quiz.id,
        QuizOverride.user_id == user_id if user_id else QuizOverride.group_id == group_id))
    if row is None:
        row = QuizOverride(quiz_id=quiz.id, user_id=user_id or None, group_id=group_id or None)
        db.session.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    quiz.rev += 1  # starting attempts reads overrides only when the quiz has some (attempts.blueprint)
    db.session.flush()
    audit.record("quiz_override_set", actor=by, organization=run.host_organization_id, obj=run,
                 activity=quiz.activity_id, user=user_id, group=group_id)
    return row


def delete_override(row: QuizOverride, *, by: User) -> None:
    quiz = db.session.get(Quiz, row.quiz_id)
    run = db.session.get(CourseRun, quiz.run_id)
    db.session.delete(row)
    quiz.rev += 1
    db.session.flush()
    audit.record("quiz_override_removed", actor=by, organization=run.host_organization_id, obj=run,
                 activity=quiz.activity_id)
