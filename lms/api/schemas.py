"""Request and response schemas of /api/v1."""

from __future__ import annotations

import marshmallow as ma
from flask import g
from flask_babel import gettext
from marshmallow import fields, validate

from lms.accounts import services
from lms.accounts.models import Sex
from lms.accounts.permissions import can_view_personal_data
from lms.api import base
from lms.api.base import Id, Integer, PageArgs, Schema, Snils, page_of
from lms.orgs import services as org_services
from lms.orgs.models import OrganizationKind, Role
from lms.orgs.permissions import scope_of

ROLES = [r.value for r in Role]
KINDS = [k.value for k in OrganizationKind]
PERSONAL_FIELDS = ("birth_date", "sex", "phone", "snils")


# --- municipalities and organizations ------------------------------------------------------------

class MunicipalitySchema(Schema):
    id = Integer(dump_only=True)
    name = fields.String()
    region = fields.String()
    time_zone = fields.String()


class MunicipalityArgs(PageArgs):
    pass


class OrganizationBriefSchema(Schema):
    id = Integer(dump_only=True)
    code = fields.String()
    short_name = fields.String()


class OrganizationSchema(Schema):
    id = Integer(dump_only=True)
    municipality_id = Integer()
    kind = fields.String(metadata={"enum": KINDS})
    name = fields.String()
    short_name = fields.String()
    code = fields.String(metadata={"description": "Короткий уникальный код (в CSV и API), например school3."})
    time_zone = fields.String()
    address = fields.String()
    inn = fields.String(allow_none=True)
    is_active = fields.Boolean()


class OrganizationArgs(PageArgs):
    kind = fields.String(validate=validate.OneOf(KINDS), metadata={"description": "Вид организации."})
    municipality = Id(metadata={"description": "Id муниципалитета."})
    active = fields.Boolean(metadata={"description": "true — только действующие, false — только закрытые; "
                                                     "без параметра — все."})


# The organization rules of lms.orgs.services, one field at a time.
_org_code = base.domain_rule(lambda v: org_services.clean_org_data({"code": v}, partial=True))
_inn = base.domain_rule(lambda v: org_services.clean_org_data({"inn": v}, partial=True))


class OrganizationCreateSchema(Schema):
    municipality = Id(required=True, metadata={"description": "Id муниципалитета."})
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    name = fields.String(required=True, validate=[base.not_blank, validate.Length(max=300)])
    short_name = fields.String(validate=validate.Length(max=120),
                               metadata={"description": "По умолчанию — полное название."})
    code = fields.String(required=True, validate=_org_code)
    time_zone = fields.String(validate=base.time_zone,
                              metadata={"description": "По умолчанию — часовой пояс муниципалитета."})
    address = fields.String(validate=validate.Length(max=500))
    inn = fields.String(allow_none=True, validate=_inn)


class OrganizationUpdateSchema(Schema):
    kind = fields.String(validate=validate.OneOf(KINDS))
    name = fields.String(validate=[base.not_blank, validate.Length(max=300)])
    short_name = fields.String(validate=[base.not_blank, validate.Length(max=120)])
    code = fields.String(validate=_org_code,
                         metadata={"description": "Меняет только координатор муниципалитета или администратор."})
    time_zone = fields.String(validate=[base.not_blank, base.time_zone])
    address = fields.String(validate=validate.Length(max=500))
    inn = fields.String(allow_none=True, validate=_inn)
    is_active = fields.Boolean(metadata={"description": "Меняет только координатор муниципалитета или "
                                                        "администратор."})


# --- memberships ---------------------------------------------------------------------------------

class UserBriefSchema(Schema):
    id = Integer(dump_only=True)
    username = fields.String()
    full_name = fields.String()


class PersonMembershipSchema(Schema):
    """A role of a person in an organization (as shown inside a person)."""

    id = Integer(dump_only=True)
    organization_id = Integer()
    organization = fields.Nested(OrganizationBriefSchema)
    role = fields.String(metadata={"enum": ROLES})
    grade = Integer(allow_none=True, metadata={"description": "Класс ученика: 0–11."})
    class_letter = fields.String(allow_none=True)
    class_name = fields.String(metadata={"description": "Класс целиком, например «9А»."})


class MembershipSchema(PersonMembershipSchema):
    user_id = Integer()
    user = fields.Nested(UserBriefSchema)


class MembershipArgs(PageArgs):
    organization = Id(metadata={"description": "Id организации."})
    user = Id(metadata={"description": "Id человека."})


class _ClassData(Schema):
    grade = Integer(allow_none=True, validate=validate.Range(min=0, max=11),
                    metadata={"description": "Для ученика обязателен: 0–11."})
    class_letter = fields.String(allow_none=True, validate=base.class_letter)

    @ma.validates_schema(skip_on_field_errors=False, pass_original=True)  # reported with the other errors
    def _student_needs_grade(self, data, original, **_kwargs):
        # Only when no grade was sent: a grade that failed its own check already has its message.
        sent = isinstance(original, dict) and original.get("grade") is not None
        if data.get("role") == Role.STUDENT and data.get("grade") is None and not sent:
            raise ma.ValidationError(gettext("A student needs a grade (0–11)."), field_name="grade")


class MembershipCreateSchema(_ClassData):
    user = Id(required=True, metadata={"description": "Id человека."})
    organization = Id(required=True, metadata={"description": "Id организации."})
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class MembershipUpdateSchema(Schema):
    grade = Integer(validate=validate.Range(min=0, max=11))
    class_letter = fields.String(allow_none=True, validate=base.class_letter)


# --- people --------------------------------------------------------------------------------------

class PersonSchema(Schema):
    """A person. ``birth_date``, ``sex``, ``phone`` and ``snils`` are present only for those who may see
    personal data (the person, their managers, parents, administrators)."""

    id = Integer(dump_only=True)
    username = fields.String()
    surname = fields.String()
    name = fields.String()
    patronymic = fields.String()
    full_name = fields.String()
    email = fields.String(allow_none=True)
    is_active = fields.Boolean()
    is_admin = fields.Boolean()
    must_change_password = fields.Boolean()
    time_zone = fields.String(allow_none=True)
    memberships = fields.List(fields.Nested(PersonMembershipSchema),
                              metadata={"description": "Роли в организациях, которые видит запрашивающий."})
    birth_date = fields.Date(allow_none=True)
    sex = fields.String(allow_none=True, metadata={"enum": [s.value for s in Sex]})
    phone = fields.String()
    snils = Snils(allow_none=True, metadata={"description": "Формат 000-000-000 00."})

    @staticmethod
    def _person(original):
        return original

    @ma.post_dump(pass_original=True)
    def _limit_to_viewer(self, data, original, **_kwargs):
        person, viewer = self._person(original), g.api_user
        if not can_view_personal_data(viewer, person):
            for key in PERSONAL_FIELDS:
                data.pop(key, None)
        visible = scope_of(viewer).visible_org_ids()
        if visible is not None and viewer.id != person.id and "memberships" in data:
            data["memberships"] = [m for m in data["memberships"] if m["organization_id"] in visible]
        return data


class MeSchema(PersonSchema):
    locale = fields.String()


class CreatedPerson:
    """A new person with the initial password generated for them (None when one was given)."""

    def __init__(self, person, initial_password: str | None):
        self.person = person
        self.initial_password = initial_password

    def __getattr__(self, name):
        return getattr(self.person, name)


class PersonCreatedSchema(PersonSchema):
    initial_password = fields.String(
        allow_none=True,
        metadata={"description": "Сгенерированный начальный пароль. Показывается только в этом ответе; "
                                 "при первом входе его нужно сменить."})

    @staticmethod
    def _person(original):
        return original.person


class PeopleArgs(PageArgs):
    organization = Id(metadata={"description": "Id организации."})
    role = fields.String(validate=validate.OneOf(ROLES))
    grade = Integer(validate=validate.Range(min=0, max=11))
    q = fields.String(validate=validate.Length(max=100),
                      metadata={"description": "Часть фамилии, имени, логина или e-mail."})
    active = fields.Boolean(metadata={"description": "true — только действующие, false — только отключённые; "
                                                     "без параметра — все."})


class _PersonData(Schema):
    surname = fields.String(validate=[base.not_blank, base.person_name])
    name = fields.String(validate=[base.not_blank, base.person_name])
    patronymic = fields.String(validate=base.person_name)
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    phone = fields.String(validate=[validate.Length(max=32), base.phone])
    birth_date = fields.Date(allow_none=True, validate=base.birth_date)
    sex = fields.String(allow_none=True, validate=validate.OneOf([s.value for s in Sex]))
    snils = Snils(allow_none=True, metadata={"description": "11 цифр, можно в формате 000-000-000 00."})
    time_zone = fields.String(allow_none=True, validate=base.time_zone)

    @ma.pre_load
    def _empty_strings_clear(self, data, **_kwargs):
        # "" clears an optional value, as an empty input does in the form.
        if isinstance(data, dict):
            for key in ("email", "snils", "sex", "time_zone", "birth_date"):
                if data.get(key) == "":
                    data = {**data, key: None}
        return data


class PersonCreateSchema(_PersonData, _ClassData):
    username = fields.String(required=True, validate=[validate.Length(max=100),
                                                      base.domain_rule(services.normalize_username)])
    password = fields.String(load_only=True, validate=validate.Length(min=8, max=256),
                             metadata={"description": "Без пароля будет сгенерирован начальный."})
    surname = fields.String(required=True, validate=[base.not_blank, base.person_name])
    name = fields.String(required=True, validate=[base.not_blank, base.person_name])
    organization = Id(required=True, metadata={"description": "Id организации первой роли."})
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class PersonUpdateSchema(_PersonData):
    pass


class DeactivateSchema(Schema):
    reason = fields.String(validate=validate.Length(max=300))


MunicipalityPageSchema = page_of(MunicipalitySchema, "MunicipalityPageSchema")
OrganizationPageSchema = page_of(OrganizationSchema, "OrganizationPageSchema")
PersonPageSchema = page_of(PersonSchema, "PersonPageSchema")
MembershipPageSchema = page_of(MembershipSchema, "MembershipPageSchema")
