"""Moodle XML, the format Moodle exports question banks in: reading it into question definitions
(``lms.assessment.qtypes``) and writing them back.

Read: ``category`` pseudo-questions (the path after ``$course$/top/`` or ``$system$/top/``), names, text formats,
question text and general feedback with embedded images (``<file name=… encoding="base64">``, referred to
as ``@@PLUGINFILE@@/name``), multichoice (``single``, ``shuffleanswers``, fractions in percent, per-answer
feedback), truefalse, shortanswer (``usecase``), numerical (``tolerance``, units with multipliers,
``unitpenalty``, ``unitgradingtype``), matching (``subquestion``; an empty one is a distractor), ordering,
essay (word limits, attachments, grader information) and description. Other types (calculated, random, …)
are reported by question, not skipped silently.

The XML is parsed by defusedxml: a DTD, entity declarations and external references are refused, so a file
cannot read the server's files or expand into gigabytes; the file size is limited too.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - only to build XML for export; parsing goes through defusedxml

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from flask_babel import gettext as _

from lms.assessment import qtypes
from lms.assessment.gift import Parsed, Result
from lms.core.errors import ValidationError

MAX_BYTES = 20 * 1024 * 1024
CATEGORY_PREFIXES = ("$course$/top/", "$system$/top/", "$module$/top/", "$cat1$/top/", "$course$/", "$system$/",
                     "top/")


def _text(node, path: str = "text") -> str:
    found = node.find(path) if node is not None else None
    return (found.text or "").strip() if found is not None else ""


def _format(node) -> str:
    fmt = (node.get("format") if node is not None else None) or "html"
    return {"moodle_auto_format": "moodle", "plain_text": "plain"}.get(fmt, fmt)


def _number(node, path: str, default: float = 0.0) -> float:
    value = qtypes.parse_number(_text(node, path)) if node is not None and node.find(path) is not None else None
    return default if value is None else value


def _flag(node, path: str, default: bool = False) -> bool:
    value = _text(node, path).lower()
    return default if value == "" else value in ("1", "true")


def _feedback(node) -> str:
    return _text(node, "feedback/text")


def _fraction(answer) -> float:
    value = qtypes.parse_number(answer.get("fraction", "0"))
    return 0.0 if value is None else value / 100


def _files(node) -> list[dict]:
    return [{"name": f.get("name", ""), "data": "".join((f.text or "").split())}
            for f in (node.findall("file") if node is not None else [])]


def parse(data: bytes | str) -> Result:
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > MAX_BYTES:
        return Result(errors=[(0, _("The file is larger than %(n)d MB.", n=MAX_BYTES // (1024 * 1024)))])
    try:
        root = SafeET.fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        return Result(errors=[(0, _("The file declares a DTD or entities: such files are not read."))])
    except ET.ParseError as exc:
        return Result(errors=[(exc.position[0] if exc.position else 0, _("Not well-formed XML: %(e)s", e=exc))])
    if root.tag != "quiz":
        return Result(errors=[(0, _("Moodle XML begins with <quiz>."))])
    result, category = Result(), ""
    for number, node in enumerate(root.findall("question"), start=1):
        kind = node.get("type", "")
        if kind == "category":
            path = _text(node, "category/text")
            for prefix in CATEGORY_PREFIXES:
                if path.startswith(prefix):
                    path = path[len(prefix):]
                    break
            category = path.strip("/")
            continue
        name = _text(node, "name/text")
        try:
            definition = _definition(kind, node)
            definition = qtypes.qtype(definition["qtype"]).clean(definition)
        except ValidationError as exc:
            reasons = "; ".join(f"{k}: {v}" for k, v in exc.errors.items()) if exc.errors else exc.message
            result.errors.append((number, f"«{name}»: {reasons}" if name else reasons))
            continue
        result.questions.append(Parsed(number, name, category, definition))
    return result


def _definition(kind: str, node) -> dict:
    text_node = node.find("questiontext")
    base = {"text": _text(text_node), "format": _format(text_node), "general_feedback": _text(node, "generalfeedback/text"),
            "files": _files(text_node)}
    answers = node.findall("answer")
    if kind == "multichoice":
        return {**base, "qtype": "multichoice", "single": _flag(node, "single", True),
                "shuffle": _flag(node, "shuffleanswers", True),
                "answers": [{"text": _text(a), "fraction": _fraction(a), "feedback": _feedback(a)} for a in answers]}
    if kind == "truefalse":
        right = next((a for a in answers if _fraction(a) >= 1), None)
        if right is None:
            raise ValidationError(_("One of the answers must be worth 100%."), field="answers")
        feedback = {_text(a).lower(): _feedback(a) for a in answers}
        return {**base, "qtype": "truefalse", "answer": _text(right).lower() == "true",
                "feedback_true": feedback.get("true", ""), "feedback_false": feedback.get("false", "")}
    if kind == "shortanswer":
        return {**base, "qtype": "shortanswer", "case_sensitive": _flag(node, "usecase"),
                "answers": [{"text": _text(a), "fraction": _fraction(a), "feedback": _feedback(a)} for a in answers]}
    if kind == "numerical":
        units = [{"unit": _text(u, "unit_name"), "multiplier": _number(u, "multiplier", 1.0)}
                 for u in node.findall("units/unit")]
        return {**base, "qtype": "numerical", "tolerance_type": "absolute",
                "answers": [{"value": "*" if _text(a) == "*" else _text(a), "tolerance": _number(a, "tolerance"),
                             "fraction": _fraction(a), "feedback": _feedback(a)} for a in answers],
                "units": units, "unit_required": _text(node, "unitgradingtype") not in ("", "0") and bool(units),
                "unit_penalty": _number(node, "unitpenalty", 0.1)}
    if kind == "matching":
        return {**base, "qtype": "matching", "shuffle": _flag(node, "shuffleanswers", True),
                "pairs": [{"stem": _text(s), "answer": _text(s, "answer/text")} for s in node.findall("subquestion")]}
    if kind == "ordering":
        return {**base, "qtype": "ordering", "items": [_text(a) for a in answers],
                "all_or_nothing": _text(node, "gradingtype") == "0"}
    if kind == "essay":
        return {**base, "qtype": "essay", "min_words": int(_number(node, "minwordlimit")),
                "max_words": int(_number(node, "maxwordlimit")), "attachments": max(0, int(_number(node, "attachments"))),
                "grader_info": _text(node, "graderinfo/text")}
    if kind == "description":
        return {**base, "qtype": "description"}
    if kind == "cloze":
        return {**base, "qtype": "cloze"}
    if kind == "gapselect":
        return {**base, "qtype": "gapselect", "shuffle": _flag(node, "shuffleanswers", True),
                "options": [{"text": _text(o), "group": int(_number(o, "group", 1))} for o in node.findall("selectoption")]}
    raise ValidationError(_("Questions of the type «%(t)s» are not supported yet.", t=kind), field="qtype")


# --- writing ----------------------------------------------------------------------------------------

def _add_text(parent, tag: str, text: str, fmt: str | None = None):
    node = ET.SubElement(parent, tag)
    if fmt is not None:
        node.set("format", {"moodle": "moodle_auto_format", "plain": "plain_text"}.get(fmt, fmt))
    ET.SubElement(node, "text").text = text or ""
    return node


def _add_answer(parent, fraction: float, text: str, feedback: str = "", fmt: str = "html"):
    node = ET.SubElement(parent, "answer", {"fraction": f"{round(fraction * 100, 7):.12g}", "format": fmt})
    ET.SubElement(node, "text").text = text
    _add_text(node, "feedback", feedback, "html")
    return node


def export(questions: list[tuple[str, str, dict]]) -> bytes:
    """Moodle XML of (category, name, definition) triples, a category whenever it changes."""
    root, category = ET.Element("quiz"), None
    for cat, name, d in questions:
        if cat != category and (cat or category):
            node = ET.SubElement(root, "question", {"type": "category"})
            _add_text(node, "category", f"$course$/top/{cat}")
        category = cat
        _question(root, name, d)
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")


def _question(root, name: str, d: dict) -> None:
    kind = d["qtype"]
    node = ET.SubElement(root, "question", {"type": kind})
    _add_text(node, "name", name)
    text = _add_text(node, "questiontext", d.get("text", ""), d.get("format", "html"))
    for f in d.get("files", []):
        ET.SubElement(text, "file", {"name": f["name"], "path": "/", "encoding": "base64"}).text = f["data"]
    _add_text(node, "generalfeedback", d.get("general_feedback", ""), "html")
    if kind == "multichoice":
        ET.SubElement(node, "single").text = "true" if d.get("single", True) else "false"
        ET.SubElement(node, "shuffleanswers").text = "true" if d.get("shuffle", True) else "false"
        for a in d["answers"]:
            _add_answer(node, a["fraction"], a["text"], a.get("feedback", ""))
    elif kind == "truefalse":
        _add_answer(node, 1.0 if d["answer"] else 0.0, "true", d.get("feedback_true", ""), "moodle_auto_format")
        _add_answer(node, 0.0 if d["answer"] else 1.0, "false", d.get("feedback_false", ""), "moodle_auto_format")
    elif kind == "shortanswer":
        ET.SubElement(node, "usecase").text = "1" if d.get("case_sensitive") else "0"
        for a in d["answers"]:
            _add_answer(node, a["fraction"], a["text"], a.get("feedback", ""), "moodle_auto_format")
    elif kind == "numerical":
        for a in d["answers"]:
            answer = _add_answer(node, a["fraction"], "*" if a["value"] == "*" else f"{a['value']:.15g}",
                                 a.get("feedback", ""), "moodle_auto_format")
            ET.SubElement(answer, "tolerance").text = f"{a['tolerance']:.15g}"
        if d.get("units"):
            units = ET.SubElement(node, "units")
            for u in d["units"]:
                unit = ET.SubElement(units, "unit")
                ET.SubElement(unit, "multiplier").text = f"{u['multiplier']:.15g}"
                ET.SubElement(unit, "unit_name").text = u["unit"]
        ET.SubElement(node, "unitgradingtype").text = "1" if d.get("unit_required") else "0"
        ET.SubElement(node, "unitpenalty").text = f"{d.get('unit_penalty', 0.1):.15g}"
    elif kind == "matching":
        ET.SubElement(node, "shuffleanswers").text = "true" if d.get("shuffle", True) else "false"
        for p in d["pairs"]:
            sub = _add_text(node, "subquestion", p["stem"], "html")
            _add_text(sub, "answer", p["answer"])
    elif kind == "ordering":
        ET.SubElement(node, "gradingtype").text = "0" if d.get("all_or_nothing") else "1"
        for n, item in enumerate(d["items"], start=1):
            _add_answer(node, n / 100, item)
    elif kind == "gapselect":
        ET.SubElement(node, "shuffleanswers").text = "1" if d.get("shuffle", True) else "0"
        for o in d["options"]:
            option = _add_text(node, "selectoption", o["text"])
            ET.SubElement(option, "group").text = str(o["group"])
    elif kind == "essay":
        for tag, key in (("minwordlimit", "min_words"), ("maxwordlimit", "max_words"), ("attachments", "attachments")):
            ET.SubElement(node, tag).text = str(d.get(key, 0) or "")
        _add_text(node, "graderinfo", d.get("grader_info", ""), "html")
