"""The teacher's pages of a quiz: its settings (Moodle's groups), its questions (fixed ones from the banks the
teacher may use, random ones from a category and tags; marks and pages), overrides for a learner or a group,
every learner's attempts with a regrade (a dry run first), grading answers by hand, the quiz statistics, and
a preview.

Who: those who edit the run's content change the quiz (settings, questions, overrides, regrade); the run's
teachers and assistants and the host's managers also see the results and statistics, grade answers and
preview. An activity of another kind, or a quiz's slot or override named under another quiz, is not found.
Every change is checked by the services (``lms.assessment.quizzes``/``attempts``) and is all or nothing: bad
input is answered 422 with the message next to its field, a change the attempts forbid 409."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.accounts.models import User
from lms.assessment import attempts, banks, qtypes, quizzes, render, reports
from lms.assessment.forms_banks import QTYPE_LABELS
from lms.assessment.forms_quiz import OverrideForm, QuizSettingsForm
from lms.assessment.models import Question, QuestionBank, Quiz, QuizOverride, QuizSlot
from lms.core.errors import Conflict, DomainError, ValidationError
from lms.core.forms import select_choices
from lms.core.i18n import fmt_number
from lms.core.loading import MAX_ID, get_or_404
from lms.core.permissions import require
from lms.core.tables import csv_bytes, xlsx_bytes
from lms.core.templating import translated
from lms.courses import permissions as perm
from lms.courses.content import sanitize
from lms.courses.models import HOLDS_PLACE, Activity, ActivityKind, CourseRun, Enrolment
from lms.courses.routes_completion import group_arg
from lms.courses.web import local_input, parse_local
from lms.extensions import db

bp = Blueprint("quiz_admin", __name__)

#: Questions of a bank listed at once for adding (a category narrows the list).
QUESTION_LIST_LIMIT = 200
#: The longest comment on an answer.
MAX_COMMENT = 20_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: The staff link bar: (endpoint, label, who may open it).
NAV = (("quiz_admin.settings", _l("Settings"), "edit"), ("quiz_admin.questions", _l("Questions"), "edit"),
       ("quiz_admin.overrides", _l("Overrides"), "edit"), ("quiz_admin.results", _l("Results"), "staff"),
       ("quiz_admin.grading", _l("Manual grading"), "staff"), ("quiz_admin.statistics", _l("Statistics"), "staff"))


@bp.context_processor
def _labels():
    return {"qtype_labels": translated({**QTYPE_LABELS, "random": _l("Random")}),
            "attempt_states": translated(reports.ATTEMPT_STATES),
            "review_moments": translated(quizzes.REVIEW_MOMENTS), "review_items": translated(quizzes.REVIEW_ITEMS)}


@bp.app_context_processor
def _nav():
    return {"quiz_admin_nav": nav_items}


def nav_items(activity: Activity) -> dict:
    """The links of the staff bar the current person may open (the pages check again)."""
    run = db.session.get(CourseRun, activity.run_id)
    may = {"edit": perm.can_edit_content(current_user, run), "staff": perm.can_enrol_others(current_user, run)}
    links = [(url_for(endpoint, activity_id=activity.id), label, request.endpoint == endpoint
              or (endpoint == "quiz_admin.grading" and request.endpoint == "quiz_admin.grading_question"))
             for endpoint, label, who in NAV if may[who]]
    return {"links": links, "preview": may["staff"]}


# --- loading, times ----------------------------------------------------------------------------------

def _load(activity_id: int, predicate) -> tuple[Activity, CourseRun, Quiz]:
    """The quiz activity (404 for another kind), one permission check, and its quiz (made on first use)."""
    activity = get_or_404(Activity, activity_id)
    if activity.kind != ActivityKind.QUIZ:
        abort(404)
    run = db.session.get(CourseRun, activity.run_id)
    require(predicate(current_user, run))
    # the slots and their questions at once: the pages describe every slot (no query per slot)
    quiz = db.session.scalar(select(Quiz).where(Quiz.activity_id == activity.id)
                             .options(selectinload(Quiz.slots).selectinload(QuizSlot.question)))
    if quiz is None:
        quiz = quizzes.quiz_of(activity)
        db.session.commit()
    return activity, run, quiz


def _dates(form, run: CourseRun, data: dict, errors: dict) -> None:
    for name in ("opens_at", "closes_at"):
        try:
            data[name] = parse_local(getattr(form, name).data, run, name)
        except ValidationError as exc:
            errors[name] = exc.message
            data[name] = None


def _attach(form, errors: dict, aliases: dict | None = None) -> dict:
    """Each message under its field of ``form``; returns those the form has no field for."""
    rest = {}
    for name, message in errors.items():
        target = getattr(form, (aliases or {}).get(name, name), None)
        if target is not None and hasattr(target, "errors") and name != "meta":
            target.errors = [*target.errors, message]
        else:
            rest[name] = message
    return rest


def _id(value) -> int | None:
    """An id from a form (None: empty; -1: not an id, which no row has)."""
    text = str(value or "").strip()
    if not text:
        return None
    return int(text) if text.isdecimal() and 0 < int(text) <= MAX_ID else -1


def _zone(run: CourseRun) -> str:
    return run.host_organization.time_zone or "Europe/Moscow"


def _context(activity: Activity, run: CourseRun, quiz: Quiz) -> dict:
    return {"activity": activity, "run": run, "quiz": quiz, "zone": _zone(run)}


# --- settings -----------------------------------------------------------------------------------------

def _fill(form: QuizSettingsForm, quiz: Quiz, run: CourseRun) -> None:
    form.opens_at.data = local_input(quiz.opens_at, run)
    form.closes_at.data = local_input(quiz.closes_at, run)
    form.time_limit.data = str(quiz.time_limit // 60) if quiz.time_limit else ""
    form.overdue.data = quiz.overdue
    form.grace_period.data = str(quiz.grace_period // 60) if quiz.grace_period else ""
    form.attempts_allowed.data = str(quiz.attempts_allowed)
    form.grade_method.data = quiz.grade_method
    form.max_grade.data = str(quiz.max_grade)
    form.pass_grade.data = fmt_number(quiz.pass_grade) if quiz.pass_grade is not None else ""
    form.questions_per_page.data = str(quiz.questions_per_page)
    form.navigation.data = quiz.navigation
    form.shuffle_questions.data = quiz.shuffle_questions
    form.shuffle_answers.data = quiz.shuffle_answers
    form.behaviour.data = quiz.behaviour
    form.tries.data = str(quiz.tries)
    form.penalty.data = fmt_number(quiz.penalty * 100)


def _save_settings(form: QuizSettingsForm, quiz: Quiz, run: CourseRun, review: dict) -> dict:
    """Save the form; every problem by its field (nothing is changed when there is one)."""
    data = {name: getattr(form, name).data for name in form.TIMING + form.GRADE + form.LAYOUT + form.BEHAVIOUR}
    data["review"] = review
    errors: dict = {}
    _dates(form, run, data, errors)
    try:
        quizzes.clean_settings(data)
    except ValidationError as exc:
        errors = {**exc.errors, **errors}
    if errors:
        return errors
    try:
        quizzes.save_settings(quiz, data, by=current_user)
    except DomainError as exc:
        db.session.rollback()
        return exc.errors or {"max_grade": exc.message}
    db.session.commit()
    return {}


@bp.route("/quizzes/<int:activity_id>/settings", methods=["GET", "POST"])
@login_required
def settings(activity_id: int):
    activity, run, quiz = _load(activity_id, perm.can_edit_content)
    form = QuizSettingsForm(formdata=request.form if request.method == "POST" else None)
    review = quiz.review or quizzes.DEFAULT_REVIEW
    review_errors: dict = {}
    other_errors: dict = {}
    if request.method == "GET":
        _fill(form, quiz, run)
    elif form.validate_on_submit():
        review = {m: request.form.getlist(f"review-{m}") for m in quizzes.REVIEW_MOMENTS}
        errors = _save_settings(form, quiz, run, review)
        if not errors:
            flash(_("Quiz settings saved."), "success")
            return redirect(url_for("quiz_admin.settings", activity_id=activity.id))
        for name, message in _attach(form, errors).items():
            (review_errors if name.startswith("review") else other_errors)[name] = message
    return render_template("quiz_admin/settings.html", form=form, review=review, review_errors=review_errors,
                           other_errors=other_errors, locked=quizzes.has_attempts(quiz),
                           **_context(activity, run, quiz)), 422 if request.method == "POST" else 200


# --- questions ----------------------------------------------------------------------------------------

def _slot_rows(quiz: Quiz) -> list[dict]:
    words = reports.SlotWords()
    rows = []
    for number, slot in enumerate(quiz.slots, start=1):
        question = slot.question if slot.question_id else None
        version = None
        if question is not None:
            version = _("latest (%(n)d)", n=question.current_version) if slot.version is None else \
                _("version %(n)d", n=slot.version)
        rows.append({"number": number, "slot": slot, "label": words.describe(slot), "random": question is None,
                     "qtype": question.qtype if question else "random", "version": version,
                     "graded": question is None or qtypes.qtype(question.qtype).graded})
    return rows


def _pages(rows: list[dict]) -> list[tuple[int, list[dict]]]:
    pages: dict[int, list[dict]] = {}
    for row in rows:
        pages.setdefault(row["slot"].page, []).append(row)
    return sorted(pages.items())


def _bank_panel(run: CourseRun, quiz: Quiz, source) -> dict:
    """The «add from a bank» panel: the banks the person may use, the chosen one's categories and questions."""
    usable = quizzes.usable_banks(current_user, run)
    bank_id = _id(source.get("bank"))
    bank = next((b for b in usable if b.id == bank_id), None)
    panel = {"banks": usable, "bank": bank, "paths": {}, "category": None, "questions": [], "more": False,
             "in_quiz": {s.question_id for s in quiz.slots if s.question_id}}
    if bank is not None:
        panel["paths"] = banks.category_paths(bank)
        category_id = _id(source.get("category"))
        stmt = select(Question).where(Question.bank_id == bank.id)
        if category_id in panel["paths"]:
            panel["category"] = category_id
            stmt = stmt.where(Question.category_id.in_(banks.descendant_ids(bank, category_id)))
        found = list(db.session.scalars(stmt.order_by(Question.name, Question.id).limit(QUESTION_LIST_LIMIT + 1)))
        panel["questions"], panel["more"] = found[:QUESTION_LIST_LIMIT], len(found) > QUESTION_LIST_LIMIT
    return panel


def _random_categories(usable: list[QuestionBank]) -> list[tuple[int, str]]:
    out = []
    for bank in usable:
        out += [(cid, f"{bank.name}: {path}") for cid, path in banks.category_paths(bank).items()]
    return sorted(out, key=lambda c: c[1].lower())


def _questions_page(activity: Activity, run: CourseRun, quiz: Quiz, *, errors: dict | None = None,
                    conflict: str | None = None, status: int = 200):
    rows = _slot_rows(quiz)
    source = request.form if request.method == "POST" else request.args
    panel = _bank_panel(run, quiz, source)
    return render_template("quiz_admin/questions.html", pages=_pages(rows), rows=rows,
                           total=quizzes.total_marks(quiz), locked=quizzes.has_attempts(quiz), panel=panel,
                           random_categories=_random_categories(panel["banks"]), errors=errors or {},
                           conflict=conflict, values=request.form if request.method == "POST" else {},
                           **_context(activity, run, quiz)), status


def _change(activity: Activity, run: CourseRun, quiz: Quiz, action, *, prefix: str, done: str, anchor: str = ""):
    """Run one change of the questions: commit and go back, or show why not (422 by field, 409 when the
    attempts forbid it) with nothing changed."""
    try:
        result = action()
    except Conflict as exc:
        db.session.rollback()
        return _questions_page(activity, run, quiz, conflict=exc.message, status=409)
    except ValidationError as exc:
        db.session.rollback()
        return _questions_page(activity, run, quiz, errors={f"{prefix}{k}": v for k, v in exc.errors.items()}
                               or {prefix + "form": exc.message}, status=422)
    db.session.commit()
    flash(done if not callable(done) else done(result), "success")
    keep = {k: request.form.get(k) for k in ("bank", "category") if request.form.get(k)}
    return redirect(url_for("quiz_admin.questions", activity_id=activity.id, _anchor=anchor or None, **keep))


@bp.route("/quizzes/<int:activity_id>/questions")
@login_required
def questions(activity_id: int):
    activity, run, quiz = _load(activity_id, perm.can_edit_content)
    return _questions_page(activity, run, quiz)


@bp.route("/quizzes/<int:activity_id>/questions/add", methods=["POST"])
@login_required
def add_questions(activity_id: int):
    activity, run, quiz = _load(activity_id, perm.can_edit_content)
    ids = [i for i in (_id(v) for v in request.form.getlist("question_ids")) if i]
    return _change(activity, run, quiz, lambda: quizzes.add_questions(quiz, ids, by=current_user), prefix="add-",
                   done=lambda slots: _("Questions added: %(n)d.", n=len(slots)), anchor="slots-h")


@bp.route("/quizzes/<int:activity_id>/questions/random", methods=["POST"])
@login_required
def add_random(activity_id: int):
    activity, run, quiz = _load(activity_id, perm.can_edit_content)
    tags = [t for t in request.form.get("tags", "").replace(";", ",").split(",") if t.strip()]
    if len(tags) > 20 or any(len(t) > 100 for t in tags):
        return _questions_page(activity, run, quiz, errors={"random-tags": _("At most 20 tags of 100 characters.")},
                               status=422)
    return _change(activity, run, quiz,
                   lambda: quizzes.add_random(quiz, category_id=request.form.get("category_id"),
                                              count=request.form.get("count", "1"),
                                              include_subcategories=bool(request.form.get("include_subcategories")),
                                              tags=tags, by=current_user),
                   prefix="random-", done=lambda slots: _("Random questions added: %(n)d.", n=len(slots)),
                   anchor="slots-h")


def _slot(quiz: Quiz, slot_id: int) -> QuizSlot:
    slot = get_or_404(QuizSlot, slot_id)
    if slot.quiz_id != quiz.id:
        abort(404)
    return slot


@bp.route("/quizzes/<int:activity_id>/slots/<int:slot_id>/remove", methods=["POST"])
@login_required
def remove_slot(activity_id: int, slot_id: int):
    activity, run, quiz = _load(activity_id, perm.can_edit_content)
    slot = _slot(quiz, slot_id)
    return _change(activity, run, quiz, lambda: quizzes.remove_slot(slot, by=current_user), prefix="slot-",
                   done=_("Question removed from the quiz."), anchor="slots-h")


@bp.route("/quizzes/<int:activity_id>/slots/<int:slot_id>/move", methods=["POST"])
@login_required
def move_slot(activity_id: int, slot_id: int):
    activity, run, quiz = _load(activity_id, perm.can_edit_content)
    slot = _slot(quiz, slot_id)
    direction = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if direction is None:
        return _questions_page(activity, run, quiz, errors={f"move-{slot.id}": _("Choose one of the options.")},
                               status=422)
    return _change(activity, run, quiz, lambda: quizzes.move_slot(slot, direction, by=current_user),
                   prefix="move-", done=_("Question moved."), anchor=f"slot-{slot.id}")


@bp.route("/quizzes/<int:activity_id>/marks", methods=["POST"])
@login_required
def set_marks(activity_id: int):
    """Every slot's mark and page at once; only what changed is saved (a page only while nobody attempted)."""
    activity, run, quiz = _load(activity_id, perm.can_edit_content)
    errors: dict = {}
    marks_changed = False

    def action():
        nonlocal marks_changed
        for slot in list(quiz.slots):
            mark = (request.form.get(f"mark-{slot.id}") or "").strip()
            page = (request.form.get(f"page-{slot.id}") or "").strip()
            new_mark = mark and mark != fmt_number(slot.max_mark, 7)
            new_page = page and page != str(slot.page)
            if not (new_mark or new_page):
                continue
            try:
                quizzes.set_slot(slot, {"max_mark": mark if new_mark else "", "page": page if new_page else ""},
                                 by=current_user)
            except ValidationError as exc:
                errors.update({f"{name.replace('max_', '')}-{slot.id}": message
                               for name, message in exc.errors.items()})
            marks_changed = marks_changed or bool(new_mark)
        if errors:
            raise ValidationError.of(errors)

    response = _change(activity, run, quiz, action, prefix="", done=_("Marks and pages saved."), anchor="slots-h")
    if not isinstance(response, tuple) and marks_changed and quizzes.has_attempts(quiz):
        flash(_("Learners' attempts keep their old marks until you regrade them on the results page."), "warning")
    return response


@bp.route("/quizzes/<int:activity_id>/repaginate", methods=["POST"])
@login_required
def repaginate(activity_id: int):
    activity, run, quiz = _load(activity_id, perm.can_edit_content)
    return _change(activity, run, quiz,
                   lambda: quizzes.repaginate(quiz, request.form.get("per_page", ""), by=current_user),
                   prefix="", done=_("Questions put on pages again."), anchor="slots-h")


# --- overrides ------------------------------------------------------------------------------------------

def _learners(run: CourseRun) -> list[User]:
    return list(db.session.scalars(select(User).join(Enrolment, Enrolment.user_id == User.id).where(
        Enrolment.run_id == run.id, Enrolment.status.in_(sorted(HOLDS_PLACE))).order_by(User.surname, User.name)))


def _override_form(run: CourseRun, quiz: Quiz) -> OverrideForm:
    form = OverrideForm(formdata=request.form if request.method == "POST" else None)
    form.user.choices = select_choices([("", "—")] + [(str(u.id), u.full_name) for u in _learners(run)])
    form.group.choices = select_choices([("", "—")] + [(str(g.id), g.name) for g in run.groups])
    editing = _id(request.args.get("edit")) if request.method == "GET" else None
    row = db.session.get(QuizOverride, editing) if editing and editing > 0 else None
    if row is not None and row.quiz_id == quiz.id:
        form.user.data = str(row.user_id or "")
        form.group.data = str(row.group_id or "")
        form.opens_at.data = local_input(row.opens_at, run)
        form.closes_at.data = local_input(row.closes_at, run)
        form.time_limit.data = str(row.time_limit // 60) if row.time_limit else ""
        form.attempts_allowed.data = "" if row.attempts_allowed is None else str(row.attempts_allowed)
    return form


@bp.route("/quizzes/<int:activity_id>/overrides", methods=["GET", "POST"])
@login_required
def overrides(activity_id: int):
    activity, run, quiz = _load(activity_id, perm.can_edit_content)
    form = _override_form(run, quiz)
    if form.validate_on_submit():
        data = {"user_id": _id(form.user.data), "group_id": _id(form.group.data),
                "time_limit": form.time_limit.data, "attempts_allowed": form.attempts_allowed.data}
        errors: dict = {}
        _dates(form, run, data, errors)
        try:
            if errors:
                raise ValidationError.of(errors)
            quizzes.set_override(quiz, data, by=current_user)
        except ValidationError as exc:
            db.session.rollback()
            for message in _attach(form, {**exc.errors, **errors}, {"user_id": "user", "group_id": "group"}).values():
                form.form_errors.append(message)
        else:
            db.session.commit()
            flash(_("Override saved."), "success")
            return redirect(url_for("quiz_admin.overrides", activity_id=activity.id))
    rows = list(db.session.scalars(select(QuizOverride).where(QuizOverride.quiz_id == quiz.id)
                                   .order_by(QuizOverride.group_id.is_(None), QuizOverride.id)))
    return render_template("quiz_admin/overrides.html", form=form, rows=rows,
                           **_context(activity, run, quiz)), 422 if request.method == "POST" else 200


@bp.route("/quizzes/<int:activity_id>/overrides/<int:override_id>/delete", methods=["POST"])
@login_required
def delete_override(activity_id: int, override_id: int):
    activity, run, quiz = _load(activity_id, perm.can_edit_content)
    row = get_or_404(QuizOverride, override_id)
    if row.quiz_id != quiz.id:
        abort(404)
    quizzes.delete_override(row, by=current_user)
    db.session.commit()
    flash(_("Override removed."), "success")
    return redirect(url_for("quiz_admin.overrides", activity_id=activity.id))


# --- results and regrading --------------------------------------------------------------------------

def _change_rows(quiz: Quiz, changes: list[attempts.Change]) -> list[dict]:
    numbers = {s.id: n for n, s in enumerate(quiz.slots, start=1)}
    names = {q.id: q.name for q in db.session.scalars(select(Question).where(
        Question.id.in_({c.qa.question_id for c in changes})))} if changes else {}
    rows = [{"learner": c.attempt.user.full_name, "attempt": c.attempt.number, "preview": c.attempt.is_preview,
             "number": numbers.get(c.qa.quiz_slot_id, c.qa.slot), "question": names.get(c.qa.question_id, ""),
             "old": c.old_mark, "new": c.new_mark,
             "version": c.new_version.version if c.new_version is not None else None} for c in changes]
    return sorted(rows, key=lambda r: (r["preview"], r["learner"].lower(), r["attempt"], r["number"]))


def _results_page(activity: Activity, run: CourseRun, quiz: Quiz, *, changes: list[dict] | None = None,
                  status: int = 200):
    group_id = group_arg(run)
    page = db.paginate(reports.learners(quiz, group_id=group_id), per_page=RESULTS_PER_PAGE, error_out=False)
    rows = reports.results(quiz, group_id=group_id, users=list(page.items))
    attempted, waiting = reports.result_counts(quiz, group_id=group_id)
    return render_template("quiz_admin/results.html", rows=rows, group_id=group_id, changes=changes, page=page,
                           attempted=attempted, waiting=waiting,
                           can_regrade=perm.can_edit_content(current_user, run), duration=reports.duration_text,
                           **_context(activity, run, quiz)), status


#: Learners per page of the results (each with all their attempts).
RESULTS_PER_PAGE = 100


@bp.route("/quizzes/<int:activity_id>/results")
@login_required
def results(activity_id: int):
    activity, run, quiz = _load(activity_id, perm.can_enrol_others)
    return _results_page(activity, run, quiz)


@bp.route("/quizzes/<int:activity_id>/results.<fmt>")
@login_required
def results_export(activity_id: int, fmt: str):
    activity, run, quiz = _load(activity_id, perm.can_enrol_others)
    if fmt not in ("csv", "xlsx"):
        abort(404)
    table = reports.result_table(quiz, reports.results(quiz, group_id=group_arg(run)), _zone(run))
    body = csv_bytes(table) if fmt == "csv" else xlsx_bytes([(_("Results"), table)])
    mimetype = "text/csv; charset=utf-8" if fmt == "csv" else XLSX
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="quiz-{activity.id}-results.{fmt}"'})


@bp.route("/quizzes/<int:activity_id>/regrade", methods=["POST"])
@login_required
def regrade(activity_id: int):
    """A dry run shows what would change and stores nothing; applying it regrades every submitted attempt."""
    activity, run, quiz = _load(activity_id, perm.can_edit_content)
    action = request.form.get("action")
    if action == "dry_run":
        changes = _change_rows(quiz, attempts.regrade(quiz, by=current_user, dry_run=True))
        db.session.rollback()
        return _results_page(activity, run, quiz, changes=changes)
    if action != "apply":
        flash(_("Choose a dry run or the regrade."), "error")
        return _results_page(activity, run, quiz, status=422)
    changes = attempts.regrade(quiz, by=current_user, dry_run=False)
    db.session.commit()
    flash(_("Regraded: %(n)d marks changed.", n=len(changes)), "success")
    return redirect(url_for("quiz_admin.results", activity_id=activity.id))


# --- grading by hand -------------------------------------------------------------------------------------

@bp.route("/quizzes/<int:activity_id>/grading")
@login_required
def grading(activity_id: int):
    activity, run, quiz = _load(activity_id, perm.can_enrol_others)
    show_all = request.args.get("all") == "1"
    return render_template("quiz_admin/grading.html", queue=reports.grading_queue(quiz, include_automatic=show_all),
                           show_all=show_all, **_context(activity, run, quiz))


def _shown_mark(qa) -> str:
    if qa.state == attempts.WAITING or qa.fraction is None:
        return ""
    return fmt_number(qa.fraction * qa.max_mark)


def _unchanged(qa, mark: str, comment: str, levels: list[str] | None = None) -> bool:
    """Whether the posted mark (or rubric levels) and comment are what the answer has, as the page shows them."""
    if qa.state == attempts.WAITING or qa.fraction is None or sanitize(comment or "") != (qa.comment or ""):
        return False
    if levels is not None:
        return levels == [str(n) for n in qa.rubric_levels or []]
    number = qtypes.parse_number(mark)
    return number is not None and fmt_number(number) == _shown_mark(qa)


def _answer_rows(quiz: Quiz, question_id: int) -> list[dict]:
    rows = []
    for qa in reports.answers_to(quiz, question_id):
        definition = qa.version.definition
        response = attempts.response_of(qa, definition)
        essay = definition.get("qtype") == "essay"
        rows.append({"qa": qa, "essay": essay, "text": str(response or "") if essay else
                     render.response_text(definition, response),
                     "words": qtypes.qtype("essay").words(response) if essay and response else 0,
                     "right": "" if essay else render.right_answer(definition),
                     "mark": _shown_mark(qa), "criteria": attempts.rubric_of(qa),
                     "files": list(qa.files) if essay else []})
    return rows


def _grade_one(qa, criteria: list[dict], *, only: bool, errors: dict) -> bool:
    """Grade one answer from the form (its fields are named by the answer's id); True when it changed."""
    comment = request.form.get(f"comment-{qa.id}") or ""
    if len(comment) > MAX_COMMENT:
        errors[f"comment-{qa.id}"] = _("At most %(n)d characters.", n=MAX_COMMENT)
        return False
    if criteria:
        levels = [(request.form.get(f"level-{qa.id}-{n}") or "").strip() for n in range(1, len(criteria) + 1)]
        if not any(levels):  # «save all» passes over answers nobody has marked yet
            if only:
                errors[f"level-{qa.id}-1"] = _("Choose a level for «%(c)s».", c=criteria[0]["title"])
            return False
        if _unchanged(qa, "", comment, levels):
            return False
        try:
            attempts.grade_question(qa, levels=levels, comment=comment, by=current_user)
        except DomainError as exc:
            for name, message in (exc.errors or {"level-1": exc.message}).items():
                errors[f"level-{qa.id}-{name.rpartition('-')[2]}"] = message
            return False
        return True
    mark = (request.form.get(f"mark-{qa.id}") or "").strip()
    if not mark:
        if only:
            errors[f"mark-{qa.id}"] = _("Enter a mark from 0 to %(max)s.", max=fmt_number(qa.max_mark))
        return False
    if _unchanged(qa, mark, comment):
        return False
    try:
        attempts.grade_question(qa, mark=mark, comment=comment, by=current_user)
    except DomainError as exc:
        errors[f"mark-{qa.id}"] = exc.message
        return False
    return True


@bp.route("/quizzes/<int:activity_id>/grading/<int:question_id>", methods=["GET", "POST"])
@login_required
def grading_question(activity_id: int, question_id: int):
    """Every learner's answer to one question, a mark (or the rubric's levels) and a comment for each; one
    answer or all at once is saved, and nothing is when a mark is wrong."""
    activity, run, quiz = _load(activity_id, perm.can_enrol_others)
    rows = _answer_rows(quiz, question_id)
    if not rows:
        abort(404)
    errors: dict = {}
    if request.method == "POST":
        only = request.form.get("only")
        targets = [r for r in rows if only is None or str(r["qa"].id) == only]
        if not targets:
            abort(404)
        saved = sum(_grade_one(r["qa"], r["criteria"], only=only is not None, errors=errors) for r in targets)
        if not errors:
            db.session.commit()
            flash(_("Marks saved: %(n)d.", n=saved) if saved else _("Nothing changed."),
                  "success" if saved else "info")
            return redirect(url_for("quiz_admin.grading_question", activity_id=activity.id, question_id=question_id))
        db.session.rollback()
        rows = _answer_rows(quiz, question_id)
    question = db.session.get(Question, question_id)
    current = banks.current(question).definition
    return render_template("quiz_admin/grade.html", question=question, rows=rows, errors=errors,
                           values=request.form if request.method == "POST" else {},
                           text=render.text_html(current.get("text", ""), current.get("format", "moodle"),
                                                 current.get("files")),
                           grader_info=render.text_html(current.get("grader_info", ""), current.get("format", "moodle"))
                           if current.get("grader_info") else "",
                           general_feedback=render.text_html(current.get("general_feedback", ""),
                                                             current.get("format", "moodle"))
                           if current.get("general_feedback") else "",
                           min_words=current.get("min_words") or 0, max_words=current.get("max_words") or 0,
                           **_context(activity, run, quiz)), 422 if errors else 200


# --- statistics, preview --------------------------------------------------------------------------------

@bp.route("/quizzes/<int:activity_id>/statistics")
@login_required
def statistics(activity_id: int):
    activity, run, quiz = _load(activity_id, perm.can_enrol_others)
    which = request.args.get("attempts", "first")
    report = reports.quiz_report(quiz, which)
    fmt = request.args.get("format", "html")
    if fmt == "xlsx":
        body = xlsx_bytes(reports.report_sheets(report, activity.title))
        return Response(body, mimetype=XLSX, headers={
            "Content-Disposition": f'attachment; filename="quiz-{activity.id}-statistics.xlsx"'})
    if fmt != "html":
        abort(404)
    return render_template("quiz_admin/statistics.html", report=report, which_labels=translated(reports.WHICH_ATTEMPTS),
                           **_context(activity, run, quiz))


@bp.route("/quizzes/<int:activity_id>/preview", methods=["POST"])
@login_required
def preview(activity_id: int):
    """The teacher's own attempt, as a learner would see it; it never counts and ignores the dates."""
    activity, run, quiz = _load(activity_id, perm.can_enrol_others)
    try:
        attempt = attempts.start(quiz, current_user, preview=True)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        back = "quiz_admin.questions" if perm.can_edit_content(current_user, run) else "quiz_admin.results"
        return redirect(url_for(back, activity_id=activity.id))
    db.session.commit()
    return redirect(url_for("attempts.page", attempt_id=attempt.id))
