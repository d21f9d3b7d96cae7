"""Access matrix: every page route as anonymous, student, teacher, another organization's admin,
the organization's own admin and the global administrator.

Every URL rule of the application must appear in MATRIX (API routes are covered the same way in
tests/api); a new route without an entry fails ``test_every_route_is_in_the_matrix``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from lms.accounts.models import ApiToken, Consent, ParentLink
from lms.extensions import db
from lms.orgs.models import Membership, OrganizationStatus

ROLES = ("anonymous", "student", "teacher", "other_admin", "org_admin", "coordinator", "admin")
OK = "ok"        # allowed: the request is served (2xx, a redirect other than to /login, or 422 for bad data)
DENIED = 403
LOGIN = "login"  # anonymous is sent to the login page


@dataclass
class Case:
    method: str
    url: Callable
    expect: dict
    data: Callable | None = None


def everyone(status=OK):
    return dict.fromkeys(ROLES, status)


def members(**over):
    """Logged-in users allowed, anonymous sent to log in."""
    d = dict.fromkeys(ROLES, OK)
    d["anonymous"] = LOGIN
    d.update(over)
    return d


def managers_only(**over):
    d = {"anonymous": LOGIN, "student": DENIED, "teacher": DENIED, "other_admin": DENIED,
         "org_admin": OK, "coordinator": OK, "admin": OK}
    d.update(over)
    return d


def admin_only(**over):
    d = dict.fromkeys(ROLES, DENIED)
    d.update(anonymous=LOGIN, admin=OK)
    d.update(over)
    return d


def municipal(**over):
    """Decided by the municipality: its coordinator and the global administrator."""
    return admin_only(coordinator=OK, **over)


def _membership(w):
    return db.session.query(Membership).filter_by(user_id=w.student_a.id).first().id


def _parent_link(w):
    return db.session.query(ParentLink).filter_by(student_id=w.student_a.id).first().id


def _consent(w):
    from datetime import date

    from lms.accounts import services

    c = services.record_consent(w.student_a, "personal_data", given_on=date(2026, 9, 1), by=None)
    db.session.commit()
    return c.id


def _token(w):
    from lms.accounts import services

    row, _raw = services.create_api_token(w.student_a, "t", by=None)
    db.session.commit()
    return row.id


def _job(w, dry_run: bool = True):
    """A finished import job of school A's administrator (a real one leaves a credentials file)."""
    from lms.accounts import importing

    data = "username,firstname,lastname,organization,role,grade\nnovikov,Иван,Новиков,school_a,student,5\n"
    job = importing.create_job(filename="people.csv", data=data.encode(), by=w.admin_a, organization=w.school_a,
                               dry_run=dry_run, update_existing=False)
    db.session.commit()
    importing.run_job(job.id)
    db.session.commit()
    return job.id


def _job_owner_only(**over):
    """Import jobs are seen by whoever started them (school A's admin) and the global administrator."""
    d = dict.fromkeys(ROLES, DENIED)
    d.update(anonymous=LOGIN, org_admin=OK, admin=OK)
    d.update(over)
    return d


def _year(w):
    from lms.orgs import services

    year = services.ensure_academic_year(2026)
    db.session.commit()
    return year.id


def _org_status(w):
    from lms.orgs import services

    year = services.ensure_academic_year(2026)
    row = services.set_org_status(w.school_a, year, "resource_centre", by=None)
    db.session.commit()
    return row.id


def _programme(w, state: str = "draft"):
    """A 36-hour programme of school A by its methodologist, brought to ``state``."""
    from lms.courses import programmes

    p = programmes.create_programme(w.school_a, by=w.methodologist_a, title="Программа для проверки доступа",
                                    kind="pd", audience="teachers", total_hours="36", final_attestation_form="test",
                                    final_attestation_hours="2", result_scale="pass_fail")
    programmes.set_curriculum(p, [{"title": "Модуль", "lecture_hours": "14", "practice_hours": "20"}],
                              by=w.methodologist_a)
    if state != "draft":
        programmes.submit_for_review(p, [w.admin_b], by=w.methodologist_a)
    if state in ("approved", "published"):
        programmes.review(p, by=w.admin_b, action="approve")
    if state == "published":
        programmes.publish(p, by=w.admin_a)
    db.session.commit()
    return p.id


def _run(w, **over):
    """A run of a published school-A programme, hosted by school A, taught by school A's teacher."""
    from lms.courses import runs
    from lms.courses.models import Programme

    programme = db.session.get(Programme, _programme(w, "published"))
    run = runs.open_run(programme, w.school_a, by=w.admin_a, teachers=[w.teacher_a], name="Поток",
                        starts_on="2027-01-11", ends_on="2027-03-31", **over)
    db.session.commit()
    return run.id


def _enrolment(w, status: str = "active"):
    """school A's pupil in a network run: asked to enrol (``requested``) or enrolled."""
    from lms.courses import runs
    from lms.courses.models import CourseRun

    run = db.session.get(CourseRun, _run(w, is_published=True, self_enrolment=True, is_network=True))
    if status == "requested":
        enrolment = runs.request_enrolment(run, w.student_a)
    else:
        enrolment = runs.enrol(run, w.student_a, by=w.admin_a)
    db.session.commit()
    return enrolment.id


def _learner_run(w):
    """A run of school A with school A's pupil enrolled."""
    from lms.courses import runs
    from lms.courses.models import CourseRun

    run = db.session.get(CourseRun, _run(w))
    runs.enrol(run, w.student_a, by=w.admin_a)
    db.session.commit()
    return run.id


def _section(w, *, empty: bool = False):
    from lms.courses import content
    from lms.courses.models import CourseRun, Section

    run = db.session.get(CourseRun, _learner_run(w))
    if empty:
        section = content.add_section(run, title="Пустой раздел", by=w.admin_a)
    else:
        section = db.session.scalar(db.select(Section).where(Section.run_id == run.id).order_by(Section.position))
    db.session.commit()
    return section.id


def _activity(w, kind: str = "page"):
    import io

    from lms.courses import content
    from lms.courses.models import Section

    section = db.session.get(Section, _section(w))
    upload = content.Upload("plan.pdf", io.BytesIO(b"%PDF-1.4"), 8, "application/pdf") if kind == "file" else None
    activity = content.save_activity(section, {"kind": kind, "title": "Материал", "completion": "viewed"},
                                     by=w.admin_a, upload=upload)
    db.session.commit()
    return activity.id


def _submission(w):
    """School A's pupil's submitted work for an assignment of their run; returns (activity, submission, file)."""
    import io

    from lms.courses import assignments, content
    from lms.courses.models import Activity

    activity = db.session.get(Activity, _activity(w, "assignment"))
    work = assignments.submit(activity, w.student_a, text="Ответ",
                              uploads=[content.Upload("otvet.pdf", io.BytesIO(b"%PDF-1.4"), 8, "application/pdf")])
    db.session.commit()
    return activity.id, work.id, work.files[0].id


def _grade_item(w):
    from lms.courses import gradebook
    from lms.courses.models import CourseRun

    run = db.session.get(CourseRun, _learner_run(w))
    item = gradebook.ensure_items(run)[0]
    db.session.commit()
    return run.id, item.id


def _quiz(w):
    """A quiz of school A's learner run with one question of a school A bank."""
    from lms.assessment import banks, quizzes
    from lms.courses import content
    from lms.courses.models import Section

    section = db.session.get(Section, _section(w))
    activity = content.save_activity(section, {"kind": "quiz", "title": "Тест", "completion": "graded"},
                                     by=w.admin_a)
    bank = banks.create_bank(name="Банк", organization=w.school_a, by=w.admin_a)
    question = banks.add_question(bank, {"qtype": "truefalse", "text": "Верно?", "answer": True}, by=w.admin_a)
    quizzes.add_questions(quizzes.quiz_of(activity), [question.id], by=w.admin_a)
    db.session.commit()
    return activity.id


def _attempt(w, finished: bool = False):
    """School A's pupil's attempt of that quiz (open, or submitted)."""
    from lms.assessment import attempts, quizzes
    from lms.courses.models import Activity

    quiz = quizzes.quiz_of(db.session.get(Activity, _quiz(w)))
    attempt = attempts.start(quiz, w.student_a)
    if finished:
        attempts.submit(attempt, user_id=w.student_a.id)
    db.session.commit()
    return attempt.id


def _attempt_file(w):
    """That open attempt and a file on its question (put there directly: the question takes none)."""
    from lms.assessment.models import AttemptFile, QuizAttempt
    from lms.core.storage import get_storage

    attempt = db.session.get(QuizAttempt, _attempt(w))
    key = f"runs/{attempt.run_id}/attempts/{attempt.id}/1/x/work.pdf"
    get_storage().put_bytes(key, b"work")
    row = AttemptFile(question_attempt_id=attempt.questions[0].id, key=key, name="work.pdf", size=4)
    db.session.add(row)
    db.session.commit()
    return attempt.id, row.id


def _attempt_owner_only():
    """Only the attempt's owner: anybody else is told it does not exist."""
    d = dict.fromkeys(ROLES, 404)
    d.update(anonymous=LOGIN, student=OK)
    return d


def _quiz_slot(w):
    """That quiz (its activity) and its first slot."""
    from lms.assessment import quizzes
    from lms.courses.models import Activity

    activity_id = _quiz(w)
    return activity_id, quizzes.quiz_of(db.session.get(Activity, activity_id)).slots[0].id


def _quiz_override(w):
    """That quiz (its activity) and an override of school A's pupil."""
    from lms.assessment import quizzes
    from lms.courses.models import Activity

    activity_id = _quiz(w)
    row = quizzes.set_override(quizzes.quiz_of(db.session.get(Activity, activity_id)),
                               {"user_id": w.student_a.id, "time_limit": "30"}, by=w.admin_a)
    db.session.commit()
    return activity_id, row.id


def _answered_question(w):
    """That quiz (its activity) and the question of school A's pupil's submitted attempt."""
    from lms.assessment.models import QuizAttempt

    attempt = db.session.get(QuizAttempt, _attempt(w, finished=True))
    return attempt.quiz.activity_id, attempt.questions[0].question_id


def _learner_only(**over):
    d = dict.fromkeys(ROLES, DENIED)
    d.update(anonymous=LOGIN, student=OK)
    d.update(over)
    return d


def _csv_upload(w):
    import io

    return {"csv-file": (io.BytesIO(b"method_a\n"), "people.csv"), "csv-dry_run": "y"}


def _reviewer_only():
    d = dict.fromkeys(ROLES, DENIED)
    d.update(anonymous=LOGIN, other_admin=OK)  # school B's admin is the assigned expert
    return d


def _bank_editors(**over):
    """School A's question bank: its teacher and managers edit it; its student and school B's admin do not
    see it at all (404)."""
    d = {"anonymous": LOGIN, "student": 404, "teacher": OK, "other_admin": 404, "org_admin": OK,
         "coordinator": OK, "admin": OK}
    d.update(over)
    return d


# Objects belong to school A; "other_admin" is school B's administrator, "org_admin" school A's.
MATRIX: dict[str, list[Case]] = {
    "static": [],
    "main.healthz": [Case("GET", lambda w: "/healthz", everyone())],
    "main.dashboard": [Case("GET", lambda w: "/", members())],
    "main.set_locale": [Case("POST", lambda w: "/locale", everyone(), lambda w: {"locale": "ru"})],
    "main.accessibility": [Case("GET", lambda w: "/accessibility", everyone()),
                           Case("POST", lambda w: "/accessibility", everyone(), lambda w: {"toggle": "1"})],
    "main.audit_log": [Case("GET", lambda w: "/audit", managers_only(other_admin=OK))],
    "main.outbox": [Case("GET", lambda w: "/outbox", admin_only())],
    "main.notifications": [Case("GET", lambda w: "/notifications", members())],
    "main.read_notifications": [Case("POST", lambda w: "/notifications/read", members())],
    "main.calendar": [Case("GET", lambda w: "/calendar", members())],
    "main.calendar_feed": [Case("POST", lambda w: "/calendar/feed", members())],
    # The feed is read by calendar programs without a login: only its private token opens it.
    "main.calendar_ics": [Case("GET", lambda w: "/calendar/not-a-token.ics", everyone(404))],
    "auth.login": [Case("GET", lambda w: "/login", everyone())],
    "auth.logout": [Case("POST", lambda w: "/logout", everyone(302))],
    "auth.change_password": [Case("GET", lambda w: "/password/change", members())],
    "auth.reset_request": [Case("GET", lambda w: "/password/reset", everyone())],
    "auth.reset_password": [Case("GET", lambda w: "/password/reset/not-a-token", everyone(410))],
    "profile.view": [Case("GET", lambda w: "/profile", members())],
    "profile.create_token": [Case("POST", lambda w: "/profile/tokens", members(), lambda w: {"name": "x"})],
    "profile.revoke_token": [Case("POST", lambda w: f"/profile/tokens/{_token(w)}/revoke",
                                  members(teacher=DENIED, other_admin=DENIED, org_admin=DENIED,
                                          coordinator=DENIED, admin=DENIED))],
    "profile.end_other_sessions": [Case("POST", lambda w: "/profile/sessions/end-others", members())],
    "people.list_people": [Case("GET", lambda w: "/people", managers_only(teacher=OK, other_admin=OK)),
                           Case("GET", lambda w: f"/people?org={w.school_a.id}", managers_only(teacher=OK))],
    "people.view_person": [Case("GET", lambda w: f"/people/{w.student_a.id}",
                                managers_only(student=OK, teacher=OK))],
    "people.create_person": [Case("GET", lambda w: "/people/new", managers_only(other_admin=OK))],
    "people.edit_person": [Case("GET", lambda w: f"/people/{w.student_a.id}/edit", managers_only())],
    "people.deactivate_person": [Case("POST", lambda w: f"/people/{w.student_a.id}/deactivate", managers_only())],
    "people.reactivate_person": [Case("POST", lambda w: f"/people/{w.student_a.id}/reactivate", managers_only())],
    "people.reset_person_password": [Case("POST", lambda w: f"/people/{w.student_a.id}/password", managers_only())],
    "people.merge_person": [Case("GET", lambda w: f"/people/{w.student_a.id}/merge", managers_only())],
    "people.add_membership": [Case("POST", lambda w: f"/people/{w.teacher_a.id}/memberships", managers_only(),
                                   lambda w: {"organization": w.school_a.id, "role": "methodologist"})],
    "people.remove_membership": [Case("POST", lambda w: f"/memberships/{_membership(w)}/delete", managers_only())],
    "people.change_class": [Case("POST", lambda w: f"/memberships/{_membership(w)}/class", managers_only(),
                                 lambda w: {"grade": "9", "class_letter": "Б"})],
    "people.link_parent": [Case("GET", lambda w: f"/people/{w.student_a.id}/parents", managers_only())],
    "people.unlink_parent": [Case("POST", lambda w: f"/parent-links/{_parent_link(w)}/delete", managers_only())],
    "people.add_consent": [Case("POST", lambda w: f"/people/{w.student_a.id}/consents", managers_only(),
                                lambda w: {"kind": "personal_data", "given_on": "2026-09-01",
                                           "given_by": w.student_a.id})],
    "people.withdraw_consent": [Case("POST", lambda w: f"/consents/{_consent(w)}/withdraw", managers_only())],
    "files.download": [Case("GET", lambda w: "/files/forged-token", everyone(404))],
    "imports.start": [Case("GET", lambda w: "/people/import", managers_only(other_admin=OK))],
    "imports.template": [Case("GET", lambda w: "/people/import/template.csv", managers_only(other_admin=OK))],
    "imports.status": [Case("GET", lambda w: f"/people/import/{_job(w)}", _job_owner_only())],
    "imports.status_json": [Case("GET", lambda w: f"/people/import/{_job(w)}/status.json", _job_owner_only())],
    "imports.errors_csv": [Case("GET", lambda w: f"/people/import/{_job(w)}/errors.csv", _job_owner_only())],
    "imports.run_for_real": [Case("POST", lambda w: f"/people/import/{_job(w)}/run", _job_owner_only())],
    "imports.rerun": [Case("POST", lambda w: f"/people/import/{_job(w)}/rerun", _job_owner_only())],
    # Credentials: only the person who ran the import, not even the global administrator.
    "imports.credentials": [Case("POST", lambda w: f"/people/import/{_job(w, dry_run=False)}/credentials",
                                 _job_owner_only(admin=DENIED))],
    "imports.export_people": [Case("GET", lambda w: "/people/export?format=csv", managers_only(other_admin=OK)),
                              Case("GET", lambda w: "/people/export?format=xlsx", managers_only(other_admin=OK))],
    "orgs.list_orgs": [Case("GET", lambda w: "/orgs", members())],
    "orgs.create_org": [Case("GET", lambda w: "/orgs/new", municipal()),
                        Case("POST", lambda w: "/orgs/new", municipal(),
                             lambda w: {"municipality": w.municipality.id, "kind": "school", "name": "Новая школа",
                                        "short_name": "Новая", "code": "new-school", "time_zone": "Europe/Moscow"})],
    "orgs.view_org": [Case("GET", lambda w: f"/orgs/{w.school_a.id}", managers_only(student=OK, teacher=OK))],
    "orgs.edit_org": [Case("GET", lambda w: f"/orgs/{w.school_a.id}/edit", managers_only())],
    "orgs.set_status": [Case("POST", lambda w: f"/orgs/{w.school_a.id}/statuses", municipal(),
                             lambda w: {"academic_year": _year(w), "status": "resource_centre"})],
    "orgs.delete_status": [Case("POST", lambda w: f"/org-statuses/{_org_status(w)}/delete", municipal())],
    "orgs.municipalities": [Case("GET", lambda w: "/municipalities", admin_only())],
    "orgs.create_municipality": [Case("POST", lambda w: "/municipalities/new", admin_only(),
                                      lambda w: {"name": "Новый округ", "time_zone": "Europe/Moscow"})],
    "orgs.edit_municipality": [Case("GET", lambda w: f"/municipalities/{w.municipality.id}/edit", admin_only())],
    "orgs.academic_years": [Case("GET", lambda w: "/years", municipal())],
    "orgs.create_academic_year": [Case("POST", lambda w: "/years/new", municipal(),
                                       lambda w: {"start_year": "2031"})],
    "orgs.make_year_current": [Case("POST", lambda w: f"/years/{_year(w)}/current", municipal())],
    # Programmes: a draft is seen by its organization's staff and designed by its author, methodologists
    # and managers; a published one is the whole network's catalogue.
    "programmes.list_programmes": [Case("GET", lambda w: "/programmes", members())],
    "programmes.new_programme": [Case("GET", lambda w: "/programmes/new", members(student=DENIED))],
    "programmes.view_programme": [
        Case("GET", lambda w: f"/programmes/{_programme(w)}", members(student=DENIED, other_admin=DENIED)),
        Case("GET", lambda w: f"/programmes/{_programme(w, 'published')}", members())],
    "programmes.plan_pdf": [
        Case("GET", lambda w: f"/programmes/{_programme(w)}/plan.pdf", members(student=DENIED, other_admin=DENIED))],
    "programmes.edit_programme": [Case("GET", lambda w: f"/programmes/{_programme(w)}/edit", managers_only())],
    "programmes.edit_curriculum": [Case("GET", lambda w: f"/programmes/{_programme(w)}/curriculum",
                                        managers_only())],
    "programmes.submit_programme": [Case("GET", lambda w: f"/programmes/{_programme(w)}/submit", managers_only())],
    "programmes.review_programme": [Case("POST", lambda w: f"/programmes/{_programme(w, 'review')}/review",
                                         _reviewer_only(), lambda w: {"action": "comment", "comment": "Замечание"})],
    "programmes.withdraw_programme": [Case("POST", lambda w: f"/programmes/{_programme(w, 'review')}/withdraw",
                                           managers_only())],
    "programmes.publish_programme": [Case("POST", lambda w: f"/programmes/{_programme(w, 'approved')}/publish",
                                          managers_only())],
    "programmes.archive_programme": [Case("POST", lambda w: f"/programmes/{_programme(w, 'published')}/archive",
                                          managers_only())],
    "programmes.new_version": [Case("POST", lambda w: f"/programmes/{_programme(w, 'published')}/new-version",
                                    managers_only())],
    "programmes.delete_programme": [Case("POST", lambda w: f"/programmes/{_programme(w)}/delete", managers_only())],
    # Certificates: school A's certificate of student_a. The holder and school A's managers see it; nobody
    # else (not school A's teacher, not school B's admin). Verification is public.
    "certificates.mine": [Case("GET", lambda w: "/certificates", members())],
    "certificates.org_certificates": [Case("GET", lambda w: f"/orgs/{w.school_a.id}/certificates", managers_only())],
    "certificates.download_zip": [Case("GET", lambda w: f"/orgs/{w.school_a.id}/certificates.zip?c={_cert(w)}",
                                       managers_only())],
    "certificates.issue": [Case("GET", lambda w: f"/orgs/{w.school_a.id}/certificates/new", managers_only())],
    "certificates.view": [Case("GET", lambda w: f"/certificates/{_cert(w)}", managers_only(student=OK))],
    "certificates.pdf": [Case("GET", lambda w: f"/certificates/{_cert(w)}/pdf", managers_only(student=OK))],
    "certificates.revoke": [Case("POST", lambda w: f"/certificates/{_cert(w)}/revoke", managers_only(),
                                 lambda w: {"reason": "Ошибка в фамилии"})],
    "certificates.duplicate": [Case("POST", lambda w: f"/certificates/{_cert(w)}/duplicate", managers_only())],
    "certificates.settings": [Case("GET", lambda w: f"/orgs/{w.school_a.id}/certificates/settings",
                                   managers_only())],
    "certificates.edit_template": [Case("GET", lambda w: f"/orgs/{w.school_a.id}/certificates/templates/statement",
                                        managers_only())],
    "certificates.frdo_page": [
        Case("GET", lambda w: "/certificates/frdo", managers_only(other_admin=OK)),
        Case("GET", lambda w: f"/certificates/frdo?org={w.school_a.id}&start=2026-01-01&end=2026-12-31",
             managers_only())],
    "certificates.frdo_download": [
        Case("GET", lambda w: f"/certificates/frdo.xlsx?org={w.school_a.id}&start=2026-01-01&end=2026-12-31",
             managers_only())],
    "certificates.verify_form": [Case("GET", lambda w: "/verify", everyone())],
    "certificates.verify": [Case("GET", lambda w: f"/verify/{_cert(w, code=True)}", everyone())],
    # Question banks: school A's bank is edited by its teachers and managers; students and other organizations
    # do not see it (404) unless it is shared with them, and then they use it without changing it (403).
    "banks.list_banks": [Case("GET", lambda w: "/banks", managers_only(teacher=OK, other_admin=OK))],
    "banks.new_bank": [Case("GET", lambda w: "/banks/new", managers_only(teacher=OK, other_admin=OK)),
                       Case("POST", lambda w: "/banks/new", managers_only(teacher=OK),
                            lambda w: {"organization": str(w.school_a.id), "name": "Новый банк"})],
    "banks.view_bank": [Case("GET", lambda w: f"/banks/{_bank(w)}", _bank_editors()),
                        Case("GET", lambda w: f"/banks/{_bank(w, shared=True)}", _bank_editors(other_admin=OK))],
    "banks.add_category": [Case("POST", lambda w: f"/banks/{_bank(w)}/categories", _bank_editors(),
                                lambda w: {"cat-name": "Новая категория"}),
                           Case("POST", lambda w: f"/banks/{_bank(w, shared=True)}/categories",
                                _bank_editors(other_admin=DENIED), lambda w: {"cat-name": "Новая категория"})],
    "banks.edit_category": [Case("GET", lambda w: f"/categories/{_bank_category(w)}/edit", _bank_editors())],
    "banks.delete_category": [Case("POST", lambda w: f"/categories/{_bank_category(w)}/delete", _bank_editors())],
    "banks.share_bank": [Case("POST", lambda w: f"/banks/{_bank(w)}/share", _bank_editors(),
                              lambda w: {"organizations": [str(w.school_b.id)]})],
    "banks.transfer": [Case("POST", lambda w: f"/banks/{_bank(w)}/questions/transfer", _bank_editors(),
                            lambda w: {"action": "copy", "questions": [str(_bank_question(w))],
                                       "target": f"{_bank(w)}-0"})],
    "banks.import_questions": [Case("GET", lambda w: f"/banks/{_bank(w)}/import", _bank_editors()),
                               Case("GET", lambda w: f"/banks/{_bank(w, shared=True)}/import",
                                    _bank_editors(other_admin=DENIED))],
    "banks.confirm_import": [Case("POST", lambda w: f"/banks/{_bank(w)}/import/confirm", _bank_editors())],
    "banks.export_bank": [Case("GET", lambda w: f"/banks/{_bank(w)}/export?format=gift", _bank_editors()),
                          Case("GET", lambda w: f"/banks/{_bank(w, shared=True)}/export?format=xml",
                               _bank_editors(other_admin=OK))],
    "banks.new_question": [Case("GET", lambda w: f"/banks/{_bank(w)}/questions/new?qtype=multichoice",
                                _bank_editors())],
    "banks.view_question": [Case("GET", lambda w: f"/questions/{_bank_question(w)}", _bank_editors()),
                            Case("GET", lambda w: f"/questions/{_bank_question(w, shared=True)}",
                                 _bank_editors(other_admin=OK))],
    "banks.edit_question": [Case("GET", lambda w: f"/questions/{_bank_question(w)}/edit", _bank_editors()),
                            Case("GET", lambda w: f"/questions/{_bank_question(w, shared=True)}/edit",
                                 _bank_editors(other_admin=DENIED))],
    "banks.preview_question": [Case("GET", lambda w: f"/questions/{_bank_question(w)}/preview", _bank_editors()),
                               Case("POST", lambda w: f"/questions/{_bank_question(w, shared=True)}/preview",
                                    _bank_editors(other_admin=OK), lambda w: {"q": "true"})],
    # Runs: managers of the host organization run them, the run's teachers enrol and decide, learners see
    # their own participation only.
    "runs.catalogue": [Case("GET", lambda w: "/catalogue", members())],
    "runs.my_courses": [Case("GET", lambda w: "/my/courses", members())],
    "runs.open_run": [Case("GET", lambda w: f"/programmes/{_programme(w, 'published')}/runs/new",
                           managers_only(other_admin=OK))],
    "runs.edit_run": [Case("GET", lambda w: f"/runs/{_run(w)}/edit", managers_only())],
    "runs.view_run": [Case("GET", lambda w: f"/runs/{_run(w)}", members(student=DENIED, other_admin=DENIED)),
                      Case("GET", lambda w: f"/runs/{_run(w, is_published=True)}", members())],
    "runs.add_staff": [Case("POST", lambda w: f"/runs/{_run(w)}/staff", managers_only(),
                            lambda w: {"person": "method_a", "role": "teacher"})],
    "runs.add_group": [Case("POST", lambda w: f"/runs/{_run(w)}/groups", managers_only(),
                            lambda w: {"name": "Группа Х"})],
    "runs.enrolments": [Case("GET", lambda w: f"/runs/{_run(w)}/enrolments", managers_only(teacher=OK))],
    "runs.enrol_person": [Case("POST", lambda w: f"/runs/{_run(w)}/enrol", managers_only(teacher=OK),
                               lambda w: {"person-person": "method_a"})],
    "runs.enrol_cohort": [Case("POST", lambda w: f"/runs/{_run(w)}/enrol/cohort", managers_only(teacher=OK),
                               lambda w: {"cohort-organization": str(w.school_a.id), "cohort-role": "student",
                                          "cohort-grade": "9"})],
    "runs.enrol_csv": [Case("POST", lambda w: f"/runs/{_run(w)}/enrol/csv", managers_only(teacher=OK), _csv_upload)],
    "runs.request_enrolment": [
        Case("POST", lambda w: f"/runs/{_run(w, is_published=True, self_enrolment=True, is_network=True)}/request",
             members(teacher=DENIED), lambda w: {"note": "Прошу зачислить"})],
    "runs.approve_enrolment": [Case("POST", lambda w: f"/enrolments/{_enrolment(w, 'requested')}/approve",
                                    managers_only(teacher=OK))],
    "runs.reject_enrolment": [Case("POST", lambda w: f"/enrolments/{_enrolment(w, 'requested')}/reject",
                                   managers_only(teacher=OK))],
    "runs.withdraw_enrolment": [Case("POST", lambda w: f"/enrolments/{_enrolment(w)}/withdraw",
                                     members(other_admin=DENIED))],
    # Course content: the run's teachers and the host's managers edit it; its learners open it.
    "content.course": [Case("GET", lambda w: f"/runs/{_run(w)}/course", managers_only(teacher=OK)),
                       Case("GET", lambda w: f"/runs/{_learner_run(w)}/course", members(other_admin=DENIED))],
    "content.add_section": [Case("POST", lambda w: f"/runs/{_run(w)}/sections", managers_only(teacher=OK),
                                 lambda w: {"title": "Новый раздел"})],
    "content.edit_section": [Case("GET", lambda w: f"/sections/{_section(w)}/edit", managers_only(teacher=OK))],
    "content.delete_section": [Case("POST", lambda w: f"/sections/{_section(w, empty=True)}/delete",
                                    managers_only(teacher=OK))],
    "content.new_activity": [Case("GET", lambda w: f"/sections/{_section(w)}/activities/new?kind=page",
                                  managers_only(teacher=OK))],
    "content.edit_activity": [Case("GET", lambda w: f"/activities/{_activity(w)}/edit", managers_only(teacher=OK))],
    "content.delete_activity": [Case("POST", lambda w: f"/activities/{_activity(w)}/delete",
                                     managers_only(teacher=OK))],
    "content.view_activity": [Case("GET", lambda w: f"/activities/{_activity(w)}", members(other_admin=DENIED))],
    "content.download": [Case("GET", lambda w: f"/activities/{_activity(w, 'file')}/download",
                              members(other_admin=DENIED))],
    "content.announce": [Case("POST", lambda w: f"/runs/{_run(w)}/announcements", managers_only(teacher=OK),
                              lambda w: {"title": "Объявление", "body": "Текст"})],
    "content.submit_work": [Case("POST", lambda w: f"/activities/{_activity(w, 'assignment')}/submit", _learner_only(),
                                 lambda w: {"text": "Мой ответ"})],
    "content.submissions": [Case("GET", lambda w: f"/activities/{_activity(w, 'assignment')}/submissions",
                                 managers_only(teacher=OK))],
    "content.grade_submission": [Case("GET", lambda w: f"/submissions/{_submission(w)[1]}/grade",
                                      managers_only(teacher=OK))],
    "content.submission_file": [Case("GET", lambda w: f"/submission-files/{_submission(w)[2]}",
                                     members(other_admin=DENIED))],
    # Quizzes: a learner of the run attempts; an attempt is its owner's; the run's staff review it.
    "attempts.quiz": [Case("GET", lambda w: f"/quizzes/{_quiz(w)}", members(other_admin=DENIED))],
    "attempts.start": [Case("POST", lambda w: f"/quizzes/{_quiz(w)}/start", _learner_only())],
    "attempts.page": [Case("GET", lambda w: f"/attempts/{_attempt(w)}", _attempt_owner_only())],
    "attempts.save_page": [Case("POST", lambda w: f"/attempts/{_attempt(w)}", _attempt_owner_only(),
                                lambda w: {"page": "1", "q1": "true"})],
    "attempts.autosave": [Case("POST", lambda w: f"/attempts/{_attempt(w)}/save", {**_attempt_owner_only(),
                                                                                      "anonymous": 401},
                               lambda w: {"answers": "[]"})],
    "attempts.summary": [Case("GET", lambda w: f"/attempts/{_attempt(w)}/summary", _attempt_owner_only())],
    "attempts.upload": [Case("POST", lambda w: f"/attempts/{_attempt(w)}/files", _attempt_owner_only(),
                             lambda w: {"slot": "1"})],
    "attempts.remove_file": [Case("POST", lambda w: "/attempts/{}/files/{}/remove".format(*_attempt_file(w)),
                                  _attempt_owner_only())],
    "attempts.download": [Case("GET", lambda w: "/attempts/{}/files/{}".format(*_attempt_file(w)),
                               managers_only(teacher=OK, student=OK, other_admin=404))],
    "attempts.submit": [Case("POST", lambda w: f"/attempts/{_attempt(w)}/submit", _attempt_owner_only())],
    "attempts.review": [Case("GET", lambda w: f"/attempts/{_attempt(w, finished=True)}/review",
                             managers_only(teacher=OK, student=OK, other_admin=404))],
    # The teacher's quiz pages: those who edit the run's content change the quiz; its staff see the results.
    "quiz_admin.settings": [Case("GET", lambda w: f"/quizzes/{_quiz(w)}/settings", managers_only(teacher=OK)),
                            Case("POST", lambda w: f"/quizzes/{_quiz(w)}/settings", managers_only(teacher=OK),
                                 lambda w: {"max_grade": "10", "time_limit": "30", "review-open": ["attempt"]})],
    "quiz_admin.questions": [Case("GET", lambda w: f"/quizzes/{_quiz(w)}/questions", managers_only(teacher=OK))],
    "quiz_admin.add_questions": [Case("POST", lambda w: f"/quizzes/{_quiz(w)}/questions/add",
                                      managers_only(teacher=OK), lambda w: {"question_ids": ["0"]})],
    "quiz_admin.add_random": [Case("POST", lambda w: f"/quizzes/{_quiz(w)}/questions/random",
                                   managers_only(teacher=OK), lambda w: {"category_id": "", "count": "1"})],
    "quiz_admin.remove_slot": [Case("POST", lambda w: "/quizzes/{}/slots/{}/remove".format(*_quiz_slot(w)),
                                    managers_only(teacher=OK))],
    "quiz_admin.move_slot": [Case("POST", lambda w: "/quizzes/{}/slots/{}/move".format(*_quiz_slot(w)),
                                  managers_only(teacher=OK), lambda w: {"direction": "down"})],
    "quiz_admin.set_marks": [Case("POST", lambda w: f"/quizzes/{_quiz(w)}/marks", managers_only(teacher=OK))],
    "quiz_admin.repaginate": [Case("POST", lambda w: f"/quizzes/{_quiz(w)}/repaginate", managers_only(teacher=OK),
                                   lambda w: {"per_page": "1"})],
    "quiz_admin.overrides": [Case("GET", lambda w: f"/quizzes/{_quiz(w)}/overrides", managers_only(teacher=OK)),
                             Case("POST", lambda w: f"/quizzes/{_quiz(w)}/overrides", managers_only(teacher=OK),
                                  lambda w: {"user": str(w.student_a.id), "time_limit": "45"})],
    "quiz_admin.delete_override": [Case("POST", lambda w: "/quizzes/{}/overrides/{}/delete".format(*_quiz_override(w)),
                                        managers_only(teacher=OK))],
    "quiz_admin.results": [Case("GET", lambda w: f"/quizzes/{_quiz(w)}/results", managers_only(teacher=OK))],
    "quiz_admin.results_export": [Case("GET", lambda w: f"/quizzes/{_quiz(w)}/results.xlsx", managers_only(teacher=OK))],
    "quiz_admin.regrade": [Case("POST", lambda w: f"/quizzes/{_quiz(w)}/regrade", managers_only(teacher=OK),
                                lambda w: {"action": "dry_run"})],
    "quiz_admin.grading": [Case("GET", lambda w: f"/quizzes/{_quiz(w)}/grading", managers_only(teacher=OK))],
    "quiz_admin.grading_question": [Case("GET", lambda w: "/quizzes/{}/grading/{}".format(*_answered_question(w)),
                                         managers_only(teacher=OK))],
    "quiz_admin.statistics": [Case("GET", lambda w: f"/quizzes/{_quiz(w)}/statistics", managers_only(teacher=OK)),
                              Case("GET", lambda w: f"/quizzes/{_quiz(w)}/statistics?format=xlsx",
                                   managers_only(teacher=OK))],
    "quiz_admin.preview": [Case("POST", lambda w: f"/quizzes/{_quiz(w)}/preview", managers_only(teacher=OK))],
    # Progress and attestation: the run's teachers record; completing with certificates is the host's decision.
    "completion.group": [Case("GET", lambda w: f"/runs/{_learner_run(w)}/group", managers_only(teacher=OK))],
    "completion.record": [Case("POST", lambda w: f"/runs/{_learner_run(w)}/attestation", managers_only(teacher=OK),
                               lambda w: {"module": "final", "held_on": "2027-01-20",
                                          f"result-{w.student_a.id}": "failed"})],
    "completion.certify": [Case("POST", lambda w: f"/runs/{_learner_run(w)}/certify", managers_only(),
                                lambda w: {"learners": [str(w.student_a.id)]})],
    "completion.statements": [Case("POST", lambda w: f"/runs/{_learner_run(w)}/statements", managers_only(),
                                   lambda w: {"learners": [str(w.student_a.id)]})],
    "completion.gradebook_view": [Case("GET", lambda w: f"/runs/{_learner_run(w)}/gradebook", managers_only(teacher=OK))],
    "completion.gradebook_export": [Case("GET", lambda w: f"/runs/{_learner_run(w)}/gradebook.xlsx",
                                         managers_only(teacher=OK))],
    "completion.override": [Case("POST", lambda w: f"/runs/{_grade_item(w)[0]}/gradebook/override",
                                 managers_only(teacher=OK),
                                 lambda w: {"item": "0", "user": str(w.student_a.id), "points": "1", "reason": "x"})],
    "completion.add_category": [Case("POST", lambda w: f"/runs/{_learner_run(w)}/gradebook/categories",
                                     managers_only(teacher=OK), lambda w: {"name": "Практика", "weight": "2"})],
    "completion.place_item": [Case("POST", lambda w: f"/grade-items/{_grade_item(w)[1]}/place",
                                   managers_only(teacher=OK), lambda w: {"weight": "2"})],
    "completion.history": [Case("GET", lambda w: f"/runs/{_learner_run(w)}/gradebook/history",
                                members(other_admin=DENIED))],
    "completion.my_grades": [Case("GET", lambda w: f"/runs/{_learner_run(w)}/grades", _learner_only())],
}


def _cert(w, code: bool = False):
    """A certificate of school A issued to student_a (the holder is the matrix's "student")."""
    from datetime import date

    from tests.courses.certificate_helpers import issue, make_programme

    cert = issue(w.student_a, w.school_a, make_programme(w.school_a), issued_on=date(2026, 3, 30))
    db.session.commit()
    return cert.code if code else cert.id


def _bank(w, shared: bool = False):
    """School A's bank (made once per role's savepoint), optionally shared with school B."""
    from lms.assessment import banks
    from lms.assessment.models import QuestionBank

    bank = db.session.scalar(db.select(QuestionBank).where(QuestionBank.name == "Банк школы А"))
    if bank is None:
        bank = banks.create_bank(name="Банк школы А", organization=w.school_a, by=w.methodologist_a)
    if shared:
        banks.share(bank, [w.school_b.id], by=None)
    db.session.commit()
    return bank.id


def _bank_question(w, shared: bool = False):
    from lms.assessment import banks
    from lms.assessment.models import QuestionBank

    bank = db.session.get(QuestionBank, _bank(w, shared))
    question = banks.add_question(bank, {"qtype": "truefalse", "text": "Земля круглая", "answer": True}, by=None)
    db.session.commit()
    return question.id


def _bank_category(w):
    from lms.assessment import banks
    from lms.assessment.models import QuestionBank

    category = banks.category_path(db.session.get(QuestionBank, _bank(w)), "Пустая категория")
    db.session.commit()
    return category.id

_users = {
    "student": lambda w: w.student_a, "teacher": lambda w: w.teacher_a, "other_admin": lambda w: w.admin_b,
    "org_admin": lambda w: w.admin_a, "coordinator": lambda w: w.coordinator, "admin": lambda w: w.admin,
}


def _is_api(endpoint: str, rule: str) -> bool:
    return rule.startswith("/api/")


def test_every_route_is_in_the_matrix(app):
    missing = sorted({r.endpoint for r in app.url_map.iter_rules()
                      if not _is_api(r.endpoint, r.rule) and r.endpoint not in MATRIX})
    assert not missing, f"routes without an access-matrix entry: {missing}"


def _cases():
    for endpoint, cases in MATRIX.items():
        for i, _case in enumerate(cases):
            yield pytest.param(endpoint, i, id=f"{endpoint}[{i}]")


def _check(case: Case, role: str, response) -> str | None:
    expected = case.expect[role]
    status = response.status_code
    location = response.headers.get("Location", "")
    if expected == LOGIN:
        ok = status == 302 and "/login" in location
    elif expected == OK:
        ok = status in (200, 201, 204, 302, 303, 422) and not (status == 302 and "/login" in location)
    else:
        ok = status == expected
    return None if ok else f"{role}: expected {expected}, got {status} {location}"


@pytest.mark.parametrize("endpoint, index", list(_cases()))
def test_access(app, world, endpoint, index):
    """Each role in turn, each inside a savepoint rolled back afterwards (one world per route)."""
    from tests.conftest import login

    case = MATRIX[endpoint][index]
    connection = db.engines[None]  # the test's connection (see the db_session fixture)
    usernames = {role: _users[role](world).username for role in ROLES if role != "anonymous"}
    db.session.commit()  # the test's session must hold no savepoint across ours
    problems = []
    for role in ROLES:
        savepoint = connection.begin_nested()
        try:
            client = app.test_client()
            if role != "anonymous":
                assert login(client, usernames[role]).status_code == 302
            data = case.data(world) if case.data else {}
            url = case.url(world)
            db.session.commit()
            response = client.open(url, method=case.method, data=data)
            problem = _check(case, role, response)
            if problem:
                problems.append(f"{case.method} {url} as {problem}")
        finally:
            db.session.commit()
            savepoint.rollback()
            db.session.expire_all()
    assert not problems, "\n".join(problems)


def test_matrix_helpers_cover_models():
    # Guard the fixtures used above against silent renames.
    assert ApiToken and Consent and OrganizationStatus


@pytest.mark.parametrize("url", ["/people/99999999999", "/orgs/99999999999", "/people/import/99999999999",
                                 "/memberships/99999999999/delete", "/api/v1/people/99999999999"])
def test_ids_beyond_the_key_range_are_not_found(client, world, login_as, url):
    """On PostgreSQL such an id used to reach the database and fail the request (a 500)."""
    from lms.accounts import services

    login_as(client, world.admin)
    _row, token = services.create_api_token(world.admin, "t", by=None)
    db.session.commit()
    method = "POST" if url.endswith("/delete") else "GET"
    response = client.open(url, method=method, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404


def test_out_of_range_organization_in_a_form_is_refused(client, world, login_as):
    login_as(client, world.admin_a)
    response = client.post(f"/people/{world.teacher_a.id}/memberships",
                           data={"organization": "99999999999", "role": "teacher"})
    assert response.status_code == 403
