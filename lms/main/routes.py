"""Dashboard, health check, language, accessibility settings, audit log and the mail outbox."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select, text
from sqlalchemy.orm.attributes import flag_modified

from lms.accounts.models import User
from lms.accounts.permissions import can_read_outbox, can_view_audit
from lms.core.audit import AuditEvent
from lms.core.calendar import events_for, has_feed, new_feed_token, to_ical, user_for_token
from lms.core.db import utcnow
from lms.core.forms import select_choices
from lms.core.i18n import select_timezone
from lms.core.mail import OutboxMessage
from lms.core.notifications import Notification, mark_all_read
from lms.core.permissions import require
from lms.core.storage import get_storage
from lms.core.templating import A11Y_CHOICES, A11Y_DEFAULTS, a11y_settings
from lms.extensions import db
from lms.labels import ACTION_LABELS
from lms.main.dashboard import (
    audit_visibility,
    build_dashboard,
    cached_page,
    dashboard_page_key,
    dashboard_state,
    org_sections_html,
)
from lms.main.forms import AuditFilterForm
from lms.orgs.models import Organization
from lms.orgs.permissions import scope_of

bp = Blueprint("main", __name__)
log = logging.getLogger(__name__)


def _back(default: str = "main.dashboard") -> str:
    target = request.form.get("next") or ""
    if target.startswith("/") and not target.startswith("//"):
        return target.rstrip("?") or "/"
    return url_for(default)


@bp.route("/")
@login_required
def dashboard():
    require(current_user.is_authenticated)
    state = dashboard_state(current_user)

    def render() -> str:
        data = build_dashboard(current_user, state)
        return render_template("main/dashboard.html", d=data, scope=state.scope, org_html=org_sections_html(data))

    return cached_page(dashboard_page_key(current_user, state), render)


@bp.route("/healthz")
def healthz():
    status = {"database": "ok", "storage": "ok"}
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        log.warning("health: database down: %s", exc)
        status["database"] = "unavailable"
    try:
        get_storage().check()
    except Exception as exc:  # noqa: BLE001
        log.warning("health: storage down: %s", exc)
        status["storage"] = "unavailable"
    ok = all(v == "ok" for v in status.values())
    return jsonify(status="ok" if ok else "unavailable", **status), 200 if ok else 503


@bp.route("/locale", methods=["POST"])
def set_locale():
    from flask import current_app

    code = request.form.get("locale", "")
    if code in current_app.config["LANGUAGES"]:
        session["locale"] = code
        if current_user.is_authenticated:
            current_user.locale = code
            db.session.commit()
    return redirect(_back())


@bp.route("/accessibility", methods=["GET", "POST"])
def accessibility():
    """The version for visually impaired users: on/off plus type size, colours, images, spacing,
    remembered per user (or in the session for visitors)."""
    settings = a11y_settings()
    if request.method == "POST":
        if request.form.get("toggle"):
            settings["on"] = not settings["on"]
        else:
            settings["on"] = request.form.get("on") == "1"
            for key, choices in A11Y_CHOICES.items():
                value = request.form.get(key)
                if value in choices:
                    settings[key] = value
        if request.form.get("reset"):
            settings = dict(A11Y_DEFAULTS)
        if current_user.is_authenticated:
            prefs = dict(current_user.prefs or {})
            prefs["a11y"] = settings
            current_user.prefs = prefs
            flag_modified(current_user, "prefs")
            db.session.commit()
        else:
            session["a11y"] = settings
        return redirect(_back("main.accessibility"))
    return render_template("main/accessibility.html", settings=settings, choices=A11Y_CHOICES)


@bp.route("/audit")
@login_required
def audit_log():
    scope = scope_of(current_user)
    require(can_view_audit(current_user))
    form = AuditFilterForm(request.args, meta={"csrf": False})
    form.action.choices = select_choices([("", _l("Any"))] + sorted(
        ((code, str(label)) for code, label in ACTION_LABELS.items()), key=lambda item: item[1]))
    stmt = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    cond = audit_visibility(scope)
    if cond is not None:
        stmt = stmt.where(cond)
    if form.validate():
        if form.action.data:
            stmt = stmt.where(AuditEvent.action == form.action.data)
        if form.actor.data:
            stmt = stmt.join(User, User.id == AuditEvent.actor_id).where(
                User.username == form.actor.data.strip().lower())
        if form.date_from.data:
            # Dates are the user's local days.
            start = datetime.combine(form.date_from.data, time.min, tzinfo=ZoneInfo(select_timezone()))
            stmt = stmt.where(AuditEvent.at >= start)
        if form.date_to.data:
            end = datetime.combine(form.date_to.data + timedelta(days=1), time.min,
                                   tzinfo=ZoneInfo(select_timezone()))
            stmt = stmt.where(AuditEvent.at < end)
    page = db.paginate(stmt, per_page=50, error_out=False)
    orgs = {o.id: o for o in db.session.scalars(select(Organization).where(
        Organization.id.in_({e.organization_id for e in page.items if e.organization_id})))}
    return render_template("main/audit.html", page=page, form=form, orgs=orgs,
                           args={k: v for k, v in request.args.items() if k != "page"})


@bp.route("/outbox")
@login_required
def outbox():
    require(can_read_outbox(current_user))
    page = db.paginate(select(OutboxMessage).order_by(OutboxMessage.id.desc()), per_page=30, error_out=False)
    return render_template("main/outbox.html", page=page)


# --- notifications and calendar ------------------------------------------------------------------

@bp.route("/notifications")
@login_required
def notifications():
    require(current_user.is_authenticated)
    page = db.paginate(select(Notification).where(Notification.user_id == current_user.id)
                       .order_by(Notification.id.desc()), per_page=50, error_out=False)
    return render_template("main/notifications.html", page=page)


@bp.route("/notifications/read", methods=["POST"])
@login_required
def read_notifications():
    require(current_user.is_authenticated)
    mark_all_read(current_user.id)
    db.session.commit()
    return redirect(url_for("main.notifications"))


@bp.route("/calendar")
@login_required
def calendar():
    require(current_user.is_authenticated)
    start = utcnow() - timedelta(days=7)
    events = events_for(current_user, start, start + timedelta(days=120))
    return render_template("main/calendar.html", events=events, has_feed=has_feed(current_user),
                           feed_url=session.pop("lms_feed_url", None))


@bp.route("/calendar/feed", methods=["POST"])
@login_required
def calendar_feed():
    """A new private feed address (the old one stops working); shown once on the calendar page."""
    require(current_user.is_authenticated)
    token = new_feed_token(current_user)
    db.session.commit()
    session["lms_feed_url"] = url_for("main.calendar_ics", token=token, _external=True)
    flash(_l("Your calendar feed address is renewed: the old one no longer works."), "success")
    return redirect(url_for("main.calendar"))


@bp.route("/calendar/<token>.ics")
def calendar_ics(token: str):
    """The feed itself: calendar programs fetch it without logging in, so the token is the key."""
    user = user_for_token(token)
    if user is None:
        abort(404)
    start = utcnow() - timedelta(days=60)
    body = to_ical(events_for(user, start, start + timedelta(days=400)), name=str(_l("Courses")),
                   base_url=request.url_root)
    return Response(body, mimetype="text/calendar", headers={"Cache-Control": "private, max-age=300"})
