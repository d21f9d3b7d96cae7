"""Template globals and filters: navigation per role, accessibility settings, Russian formats."""

from __future__ import annotations

from flask import Flask, current_app, g, request, session, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from lms.core.i18n import fmt_date, fmt_datetime, fmt_number, fmt_size
from lms.core.validators import format_snils
from lms.labels import action_label, template_labels, time_zone_label

#: Settings of the version for visually impaired users (ГОСТ Р 52872-2019): type size, colours, images.
A11Y_DEFAULTS = {"on": False, "size": "large", "scheme": "bw", "images": "off", "spacing": "normal"}
A11Y_CHOICES = {
    "size": ("normal", "large", "xlarge"),
    "scheme": ("bw", "wb", "blue", "beige"),
    "images": ("on", "off"),
    "spacing": ("normal", "wide"),
}


def a11y_settings() -> dict:
    """The visually-impaired-version settings of this request (computed once; the layout asks thrice)."""
    cached = g.get("lms_a11y")
    if cached is None:
        cached = g.lms_a11y = _a11y_settings()
    return dict(cached)


def _a11y_settings() -> dict:
    if current_user.is_authenticated:
        stored = (current_user.prefs or {}).get("a11y") or {}
    else:
        stored = session.get("a11y") or {}
    merged = dict(A11Y_DEFAULTS)
    for key, value in stored.items():
        if key == "on" or value in A11Y_CHOICES.get(key, ()):
            merged[key] = value
    return merged


def a11y_body_classes() -> str:
    s = a11y_settings()
    if not s["on"]:
        return ""
    return " ".join([
        "a11y", f"a11y-size-{s['size']}", f"a11y-scheme-{s['scheme']}", f"a11y-images-{s['images']}",
        f"a11y-spacing-{s['spacing']}",
    ])


#: Labels of the main menu's items, by endpoint.
MENU_LABELS = {
    "main.dashboard": _l("Dashboard"), "orgs.list_orgs": _l("Organizations"), "people.list_people": _l("People"),
    "programmes.list_programmes": _l("Programmes"), "runs.catalogue": _l("Catalogue"),
    "runs.my_courses": _l("My courses"), "certificates.mine": _l("Certificates"), "main.calendar": _l("Calendar"),
    "main.notifications": _l("Notifications"), "imports.start": _l("Import"), "main.audit_log": _l("Audit log"),
    "orgs.academic_years": _l("Academic years"), "orgs.municipalities": _l("Municipalities"), "main.outbox": _l("Mail"),
    "banks.list_banks": _l("Question banks"),
}


def _menu(s) -> tuple[str, ...]:
    """Endpoints of the main menu for a scope, in order (cheap: the layout's cache key reads it per request)."""
    member = s.is_admin or bool(s.member_org_ids) or bool(s.managed_org_ids)
    items = ["main.dashboard"]
    if member:
        items.append("orgs.list_orgs")
    if s.is_manager or s.staff_org_ids:
        items.append("people.list_people")
    if member:
        items.append("programmes.list_programmes")
    if s.is_admin or s.staff_org_ids:  # they edit their organizations' question banks
        items.append("banks.list_banks")
    items += ["runs.catalogue", "runs.my_courses", "certificates.mine", "main.calendar", "main.notifications"]
    if s.is_manager:
        items += ["imports.start", "main.audit_log"]
    if s.is_admin or s.is_coordinator:
        items.append("orgs.academic_years")
    if s.is_admin:
        items += ["orgs.municipalities", "main.outbox"]
    return tuple(items)


def navigation() -> list[tuple[str, str, str]]:
    """(endpoint, url, label) items the current user may open; the pages check again on the server."""
    from lms.orgs.permissions import scope_of

    if not current_user.is_authenticated:
        return []
    return [(endpoint, url_for(endpoint), MENU_LABELS[endpoint]) for endpoint in _menu(scope_of(current_user))]


def layout_key() -> tuple:
    """Everything the layout around a page shows of the request and the person (their name, menu and
    display settings, the page's own address in the language and display switches): part of the key of
    every cached whole page (``lms.core.pagecache.page_key``)."""
    from lms.orgs.permissions import scope_of

    if not current_user.is_authenticated:
        return (request.full_path, tuple(sorted(a11y_settings().items())))
    return (request.full_path, tuple(sorted(a11y_settings().items())), current_user.id, current_user.short_name,
            _menu(scope_of(current_user)))


def translated(labels: dict) -> dict:
    """A dict of lazily translated labels with its values translated once (a table of 100 rows would
    otherwise translate each row's label again)."""
    return {key: str(value) for key, value in labels.items()}


def init_templating(app: Flask) -> None:
    app.jinja_env.filters["translated"] = translated
    app.jinja_env.filters["dt"] = fmt_datetime
    app.jinja_env.filters["d"] = fmt_date
    app.jinja_env.filters["num"] = fmt_number
    app.jinja_env.filters["filesize"] = fmt_size
    app.jinja_env.filters["snils"] = format_snils
    app.jinja_env.filters["tz"] = time_zone_label
    app.jinja_env.filters["action_label"] = action_label
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _globals():
        return {
            "site_name": current_app.config["SITE_NAME"],
            "nav_items": navigation,
            "a11y": a11y_settings,
            "a11y_classes": a11y_body_classes,
            "current_locale": lambda: str(get_locale() or "ru"),
            "languages": current_app.config["LANGUAGES"],
            "current_endpoint": request.endpoint,
            **template_labels(),
        }
