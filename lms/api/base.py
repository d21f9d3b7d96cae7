"""The API's marshmallow base: Russian validation messages, shared fields, pagination and error schemas.

Every API schema derives from ``Schema`` below. It rewrites marshmallow's built-in English messages
(on fields and on the standard validators) into Russian when a schema is bound, so a schema author
writes ``fields.Integer(required=True, validate=Range(min=0))`` and the client still reads Russian.
A message a schema states explicitly is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

import marshmallow as ma
from flask import current_app
from marshmallow import fields, validate

from lms.core.i18n import valid_time_zone
from lms.core.validators import format_snils, snils_checksum

#: Largest id accepted in paths, bodies and filters: bigger numbers cannot be a row and would overflow
#: the database driver (a 500) instead of answering «not found».
MAX_ID = 2**63 - 1

# --- Russian messages ----------------------------------------------------------------------------

#: Field error messages by field class; looked up along the field's MRO, most specific first.
FIELD_MESSAGES: dict[type, dict[str, str]] = {
    fields.Field: {
        "required": "Обязательное поле.",
        "null": "Поле не может быть null.",
        "validator_failed": "Недопустимое значение.",
    },
    fields.String: {
        "invalid": "Ожидается строка.",
        "invalid_utf8": "Строка должна быть в кодировке UTF-8.",
    },
    fields.Number: {
        "invalid": "Ожидается число.",
        "too_large": "Слишком большое число.",
    },
    fields.Integer: {"invalid": "Ожидается целое число."},
    fields.Boolean: {"invalid": "Ожидается логическое значение: true или false."},
    fields.Date: {
        "invalid": "Ожидается дата в формате ГГГГ-ММ-ДД.",
        "format": "«{input}» нельзя представить как дату.",
    },
    fields.DateTime: {
        "invalid": "Ожидаются дата и время в формате ISO 8601.",
        "invalid_awareness": "Ожидаются дата и время с часовым поясом.",
        "format": "«{input}» нельзя представить как дату и время.",
    },
    fields.Email: {"invalid": "Неверный адрес электронной почты."},
    fields.Url: {"invalid": "Неверный адрес (URL)."},
    fields.List: {"invalid": "Ожидается список."},
    fields.Nested: {"type": "Ожидается объект."},
    fields.Mapping: {"invalid": "Ожидается объект."},
    fields.Enum: {"unknown": "Допустимые значения: {choices}."},
}

SCHEMA_MESSAGES = {
    "type": "Ожидается JSON-объект.",
    "unknown": "Неизвестное поле.",
}


def _english_defaults(field_cls: type) -> dict[str, str]:
    messages: dict[str, str] = {}
    for cls in reversed(field_cls.__mro__):
        messages.update(getattr(cls, "default_error_messages", {}))
    return messages


def _russian_for(field_cls: type) -> dict[str, str]:
    messages: dict[str, str] = {}
    for cls in reversed(field_cls.__mro__):
        messages.update(FIELD_MESSAGES.get(cls, {}))
    return messages


def _russify_validator(v: validate.Validator) -> None:
    """Give a standard validator Russian messages unless its author passed ``error=``."""
    if isinstance(v, validate.Length):
        if v.error is None:
            v.message_min = "Не меньше {min} символов."
            v.message_max = "Не больше {max} символов."
            v.message_all = "От {min} до {max} символов."
            v.message_equal = "Ровно {equal} символов."
    elif isinstance(v, validate.Range):
        if v.error is None:
            low = "не меньше {min}" if v.min_inclusive else "больше {min}"
            high = "не больше {max}" if v.max_inclusive else "меньше {max}"
            v.message_min = f"Должно быть {low}."
            v.message_max = f"Должно быть {high}."
            v.message_all = f"Должно быть {low} и {high}."
    else:
        russian = {
            validate.OneOf: "Допустимые значения: {choices}.",
            validate.Regexp: "Неверный формат.",
            validate.Email: "Неверный адрес электронной почты.",
            validate.URL: "Неверный адрес (URL).",
            validate.Equal: "Должно быть равно {other}.",
        }
        for cls, message in russian.items():
            if isinstance(v, cls) and v.error == cls.default_message:
                v.error = message
                break


class Schema(ma.Schema):
    """Base of every API schema: Russian messages, unknown fields rejected."""

    error_messages = SCHEMA_MESSAGES

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def _refuse_nul(self, data, **_kwargs):
        # PostgreSQL cannot store U+0000 in text: refuse it here instead of failing at the database.
        if isinstance(data, Mapping):
            bad = {key: ["Недопустимый символ U+0000."] for key, value in data.items()
                   if isinstance(value, str) and "\x00" in value}
            if bad:
                raise ma.ValidationError(bad)
        return data

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        english = _english_defaults(type(field_obj))
        for key, message in _russian_for(type(field_obj)).items():
            if field_obj.error_messages.get(key) == english.get(key):
                field_obj.error_messages[key] = message
        for v in field_obj.validators:
            if isinstance(v, validate.Validator):
                _russify_validator(v)
        for inner in (getattr(field_obj, "inner", None), getattr(field_obj, "value_field", None)):
            if isinstance(inner, fields.Field):
                self.on_bind_field(field_name, inner)


# --- shared validators and fields ----------------------------------------------------------------

def not_blank(value: str) -> None:
    if not value or not value.strip():
        raise ma.ValidationError("Поле не может быть пустым.")


def time_zone(value: str | None) -> None:
    if value and not valid_time_zone(value):
        raise ma.ValidationError("Неизвестный часовой пояс. Пример: Europe/Moscow.")


def person_name(value: str) -> None:
    if any(c in value for c in "<>\"{}") or any(ord(c) < 32 for c in value):
        raise ma.ValidationError("Недопустимые символы в имени.")


def class_letter(value: str | None) -> None:
    letter = (value or "").strip()
    if letter and (len(letter) > 4 or not letter.isalnum()):
        raise ma.ValidationError("Буква класса: до 4 букв или цифр.")


def birth_date(value: date | None) -> None:
    if value is not None and not date(1900, 1, 1) <= value <= date.today():
        raise ma.ValidationError("Дата рождения вне допустимого диапазона (с 1900 года по сегодня).")


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
        if not text.strip():
            return None
        digits = re.sub(r"\D", "", text)
        if len(digits) != 11:
            raise ma.ValidationError("СНИЛС должен содержать 11 цифр (формат 000-000-000 00).")
        if int(digits[:9]) > 1001998 and snils_checksum(digits[:9]) != int(digits[9:]):
            raise ma.ValidationError("Контрольное число СНИЛС не совпадает: проверьте цифры.")
        return digits


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
            raise ma.ValidationError(f"Должно быть не больше {limit}.")


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
