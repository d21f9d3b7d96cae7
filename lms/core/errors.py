"""Domain errors and the error pages / JSON errors the application answers with."""

from __future__ import annotations

import logging
from collections import deque

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A business rule refused an action. ``field`` names the input at fault, if any; ``errors``
    holds every field's message when several inputs are wrong at once (``field`` is then the first)."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors or ({field: message} if field else {})


class ValidationError(DomainError):
    status = 422

    @classmethod
    def of(cls, errors: dict[str, str]) -> ValidationError:
        """One error naming every wrong field (the form shows each message next to its input)."""
        field, message = next(iter(errors.items()))
        return cls(message, field=field, errors=dict(errors))


class Conflict(DomainError):
    status = 409


class PermissionDenied(DomainError):
    status = 403


def wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json"
    )


_TITLES = {
    400: _l("Bad request"),
    401: _l("Authentication required"),
    403: _l("Access denied"),
    404: _l("Page not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    413: _l("File too large"),
    415: _l("Unsupported media type"),
    422: _l("Invalid data"),
    429: _l("Too many requests"),
    500: _l("Internal server error"),
    503: _l("Service unavailable"),
}


def error_title(code: int) -> str:
    """The title of an error answer (pages and API alike)."""
    return str(_TITLES.get(code, _TITLES[500]))


def _describe(code: int) -> str:
    return {
        401: _("Log in or send a valid access token."),
        403: _("You do not have permission to open this page."),
        404: _("The page does not exist or has been removed."),
        413: _("The uploaded file is larger than allowed."),
        429: _("Too many requests. Please wait and try again."),
        500: _("Something went wrong on the server. The error has been logged; please try again later."),
    }.get(code, "")


def error_body(code: int, message: str, *, field: str | None = None, fields=None) -> dict:
    """The JSON of every error answer, from the pages' handlers and from /api/v1 alike."""
    return {"error": {"code": code, "title": error_title(code), "message": message, "field": field,
                      "fields": fields or {}}}


def error_response(code: int, message: str | None = None, *, field: str | None = None, fields=None):
    title = error_title(code)
    message = message or _describe(code) or title
    if wants_json():
        return jsonify(error_body(code, message, field=field, fields=fields)), code
    # Server-side failures render a page that needs no database (it may be what failed).
    template = "errors/plain.html" if code >= 500 else "errors/error.html"
    return render_template(template, code=code, title=title, message=message), code


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        from lms.extensions import db

        db.session.rollback()
        fields = {k: [v] for k, v in exc.errors.items()} or None
        return error_response(exc.status, exc.message, field=exc.field, fields=fields)

    @app.errorhandler(IntegrityError)
    def _integrity(exc: IntegrityError):
        # Two requests raced past the same check (e.g. a login taken at the same moment): the
        # database refused the second. Nothing was written; the user can simply try again.
        from lms.extensions import db

        db.session.rollback()
        log.info("integrity conflict on %s %s: %s", request.method, request.path, exc.orig)
        return error_response(409, _("Someone changed the same data at the same moment. "
                                     "Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        code = exc.code or 500
        if code in (301, 302, 303, 307, 308):
            return exc
        # flask-smorest attaches validation messages here; keep them, naming the fields.
        data = getattr(exc, "data", None) or {}
        messages = data.get("messages") if isinstance(data, dict) else None
        if code == 400 and getattr(exc, "description", "").startswith("The CSRF token"):
            return error_response(400, _("The form has expired or was sent from another page. "
                                         "Reload the page and try again."))
        if messages and wants_json():
            flat = {}
            for location in messages.values():
                if isinstance(location, dict):
                    flat.update(location)
            first = next(iter(flat), None)
            return error_response(422, _("Check the fields: %(names)s", names=", ".join(flat)),
                                  field=first, fields=flat)
        description = None
        if exc.description and code not in (404, 500) and exc.description != type(exc).description:
            description = exc.description
        return error_response(code, description)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        # The last few unhandled errors, for the test suite's "never a 500" guard.
        recent = app.extensions.setdefault("lms_unhandled_errors", deque(maxlen=20))
        recent.append(f"{request.method} {request.path}: {type(exc).__name__}: {exc}")
        try:
            from lms.extensions import db

            db.session.rollback()
        except Exception:  # noqa: BLE001 - the error page must render even if the DB is gone
            log.exception("rollback failed")
        return error_response(500)
