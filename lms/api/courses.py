"""/api/v1/programmes, /api/v1/runs (enrolments, requests, completion, grades) and /api/v1/certificates:
the same predicates and services as the pages."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import fields, validate
from sqlalchemy import or_, select

from lms.accounts.models import User
from lms.api.base import Id, PageArgs, Schema, page_of
from lms.api.core import api_user, document_errors, get_or_404, make_blueprint, paginate, require
from lms.core.errors import ValidationError
from lms.courses import assignments, completion, gradebook
from lms.courses import permissions as perm
from lms.courses import runs as run_services
from lms.courses.models import (
    Certificate,
    CourseRun,
    CurriculumModule,
    Enrolment,
    Programme,
    RunStaff,
    Submission,
)
from lms.extensions import db
from lms.orgs.permissions import scope_of

programmes_bp = make_blueprint("programmes", __name__, "/programmes",
                               "Программы (ДПП): учебный план, статус, версии.")
runs_bp = make_blueprint("runs", __name__, "/runs", "Потоки курсов: зачисление, успеваемость, оценки.")
certificates_bp = make_blueprint("certificates", __name__, "/certificates", "Документы об обучении.")


# --- schemas -------------------------------------------------------------------------------------

class ModuleSchema(Schema):
    id = fields.Integer(metadata={"description": "Id модуля: для записи промежуточной аттестации."})
    position = fields.Integer()
    title = fields.String()
    lecture_hours = fields.Integer()
    practice_hours = fields.Integer()
    self_study_hours = fields.Integer()
    internship_hours = fields.Integer()
    total_hours = fields.Integer()
    control_form = fields.String()
    is_optional = fields.Boolean()


class ProgrammeSchema(Schema):
    id = fields.Integer()
    lineage_id = fields.Integer(metadata={"description": "Id первой версии: общий у всех версий программы."})
    version = fields.Integer()
    title = fields.String()
    kind = fields.String()
    direction = fields.String(allow_none=True)
    audience = fields.String()
    audience_note = fields.String()
    subject = fields.String()
    owner_organization_id = fields.Integer()
    total_hours = fields.Integer()
    academic_hour_minutes = fields.Integer()
    final_attestation_form = fields.String()
    result_scale = fields.String()
    status = fields.String()
    modules = fields.List(fields.Nested(ModuleSchema))


class ProgrammeArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(["draft", "review", "approved", "published", "archived"]))
    kind = fields.String()
    organization = Id(metadata={"description": "Id организации-владельца."})


class RunSchema(Schema):
    id = fields.Integer()
    programme_id = fields.Integer()
    host_organization_id = fields.Integer()
    name = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()
    capacity = fields.Integer(allow_none=True)
    is_published = fields.Boolean()
    self_enrolment = fields.Boolean()
    requires_approval = fields.Boolean()
    is_network = fields.Boolean()


class EnrolmentSchema(Schema):
    id = fields.Integer()
    run_id = fields.Integer()
    user_id = fields.Integer()
    group_id = fields.Integer(allow_none=True)
    status = fields.String()
    method = fields.String()


class EnrolSchema(Schema):
    user = Id(required=True, metadata={"description": "Id человека."})
    group = Id(metadata={"description": "Id группы потока."})


class RequestSchema(Schema):
    key = fields.String(load_default="", validate=validate.Length(max=64))
    note = fields.String(load_default="", validate=validate.Length(max=500))


class LearnerStateSchema(Schema):
    user_id = fields.Integer(attribute="enrolment.user_id")
    status = fields.String(attribute="enrolment.status")
    completed_activities = fields.Integer(attribute="done")
    required_activities = fields.Integer(attribute="required")
    hours_done = fields.Integer()
    complete = fields.Boolean()
    behind = fields.Boolean()
    missing = fields.List(fields.String())


class GradeCellSchema(Schema):
    item_id = fields.Integer()
    title = fields.String()
    max_points = fields.Integer()
    points = fields.Integer(allow_none=True)
    overridden = fields.Boolean()


class GradeRowSchema(Schema):
    user_id = fields.Integer()
    items = fields.List(fields.Nested(GradeCellSchema))
    percent = fields.Float(allow_none=True)
    mark = fields.String()


class CertificateSchema(Schema):
    id = fields.Integer()
    holder_id = fields.Integer()
    organization_id = fields.Integer()
    programme_id = fields.Integer(allow_none=True)
    run_id = fields.Integer(allow_none=True)
    kind = fields.String()
    registration_number = fields.Integer()
    series = fields.String()
    number = fields.String()
    issued_on = fields.Date()
    hours = fields.Integer()
    status = fields.String()
    code = fields.String(metadata={"description": "Код проверки: /verify/<code>."})


class ProgrammeInSchema(Schema):
    organization = Id(required=True, metadata={"description": "Id организации-владельца."})
    title = fields.String(required=True, validate=validate.Length(max=300))
    kind = fields.String(load_default="pd", metadata={"description": "pd, retraining, profile_course, …"})
    direction = fields.String(load_default="")
    audience = fields.String(load_default="teachers")
    audience_note = fields.String(load_default="", validate=validate.Length(max=500))
    subject = fields.String(load_default="", validate=validate.Length(max=200))
    description = fields.String(load_default="", validate=validate.Length(max=20000))
    outcomes = fields.String(load_default="", validate=validate.Length(max=20000))
    total_hours = fields.Integer(required=True)
    academic_hour_minutes = fields.Integer(metadata={"description": "По умолчанию — академический час организации."})
    variable_hours = fields.Integer(load_default=0)
    final_attestation_form = fields.String(load_default="test")
    final_attestation_hours = fields.Integer(load_default=0)
    result_scale = fields.String(load_default="pass_fail", metadata={"description": "pass_fail, five_point, points"})
    threshold_5 = fields.Integer(load_default=None, allow_none=True)
    threshold_4 = fields.Integer(load_default=None, allow_none=True)
    threshold_3 = fields.Integer(load_default=None, allow_none=True)
    max_points = fields.Integer(load_default=None, allow_none=True)
    pass_points = fields.Integer(load_default=None, allow_none=True)


class RunInSchema(Schema):
    programme = Id(required=True)
    host = Id(required=True, metadata={"description": "Id организации, которая проводит поток."})
    name = fields.String(required=True, validate=validate.Length(max=200))
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    capacity = fields.Integer(load_default=None, allow_none=True)
    is_published = fields.Boolean(load_default=False)
    self_enrolment = fields.Boolean(load_default=False)
    requires_approval = fields.Boolean(load_default=True)
    enrolment_key = fields.String(load_default="", validate=validate.Length(max=64))
    is_network = fields.Boolean(load_default=False)
    teachers = fields.List(Id(), load_default=list, validate=validate.Length(max=50))
    groups = fields.List(fields.String(validate=validate.Length(max=100)), load_default=list,
                         validate=validate.Length(max=50))


ProgrammePageSchema = page_of(ProgrammeSchema, "ProgrammePage")
RunPageSchema = page_of(RunSchema, "RunPage")
EnrolmentPageSchema = page_of(EnrolmentSchema, "EnrolmentPage")
CertificatePageSchema = page_of(CertificateSchema, "CertificatePage")


# --- programmes ----------------------------------------------------------------------------------

@programmes_bp.route("")
class Programmes(MethodView):
    @programmes_bp.arguments(ProgrammeArgs, location="query")
    @programmes_bp.response(200, ProgrammePageSchema)
    @document_errors(programmes_bp)
    def get(self, args):
        """Программы

        Опубликованные программы сети и те, что видны пользователю (своей организации, свои, на экспертизе).
        """
        stmt = select(Programme).order_by(Programme.title, Programme.version.desc())
        visible = perm.visible_programmes_condition(api_user())
        if visible is not None:
            stmt = stmt.where(visible)
        for key, column in (("status", Programme.status), ("kind", Programme.kind),
                            ("organization", Programme.owner_organization_id)):
            if args.get(key) is not None:
                stmt = stmt.where(column == args[key])
        return paginate(stmt, args)


    @programmes_bp.arguments(ProgrammeInSchema)
    @programmes_bp.response(201, ProgrammeSchema)
    @document_errors(programmes_bp, 403)
    def post(self, data):
        """Создать программу (черновик)

        Как форма на странице: в организации, где пользователь вправе разрабатывать программы; часы и
        шкала проверяются так же. Учебный план — запросом PUT …/curriculum.
        """
        from lms.api.course_changes import create_programme

        return create_programme(data)


@programmes_bp.route("/<int:programme_id>")
class ProgrammeView(MethodView):
    @programmes_bp.response(200, ProgrammeSchema)
    @document_errors(programmes_bp, 403, 404)
    def get(self, programme_id):
        """Программа с учебным планом"""
        programme = get_or_404(Programme, programme_id)
        require(perm.can_view_programme(api_user(), programme))
        return programme


# --- runs ----------------------------------------------------------------------------------------

@runs_bp.route("")
class Runs(MethodView):
    @runs_bp.arguments(PageArgs, location="query")
    @runs_bp.response(200, RunPageSchema)
    @document_errors(runs_bp)
    def get(self, args):
        """Потоки

        Опубликованные потоки сети, потоки организаций пользователя-руководителя, потоки, где он
        преподаёт или учится.
        """
        user, s = api_user(), scope_of(api_user())
        stmt = select(CourseRun).order_by(CourseRun.starts_on.desc(), CourseRun.id)
        if not s.is_admin:
            stmt = stmt.where(or_(
                CourseRun.is_published.is_(True), CourseRun.host_organization_id.in_(sorted(s.managed_org_ids)),
                CourseRun.id.in_(select(RunStaff.run_id).where(RunStaff.user_id == user.id)),
                CourseRun.id.in_(select(Enrolment.run_id).where(Enrolment.user_id == user.id))))
        return paginate(stmt, args)


    @runs_bp.arguments(RunInSchema)
    @runs_bp.response(201, RunSchema)
    @document_errors(runs_bp, 403, 404, 409)
    def post(self, data):
        """Открыть поток опубликованной программы

        Как на странице: в организации, которой пользователь руководит; преподаватели — из педагогов
        этих организаций.
        """
        from lms.api.course_changes import open_run

        return open_run(data)


@runs_bp.route("/<int:run_id>")
class RunView(MethodView):
    @runs_bp.response(200, RunSchema)
    @document_errors(runs_bp, 403, 404)
    def get(self, run_id):
        """Поток"""
        run = get_or_404(CourseRun, run_id)
        require(perm.can_view_run(api_user(), run))
        return run


@runs_bp.route("/<int:run_id>/enrolments")
class RunEnrolments(MethodView):
    @runs_bp.arguments(PageArgs, location="query")
    @runs_bp.response(200, EnrolmentPageSchema)
    @document_errors(runs_bp, 403, 404)
    def get(self, args, run_id):
        """Зачисления потока (руководителям организации и преподавателям потока)"""
        run = get_or_404(CourseRun, run_id)
        require(perm.can_enrol_others(api_user(), run))
        return paginate(select(Enrolment).where(Enrolment.run_id == run.id).order_by(Enrolment.id), args)

    @runs_bp.arguments(EnrolSchema)
    @runs_bp.response(201, EnrolmentSchema)
    @document_errors(runs_bp, 403, 404, 409)
    def post(self, data, run_id):
        """Зачислить человека

        Как на странице: при нехватке мест — в лист ожидания; без сетевой формы — только люди
        организации потока.
        """
        run = get_or_404(CourseRun, run_id)
        require(perm.can_enrol_others(api_user(), run))
        person = db.session.get(User, data["user"])
        if person is None:
            raise ValidationError("Человек не найден.", field="user")
        enrolment = run_services.enrol(run, person, by=api_user(), group_id=data.get("group"))
        db.session.commit()
        return enrolment


@runs_bp.route("/<int:run_id>/requests")
class RunRequests(MethodView):
    @runs_bp.arguments(RequestSchema)
    @runs_bp.response(201, EnrolmentSchema)
    @document_errors(runs_bp, 403, 404, 409)
    def post(self, data, run_id):
        """Подать заявку на поток (или зачислиться по кодовому слову)"""
        run = get_or_404(CourseRun, run_id)
        require(perm.can_request_enrolment(api_user(), run))
        enrolment = run_services.request_enrolment(run, api_user(), key=data["key"], note=data["note"])
        db.session.commit()
        return enrolment


@runs_bp.route("/<int:run_id>/completion")
class RunCompletion(MethodView):
    @runs_bp.response(200, LearnerStateSchema(many=True))
    @document_errors(runs_bp, 403, 404)
    def get(self, run_id):
        """Успеваемость группы: выполненные элементы, часы, чего не хватает до завершения"""
        run = get_or_404(CourseRun, run_id)
        require(perm.can_enrol_others(api_user(), run))
        return completion.group_state(run)


@runs_bp.route("/<int:run_id>/grades")
class RunGrades(MethodView):
    @runs_bp.response(200, GradeRowSchema(many=True))
    @document_errors(runs_bp, 403, 404)
    def get(self, run_id):
        """Оценки: преподавателям — всей группы, слушателю — только свои"""
        run = get_or_404(CourseRun, run_id)
        user = api_user()
        staff = perm.can_enrol_others(user, run)
        require(staff or perm.is_learner(user, run))
        gradebook.ensure_items(run)
        db.session.commit()  # before reading the sheet: a commit afterwards would expire its rows
        data = gradebook.sheet(run, user_ids=None if staff else [user.id])
        return [{"user_id": row.user.id, "percent": row.percent, "mark": row.mark,
                 "items": [{"item_id": i.id, "title": i.title, "max_points": i.max_points,
                            "points": row.cells[i.id].points, "overridden": row.cells[i.id].overridden}
                           for i in data.items]} for row in data.rows]


# --- certificates --------------------------------------------------------------------------------

@certificates_bp.route("")
class Certificates(MethodView):
    @certificates_bp.arguments(PageArgs, location="query")
    @certificates_bp.response(200, CertificatePageSchema)
    @document_errors(certificates_bp)
    def get(self, args):
        """Документы об обучении: свои и выданные организациями, которыми пользователь управляет"""
        user, s = api_user(), scope_of(api_user())
        stmt = select(Certificate).order_by(Certificate.id.desc())
        if not s.is_admin:
            stmt = stmt.where(or_(Certificate.holder_id == user.id,
                                  Certificate.organization_id.in_(sorted(s.managed_org_ids))))
        return paginate(stmt, args)


@certificates_bp.route("/<int:certificate_id>")
class CertificateView(MethodView):
    @certificates_bp.response(200, CertificateSchema)
    @document_errors(certificates_bp, 403, 404)
    def get(self, certificate_id):
        """Документ об обучении"""
        cert = get_or_404(Certificate, certificate_id)
        require(perm.can_view_certificate(api_user(), cert))
        return cert


# --- grading -------------------------------------------------------------------------------------

class SubmissionSchema(Schema):
    id = fields.Integer()
    activity_id = fields.Integer()
    user_id = fields.Integer()
    attempt = fields.Integer()
    status = fields.String()
    submitted_at = fields.DateTime()
    is_late = fields.Boolean()
    points = fields.Integer(allow_none=True)
    rubric_levels = fields.List(fields.Integer(), allow_none=True,
                                metadata={"description": "Выбранный уровень по каждому критерию рубрики (с нуля)."})


class GradeSchema(Schema):
    points = fields.Integer(validate=validate.Range(min=0, max=10000),
                            metadata={"description": "Баллы или отметка шкалы (2–5; 1 — зачтено, 0 — не зачтено)."})
    levels = fields.List(fields.Integer(validate=validate.Range(min=0, max=100)), validate=validate.Length(max=50),
                         metadata={"description": "Для задания с рубрикой: уровень по каждому критерию, с нуля."})
    feedback = fields.String(load_default="", validate=validate.Length(max=20000))


class AttestationSchema(Schema):
    user = Id(required=True)
    module = Id(metadata={"description": "Id модуля учебного плана; без него — итоговая аттестация."})
    held_on = fields.Date(required=True)
    result = fields.String(required=True, metadata={
        "description": "passed/failed, отметка 2–5 или баллы — по шкале программы."})
    examiners = fields.String(load_default="", validate=validate.Length(max=300))


class AttestationRecordSchema(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    module_id = fields.Integer(allow_none=True)
    form = fields.String()
    held_on = fields.Date()
    result = fields.String()
    passed = fields.Boolean()


SubmissionPageSchema = page_of(SubmissionSchema, "SubmissionPage")


@runs_bp.route("/<int:run_id>/submissions")
class RunSubmissions(MethodView):
    @runs_bp.arguments(PageArgs, location="query")
    @runs_bp.response(200, SubmissionPageSchema)
    @document_errors(runs_bp, 403, 404)
    def get(self, args, run_id):
        """Работы слушателей по заданиям потока (преподавателям и руководителям)"""
        run = get_or_404(CourseRun, run_id)
        require(perm.can_enrol_others(api_user(), run))
        return paginate(select(Submission).where(Submission.run_id == run.id).order_by(Submission.id), args)


@runs_bp.route("/<int:run_id>/submissions/<int:submission_id>/grade")
class GradeSubmission(MethodView):
    @runs_bp.arguments(GradeSchema)
    @runs_bp.response(200, SubmissionSchema)
    @document_errors(runs_bp, 403, 404)
    def post(self, data, run_id, submission_id):
        """Оценить работу

        Как на странице: ниже проходного балла попытка снова открывается для пересдачи; изменение
        оценки попадает в историю журнала.
        """
        run = get_or_404(CourseRun, run_id)
        submission = get_or_404(Submission, submission_id)
        require(submission.run_id == run.id and perm.can_enrol_others(api_user(), run))
        assignments.grade(submission, points=data.get("points"), levels=data.get("levels"), feedback=data["feedback"],
                          by=api_user())
        db.session.commit()
        return submission


@runs_bp.route("/<int:run_id>/attestation")
class RunAttestation(MethodView):
    @runs_bp.arguments(AttestationSchema)
    @runs_bp.response(200, AttestationRecordSchema)
    @document_errors(runs_bp, 403, 404, 409)
    def post(self, data, run_id):
        """Записать результат промежуточной или итоговой аттестации слушателя"""
        run = get_or_404(CourseRun, run_id)
        require(perm.can_enrol_others(api_user(), run))
        learner = db.session.get(User, data["user"])
        if learner is None:
            raise ValidationError("Человек не найден.", field="user")
        module = None
        if data.get("module") is not None:
            module = db.session.get(CurriculumModule, data["module"])
            if module is None:
                raise ValidationError("Модуль не найден.", field="module")
        row = completion.record_attestation(run, learner, module=module, held_on=data["held_on"],
                                            result=data["result"], examiners=data["examiners"], by=api_user())
        db.session.commit()
        return row
