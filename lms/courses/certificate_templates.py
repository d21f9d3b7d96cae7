"""The HTML templates certificates are printed from: the defaults shipped with the server, the sandbox an
organization's edited template runs in, and the checks a template must pass before it is saved.

An organization's administrator edits these templates, so a template is untrusted code: it runs in
Jinja2's immutable sandbox (no attribute of Python internals, no ``''.__class__`` walk to the server),
sees only plain strings prepared here, cannot include other templates, and may name no external
resource (the PDF renderer refuses to fetch any; the editor refuses to save such a template).
"""

from __future__ import annotations

import functools
import re
from datetime import date

from flask_babel import gettext as _
from jinja2 import DictLoader, StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from markupsafe import Markup

from lms.core.errors import ValidationError
from lms.core.pdf import PRINT_FONTS

MAX_TEMPLATE_CHARS = 100_000
MAX_OUTPUT_CHARS = 2_000_000

# No loader with templates in it: {% include %}, {% import %} and {% extends %} find nothing.
_env = ImmutableSandboxedEnvironment(autoescape=True, undefined=StrictUndefined, loader=DictLoader({}))

#: Names of the variables a template may use, with what they hold (shown in the editor).
VARIABLES = (
    "document_title", "organization_name", "city", "registration_number", "series", "number",
    "holder_full_name", "holder_surname", "holder_name", "holder_patronymic", "holder_birth_date",
    "programme_title", "programme_kind", "hours", "hours_text", "study_start", "study_end",
    "issued_on", "issued_on_text", "director_title", "director_name", "passed", "studied", "mastered",
    "verify_url", "verify_code", "qr", "is_duplicate", "original_number", "fonts",
)

DOCUMENT_TITLES = {
    "pd_certificate": "Удостоверение о повышении квалификации",
    "retraining_diploma": "Диплом о профессиональной переподготовке",
    "profile_certificate": "Сертификат",
    "statement": "Справка об обучении",
}

_PROGRAMME_KIND_WORDS = {
    "pd": "дополнительной профессиональной программе повышения квалификации",
    "retraining": "дополнительной профессиональной программе профессиональной переподготовки",
    "profile": "программе профильного курса",
    "preprofile": "программе предпрофильного элективного курса",
    "olympiad": "программе олимпиадной подготовки",
    "supplementary": "дополнительной общеразвивающей программе",
}

_MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
           "октября", "ноября", "декабря")

_LAYOUT = """<!doctype html>
<html lang="ru">
<head>
<meta charset="utf-8">
<title>{{ document_title }} № {{ registration_number }}</title>
<style>
  @page { size: A4; margin: 18mm 20mm; }
  body { font-family: {{ fonts }}; font-size: 13pt; line-height: 1.45; color: #000; }
  .org { text-align: center; font-size: 12pt; }
  h1 { text-align: center; font-size: 22pt; margin: 14mm 0 2mm; text-transform: uppercase; letter-spacing: 1pt; }
  .numbers { text-align: center; margin-bottom: 10mm; }
  .name { text-align: center; font-size: 17pt; font-weight: bold; margin: 6mm 0; }
  .body { text-align: justify; }
  .sign { margin-top: 16mm; display: flex; justify-content: space-between; }
  .meta { margin-top: 12mm; font-size: 11pt; }
  .verify { margin-top: 10mm; font-size: 9pt; display: flex; align-items: center; gap: 4mm; }
  .verify svg { width: 28mm; height: 28mm; }
</style>
</head>
<body>
<p class="org">{{ organization_name }}</p>
<h1>{{ document_title }}</h1>
<p class="numbers">{% if series %}серия {{ series }} {% endif %}№ {{ number }}{% if is_duplicate %}<br>ДУБЛИКАТ{% endif %}</p>
<p>Настоящим удостоверяется, что</p>
<p class="name">{{ holder_full_name }}</p>
<p class="body">{BODY}</p>
<div class="sign"><span>{{ director_title }}</span><span>____________ {{ director_name }}</span></div>
<p class="meta">Регистрационный номер {{ registration_number }}<br>
{% if city %}Город {{ city }}<br>{% endif %}Дата выдачи {{ issued_on_text }}</p>
<div class="verify">{{ qr }}<span>Проверить подлинность документа: {{ verify_url }}<br>Код проверки: {{ verify_code }}</span></div>
</body>
</html>
"""

_BODIES = {
    "pd_certificate": "с {{ study_start }} по {{ study_end }} {{ passed }} повышение квалификации в "
                      "{{ organization_name }} по {{ programme_kind }} «{{ programme_title }}» в объёме "
                      "{{ hours_text }}.",
    "retraining_diploma": "с {{ study_start }} по {{ study_end }} {{ passed }} профессиональную переподготовку "
                          "в {{ organization_name }} по {{ programme_kind }} «{{ programme_title }}» в объёме "
                          "{{ hours_text }}.",
    "profile_certificate": "с {{ study_start }} по {{ study_end }} {{ mastered }} {{ programme_kind }} "
                           "«{{ programme_title }}» в объёме {{ hours_text }}.",
    "statement": "с {{ study_start }} по {{ study_end }} {{ studied }} в {{ organization_name }} по "
                 "{{ programme_kind }} «{{ programme_title }}» и {{ mastered }} {{ hours_text }} программы.",
}


def default_template(kind: str) -> str:
    """The template shipped with the server for a document kind."""
    return _LAYOUT.replace("{BODY}", _BODIES[kind])


def hours_text(hours: int) -> str:
    """«1 час», «2 часа», «36 часов», «72 часа»."""
    n = abs(hours)
    if n % 10 == 1 and n % 100 != 11:
        word = "час"
    elif 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        word = "часа"
    else:
        word = "часов"
    return f"{hours} {word}"


def date_text(value: date) -> str:
    """«15 марта 2026 г.»"""
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year} г."


def _by_sex(sex: str | None, male: str, female: str, either: str) -> str:
    return {"m": male, "f": female}.get(sex or "", either)


def context_for(cert, *, verify_url: str, qr: str) -> dict:
    """Everything a template may print, as plain strings (nothing with methods to walk)."""
    sex = cert.holder_sex
    original = cert.original
    return {
        "document_title": DOCUMENT_TITLES.get(cert.kind, ""),
        "organization_name": cert.organization_name,
        "city": cert.city,
        "registration_number": str(cert.registration_number),
        "series": cert.series,
        "number": cert.number,
        "holder_full_name": cert.holder_full_name,
        "holder_surname": cert.holder_surname,
        "holder_name": cert.holder_name,
        "holder_patronymic": cert.holder_patronymic or "",
        "holder_birth_date": cert.holder_birth_date.strftime("%d.%m.%Y") if cert.holder_birth_date else "",
        "programme_title": cert.programme_title,
        "programme_kind": _PROGRAMME_KIND_WORDS.get(cert.programme_kind or "", "программе"),
        "hours": str(cert.hours),
        "hours_text": hours_text(cert.hours),
        "study_start": cert.study_start.strftime("%d.%m.%Y"),
        "study_end": cert.study_end.strftime("%d.%m.%Y"),
        "issued_on": cert.issued_on.strftime("%d.%m.%Y"),
        "issued_on_text": date_text(cert.issued_on),
        "director_title": cert.director_title,
        "director_name": cert.director_name,
        "passed": _by_sex(sex, "прошёл", "прошла", "прошёл(ла)"),
        "studied": _by_sex(sex, "обучался", "обучалась", "обучался(ась)"),
        "mastered": _by_sex(sex, "освоил", "освоила", "освоил(а)"),
        "verify_url": verify_url,
        "verify_code": cert.code,
        "qr": Markup(qr),  # noqa: S704 - SVG produced by segno from our own URL
        "is_duplicate": cert.original_id is not None,
        "original_number": f"{original.registration_number}/{original.year}" if original is not None else "",
        "fonts": Markup(PRINT_FONTS),  # noqa: S704 - a constant of this code
    }


@functools.lru_cache(maxsize=64)
def _compiled(source: str):
    """Compiling costs several milliseconds; a certificate run prints hundreds from the same template."""
    return _env.from_string(source)


def render(source: str, context: dict) -> str:
    """Render an organization's template in the sandbox. Raises jinja2 errors (see :func:`check`)."""
    html = _compiled(source).render(context)
    if len(html) > MAX_OUTPUT_CHARS:
        raise ValidationError(_("The template produces a document that is too large."), field="html")
    return html


_REFERENCE = re.compile(
    r"""(?:\b(?:src|href|xlink:href|poster|data)\s*=\s*["']?\s*([^"'\s>]+))"""
    r"""|(?:url\(\s*["']?\s*([^"')\s]+))"""
    r"""|(?:@import\s+["']\s*([^"']+))""",
    re.IGNORECASE)


def external_references(html: str) -> list[str]:
    """URLs in ``html`` that would make the renderer fetch something: anything but data: and #fragments."""
    found = []
    for match in _REFERENCE.finditer(html):
        url = next(g for g in match.groups() if g is not None)
        if url.startswith("#") or url.lower().startswith("data:") or "{{" in url:
            continue
        found.append(url)
    return found


def sample_context() -> dict:
    """Made-up values for checking and previewing a template."""
    from types import SimpleNamespace

    sample = SimpleNamespace(
        kind="pd_certificate", organization_name="Муниципальное бюджетное учреждение «Центр развития образования»",
        city="Дубна", registration_number=1, series="", number="2600001", holder_surname="Иванова",
        holder_name="Мария", holder_patronymic="Петровна", holder_birth_date=date(1985, 4, 12), holder_sex="f",
        holder_full_name="Иванова Мария Петровна", programme_title="Введение в цифровую трансформацию",
        programme_kind="pd", hours=36, study_start=date(2026, 3, 2), study_end=date(2026, 3, 27),
        issued_on=date(2026, 3, 30), director_title="Директор", director_name="А. А. Образцов",
        code="SAMPLE-CODE", original_id=None, original=None)
    from lms.core.pdf import qr_svg

    url = "https://example.invalid/verify/SAMPLE-CODE"
    return context_for(sample, verify_url=url, qr=qr_svg(url))


def check(source: str, kind: str | None = None) -> str:
    """Refuse a template that is too long, does not compile, reaches outside the sandbox, uses an
    unknown variable or names an external resource. Returns the HTML it renders with sample data."""
    if not source or not source.strip():
        raise ValidationError(_("The template is empty."), field="html")
    if len(source) > MAX_TEMPLATE_CHARS:
        raise ValidationError(_("The template is longer than %(n)d characters.", n=MAX_TEMPLATE_CHARS),
                              field="html")
    external = external_references(source)
    if external:
        raise ValidationError(_("The template refers to external resources, which are not allowed "
                                "(use data: URLs): %(urls)s", urls=", ".join(external[:3])), field="html")
    context = sample_context()
    if kind:
        context["document_title"] = DOCUMENT_TITLES.get(kind, "")
    try:
        html = render(source, context)
    except TemplateSyntaxError as exc:
        raise ValidationError(_("Template error on line %(line)d: %(error)s", line=exc.lineno or 0,
                                error=exc.message or ""), field="html") from None
    except SecurityError:
        raise ValidationError(_("The template tries to use something that is not allowed in a document "
                                "template."), field="html") from None
    except (TemplateError, ArithmeticError, LookupError, TypeError, ValueError) as exc:
        raise ValidationError(_("Template error: %(error)s", error=str(exc)[:200]), field="html") from None
    external = external_references(html)
    if external:
        raise ValidationError(_("The template refers to external resources, which are not allowed "
                                "(use data: URLs): %(urls)s", urls=", ".join(external[:3])), field="html")
    return html
