"""What every /api/v1 blueprint shares: bearer authentication, JSON errors, loading and paging.

Authentication is by personal access token only (``Authorization: Bearer lms_…``). The browser's
session cookie is never consulted: Flask-Login's user for the request is set here, before anything
could ask Flask-Login to load it from the cookie.
"""

from __future__ import annotations

import http

from flask import current_app, g, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from sqlalchemy import update
from werkzeug.exceptions import HTTPException

from lms.accounts import services
from lms.accounts.models import ApiToken
from lms.api.base import Msg
from lms.core.errors import DomainError, error_body
from lms.core.loading import get_or_404  # noqa: F401 - re-exported to the API modules
from lms.core.permissions import require  # noqa: F401 - re-exported to the API modules
from lms.extensions import db

#: What an API error says when the code raising it gave no message of its own (titles: lms.core.errors).
MESSAGES = {
    400: _l("The request could not be read."),
    401: _l("Send the header Authorization: Bearer <token>."),
    403: _l("You do not have permission for this action."),
    404: _l("Not found."),
    405: _l("This method is not allowed at this address."),
    413: _l("The request is larger than allowed."),
    415: _l("Send JSON (Content-Type: application/json)."),
    429: _l("Too many requests. Please wait and try again."),
    500: _l("Something went wrong on the server. The error has been logged; please try again later."),
}
REFUSED_CREDENTIALS = _l("The token is invalid, expired or revoked, or the account is deactivated.")


def api_error(code: int, message: str | None = None, *, field: str | None = None,
              fields: dict[str, list[str]] | None = None, headers: dict[str, str] | None = None):
    text = str(message or MESSAGES.get(code) or http.HTTPStatus(code).phrase)
    return error_body(code, text, field=field, fields=fields), code, headers or {}


# --- authentication ------------------------------------------------------------------------------

def _authenticate():
    login_manager = current_app.login_manager  # type: ignore[attr-defined]
    # Flask-Login loads its user lazily, from the session cookie. Fixing it here for the whole request
    # means no code path of the API (gettext's locale, a predicate, an error page) can ever read the
    # cookie: a logged-in browser without a token is anonymous to the API.
    g._login_user = login_manager.anonymous_user()
    g.pop("api_user", None)
    g.pop("api_token_touch", None)
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    raw = raw.strip()
    if scheme.lower() != "bearer" or not raw:
        return api_error(401, headers={"WWW-Authenticate": 'Bearer realm="lms"'})
    user = services.user_for_token(raw)
    if user is None:
        return api_error(401, REFUSED_CREDENTIALS,
                         headers={"WWW-Authenticate": 'Bearer realm="lms", error="invalid_token"'})
    touched = next((obj for obj in db.session.dirty if isinstance(obj, ApiToken)), None)
    if touched is not None:
        g.api_token_touch = (touched.id, touched.last_used_at)
    g.api_user = user
    g._login_user = user
    return None


def _save_token_use(response):
    """Keep the token's ``last_used_at`` touch (made at most every few minutes) with one commit.

    A successful write commits once in its view and the touch goes with it; a read commits here only
    when there is a touch to save. A failed request keeps nothing it may have flushed, only the touch.
    """
    touch = g.pop("api_token_touch", None)
    if response.status_code >= 400:
        db.session.rollback()
        if touch is not None:
            token_id, at = touch
            db.session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=at))
            db.session.commit()
    elif touch is not None and request.method in ("GET", "HEAD"):
        db.session.commit()
    return response


# --- errors --------------------------------------------------------------------------------------

def _flatten(messages, prefix: str = "") -> dict[str, list[str]]:
    """webargs/marshmallow messages (``{"json": {"email": [...]}, ...}``) → ``{"email": [...]}``."""
    out: dict[str, list[str]] = {}
    for key, value in messages.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.update(_flatten(value, name))
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            # Messages marshmallow stores without formatting them (unknown field, not an object)
            # are still untranslated here.
            out[name] = [_(v) if isinstance(v, Msg) else v for v in value]
        else:
            out[name] = [str(value)]
    return out


def _validation_error(messages: dict):
    flat: dict[str, list[str]] = {}
    for location, errors in messages.items():
        if isinstance(errors, dict):
            flat.update(_flatten(errors))
        else:  # e.g. {"json": ["Invalid JSON body."]}
            return api_error(400, _("The request body is not a JSON document.") if location == "json" else None)
    first = next((name for name in flat if name != "_schema"), None)
    text = "; ".join(f"{name} — {msgs[0].rstrip('.')}" if name != "_schema" else msgs[0].rstrip(".")
                     for name, msgs in flat.items())
    return api_error(422, _("Check the data: %(text)s.", text=text), field=first, fields=flat)


def _http_error(exc: HTTPException):
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") if isinstance(data, dict) else None
    if messages:
        return _validation_error(messages)
    code = exc.code or 500
    custom = exc.description if exc.description != type(exc).description else None
    return api_error(code, custom)


def _domain_error(exc: DomainError):
    db.session.rollback()
    # The services translate their messages (gettext, in the token owner's language).
    fields = {k: [v] for k, v in exc.errors.items()} or None
    return api_error(exc.status, exc.message, field=exc.field, fields=fields)


def make_blueprint(name: str, import_name: str, url_prefix: str, description: str) -> Blueprint:
    """A smorest blueprint for /api/v1 with bearer authentication and JSON errors, named ``api_<name>``
    (the pages own the plain names)."""
    bp = Blueprint(f"api_{name}", import_name, url_prefix=f"/api/v1{url_prefix}", description=description)
    bp.before_request(_authenticate)
    bp.after_request(_save_token_use)
    bp.register_error_handler(HTTPException, _http_error)
    bp.register_error_handler(DomainError, _domain_error)
    return bp


def document_errors(bp: Blueprint, *codes: int):
    """Document the error responses an endpoint can give (401 for every endpoint)."""

    def decorator(view):
        for code in sorted({401, *codes}, reverse=True):
            view = bp.alt_response(code, response=http.HTTPStatus(code).name)(view)
        return view

    return decorator


# --- helpers for views ---------------------------------------------------------------------------

def api_user():
    return g.api_user


def paginate(stmt, args: dict) -> dict:
    page = db.paginate(stmt, page=args["page"], per_page=args["per_page"], error_out=False, count=True)
    return {"items": list(page.items), "page": args["page"], "per_page": args["per_page"],
            "total": page.total or 0, "pages": page.pages}
