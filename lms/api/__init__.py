"""/api/v1: the JSON API (flask-smorest). The OpenAPI 3 document is generated from this code and
served at /api/v1/openapi.json.

- Authentication: ``Authorization: Bearer <personal access token>`` on every endpoint but the
  document itself (see ``lms.api.core``). The session cookie is never used.
- Errors: ``{"error": {"code", "title", "message", "field", "fields"}}``, in Russian where the API
  writes them; validation errors are 422 with every field named.
- Lists: ``?page=&per_page=`` → ``{"items", "page", "per_page", "total", "pages"}``.
- Views follow the pages: load (404) → one permission check → service → one commit.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.exceptions import HTTPException

from lms.api.base import ErrorSchema

SECURITY_SCHEME = "bearerAuth"


def _blueprints():
    from lms.api import course_changes as _course_changes  # noqa: F401 - its routes join the blueprints below
    from lms.api.assessment import attempts_bp, banks_bp, questions_bp, quizzes_bp
    from lms.api.courses import certificates_bp, programmes_bp, runs_bp
    from lms.api.memberships import memberships_bp
    from lms.api.orgs import municipalities_bp, organizations_bp
    from lms.api.people import me_bp, people_bp

    return (me_bp, municipalities_bp, organizations_bp, people_bp, memberships_bp, programmes_bp, runs_bp,
            certificates_bp, banks_bp, questions_bp, quizzes_bp, attempts_bp)


def init_api(app: Flask) -> None:
    from lms.extensions import api, csrf

    api.ERROR_SCHEMA = ErrorSchema
    # flask-smorest installs its own application-wide HTTPException handler; the pages need the
    # application's (lms.core.errors), and the API blueprints carry their own, so put it back.
    handlers = app.error_handler_spec[None][None]
    app_handler = handlers.get(HTTPException)
    api.init_app(app, spec_kwargs={
        "security": [{SECURITY_SCHEME: []}],
        "info": {"description": (
            "API сервера дистанционного обучения муниципальной сети. Аутентификация — персональный "
            "токен доступа (создаётся в профиле): `Authorization: Bearer lms_…`. Ошибки — "
            "`{\"error\": {\"code\", \"title\", \"message\", \"field\", \"fields\"}}`. Списки — "
            "`?page=1&per_page=50`, ответ `{\"items\", \"page\", \"per_page\", \"total\", \"pages\"}`.")},
    })
    if app_handler is not None:
        handlers[HTTPException] = app_handler
    api.spec.components.security_scheme(SECURITY_SCHEME, {
        "type": "http", "scheme": "bearer",
        "description": "Персональный токен доступа lms_…",
    })
    for bp in _blueprints():
        # The API authenticates only by bearer token, never by cookie: a request cannot carry the
        # user's credentials without the client deliberately sending the token, so cross-site request
        # forgery has nothing to ride on and the CSRF token check does not apply.
        csrf.exempt(bp)
        api.register_blueprint(bp)
