"""/api/v1/municipalities and /api/v1/organizations."""

from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from lms.api import schemas as s
from lms.api.core import api_user, document_errors, get_or_404, make_blueprint, paginate, require
from lms.core.errors import ValidationError
from lms.extensions import db
from lms.orgs import services
from lms.orgs.models import Municipality, Organization
from lms.orgs.permissions import can_create_org, can_edit_org, can_list_orgs, can_view_org, scope_of

municipalities_bp = make_blueprint("municipalities", __name__, "/municipalities",
                                   "Муниципалитеты (городские округа, районы).")
organizations_bp = make_blueprint("organizations", __name__, "/organizations",
                                  "Организации сети: школы, центры, вузы, управление образования.")


@municipalities_bp.route("")
class Municipalities(MethodView):
    @municipalities_bp.arguments(s.MunicipalityArgs, location="query")
    @municipalities_bp.response(200, s.MunicipalityPageSchema)
    @document_errors(municipalities_bp)
    def get(self, args):
        """Муниципалитеты

        Администратор видит все; остальные — муниципалитеты организаций, которые им видны.
        """
        visible = scope_of(api_user()).visible_org_ids()
        stmt = select(Municipality).order_by(Municipality.name, Municipality.id)
        if visible is not None:
            stmt = stmt.where(Municipality.id.in_(
                select(Organization.municipality_id).where(Organization.id.in_(visible))))
        return paginate(stmt, args)


@organizations_bp.route("")
class Organizations(MethodView):
    @organizations_bp.arguments(s.OrganizationArgs, location="query")
    @organizations_bp.response(200, s.OrganizationPageSchema)
    @document_errors(organizations_bp, 403)
    def get(self, args):
        """Организации

        Видимые пользователю: те, где у него есть роль, и те, которыми он управляет (администратор —
        все). Фильтры: вид, муниципалитет, действующие. Без единой организации — 403, как на странице.
        """
        require(can_list_orgs(api_user()))
        visible = scope_of(api_user()).visible_org_ids()
        stmt = select(Organization).order_by(Organization.short_name, Organization.id)
        if visible is not None:
            stmt = stmt.where(Organization.id.in_(visible))
        if "kind" in args:
            stmt = stmt.where(Organization.kind == args["kind"])
        if "municipality" in args:
            stmt = stmt.where(Organization.municipality_id == args["municipality"])
        if "active" in args:
            stmt = stmt.where(Organization.is_active.is_(args["active"]))
        return paginate(stmt, args)

    @organizations_bp.arguments(s.OrganizationCreateSchema)
    @organizations_bp.response(201, s.OrganizationSchema)
    @document_errors(organizations_bp, 403, 409)
    def post(self, data):
        """Создать организацию

        Может администратор или координатор этого муниципалитета.
        """
        municipality = db.session.get(Municipality, data.pop("municipality"))
        if municipality is None:
            raise ValidationError("Муниципалитет не найден.", field="municipality")
        require(can_create_org(api_user(), municipality))
        org = services.create_organization(municipality, by=api_user(), **data)
        db.session.commit()
        return org


@organizations_bp.route("/<int:org_id>")
class OrganizationById(MethodView):
    @organizations_bp.response(200, s.OrganizationSchema)
    @document_errors(organizations_bp, 403, 404)
    def get(self, org_id):
        """Организация"""
        org = get_or_404(Organization, org_id)
        require(can_view_org(api_user(), org))
        return org

    @organizations_bp.arguments(s.OrganizationUpdateSchema)
    @organizations_bp.response(200, s.OrganizationSchema)
    @document_errors(organizations_bp, 403, 404, 409)
    def patch(self, data, org_id):
        """Изменить организацию

        Может тот, кто ею управляет. Код и признак «действует» меняет только координатор
        муниципалитета или администратор (403 для администратора организации).
        """
        org = get_or_404(Organization, org_id)
        require(can_edit_org(api_user(), org, data))
        services.update_organization(org, by=api_user(), **data)
        db.session.commit()
        return org
