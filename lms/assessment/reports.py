"""What the teacher's quiz pages gather from the database: every learner's attempts (the results page and its
CSV/XLSX export), the answers waiting for a teacher, and the quiz statistics as Moodle computes them
(``lms.assessment.statistics`` does the arithmetic; this module builds its table of marks).

Plain functions reading a fixed number of statements per report, whatever the number of learners."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from lms.accounts.models import User
from lms.assessment import attempts as engine
from lms.assessment import banks, qtypes, render, statistics
from lms.assessment.forms_banks import QTYPE_LABELS
from lms.assessment.models import (
    AttemptState,
    Question,
    QuestionAttempt,
    QuestionBank,
    QuestionCategory,
    Quiz,
    QuizAttempt,
    QuizSlot,
)
from lms.core.i18n import fmt_number
from lms.courses.models import HOLDS_PLACE, Enrolment
from lms.extensions import db

ATTEMPT_STATES = {AttemptState.IN_PROGRESS: _l("In progress"),
                  AttemptState.OVERDUE: _l("Overdue: may still be submitted"),
                  AttemptState.FINISHED: _l("Submitted"),
                  AttemptState.ABANDONED: _l("Never submitted")}
#: Which attempts the statistics count (Moodle's «Calculate statistics from»).
WHICH_ATTEMPTS = {"first": _l("The first attempt of each learner"), "all": _l("All attempts")}
#: How an answer without a response shows in the response distribution.
NO_RESPONSE = _l("[no response]")


# --- slots in words ----------------------------------------------------------------------------------

class SlotWords:
    """What a slot holds, in words, with each bank's category paths read once."""

    def __init__(self) -> None:
        self._paths: dict[int, dict[int, str]] = {}

    def category(self, category_id: int) -> str:
        category = db.session.get(QuestionCategory, category_id)
        if category is None:
            return "—"
        if category.bank_id not in self._paths:
            self._paths[category.bank_id] = banks.category_paths(db.session.get(QuestionBank, category.bank_id))
        bank = db.session.get(QuestionBank, category.bank_id)
        return f"{bank.name}: {self._paths[category.bank_id].get(category.id, category.name)}"

    def random(self, slot: QuizSlot) -> str:
        text = _("Random question from the category «%(category)s»", category=self.category(slot.category_id))
        if slot.include_subcategories:
            text += " " + _("(with subcategories)")
        if slot.tags:
            text += ", " + _("tags: %(tags)s", tags=", ".join(slot.tags))
        return text

    def describe(self, slot: QuizSlot) -> str:
        return slot.question.name if slot.question_id else self.random(slot)


# --- results ------------------------------------------------------------------------------------------

@dataclass
class ResultRow:
    user: User
    group_id: int | None
    attempt: QuizAttempt | None = None
    #: On the quiz's scale (None while a question waits for a teacher, or not finished).
    grade: float | None = None
    duration: timedelta | None = None
    #: The attempt's mark per quiz slot, in the quiz's order (None: waiting for a teacher, or no such question).
    marks: list[float | None] = field(default_factory=list)

    @property
    def waiting(self) -> bool:
        return self.attempt is not None and self.attempt.state == AttemptState.FINISHED \
            and self.attempt.sum_marks is None


def _attempts_in(quiz: Quiz, group_id: int | None):
    """The quiz's attempts (previews left out), of one group's learners when ``group_id`` is given."""
    stmt = select(QuizAttempt).where(QuizAttempt.quiz_id == quiz.id, QuizAttempt.is_preview.is_(False))
    if group_id is not None:
        stmt = stmt.join(Enrolment, and_(Enrolment.run_id == quiz.run_id, Enrolment.user_id == QuizAttempt.user_id)) \
            .where(Enrolment.group_id == group_id)
    return stmt


def learners(quiz: Quiz, *, group_id: int | None = None):
    """The people the results list, by name: the learners holding a place (of the group) and whoever attempted
    (a statement, to page through)."""
    holding = select(Enrolment.user_id).where(Enrolment.run_id == quiz.run_id,
                                              Enrolment.status.in_(sorted(HOLDS_PLACE)))
    if group_id is not None:
        holding = holding.where(Enrolment.group_id == group_id)
    attempted = _attempts_in(quiz, group_id).with_only_columns(QuizAttempt.user_id)
    return select(User).where(or_(User.id.in_(holding), User.id.in_(attempted))) \
        .order_by(func.lower(User.surname), func.lower(User.name), User.id)


def result_counts(quiz: Quiz, *, group_id: int | None = None) -> tuple[int, int]:
    """(attempts, submitted attempts waiting for a teacher) of the whole list."""
    rows = _attempts_in(quiz, group_id).subquery()
    waiting = and_(rows.c.state == AttemptState.FINISHED, rows.c.sum_marks.is_(None))
    total, held = db.session.execute(select(func.count(), func.count().filter(waiting)).select_from(rows)).one()
    return total, held or 0


def results(quiz: Quiz, *, group_id: int | None = None, users: list[User] | None = None) -> list[ResultRow]:
    """A row per attempt of every learner (previews left out) and a row for each learner holding a place
    who has not attempted, by name and attempt number. ``group_id``: only that group's learners; ``users``:
    only these (a page of ``learners``)."""
    wanted = None if users is None else {u.id for u in users}
    enrolment_rows = select(Enrolment).where(Enrolment.run_id == quiz.run_id)
    if wanted is not None:
        enrolment_rows = enrolment_rows.where(Enrolment.user_id.in_(wanted))
    enrolments = {e.user_id: e for e in db.session.scalars(enrolment_rows)}
    stmt = (select(QuizAttempt).where(QuizAttempt.quiz_id == quiz.id, QuizAttempt.is_preview.is_(False))
            .options(selectinload(QuizAttempt.user), selectinload(QuizAttempt.questions))
            .order_by(QuizAttempt.user_id, QuizAttempt.number))
    if users is not None:
        stmt = stmt.where(QuizAttempt.user_id.in_([u.id for u in users]))
    slot_ids = [s.id for s in quiz.slots]
    rows: list[ResultRow] = []
    attempted = set()
    for attempt in db.session.scalars(stmt):
        enrolment = enrolments.get(attempt.user_id)
        group = enrolment.group_id if enrolment else None
        if group_id is not None and group != group_id:
            continue
        attempted.add(attempt.user_id)
        finished = attempt.state == AttemptState.FINISHED
        by_slot = {qa.quiz_slot_id: qa for qa in attempt.questions}
        marks = []
        for slot_id in slot_ids:
            qa = by_slot.get(slot_id)
            marks.append(None if qa is None or qa.fraction is None or qa.state == engine.WAITING
                         else round(qa.fraction * qa.max_mark, 7))
        rows.append(ResultRow(attempt.user, group, attempt,
                              engine.attempt_grade(quiz, attempt) if finished else None,
                              attempt.finished_at - attempt.started_at if attempt.finished_at else None, marks))
    missing = [e.user_id for e in enrolments.values() if e.status in HOLDS_PLACE and e.user_id not in attempted
               and (group_id is None or e.group_id == group_id) and (wanted is None or e.user_id in wanted)]
    if missing:
        missing = set(missing)
        people = users if users is not None else db.session.scalars(select(User).where(User.id.in_(missing)))
        for user in people:
            if user.id in missing:
                rows.append(ResultRow(user, enrolments[user.id].group_id, marks=[None] * len(slot_ids)))
    if users is not None:  # a page of ``learners``: its order, the database's
        place = {u.id: n for n, u in enumerate(users)}
        rows.sort(key=lambda r: (place[r.user.id], r.attempt.number if r.attempt else 0))
    else:
        rows.sort(key=lambda r: (r.user.surname.lower(), r.user.name.lower(), r.user.id,
                                 r.attempt.number if r.attempt else 0))
    return rows


def duration_text(value: timedelta | None) -> str:
    """«1 h 05 min», «12 min 30 s», «45 s»."""
    if value is None:
        return "—"
    seconds = max(0, int(value.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _("%(h)d h %(m)02d min", h=hours, m=minutes)
    if minutes:
        return _("%(m)d min %(s)02d s", m=minutes, s=secs)
    return _("%(s)d s", s=secs)


def _local(moment: datetime | None, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%d.%m.%Y %H:%M") if moment else ""


def result_table(quiz: Quiz, rows: list[ResultRow], zone: str) -> list[list]:
    """The export's header and rows: the results page's columns, then each question's mark."""
    head = [_("Learner"), _("Attempt"), _("State"), _("Started at"), _("Finished at"), _("Duration"),
            _("Grade (out of %(max)d)", max=quiz.max_grade)]
    head += [_("Q. %(n)d (/%(max)s)", n=n, max=fmt_number(s.max_mark)) for n, s in enumerate(quiz.slots, start=1)]
    out: list[list] = [head]
    states = {k: str(v) for k, v in ATTEMPT_STATES.items()}
    for r in rows:
        a = r.attempt
        if a is None:
            out.append([r.user.full_name, "", _("No attempts"), "", "", "", ""] + [""] * len(quiz.slots))
            continue
        state = _("Needs grading") if r.waiting else states.get(a.state, a.state)
        out.append([r.user.full_name, a.number, state, _local(a.started_at, zone), _local(a.finished_at, zone),
                    duration_text(r.duration) if r.duration is not None else "",
                    "" if r.grade is None else r.grade] + ["" if m is None else round(m, 2) for m in r.marks])
    return out


# --- grading by a person ---------------------------------------------------------------------------------

@dataclass
class GradingQueueItem:
    question: Question
    qtype: str
    waiting: int
    graded: int
    automatic: int


def _answers_stmt(quiz: Quiz):
    return (select(QuestionAttempt).join(QuizAttempt, QuizAttempt.id == QuestionAttempt.attempt_id)
            .where(QuizAttempt.quiz_id == quiz.id, QuizAttempt.is_preview.is_(False),
                   QuizAttempt.state == AttemptState.FINISHED))


def grading_queue(quiz: Quiz, *, include_automatic: bool = False) -> list[GradingQueueItem]:
    """The questions whose answers a person grades (waiting, or graded by a person already), by how many
    wait; with ``include_automatic`` every question answered in the quiz (a teacher may change any mark)."""
    counts: dict[int, dict[str, int]] = {}
    stmt = _answers_stmt(quiz).with_only_columns(QuestionAttempt.question_id, QuestionAttempt.state, func.count()) \
        .group_by(QuestionAttempt.question_id, QuestionAttempt.state)
    for question_id, state, n in db.session.execute(stmt):
        c = counts.setdefault(question_id, {"waiting": 0, "graded": 0, "automatic": 0})
        key = "waiting" if state == engine.WAITING else "graded" if state == engine.GRADED_BY_PERSON else "automatic"
        c[key] += n
    questions = {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(list(counts))))}
    out = []
    for question_id, c in counts.items():
        question = questions[question_id]
        manual = question.qtype == "essay" or c["waiting"] or c["graded"]
        if not qtypes.qtype(question.qtype).graded or not (manual or include_automatic):
            continue
        out.append(GradingQueueItem(question, question.qtype, c["waiting"], c["graded"], c["automatic"]))
    out.sort(key=lambda i: (-i.waiting, i.question.name.lower(), i.question.id))
    return out


def answers_to(quiz: Quiz, question_id: int) -> list[QuestionAttempt]:
    """Every learner's answer to the question in submitted attempts: those waiting first, then by name."""
    rows = list(db.session.scalars(_answers_stmt(quiz).where(QuestionAttempt.question_id == question_id)
                                   .options(selectinload(QuestionAttempt.attempt).selectinload(QuizAttempt.user),
                                            selectinload(QuestionAttempt.version), selectinload(QuestionAttempt.files))))
    rows.sort(key=lambda qa: (qa.state != engine.WAITING, qa.attempt.user.surname.lower(),
                              qa.attempt.user.name.lower(), qa.attempt.user_id, qa.attempt.number))
    return rows


# --- statistics -------------------------------------------------------------------------------------

@dataclass
class Distribution:
    question: Question
    #: (response in words, count, percent of the slot's answers, the credit it got as a fraction or None)
    rows: list[tuple[str, int, float, float | None]]


@dataclass
class SlotStats:
    number: int
    slot: QuizSlot
    label: str
    qtype: str
    max_mark: float
    stats: statistics.QuestionStats
    #: The slot's share of the quiz's marks, percent.
    intended_weight: float | None
    distributions: list[Distribution]


@dataclass
class QuizReport:
    which: str
    stats: statistics.QuizStats
    #: The quiz's marks (the graded slots' marks added up).
    total: float
    #: Submitted attempts left out while a question waits for a teacher.
    waiting: int
    slots: list[SlotStats]

    def percent(self, marks: float | None) -> float | None:
        """Marks as a percentage of the quiz's marks (Moodle shows the grades so)."""
        return None if marks is None or not self.total else 100 * marks / self.total


def _counted_attempts(quiz: Quiz, which: str) -> tuple[list[QuizAttempt], int]:
    finished = list(db.session.scalars(
        select(QuizAttempt).where(QuizAttempt.quiz_id == quiz.id, QuizAttempt.is_preview.is_(False),
                                  QuizAttempt.state == AttemptState.FINISHED)
        .options(selectinload(QuizAttempt.questions).selectinload(QuestionAttempt.version))
        .order_by(QuizAttempt.user_id, QuizAttempt.number)))
    if which == "first":
        seen, firsts = set(), []
        for a in finished:
            if a.user_id not in seen:
                seen.add(a.user_id)
                firsts.append(a)
        finished = firsts
    counted = [a for a in finished if a.sum_marks is not None]
    return counted, len(finished) - len(counted)


def quiz_report(quiz: Quiz, which: str = "first") -> QuizReport:
    """Moodle's quiz statistics over the submitted attempts (``first`` of each learner, or ``all``), on each
    slot's current mark; attempts with an answer waiting for a teacher are left out (and counted)."""
    which = which if which in WHICH_ATTEMPTS else "first"
    counted, waiting = _counted_attempts(quiz, which)
    words = SlotWords()
    graded_slots = []
    for number, slot in enumerate(quiz.slots, start=1):
        if slot.question_id and not qtypes.qtype(slot.question.qtype).graded:
            continue
        graded_slots.append((number, slot))
    maxima = [slot.max_mark for _n, slot in graded_slots]
    table = []
    for attempt in counted:
        by_slot = {qa.quiz_slot_id: qa for qa in attempt.questions}
        table.append([((by_slot[s.id].fraction or 0.0) * s.max_mark) if s.id in by_slot else 0.0
                      for _n, s in graded_slots])
    stats = statistics.quiz_stats(table, maxima)
    total = sum(maxima)
    names = {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(
        {qa.question_id for a in counted for qa in a.questions})))} if counted else {}
    by_slot_answers: dict[int | None, list[QuestionAttempt]] = {}
    for a in counted:
        for qa in a.questions:
            by_slot_answers.setdefault(qa.quiz_slot_id, []).append(qa)
    slots = []
    for (number, slot), qstats in zip(graded_slots, stats.questions, strict=True):
        slots.append(SlotStats(number, slot, words.describe(slot),
                               slot.question.qtype if slot.question_id else "random", slot.max_mark, qstats,
                               100 * slot.max_mark / total if total else None,
                               _distributions(by_slot_answers.get(slot.id, []), names)))
    return QuizReport(which, stats, total, waiting, slots)


def _distributions(answers: list[QuestionAttempt], questions: dict[int, Question]) -> list[Distribution]:
    """Per question drawn in the slot: each response in words with its count, share and credit. Free-text
    answers (essays) are not grouped: each is different."""
    by_question: dict[int, list[QuestionAttempt]] = {}
    for qa in answers:
        by_question.setdefault(qa.question_id, []).append(qa)
    out = []
    for question_id, qas in sorted(by_question.items(), key=lambda kv: (questions[kv[0]].name.lower(), kv[0])):
        question = questions[question_id]
        if question.qtype == "essay":
            continue
        texts, credit = [], {}
        for qa in qas:
            definition = qa.version.definition
            text = render.response_text(definition, engine.response_of(qa, definition)) \
                or str(NO_RESPONSE)
            texts.append(text)
            credit.setdefault(text, qa.fraction)
        rows = [(text, count, percent, credit.get(text))
                for text, count, percent in statistics.response_distribution(texts)]
        out.append(Distribution(question, rows))
    return out


def report_sheets(report: QuizReport, title: str) -> list[tuple[str, list[list]]]:
    """The statistics page's tables as spreadsheet sheets (numbers as numbers, rounded to 2 places)."""
    s = report.stats

    def n(value):
        return "" if value is None else round(value, 2)

    quiz_rows = [[_("Quiz"), title], [_("Attempts counted"), str(WHICH_ATTEMPTS[report.which])],
                 [_("Number of attempts"), s.attempts],
                 [_("Attempts waiting for grading (not counted)"), report.waiting],
                 [_("Average grade, %"), n(report.percent(s.mean))], [_("Median grade, %"), n(report.percent(s.median))],
                 [_("Standard deviation, %"), n(report.percent(s.sd))], [_("Score distribution skewness"), n(s.skewness)],
                 [_("Score distribution kurtosis"), n(s.kurtosis)],
                 [_("Coefficient of internal consistency (CIC), %"), n(s.cic)], [_("Error ratio, %"), n(s.error_ratio)],
                 [_("Standard error, %"), n(report.percent(s.standard_error))]]
    question_rows = [[_("Q."), _("Question"), _("Type"), _("Mark"), _("Facility index, %"),
                      _("Standard deviation, %"), _("Intended weight, %"), _("Discrimination index, %"),
                      _("Discriminative efficiency, %")]]
    response_rows = [[_("Q."), _("Question"), _("Response"), _("Credit, %"), _("Count"), _("Frequency, %")]]
    for slot in report.slots:
        q = slot.stats
        question_rows.append([slot.number, slot.label, str(QTYPE_LABELS.get(slot.qtype, _("Random"))), n(slot.max_mark), n(q.facility), n(q.sd),
                              n(slot.intended_weight), n(q.discrimination_index), n(q.discriminative_efficiency)])
        for d in slot.distributions:
            for text, count, percent, credit in d.rows:
                response_rows.append([slot.number, d.question.name, text, n(None if credit is None else 100 * credit),
                                      count, n(percent)])
    return [(_("Quiz"), quiz_rows), (_("Questions"), question_rows), (_("Responses"), response_rows)]
