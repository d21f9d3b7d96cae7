"""Putting a service's DomainError next to the form field it names; the options of select fields."""

from __future__ import annotations

from collections.abc import Iterable

from flask import flash
from wtforms.fields import SelectChoice

from lms.core.errors import DomainError


def select_choices(pairs: Iterable[tuple[object, object]]) -> list[SelectChoice]:
    """``(value, label)`` pairs (a list, a dict's ``items()``) as the options of a SelectField, RadioField
    or SelectMultipleField. Labels are kept as given, so lazy ones stay lazy. Read an option back
    through ``.value`` and ``.label``: a SelectChoice unpacks into four items, not two."""
    return [SelectChoice(value, label) for value, label in pairs]


def attach_error(form, exc: DomainError, default: str, aliases: dict[str, str] | None = None) -> None:
    """Show each message under the field the service named (mapped through ``aliases``), or under
    ``default`` when the form has no such field."""
    for field, message in (exc.errors or {None: exc.message}).items():
        name = (aliases or {}).get(field or "", field)
        target = getattr(form, name, None) if name else None
        if target is None or not hasattr(target, "errors"):
            target = getattr(form, default)
        if not isinstance(target.errors, list):
            target.errors = list(target.errors)
        target.errors.append(message)


def submit(action, *, form=None, field: str = "", aliases: dict[str, str] | None = None):
    """Run a view's service call the one way every view does: commit when it succeeds; when the
    service refuses, roll back and show why — under the field it names on ``form`` (``field`` when the
    form has no such input), or as a flash message when no form is shown again.

    Returns ``(True, result)`` or ``(False, None)``."""
    from lms.extensions import db

    try:
        result = action()
    except DomainError as exc:
        db.session.rollback()
        if form is None:
            flash(exc.message, "error")
        else:
            attach_error(form, exc, field, aliases)
        return False, None
    db.session.commit()
    return True, result


def form_status(form) -> int:
    """422 when a submitted form is shown again with its errors, 200 on first display."""
    return 422 if form.is_submitted() else 200


def flash_form_errors(form) -> None:
    """For small forms posted from another page: their errors, as messages on the page returned to."""
    for f in form:
        for error in f.errors:
            flash(f"{f.label.text}: {error}", "error")
