"""/api/v1/me and /api/v1/people: the same rules as the people pages, through the same services."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy.orm import selectinload

from lms.accounts import permissions as perm
from lms.accounts import services
from lms.accounts.models import User
from lms.accounts.permissions import can_list_people
from lms.accounts.queries import PeopleFilter, people_query
from lms.api import schemas as s
from lms.api.core import api_user, document_errors, get_or_404, make_blueprint, paginate, require
from lms.core.errors import ValidationError
from lms.extensions import db
from lms.orgs.models import Membership, Organization
from lms.orgs.permissions import can_grant_role, scope_of

me_bp = make_blueprint("me", __name__, "/me", "Владелец токена.")
people_bp = make_blueprint("people", __name__, "/people", "Люди организаций: ученики, учителя, сотрудники.")

MEMBERSHIP_LOAD = selectinload(User.memberships).selectinload(Membership.organization)


@me_bp.route("")
class Me(MethodView):
    @me_bp.response(200, s.MeSchema)
    @document_errors(me_bp)
    def get(self):
        """Владелец токена

        Учётная запись, которой выдан токен, со всеми её ролями.
        """
        return api_user()


def _people_query(args: dict):
    """The rule of the page /people (lms.accounts.queries.people_query), with the API's filters."""
    flt = PeopleFilter(org_id=args.get("organization"), role=args.get("role"), grade=args.get("grade"),
                       q=(args.get("q") or "").strip(), active=args.get("active"))
    return people_query(scope_of(api_user()), flt).options(MEMBERSHIP_LOAD)


@people_bp.route("")
class People(MethodView):
    @people_bp.arguments(s.PeopleArgs, location="query")
    @people_bp.response(200, s.PersonPageSchema)
    @document_errors(people_bp, 403)
    def get(self, args):
        """Люди

        Люди с ролью в организациях, которыми пользователь управляет или где преподаёт (администратор —
        все). Фильтры: организация, роль, класс, поиск по фамилии, имени, логину и e-mail, активность.
        Ученикам и родителям — 403. Персональные данные — только тем, кому они положены.
        """
        require(can_list_people(api_user()))
        return paginate(_people_query(args), args)

    @people_bp.arguments(s.PersonCreateSchema)
    @people_bp.response(201, s.PersonCreatedSchema)
    @document_errors(people_bp, 403, 409)
    def post(self, data):
        """Создать человека

        Человек и его первая роль (организация, роль, для ученика — класс). Нужно право выдать эту роль в
        этой организации. Если пароль не задан, генерируется начальный и возвращается один раз в поле
        `initial_password`; при первом входе его нужно сменить.
        """
        org = db.session.get(Organization, data.pop("organization"))
        if org is None:
            raise ValidationError("Организация не найдена.", field="organization")
        role, grade, letter = data.pop("role"), data.pop("grade", None), data.pop("class_letter", None)
        require(can_grant_role(api_user(), org, role))
        person, password = services.create_user(by=api_user(), **data)
        services.add_membership(person, org, role, by=api_user(), grade=grade, class_letter=letter)
        db.session.commit()
        return s.CreatedPerson(person, password)


@people_bp.route("/<int:user_id>")
class PersonById(MethodView):
    @people_bp.response(200, s.PersonSchema)
    @document_errors(people_bp, 403, 404)
    def get(self, user_id):
        """Человек

        Видят: сам человек, администраторы, руководители и сотрудники его организаций, его родители.
        """
        person = get_or_404(User, user_id)
        require(perm.can_view_person(api_user(), person))
        return person

    @people_bp.arguments(s.PersonUpdateSchema)
    @people_bp.response(200, s.PersonSchema)
    @document_errors(people_bp, 403, 404, 409)
    def patch(self, data, user_id):
        """Изменить данные человека

        Может руководитель одной из его организаций (не шире по полномочиям) и администратор.
        """
        person = get_or_404(User, user_id)
        require(perm.can_edit_person(api_user(), person))
        services.update_user(person, data, by=api_user())
        db.session.commit()
        return person


@people_bp.route("/<int:user_id>/deactivate")
class DeactivatePerson(MethodView):
    @people_bp.arguments(s.DeactivateSchema)
    @people_bp.response(200, s.PersonSchema)
    @document_errors(people_bp, 403, 404)
    def post(self, data, user_id):
        """Отключить учётную запись

        Сразу: все сеансы завершаются, токены перестают действовать. Может тот, кто управляет всеми
        организациями человека, и администратор; себя — нельзя.
        """
        person = get_or_404(User, user_id)
        require(perm.can_deactivate_person(api_user(), person))
        services.deactivate_user(person, by=api_user(), reason=data.get("reason", ""))
        db.session.commit()
        return person
