"""A learner's side of a quiz: the quiz page, starting, the attempt page by page (a plain form that works
without JavaScript; with it, every change is saved at once over HTTP), the summary, submitting and the review.

Every request names an attempt: only its owner answers it; the review is also open to the run's teachers.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    render_template_string,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.accounts import sessions
from lms.accounts.sessions import authenticated_user_id
from lms.assessment import attempt_files, attempts, quizzes, views
from lms.assessment.models import AttemptState, QuestionAttempt, Quiz, QuizAttempt
from lms.core.db import utcnow
from lms.core.errors import Conflict, DomainError
from lms.core.loading import MAX_ID
from lms.core.permissions import require
from lms.core.storage import get_storage
from lms.courses.labels import course_labels
from lms.courses.models import Activity
from lms.courses.web import opened, uploads
from lms.extensions import db

bp = Blueprint("attempts", __name__)

@bp.context_processor
def _labels():
    return {**course_labels(), "attempt_state_labels": {
        AttemptState.IN_PROGRESS: _("In progress"), AttemptState.OVERDUE: _("Overdue: submit it"),
        AttemptState.FINISHED: _("Submitted"), AttemptState.ABANDONED: _("Never submitted")}}


@bp.route("/quizzes/<int:activity_id>")
@login_required
def quiz(activity_id: int):
    activity, quiz_ = quizzes.activity_and_quiz(activity_id)
    access = opened(activity)
    now = utcnow()
    status = attempts.learner_status(quiz_, current_user.id, now, group_id=access.group_id, learner=access.learns)
    if status.closed:
        db.session.commit()
    rows = []
    for a in status.attempts:
        items = attempts.review_items(quiz_, a, now, closes_at=status.effective.closes_at)
        rows.append({"attempt": a, "grade": attempts.attempt_grade(quiz_, a) if "marks" in items else None,
                     "marks": "marks" in items, "review": "attempt" in items and a.state == AttemptState.FINISHED})
    staff = access.enrols_others
    grade = None if staff else status.grade
    return render_template("attempts/quiz.html", activity=activity, run=access.run, quiz=quiz_, staff=staff,
                           editing=access.edits_content, eff=status.effective, rows=rows, reason=status.reason,
                           learner=access.learns, open_attempt=status.open_attempt, grade=grade, now=now,
                           grade_methods=quizzes.GRADE_METHODS, overdue_labels=quizzes.OVERDUE,
                           passed=attempts.passed(quiz_, grade))


@bp.route("/quizzes/<int:activity_id>/start", methods=["POST"])
@login_required
def start(activity_id: int):
    """A learner of the run starts (or continues) an attempt: a thousand learners press «Start» in the same
    minute, so the quiz is read with its activity, the run with the learner's standing (``opened``)."""
    activity, quiz_ = quizzes.activity_and_quiz(activity_id)
    access = opened(activity)
    require(access.learns)
    try:
        attempt_id = attempts.start_id(quiz_, current_user, group_id=access.group_id)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("attempts.quiz", activity_id=activity_id)), 303
    return redirect(url_for("attempts.page", attempt_id=attempt_id)), 303


def _own_attempt(attempt_id: int) -> QuizAttempt:
    return attempts.own_attempt(attempt_id, current_user.id)


def _page_number(attempt: QuizAttempt, quiz_: Quiz) -> int:
    if quiz_.navigation == "sequential":
        return attempt.page
    raw = request.args.get("page", "")
    page = int(raw) if raw.isdecimal() else attempt.page
    return min(max(page, 1), attempt.pages)


def _values(qa: QuestionAttempt) -> dict:
    name = attempts.prefix(qa.slot)
    return {name + suffix: value for suffix, value in (qa.response or {}).items()}


def _question_views(attempt: QuizAttempt, qas: list[QuestionAttempt], items: frozenset[str]) -> list[dict]:
    """``views.question_views`` with the form's field names and the saved values."""
    return [{**shown, "prefix": attempts.prefix(shown["qa"].slot), "fields": _values(shown["qa"]),
             "files": shown["files"] or []} for shown in views.question_views(attempt, qas, items)]


@bp.route("/attempts/<int:attempt_id>")
@login_required
def page(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    quiz_ = attempt.quiz
    now = utcnow()
    if attempts.close_if_overdue(attempt, now):
        db.session.commit()
    if attempt.state not in AttemptState.OPEN:
        return redirect(url_for("attempts.review", attempt_id=attempt.id))
    if attempt.state == AttemptState.OVERDUE:
        return redirect(url_for("attempts.summary", attempt_id=attempt.id))
    number = _page_number(attempt, quiz_)
    qas = [qa for qa in attempt.questions if qa.page == number]
    during = attempts.review_items(quiz_, attempt, now)
    activity = db.session.get(Activity, quiz_.activity_id)
    return render_template("attempts/page.html", attempt=attempt, quiz=quiz_, activity=activity, page=number,
                           questions=_question_views(attempt, qas, during), numbers=attempts.question_numbers(attempt),
                           seconds_left=attempts.seconds_left(attempt, now))


def _answers_from_form(attempt: QuizAttempt, number: int) -> list[tuple[int, int, dict]]:
    out = []
    for qa in attempt.questions:
        if qa.page != number or qa.checked:
            continue
        raw = request.form.get(f"seq-{qa.slot}", "")
        seq = int(raw) if raw.isdecimal() and 0 < int(raw) < 2**31 else qa.seq + 1
        out.append((qa.slot, max(seq, 1), attempts.values_from_form(request.form, qa.slot)))
    return out


def _page_files(attempt: QuizAttempt, number: int, now) -> str | None:
    """The page form's files: a «Remove» pressed, then the files chosen for each essay of the page. Each
    question's files are committed on their own; returns the first refusal (naming the question), or None."""
    removed = request.form.get("remove_file", "")
    if removed.isdecimal() and 0 < int(removed) <= MAX_ID:
        try:
            row = attempt_files.detach(attempt.id, current_user.id, int(removed), now=now)
            db.session.commit()
            attempt_files.discard(row.key)
        except DomainError as exc:
            db.session.rollback()
            return exc.message
    for qa in attempt.questions:
        chosen = uploads(attempt_files.field(qa.slot))
        if qa.page != number or not chosen:
            continue
        try:
            attempt_files.attach(attempt.id, current_user.id, qa.slot, chosen, now=now)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            return _("Question %(n)d: %(reason)s", n=attempts.question_numbers(attempt).get(qa.slot, qa.slot),
                     reason=exc.message)
    return None


@bp.route("/attempts/<int:attempt_id>", methods=["POST"])
@login_required
def save_page(attempt_id: int):
    """The page's form (the path without JavaScript): store its answers and files, then go where the button
    says (a file refused keeps the learner on the page, with the answers saved)."""
    attempt = _own_attempt(attempt_id)
    quiz_ = attempt.quiz
    raw = request.form.get("page", "")
    number = int(raw) if raw.isdecimal() and 1 <= int(raw) <= attempt.pages else attempt.page
    target = request.form.get("goto", "") or ("stay" if request.form.get("remove_file") else "")
    now = utcnow()
    try:
        attempts.save(attempt.id, current_user.id, _answers_from_form(attempt, number), now=now)
        db.session.commit()
        refused = _page_files(attempt, number, now)
        if refused:
            flash(refused, "error")
            return redirect(url_for("attempts.page", attempt_id=attempt.id, page=number)), 303
        if request.form.get("check", "").isdecimal():
            attempts.check(attempt, int(request.form["check"]), user_id=current_user.id, now=now)
            db.session.commit()
            return redirect(url_for("attempts.page", attempt_id=attempt.id, page=number,
                                    _anchor=f"question-{request.form['check']}")), 303
        if target.isdecimal():
            moved = attempts.go_to_page(attempt, int(target), user_id=current_user.id, now=now)
            db.session.commit()
            return redirect(url_for("attempts.page", attempt_id=attempt.id, page=moved)), 303
    except attempts.AttemptClosed as exc:
        db.session.rollback()
        flash(exc.message, "error")
        attempts.close_if_overdue(attempt, now)
        db.session.commit()
        return redirect(url_for("attempts.summary", attempt_id=attempt.id)), 303
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("attempts.page", attempt_id=attempt.id, page=number)), 303
    if target == "summary" or quiz_.navigation == "sequential" and target != "stay":
        return redirect(url_for("attempts.summary", attempt_id=attempt.id)), 303
    return redirect(url_for("attempts.page", attempt_id=attempt.id, page=number)), 303


def _json_error(exc: DomainError):
    return jsonify(error={"code": exc.status, "message": exc.message, "field": exc.field}), exc.status


def _file_list(attempt: QuizAttempt, slot: int) -> str:
    files = attempt_files.files_by_slot(attempt).get(slot, [])
    return render_template_string('{% from "attempts/_files.html" import file_list %}'
                                  '{{ file_list(files, attempt, slot) }}', files=files, attempt=attempt, slot=slot)


@bp.route("/attempts/<int:attempt_id>/files", methods=["POST"])
@login_required
def upload(attempt_id: int):
    """The page's script sends a chosen file at once: ``slot`` and ``q<slot>-files`` → the question's file list
    (HTML) as JSON; the same rules as a save."""
    attempt = _own_attempt(attempt_id)
    raw = request.form.get("slot", "")
    slot = int(raw) if raw.isdecimal() and int(raw) < 2**31 else 0
    try:
        attempt_files.attach(attempt.id, current_user.id, slot, uploads(attempt_files.field(slot)))
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return _json_error(exc)
    return jsonify(html=_file_list(attempt, slot), message=_("The file is attached."))


@bp.route("/attempts/<int:attempt_id>/files/<int:file_id>/remove", methods=["POST"])
@login_required
def remove_file(attempt_id: int, file_id: int):
    attempt = _own_attempt(attempt_id)
    try:
        row = attempt_files.detach(attempt.id, current_user.id, file_id)
        slot = row.question_attempt.slot
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return _json_error(exc)
    attempt_files.discard(row.key)
    return jsonify(html=_file_list(attempt, slot), message=_("The file is removed."))


@bp.route("/attempts/<int:attempt_id>/files/<int:file_id>")
@login_required
def download(attempt_id: int, file_id: int):
    """A file of an attempt: for its learner, and for the run's teachers (who review and grade it)."""
    row = attempt_files.readable(attempt_id, file_id, current_user)
    return redirect(get_storage().presigned_url(row.key, download_name=row.name))


@bp.route("/attempts/<int:attempt_id>/save", methods=["POST"])
def autosave(attempt_id: int):
    """The page's script: ``{"answers": [{"slot", "seq", "values"}]}`` → what the server holds now. The hottest
    path of a quiz: an answer is stored by one statement that also checks who is asking (``attempts.save_as``,
    the rules of every page); what that leaves goes the careful way: the session (401 when it has ended, the
    same rules), one statement reading the attempt (404, 409), one per question writing (422 and the reasons)."""
    body = request.get_json(silent=True)
    answers = body.get("answers") if isinstance(body, dict) else None
    shaped = isinstance(answers, list) and len(answers) <= 200 and all(isinstance(a, dict) for a in answers)
    answers = [(a.get("slot"), a.get("seq"), a.get("values")) for a in answers] if shaped else []
    now = utcnow()
    who = sessions.live_session_params(now) if answers else None
    saved, done = attempts.save_as(attempt_id, who, answers, now) if who else (attempts.SaveResult(), 0)
    if not answers or done < len(answers):
        user_id = authenticated_user_id()
        if user_id is None:
            return jsonify(error={"code": 401, "message": _("Your session has ended. Please log in again."),
                                  "field": None}), 401
        if not shaped:
            attempts.owned_or_404(attempt_id, user_id)  # somebody else's attempt: not found, whatever the body
            return jsonify(error={"code": 422, "message": _("The answers are not in the expected form."),
                                  "field": "answers"}), 422
        try:
            rest = attempts.save(attempt_id, user_id, answers[done:], now=now)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            return _json_error(exc)
        saved.extend(rest)
        saved.deadline = rest.deadline
    return jsonify(saved=[{"slot": s.slot, "seq": s.seq, "applied": s.applied} for s in saved],
                   seconds_left=saved.seconds_left(now))


@bp.route("/attempts/<int:attempt_id>/summary")
@login_required
def summary(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    now = utcnow()
    if attempts.close_if_overdue(attempt, now):
        db.session.commit()
    if attempt.state not in AttemptState.OPEN:
        return redirect(url_for("attempts.review", attempt_id=attempt.id))
    activity = db.session.get(Activity, attempt.quiz.activity_id)
    numbers, done = attempts.question_numbers(attempt), attempts.answered(attempt)
    rows = [{"qa": qa, "number": numbers[qa.slot], "answered": done[qa.slot]}
            for qa in attempt.questions if qa.slot in numbers]
    return render_template("attempts/summary.html", attempt=attempt, quiz=attempt.quiz, activity=activity, rows=rows,
                           seconds_left=attempts.seconds_left(attempt, now), grace_until=attempts.grace_until(attempt))


@bp.route("/attempts/<int:attempt_id>/submit", methods=["POST"])
@login_required
def submit(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    try:
        attempts.submit(attempt, user_id=current_user.id)
        db.session.commit()
    except Conflict as exc:
        db.session.commit()  # an abandoned attempt stays abandoned
        flash(exc.message, "error")
        return redirect(url_for("attempts.quiz", activity_id=attempt.quiz.activity_id)), 303
    return redirect(url_for("attempts.review", attempt_id=attempt.id)), 303


@bp.route("/attempts/<int:attempt_id>/review")
@login_required
def review(attempt_id: int):
    attempt, staff = attempts.for_reading(attempt_id, current_user)
    quiz_ = attempt.quiz
    now = utcnow()
    if attempts.close_if_overdue(attempt, now):
        db.session.commit()
    if not staff and attempt.state in AttemptState.OPEN:
        return redirect(url_for("attempts.page", attempt_id=attempt.id))
    eff = quizzes.effective(quiz_, attempt.user_id, attempts.group_of(attempt.run_id, attempt.user_id))
    items = attempts.review_items(quiz_, attempt, now, staff=staff, closes_at=eff.closes_at)
    activity = db.session.get(Activity, quiz_.activity_id)
    shown = "attempt" in items
    grade = attempts.attempt_grade(quiz_, attempt) if "marks" in items else None
    return render_template("attempts/review.html", attempt=attempt, quiz=quiz_, activity=activity, items=items,
                           questions=_question_views(attempt, list(attempt.questions), items) if shown else [],
                           grade=grade, passed=attempts.passed(quiz_, grade), staff=staff,
                           grading_link="quiz_admin.grading_question" in current_app.view_functions)
