"""Quiz attempts that lose nothing.

- **Start.** An attempt gets its questions once: the fixed slots' versions (the current one, or a pinned one),
  a random draw for the random slots (never the same question twice), the order of questions within pages
  and of each question's choices. At most one open attempt per learner and quiz (a unique index): a second
  «Start» from another tab or a retry gets the same attempt.
- **Deadline.** The server's: the start plus the time limit, or the close date if sooner, fixed at the start.
  Saves are accepted up to the deadline itself; after it the attempt is submitted with what was saved
  («submit automatically»), may still be submitted during the grace period, or never counts (Moodle's three
  choices). Overdue attempts are closed by the periodic job and whenever they are next touched.
- **Saving.** Each save names (attempt, slot, the client's sequence number) and stores the form values of the
  question as the learner's page named them. It is one conditional UPDATE: it applies only to an open attempt
  of that learner before its deadline and only if the sequence number is newer than the stored one — so a
  retried save is applied once and a late one never overwrites a newer one. On PostgreSQL the save holds a
  share lock on the attempt's row, which submitting takes exclusively: a submission waits for saves in flight
  and grades what they stored, and a save after the submission is refused.
- **Submitting** flips the state with one conditional UPDATE: of fifty simultaneous «Submit» requests one
  grades, the others return the graded attempt.

Plain functions: they flush, never commit, and raise ``ValidationError``/``Conflict``/``NotFound``.
"""

from __future__ import annotations

import json
import random
import secrets
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, func, insert, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import NotFound

from lms.accounts import sessions
from lms.accounts.models import User
from lms.assessment import qtypes, quizzes, render
from lms.assessment.models import (
    AttemptFile,
    AttemptState,
    OverdueHandling,
    Question,
    QuestionAttempt,
    QuestionCategory,
    QuestionVersion,
    Quiz,
    QuizAttempt,
    QuizGrade,
    QuizOverride,
)
from lms.core import audit
from lms.core.db import DriverStatement, alone, transaction_open, utcnow
from lms.core.errors import Conflict, ValidationError
from lms.core.i18n import fmt_number
from lms.core.pagecache import VersionedCache
from lms.courses import gradebook, grading
from lms.courses import permissions as perm
from lms.courses.content import mark_complete, sanitize
from lms.courses.models import Activity, CompletionRule, CourseRun, Enrolment
from lms.courses.revisions import bump
from lms.extensions import db

#: The largest saved answer of one question (the form values as JSON).
MAX_VALUES_BYTES = 256 * 1024
#: Answer states once graded by a person, or waiting for one.
GRADED_BY_PERSON, WAITING = "graded", qtypes.MANUAL


class AttemptClosed(Conflict):
    """The attempt takes no more answers (submitted, past its deadline, or abandoned)."""


def prefix(slot: int) -> str:
    """The form-field prefix of a question on the attempt's page."""
    return f"q{slot}"


# --- start ----------------------------------------------------------------------------------------

def group_of(run_id: int, user_id: int) -> int | None:
    """The learner's group in the run (overrides may be by group)."""
    return db.session.scalar(select(Enrolment.group_id).where(Enrolment.run_id == run_id, Enrolment.user_id == user_id))


def own_attempt(attempt_id: int, user_id: int) -> QuizAttempt:
    """The user's own attempt with its questions and their versions loaded (anyone else's is not found: its
    existence is not disclosed)."""
    attempt = db.session.scalar(select(QuizAttempt).where(QuizAttempt.id == attempt_id)
                                .options(selectinload(QuizAttempt.questions).selectinload(QuestionAttempt.version)))
    if attempt is None or attempt.user_id != user_id:
        raise NotFound()
    return attempt


def reads_as_staff(attempt: QuizAttempt, user) -> bool:
    """Who reads an attempt (its review, its files): its learner (False) or the run's teachers and managers
    (True); to anyone else it does not exist (NotFound)."""
    if attempt.user_id == user.id:
        return False
    run = db.session.get(CourseRun, attempt.run_id)
    if perm.can_enrol_others(user, run):  # the run's teachers and its host's managers
        return True
    raise NotFound()


def for_reading(attempt_id: int, user) -> tuple[QuizAttempt, bool]:
    """The attempt with its questions and whether ``user`` reads it as staff (``reads_as_staff``)."""
    attempt = db.session.scalar(select(QuizAttempt).where(QuizAttempt.id == attempt_id)
                                .options(selectinload(QuizAttempt.questions).selectinload(QuestionAttempt.version)))
    if attempt is None:
        raise NotFound()
    return attempt, reads_as_staff(attempt, user)


def grace_until(attempt: QuizAttempt) -> datetime | None:
    """Until when an attempt past its deadline may still be submitted (None: no grace period)."""
    return attempt.deadline + timedelta(seconds=attempt.grace) if attempt.deadline and attempt.grace else None


def answered(attempt: QuizAttempt) -> dict[int, bool]:
    """Whether each question of the attempt has an answer saved (a value, or an essay's file), by slot."""
    with_files = set(db.session.scalars(select(QuestionAttempt.slot).join(AttemptFile).where(
        QuestionAttempt.attempt_id == attempt.id)))
    return {qa.slot: qa.slot in with_files or bool(qa.response and any(
        v not in ("", [], None) for v in qa.response.values())) for qa in attempt.questions}


def open_attempt(quiz_id: int, user_id: int) -> QuizAttempt | None:
    return db.session.scalar(select(QuizAttempt).where(QuizAttempt.quiz_id == quiz_id, QuizAttempt.user_id == user_id,
                                                       QuizAttempt.state.in_(AttemptState.OPEN)))


def attempts_of(quiz_id: int, user_id: int) -> list[QuizAttempt]:
    return list(db.session.scalars(select(QuizAttempt).where(QuizAttempt.quiz_id == quiz_id,
                                                             QuizAttempt.user_id == user_id)
                                   .order_by(QuizAttempt.number)))


def _refusal(eff: quizzes.Effective, used: int, has_questions: bool, now: datetime) -> str | None:
    """The one rule of who may start now: the learner's dates, attempts left, and questions to give."""
    if eff.opens_at and now < eff.opens_at:
        return _("The quiz is not open yet.")
    if eff.closes_at and now >= eff.closes_at:
        return _("The quiz is closed.")
    if eff.attempts_allowed and used >= eff.attempts_allowed:
        return _("No attempts left.")
    if not has_questions:
        return _("The quiz has no questions yet.")
    return None


@dataclass
class LearnerStatus:
    """What a person sees of a quiz for themselves, on the quiz page and in the API."""

    effective: quizzes.Effective  # their dates, time limit and attempts (overrides applied)
    attempts: list[QuizAttempt]  # theirs, not previews; overdue ones closed (``closed``: the caller commits)
    open_attempt: QuizAttempt | None  # the one to continue (never a teacher's preview)
    reason: str | None  # why a learner may not start a new attempt now
    grade: float | None
    passed: bool | None
    closed: bool

    @property
    def may_start(self) -> bool:  # for a learner: a new attempt, or the open one continued
        return self.reason is None or self.open_attempt is not None


def learner_status(quiz: Quiz, user_id: int, now: datetime, *, group_id: int | None, learner: bool) -> LearnerStatus:
    """``user_id``'s attempts, limits (their group's overrides: ``group_id``) and grade of the quiz; ``reason``
    only for a learner of the run."""
    mine = attempts_of(quiz.id, user_id)
    closed = False
    for attempt in mine:
        closed |= close_if_overdue(attempt, now)
    own = [a for a in mine if not a.is_preview]
    eff = quizzes.effective(quiz, user_id, group_id)
    reason = _refusal(eff, len(own), bool(quiz.slots), now) if learner else None
    grade = db.session.scalar(select(QuizGrade.grade).where(QuizGrade.quiz_id == quiz.id,
                                                            QuizGrade.user_id == user_id))
    return LearnerStatus(eff, own, next((a for a in own if a.state in AttemptState.OPEN), None), reason, grade,
                         passed(quiz, grade), closed)


def _versions(pairs_latest: list[int], pinned: list[tuple[int, int]]) -> dict[int, QuestionVersion]:
    """{question id: version} for questions taken at their current version and at a pinned one."""
    conditions = []
    if pairs_latest:
        conditions.append(and_(QuestionVersion.question_id.in_(pairs_latest),
                               QuestionVersion.version == Question.current_version))
    if pinned:
        conditions.append(tuple_(QuestionVersion.question_id, QuestionVersion.version).in_(pinned))
    if not conditions:
        return {}
    rows = db.session.scalars(select(QuestionVersion).join(Question, Question.id == QuestionVersion.question_id)
                              .where(or_(*conditions)))
    return {v.question_id: v for v in rows}


@dataclass(frozen=True)
class _Version:
    id: int
    question_id: int
    definition: dict


@dataclass(frozen=True)
class Blueprint:
    """What every attempt of a quiz is drawn from: the slots, the versions of their questions and the pools
    of the random slots. Kept per process and checked on every start against a stamp of the quiz (its
    ``rev``, bumped by changes of its slots and overrides) and of the banks it draws from (how many
    questions and when one last changed: a new version, a move, a new question)."""

    rev: int
    banks: tuple[int, ...]
    stamp: tuple
    #: (slot id, page, fixed version or None, pool key or None, max mark)
    slots: tuple[tuple[int, int, _Version | None, tuple | None, float], ...]
    pools: dict[tuple, tuple[_Version, ...]]
    has_overrides: bool


_BLUEPRINTS = VersionedCache(500)


def _stamp(bank_ids: tuple[int, ...]) -> tuple:
    if not bank_ids:
        return ()
    return tuple(db.session.execute(_stamp_query(bank_ids)).first())


def _stamp_query(bank_ids: tuple[int, ...]):
    return (select(func.count(Question.id).label("n"), func.max(Question.updated_at).label("latest"),
                   func.count(func.distinct(Question.category_id)).label("categories"))
            .where(Question.bank_id.in_(bank_ids)))


def _attempts_and_blueprint(quiz: Quiz, user_id: int) -> tuple[list, Blueprint | None]:
    """The learner's attempts and — when the process has the quiz's blueprint for its ``rev`` — whether it still
    holds, in one statement: the banks' stamp joined with the attempts (one row even with no attempt). Returns
    the attempts and the blueprint, or None when it must be built again."""
    cached = _BLUEPRINTS.get(quiz.id)
    if cached is None or cached.rev != quiz.rev or not cached.banks:
        return db.session.connection().execute(_ATTEMPT_ROWS, {"quiz": quiz.id, "user": user_id}).all(), None
    stamp = _stamp_query(cached.banks).subquery()
    a = QuizAttempt.__table__
    rows = db.session.connection().execute(
        select(stamp.c.n, stamp.c.latest, stamp.c.categories, a.c.id, a.c.number, a.c.state, a.c.is_preview)
        .select_from(stamp.outerjoin(a, and_(a.c.quiz_id == quiz.id, a.c.user_id == user_id)))).all()
    attempts_ = [r for r in rows if r.id is not None]
    return attempts_, cached if tuple(rows[0][:3]) == cached.stamp else None


def blueprint(quiz: Quiz) -> Blueprint:
    """The quiz's blueprint, rebuilt when the quiz or its banks changed (one statement when it did not)."""
    cached = _BLUEPRINTS.get(quiz.id)
    if cached is not None and cached.rev == quiz.rev and cached.stamp == _stamp(cached.banks):
        return cached
    slots = list(quiz.slots)
    fixed = _versions([s.question_id for s in slots if s.question_id and s.version is None],
                      [(s.question_id, s.version) for s in slots if s.question_id and s.version is not None])
    if any(s.question_id and s.question_id not in fixed for s in slots):
        raise Conflict(_("A question of the quiz is missing from its bank."))
    pools: dict[tuple, list[int]] = {}
    banks = {v.question.bank_id for v in fixed.values()}
    for s in slots:
        if s.question_id is None:
            key = (s.category_id, s.include_subcategories, tuple(s.tags or ()))
            if key not in pools:
                category = db.session.get(QuestionCategory, s.category_id)
                banks.add(category.bank_id)
                pools[key] = quizzes.candidates(category, s.include_subcategories, s.tags or ())
    drawable = _versions(sorted({q for qids in pools.values() for q in qids}), [])
    plan = tuple((s.id, s.page, _Version(fixed[s.question_id].id, s.question_id, fixed[s.question_id].definition)
                  if s.question_id else None,
                  None if s.question_id else (s.category_id, s.include_subcategories, tuple(s.tags or ())),
                  s.max_mark) for s in slots)
    has_overrides = db.session.scalar(select(func.count()).select_from(QuizOverride)
                                      .where(QuizOverride.quiz_id == quiz.id)) > 0
    bank_ids = tuple(sorted(banks))
    made = Blueprint(quiz.rev, bank_ids, _stamp(bank_ids), plan,
                     {key: tuple(_Version(drawable[q].id, q, drawable[q].definition) for q in qids if q in drawable)
                      for key, qids in pools.items()}, has_overrides)
    _BLUEPRINTS.put(quiz.id, made)
    return made


_ATTEMPT_ROWS = select(QuizAttempt.__table__.c.id, QuizAttempt.__table__.c.number, QuizAttempt.__table__.c.state,
                       QuizAttempt.__table__.c.is_preview).where(
    QuizAttempt.__table__.c.quiz_id == bindparam("quiz"), QuizAttempt.__table__.c.user_id == bindparam("user"))
_INSERT_ATTEMPT = insert(QuizAttempt.__table__).returning(QuizAttempt.__table__.c.id)
_INSERT_QUESTIONS = insert(QuestionAttempt.__table__)


def start(quiz: Quiz, user: User, *, group_id: int | None = None, preview: bool = False,
          now: datetime | None = None, rng: random.Random | None = None) -> QuizAttempt:
    """The learner's open attempt, or a new one (``Conflict`` with the reason when they may not start)."""
    return db.session.get(QuizAttempt, start_id(quiz, user, group_id=group_id, preview=preview, now=now, rng=rng))


def start_id(quiz: Quiz, user: User, *, group_id: int | None = None, preview: bool = False,
             now: datetime | None = None, rng: random.Random | None = None) -> int:
    """``start``, returning only the attempt's id (the «Start» button needs no more).

    The hot path of a thousand learners pressing «Start» in the same minute: the learner's attempts in one
    statement, the blueprint (one statement when unchanged), the overrides only when the quiz has any, and
    the attempt with all its questions in two INSERTs — in a savepoint only when the request has written
    before (otherwise a lost race rolls back nothing else)."""
    now = now or utcnow()
    rows, plan = _attempts_and_blueprint(quiz, user.id)
    current = next((r for r in rows if r.state in AttemptState.OPEN), None)
    if current is not None:
        attempt = db.session.get(QuizAttempt, current.id)
        close_if_overdue(attempt, now)
        if attempt.state in AttemptState.OPEN:
            return attempt.id
    plan = plan or blueprint(quiz)
    eff = quizzes.effective(quiz, user.id, group_id) if plan.has_overrides else quizzes.Effective(
        quiz.opens_at, quiz.closes_at, quiz.time_limit, quiz.attempts_allowed)
    # a teacher's preview ignores the dates and the attempts allowed
    reason = _refusal(quizzes.Effective(None, None, None, 0) if preview else eff,
                      sum(1 for r in rows if not r.is_preview), bool(plan.slots), now)
    if reason:
        raise Conflict(reason)
    rng = rng or random.Random(secrets.randbits(64))
    used = {v.question_id for _s, _p, v, _k, _m in plan.slots if v is not None}
    chosen: list[tuple[int, int, _Version, float]] = []
    for slot_id, page, version, key, mark in plan.slots:
        if version is None:
            pool = [v for v in plan.pools.get(key, ()) if v.question_id not in used]
            if not pool:
                raise Conflict(_("The quiz's category has too few questions for its random slots."))
            version = rng.choice(pool)
            used.add(version.question_id)
        chosen.append((slot_id, page, version, mark))
    deadline = now + timedelta(seconds=eff.time_limit) if eff.time_limit else None
    if eff.closes_at and not preview and (deadline is None or eff.closes_at < deadline):
        deadline = eff.closes_at
    pages: dict[int, list] = {}
    for item in chosen:
        pages.setdefault(item[1], []).append(item)
    ordered = []
    for page_number, (_page, members) in enumerate(sorted(pages.items()), start=1):
        if quiz.shuffle_questions:
            rng.shuffle(members)
        ordered += [(page_number, item) for item in members]
    number = max((r.number for r in rows), default=0) + 1
    conn = db.session.connection()
    wrote_before = transaction_open(conn)
    try:
        with db.session.begin_nested() if wrote_before else nullcontext():
            attempt_id = conn.execute(_INSERT_ATTEMPT, {
                "quiz_id": quiz.id, "run_id": quiz.run_id, "user_id": user.id, "number": number,
                "state": AttemptState.IN_PROGRESS, "started_at": now, "deadline": deadline,
                "grace": quiz.grace_period if quiz.overdue == OverdueHandling.GRACE else 0, "overdue": quiz.overdue,
                "finished_at": None, "sum_marks": None, "max_marks": sum(m for *_x, m in chosen), "page": 1,
                "pages": len(pages), "is_preview": preview}).scalar_one()
            conn.execute(_INSERT_QUESTIONS, [{
                "attempt_id": attempt_id, "slot": n, "page": page_number, "quiz_slot_id": slot_id,
                "question_id": version.question_id, "version_id": version.id, "max_mark": mark,
                "order": render.make_order(version.definition, rng, shuffle_answers=quiz.shuffle_answers),
                "response": None, "seq": 0, "saved_at": None, "fraction": None, "state": "todo", "tries": 0,
                "checked": False, "flagged": False, "comment": "", "graded_by_id": None, "graded_at": None}
                for n, (page_number, (slot_id, _page, version, mark)) in enumerate(ordered, start=1)])
    except IntegrityError:  # another request of the same learner started it first
        if not wrote_before:
            db.session.rollback()
        current = open_attempt(quiz.id, user.id)
        if current is None:
            raise Conflict(_("The attempt could not be started; try again.")) from None
        return current.id
    return attempt_id


def question_numbers(attempt: QuizAttempt) -> dict[int, int]:
    """Question numbers as the learner sees them, by slot: descriptions take none."""
    numbers, n = {}, 0
    for qa in attempt.questions:
        if qa.version.definition.get("qtype") != "description":
            n += 1
            numbers[qa.slot] = n
    return numbers


# --- deadlines ------------------------------------------------------------------------------------

def seconds_left(attempt: QuizAttempt, now: datetime) -> int | None:
    return _seconds_to(attempt.deadline, now)


def _seconds_to(deadline: datetime | None, now: datetime) -> int | None:
    return None if deadline is None else max(0, int((deadline - now).total_seconds()))


def close_if_overdue(attempt: QuizAttempt, now: datetime | None = None) -> bool:
    """Apply the quiz's choice to an attempt past its deadline: submit it with what was saved by then, move it
    into its grace period, or abandon it. Returns whether it changed."""
    now = now or utcnow()
    if attempt.state not in AttemptState.OPEN or attempt.deadline is None or now <= attempt.deadline:
        return False
    if attempt.overdue == OverdueHandling.AUTOSUBMIT:
        return _finish(attempt, at=attempt.deadline, by=None)
    if attempt.overdue == OverdueHandling.GRACE and now <= attempt.deadline + timedelta(seconds=attempt.grace):
        if attempt.state == AttemptState.OVERDUE:
            return False
        return _flip(attempt, AttemptState.IN_PROGRESS, AttemptState.OVERDUE)
    return _flip(attempt, attempt.state, AttemptState.ABANDONED, finished_at=now)


def _flip(attempt: QuizAttempt, old: str, new: str, **values) -> bool:
    """Change the state only if it is still ``old`` (one of racing requests wins)."""
    result = db.session.execute(update(QuizAttempt).where(QuizAttempt.id == attempt.id, QuizAttempt.state == old)
                                .values(state=new, **values).execution_options(synchronize_session=False))
    db.session.refresh(attempt)
    return result.rowcount == 1


def close_overdue(now: datetime | None = None) -> int:
    """The periodic job: close every attempt past its deadline (and its grace period). Returns how many."""
    now = now or utcnow()
    ids = db.session.scalars(select(QuizAttempt.id).where(QuizAttempt.state.in_(AttemptState.OPEN),
                                                          QuizAttempt.deadline < now)
                             .order_by(QuizAttempt.id)).all()
    n = 0
    for attempt_id in ids:
        attempt = db.session.get(QuizAttempt, attempt_id)
        if close_if_overdue(attempt, now):
            n += 1
    db.session.flush()
    return n


# --- saving ---------------------------------------------------------------------------------------

@dataclass
class Saved:
    slot: int
    #: the sequence number the server now holds for the question
    seq: int
    applied: bool


def _clean_values(raw, slot: int) -> dict[str, Any]:
    """A question's form values: {suffix: text or [texts]}, suffix "" or "-N"."""
    if not isinstance(raw, dict):
        raise ValidationError(_("Question %(n)d: the answer is not in the expected form.", n=slot),
                              field=f"answers-{slot}")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        key = str(key)
        if key and not (key.startswith("-") and key[1:].isdecimal()):
            raise ValidationError(_("Question %(n)d: the answer is not in the expected form.", n=slot),
                                  field=f"answers-{slot}")
        if isinstance(value, list):
            if not all(isinstance(v, str | int) for v in value):
                raise ValidationError(_("Question %(n)d: the answer is not in the expected form.", n=slot),
                                      field=f"answers-{slot}")
            out[key] = [str(v) for v in value]
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            out[key] = str(value)
        elif value is not None:
            raise ValidationError(_("Question %(n)d: the answer is not in the expected form.", n=slot),
                                  field=f"answers-{slot}")
    text = json.dumps(out, ensure_ascii=False)
    try:
        size = len(text.encode())  # a lone surrogate (broken UTF-16 from a client) cannot be stored
    except UnicodeEncodeError:
        size = -1
    if size < 0 or "\x00" in text or "\\u0000" in text:
        raise ValidationError(_("Question %(n)d: the answer is not in the expected form.", n=slot),
                              field=f"answers-{slot}")
    if size > MAX_VALUES_BYTES:
        raise ValidationError(_("Question %(n)d: the answer is longer than %(k)d KB.", n=slot,
                                k=MAX_VALUES_BYTES // 1024), field=f"answers-{slot}")
    return out


def values_from_form(form, slot: int) -> dict[str, Any]:
    """A question's values from a posted page: the fields named ``q<slot>`` and ``q<slot>-N``."""
    name = prefix(slot)
    out: dict[str, Any] = {}
    for key in form:
        if key == name or (key.startswith(name + "-") and key[len(name) + 1:].isdecimal()):
            values = form.getlist(key)
            out[key[len(name):]] = values if len(values) > 1 else values[0]
    return out


def _form(values: dict | None, slot: int) -> MultiDict:
    name = prefix(slot)
    form = MultiDict()
    for suffix, value in (values or {}).items():
        for v in (value if isinstance(value, list) else [value]):
            form.add(name + suffix, v)
    return form


def response_of(qa: QuestionAttempt, definition: dict | None = None) -> Any:
    """The saved answer in the bank's terms (what ``qtypes.grade`` reads)."""
    definition = definition if definition is not None else qa.version.definition
    return render.response_from_form(definition, qa.order, _form(qa.response, qa.slot), prefix(qa.slot))


_ATTEMPTS, _QUESTIONS, _QUIZZES = QuizAttempt.__table__, QuestionAttempt.__table__, Quiz.__table__
#: Built once (saves are the hottest path of a quiz): Core statements on the tables, parameters bound per call.
_SAVE_ROW = (select(_ATTEMPTS.c.user_id, _ATTEMPTS.c.state, _ATTEMPTS.c.deadline, _ATTEMPTS.c.page,
                    _QUIZZES.c.navigation)
             .select_from(_ATTEMPTS.join(_QUIZZES, _QUIZZES.c.id == _ATTEMPTS.c.quiz_id))
             .where(_ATTEMPTS.c.id == bindparam("attempt"))
             .with_for_update(read=True, of=_ATTEMPTS))
_NOW = bindparam("now", type_=_ATTEMPTS.c.deadline.type)
#: A newer answer to a question of the owner's open attempt, before its deadline, on its current page when the
#: quiz is sequential. The share lock on the attempt's row taken in the EXISTS (``_SAVE_ROW`` takes it too) holds
#: a racing submission back until the answer is committed: a submission grades every save that got in before it.
_OPEN_FOR = (select(_ATTEMPTS.c.id).select_from(_ATTEMPTS.join(_QUIZZES, _QUIZZES.c.id == _ATTEMPTS.c.quiz_id))
             .where(_ATTEMPTS.c.id == bindparam("attempt"), _ATTEMPTS.c.user_id == bindparam("uid"),
                    _ATTEMPTS.c.state == AttemptState.IN_PROGRESS,
                    or_(_ATTEMPTS.c.deadline.is_(None), _ATTEMPTS.c.deadline >= _NOW),
                    or_(_QUIZZES.c.navigation != "sequential", _ATTEMPTS.c.page == _QUESTIONS.c.page))
             .with_for_update(read=True, of=_ATTEMPTS))
_SAVE = (update(_QUESTIONS)
         .where(_QUESTIONS.c.attempt_id == bindparam("attempt"), _QUESTIONS.c.slot == bindparam("at_slot"),
                _QUESTIONS.c.seq < bindparam("new_seq"), _QUESTIONS.c.checked.is_(False), _OPEN_FOR.exists())
         .values(response=bindparam("new_response", type_=_QUESTIONS.c.response.type),
                 seq=bindparam("new_seq"), saved_at=_NOW))
#: The common save in one statement, who is asking included (``sessions.LIVE_SESSION``); it returns the deadline
#: (for the page's timer) and the session's last touch.
_SAVE_AS = DriverStatement(
    _SAVE.where(sessions.LIVE_SESSION)
    .returning(select(_ATTEMPTS.c.deadline).where(_ATTEMPTS.c.id == bindparam("attempt")).scalar_subquery(),
               sessions.LAST_SEEN))
_STORED = select(_QUESTIONS.c.seq, _QUESTIONS.c.page, _QUESTIONS.c.checked).where(
    _QUESTIONS.c.attempt_id == bindparam("attempt"), _QUESTIONS.c.slot == bindparam("at_slot"))


def _attempt_for_save(attempt_id: int, user_id: int):
    row = db.session.connection().execute(_SAVE_ROW, {"attempt": attempt_id}).first()
    if row is None or row.user_id != user_id:
        raise NotFound()
    return row


def owned_or_404(attempt_id: int, user_id: int) -> None:
    if db.session.scalar(select(QuizAttempt.user_id).where(QuizAttempt.id == attempt_id)) != user_id:
        raise NotFound()


def refuse_closed(row, now: datetime) -> None:
    """AttemptClosed (409), saying why, once an attempt (or its row: ``state``, ``deadline``) takes no more
    answers: past its deadline, in its grace period, submitted or abandoned."""
    if row.state == AttemptState.OVERDUE or (
            row.state == AttemptState.IN_PROGRESS and row.deadline is not None and now > row.deadline):
        raise AttemptClosed(_("Time is up: answers can no longer be changed."))
    if row.state != AttemptState.IN_PROGRESS:
        raise AttemptClosed(_("The attempt is submitted: answers can no longer be changed."))


def answerable(attempt_id: int, user_id: int, now: datetime):
    """The row a save checks (the attempt's owner, state, deadline, page and navigation): NotFound for
    another's attempt, AttemptClosed once it takes no more answers."""
    row = _attempt_for_save(attempt_id, user_id)
    refuse_closed(row, now)
    return row


class SaveResult(list):
    """The saves (``Saved``), and the attempt's deadline (for the page's timer)."""

    deadline: datetime | None = None

    def seconds_left(self, now: datetime) -> int | None:
        return _seconds_to(self.deadline, now)


def _cleaned(answers: list[tuple[int, int, Any]]) -> list[tuple[int, int, dict]]:
    cleaned = []
    for slot, seq, values in answers:
        if not isinstance(slot, int) or isinstance(slot, bool) or not 1 <= slot < 2**31:
            raise ValidationError(_("Choose one of the options."), field="slot")
        if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq < 2**31:
            raise ValidationError(_("Question %(n)d: the sequence number must be a positive whole number.", n=slot),
                                  field=f"answers-{slot}")
        cleaned.append((slot, seq, _clean_values(values, slot)))
    return cleaned


def save_as(attempt_id: int, who: dict, answers: list[tuple[int, int, Any]], now: datetime) -> tuple[SaveResult, int]:
    """The common case of a save, without reading first: one statement per answer that also checks who is asking
    (``who``: ``sessions.live_session_params``), each a transaction by itself (``db.alone``), so an answer stored
    stays stored. Returns the saves applied and how many answers they are; ``save`` takes the rest (an answer
    refused here for any reason: not the owner's, closed, another page, an old sequence number, a bad value)
    and says why. A live session is touched (``sessions.seen``)."""
    out = SaveResult()
    try:
        cleaned = _cleaned(answers)
    except ValidationError:
        return out, 0  # ``save`` first tells another's or a closed attempt from a bad value
    last_seen = None
    with alone(db) as first:
        for slot, seq, values in cleaned:
            row = first(_SAVE_AS, {**who, "attempt": attempt_id, "at_slot": slot, "new_seq": seq,
                                   "new_response": values, "now": now})
            if row is None:
                break
            out.deadline, last_seen = row
            out.append(Saved(slot, seq, True))
    if last_seen is not None:
        sessions.seen(who["sid"], last_seen, now)
    return out, len(out)


def save(attempt_id: int, user_id: int, answers: list[tuple[int, int, Any]], *,
         now: datetime | None = None) -> SaveResult:
    """Store answers [(slot, client sequence number, form values)] of the learner's open attempt."""
    now = now or utcnow()
    row = answerable(attempt_id, user_id, now)
    out = SaveResult()
    out.deadline = row.deadline
    cleaned = _cleaned(answers)
    conn = db.session.connection()
    sequential = row.navigation == "sequential"
    for slot, seq, values in cleaned:
        params = {"attempt": attempt_id, "uid": user_id, "at_slot": slot, "new_seq": seq, "new_response": values,
                  "now": now}
        if conn.execute(_SAVE, params).rowcount == 1:
            out.append(Saved(slot, seq, True))
            continue
        stored = conn.execute(_STORED, params).first()
        if stored is None:
            raise ValidationError(_("The attempt has no question %(n)d.", n=slot), field=f"answers-{slot}")
        if sequential and stored.page != row.page:
            raise AttemptClosed(_("This quiz is answered page by page: question %(n)d is not on the current page.",
                                  n=slot))
        if stored.checked:
            raise AttemptClosed(_("Question %(n)d is already checked: its answer is final.", n=slot))
        if stored.seq < seq:  # the attempt closed between the two statements
            raise AttemptClosed(_("The attempt is submitted: answers can no longer be changed."))
        out.append(Saved(slot, stored.seq, False))  # a retry of a save already stored, or an older one
    return out


def _in_order(attempt: QuizAttempt, page: int, *, moving: bool) -> None:
    """Pages exist from 1 to the attempt's number; a sequential attempt shows only its current page and moves
    on only to the next one."""
    if not 1 <= page <= attempt.pages:
        raise ValidationError(_("From %(low)d to %(high)d.", low=1, high=attempt.pages), field="page")
    if attempt.quiz.navigation != "sequential":
        return
    if page < attempt.page:
        raise AttemptClosed(_("This quiz is answered page by page: earlier pages cannot be opened again."))
    if page > attempt.page + moving:
        raise AttemptClosed(_("This quiz is answered page by page: pages cannot be skipped."))


def shown_page(attempt: QuizAttempt, asked: int | None) -> int:
    """The page whose questions are shown: the current one unless another is asked for, which any page of a
    free quiz may be, and only the current one of a sequential quiz (``_in_order``)."""
    if asked is None:
        return attempt.page
    _in_order(attempt, asked, moving=False)
    return asked


def go_to_page(attempt: QuizAttempt, page: int, *, user_id: int, now: datetime | None = None) -> int:
    """Move an open attempt to ``page``: a free one to any page, a sequential one on to the next (never back,
    never skipping; the move is stored). Returns the page."""
    now = now or utcnow()
    if attempt.user_id != user_id:
        raise NotFound()
    refuse_closed(attempt, now)
    _in_order(attempt, page, moving=True)
    if attempt.quiz.navigation == "sequential" and page == attempt.page + 1:
        db.session.execute(update(QuizAttempt).where(QuizAttempt.id == attempt.id, QuizAttempt.page == page - 1)
                           .values(page=page).execution_options(synchronize_session=False))
        db.session.refresh(attempt)
        return attempt.page
    return page


# --- interactive behaviour ------------------------------------------------------------------------

def outcome_of(qa: QuestionAttempt, definition: dict | None = None) -> qtypes.Outcome:
    """The saved answer graded; an essay with attached files and no text is an answer for a teacher."""
    definition = definition if definition is not None else qa.version.definition
    outcome = qtypes.grade(definition, response_of(qa, definition))
    if outcome.state == qtypes.UNANSWERED and definition.get("qtype") == "essay" and qa.files:
        return qtypes.Outcome(None, qtypes.MANUAL)
    return outcome


def _penalised(fraction: float | None, tries: int, penalty: float) -> float | None:
    if fraction is None:
        return None
    return max(0.0, fraction - penalty * max(0, tries - 1)) if fraction > 0 else fraction


def check(attempt: QuizAttempt, slot: int, *, user_id: int, now: datetime | None = None) -> QuestionAttempt:
    """Interactive behaviour: grade the saved answer of one question now. A wrong answer may be tried again
    while tries remain, each extra try costing the quiz's penalty; a right one or the last try settles it."""
    now = now or utcnow()
    if attempt.user_id != user_id:
        raise NotFound()
    quiz = attempt.quiz
    if quiz.behaviour != "interactive":
        raise Conflict(_("This quiz gives feedback after the attempt is submitted."))
    refuse_closed(attempt, now)
    qa = next((q for q in attempt.questions if q.slot == slot), None)
    if qa is None:
        raise ValidationError(_("The attempt has no question %(n)d.", n=slot), field="slot")
    db.session.refresh(qa)  # saves are written with UPDATE statements
    if quiz.navigation == "sequential" and qa.page != attempt.page:
        raise AttemptClosed(_("This quiz is answered page by page: question %(n)d is not on the current page.",
                              n=slot))
    if qa.checked:
        raise AttemptClosed(_("Question %(n)d is already checked: its answer is final.", n=slot))
    outcome = outcome_of(qa)
    if outcome.state == qtypes.UNANSWERED:
        raise ValidationError(_("Answer the question first."), field=prefix(slot))
    qa.tries += 1
    if outcome.fraction is None or outcome.state == qtypes.CORRECT or qa.tries >= quiz.tries:
        qa.checked = True
    qa.fraction = _penalised(outcome.fraction, qa.tries, quiz.penalty)
    qa.state = outcome.state
    db.session.flush()
    return qa


# --- submitting and grading ----------------------------------------------------------------------

def submit(attempt: QuizAttempt, *, user_id: int, now: datetime | None = None) -> QuizAttempt:
    """Submit the attempt and grade it. Submitting again returns the same graded attempt."""
    now = now or utcnow()
    if attempt.user_id != user_id:
        raise NotFound()
    close_if_overdue(attempt, now)  # past the deadline: submitted automatically, or abandoned
    if attempt.state == AttemptState.ABANDONED:
        raise AttemptClosed(_("Time is up: the attempt was not submitted in time and does not count."))
    if attempt.state != AttemptState.FINISHED:
        _finish(attempt, at=now, by=None)
    return attempt


def _finish(attempt: QuizAttempt, *, at: datetime, by: User | None) -> bool:
    """Close the attempt (if it is still open: only one of racing requests does) and grade it."""
    won = db.session.execute(update(QuizAttempt).where(QuizAttempt.id == attempt.id,
                                                       QuizAttempt.state.in_(AttemptState.OPEN))
                             .values(state=AttemptState.FINISHED, finished_at=at)
                             .execution_options(synchronize_session=False)).rowcount == 1
    db.session.refresh(attempt)
    if not won:
        return False
    quiz = attempt.quiz
    for qa in attempt.questions:
        db.session.refresh(qa)  # the saves were written with UPDATE statements
        if qa.checked and qa.fraction is not None:
            continue
        outcome = outcome_of(qa)
        qa.state = outcome.state
        qa.fraction = outcome.fraction
        if quiz.behaviour == "interactive" and outcome.fraction is not None:
            qa.fraction = _penalised(outcome.fraction, qa.tries + 1, quiz.penalty)
    _total(attempt)
    db.session.flush()
    if not attempt.is_preview:
        update_grade(quiz, attempt.user_id, by=by)
    return True


def _total(attempt: QuizAttempt) -> None:
    graded = [q for q in attempt.questions if qtypes.qtype(q.version.definition["qtype"]).graded]
    if any(q.state == WAITING for q in graded):
        attempt.sum_marks = None
    else:
        attempt.sum_marks = round(sum((q.fraction or 0.0) * q.max_mark for q in graded), 7)
    attempt.max_marks = sum(q.max_mark for q in graded)


def attempt_grade(quiz: Quiz, attempt: QuizAttempt) -> float | None:
    """The attempt's grade on the quiz's scale (None while a question waits for a person)."""
    if attempt.sum_marks is None:
        return None
    if not attempt.max_marks:
        return 0.0
    return round(max(attempt.sum_marks, 0.0) / attempt.max_marks * quiz.max_grade, 2)


def update_grade(quiz: Quiz, user_id: int, *, by: User | None) -> float | None:
    """Recompute the learner's quiz grade by the grading method and hand it to the gradebook and completion."""
    finished = [a for a in db.session.scalars(select(QuizAttempt).where(
        QuizAttempt.quiz_id == quiz.id, QuizAttempt.user_id == user_id, QuizAttempt.is_preview.is_(False),
        QuizAttempt.state == AttemptState.FINISHED).order_by(QuizAttempt.number))]
    grades = [g for g in (attempt_grade(quiz, a) for a in finished) if g is not None]
    value = None
    if grades:
        value = {"highest": max(grades), "average": round(sum(grades) / len(grades), 2), "first": grades[0],
                 "last": grades[-1]}[quiz.grade_method]
    row = db.session.scalar(select(QuizGrade).where(QuizGrade.quiz_id == quiz.id, QuizGrade.user_id == user_id))
    old = row.grade if row is not None else None
    if value is None and row is not None:
        db.session.delete(row)
    elif value is not None:
        if row is None:
            row = QuizGrade(quiz_id=quiz.id, user_id=user_id, grade=value)
            db.session.add(row)
        row.grade, row.updated_at = value, utcnow()
    db.session.flush()
    activity = db.session.get(Activity, quiz.activity_id)
    if old != value:
        actor = by or db.session.get(User, user_id)
        gradebook.log_change(quiz.run_id, user_id, activity.title, _fmt(old), _fmt(value), by=actor)
        bump(db.session, learners={(quiz.run_id, user_id)})
    submitted = bool(finished) and activity.completion == CompletionRule.SUBMITTED
    passing = activity.completion == CompletionRule.GRADED and value is not None and passed(quiz, value) is not False
    if submitted or passing:
        mark_complete(activity, user_id)
    return value


def _fmt(value: float | None) -> str | None:
    return None if value is None else f"{value:g}"


def passed(quiz: Quiz, grade: float | None) -> bool | None:
    if grade is None or quiz.pass_grade is None:
        return None
    return grade >= quiz.pass_grade - 1e-9


# --- review --------------------------------------------------------------------------------------

def review_moment(quiz: Quiz, attempt: QuizAttempt, now: datetime, closes_at: datetime | None = None) -> str:
    if attempt.state in AttemptState.OPEN:
        return "during"
    if attempt.finished_at and now <= attempt.finished_at + timedelta(seconds=quizzes.IMMEDIATELY_SECONDS):
        return "immediately"
    closes_at = closes_at if closes_at is not None else quiz.closes_at
    if closes_at is None or now < closes_at:
        return "open"
    return "closed"


def review_items(quiz: Quiz, attempt: QuizAttempt, now: datetime, *, staff: bool = False,
                 closes_at: datetime | None = None) -> frozenset[str]:
    """What the learner may see of the attempt now (staff and previews: everything)."""
    if staff or attempt.is_preview:
        return frozenset(quizzes.REVIEW_ITEMS)
    moment = review_moment(quiz, attempt, now, closes_at)
    if moment == "during" and quiz.behaviour != "interactive":
        return frozenset()
    return frozenset((quiz.review or quizzes.DEFAULT_REVIEW).get(moment, ()))


def question_outcome(attempt: QuizAttempt, qa: QuestionAttempt, items: frozenset[str]) -> dict:
    """What the review options ``items`` let the learner see now of one question's result: its state, mark,
    feedback, general feedback, right answer — each key present only when allowed, nothing while the question
    is open (an interactive question shows the outcome of its last checked try). The page and the API show
    exactly this."""
    settled = attempt.state not in AttemptState.OPEN or qa.checked or qa.tries > 0
    if not settled or not items:
        return {}
    definition = qa.version.definition
    out: dict[str, Any] = {"waiting": qa.state == WAITING}
    outcome = qtypes.grade(definition, response_of(qa, definition)) \
        if "feedback" in items or "correctness" in items else None
    if "correctness" in items:
        out["state"] = qa.state
    if "marks" in items:
        out["max_mark"] = qa.max_mark
        out["mark"] = (qa.fraction or 0.0) * qa.max_mark if qa.fraction is not None else None
    if "feedback" in items:
        out["feedback"] = list(outcome.feedback) if outcome is not None else []
        out["comment"] = qa.comment
    if "general_feedback" in items:
        out["general_feedback"] = render.text_html(definition.get("general_feedback", ""), definition.get("format"),
                                                   definition.get("files"))
    if "right_answer" in items:
        out["right_answer"] = render.right_answer(definition)
    return out


# --- grading by a person, regrading -----------------------------------------------------------------

def rubric_of(qa: QuestionAttempt) -> list[dict]:
    """The rubric of the essay version this answer was given (empty: graded with a mark)."""
    definition = qa.version.definition
    return list(definition.get("rubric") or []) if definition.get("qtype") == "essay" else []


def grade_question(qa: QuestionAttempt, *, mark=None, levels: list | None = None, comment: str = "",
                   by: User) -> None:
    """A teacher's mark and comment for one answer of a submitted attempt: a mark from 0 to the question's
    maximum, or — for an essay with a rubric — a level per criterion (``levels``, indexes from 0), whose points'
    share of the best levels' sum is the share of the mark. Errors name ``mark`` or ``level-N`` (N from 1)."""
    attempt = qa.attempt
    if attempt.state != AttemptState.FINISHED:
        raise Conflict(_("Only submitted attempts are graded."))
    criteria = rubric_of(qa)
    if criteria:
        points, chosen = grading.score({"grading": grading.RUBRIC, "rubric": criteria}, levels=levels)
        qa.fraction = points / grading.rubric_maximum(criteria)
        qa.rubric_levels = chosen
    else:
        value = qtypes.parse_number(mark)  # as the grading page reads it: «7,5», «7.5»
        if value is None or not 0 <= value <= qa.max_mark:
            raise ValidationError(_("From %(low)s to %(high)s.", low="0", high=fmt_number(qa.max_mark)),
                                  field="mark")
        qa.fraction = value / qa.max_mark if qa.max_mark else 0.0
        qa.rubric_levels = None
    qa.state = GRADED_BY_PERSON
    qa.comment = sanitize(comment or "")
    qa.graded_by_id, qa.graded_at = by.id, utcnow()
    _total(attempt)
    db.session.flush()
    if not attempt.is_preview:
        update_grade(attempt.quiz, attempt.user_id, by=by)


@dataclass
class Change:
    attempt: QuizAttempt
    qa: QuestionAttempt
    old_fraction: float | None
    new_fraction: float | None
    old_mark: float
    new_mark: float
    new_version: QuestionVersion | None


def _compatible(old: dict, new: dict) -> bool:
    """Whether an attempt's arrangement of ``old`` still fits ``new`` (same type and number of choices)."""
    if old.get("qtype") != new.get("qtype"):
        return False
    if old["qtype"] in ("truefalse", "shortanswer", "numerical", "essay", "description"):
        return True  # nothing of theirs is arranged per attempt
    if old["qtype"] == "cloze" and [p["kind"] for p in old["parts"]] != [p["kind"] for p in new["parts"]]:
        return False
    for key in ("answers", "pairs", "items", "options", "parts"):
        if len(old.get(key) or []) != len(new.get(key) or []):
            return False
    return True


def regrade(quiz: Quiz, *, by: User, dry_run: bool) -> list[Change]:
    """Grade the submitted attempts again with each question's current version (when it fits the attempt) and
    the slots' current marks; answers a person graded keep their mark. Returns what changes; with ``dry_run``
    nothing is stored."""
    slots = {s.id: s for s in quiz.slots}
    finished = list(db.session.scalars(select(QuizAttempt).where(QuizAttempt.quiz_id == quiz.id,
                                                                 QuizAttempt.state == AttemptState.FINISHED)
                                       .options(selectinload(QuizAttempt.user),
                                                selectinload(QuizAttempt.questions)
                                                .selectinload(QuestionAttempt.version))
                                       .order_by(QuizAttempt.id)))
    current = {v.question_id: v for v in db.session.scalars(
        select(QuestionVersion).join(Question, Question.id == QuestionVersion.question_id).where(
            QuestionVersion.version == Question.current_version,
            Question.id.in_(select(QuestionAttempt.question_id).join(QuizAttempt).where(
                QuizAttempt.quiz_id == quiz.id))))}
    changes: list[Change] = []
    touched: set[int] = set()
    for attempt in finished:
        for qa in attempt.questions:
            version = qa.version
            newer = current.get(qa.question_id)
            use = newer if newer is not None and newer.id != version.id and \
                _compatible(version.definition, newer.definition) else version
            slot = slots.get(qa.quiz_slot_id)
            mark = slot.max_mark if slot is not None else qa.max_mark
            fraction, state = qa.fraction, qa.state
            if qa.state not in (GRADED_BY_PERSON,):
                outcome = outcome_of(qa, use.definition)
                fraction, state = outcome.fraction, outcome.state
                if quiz.behaviour == "interactive" and fraction is not None:
                    fraction = _penalised(fraction, qa.tries if qa.checked else qa.tries + 1, quiz.penalty)
            if fraction == qa.fraction and mark == qa.max_mark and use.id == version.id:
                continue
            old_mark = (qa.fraction or 0.0) * qa.max_mark
            changes.append(Change(attempt, qa, qa.fraction, fraction, round(old_mark, 7),
                                  round((fraction or 0.0) * mark, 7), use if use.id != version.id else None))
            if not dry_run:
                qa.version_id, qa.fraction, qa.state, qa.max_mark = use.id, fraction, state, mark
                db.session.flush()
                db.session.refresh(qa)
                touched.add(attempt.id)
    if not dry_run:
        users = set()
        for attempt in finished:
            if attempt.id in touched:
                _total(attempt)
                if not attempt.is_preview:
                    users.add(attempt.user_id)
        db.session.flush()
        for user_id in sorted(users):
            update_grade(quiz, user_id, by=by)
        run = db.session.get(CourseRun, quiz.run_id)
        audit.record("quiz_regraded", actor=by, organization=run.host_organization_id, obj=run,
                     activity=quiz.activity_id, changes=len(changes))
    return changes
