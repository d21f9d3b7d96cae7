"""Learning and distance-course server for a municipal education network."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from lms.config import PROJECT_ROOT, engine_options, instance_path, load_config


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(instance_path()),
        static_folder=str(PROJECT_ROOT / "static"),
        static_url_path="/static",
    )
    app.config.update(load_config())
    if config:
        app.config.update(config)
        if "SQLALCHEMY_ENGINE_OPTIONS" not in config:  # the pool suits the database actually used
            app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config["SQLALCHEMY_DATABASE_URI"])
    logging.basicConfig(level=logging.INFO if not app.config.get("TESTING") else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if app.config["PROXY_FIX"]:
        n = app.config["PROXY_FIX"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_prefix=n)  # type: ignore[method-assign]

    from lms.core.loading import IdConverter

    app.url_map.converters["int"] = IdConverter  # before any route is added
    _init_extensions(app)
    _register_blueprints(app)
    _register_cli(app)
    if app.config["MAX_ACTIVE_REQUESTS"]:
        from lms.core.admission import RequestSlots

        app.wsgi_app = RequestSlots(app.wsgi_app, app.config["MAX_ACTIVE_REQUESTS"])  # type: ignore[method-assign]
    return app


def _init_extensions(app: Flask) -> None:
    # Models must be imported before the metadata is used by migrations.
    import lms.models  # noqa: F401
    from lms.core import errors, i18n, mail, security, storage, templating
    from lms.core.db import configure_engine
    from lms.extensions import babel, csrf, db, login_manager, migrate, socketio

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True,
                     compare_type=True)
    csrf.init_app(app)
    i18n.compile_translations(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    socketio.init_app(app, message_queue=app.config["SOCKETIO_MESSAGE_QUEUE"],
                      cors_allowed_origins=app.config.get("SOCKETIO_CORS_ORIGINS", []),
                      manage_session=False)
    storage.init_storage(app)
    mail.init_mail(app)
    security.init_security(app)
    errors.register_error_handlers(app)
    templating.init_templating(app)

    from lms.accounts import sessions

    sessions.init_login(app, login_manager)


def _register_blueprints(app: Flask) -> None:
    from lms.accounts.routes_auth import bp as auth_bp
    from lms.accounts.routes_import import bp as imports_bp
    from lms.accounts.routes_people import bp as people_bp
    from lms.accounts.routes_profile import bp as profile_bp
    from lms.api import init_api
    from lms.assessment import jobs as _assessment_jobs  # noqa: F401 - closes overdue quiz attempts
    from lms.assessment.routes_attempts import bp as attempts_bp
    from lms.assessment.routes_banks import bp as banks_bp
    from lms.assessment.routes_quiz_admin import bp as quiz_admin_bp
    from lms.core.storage import bp as files_bp
    from lms.courses import jobs as _course_jobs  # noqa: F401 - registers the domain's periodic jobs
    from lms.courses import notices as _course_notices  # noqa: F401 - calendar events and notifications
    from lms.courses import revisions as _course_revisions  # noqa: F401 - revisions bumped on every flush
    from lms.courses.routes_certificates import bp as certificates_bp
    from lms.courses.routes_completion import bp as completion_bp
    from lms.courses.routes_content import bp as content_bp
    from lms.courses.routes_programmes import bp as programmes_bp
    from lms.courses.routes_runs import bp as runs_bp
    from lms.main.routes import bp as main_bp
    from lms.orgs.routes import bp as orgs_bp

    for bp in (main_bp, auth_bp, profile_bp, people_bp, imports_bp, orgs_bp, files_bp, programmes_bp, runs_bp,
               content_bp, completion_bp, certificates_bp, attempts_bp, banks_bp, quiz_admin_bp):
        app.register_blueprint(bp)
    from lms.extensions import socketio
    from lms.main import events

    events.register(socketio)
    init_api(app)
    if app.config["BENCH_ROUTES"]:
        from lms.main.bench import bp as bench_bp

        app.register_blueprint(bench_bp)


def _register_cli(app: Flask) -> None:
    from lms.accounts.cli import users_cli
    from lms.assessment.cli import questions_cli, quizzes_cli
    from lms.core.cli import jobs_cli, mail_cli
    from lms.demo import demo_cli

    for group in (users_cli, demo_cli, mail_cli, jobs_cli, questions_cli, quizzes_cli):
        app.cli.add_command(group)
