"""HTTP security: headers, cookie flags that follow the request's scheme."""

from __future__ import annotations

import hmac
import logging
import threading
import time

from flask import Flask, current_app, g, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect, same_origin, validate_csrf
from itsdangerous import BadData, BadSignature, URLSafeTimedSerializer
from wtforms import ValidationError

logger = logging.getLogger(__name__)

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self' ws: wss:",
    "media-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


#: Sent with every response (lower-case name, name, value), unless the view set the header itself.
_SECURITY_HEADERS = tuple((name.lower(), name, value) for name, value in (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "geolocation=(), payment=(), usb=()"),
))

#: Verified session cookies kept per process (their text → contents and signing time).
VERIFIED_COOKIES = 20000
_SCALARS = (str, int, float, bool, type(None))


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with two changes:

    - the cookie is marked Secure whenever the request came over HTTPS (directly or via ProxyFix);
    - a cookie once verified is not verified again: its contents are kept (by the cookie's exact text, up to
      ``VERIFIED_COOKIES``) with its signing time, and the lifetime is still checked on every request. Checking
      the signature and decoding the JSON cost about as much as saving a quiz answer, the hottest request.
      Only contents of plain values are kept (never a list, such as pending flash messages, that a request
      could change in place)."""

    def __init__(self) -> None:
        self._verified: dict[str, tuple[dict, float]] = {}
        self._lock = threading.Lock()

    def get_cookie_secure(self, app: Flask) -> bool:
        if app.config.get("SESSION_COOKIE_SECURE"):
            return True
        return has_request_context() and request.is_secure

    def open_session(self, app: Flask, request):
        if not app.secret_key:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        known = self._verified.get(value)
        if known is not None:
            data, signed_at = known
            return self.session_class(data) if time.time() - signed_at <= max_age else self.session_class()
        serializer = self.get_signing_serializer(app)
        try:
            data, signed = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:  # also an expired one
            return self.session_class()
        if isinstance(data, dict) and all(isinstance(v, _SCALARS) for v in data.values()):
            with self._lock:
                if len(self._verified) >= VERIFIED_COOKIES:
                    self._verified.clear()  # rare: a process's cookies of the last hours
                self._verified[value] = (dict(data), signed.timestamp())
        return self.session_class(data)


class CSRFProtection(CSRFProtect):
    """flask-wtf's CSRF protection (the same rules, messages and 400 answer), cheaper on the hottest requests:

    - a JSON request's token is taken from its header before the body is looked at as a form;
    - a token whose signature was verified once is remembered per process (by its text, with its signing time,
      up to ``VERIFIED_COOKIES``): a later request carrying it is compared with the session's token and held to
      the time limit without checking the signature again.
    """

    def __init__(self, app: Flask | None = None) -> None:
        self._verified: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        super().__init__(app)

    def _get_csrf_token(self):
        if request.is_json:
            for header in current_app.config["WTF_CSRF_HEADERS"]:
                if request.headers.get(header):
                    return request.headers[header]
        return super()._get_csrf_token()

    def _check(self, token) -> None:
        """flask-wtf's ``validate_csrf``, with verified tokens remembered."""
        config = current_app.config
        field = config["WTF_CSRF_FIELD_NAME"]
        known = self._verified.get(token) if token else None
        if known is None:
            if not token or field not in session:
                validate_csrf(token)  # raises with flask-wtf's message for a missing token
            serializer = URLSafeTimedSerializer(config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key,
                                                salt="wtf-csrf-token")
            try:
                raw, signed = serializer.loads(token, return_timestamp=True)
            except BadData:
                raise ValidationError("The CSRF token is invalid.") from None
            known = (raw, signed.timestamp())
            with self._lock:
                if len(self._verified) >= VERIFIED_COOKIES:
                    self._verified.clear()
                self._verified[token] = known
        raw, signed_at = known
        limit = config.get("WTF_CSRF_TIME_LIMIT", 3600)
        if field not in session:
            raise ValidationError("The CSRF session token is missing.")
        if limit and time.time() - signed_at > limit:
            raise ValidationError("The CSRF token has expired.")
        if not hmac.compare_digest(session[field], raw):
            raise ValidationError("The CSRF tokens do not match.")

    def protect(self, apply_exemptions: bool = False) -> None:
        if apply_exemptions and (not request.endpoint or self._is_exempt()):
            return
        if request.method not in current_app.config["WTF_CSRF_METHODS"]:
            return
        try:
            self._check(self._get_csrf_token())
        except ValidationError as exc:
            logger.info(exc.args[0])
            self._error_response(exc.args[0])
        if request.is_secure and current_app.config["WTF_CSRF_SSL_STRICT"]:
            if not request.referrer:
                self._error_response("The referrer header is missing.")
            if not same_origin(request.referrer, f"https://{request.host}/"):
                self._error_response("The referrer does not match the host.")
        g.csrf_valid = True


def init_security(app: Flask) -> None:
    app.session_interface = SessionInterface()

    @app.after_request
    def _headers(response):
        # Each header unless the view set its own, added in one step: werkzeug's ``setdefault`` of a missing
        # header raises and catches an HTTP exception, seven per request.
        h = response.headers
        present = {key.lower() for key, _value in h}
        missing = [(key, value) for lower, key, value in _SECURITY_HEADERS if lower not in present]
        if request.is_secure and "strict-transport-security" not in present:
            missing.append(("Strict-Transport-Security", "max-age=31536000"))
        if "cache-control" not in present and (response.mimetype == "text/html" or request.path.startswith("/api/")):
            missing.append(("Cache-Control", "no-store"))  # pages carry personal data: never in shared caches
        h.extend(missing)
        return response
