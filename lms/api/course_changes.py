"""/api/v1 changes to programmes, runs and certificates: creating a programme and its curriculum, sending it
for review, reviewing and publishing it, opening a run, completing learners with certificates, revoking a
certificate. The same predicates and services as the pages; the routes join the blueprints of
``lms.api.courses`` (creating a programme or a run is the POST of its collection there)."""

from __future__ import annotations

from datetime import date

from flask.views import MethodView
from flask_babel import gettext as _
from marshmallow import fields, validate
from sqlalchemy import select

from lms.accounts.models import User
from lms.api.base import Id, Schema
from lms.api.core import api_user, document_errors, get_or_404, require
from lms.api.courses import CertificateSchema, ProgrammeSchema, certificates_bp, programmes_bp, runs_bp
from lms.core.errors import ValidationError
from lms.courses import certificates as certificate_services
from lms.courses import completion
from lms.courses import permissions as perm
from lms.courses import programmes as programme_services
from lms.courses import runs as run_services
from lms.courses.models import Certificate, CourseRun, Programme
from lms.extensions import db

# --- schemas -------------------------------------------------------------------------------------

_TEXT = validate.Length(max=20000)


class ModuleInSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(max=300))
    lecture_hours = fields.Integer(load_default=0)
    practice_hours = fields.Integer(load_default=0)
    self_study_hours = fields.Integer(load_default=0)
    internship_hours = fields.Integer(load_default=0)
    control_form = fields.String(load_default="none", metadata={"description": "credit (зачёт), graded_credit, exam, test_work, essay, interview, none"})
    is_optional = fields.Boolean(load_default=False)


class CurriculumSchema(Schema):
    modules = fields.List(fields.Nested(ModuleInSchema), required=True, validate=validate.Length(min=1, max=100))


class SubmitSchema(Schema):
    reviewers = fields.List(Id(), load_default=list, validate=validate.Length(max=20),
                            metadata={"description": "Id методистов муниципалитета (как в форме на странице)."})
    expert = fields.String(load_default="", validate=validate.Length(max=254),
                           metadata={"description": "Логин или e-mail эксперта другой организации."})
    comment = fields.String(load_default="", validate=_TEXT)


class ReviewSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf(["approve", "return", "comment"]))
    comment = fields.String(load_default="", validate=_TEXT)
    module = Id(metadata={"description": "Id модуля, к которому относится замечание."})


class CertifySchema(Schema):
    learners = fields.List(Id(), required=True, validate=validate.Length(min=1, max=5000))
    issued_on = fields.Date(load_default=None, allow_none=True)


class RevokeSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(max=500))


# --- programmes ----------------------------------------------------------------------------------

def create_programme(data: dict) -> Programme:
    """POST /programmes (``lms.api.courses.Programmes.post``)."""
    user = api_user()
    org_id = data.pop("organization")
    org = next((o for o in perm.programme_orgs(user) if o.id == org_id), None)
    if org is None:
        raise ValidationError(_("Choose one of the options."), field="organization")
    programme = programme_services.create_programme(org, by=user, **data)
    db.session.commit()
    return programme


@programmes_bp.route("/<int:programme_id>/curriculum")
class ProgrammeCurriculum(MethodView):
    @programmes_bp.arguments(CurriculumSchema)
    @programmes_bp.response(200, ProgrammeSchema)
    @document_errors(programmes_bp, 403, 404, 409)
    def put(self, data, programme_id):
        """Заменить учебный план черновика

        Сумма часов модулей должна сойтись с общим объёмом программы при отправке на согласование;
        ошибки строк называются полями ``modules-<n>-<поле>``.
        """
        programme = get_or_404(Programme, programme_id)
        require(perm.can_edit_programme(api_user(), programme))
        programme_services.set_curriculum(programme, data["modules"], by=api_user())
        db.session.commit()
        return programme


@programmes_bp.route("/<int:programme_id>/submit")
class SubmitProgramme(MethodView):
    @programmes_bp.arguments(SubmitSchema)
    @programmes_bp.response(200, ProgrammeSchema)
    @document_errors(programmes_bp, 403, 404, 409)
    def post(self, data, programme_id):
        """Отправить программу на согласование рецензентам"""
        programme = get_or_404(Programme, programme_id)
        require(perm.can_submit_programme(api_user(), programme))
        reviewers = programme_services.chosen_reviewers(programme, data["reviewers"], data["expert"])
        programme_services.submit_for_review(programme, reviewers, by=api_user(), comment=data["comment"])
        db.session.commit()
        return programme


@programmes_bp.route("/<int:programme_id>/review")
class ReviewProgramme(MethodView):
    @programmes_bp.arguments(ReviewSchema)
    @programmes_bp.response(200, ProgrammeSchema)
    @document_errors(programmes_bp, 403, 404, 409)
    def post(self, data, programme_id):
        """Решение рецензента: одобрить, вернуть автору или оставить замечание"""
        programme = get_or_404(Programme, programme_id)
        require(perm.can_review_programme(api_user(), programme))
        programme_services.review(programme, by=api_user(), action=data["action"], comment=data["comment"],
                                  module_id=data.get("module"))
        db.session.commit()
        return programme


@programmes_bp.route("/<int:programme_id>/publish")
class PublishProgramme(MethodView):
    @programmes_bp.response(200, ProgrammeSchema)
    @document_errors(programmes_bp, 403, 404, 409)
    def post(self, programme_id):
        """Опубликовать одобренную программу в каталоге сети (руководители организации-владельца)"""
        programme = get_or_404(Programme, programme_id)
        require(perm.can_publish_programme(api_user(), programme))
        programme_services.publish(programme, by=api_user())
        db.session.commit()
        return programme


# --- runs ----------------------------------------------------------------------------------------

def open_run(data: dict) -> CourseRun:
    """POST /runs (``lms.api.courses.Runs.post``)."""
    user = api_user()
    programme = get_or_404(Programme, data.pop("programme"))
    require(perm.can_open_run(user, programme))
    hosts = perm.run_host_orgs(user)
    host_id = data.pop("host")
    host = next((o for o in hosts if o.id == host_id), None)
    if host is None:
        raise ValidationError(_("Choose one of the options."), field="host")
    allowed = {i for i, _name in run_services.teacher_candidates([o.id for o in hosts])}
    teacher_ids = list(dict.fromkeys(data.pop("teachers")))
    if any(i not in allowed for i in teacher_ids):
        raise ValidationError(_("Choose one of the options."), field="teachers")
    teachers = list(db.session.scalars(select(User).where(User.id.in_(teacher_ids)))) if teacher_ids else []
    run = run_services.open_run(programme, host, by=user, teachers=teachers, groups=data.pop("groups"), **data)
    db.session.commit()
    return run


@runs_bp.route("/<int:run_id>/certificates")
class CertifyLearners(MethodView):
    @runs_bp.arguments(CertifySchema)
    @runs_bp.response(201, CertificateSchema(many=True))
    @document_errors(runs_bp, 403, 404, 409)
    def post(self, data, run_id):
        """Отметить окончивших и выдать удостоверения

        Как на странице «Успеваемость и аттестация»: только тем, кто выполнил условия завершения;
        номера идут по порядку в реестре организации. PDF формируется при первом скачивании.
        """
        run = get_or_404(CourseRun, run_id)
        require(perm.can_manage_run(api_user(), run))
        issued = completion.complete_and_certify(run, list(dict.fromkeys(data["learners"])), by=api_user(),
                                                 issued_on=data.get("issued_on") or date.today())
        db.session.commit()
        return issued


# --- certificates --------------------------------------------------------------------------------

@certificates_bp.route("/<int:certificate_id>/revoke")
class RevokeCertificate(MethodView):
    @certificates_bp.arguments(RevokeSchema)
    @certificates_bp.response(200, CertificateSchema)
    @document_errors(certificates_bp, 403, 404, 409)
    def post(self, data, certificate_id):
        """Аннулировать документ с указанием причины (страница проверки покажет «аннулирован»)"""
        cert = get_or_404(Certificate, certificate_id)
        require(perm.can_manage_certificates(api_user(), cert.organization))
        certificate_services.revoke(cert, data["reason"], api_user())
        db.session.commit()
        return cert
