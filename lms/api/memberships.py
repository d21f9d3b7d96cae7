"""/api/v1/memberships: roles of people in organizations."""

from __future__ import annotations

from flask import abort
from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.accounts import permissions as perm
from lms.accounts import services
from lms.accounts.models import User
from lms.accounts.permissions import can_list_people
from lms.api import schemas as s
from lms.api.core import api_user, document_errors, get_or_404, make_blueprint, paginate, require
from lms.core.errors import ValidationError
from lms.extensions import db
from lms.orgs.models import Membership, Organization, Role
from lms.orgs.permissions import can_grant_role, listable_org_ids

memberships_bp = make_blueprint("memberships", __name__, "/memberships",
                                "Роли людей в организациях (ученик с классом, учитель, методист, "
                                "администратор, координатор).")


@memberships_bp.route("")
class Memberships(MethodView):
    @memberships_bp.arguments(s.MembershipArgs, location="query")
    @memberships_bp.response(200, s.MembershipPageSchema)
    @document_errors(memberships_bp, 403)
    def get(self, args):
        """Роли

        Роли в организациях, которыми пользователь управляет или где преподаёт (администратор — все).
        Фильтры: организация, человек.
        """
        user = api_user()
        require(can_list_people(user))
        orgs = listable_org_ids(user)
        org_id = args.get("organization")
        if org_id is not None and org_id not in orgs:
            abort(403)
        stmt = (select(Membership).options(selectinload(Membership.organization), selectinload(Membership.user))
                .where(Membership.organization_id.in_([org_id] if org_id else orgs)).order_by(Membership.id))
        if "user" in args:
            stmt = stmt.where(Membership.user_id == args["user"])
        return paginate(stmt, args)

    @memberships_bp.arguments(s.MembershipCreateSchema)
    @memberships_bp.response(201, s.MembershipSchema)
    @memberships_bp.alt_response(200, schema=s.MembershipSchema, success=True,
                                 description="Такая роль уже была: она и возвращается (с новым классом).")
    @document_errors(memberships_bp, 403)
    def post(self, data):
        """Выдать роль

        Может тот, кто вправе менять данные человека и выдать эту роль в этой организации.
        """
        person = db.session.get(User, data["user"])
        if person is None:
            raise ValidationError("Человек не найден.", field="user")
        org = db.session.get(Organization, data["organization"])
        if org is None:
            raise ValidationError("Организация не найдена.", field="organization")
        role = data["role"]
        require(perm.can_edit_person(api_user(), person) and can_grant_role(api_user(), org, role))
        existed = db.session.scalar(select(Membership.id).where(
            Membership.user_id == person.id, Membership.organization_id == org.id, Membership.role == role))
        m = services.add_membership(person, org, role, by=api_user(), grade=data.get("grade"),
                                    class_letter=data.get("class_letter"))
        db.session.commit()
        return m, 200 if existed else 201


@memberships_bp.route("/<int:membership_id>")
class MembershipById(MethodView):
    @memberships_bp.arguments(s.MembershipUpdateSchema)
    @memberships_bp.response(200, s.MembershipSchema)
    @document_errors(memberships_bp, 403, 404)
    def patch(self, data, membership_id):
        """Изменить класс ученика

        Класс (0–11) и буква. Может тот, кто управляет организацией роли.
        """
        m = get_or_404(Membership, membership_id)
        require(perm.manageable_membership(api_user(), m))
        if m.role != Role.STUDENT:
            raise ValidationError("Класс указывается только у роли «ученик».", field="grade")
        services.change_membership(m, by=api_user(), grade=data.get("grade", m.grade),
                                   class_letter=data.get("class_letter", m.class_letter))
        db.session.commit()
        return m

    @memberships_bp.response(204)
    @document_errors(memberships_bp, 403, 404, 409)
    def delete(self, membership_id):
        """Снять роль

        Может тот, кто вправе выдать эту роль в этой организации.
        """
        m = get_or_404(Membership, membership_id)
        require(can_grant_role(api_user(), m.organization, m.role))
        services.remove_membership(m, by=api_user())
        db.session.commit()
        return None
