"""Business rules for people, passwords, login, tokens, parents and consents.

Functions take domain objects and plain data (never the request), flush but never commit, and raise
``DomainError`` subclasses whose ``field`` names the input at fault.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update

from lms.accounts.models import (
    ApiToken,
    AuthSession,
    Consent,
    ConsentKind,
    LoginAttempt,
    ParentLink,
    ParentRelation,
    PasswordResetToken,
    Sex,
    User,
)
from lms.accounts.passwords import (
    generate_password,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from lms.core import audit, signals
from lms.core.db import utcnow
from lms.core.errors import Conflict, DomainError, ValidationError
from lms.core.i18n import valid_time_zone
from lms.core.validators import PHONE, USERNAME, normalize_snils
from lms.extensions import db
from lms.orgs.models import Membership, Organization, Role
from lms.orgs.permissions import forget_scope

PERSON_FIELDS = ("surname", "name", "patronymic", "email", "birth_date", "sex", "phone", "snils",
                 "locale", "time_zone")


# --- normalisation -------------------------------------------------------------------------------

def normalize_username(value: str) -> str:
    username = (value or "").strip().lower()
    if not USERNAME.match(username):
        raise ValidationError(
            _("2–100 characters: Latin letters, digits and . _ - @, starting with a letter or digit."),
            field="username")
    return username


def normalize_email(value: str | None, *, field: str = "email") -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ValidationError(_("E-mail address is not valid."), field=field) from None


def _clean_name(value: str | None, field: str, *, required: bool) -> str:
    text = " ".join((value or "").split())
    if required and not text:
        raise ValidationError(_("This field is required."), field=field)
    if len(text) > 100:
        raise ValidationError(_("At most %(n)d characters.", n=100), field=field)
    if any(c in text for c in "<>\"{}") or any(ord(c) < 32 for c in text):
        raise ValidationError(_("The name contains characters that are not allowed."), field=field)
    return text


def _clean_snils(value):
    try:
        return normalize_snils(value)
    except ValueError as exc:
        raise ValidationError(str(exc), field="snils") from None


def _clean_birth_date(value):
    if value is not None and not isinstance(value, date):
        raise ValidationError(_("Date must be in the format DD.MM.YYYY."), field="birth_date")
    if value is not None and not (date(1900, 1, 1) <= value <= date.today()):
        raise ValidationError(_("The birth date is outside the allowed range."), field="birth_date")
    return value


def _clean_sex(value):
    value = value or None
    if value is not None and value not in {s.value for s in Sex}:
        raise ValidationError(_("Sex must be «m» or «f»."), field="sex")
    return value


def _clean_phone(value):
    phone = (value or "").strip()
    if phone and not PHONE.match(phone):
        raise ValidationError(_("Phone number is not valid."), field="phone")
    return phone


def _clean_locale(value):
    locale = value or "ru"
    if locale not in current_app.config["LANGUAGES"]:
        raise ValidationError(_("Unknown language."), field="locale")
    return locale


def _clean_time_zone(value):
    tz = value or None
    if tz is not None and not valid_time_zone(tz):
        raise ValidationError(_("Unknown time zone."), field="time_zone")
    return tz


_PERSON_CLEANERS = {
    "surname": lambda v: _clean_name(v, "surname", required=True),
    "name": lambda v: _clean_name(v, "name", required=True),
    "patronymic": lambda v: _clean_name(v, "patronymic", required=False),
    "email": normalize_email,
    "snils": _clean_snils,
    "birth_date": _clean_birth_date,
    "sex": _clean_sex,
    "phone": _clean_phone,
    "locale": _clean_locale,
    "time_zone": _clean_time_zone,
}
#: Cleaned even when absent from the data (unless partial): a person always has these.
_ALWAYS = ("surname", "name", "patronymic")


def clean_person_data(data: dict, *, partial: bool = False) -> dict:
    """Validate and normalise person fields, reporting every wrong field at once; only keys present
    in ``data`` are returned when partial."""
    out: dict = {}
    errors: dict[str, str] = {}
    for key, clean in _PERSON_CLEANERS.items():
        if key in data or (not partial and key in _ALWAYS):
            try:
                out[key] = clean(data.get(key))
            except DomainError as exc:
                errors.setdefault(exc.field or key, exc.message)
    if errors:
        raise ValidationError.of(errors)
    return out


def _check_unique(user: User | None, *, username: str | None = None, email: str | None = None,
                  snils: str | None = None) -> None:
    own_id = user.id if user is not None and user.id is not None else -1
    if username and db.session.scalar(
            select(User.id).where(User.username == username, User.id != own_id)):
        raise Conflict(_("The login «%(v)s» is already taken.", v=username), field="username")
    if email and db.session.scalar(select(User.id).where(User.email == email, User.id != own_id)):
        raise Conflict(_("The e-mail %(v)s already belongs to another person.", v=email), field="email")
    if snils and db.session.scalar(select(User.id).where(User.snils == snils, User.id != own_id)):
        raise Conflict(_("This SNILS already belongs to another person."), field="snils")


# --- people --------------------------------------------------------------------------------------

def create_user(*, username: str, by: User | None, password: str | None = None,
                must_change_password: bool = True, is_admin: bool = False,
                password_hash: str | None = None, **data) -> tuple[User, str | None]:
    """Create a person. Without a password an initial one is generated and returned (shown once);
    either way the person must change it at first login unless told otherwise."""
    errors: dict[str, str] = {}
    try:
        username = normalize_username(username)
    except ValidationError as exc:
        errors.update(exc.errors)
    try:
        fields = clean_person_data({k: data.get(k) for k in PERSON_FIELDS if k in data} | {
            "surname": data.get("surname"), "name": data.get("name")})
    except ValidationError as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationError.of(errors)
    _check_unique(None, username=username, email=fields.get("email"), snils=fields.get("snils"))
    generated = None
    if password_hash is None:
        if password:
            problem = password_problem(password, username=username, email=fields.get("email"))
            if problem:
                raise ValidationError(problem, field="password")
        else:
            password = generated = generate_password()
        password_hash = hash_password(password)
    user = User(username=username, password_hash=password_hash, is_admin=is_admin,
                must_change_password=must_change_password, prefs={}, **fields)
    db.session.add(user)
    db.session.flush()
    audit.record("user_created", actor=by, obj=user, username=username, admin=is_admin or None)
    signals.user_created.send(user, by=by)
    return user, generated


def update_user(user: User, data: dict, *, by: User | None) -> list[str]:
    """Change person fields; returns the names of the fields that changed (for the audit log)."""
    fields = clean_person_data(data, partial=True)
    _check_unique(user, email=fields.get("email"), snils=fields.get("snils"))
    changed = [k for k, v in fields.items() if getattr(user, k) != v]
    for key in changed:
        setattr(user, key, fields[key])
    if changed:
        audit.record("user_updated", actor=by, obj=user, fields=changed)
    return changed


def set_password(user: User, password: str, *, by: User | None, must_change: bool = False,
                 keep_session: str | None = None) -> None:
    problem = password_problem(password, username=user.username, email=user.email)
    if problem:
        raise ValidationError(problem, field="password")
    user.password_hash = hash_password(password)
    user.must_change_password = must_change
    end_sessions(user, except_id=keep_session)
    audit.record("password_changed" if by is None or by.id == user.id else "password_set",
                 actor=by, obj=user)


def change_own_password(user: User, current: str, new: str, *, session_id: str | None) -> None:
    if not verify_password(user.password_hash, current):
        raise ValidationError(_("The current password is wrong."), field="current_password")
    if verify_password(user.password_hash, new):
        raise ValidationError(_("The new password must differ from the current one."), field="new_password")
    set_password(user, new, by=user, keep_session=session_id)


def reset_password_by_manager(user: User, *, by: User) -> str:
    """Give a person a new generated initial password (they must change it at next login)."""
    password = generate_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    end_sessions(user)
    audit.record("password_set", actor=by, obj=user, generated=True)
    return password


def end_sessions(user: User, *, except_id: str | None = None) -> int:
    stmt = delete(AuthSession).where(AuthSession.user_id == user.id)
    if except_id:
        stmt = stmt.where(AuthSession.id != except_id)
    return db.session.execute(stmt).rowcount or 0


def deactivate_user(user: User, *, by: User | None, reason: str = "") -> None:
    """Deactivate at once: every session ends and tokens stop working."""
    if not user.is_active:
        return
    user.is_active = False
    user.deactivated_at = utcnow()
    end_sessions(user)
    audit.record("user_deactivated", actor=by, obj=user, reason=reason or None)
    signals.user_deactivated.send(user, by=by)


def reactivate_user(user: User, *, by: User | None) -> None:
    if user.is_active:
        return
    if user.merged_into_id:
        raise Conflict(_("This account was merged into another one and cannot be restored."))
    user.is_active = True
    user.deactivated_at = None
    audit.record("user_reactivated", actor=by, obj=user)


def merge_users(keep: User, duplicate: User, *, by: User | None) -> None:
    """Merge a duplicate account into ``keep``: memberships, parent links and consents move over,
    empty fields of ``keep`` are filled from the duplicate, and the duplicate is deactivated.
    Other domains move their own rows on the ``users_merged`` signal."""
    if keep.id == duplicate.id:
        raise ValidationError(_("Choose two different people."), field="duplicate")
    if duplicate.merged_into_id:
        raise Conflict(_("This account has already been merged."), field="duplicate")
    have = {(m.organization_id, m.role) for m in keep.memberships}
    for m in list(duplicate.memberships):
        if (m.organization_id, m.role) in have:
            db.session.delete(m)
        else:
            m.user_id = keep.id
    db.session.flush()
    for column in (ParentLink.parent_id, ParentLink.student_id):
        other = ParentLink.student_id if column is ParentLink.parent_id else ParentLink.parent_id
        existing = set(db.session.scalars(select(other).where(column == keep.id)))
        for link in db.session.scalars(select(ParentLink).where(column == duplicate.id)).all():
            if getattr(link, other.key) in existing or getattr(link, other.key) == keep.id:
                db.session.delete(link)
            else:
                setattr(link, column.key, keep.id)
    db.session.execute(update(Consent).where(Consent.subject_id == duplicate.id).values(subject_id=keep.id))
    # Unique values move to the kept account if it lacks them.
    moved = {}
    for key in ("email", "snils"):
        value = getattr(duplicate, key)
        if value and not getattr(keep, key):
            setattr(duplicate, key, None)
            db.session.flush()
            setattr(keep, key, value)
            moved[key] = True
    for key in ("patronymic", "birth_date", "sex", "phone", "time_zone"):
        if not getattr(keep, key) and getattr(duplicate, key):
            setattr(keep, key, getattr(duplicate, key))
    duplicate.merged_into_id = keep.id
    db.session.expire(keep, ["memberships"])
    db.session.expire(duplicate, ["memberships"])
    deactivate_user(duplicate, by=by, reason="merged")
    audit.record("users_merged", actor=by, obj=keep, duplicate_id=duplicate.id,
                 duplicate_username=duplicate.username)
    signals.users_merged.send(keep, merged=duplicate, by=by)
    forget_scope(keep)


# --- memberships ---------------------------------------------------------------------------------

def _check_role_data(role: str, grade: int | None, class_letter: str | None) -> tuple[int | None, str | None]:
    if role not in {r.value for r in Role}:
        raise ValidationError(_("Unknown role."), field="role")
    if role != Role.STUDENT:
        return None, None
    if grade is None:
        raise ValidationError(_("A student needs a grade (0–11)."), field="grade")
    if not 0 <= grade <= 11:
        raise ValidationError(_("Grade must be from 0 to 11."), field="grade")
    return grade, check_class_letter(class_letter)


def check_class_letter(class_letter: str | None) -> str | None:
    """The class letter as stored (upper case), or None; up to 4 letters or digits."""
    letter = (class_letter or "").strip().upper() or None
    if letter and (len(letter) > 4 or not letter.isalnum()):
        raise ValidationError(_("Up to 4 letters or digits."), field="class_letter")
    return letter


def add_membership(user: User, org: Organization, role: str, *, by: User | None,
                   grade: int | None = None, class_letter: str | None = None) -> Membership:
    grade, letter = _check_role_data(role, grade, class_letter)
    existing = db.session.scalar(select(Membership).where(
        Membership.user_id == user.id, Membership.organization_id == org.id, Membership.role == role))
    if existing is not None:
        if role == Role.STUDENT and (existing.grade, existing.class_letter) != (grade, letter):
            return change_membership(existing, grade=grade, class_letter=letter, by=by)
        return existing
    m = Membership(user=user, organization=org, role=role, grade=grade, class_letter=letter)
    db.session.add(m)
    db.session.flush()
    audit.record("role_granted", actor=by, organization=org, obj=user, role=role,
                 grade=grade, class_letter=letter)
    signals.membership_changed.send(m, by=by, change="added")
    forget_scope(user)
    return m


def change_membership(m: Membership, *, by: User | None, grade: int | None,
                      class_letter: str | None) -> Membership:
    grade, letter = _check_role_data(m.role, grade, class_letter)
    old = m.class_name
    m.grade, m.class_letter = grade, letter
    audit.record("membership_changed", actor=by, organization=m.organization_id, obj=m.user,
                 role=m.role, old=old, new=m.class_name)
    signals.membership_changed.send(m, by=by, change="changed")
    return m


def remove_membership(m: Membership, *, by: User | None) -> None:
    if m.role == Role.COORDINATOR or m.role == Role.ORG_ADMIN:
        remaining = db.session.scalar(select(func.count(Membership.id)).where(
            Membership.organization_id == m.organization_id, Membership.role == Role.ORG_ADMIN,
            Membership.id != m.id))
        if m.role == Role.ORG_ADMIN and remaining == 0 and by is not None and by.id == m.user_id:
            raise Conflict(_("You are the last administrator of this organization: appoint another first."))
    audit.record("role_revoked", actor=by, organization=m.organization_id, obj=m.user, role=m.role)
    signals.membership_changed.send(m, by=by, change="removed")
    user = m.user
    db.session.delete(m)
    db.session.flush()
    db.session.expire(user, ["memberships"])
    forget_scope(user)


# --- login, throttling and sessions -------------------------------------------------------------

class LoginFailed(DomainError):
    status = 401


class LoginThrottled(DomainError):
    status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def find_by_login(login: str) -> User | None:
    key = (login or "").strip().lower()
    if not key:
        return None
    return db.session.scalar(select(User).where(or_(User.username == key, User.email == key)))


def _failures_since(column, value: str, since: datetime, kind: str) -> tuple[int, datetime | None]:
    count, oldest = db.session.execute(
        select(func.count(LoginAttempt.id), func.min(LoginAttempt.at))
        .where(column == value, LoginAttempt.at >= since, LoginAttempt.success.is_(False),
               LoginAttempt.kind == kind)).one()
    return count, oldest


def check_throttle(login: str, ip: str, *, kind: str = "login", now: datetime | None = None) -> None:
    """Refuse when the account or the address has too many recent failures (sliding windows)."""
    cfg = current_app.config
    now = now or utcnow()
    key = (login or "").strip().lower()
    checks = [
        (LoginAttempt.username, key, cfg["LOGIN_ACCOUNT_MAX_FAILURES"], cfg["LOGIN_ACCOUNT_WINDOW_SECONDS"]),
        (LoginAttempt.ip, ip or "", cfg["LOGIN_ADDRESS_MAX_FAILURES"], cfg["LOGIN_ADDRESS_WINDOW_SECONDS"]),
    ]
    for column, value, limit, window in checks:
        if not value:
            continue
        count, oldest = _failures_since(column, value, now - timedelta(seconds=window), kind)
        if count >= limit:
            retry = int((oldest + timedelta(seconds=window) - now).total_seconds()) + 1 if oldest else window
            minutes = max(1, (retry + 59) // 60)
            raise LoginThrottled(
                _("Too many failed attempts. Try again in %(n)d min. or reset your password.", n=minutes),
                retry_after=retry)


def record_attempt(login: str, ip: str, *, user: User | None, success: bool, kind: str = "login") -> None:
    db.session.add(LoginAttempt(username=(login or "").strip().lower()[:254], ip=ip or "",
                                user_id=user.id if user else None, success=success, kind=kind))


def authenticate(login: str, password: str, *, ip: str) -> User:
    """Check a login and password under throttling. Failures are recorded (the caller commits)."""
    check_throttle(login, ip)
    user = find_by_login(login)
    ok = verify_password(user.password_hash if user else None, password or "")
    if not ok or user is None or not user.is_active:
        record_attempt(login, ip, user=user, success=False)
        audit.record("login_failed", actor=user, login=(login or "")[:100])
        if ok and user is not None and not user.is_active:
            raise LoginFailed(_("This account is deactivated. Contact your organization's administrator."))
        raise LoginFailed(_("Wrong login or password."))
    record_attempt(login, ip, user=user, success=True)
    if needs_rehash(user.password_hash or ""):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    audit.record("login", actor=user)
    return user


def create_auth_session(user: User, *, ip: str | None, user_agent: str) -> AuthSession:
    row = AuthSession(id=secrets.token_urlsafe(32), user_id=user.id, ip=ip, user_agent=(user_agent or "")[:300])
    db.session.add(row)
    return row


def prune_login_attempts(older_than_days: int = 30) -> int:
    cutoff = utcnow() - timedelta(days=older_than_days)
    return db.session.execute(delete(LoginAttempt).where(LoginAttempt.at < cutoff)).rowcount or 0


# --- password reset ------------------------------------------------------------------------------

def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def request_password_reset(login: str, *, ip: str) -> tuple[User, str] | None:
    """Create a single-use reset token for an active account with an e-mail. Returns (user, token)
    or None; callers answer the same way in both cases so accounts cannot be discovered."""
    check_throttle(login, ip, kind="reset")
    record_attempt(login, ip, user=None, success=False, kind="reset")
    user = find_by_login(login)
    if user is None or not user.is_active or not user.email:
        return None
    token = secrets.token_urlsafe(32)
    hours = current_app.config["PASSWORD_RESET_HOURS"]
    db.session.add(PasswordResetToken(user_id=user.id, token_hash=_sha256(token),
                                      expires_at=utcnow() + timedelta(hours=hours)))
    audit.record("password_reset_requested", actor=user)
    return user, token


def reset_token_user(token: str) -> PasswordResetToken | None:
    row = db.session.scalar(select(PasswordResetToken).where(PasswordResetToken.token_hash == _sha256(token or "")))
    if row is None or row.used_at is not None or row.expires_at < utcnow() or not row.user.is_active:
        return None
    return row


def reset_password(token: str, new_password: str) -> User:
    row = reset_token_user(token)
    if row is None:
        raise ValidationError(_("The link is invalid, expired or has already been used. Request a new one."),
                              field="token")
    user = row.user
    set_password(user, new_password, by=user)
    row.used_at = utcnow()
    # Any other outstanding links die with this one.
    db.session.execute(update(PasswordResetToken).where(
        PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None)).values(used_at=utcnow()))
    return user


# --- API tokens ----------------------------------------------------------------------------------

TOKEN_PREFIX = "lms_"  # noqa: S105 - a public prefix, not a secret


def create_api_token(user: User, name: str, *, by: User | None, days: int | None = None) -> tuple[ApiToken, str]:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError(_("Give the token a name."), field="name")
    if len(name) > 100:
        raise ValidationError(_("At most %(n)d characters.", n=100), field="name")
    if days is not None and not 1 <= days <= 3650:
        raise ValidationError(_("Lifetime must be from 1 to 3650 days."), field="days")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, token_hash=_sha256(raw), prefix=raw[:12],
                   expires_at=utcnow() + timedelta(days=days) if days else None)
    db.session.add(row)
    db.session.flush()
    audit.record("api_token_created", actor=by, obj=user, token=row.prefix, name=name)
    return row, raw


def revoke_api_token(row: ApiToken, *, by: User | None) -> None:
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record("api_token_revoked", actor=by, obj=row.user, token=row.prefix)


def user_for_token(raw: str) -> User | None:
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _sha256(raw)))
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    if row.expires_at is not None and row.expires_at < now:
        return None
    if not row.user.is_active:
        return None
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=5):
        row.last_used_at = now
    return row.user


# --- parents and consents -----------------------------------------------------------------------

def link_parent(parent: User, student: User, *, relation: str, by: User | None) -> ParentLink:
    if parent.id == student.id:
        raise ValidationError(_("A person cannot be their own parent."), field="parent")
    if relation not in {r.value for r in ParentRelation}:
        raise ValidationError(_("Unknown relation."), field="relation")
    if not any(m.role == Role.STUDENT for m in student.memberships):
        raise ValidationError(_("A parent can be linked only to a student."), field="student")
    existing = db.session.scalar(select(ParentLink).where(
        ParentLink.parent_id == parent.id, ParentLink.student_id == student.id))
    if existing:
        existing.relation = relation
        return existing
    link = ParentLink(parent_id=parent.id, student_id=student.id, relation=relation,
                      created_by_id=by.id if by else None)
    db.session.add(link)
    db.session.flush()
    audit.record("parent_linked", actor=by, obj=student, parent_id=parent.id, relation=relation)
    return link


def unlink_parent(link: ParentLink, *, by: User | None) -> None:
    audit.record("parent_unlinked", actor=by, obj=link.student, parent_id=link.parent_id)
    db.session.delete(link)


def record_consent(subject: User, kind: str, *, given_on: date, by: User | None,
                   given_by: User | None = None, document: str = "") -> Consent:
    if kind not in {k.value for k in ConsentKind}:
        raise ValidationError(_("Unknown consent kind."), field="kind")
    if given_on > date.today():
        raise ValidationError(_("The date cannot be in the future."), field="given_on")
    consent = Consent(subject_id=subject.id, kind=kind, given_on=given_on,
                      given_by_id=given_by.id if given_by else None, document=(document or "").strip()[:300],
                      recorded_by_id=by.id if by else None)
    db.session.add(consent)
    db.session.flush()
    audit.record("consent_recorded", actor=by, obj=subject, kind=kind)
    return consent


def withdraw_consent(consent: Consent, *, on: date, by: User | None) -> None:
    if consent.withdrawn_on is None:
        consent.withdrawn_on = on
        audit.record("consent_withdrawn", actor=by, obj=consent.subject, kind=consent.kind)


def has_consent(subject: User, kind: str) -> bool:
    return db.session.scalar(select(Consent.id).where(
        Consent.subject_id == subject.id, Consent.kind == kind, Consent.withdrawn_on.is_(None))) is not None


def suggest_username(base: str, email: str | None = None) -> str:
    """A free login derived from an e-mail or a (transliterated) surname: ivanova, ivanova2, …"""
    from lms.core.translit import transliterate

    stem = (email or "").split("@")[0].lower() if email else transliterate(base).lower()
    stem = "".join(c for c in stem if c.isalnum() or c in "._-")[:40] or "user"
    if not stem[0].isalnum():
        stem = "u" + stem
    taken = set(db.session.scalars(select(User.username).where(User.username.like(f"{stem}%"))))
    if stem not in taken and len(stem) >= 2:
        return stem
    n = 2
    while f"{stem}{n}" in taken:
        n += 1
    return f"{stem}{n}"
