"""Language and time zone of the current user; Russian formatting helpers for templates."""

from __future__ import annotations

import logging
import math
import re
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, current_app, g, has_request_context, session
from flask_babel import format_date, format_datetime, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields import SelectChoice

log = logging.getLogger(__name__)

#: Russia spans UTC+2 … UTC+12; these are offered first in time zone lists.
RUSSIAN_TIME_ZONES = [
    "Europe/Kaliningrad", "Europe/Moscow", "Europe/Samara", "Asia/Yekaterinburg", "Asia/Omsk",
    "Asia/Novosibirsk", "Asia/Krasnoyarsk", "Asia/Irkutsk", "Asia/Yakutsk", "Asia/Vladivostok",
    "Asia/Magadan", "Asia/Kamchatka",
]


def valid_time_zone(name: str | None) -> bool:
    if not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@lru_cache(maxsize=1)
def _other_time_zones() -> tuple[SelectChoice, ...]:
    # available_timezones() scans the tz database (~15 ms), and ~400 options are made: once per process, not per
    # form (the options are only read).
    return tuple(SelectChoice(z, z) for z in sorted(available_timezones() - set(RUSSIAN_TIME_ZONES)) if "/" in z)


def time_zone_choices(none: str | None = None) -> list[SelectChoice]:
    """Russia's zones first, by name (in the user's language), then every other zone by its identifier; first
    an empty option labelled ``none`` when one is given (the zone of the organization, say)."""
    from lms.labels import time_zone_label

    first = [SelectChoice("", none)] if none is not None else []
    return first + [SelectChoice(z, time_zone_label(z)) for z in RUSSIAN_TIME_ZONES] + list(_other_time_zones())


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("locale")
    return chosen if chosen in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def user_time_zone(user) -> str:
    """The user's own zone, else the zone of their first organization, else the installation's."""
    if user is not None and getattr(user, "is_authenticated", False):
        if user.time_zone:
            return user.time_zone
        from lms.orgs.permissions import scope_of  # the scope is computed once per request anyway

        tz = scope_of(user).time_zone
        if tz:
            return tz
    return current_app.config["DEFAULT_TIMEZONE"]


def select_timezone() -> str:
    if not has_request_context():
        return current_app.config["DEFAULT_TIMEZONE"]
    if "lms_tz" not in g:
        g.lms_tz = user_time_zone(current_user)
    return g.lms_tz


def fmt_datetime(value: datetime | None, fmt: str = "short", tz: str | None = None) -> str:
    if value is None:
        return "—"
    if tz:
        local = value.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
        return format_datetime(local, "dd.MM.yyyy HH:mm", rebase=False)
    return format_datetime(value, "dd.MM.yyyy HH:mm" if fmt == "short" else fmt)


def fmt_date(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return format_datetime(value, "dd.MM.yyyy")
    return format_date(value, "dd.MM.yyyy")


def compile_translations(app: Flask) -> None:
    """Compile .po catalogues to .mo when they are missing or older (the .mo files are not committed)."""
    root = Path(app.root_path) / "translations"
    for po in root.glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as fh:
            catalog = read_po(fh)
        tmp = mo.with_suffix(".mo.tmp")
        with tmp.open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)
        tmp.replace(mo)
        log.info("compiled %s", mo)


def parse_number(text) -> float | None:
    """A number as people type it: «3,14», «3.14», «-2», «1e3», «1 000»; None when it is not one."""
    cleaned = str(text or "").strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", cleaned):
        return None
    value = float(cleaned)
    return value if math.isfinite(value) else None


def fmt_number(value, digits: int = 2) -> str:
    """A number as Russian text: a decimal comma, no trailing zeros (7,5; 10; 3,33); «—» for none."""
    if value is None:
        return "—"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    text = f"{round(float(value), digits):.{digits}f}".rstrip("0").rstrip(".")
    return ("0" if text in ("-0", "") else text).replace(".", ",")


def fmt_size(size: int | None) -> str:
    """A file's size as people read it: «820 байт», «12 КБ», «1,5 МБ» (binary units, as file managers)."""
    size = int(size or 0)
    if size < 1024:
        return ngettext("%(num)d byte", "%(num)d bytes", size)
    value, units = size / 1024, [_("KB"), _("MB"), _("GB")]
    while value >= 1024 and len(units) > 1:
        value, units = value / 1024, units[1:]
    return f"{fmt_number(value, 1)} {units[0]}"
