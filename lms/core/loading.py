"""Loading an object by an id that came from a request."""

from __future__ import annotations

from flask import abort
from werkzeug.routing import IntegerConverter

from lms.extensions import db

#: Primary keys are 32-bit integers: a larger id in a URL or a form cannot name a row (PostgreSQL
#: would even refuse to compare it and fail the request).
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: an id outside the key range does not match, so it answers 404."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's signature
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def get_or_none(model, object_id):
    """The row with this id, or None for a missing, malformed or out-of-range id."""
    if isinstance(object_id, bool) or not isinstance(object_id, int) or not 0 < object_id <= MAX_ID:
        return None
    return db.session.get(model, object_id)


def get_or_404(model, object_id):
    obj = get_or_none(model, object_id)
    if obj is None:
        abort(404)
    return obj
