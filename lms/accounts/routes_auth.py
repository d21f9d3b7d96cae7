"""Login, logout, password change and password reset."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.accounts import services, sessions
from lms.accounts.forms import ChangePasswordForm, LoginForm, ResetPasswordForm, ResetRequestForm
from lms.core.forms import form_status, submit
from lms.core.mail import queue_mail
from lms.extensions import db

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: never redirect to another host after login."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("main.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.username.data, form.password.data, ip=request.remote_addr or "")
        except services.LoginThrottled as exc:
            form.form_errors.append(exc.message)
            status = 429
        except services.LoginFailed as exc:
            db.session.commit()  # keep the recorded failure
            form.form_errors.append(exc.message)
            status = 401
        else:
            sessions.start_session(user)
            db.session.commit()
            if user.must_change_password:
                flash(_("This is your first login with an initial password: set your own password."), "warning")
                return redirect(url_for("auth.change_password"))
            return redirect(_safe_next(form.next.data))
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    sessions.end_session()
    db.session.commit()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password/change", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        ok, _result = submit(lambda: services.change_own_password(
            current_user, form.current_password.data, form.new_password.data,
            session_id=sessions.current_session_id()), form=form, field="new_password",
            aliases={"password": "new_password"})
        if ok:
            flash(_("Password changed. Other sessions of your account have been ended."), "success")
            return redirect(url_for("main.dashboard"))
    return render_template("auth/change_password.html", form=form), form_status(form)


@bp.route("/password/reset", methods=["GET", "POST"])
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        try:
            found = services.request_password_reset(form.login.data, ip=request.remote_addr or "")
        except services.LoginThrottled as exc:
            form.form_errors.append(exc.message)
            return render_template("auth/reset_request.html", form=form), 429
        if found is not None:
            user, token = found
            base = current_app.config.get("BASE_URL") or request.url_root.rstrip("/")
            link = base + url_for("auth.reset_password", token=token)
            hours = current_app.config["PASSWORD_RESET_HOURS"]
            queue_mail(user.email, _("Password reset"), render_template(
                "auth/reset_email.txt", user=user, link=link, hours=hours))
        db.session.commit()
        flash(_("If the account exists and has an e-mail address, we have sent a link to reset the password."),
              "info")
        return redirect(url_for("auth.login"))
    status = form_status(form)
    return render_template("auth/reset_request.html", form=form), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    if services.reset_token_user(token) is None:
        return render_template("auth/reset_invalid.html"), 410
    form = ResetPasswordForm()
    if form.validate_on_submit():
        ok, _user = submit(lambda: services.reset_password(token, form.new_password.data), form=form,
                           field="new_password", aliases={"password": "new_password"})
        if ok:
            flash(_("The password has been changed. Log in with the new password."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form), form_status(form)
