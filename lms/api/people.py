"""/api/v1/me and /api/v1/people: the same rules as the people pages, through the same services."""

from __future__ import annotations

from flask import abort
from flask.views import MethodView
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from lms.accounts import permissions as perm
from lms.accounts import services
from lms.accounts.models import User
from lms.accounts.permissions import can_list_people
from lms.api import schemas as s
from lms.api.core import api_user, document_errors, get_or_404, make_blueprint, paginate, require
from lms.core.errors import ValidationError
from lms.extensions import db
from lms.orgs.models import Membership, Organization
from lms.orgs.permissions import can_grant_role, listable_org_ids, scope_of

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
    """The rule of the page /people: people with a role in an organization the user manages or teaches
    in; an administrator without filters sees everyone (also people without any role)."""
    user = api_user()
    orgs = listable_org_ids(user)
    org_id = args.get("organization")
    if org_id is not None and org_id not in orgs:
        abort(403)
    members = select(Membership.user_id).where(Membership.organization_id.in_([org_id] if org_id else orgs))
    if "role" in args:
        members = members.where(Membership.role == args["role"])
    if "grade" in args:
        members = members.where(Membership.grade == args["grade"])
    stmt = select(User).options(MEMBERSHIP_LOAD)
    if not (scope_of(user).is_admin and org_id is None and "role" not in args and "grade" not in args):
        stmt = stmt.where(User.id.in_(members))
    if "active" in args:
        stmt = stmt.where(User.is_active.is_(args["active"]))
    q = (args.get("q") or "").strip()
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(User.surname).like(like), func.lower(User.name).like(like),
                              User.username.like(like), User.email.like(like)))
    return stmt.order_by(User.surname, User.name, User.id)


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
