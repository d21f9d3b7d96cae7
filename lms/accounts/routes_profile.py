"""A person's own profile: contact details, language, time zone, API tokens, active sessions."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from lms.accounts import services, sessions
from lms.accounts.forms import ProfileForm, TokenForm
from lms.accounts.models import ApiToken, AuthSession
from lms.core.forms import form_status, select_choices, submit
from lms.core.i18n import time_zone_choices
from lms.core.loading import get_or_404
from lms.core.permissions import require
from lms.extensions import db

bp = Blueprint("profile", __name__, url_prefix="/profile")


def _profile_form(formdata=None) -> ProfileForm:
    form = ProfileForm(formdata=formdata, obj=current_user if formdata is None else None)
    form.locale.choices = select_choices(current_app.config["LANGUAGES"].items())
    form.time_zone.choices = time_zone_choices(_("— as my organization —"))
    return form


def _render(form: ProfileForm, token_form: TokenForm, new_token: str | None = None, status: int = 200):
    tokens = db.session.scalars(select(ApiToken).where(ApiToken.user_id == current_user.id)
                                .order_by(ApiToken.id.desc())).all()
    auth_sessions = db.session.scalars(select(AuthSession).where(AuthSession.user_id == current_user.id)
                                       .order_by(AuthSession.last_seen_at.desc())).all()
    return render_template("profile/profile.html", form=form, token_form=token_form, tokens=tokens,
                           new_token=new_token, auth_sessions=auth_sessions,
                           current_sid=sessions.current_session_id()), status


@bp.route("", methods=["GET", "POST"])
@login_required
def view():
    require(current_user.is_authenticated)
    form = _profile_form(request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate_on_submit():
        ok, _changed = submit(lambda: services.update_user(current_user, {
            "email": form.email.data, "phone": form.phone.data, "locale": form.locale.data,
            "time_zone": form.time_zone.data or None}, by=current_user), form=form, field="email")
        if ok:
            flash(_("Profile saved."), "success")
            return redirect(url_for("profile.view"))
    status = form_status(form)
    return _render(form, TokenForm(formdata=None), status=status)


@bp.route("/tokens", methods=["POST"])
@login_required
def create_token():
    require(current_user.is_authenticated)
    token_form = TokenForm()
    if token_form.validate_on_submit():
        ok, created = submit(lambda: services.create_api_token(current_user, token_form.name.data, by=current_user,
                                                               days=token_form.days.data),
                             form=token_form, field="name")
        if ok:
            flash(_("Token created. Copy it now: it will not be shown again."), "success")
            return _render(_profile_form(), TokenForm(formdata=None), new_token=created[1])
    return _render(_profile_form(), token_form, status=422)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    row = get_or_404(ApiToken, token_id)
    require(row.user_id == current_user.id)
    services.revoke_api_token(row, by=current_user)
    db.session.commit()
    flash(_("Token revoked."), "success")
    return redirect(url_for("profile.view"))


@bp.route("/sessions/end-others", methods=["POST"])
@login_required
def end_other_sessions():
    require(current_user.is_authenticated)
    n = services.end_sessions(current_user, except_id=sessions.current_session_id())
    db.session.commit()
    flash(_("Other sessions ended: %(n)d.", n=n), "success")
    return redirect(url_for("profile.view"))
