"""GIFT, Moodle's text format for questions: reading it into question definitions (``lms.assessment.qtypes``)
and writing them back.

What is read, as Moodle documents the format: ``//`` comment lines; ``$CATEGORY: a/b`` lines; question names
``::name::``; text formats ``[html]``, ``[moodle]``, ``[plain]``, ``[markdown]``; the escapes ``\\~ \\= \\# \\{
\\} \\:`` and ``\\n``; multiple choice ``{=right ~wrong}`` with per-answer feedback ``#…``, partial credit
``~%50%…`` and negative ``~%-25%…``; several right answers (every answer with a ``%`` weight); true/false ``{T}``,
``{FALSE#feedback if wrong#feedback if right}``; short answer ``{=a =b}`` and ``=%50%…``; matching ``{=a -> b}``;
missing word (answers inside the text: the blank is shown as «_____»); numerical ``{#3.14:0.01}``,
``{#1..5}`` and several answers ``{# =3.14:0.01 =%50%3.1:0.1}``; essay ``{}``; description (no braces); the
general feedback ``####…``. Questions are separated by blank lines.

Reading never raises for a bad question: each one's problem is reported with the line it starts on, and the
good ones are kept, so the import page can show the whole list before anything is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import gettext as _

from lms.assessment import qtypes
from lms.core.errors import ValidationError

SPECIAL = "~=#{}:"
#: Types GIFT can express (embedded answers cannot be).
WRITABLE = frozenset({"description", "essay", "truefalse", "matching", "shortanswer", "numerical", "multichoice"})
BLANK = "_____"
MAX_BYTES = 5 * 1024 * 1024


@dataclass
class Parsed:
    line: int
    name: str
    category: str
    definition: dict


@dataclass
class Result:
    questions: list[Parsed] = field(default_factory=list)
    #: (line, message)
    errors: list[tuple[int, str]] = field(default_factory=list)


# --- escapes ------------------------------------------------------------------------------------------

_PLACEHOLDERS = {c: chr(0xE000 + n) for n, c in enumerate(SPECIAL + "\\")}
_BACK = {v: k for k, v in _PLACEHOLDERS.items()}


def _hide_escapes(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in _PLACEHOLDERS:
            out.append(_PLACEHOLDERS[text[i + 1]])
            i += 2
        elif text[i] == "\\" and i + 1 < len(text) and text[i + 1] == "n":
            out.append("\n")
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _show(text: str) -> str:
    return "".join(_BACK.get(c, c) for c in text).strip()


def escape(text: str) -> str:
    """Text as GIFT writes it: the special characters escaped, line breaks as ``\\n``."""
    out = str(text or "").replace("\\", "\\\\")
    for c in SPECIAL:
        out = out.replace(c, "\\" + c)
    return out.replace("\r\n", "\n").replace("\n", "\\n")


# --- reading ----------------------------------------------------------------------------------------

def _blocks(text: str):
    """(first line number, lines) of each question or category command; comments dropped."""
    block, start = [], 0
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith("//"):
            continue
        if not line.strip():
            if block:
                yield start, block
            block = []
            continue
        if not block:
            start = number
        block.append(line)
    if block:
        yield start, block


def parse(text: str | bytes) -> Result:
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            return Result(errors=[(0, _("The file is larger than %(n)d MB.", n=MAX_BYTES // (1024 * 1024)))])
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            return Result(errors=[(0, _("The file is not in UTF-8."))])
    result, category = Result(), ""
    for line, lines in _blocks(text):
        if lines[0].strip().startswith("$CATEGORY:"):
            category = lines[0].strip().removeprefix("$CATEGORY:").strip()
            lines, line = lines[1:], line + 1
            if not lines:
                continue
        raw = "\n".join(lines).strip()
        try:
            name, definition = _question(_hide_escapes(raw))
            definition = qtypes.qtype(definition["qtype"]).clean(definition)
        except ValidationError as exc:
            reasons = "; ".join(f"{k}: {v}" for k, v in exc.errors.items()) if exc.errors else exc.message
            result.errors.append((line, reasons))
            continue
        except _GiftError as exc:
            result.errors.append((line, str(exc)))
            continue
        result.questions.append(Parsed(line, name, category, definition))
    return result


class _GiftError(Exception):
    pass


def _question(raw: str) -> tuple[str, dict]:
    name = ""
    match = re.match(r"::(.*?)::", raw, re.DOTALL)
    if match:
        name, raw = _show(match.group(1)), raw[match.end():].strip()
    text_format = "moodle"
    fmt = re.match(r"\[(html|moodle|plain|markdown)\]", raw)
    if fmt:
        text_format, raw = fmt.group(1), raw[fmt.end():]
    opening = raw.find("{")
    if opening < 0:
        if "}" in raw:
            raise _GiftError(_("A «}» without its «{»."))
        return name, {"qtype": "description", "text": _show(raw), "format": text_format}
    closing = raw.find("}", opening)
    if closing < 0:
        raise _GiftError(_("The answers are not closed with «}»."))
    before, body, after = raw[:opening], raw[opening + 1:closing], raw[closing + 1:]
    if "{" in after or "}" in after:
        raise _GiftError(_("Only one set of answers in braces per question."))
    missing_word = bool(after.strip())
    text = _join(_show(before), BLANK, _show(after)) if missing_word else _show(before)
    definition = _answers(body, missing_word)
    definition.update({"text": text, "format": text_format,
                       "name": name})
    return name or _show(before)[:80], definition


def _general_feedback(body: str) -> tuple[str, str]:
    head, sep, general = body.partition("####")
    return head, _show(general) if sep else ""


def _answers(body: str, missing_word: bool) -> dict:
    body, general = _general_feedback(body)
    stripped = body.strip()
    base = {"general_feedback": general}
    if not stripped:
        return {**base, "qtype": "essay"}
    if re.fullmatch(r"(T|TRUE|F|FALSE)(#.*)?", stripped, re.DOTALL):
        value, *feedbacks = stripped.split("#")
        answer = value in ("T", "TRUE")
        wrong, right = (feedbacks + ["", ""])[:2]
        # GIFT: the first feedback is shown for a wrong answer, the second for a right one.
        return {**base, "qtype": "truefalse", "answer": answer,
                "feedback_true": _show(right if answer else wrong), "feedback_false": _show(wrong if answer else right)}
    if stripped.startswith("#"):
        return {**base, **_numerical(stripped[1:])}
    parts = _split_answers(stripped)
    if not parts:
        raise _GiftError(_("No answers: each one begins with «=» or «~»."))
    if all(mark == "=" for mark, _t in parts) and all("->" in t for _m, t in parts):
        pairs = [{"stem": _show(t.split("->", 1)[0]), "answer": _show(t.split("->", 1)[1])} for _m, t in parts]
        return {**base, "qtype": "matching", "pairs": pairs}
    if all(mark == "=" for mark, _t in parts):
        return {**base, "qtype": "shortanswer", "answers": [_weighted(t, 1.0) for _m, t in parts]}
    answers = [_weighted(t, 1.0 if mark == "=" else 0.0) for mark, t in parts]
    single = sum(1 for a in answers if a["fraction"] > 0) <= 1 or any(
        mark == "=" for mark, _t in parts)
    return {**base, "qtype": "multichoice", "single": single, "answers": answers}


def _split_answers(body: str) -> list[tuple[str, str]]:
    parts = re.split(r"([=~])", body)
    out, mark = [], None
    if parts[0].strip():
        raise _GiftError(_("Text before the first answer: each answer begins with «=» or «~»."))
    for piece in parts[1:]:
        if piece in ("=", "~"):
            mark = piece
        elif mark is not None:
            out.append((mark, piece))
    return out


def _weighted(text: str, default: float) -> dict:
    text, _sep, feedback = text.partition("#")
    fraction = default
    weight = re.match(r"\s*%(-?\d+(?:[.,]\d+)?)%", text)
    if weight:
        fraction = float(weight.group(1).replace(",", ".")) / 100
        text = text[weight.end():]
    return {"text": _show(text), "fraction": fraction, "feedback": _show(feedback)}


def _numerical(body: str) -> dict:
    body = body.strip()
    items = [t for m, t in _split_answers(body)] if body.startswith("=") else [body]
    answers = []
    for item in items:
        item, _sep, feedback = item.partition("#")
        fraction = 1.0
        weight = re.match(r"\s*%(-?\d+(?:[.,]\d+)?)%", item)
        if weight:
            fraction, item = float(weight.group(1).replace(",", ".")) / 100, item[weight.end():]
        item = _show(item)
        if item == "*":
            answers.append({"value": "*", "tolerance": 0.0, "fraction": fraction, "feedback": _show(feedback)})
            continue
        if ".." in item:
            low, high = (qtypes.parse_number(x) for x in item.split("..", 1))
            if low is None or high is None or high < low:
                raise _GiftError(_("«%(t)s» is not a range «from..to».", t=item))
            value, tolerance = (low + high) / 2, (high - low) / 2
        else:
            number, _c, margin = item.partition(":")
            value = qtypes.parse_number(number)
            tolerance = qtypes.parse_number(margin) if margin.strip() else 0.0
            if value is None or tolerance is None:
                raise _GiftError(_("«%(t)s» is not a number «value:tolerance».", t=item))
        answers.append({"value": value, "tolerance": tolerance, "fraction": fraction, "feedback": _show(feedback)})
    return {"qtype": "numerical", "answers": answers}


# --- writing ----------------------------------------------------------------------------------------

def _percent(fraction: float) -> str:
    return f"%{round(fraction * 100, 7):.12g}%"


def _fb(text: str) -> str:
    return f"#{escape(text)}" if text else ""


def export(questions: list[tuple[str, str, dict]]) -> str:
    """GIFT text of (category, name, definition) triples, a category line whenever it changes."""
    out, category = [], None
    for cat, name, d in questions:
        if cat != category and (cat or category):
            out.append(f"$CATEGORY: {cat}\n")
        category = cat
        if d["qtype"] in WRITABLE:
            out.append(_one(name, d) + "\n")
        else:  # as Moodle does: a comment in place of a question GIFT cannot express
            out.append("// " + _("«%(name)s»: questions of the type «%(t)s» cannot be written in GIFT; use Moodle XML.",
                                 name=name, t=d["qtype"]).replace("\n", " ") + "\n")
    return "\n".join(out)


def _join(before: str, middle: str, after: str) -> str:
    """Text around a blank: a space on each side, none before punctuation."""
    after = after.strip()
    return f"{before.rstrip()} {middle}" + (after if not after or after[0] in ".,;:!?)»" else f" {after}")


def _around_blank(head: str, text: str, body: str) -> str:
    """The answers in braces where the text has its blank (a missing-word question), else after the text."""
    before, blank, after = text.partition(BLANK)
    if blank:
        return head + _join(before, f"{{{body}}}", after)
    return f"{head}{text}{{{body}}}"


def _one(name: str, d: dict) -> str:
    head = (f"::{escape(name)}::" if name else "") + (f"[{d['format']}]" if d.get("format", "moodle") != "moodle"
                                                        else "")
    text = escape(d.get("text", ""))
    general = f"####{escape(d['general_feedback'])}" if d.get("general_feedback") else ""
    kind = d["qtype"]
    if kind == "description":
        return head + text
    if kind == "essay":
        return f"{head}{text}{{{general}}}"
    if kind == "truefalse":
        right, wrong = (d.get("feedback_true", ""), d.get("feedback_false", "")) if d["answer"] else \
            (d.get("feedback_false", ""), d.get("feedback_true", ""))
        return f"{head}{text}{{{'TRUE' if d['answer'] else 'FALSE'}{_fb(wrong) or ('#' if right else '')}" \
               f"{_fb(right)}{general}}}"
    if kind == "matching":
        pairs = " ".join(f"={escape(p['stem'])} -> {escape(p['answer'])}" for p in d["pairs"])
        return f"{head}{text}{{{pairs}{general}}}"
    if kind == "shortanswer":
        answers = " ".join(f"={'' if a['fraction'] == 1 else _percent(a['fraction'])}{escape(a['text'])}"
                           f"{_fb(a.get('feedback', ''))}" for a in d["answers"])
        return _around_blank(head, text, answers + general)
    if kind == "numerical":
        def one(a):
            value = "*" if a["value"] == "*" else f"{a['value']:.15g}:{a['tolerance']:.15g}"
            return f"={'' if a['fraction'] == 1 else _percent(a['fraction'])}{value}{_fb(a.get('feedback', ''))}"
        return f"{head}{text}{{#{' '.join(one(a) for a in d['answers'])}{general}}}"
    if kind == "multichoice":
        def one(a):
            if d.get("single", True) and a["fraction"] == 1:
                return f"={escape(a['text'])}{_fb(a.get('feedback', ''))}"
            weight = "" if a["fraction"] == 0 else _percent(a["fraction"])
            return f"~{weight}{escape(a['text'])}{_fb(a.get('feedback', ''))}"
        return _around_blank(head, text, " ".join(one(a) for a in d["answers"]) + general)
    raise ValidationError(_("Questions of the type «%(t)s» are not supported yet.", t=kind), field="qtype")
