"""Browser sessions: a server-side row per login, so logout, deactivation and timeouts end it at once.

The signed cookie holds only the session id (``sid``), Flask-Login's user id and the CSRF token.
Login clears the cookie and issues a new id (no session fixation).
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_user, logout_user
from sqlalchemy import bindparam, delete, exists, select, update

from lms.accounts import services
from lms.accounts.models import AuthSession, User
from lms.core.db import utcnow
from lms.extensions import db

#: Endpoints a user who must change their password may still reach.
_ALLOWED_WHILE_MUST_CHANGE = {"auth.logout", "auth.change_password", "static", "main.healthz",
                              "main.set_locale", "main.accessibility"}


def start_session(user: User) -> AuthSession:
    """Rotate the session: drop everything from before login and bind a fresh server-side id."""
    locale, a11y = session.get("locale"), session.get("a11y")
    session.clear()
    row = services.create_auth_session(user, ip=request.remote_addr,
                                       user_agent=request.headers.get("User-Agent", ""))
    session.permanent = True
    session["sid"] = row.id
    if locale:
        session["locale"] = locale
    if a11y:
        session["a11y"] = a11y
    login_user(user)
    return row


def end_session() -> None:
    sid = session.get("sid")
    if sid:
        row = db.session.get(AuthSession, sid)
        if row is not None:
            db.session.delete(row)
    logout_user()
    session.clear()


def current_session_id() -> str | None:
    return session.get("sid")


#: Built once: it runs on every request, and building a statement costs more than running this one.
#: One entity and two columns: the session row itself is never needed as an object here.
_SESSION_USER = (select(User, AuthSession.user_id, AuthSession.created_at, AuthSession.last_seen_at)
                 .join(AuthSession, AuthSession.user_id == User.id)
                 .where(AuthSession.id == bindparam("sid")))


def _timeouts() -> tuple[timedelta, timedelta]:
    cfg = current_app.config
    return timedelta(seconds=cfg["SESSION_IDLE_SECONDS"]), timedelta(seconds=cfg["SESSION_ABSOLUTE_SECONDS"])


def seen(sid: str, last_seen_at, now) -> None:
    """Touch a live session at most once a minute: enough for the idle timeout, cheap on every request."""
    if now - last_seen_at > timedelta(seconds=60):
        db.session.execute(update(AuthSession).where(AuthSession.id == sid).values(last_seen_at=now))
        db.session.commit()


def _still_valid(sid, created_at, last_seen_at) -> bool:
    """The session's timeouts (idle, absolute): an expired row is deleted; a live one is touched (``seen``)."""
    now = utcnow()
    idle, absolute = _timeouts()
    if now - last_seen_at > idle or now - created_at > absolute:
        db.session.execute(delete(AuthSession).where(AuthSession.id == sid))
        db.session.commit()
        session.clear()
        g.lms_session_expired = True
        return False
    seen(sid, last_seen_at, now)
    return True


def load_user(user_id: str) -> User | None:
    sid = session.get("sid")
    if not sid:
        return None
    row = db.session.execute(_SESSION_USER, {"sid": sid}).first()
    if row is None:
        session.clear()
        return None
    user, session_user_id, created_at, last_seen_at = row
    if str(session_user_id) != str(user_id) or not user.is_active:
        session.clear()
        return None
    return user if _still_valid(sid, created_at, last_seen_at) else None


#: The same check as ``load_user`` for endpoints that need only who is asking, not the person's record.
_SESSION_ID_ONLY = (select(AuthSession.user_id, AuthSession.created_at, AuthSession.last_seen_at, User.is_active)
                    .join(User, User.id == AuthSession.user_id)
                    .where(AuthSession.id == bindparam("sid")))


def authenticated_user_id() -> int | None:
    """The logged-in person's id under exactly ``load_user``'s rules (their session row, active, within the
    timeouts), in one small statement and without loading them: for the hottest JSON endpoints (a quiz
    answer saved on every change). Such endpoints are listed in ``LIGHT_ENDPOINTS``."""
    sid, user_id = session.get("sid"), session.get("_user_id")
    if not sid or not user_id:
        return None
    row = db.session.connection().execute(_SESSION_ID_ONLY, {"sid": sid}).first()  # Core: no ORM layer
    if row is None or str(row.user_id) != str(user_id) or not row.is_active:
        return None
    return row.user_id if _still_valid(sid, row.created_at, row.last_seen_at) else None


#: ``load_user``'s rules as a condition inside another statement: the session row of the cookie, of person ``uid``,
#: active, within both timeouts. A hot endpoint checks who is asking in the statement that does its work, with
#: the parameters of ``live_session_params``; when the condition fails it falls back to ``authenticated_user_id``,
#: which tells an ended session (401) from the rest and deletes an expired row.
LIVE_SESSION = (exists().where(AuthSession.id == bindparam("sid"), AuthSession.user_id == bindparam("uid"),
                               AuthSession.last_seen_at >= bindparam("seen_after"),
                               AuthSession.created_at >= bindparam("born_after"))
                .where(User.id == AuthSession.user_id, User.is_active.is_(True)))
#: The session's last touch, for ``seen`` after such a statement.
LAST_SEEN = select(AuthSession.last_seen_at).where(AuthSession.id == bindparam("sid")).scalar_subquery()


def live_session_params(now) -> dict | None:
    """The parameters of ``LIVE_SESSION`` for this request's cookie (None without a logged-in cookie)."""
    sid, user_id = session.get("sid"), session.get("_user_id")
    if not sid or not isinstance(user_id, str | int) or not str(user_id).isdecimal() or len(str(user_id)) > 15:
        return None
    idle, absolute = _timeouts()
    return {"sid": sid, "uid": int(user_id), "seen_after": now - idle, "born_after": now - absolute}


#: Endpoints that authenticate with ``authenticated_user_id`` themselves: the before-request hook leaves
#: them alone (it would load the person), and a person who must change their password still saves answers.
LIGHT_ENDPOINTS = {"attempts.autosave"}


def init_login(app: Flask, login_manager: LoginManager) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to open this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # the server-side session row does this job
    login_manager.user_loader(load_user)

    @app.before_request
    def _force_password_change():
        if request.endpoint in _ALLOWED_WHILE_MUST_CHANGE or request.endpoint in LIGHT_ENDPOINTS \
                or request.path.startswith("/api/"):
            return None
        if current_user.is_authenticated and current_user.must_change_password:
            flash(_("Set a new password to continue."), "warning")
            return redirect(url_for("auth.change_password"))
        if g.get("lms_session_expired"):
            flash(_("Your session has ended. Please log in again."), "info")
        return None
