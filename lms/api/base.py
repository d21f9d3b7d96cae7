"""The API's marshmallow base: translated validation messages, shared fields, pagination and error schemas.

Every API schema derives from ``Schema`` below. It replaces marshmallow's built-in messages (on fields
and on the standard validators) with ours when a schema is bound, so a schema author writes
``fields.Integer(required=True, validate=Range(min=0))`` and the client reads the message in the token
owner's language. A message a schema states explicitly is left alone. Domain rules (СНИЛС, names,
time zones, codes …) are not repeated here: the validators call the services' own cleaners.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import marshmallow as ma
from flask import current_app
from flask_babel import gettext
from marshmallow import fields, validate

from lms.accounts import services
from lms.core.errors import DomainError
from lms.core.loading import MAX_ID  # ids in paths, bodies and filters are 32-bit keys
from lms.core.validators import format_snils, normalize_snils

# --- translated messages -------------------------------------------------------------------------


class Msg(str):
    """An English message translated when it is used. Marshmallow formats a message (``.format(...)``)
    when it raises the error, inside the request, so that is where the translation happens."""

    def format(self, *args, **kwargs) -> str:  # noqa: A003 - str's own method
        return gettext(str(self)).format(*args, **kwargs)


#: Field error messages by field class; looked up along the field's MRO, most specific first.
FIELD_MESSAGES: dict[type, dict[str, str]] = {
    fields.Field: {
        "required": Msg("This field is required."),
        "null": Msg("The field cannot be null."),
        "validator_failed": Msg("Invalid value."),
    },
    fields.String: {
        "invalid": Msg("A string is expected."),
        "invalid_utf8": Msg("The string must be UTF-8."),
    },
    fields.Number: {
        "invalid": Msg("A number is expected."),
        "too_large": Msg("The number is too large."),
    },
    fields.Integer: {"invalid": Msg("A whole number is expected.")},
    fields.Boolean: {"invalid": Msg("A boolean is expected: true or false.")},
    fields.Date: {
        "invalid": Msg("A date in the format YYYY-MM-DD is expected."),
        "format": Msg("«{input}» cannot be read as a date."),
    },
    fields.DateTime: {
        "invalid": Msg("A date and time in ISO 8601 format is expected."),
        "invalid_awareness": Msg("A date and time with a time zone is expected."),
        "format": Msg("«{input}» cannot be read as a date and time."),
    },
    fields.Email: {"invalid": Msg("E-mail address is not valid.")},
    fields.Url: {"invalid": Msg("The address (URL) is not valid.")},
    fields.List: {"invalid": Msg("A list is expected.")},
    fields.Nested: {"type": Msg("An object is expected.")},
    fields.Mapping: {"invalid": Msg("An object is expected.")},
    fields.Enum: {"unknown": Msg("Allowed values: {choices}.")},
}

SCHEMA_MESSAGES = {
    "type": Msg("A JSON object is expected."),
    "unknown": Msg("Unknown field."),
}

_RANGE_MESSAGES = {  # (min inclusive, max inclusive) → (min, max, both)
    (True, True): (Msg("Must be at least {min}."), Msg("Must be at most {max}."),
                   Msg("Must be from {min} to {max}.")),
    (True, False): (Msg("Must be at least {min}."), Msg("Must be less than {max}."),
                    Msg("Must be at least {min} and less than {max}.")),
    (False, True): (Msg("Must be greater than {min}."), Msg("Must be at most {max}."),
                    Msg("Must be greater than {min} and at most {max}.")),
    (False, False): (Msg("Must be greater than {min}."), Msg("Must be less than {max}."),
                     Msg("Must be greater than {min} and less than {max}.")),
}
_VALIDATOR_MESSAGES = {
    validate.OneOf: Msg("Allowed values: {choices}."),
    validate.Regexp: Msg("Invalid format."),
    validate.Email: Msg("E-mail address is not valid."),
    validate.URL: Msg("The address (URL) is not valid."),
    validate.Equal: Msg("Must be equal to {other}."),
}


def _marshmallow_defaults(field_cls: type) -> dict[str, str]:
    messages: dict[str, str] = {}
    for cls in reversed(field_cls.__mro__):
        messages.update(getattr(cls, "default_error_messages", {}))
    return messages


def _ours_for(field_cls: type) -> dict[str, str]:
    messages: dict[str, str] = {}
    for cls in reversed(field_cls.__mro__):
        messages.update(FIELD_MESSAGES.get(cls, {}))
    return messages


def _translate_validator(v: validate.Validator) -> None:
    """Give a standard validator our messages unless its author passed ``error=``."""
    if isinstance(v, validate.Length):
        if v.error is None:
            v.message_min = Msg("At least {min} characters.")
            v.message_max = Msg("At most {max} characters.")
            v.message_all = Msg("From {min} to {max} characters.")
            v.message_equal = Msg("Exactly {equal} characters.")
    elif isinstance(v, validate.Range):
        if v.error is None:
            v.message_min, v.message_max, v.message_all = _RANGE_MESSAGES[(v.min_inclusive, v.max_inclusive)]
    else:
        for cls, message in _VALIDATOR_MESSAGES.items():
            if isinstance(v, cls) and v.error == cls.default_message:
                v.error = message
                break


def domain_rule(clean: Callable) -> Callable:
    """A marshmallow validator from a service's cleaner: one rule, one message, for pages and API."""

    def check(value) -> None:
        try:
            clean(value)
        except DomainError as exc:
            raise ma.ValidationError(exc.message) from None

    return check


class Schema(ma.Schema):
    """Base of every API schema: translated messages, unknown fields rejected."""

    error_messages = SCHEMA_MESSAGES

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def _refuse_nul(self, data, **_kwargs):
        # PostgreSQL cannot store U+0000 in text: refuse it here instead of failing at the database.
        if isinstance(data, Mapping):
            bad = {key: [gettext("The character U+0000 is not allowed.")] for key, value in data.items()
                   if isinstance(value, str) and "\x00" in value}
            if bad:
                raise ma.ValidationError(bad)
        return data

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        defaults = _marshmallow_defaults(type(field_obj))
        for key, message in _ours_for(type(field_obj)).items():
            if field_obj.error_messages.get(key) == defaults.get(key):
                field_obj.error_messages[key] = message
        for v in field_obj.validators:
            if isinstance(v, validate.Validator):
                _translate_validator(v)
        for inner in (getattr(field_obj, "inner", None), getattr(field_obj, "value_field", None)):
            if isinstance(inner, fields.Field):
                self.on_bind_field(field_name, inner)


# --- shared validators and fields ----------------------------------------------------------------

def not_blank(value: str) -> None:
    if not value or not value.strip():
        raise ma.ValidationError(gettext("The field cannot be empty."))


# The people and organization rules live in the services; these run them on one API field.
time_zone = domain_rule(lambda v: services.clean_person_data({"time_zone": v}, partial=True))
person_name = domain_rule(lambda v: services.clean_person_data({"patronymic": v}, partial=True))
birth_date = domain_rule(lambda v: services.clean_person_data({"birth_date": v}, partial=True))
phone = domain_rule(lambda v: services.clean_person_data({"phone": v}, partial=True))


def class_letter(value: str | None) -> None:
    try:
        services.check_class_letter(value)
    except DomainError as exc:
        raise ma.ValidationError(exc.message) from None


class Integer(fields.Integer):
    """A whole number; 5.5 is refused rather than silently cut to 5."""

    def _validated(self, value):
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        return super()._validated(value)


class Id(Integer):
    """A row id: a positive whole number small enough to be one."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", validate.Range(min=1, max=MAX_ID))
        super().__init__(**kwargs)


class Snils(fields.String):
    """СНИЛС: accepted with or without separators, checked by its control number, stored as 11 digits,
    shown as 000-000-000 00. The checksum is defined only above 001-001-998."""

    def _serialize(self, value, attr, obj, **kwargs):
        return format_snils(value) or None

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return normalize_snils(text)
        except ValueError as exc:
            raise ma.ValidationError(str(exc)) from None


# --- pagination ----------------------------------------------------------------------------------

class PageArgs(Schema):
    """Query parameters of every list."""

    class Meta:
        unknown = ma.EXCLUDE

    page = Integer(load_default=1, validate=validate.Range(min=1, max=2**31 - 1),
                          metadata={"description": "Номер страницы, с 1."})
    per_page = Integer(load_default=50, validate=validate.Range(min=1),
                              metadata={"description": "Записей на странице: от 1 до API_PAGE_SIZE_MAX "
                                                       "(по умолчанию 500)."})

    @ma.validates("per_page")
    def _per_page_max(self, value: int, **_kwargs) -> None:
        limit = current_app.config["API_PAGE_SIZE_MAX"]
        if value > limit:
            raise ma.ValidationError(gettext("Must be at most %(n)d.", n=limit))


class PageMeta(Schema):
    page = fields.Integer(required=True, metadata={"description": "Номер этой страницы."})
    per_page = fields.Integer(required=True, metadata={"description": "Записей на странице."})
    total = fields.Integer(required=True, metadata={"description": "Всего записей по фильтру."})
    pages = fields.Integer(required=True, metadata={"description": "Всего страниц (0, если записей нет)."})


def page_of(item_schema: type[Schema], name: str) -> type[Schema]:
    """An envelope schema ``{"items": [...], "page", "per_page", "total", "pages"}`` named ``name``."""
    return type(name, (PageMeta,), {
        "items": fields.List(fields.Nested(item_schema), required=True),
        "__doc__": f"Одна страница списка ({item_schema.__name__.removesuffix('Schema')}).",
    })


# --- errors --------------------------------------------------------------------------------------

class ErrorDetailSchema(Schema):
    code = fields.Integer(required=True, metadata={"description": "HTTP-статус."})
    title = fields.String(required=True, metadata={"description": "Название ошибки."})
    message = fields.String(required=True, metadata={"description": "Что случилось, для человека."})
    field = fields.String(allow_none=True, metadata={"description": "Первое поле с ошибкой."})
    # ``fields`` is a Schema attribute, hence the other Python name.
    field_messages = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), data_key="fields",
                                 metadata={"description": "Сообщения по полям."})


class ErrorSchema(Schema):
    """Every error of the API has this shape."""

    error = fields.Nested(ErrorDetailSchema, required=True)
