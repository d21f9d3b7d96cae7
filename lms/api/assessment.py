"""/api/v1 question banks, questions, quizzes, attempts and results: the same predicates, services and rules as
the pages (``lms.assessment.routes_banks``, ``routes_quiz_admin``, ``routes_attempts``), so a second path skips
nothing — not the server's deadline, not sequential navigation, not the review options.

- A bank the person may not even use is not shown to exist (404); a bank shared for use is read, not changed (403).
- A quiz is opened as its activity is (``opened``: the learner's access conditions, 403 with the reason);
  its settings are changed by those who edit the run's content, its results seen by the run's staff.
- An attempt is answered only by its owner: anyone else's is not found (404). The review is also open to the
  run's staff. An open attempt shows only the page the learner is on (in a sequential quiz, the page reached)
  and nothing of the key: no marks, states or feedback unless the review options allow them now (e.g. the
  checked questions of an interactive quiz).
"""

from __future__ import annotations

import json
import re

from flask import Response, abort, redirect, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from marshmallow import ValidationError as MaValidationError
from marshmallow import fields, validate
from sqlalchemy import String, and_, cast, func, select
from sqlalchemy.orm import selectinload

from lms.api.base import Id, Integer, PageArgs, Schema, page_of
from lms.api.core import api_user, document_errors, get_or_404, make_blueprint, paginate, require
from lms.assessment import attempt_files, attempts, banks, gift, moodle_xml, qtypes, quizzes, render, views
from lms.assessment.models import (
    DIFFICULTIES,
    AttemptFile,
    AttemptState,
    Question,
    QuestionAttempt,
    QuestionBank,
    QuestionCategory,
    QuestionVersion,
    Quiz,
    QuizAttempt,
    QuizGrade,
)
from lms.core.db import utcnow
from lms.core.errors import Conflict, ValidationError
from lms.core.storage import content_disposition, get_storage
from lms.courses import permissions as perm
from lms.courses.models import Activity, CourseRun
from lms.courses.web import opened, uploads
from lms.extensions import db

banks_bp = make_blueprint("banks", __name__, "/banks", "Банки вопросов: вопросы, импорт GIFT и Moodle XML, экспорт.")
questions_bp = make_blueprint("questions", __name__, "/questions", "Вопросы банка и их версии.")
quizzes_bp = make_blueprint("quizzes", __name__, "/quizzes",
                            "Тесты (элементы курса): настройки, попытки слушателей, оценки.")
attempts_bp = make_blueprint("attempts", __name__, "/attempts",
                             "Попытки теста: ответы, переход по страницам, отправка, обзор.")

#: The largest file an import reads, by format (as the upload on the page).
MAX_IMPORT_BYTES = {"gift": gift.MAX_BYTES, "xml": moodle_xml.MAX_BYTES}
#: Answers stored by one request (as the page's script).
MAX_ANSWERS = 200
#: Fields of a question's details next to its definition (everything else a save names is in the definition).
DETAIL_FIELDS = ("name", "category", "subject", "grade", "difficulty", "tags")


# --- schemas: banks and questions --------------------------------------------------------------------

class BankSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    description = fields.String()
    organization_id = fields.Integer(allow_none=True, metadata={"description": "Банк организации (иначе — потока)."})
    run_id = fields.Integer(allow_none=True, metadata={"description": "Банк потока курса."})
    shared_with = fields.List(fields.Integer(), metadata={
        "description": "Id организаций, которым банк открыт для использования (не для правки)."})
    questions = fields.Integer(metadata={"description": "Вопросов в банке."})
    editable = fields.Boolean(metadata={"description": "Может ли пользователь менять банк."})


class CategorySchema(Schema):
    id = fields.Integer()
    parent_id = fields.Integer(allow_none=True)
    name = fields.String()
    path = fields.String(metadata={"description": "Полный путь: «Олимпиада/Математика»."})


class BankDetailSchema(BankSchema):
    categories = fields.List(fields.Nested(CategorySchema))


class QuestionListArgs(PageArgs):
    category = Id(metadata={"description": "Id категории банка (с подкатегориями)."})
    qtype = fields.String(validate=validate.OneOf(sorted(qtypes.REGISTRY)),
                          metadata={"description": "Тип вопроса."})
    tag = fields.String(validate=validate.Length(max=50), metadata={"description": "Метка."})


class QuestionSchema(Schema):
    id = fields.Integer()
    bank_id = fields.Integer()
    name = fields.String()
    qtype = fields.String(metadata={"description": "multichoice, truefalse, shortanswer, numerical, matching, "
                                                   "ordering, essay, cloze, gapselect, description"})
    category_id = fields.Integer(allow_none=True)
    category = fields.String(metadata={"description": "Путь категории («» — верхний уровень)."})
    tags = fields.List(fields.String())
    subject = fields.String()
    grade = fields.Integer(allow_none=True, metadata={"description": "Класс (1–11)."})
    difficulty = fields.String(allow_none=True, metadata={"description": "easy, medium, hard"})
    current_version = fields.Integer(metadata={"description": "Версия, которую получают новые попытки."})
    updated_at = fields.DateTime()
    definition = fields.Dict(metadata={
        "description": "Определение вопроса текущей версии (с правильными ответами и отзывами) — как в редакторе."})


class VersionSchema(Schema):
    version = fields.Integer()
    created_at = fields.DateTime()
    created_by_id = fields.Integer(allow_none=True)


class QuestionDetailSchema(QuestionSchema):
    version = fields.Integer(metadata={"description": "Версия, чьё определение показано."})
    versions = fields.List(fields.Nested(VersionSchema))


class QuestionArgs(Schema):
    class Meta:
        unknown = "exclude"

    version = Integer(validate=validate.Range(min=1, max=100000),
                      metadata={"description": "Показать определение этой версии (по умолчанию — текущей)."})


def _no_nul(value) -> None:
    """PostgreSQL cannot keep U+0000 in text: refuse it anywhere in a nested definition."""
    if "\\u0000" in json.dumps(value):
        raise MaValidationError(_("The character U+0000 is not allowed."))


class QuestionInSchema(Schema):
    definition = fields.Dict(required=True, validate=_no_nul, metadata={
        "description": "Определение вопроса, как его проверяет тип вопроса: qtype, text, format, answers "
                       "[{text, fraction, feedback}], general_feedback … Ошибка называет поле: "
                       "definition.answers-1-fraction."})
    name = fields.String(validate=validate.Length(max=255),
                         metadata={"description": "По умолчанию — начало текста вопроса."})
    category = fields.String(validate=validate.Length(max=1000), metadata={
        "description": "Путь категории «Олимпиада/Математика»; недостающие категории создаются."})
    subject = fields.String(validate=validate.Length(max=120))
    grade = Integer(allow_none=True, metadata={"description": "Класс, 1–11."})
    difficulty = fields.String(allow_none=True, validate=validate.OneOf(DIFFICULTIES))
    tags = fields.List(fields.String(validate=validate.Length(max=50)), validate=validate.Length(max=50))


class QuestionEditSchema(QuestionInSchema):
    """A new version: the definition (its type cannot change); the details not sent stay as they are."""


class QuestionSavedSchema(QuestionDetailSchema):
    new_version = fields.Boolean(metadata={
        "description": "Добавлена ли версия (без изменений в тексте и ответах новой версии нет)."})


class ImportSchema(Schema):
    format = fields.String(required=True, validate=validate.OneOf(sorted(banks.FORMATS)),
                           metadata={"description": "gift или xml (Moodle XML)."})
    content = fields.String(required=True, metadata={
        "description": "Текст файла (UTF-8). Не больше 5 МБ для GIFT и 20 МБ для Moodle XML."})
    dry_run = fields.Boolean(load_default=False, metadata={
        "description": "Только проверить: отчёт без записи (как предпросмотр на странице)."})


class ImportErrorSchema(Schema):
    line = fields.Integer(metadata={"description": "Строка (GIFT) или номер вопроса (XML); 0 — весь файл."})
    reason = fields.String()


class ImportReportSchema(Schema):
    questions = fields.Integer(metadata={"description": "Вопросов в файле."})
    categories = fields.List(fields.String(), metadata={"description": "Категории файла (пути)."})
    errors = fields.List(fields.Nested(ImportErrorSchema))
    written = fields.Boolean(metadata={"description": "Записаны ли вопросы (всё или ничего)."})


class ExportArgs(Schema):
    class Meta:
        unknown = "exclude"

    format = fields.String(load_default="gift", validate=validate.OneOf(sorted(banks.FORMATS)),
                           metadata={"description": "gift или xml (Moodle XML)."})


BankPageSchema = page_of(BankSchema, "BankPage")
QuestionPageSchema = page_of(QuestionSchema, "QuestionPage")


# --- schemas: quizzes ---------------------------------------------------------------------------------

_REVIEW = fields.Dict(keys=fields.String(validate=validate.OneOf(list(quizzes.REVIEW_MOMENTS))),
                      values=fields.List(fields.String(validate=validate.OneOf(list(quizzes.REVIEW_ITEMS)))),
                      metadata={"description": "Что показывать в обзоре: {момент: [что]}; моменты during, "
                                               "immediately, open, closed; что — attempt, correctness, marks, "
                                               "feedback, general_feedback, right_answer."})


class SlotSchema(Schema):
    id = fields.Integer()
    position = fields.Integer()
    page = fields.Integer()
    question_id = fields.Integer(allow_none=True, metadata={"description": "Вопрос (иначе — случайный)."})
    version = fields.Integer(allow_none=True, metadata={"description": "Закреплённая версия (null — текущая)."})
    category_id = fields.Integer(allow_none=True, metadata={"description": "Категория случайного вопроса."})
    include_subcategories = fields.Boolean()
    tags = fields.List(fields.String())
    max_mark = fields.Float()


class QuizSettingsFields(Schema):
    """The settings in the units the PATCH takes."""

    opens_at = fields.AwareDateTime(allow_none=True)
    closes_at = fields.AwareDateTime(allow_none=True)
    time_limit = Integer(allow_none=True, metadata={"description": "Минуты (0 или null — без ограничения)."})
    overdue = fields.String(validate=validate.OneOf(["autosubmit", "grace", "abandon"]), metadata={
        "description": "По истечении времени: autosubmit — отправить, grace — льготный период, abandon — не засчитывать."})
    grace_period = Integer(metadata={"description": "Льготный период, минуты."})
    attempts_allowed = Integer(metadata={"description": "0 — без ограничения."})
    grade_method = fields.String(validate=validate.OneOf(list(quizzes.GRADE_METHODS)),
                                 metadata={"description": "highest, average, first, last"})
    max_grade = Integer()
    pass_grade = fields.Float(allow_none=True)
    questions_per_page = Integer()
    navigation = fields.String(validate=validate.OneOf(list(quizzes.NAVIGATION)),
                               metadata={"description": "free или sequential (только вперёд)."})
    shuffle_questions = fields.Boolean()
    shuffle_answers = fields.Boolean()
    behaviour = fields.String(validate=validate.OneOf(list(quizzes.BEHAVIOURS)),
                              metadata={"description": "deferred или interactive (несколько попыток ответа)."})
    tries = Integer(metadata={"description": "Интерактивный режим: попыток ответа на вопрос."})
    penalty = fields.Float(metadata={"description": "Интерактивный режим: штраф за каждую лишнюю попытку, %."})
    review = _REVIEW


class QuizPatchSchema(QuizSettingsFields):
    """Only the settings sent change; they are checked together, as on the settings page."""


class QuizSchema(QuizSettingsFields):
    activity_id = fields.Integer()
    run_id = fields.Integer()
    title = fields.String()
    questions = fields.Integer(metadata={"description": "Вопросов в тесте."})
    learner = fields.Boolean(metadata={"description": "Пользователь — слушатель потока."})
    can_start = fields.Boolean(metadata={"description": "Может ли слушатель начать новую попытку сейчас."})
    reason = fields.String(allow_none=True, metadata={"description": "Почему нельзя начать попытку."})
    open_attempt_id = fields.Integer(allow_none=True, metadata={"description": "Незавершённая попытка."})
    grade = fields.Float(allow_none=True, metadata={"description": "Оценка слушателя за тест (по методу оценивания)."})
    passed = fields.Boolean(allow_none=True)
    locked = fields.Boolean(metadata={"description": "Преподавателям: слушатели уже проходили тест, "
                                                     "вопросы и максимальная оценка закреплены."})
    slots = fields.List(fields.Nested(SlotSchema), metadata={"description": "Только преподавателям."})


class QuizAttemptsArgs(PageArgs):
    user = Id(metadata={"description": "Преподавателям: попытки одного слушателя."})


class QuizGradeSchema(Schema):
    user_id = fields.Integer()
    grade = fields.Float()
    passed = fields.Boolean(allow_none=True)
    updated_at = fields.DateTime()


# --- schemas: attempts --------------------------------------------------------------------------------

class AttemptSchema(Schema):
    id = fields.Integer()
    activity_id = fields.Integer()
    user_id = fields.Integer()
    number = fields.Integer(metadata={"description": "Номер попытки слушателя."})
    state = fields.String(metadata={"description": "inprogress, overdue (льготный период: только отправить), "
                                                   "finished, abandoned"})
    started_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    deadline = fields.DateTime(allow_none=True, metadata={"description": "Срок сервера (null — без срока)."})
    grace_until = fields.DateTime(allow_none=True, metadata={"description": "Конец льготного периода."})
    seconds_left = fields.Integer(allow_none=True)
    navigation = fields.String(metadata={"description": "free или sequential."})
    page = fields.Integer(metadata={"description": "Страница, до которой дошла попытка (последовательный режим)."})
    pages = fields.Integer()
    grade = fields.Float(allow_none=True, metadata={
        "description": "Оценка попытки, если настройки обзора сейчас позволяют показать баллы."})
    max_grade = fields.Integer()
    passed = fields.Boolean(allow_none=True)


class AttemptFileSchema(Schema):
    id = fields.Integer()
    slot = fields.Integer(metadata={"description": "Вопрос (эссе), к ответу на который приложен файл."})
    name = fields.String()
    size = fields.Integer(metadata={"description": "Байт."})
    content_type = fields.String()
    created_at = fields.DateTime()
    url = fields.String(metadata={"description": "Скачать: владельцу попытки и преподавателям потока."})


class AttemptQuestionSchema(Schema):
    slot = fields.Integer(metadata={"description": "Номер вопроса в попытке: его называет сохранение ответа."})
    page = fields.Integer()
    number = fields.Integer(allow_none=True, metadata={"description": "Номер для слушателя (у описания нет)."})
    view = fields.Dict(metadata={"description": "Вопрос как его видит слушатель: qtype, text (HTML), choices "
                                                "[{token, text}], stems, items, parts, gaps … Ответ называет "
                                                "варианты их token, не их место в банке."})
    values = fields.Dict(metadata={"description": "Сохранённый ответ: {\"\" или \"-N\": строка или список}."})
    seq = fields.Integer(metadata={"description": "Номер последнего сохранения, которое хранит сервер."})
    checked = fields.Boolean(metadata={"description": "Интерактивный режим: ответ проверен и окончателен."})
    tries = fields.Integer(metadata={"description": "Интерактивный режим: проверок сделано."})
    # Present only when the review options allow them now.
    state = fields.String(metadata={"description": "correct, partial, wrong, unanswered, manual, graded …"})
    mark = fields.Float(allow_none=True)
    max_mark = fields.Float()
    waiting = fields.Boolean(metadata={"description": "Ответ ждёт оценки преподавателя."})
    files = fields.List(fields.Nested(AttemptFileSchema), metadata={
        "description": "Файлы к ответу (у эссе, которое их принимает: view.attachments — сколько можно)."})
    feedback = fields.List(fields.String())
    comment = fields.String()
    general_feedback = fields.String()
    right_answer = fields.String()
    response = fields.String(metadata={"description": "Обзор: ответ словами."})


class SummaryRowSchema(Schema):
    slot = fields.Integer()
    page = fields.Integer()
    number = fields.Integer()
    answered = fields.Boolean()


class AttemptFileUploadSchema(Schema):
    slot = Integer(required=True, validate=validate.Range(min=1, max=10000),
                   metadata={"description": "Вопрос-эссе, к ответу на который прикладываются файлы."})


class AttemptDetailSchema(AttemptSchema):
    shown_page = fields.Integer(allow_none=True, metadata={"description": "Страница, чьи вопросы в questions."})
    questions = fields.List(fields.Nested(AttemptQuestionSchema), metadata={
        "description": "Вопросы показанной страницы открытой попытки (в последовательном режиме — только текущей)."})
    summary = fields.List(fields.Nested(SummaryRowSchema), metadata={"description": "На какие вопросы дан ответ."})


class AttemptReviewSchema(AttemptSchema):
    items = fields.List(fields.String(), metadata={
        "description": "Что сейчас можно показать: attempt, correctness, marks, feedback, general_feedback, "
                       "right_answer."})
    staff = fields.Boolean(metadata={"description": "Обзор преподавателя (всё)."})
    questions = fields.List(fields.Nested(AttemptQuestionSchema))


class AttemptArgs(Schema):
    class Meta:
        unknown = "exclude"

    page = Integer(validate=validate.Range(min=1, max=10000), metadata={
        "description": "Свободная навигация: страница (по умолчанию — текущая). В последовательном режиме — "
                       "только текущая."})


class AnswerInSchema(Schema):
    slot = Integer(required=True, validate=validate.Range(min=1, max=10000))
    seq = Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1), metadata={
        "description": "Номер сохранения клиента: повтор с тем же номером не применяется второй раз, более старый "
                       "не затирает новый."})
    values = fields.Dict(required=True, keys=fields.String(), values=fields.Raw(allow_none=True), metadata={
        "description": "Поля формы вопроса без префикса q<slot>: {\"\": \"1\"}, {\"-0\": \"2\", \"-1\": \"1\"}; "
                       "флажки — списком."})


class AnswersInSchema(Schema):
    answers = fields.List(fields.Nested(AnswerInSchema), required=True,
                          validate=validate.Length(max=MAX_ANSWERS))


class SavedSchema(Schema):
    slot = fields.Integer()
    seq = fields.Integer(metadata={"description": "Номер сохранения, который теперь хранит сервер."})
    applied = fields.Boolean(metadata={"description": "Применено ли это сохранение."})


class SavedAnswersSchema(Schema):
    saved = fields.List(fields.Nested(SavedSchema))
    seconds_left = fields.Integer(allow_none=True)


class GoToPageSchema(Schema):
    page = Integer(required=True, validate=validate.Range(min=1, max=10000))


class CheckSchema(Schema):
    slot = Integer(required=True, validate=validate.Range(min=1, max=10000))


AttemptPageSchema = page_of(AttemptSchema, "AttemptPage")
QuizGradePageSchema = page_of(QuizGradeSchema, "QuizGradePage")


# --- helpers: banks -----------------------------------------------------------------------------------

def _usable_bank(bank_id: int) -> QuestionBank:
    """The bank, or 404 for one the person may not even use (as the pages: not shown to exist)."""
    bank = get_or_404(QuestionBank, bank_id)
    if not banks.can_use_bank(api_user(), bank):
        abort(404)
    return bank


def _editable_bank(bank_id: int) -> QuestionBank:
    bank = _usable_bank(bank_id)
    require(banks.can_edit_bank(api_user(), bank))
    return bank


def _bank_rows(items: list[QuestionBank]) -> list[dict]:
    user = api_user()
    ids = [b.id for b in items]
    counts = dict(db.session.execute(select(Question.bank_id, func.count()).where(Question.bank_id.in_(ids))
                                     .group_by(Question.bank_id)).all()) if ids else {}
    condition = banks.banks_condition(user, editable=True)  # one statement, not a permission check per bank
    editable = set(ids) if condition is None else set(db.session.scalars(
        select(QuestionBank.id).where(QuestionBank.id.in_(ids), condition))) if ids else set()
    return [{"id": b.id, "name": b.name, "description": b.description, "organization_id": b.organization_id,
             "run_id": b.run_id, "shared_with": sorted(s.organization_id for s in b.shares),
             "questions": counts.get(b.id, 0), "editable": b.id in editable} for b in items]


def _question_rows(questions: list[Question], paths: dict[int, str]) -> list[dict]:
    ids = [q.id for q in questions]
    current = {v.question_id: v for v in db.session.scalars(
        select(QuestionVersion).join(Question, and_(Question.id == QuestionVersion.question_id,
                                                    Question.current_version == QuestionVersion.version))
        .where(Question.id.in_(ids)))} if ids else {}
    return [_question_data(q, paths, current[q.id]) for q in questions]


def _question_data(q: Question, paths: dict[int, str], version: QuestionVersion) -> dict:
    return {"id": q.id, "bank_id": q.bank_id, "name": q.name, "qtype": q.qtype, "category_id": q.category_id,
            "category": paths.get(q.category_id, ""), "tags": list(q.tags or []), "subject": q.subject,
            "grade": q.grade, "difficulty": q.difficulty, "current_version": q.current_version,
            "updated_at": q.updated_at, "definition": version.definition}


def _question_detail(q: Question, bank: QuestionBank, shown: int | None = None) -> dict:
    version = next((v for v in q.versions if v.version == (shown or q.current_version)), None)
    if version is None:
        abort(404)
    return {**_question_data(q, banks.category_paths(bank), version), "version": version.version,
            "versions": [{"version": v.version, "created_at": v.created_at, "created_by_id": v.created_by_id}
                         for v in q.versions]}


def _renamed(exc: ValidationError, prefix: str, keep: tuple[str, ...] = ()) -> ValidationError:
    """The service's error with its fields named as the request body names them (``definition.text``)."""
    errors = exc.errors or {exc.field or "": exc.message}
    # «definition» itself (a definition of the wrong shape) is the body's own field
    named = {(k if k in keep else prefix if k in ("", prefix) else f"{prefix}.{k}"): v for k, v in errors.items()}
    return ValidationError.of(named)


def _save_question(bank: QuestionBank, data: dict, question: Question | None = None) -> tuple[Question, bool]:
    """The editor's save (definition and details checked together; an edit is a new version)."""
    definition = data["definition"]
    if question is not None and definition.get("qtype") not in (None, question.qtype):
        raise ValidationError(_("The type of a question cannot change; make a new question."),
                              field="definition.qtype")
    details = {"name": question.name if question else "", "subject": question.subject if question else "",
               "grade": question.grade if question else None, "difficulty": question.difficulty if question else None,
               "tags": list(question.tags or []) if question else []}
    details.update({k: v for k, v in data.items() if k in DETAIL_FIELDS and k != "category"})
    category = db.session.get(QuestionCategory, question.category_id) if question and question.category_id else None
    if "category" in data:
        category = banks.category_path(bank, data["category"])
    try:
        return banks.save_question(bank, definition, by=api_user(), question=question, category=category, **details)
    except ValidationError as exc:  # the question types name the field, also for JSON of another shape
        raise _renamed(exc, "definition", keep=DETAIL_FIELDS) from None


def _tag_filter(tag: str):
    # Tags are a JSON list: the tag, quoted as JSON writes it, inside the list's text (as the bank page).
    return cast(Question.tags, String).contains(json.dumps(" ".join(tag.split())), autoescape=True)


# --- helpers: quizzes and attempts --------------------------------------------------------------------

def _minutes(seconds: int | None) -> int | None:
    return seconds // 60 if seconds else None


def _settings(quiz: Quiz) -> dict:
    """The quiz's settings in the units ``quizzes.clean_settings`` reads (minutes, percent)."""
    return {"opens_at": quiz.opens_at, "closes_at": quiz.closes_at, "time_limit": _minutes(quiz.time_limit) or 0,
            "overdue": quiz.overdue, "grace_period": _minutes(quiz.grace_period) or 0,
            "attempts_allowed": quiz.attempts_allowed, "grade_method": quiz.grade_method,
            "max_grade": quiz.max_grade, "pass_grade": quiz.pass_grade,
            "questions_per_page": quiz.questions_per_page, "navigation": quiz.navigation,
            "shuffle_questions": quiz.shuffle_questions, "shuffle_answers": quiz.shuffle_answers,
            "behaviour": quiz.behaviour, "tries": quiz.tries, "penalty": quiz.penalty * 100,
            "review": quiz.review or quizzes.DEFAULT_REVIEW}


def _quiz_data(activity: Activity, access: perm.RunAccess, quiz: Quiz,
               status: attempts.LearnerStatus | None = None) -> dict:
    """The quiz as its page shows it: to staff its settings (and questions to those who edit it); to anyone else
    ``status`` (``attempts.learner_status``) in the settings' place."""
    out = {**_settings(quiz), "time_limit": _minutes(quiz.time_limit), "activity_id": activity.id,
           "run_id": access.run.id, "title": activity.title, "questions": len(quiz.slots), "learner": access.learns}
    if access.enrols_others:
        if access.edits_content:  # as the pages: those who grade do not see the questions
            out["locked"] = quizzes.has_attempts(quiz)
            out["slots"] = list(quiz.slots)
        return out
    eff = status.effective
    out.update(opens_at=eff.opens_at, closes_at=eff.closes_at, time_limit=_minutes(eff.time_limit),
               attempts_allowed=eff.attempts_allowed, can_start=access.learns and status.may_start,
               reason=status.reason, grade=status.grade, passed=status.passed,
               open_attempt_id=status.open_attempt.id if status.open_attempt is not None else None)
    return out


def _own_attempt(attempt_id: int) -> QuizAttempt:
    return attempts.own_attempt(attempt_id, api_user().id)


def _closes_at(attempt: QuizAttempt):
    """The learner's close date, for the review moment (an open attempt is «during» whatever it is)."""
    if attempt.state in AttemptState.OPEN:
        return None
    return quizzes.effective(attempt.quiz, attempt.user_id, attempts.group_of(attempt.run_id, attempt.user_id)).closes_at


def _attempt_data(attempt: QuizAttempt, now, items: frozenset[str], activity_id: int | None = None) -> dict:
    quiz = attempt.quiz
    grade = attempts.attempt_grade(quiz, attempt) if "marks" in items and attempt.state == AttemptState.FINISHED \
        else None
    return {"id": attempt.id, "activity_id": activity_id or quiz.activity_id, "user_id": attempt.user_id,
            "number": attempt.number, "state": attempt.state, "started_at": attempt.started_at,
            "finished_at": attempt.finished_at, "deadline": attempt.deadline,
            "grace_until": attempts.grace_until(attempt),
            "seconds_left": attempts.seconds_left(attempt, now) if attempt.state in AttemptState.OPEN else None,
            "navigation": quiz.navigation, "page": attempt.page, "pages": attempt.pages, "grade": grade,
            "max_grade": quiz.max_grade, "passed": attempts.passed(quiz, grade)}


def _question_views(attempt: QuizAttempt, qas: list[QuestionAttempt], items: frozenset[str], *,
                    review: bool = False) -> list[dict]:
    """``views.question_views`` as JSON (marks and feedback keys left out where the review options hide them,
    so nothing of the key is in an open attempt's JSON); a review adds the answer as text."""
    out = []
    for shown in views.question_views(attempt, qas, items):
        qa, files = shown.pop("qa"), shown.pop("files")
        shown.update(slot=qa.slot, page=qa.page, values=qa.response or {}, seq=qa.seq, checked=qa.checked,
                     tries=qa.tries)
        if files is not None:
            shown["files"] = [_file_data(attempt, qa.slot, f) for f in files]
        if review and "attempt" in items:
            definition = qa.version.definition
            shown["response"] = render.response_text(definition, attempts.response_of(qa, definition))
        out.append(shown)
    return out


def _file_data(attempt: QuizAttempt, slot: int, row: AttemptFile) -> dict:
    return {"id": row.id, "slot": slot, "name": row.name, "size": row.size, "content_type": row.content_type,
            "created_at": row.created_at,
            "url": url_for("api_attempts.AttemptFileView", attempt_id=attempt.id, file_id=row.id)}


def _summary(attempt: QuizAttempt) -> list[dict]:
    numbers, done = attempts.question_numbers(attempt), attempts.answered(attempt)
    return [{"slot": qa.slot, "page": qa.page, "number": numbers[qa.slot], "answered": done[qa.slot]}
            for qa in attempt.questions if qa.slot in numbers]


def _attempt_detail(attempt: QuizAttempt, now, page: int | None) -> dict:
    quiz = attempt.quiz
    items = attempts.review_items(quiz, attempt, now, closes_at=_closes_at(attempt))
    out = {**_attempt_data(attempt, now, items), "summary": _summary(attempt), "questions": [], "shown_page": None}
    # An overdue attempt may only be submitted; a closed one is read in its review.
    if attempt.state == AttemptState.IN_PROGRESS:
        number = attempts.shown_page(attempt, page)
        out["shown_page"] = number
        out["questions"] = _question_views(attempt, [qa for qa in attempt.questions if qa.page == number], items)
    return out


def _close_overdue(attempt: QuizAttempt, now) -> None:
    if attempts.close_if_overdue(attempt, now):
        db.session.commit()


# --- banks --------------------------------------------------------------------------------------------

@banks_bp.route("")
class Banks(MethodView):
    @banks_bp.arguments(PageArgs, location="query")
    @banks_bp.response(200, BankPageSchema)
    @document_errors(banks_bp, 403)
    def get(self, args):
        """Банки вопросов

        Банки, которыми пользователь может пользоваться: своих организаций (методисты, педагоги, руководители),
        потоков, где он преподаёт, и открытые его организациям. Слушателям — 403, как страница банков.
        """
        user = api_user()
        require(banks.may_list_banks(user))
        condition = banks.banks_condition(user)
        stmt = select(QuestionBank).order_by(QuestionBank.name, QuestionBank.id)
        if condition is not None:
            stmt = stmt.where(condition)
        page = paginate(stmt.options(selectinload(QuestionBank.shares)), args)
        page["items"] = _bank_rows(page["items"])
        return page


@banks_bp.route("/<int:bank_id>")
class BankView(MethodView):
    @banks_bp.response(200, BankDetailSchema)
    @document_errors(banks_bp, 404)
    def get(self, bank_id):
        """Банк с деревом категорий

        Банк, которым пользователь не может пользоваться, не показывается (404).
        """
        bank = _usable_bank(bank_id)
        paths = banks.category_paths(bank)
        categories = db.session.scalars(select(QuestionCategory).where(QuestionCategory.bank_id == bank.id)).all()
        return {**_bank_rows([bank])[0], "categories": sorted(
            ({"id": c.id, "parent_id": c.parent_id, "name": c.name, "path": paths[c.id]} for c in categories),
            key=lambda c: c["path"].lower())}


@banks_bp.route("/<int:bank_id>/questions")
class BankQuestions(MethodView):
    @banks_bp.arguments(QuestionListArgs, location="query")
    @banks_bp.response(200, QuestionPageSchema)
    @document_errors(banks_bp, 404, 422)
    def get(self, args, bank_id):
        """Вопросы банка с определениями текущих версий"""
        bank = _usable_bank(bank_id)
        paths = banks.category_paths(bank)
        stmt = select(Question).where(Question.bank_id == bank.id)
        if args.get("category") is not None:
            if args["category"] not in paths:
                raise ValidationError(_("Choose one of the options."), field="category")
            stmt = stmt.where(Question.category_id.in_(sorted(banks.descendant_ids(bank, args["category"]))))
        if args.get("qtype"):
            stmt = stmt.where(Question.qtype == args["qtype"])
        if args.get("tag", "").strip():
            stmt = stmt.where(_tag_filter(args["tag"]))
        page = paginate(stmt.order_by(Question.name, Question.id), args)
        page["items"] = _question_rows(page["items"], paths)
        return page

    @banks_bp.arguments(QuestionInSchema)
    @banks_bp.response(201, QuestionDetailSchema)
    @document_errors(banks_bp, 403, 404)
    def post(self, data, bank_id):
        """Добавить вопрос

        Редакторам банка. Определение проверяет тип вопроса, как в редакторе на странице; каждая ошибка
        называет поле (``definition.answers-1-fraction``, ``grade``…), и ничего не записывается.
        """
        bank = _editable_bank(bank_id)
        question, _added = _save_question(bank, data)
        db.session.commit()
        return _question_detail(question, bank)


@banks_bp.route("/<int:bank_id>/import")
class BankImport(MethodView):
    @banks_bp.arguments(ImportSchema)
    @banks_bp.response(200, ImportReportSchema)
    @document_errors(banks_bp, 403, 404)
    def post(self, data, bank_id):
        """Импорт вопросов GIFT или Moodle XML

        Редакторам банка. Всё или ничего: при ошибке в любом вопросе не записывается ничего, а ответ 422
        называет каждую ошибку полем ``content.<строка или номер вопроса>``. С ``dry_run`` — только отчёт
        (сколько вопросов, какие категории, каждая ошибка), без записи.
        """
        bank = _editable_bank(bank_id)
        fmt = data["format"]
        try:
            content = data["content"].encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: not text a file could hold
            raise ValidationError(_("The file is not in UTF-8."), field="content") from None
        if len(content) > MAX_IMPORT_BYTES[fmt]:
            raise ValidationError(_("The file is larger than %(n)d MB.", n=MAX_IMPORT_BYTES[fmt] // 2**20),
                                  field="content")
        if not content.strip():
            raise ValidationError(_("The file is empty."), field="content")
        try:
            report = banks.import_questions(bank, content, fmt, by=api_user(), dry_run=data["dry_run"])
        except ValidationError as exc:  # a file without questions: the page's «file» is the body's «content»
            raise ValidationError(exc.message, field="content") from None
        body = {"questions": report.questions, "categories": sorted(report.categories),
                "errors": [{"line": line, "reason": reason} for line, reason in report.errors],
                "written": report.written}
        if data["dry_run"]:
            db.session.rollback()  # a preview writes nothing (the categories it may have looked up included)
            return body
        if not report.written:
            db.session.rollback()
            errors: dict[str, str] = {}
            for line, reason in report.errors:
                key = f"content.{line}" if line else "content"
                errors[key] = f"{errors[key]} {reason}" if key in errors else reason
            raise ValidationError(_("The file has errors; nothing was imported."), field=next(iter(errors)),
                                  errors=errors)
        db.session.commit()
        return body


@banks_bp.route("/<int:bank_id>/export")
class BankExport(MethodView):
    @banks_bp.arguments(ExportArgs, location="query")
    @banks_bp.doc(responses={"200": {"description": "Файл GIFT (text/plain) или Moodle XML (application/xml).",
                                     "content": {kind: {"schema": {"type": "string"}}
                                                 for kind in ("text/plain", "application/xml")}}})
    @document_errors(banks_bp, 404)
    def get(self, args, bank_id):
        """Экспорт вопросов банка в GIFT или Moodle XML (файлом)"""
        bank = _usable_bank(bank_id)
        fmt = args["format"]
        data = banks.export_questions(bank, fmt)
        extension, mimetype = ("gift", "text/plain; charset=utf-8") if fmt == "gift" else ("xml", "application/xml")
        name = re.sub(r"[\\/:*?\"<>|\s]+", "_", bank.name).strip("_")[:100] or "questions"
        return Response(data, mimetype=mimetype,
                        headers={"Content-Disposition": content_disposition(f"{name}.{extension}")})


# --- questions ----------------------------------------------------------------------------------------

@questions_bp.route("/<int:question_id>")
class QuestionView(MethodView):
    @questions_bp.arguments(QuestionArgs, location="query")
    @questions_bp.response(200, QuestionDetailSchema)
    @document_errors(questions_bp, 404)
    def get(self, args, question_id):
        """Вопрос со списком версий

        Тем, кто может пользоваться его банком; ``?version=N`` — определение прежней версии.
        """
        question = get_or_404(Question, question_id)
        bank = _usable_bank(question.bank_id)
        return _question_detail(question, bank, args.get("version"))


@questions_bp.route("/<int:question_id>/versions")
class QuestionVersions(MethodView):
    @questions_bp.arguments(QuestionEditSchema)
    @questions_bp.response(200, QuestionSavedSchema)
    @document_errors(questions_bp, 403, 404)
    def post(self, data, question_id):
        """Изменить вопрос (новая версия)

        Редакторам банка. Изменённое определение становится новой версией: тесты и начатые попытки сохраняют
        свою. Тип вопроса не меняется; неотправленные сведения (название, категория, метки …) остаются прежними.
        """
        question = get_or_404(Question, question_id)
        bank = _usable_bank(question.bank_id)
        require(banks.can_edit_bank(api_user(), bank))
        question, added = _save_question(bank, data, question)
        db.session.commit()
        return {**_question_detail(question, bank), "new_version": added}


# --- quizzes ------------------------------------------------------------------------------------------

@quizzes_bp.route("/<int:activity_id>")
class QuizView(MethodView):
    @quizzes_bp.response(200, QuizSchema)
    @document_errors(quizzes_bp, 403, 404)
    def get(self, activity_id):
        """Тест: настройки

        Слушателю — его настройки (с учётом исключений для него и его группы), можно ли начать попытку, его
        оценка; преподавателям — настройки теста и его вопросы (слоты). Условия доступа к элементу курса —
        как на странице (403 с причиной).
        """
        activity, quiz = quizzes.activity_and_quiz(activity_id)
        access = opened(activity)
        status = attempts.learner_status(quiz, api_user().id, utcnow(), group_id=access.group_id,
                                         learner=access.learns)
        data = _quiz_data(activity, access, quiz, status)
        db.session.commit()  # the quiz made on first use, attempts closed at their deadline
        return data

    @quizzes_bp.arguments(QuizPatchSchema)
    @quizzes_bp.response(200, QuizSchema)
    @document_errors(quizzes_bp, 403, 404)
    def patch(self, data, activity_id):
        """Изменить настройки теста

        Тем, кто правит содержание потока. Меняются только переданные настройки; все проверяются вместе, как
        на странице настроек (время — с часовым поясом; ограничение времени и льготный период — в минутах,
        штраф — в процентах). Максимальная оценка закрепляется, когда слушатели уже проходили тест.
        """
        activity, quiz = quizzes.activity_and_quiz(activity_id)
        access = perm.run_access_or_404(api_user(), activity.run_id)
        require(access.edits_content)
        penalty, current = quiz.penalty, _settings(quiz)
        if "review" in data:  # the moments not sent keep theirs
            data["review"] = {**current["review"], **data["review"]}
        try:
            quizzes.save_settings(quiz, {**current, **data}, by=api_user())
        except ValidationError as exc:
            errors = {k.replace("review-", "review."): v for k, v in (exc.errors or {exc.field: exc.message}).items()}
            raise ValidationError.of(errors) from None
        if "penalty" not in data:
            quiz.penalty = penalty  # unchanged, not rounded through percent
        db.session.commit()
        return _quiz_data(activity, access, quiz)


@quizzes_bp.route("/<int:activity_id>/attempts")
class QuizAttempts(MethodView):
    @quizzes_bp.arguments(QuizAttemptsArgs, location="query")
    @quizzes_bp.response(200, AttemptPageSchema)
    @document_errors(quizzes_bp, 403, 404)
    def get(self, args, activity_id):
        """Попытки теста

        Слушателю — свои (оценка — если настройки обзора сейчас позволяют показать баллы); преподавателям и
        руководителям — все попытки слушателей, ``?user=`` — одного.
        """
        activity, quiz = quizzes.activity_and_quiz(activity_id)
        access = opened(activity)
        staff, user, now = access.enrols_others, api_user(), utcnow()
        stmt = select(QuizAttempt).where(QuizAttempt.quiz_id == quiz.id, QuizAttempt.is_preview.is_(False))
        if staff:
            if args.get("user") is not None:
                stmt = stmt.where(QuizAttempt.user_id == args["user"])
        else:
            for attempt in attempts.attempts_of(quiz.id, user.id):
                attempts.close_if_overdue(attempt, now)
            stmt = stmt.where(QuizAttempt.user_id == user.id)
        db.session.commit()
        page = paginate(stmt.order_by(QuizAttempt.user_id, QuizAttempt.number), args)
        closes_at = None if staff else quizzes.effective(quiz, user.id, access.group_id).closes_at
        page["items"] = [_attempt_data(a, now, attempts.review_items(quiz, a, now, staff=staff, closes_at=closes_at),
                                       activity.id) for a in page["items"]]
        return page

    @quizzes_bp.response(201, AttemptDetailSchema)
    @quizzes_bp.alt_response(200, schema=AttemptDetailSchema, description="Продолжается незавершённая попытка.")
    @document_errors(quizzes_bp, 403, 404, 409)
    def post(self, activity_id):
        """Начать попытку (или продолжить незавершённую)

        Слушателю потока, которому элемент открыт. Когда начать нельзя (тест ещё не открыт, закрыт, попытки
        кончились) — 409 с причиной. Срок попытки считает сервер.
        """
        activity, quiz = quizzes.activity_and_quiz(activity_id)
        access = opened(activity)  # as the page's «Start»: the run with the learner's standing, one statement
        require(access.learns)
        user = api_user()
        existing = attempts.open_attempt(quiz.id, user.id)
        attempt_id = attempts.start_id(quiz, user, group_id=access.group_id, now=utcnow())
        db.session.commit()
        status = 200 if existing is not None and existing.id == attempt_id else 201
        return _attempt_detail(_own_attempt(attempt_id), utcnow(), None), status  # questions loaded at once


@quizzes_bp.route("/<int:activity_id>/grades")
class QuizGrades(MethodView):
    @quizzes_bp.arguments(PageArgs, location="query")
    @quizzes_bp.response(200, QuizGradePageSchema)
    @document_errors(quizzes_bp, 403, 404)
    def get(self, args, activity_id):
        """Оценки слушателей за тест (по методу оценивания) — преподавателям и руководителям"""
        activity, quiz = quizzes.activity_and_quiz(activity_id)
        run = db.session.get(CourseRun, activity.run_id)
        require(perm.can_enrol_others(api_user(), run))
        db.session.commit()  # the quiz made on first use
        page = paginate(select(QuizGrade).where(QuizGrade.quiz_id == quiz.id).order_by(QuizGrade.user_id), args)
        page["items"] = [{"user_id": g.user_id, "grade": g.grade, "passed": attempts.passed(quiz, g.grade),
                          "updated_at": g.updated_at} for g in page["items"]]
        return page


# --- attempts -----------------------------------------------------------------------------------------

@attempts_bp.route("/<int:attempt_id>")
class AttemptView(MethodView):
    @attempts_bp.arguments(AttemptArgs, location="query")
    @attempts_bp.response(200, AttemptDetailSchema)
    @document_errors(attempts_bp, 404, 409)
    def get(self, args, attempt_id):
        """Попытка: состояние, оставшееся время и вопросы страницы

        Только владельцу. Вопросы — открытой попытки и только одной страницы: в последовательном режиме —
        текущей (другая — 409), при свободной навигации — ``?page=N``. Без правильных ответов; отметки и
        отзывы — только если настройки обзора позволяют (например, проверенные вопросы в интерактивном режиме).
        """
        attempt = _own_attempt(attempt_id)
        now = utcnow()
        _close_overdue(attempt, now)
        return _attempt_detail(attempt, now, args.get("page"))


@attempts_bp.route("/<int:attempt_id>/answers")
class AttemptAnswers(MethodView):
    @attempts_bp.arguments(AnswersInSchema)
    @attempts_bp.response(200, SavedAnswersSchema)
    @document_errors(attempts_bp, 404, 409)
    def put(self, data, attempt_id):
        """Сохранить ответы

        Как сценарий страницы: каждое сохранение называет вопрос (slot) и номер сохранения (seq); повтор
        применяется один раз, более старое не затирает новое. 409 — после срока сервера, после отправки, для
        проверенного вопроса и для вопроса не с текущей страницы в последовательном режиме.
        """
        # As the page's script: one statement per question, the attempt not loaded as objects (the service
        # answers 404 for anyone else's attempt).
        now = utcnow()
        answers = [(a["slot"], a["seq"], a["values"]) for a in data["answers"]]
        try:
            saved = attempts.save(attempt_id, api_user().id, answers, now=now)
        except attempts.AttemptClosed:
            db.session.rollback()
            _close_overdue(db.session.get(QuizAttempt, attempt_id), now)
            raise
        db.session.commit()
        return {"saved": saved, "seconds_left": saved.seconds_left(now)}


@attempts_bp.route("/<int:attempt_id>/files")
class AttemptFiles(MethodView):
    @attempts_bp.arguments(AttemptFileUploadSchema, location="form")
    @attempts_bp.response(201, AttemptFileSchema(many=True))
    @document_errors(attempts_bp, 404, 409, 413)
    def post(self, data, attempt_id):
        """Приложить файлы к ответу на эссе

        multipart/form-data: ``slot`` и один или несколько ``file``. Правила — как у сохранения ответа: только
        владельцу, до срока сервера, в последовательном режиме — вопрос текущей страницы; не больше файлов,
        чем разрешает вопрос. Ответ — все файлы этого вопроса.
        """
        try:
            attempt_files.attach(attempt_id, api_user().id, data["slot"], uploads("file"), now=utcnow())
        except ValidationError as exc:
            db.session.rollback()
            raise ValidationError(exc.message, field="file" if exc.field != "slot" else "slot") from None
        db.session.commit()
        attempt = _own_attempt(attempt_id)
        return [_file_data(attempt, data["slot"], f) for f in attempt_files.files_by_slot(attempt).get(data["slot"], [])]


@attempts_bp.route("/<int:attempt_id>/files/<int:file_id>")
class AttemptFileView(MethodView):
    @attempts_bp.response(302, description="На временную ссылку для скачивания.")
    @document_errors(attempts_bp, 404)
    def get(self, attempt_id, file_id):
        """Скачать файл попытки (владельцу и преподавателям потока)"""
        row = attempt_files.readable(attempt_id, file_id, api_user())
        return redirect(get_storage().presigned_url(row.key, download_name=row.name))

    @attempts_bp.response(204)
    @document_errors(attempts_bp, 404, 409)
    def delete(self, attempt_id, file_id):
        """Убрать файл из открытой попытки (по тем же правилам, что и сохранение ответа)"""
        row = attempt_files.detach(attempt_id, api_user().id, file_id, now=utcnow())
        db.session.commit()
        attempt_files.discard(row.key)
        return None


@attempts_bp.route("/<int:attempt_id>/page")
class AttemptPage(MethodView):
    @attempts_bp.arguments(GoToPageSchema)
    @attempts_bp.response(200, AttemptDetailSchema)
    @document_errors(attempts_bp, 404, 409)
    def post(self, data, attempt_id):
        """Перейти на страницу

        В последовательном режиме — только на следующую (назад и через страницу — 409); при свободной
        навигации — на любую. Ответ — попытка с вопросами этой страницы.
        """
        attempt = _own_attempt(attempt_id)
        now = utcnow()
        _close_overdue(attempt, now)
        page = attempts.go_to_page(attempt, data["page"], user_id=api_user().id, now=now)
        db.session.commit()
        return _attempt_detail(attempt, now, page)


@attempts_bp.route("/<int:attempt_id>/check")
class AttemptCheck(MethodView):
    @attempts_bp.arguments(CheckSchema)
    @attempts_bp.response(200, AttemptQuestionSchema)
    @document_errors(attempts_bp, 404, 409)
    def post(self, data, attempt_id):
        """Проверить ответ на вопрос (интерактивный режим)

        Проверяется сохранённый ответ. Неверный можно исправить и проверить снова, пока есть попытки (каждая
        лишняя стоит штрафа); верный или последний окончателен. В последовательном режиме — только вопросы
        текущей страницы.
        """
        attempt = _own_attempt(attempt_id)
        now = utcnow()
        _close_overdue(attempt, now)
        qa = attempts.check(attempt, data["slot"], user_id=api_user().id, now=now)
        db.session.commit()
        items = attempts.review_items(attempt.quiz, attempt, now, closes_at=_closes_at(attempt))
        return _question_views(attempt, [qa], items)[0]


@attempts_bp.route("/<int:attempt_id>/submit")
class AttemptSubmit(MethodView):
    @attempts_bp.response(200, AttemptSchema)
    @document_errors(attempts_bp, 404, 409)
    def post(self, attempt_id):
        """Отправить попытку

        Повторная отправка возвращает ту же оценённую попытку. Оценка — если настройки обзора позволяют
        показать баллы. Попытка, не отправленная вовремя (без льготного периода), не засчитывается — 409.
        """
        attempt = _own_attempt(attempt_id)
        now = utcnow()
        try:
            attempts.submit(attempt, user_id=api_user().id, now=now)
        except Conflict:
            db.session.commit()  # an abandoned attempt stays abandoned
            raise
        db.session.commit()
        items = attempts.review_items(attempt.quiz, attempt, now, closes_at=_closes_at(attempt))
        return _attempt_data(attempt, now, items)


@attempts_bp.route("/<int:attempt_id>/review")
class AttemptReview(MethodView):
    @attempts_bp.response(200, AttemptReviewSchema)
    @document_errors(attempts_bp, 404, 409)
    def get(self, attempt_id):
        """Обзор попытки

        Владельцу — то, что настройки обзора разрешают сейчас (сразу после попытки, пока тест открыт, после
        закрытия); преподавателям потока — всё. Своя незавершённая попытка — 409.
        """
        attempt, staff = attempts.for_reading(attempt_id, api_user())
        now = utcnow()
        _close_overdue(attempt, now)
        if not staff and attempt.state in AttemptState.OPEN:
            raise Conflict(_("The attempt is still open: submit it to see the review."))
        items = attempts.review_items(attempt.quiz, attempt, now, staff=staff,
                                      closes_at=_closes_at(attempt))
        questions = _question_views(attempt, list(attempt.questions), items, review=True) \
            if "attempt" in items else []
        return {**_attempt_data(attempt, now, items), "items": sorted(items), "staff": staff,
                "questions": questions}
