"""The Russian catalogue covers every string of the UI, and the Russian UI really shows it.

Russian is the default language: a msgid without a Russian msgstr reaches Russian users in English.
The msgids are extracted here from the source tree itself, with babel.cfg's mapping and the Makefile's
keywords, so a string added to the code without a translation fails this test at once.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
PO_FILE = ROOT / "lms" / "translations" / "ru" / "LC_MESSAGES" / "messages.po"
#: As in the Makefile's `translations` target: Babel's defaults plus the lazy forms.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "Msg": None}
HOW_TO_FIX = ("Run `make translations`, then translate the new entries in "
              "lms/translations/ru/LC_MESSAGES/messages.po (no fuzzy entries).")

PERCENT_PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")
BRACE_PLACEHOLDER = re.compile(r"\{\w*\}")


def _only_lms(path: str) -> bool:
    """Walk only the application package (not node_modules, .venv, caches)."""
    rel = os.path.relpath(path, ROOT)
    name = os.path.basename(path)
    return (rel == "." or rel == "lms" or rel.startswith("lms" + os.sep)) and not name.startswith((".", "_"))


@pytest.fixture(scope="module")
def source_msgids(app) -> dict[tuple[str, str | None], str]:
    """Every msgid in lms/ → the first place it occurs ("file:line").

    Templates are parsed with the Jinja extensions and whitespace options the application renders them
    with, and a template that cannot be parsed fails here instead of silently contributing nothing.
    """
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, "babel.cfg")
    env = app.jinja_env
    jinja_options = {
        "extensions": ",".join(env.extensions),
        "trim_blocks": str(env.trim_blocks), "lstrip_blocks": str(env.lstrip_blocks),
        "silent": "false",
    }
    options = {pattern: ({**opts, **jinja_options} if method.startswith("jinja2") else dict(opts))
               for pattern, method in method_map for opts in [options_map.get(pattern, {})]}
    found: dict[tuple[str, str | None], str] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options, keywords=KEYWORDS, directory_filter=_only_lms):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault((msgid, context), f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def catalog():
    with PO_FILE.open("rb") as fh:
        return read_po(fh, locale="ru")


def test_extraction_sees_python_and_templates(source_msgids):
    # A guard for the test itself: both kinds of source, including the form macros (which use {% do %}).
    places = set(source_msgids.values())
    assert any(".py:" in p for p in places)
    assert any(".html:" in p for p in places) and any(".txt:" in p for p in places)
    assert ("Please correct the errors", None) in source_msgids  # lms/templates/_forms.html
    assert ("Wrong login or password.", None) in source_msgids  # lms/accounts/services.py
    assert ("deactivated", "person") in source_msgids  # pgettext in a template


def test_every_msgid_has_a_russian_translation(source_msgids, catalog):
    missing = []
    for (msgid, context), where in sorted(source_msgids.items(), key=lambda item: item[1]):
        message = catalog.get(msgid, context=context)
        strings = message.string if message is not None else ""
        strings = strings if isinstance(strings, tuple) else (strings,)
        if message is None or not all(s.strip() for s in strings):
            missing.append(f"  {where}: {msgid!r}")
    assert not missing, (f"{len(missing)} string(s) of the UI have no Russian translation:\n"
                         + "\n".join(missing) + f"\n{HOW_TO_FIX}")


def test_no_fuzzy_entries(catalog):
    # Fuzzy entries are left out of the compiled catalogue: users would see English.
    fuzzy = [m.id or "(the header)" for m in catalog if m.fuzzy]
    assert not fuzzy, f"Fuzzy entries (check the translation, then remove the fuzzy flag): {fuzzy}"


def _placeholders(text: str) -> tuple[set[str], set[str]]:
    return ({m.group(0) for m in PERCENT_PLACEHOLDER.finditer(text)},
            {m.group(0) for m in BRACE_PLACEHOLDER.finditer(text)})


def test_translations_keep_the_placeholders(catalog):
    wrong = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = _placeholders(ids[-1])
        for string in strings:
            if string and _placeholders(string) != expected:
                wrong.append(f"  {ids[0]!r} → {string!r}")
    assert not wrong, "Translations whose placeholders differ from the msgid's:\n" + "\n".join(wrong)


def test_plural_forms_header_is_russian(catalog):
    assert catalog.num_plurals == 3
    assert "n%10==1 && n%100!=11" in catalog.plural_expr


# --- what a user sees ----------------------------------------------------------------------------

def test_login_page_is_russian_by_default_and_english_on_request(client):
    page = client.get("/login").get_data(as_text=True)
    assert "<h1>Вход</h1>" in page
    assert "Log in" not in page and "Forgot your password?" not in page
    assert "Забыли пароль?" in page

    client.post("/locale", data={"locale": "en", "next": "/login"})
    page = client.get("/login").get_data(as_text=True)
    assert "<h1>Log in</h1>" in page
    assert "Вход" not in page


def test_form_errors_and_service_errors_are_russian(client, world):
    empty = client.post("/login", data={"username": "", "password": ""}).get_data(as_text=True)
    assert "Исправьте ошибки" in empty  # lms/templates/_forms.html
    assert "Please correct the errors" not in empty

    wrong = client.post("/login", data={"username": world.teacher_a.username, "password": "not-the-password"})
    page = wrong.get_data(as_text=True)
    assert "Неверный логин или пароль." in page
    assert "Wrong login or password." not in page
