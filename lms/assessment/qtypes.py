"""Question types: a registry of small classes with pure grading.

A question's *definition* is a plain JSON-able dict (what a bank stores and an attempt keeps a copy of); a
*response* is what the learner sent, also plain data. Each type:

- ``clean(definition)`` checks and normalises a definition, raising ``ValidationError`` naming the field
  (``answers-2-fraction``…), so the editor, the GIFT/XML import and the API report problems the same way;
- ``grade(definition, response)`` returns an ``Outcome``: the fraction of the mark (None when a person grades
  it, as an essay), a state and the feedback of the answers chosen — with no database, clock or request;
- ``public(definition)`` is what an open attempt may show: never a fraction, a right answer or feedback.

Grading follows Moodle, whose rules teachers know: a multiple-answer choice sums the chosen answers' fractions
and keeps the result between 0 and 1; a single-answer choice may carry a negative mark; short answers and
numbers take the first answer that matches, in the author's order; ``*`` in a short answer stands for any
characters; a numerical answer matches within its tolerance (absolute, or relative to the value).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from flask_babel import gettext as _

from lms.core.errors import ValidationError
from lms.core.i18n import parse_number
from lms.courses import grading

#: States of a graded response.
CORRECT, PARTIAL, WRONG, UNANSWERED, MANUAL, UNGRADED = (
    "correct", "partial", "wrong", "unanswered", "manual", "ungraded")


@dataclass(frozen=True)
class Outcome:
    fraction: float | None
    state: str
    feedback: tuple[str, ...] = ()

    @classmethod
    def of(cls, fraction: float, feedback: tuple[str, ...] = ()) -> Outcome:
        fraction = round(fraction, 7)
        state = CORRECT if fraction >= 1 else (PARTIAL if fraction > 0 else WRONG)
        return cls(fraction, state, tuple(f for f in feedback if f))


NOT_ANSWERED = Outcome(0.0, UNANSWERED)

#: How a question's text is written (Moodle's formats; «moodle» is its auto-format).
TEXT_FORMATS = ("moodle", "html", "plain", "markdown")

REGISTRY: dict[str, QuestionType] = {}


def register(cls: type[QuestionType]) -> type[QuestionType]:
    REGISTRY[cls.name] = cls()
    return cls


def qtype(name: str) -> QuestionType:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValidationError(_("Choose one of the options."), field="qtype") from None


def grade(definition: dict, response: Any) -> Outcome:
    return qtype(definition.get("qtype", "")).grade(definition, response)


# --- checking definitions ---------------------------------------------------------------------------

def _fraction(value, field_name: str, errors: dict, *, low: float = -1.0) -> float:
    try:
        number = float(str(value).replace(",", "."))
    except (TypeError, ValueError):
        errors[field_name] = _("A number from %(low)s to 1 is expected.", low=_num(low))
        return 0.0
    if not low <= number <= 1 or math.isnan(number):
        errors[field_name] = _("A number from %(low)s to 1 is expected.", low=_num(low))
        return 0.0
    return number


def _num(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def _text(value, field_name: str, errors: dict, *, required: bool = True, limit: int = 5000) -> str:
    text = str(value or "").strip()
    if required and not text:
        errors[field_name] = _("Required.")
    elif len(text) > limit:
        errors[field_name] = _("At most %(n)d characters.", n=limit)
    return text


def _answers(definition: dict, errors: dict, minimum: int) -> list[dict]:
    raw = definition.get("answers") or []
    if len(raw) < minimum:
        errors["answers"] = _("At least one answer.") if minimum == 1 else _("At least two answers.")
    return raw


def _credit(answer: dict, n: int, errors: dict, *, low: float, default: float) -> dict:
    """The fraction and feedback of the ``n``-th answer."""
    return {"fraction": _fraction(answer.get("fraction", default), f"answers-{n}-fraction", errors, low=low),
            "feedback": _text(answer.get("feedback"), f"answers-{n}-feedback", errors, required=False)}


#: Images embedded in a question (Moodle XML carries them base64-encoded): at most this many, this large.
MAX_FILES, MAX_FILE_BYTES = 20, 2 * 1024 * 1024


def _files(raw, errors: dict) -> list[dict]:
    """[{"name", "data" (base64)}] of the images the text refers to as ``@@PLUGINFILE@@/name``."""
    import base64
    import binascii

    files = []
    for n, f in enumerate(raw or []):
        name = str((f or {}).get("name") or "").strip()
        if not re.fullmatch(r"[\w.\- ]{1,100}", name) or name.startswith("."):
            errors[f"files-{n}"] = _("A file name of letters, digits, dots and dashes is expected.")
            continue
        data = str(f.get("data") or "")
        try:
            size = len(base64.b64decode(data, validate=True))
        except (binascii.Error, ValueError):
            errors[f"files-{n}"] = _("«%(name)s» is not valid base64.", name=name)
            continue
        if size > MAX_FILE_BYTES:
            errors[f"files-{n}"] = _("«%(name)s» is larger than %(n)d MB.", name=name, n=MAX_FILE_BYTES // 2**20)
            continue
        files.append({"name": name, "data": data})
    if len(files) > MAX_FILES:
        errors["files"] = _("At most %(n)d files.", n=MAX_FILES)
    return files


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError.of(errors)


# --- the types ----------------------------------------------------------------------------------

class QuestionType:
    name: ClassVar[str] = ""
    #: False for a description: it takes no answer and gives no mark.
    graded: ClassVar[bool] = True

    def clean(self, definition: dict) -> dict:
        errors: dict[str, str] = {}
        fmt = definition.get("format") or "moodle"
        if fmt not in TEXT_FORMATS:
            errors["format"] = _("Choose one of the options.")
        out = {"qtype": self.name, "format": fmt,
               "text": _text(definition.get("text"), "text", errors, limit=50000),
               "general_feedback": _text(definition.get("general_feedback"), "general_feedback", errors,
                                         required=False, limit=50000)}
        try:
            files = _files(definition.get("files"), errors)
            if files:
                out["files"] = files
            out.update(self._clean(definition, errors))
        except (AttributeError, TypeError, KeyError, IndexError, ValueError):
            # JSON of another shape (a list of strings where rows were expected…) is bad input, not a failure
            errors.setdefault("definition", _("The question is not in the expected form."))
        _raise(errors)
        return out

    def _clean(self, definition: dict, errors: dict) -> dict:
        return {}

    def grade(self, definition: dict, response: Any) -> Outcome:
        raise NotImplementedError

    def public(self, definition: dict) -> dict:
        return {"qtype": self.name, "text": definition.get("text", "")}


@register
class Description(QuestionType):
    name = "description"
    graded = False

    def grade(self, definition, response):
        return Outcome(None, UNGRADED)


@register
class TrueFalse(QuestionType):
    name = "truefalse"

    def _clean(self, definition, errors):
        if not isinstance(definition.get("answer"), bool):
            errors["answer"] = _("Choose one of the options.")
        return {"answer": bool(definition.get("answer")),
                "feedback_true": _text(definition.get("feedback_true"), "feedback_true", errors, required=False),
                "feedback_false": _text(definition.get("feedback_false"), "feedback_false", errors, required=False)}

    def grade(self, definition, response):
        if response is None or response == "":
            return NOT_ANSWERED
        chosen = response is True or str(response).lower() in ("true", "1", "да", "верно")
        feedback = definition.get("feedback_true" if chosen else "feedback_false", "")
        return Outcome.of(1.0 if chosen == definition["answer"] else 0.0, (feedback,))

    def public(self, definition):
        return {**super().public(definition), "choices": [True, False]}


@register
class MultiChoice(QuestionType):
    """One or several answers. ``answers``: [{"text", "fraction", "feedback"}]; ``single``: one answer only;
    ``shuffle``: the attempt shows them in a random order."""

    name = "multichoice"

    def _clean(self, definition, errors):
        single = bool(definition.get("single", True))
        answers = [{"text": _text(a.get("text"), f"answers-{n}-text", errors),
                    **_credit(a, n, errors, low=-1.0, default=0)}
                   for n, a in enumerate(_answers(definition, errors, 2))]
        if answers and "answers" not in errors:
            best = max(a["fraction"] for a in answers)
            total = sum(a["fraction"] for a in answers if a["fraction"] > 0)
            if single and not math.isclose(best, 1.0):
                errors["answers"] = _("One of the answers must be worth 100%.")
            elif not single and not math.isclose(total, 1.0, abs_tol=1e-6):
                errors["answers"] = _("The positive fractions must add up to 100%%; now %(p)s%%.",
                                      p=_num(round(total * 100, 4)))
        return {"single": single, "shuffle": bool(definition.get("shuffle", True)), "answers": answers}

    def grade(self, definition, response):
        answers = definition["answers"]
        chosen = _indexes(response, len(answers))
        if not chosen:
            return NOT_ANSWERED
        if definition.get("single", True):
            if len(chosen) != 1:
                return Outcome.of(0.0)
            answer = answers[chosen[0]]
            return Outcome.of(answer["fraction"], (answer.get("feedback", ""),))
        fraction = sum(answers[i]["fraction"] for i in chosen)
        return Outcome.of(min(max(fraction, 0.0), 1.0), tuple(answers[i].get("feedback", "") for i in chosen))

    def public(self, definition):
        return {**super().public(definition), "single": definition.get("single", True),
                "choices": [a["text"] for a in definition["answers"]]}


def _indexes(response, count: int) -> list[int]:
    """Chosen answer numbers (from 0) from an int, a string or a list of them; duplicates and strangers dropped."""
    if response is None or response == "":
        return []
    items = response if isinstance(response, list | tuple) else [response]
    out = []
    for item in items:
        text = str(item).strip()
        if text.isdecimal() and int(text) < count and int(text) not in out:
            out.append(int(text))
    return out


def wildcard_pattern(answer: str, case_sensitive: bool) -> re.Pattern:
    """A short answer with ``*`` for any characters (``\\*`` is a literal star), matched on the whole
    response; every other character stands for itself."""
    parts = re.split(r"(\\\*|\*)", answer)
    regex = "".join(".*" if p == "*" else re.escape("*" if p == "\\*" else p) for p in parts)
    return re.compile(rf"\A{regex}\Z", 0 if case_sensitive else re.IGNORECASE | re.DOTALL)


def _normalise_space(text: str) -> str:
    return " ".join(str(text or "").split())


@register
class ShortAnswer(QuestionType):
    """``answers``: [{"text" (``*`` wildcards), "fraction" 0–1, "feedback"}]; ``case_sensitive``."""

    name = "shortanswer"

    def _clean(self, definition, errors):
        answers = [{"text": _text(a.get("text"), f"answers-{n}-text", errors, limit=500),
                    **_credit(a, n, errors, low=0.0, default=1)}
                   for n, a in enumerate(_answers(definition, errors, 1))]
        if answers and "answers" not in errors and not any(math.isclose(a["fraction"], 1.0) for a in answers):
            errors["answers"] = _("One of the answers must be worth 100%.")
        return {"case_sensitive": bool(definition.get("case_sensitive")), "answers": answers}

    def grade(self, definition, response):
        text = _normalise_space(response)
        if not text:
            return NOT_ANSWERED
        case = definition.get("case_sensitive", False)
        for answer in definition["answers"]:
            if wildcard_pattern(_normalise_space(answer["text"]), case).match(text):
                return Outcome.of(answer["fraction"], (answer.get("feedback", ""),))
        return Outcome.of(0.0)


@register
class Numerical(QuestionType):
    """``answers``: [{"value" (or "*" for anything else), "tolerance", "fraction", "feedback"}];
    ``tolerance_type``: "absolute" or "relative"; ``units``: [{"unit", "multiplier"}] (the first is the
    base, multiplier 1), ``unit_required`` and ``unit_penalty`` (a fraction taken off when the unit is
    missing or unknown)."""

    name = "numerical"

    def _clean(self, definition, errors):
        answers = []
        for n, a in enumerate(_answers(definition, errors, 1)):
            value = a.get("value")
            if str(value).strip() == "*":
                value = "*"
            else:
                value = parse_number(str(value))
                if value is None:
                    errors[f"answers-{n}-value"] = _("A number is expected.")
            tolerance = parse_number(str(a.get("tolerance", 0)))
            if tolerance is None or tolerance < 0:
                errors[f"answers-{n}-tolerance"] = _("A number from 0 is expected.")
            answers.append({"value": value, "tolerance": tolerance or 0.0, **_credit(a, n, errors, low=0.0, default=1)})
        kind = definition.get("tolerance_type", "absolute")
        if kind not in ("absolute", "relative"):
            errors["tolerance_type"] = _("Choose one of the options.")
        units = []
        for n, u in enumerate(definition.get("units") or []):
            multiplier = parse_number(str(u.get("multiplier", 1)))
            if not multiplier:
                errors[f"units-{n}-multiplier"] = _("A number other than 0 is expected.")
            units.append({"unit": _text(u.get("unit"), f"units-{n}-unit", errors, limit=30),
                          "multiplier": multiplier or 1.0})
        return {"answers": answers, "tolerance_type": kind, "units": units,
                "unit_required": bool(definition.get("unit_required")),
                "unit_penalty": _fraction(definition.get("unit_penalty", 0.1), "unit_penalty", errors, low=0)}

    @staticmethod
    def matches(answer: dict, value: float, tolerance_type: str = "absolute") -> bool:
        if answer["value"] == "*":
            return True
        target, tolerance = float(answer["value"]), float(answer["tolerance"] or 0)
        margin = tolerance * abs(target) if tolerance_type == "relative" else tolerance
        slack = 1e-9 * max(1.0, abs(target))  # the float error of «0,1 + 0,2»
        return target - margin - slack <= value <= target + margin + slack

    def read(self, definition: dict, response) -> tuple[float | None, bool]:
        """(the response's value in the base unit, whether its unit was given and known)."""
        text = str(response or "").strip()
        units = definition.get("units") or []
        for unit in sorted(units, key=lambda u: -len(u["unit"])):
            if unit["unit"] and text.endswith(unit["unit"]):
                number = parse_number(text[: -len(unit["unit"])])
                return (None if number is None else number / unit["multiplier"]), True
        return parse_number(text), not units

    def grade(self, definition, response):
        if not str(response or "").strip():
            return NOT_ANSWERED
        value, unit_ok = self.read(definition, response)
        if value is None:
            return Outcome.of(0.0)
        for answer in definition["answers"]:
            if self.matches(answer, value, definition.get("tolerance_type", "absolute")):
                fraction = answer["fraction"]
                if not unit_ok and definition.get("units") and definition.get("unit_required"):
                    fraction = max(0.0, fraction - definition.get("unit_penalty", 0.1))
                return Outcome.of(fraction, (answer.get("feedback", ""),))
        return Outcome.of(0.0)


@register
class Matching(QuestionType):
    """``pairs``: [{"stem", "answer"}] (a pair with an empty stem is a distractor answer). Response: a dict
    {stem number: chosen answer text}. Each right pair is worth an equal share."""

    name = "matching"

    def _clean(self, definition, errors):
        pairs = []
        for n, p in enumerate(definition.get("pairs") or []):
            pairs.append({"stem": _text(p.get("stem"), f"pairs-{n}-stem", errors, required=False),
                          "answer": _text(p.get("answer"), f"pairs-{n}-answer", errors, limit=500)})
        if sum(1 for p in pairs if p["stem"]) < 2:
            errors["pairs"] = _("At least two pairs with a question.")
        return {"pairs": pairs, "shuffle": bool(definition.get("shuffle", True))}

    def grade(self, definition, response):
        stems = [(n, p) for n, p in enumerate(definition["pairs"]) if p["stem"]]
        chosen = {str(k): v for k, v in (response or {}).items()} if isinstance(response, dict) else {}
        if not any(str(v).strip() for v in chosen.values()):
            return NOT_ANSWERED
        right = sum(1 for n, p in stems if _normalise_space(chosen.get(str(n), "")) == _normalise_space(p["answer"]))
        return Outcome.of(right / len(stems))

    def public(self, definition):
        return {**super().public(definition),
                "stems": {n: p["stem"] for n, p in enumerate(definition["pairs"]) if p["stem"]},
                "choices": sorted({p["answer"] for p in definition["pairs"]})}


@register
class Ordering(QuestionType):
    """``items`` in the right order. Response: the item numbers in the learner's order. ``all_or_nothing``,
    or (by default) the share of items in their right place."""

    name = "ordering"

    def _clean(self, definition, errors):
        items = [_text(t, f"items-{n}", errors, limit=500) for n, t in enumerate(definition.get("items") or [])]
        if len(items) < 2:
            errors["items"] = _("At least two items.")
        return {"items": items, "all_or_nothing": bool(definition.get("all_or_nothing"))}

    def grade(self, definition, response):
        count = len(definition["items"])
        order = _indexes(response, count)
        if not order:
            return NOT_ANSWERED
        placed = sum(1 for position, item in enumerate(order) if item == position)
        if definition.get("all_or_nothing"):
            return Outcome.of(1.0 if placed == count else 0.0)
        return Outcome.of(placed / count)

    def public(self, definition):
        return {**super().public(definition), "items": sorted(definition["items"])}


@register
class Essay(QuestionType):
    """Graded by a person. ``min_words``/``max_words`` (0: no limit), ``attachments`` allowed (0–10), and an
    optional ``rubric`` the grader marks with: criteria with levels worth points, written as the assignments'
    rubric (``lms.courses.grading``); the mark is the chosen levels' share of the best levels' sum."""

    name = "essay"

    def _clean(self, definition, errors):
        limits = {}
        for key in ("min_words", "max_words", "attachments"):
            value = str(definition.get(key, 0) or 0).strip()
            high = 10 if key == "attachments" else 100000
            if not value.isdecimal() or int(value) > high:
                errors[key] = _("From %(low)d to %(high)d.", low=0, high=high)
                value = "0"
            limits[key] = int(value)
        if limits["max_words"] and limits["min_words"] > limits["max_words"]:
            errors["min_words"] = _("The minimum cannot exceed the maximum.")
        rubric = self._rubric(definition.get("rubric"), errors)
        return {**limits, "grader_info": _text(definition.get("grader_info"), "grader_info", errors,
                                               required=False, limit=50000), **({"rubric": rubric} if rubric else {})}

    @staticmethod
    def _rubric(value, errors: dict) -> list[dict]:
        """Criteria from the text form (a criterion per line) or from their list, checked the same way."""
        if not value:
            return []
        if not isinstance(value, str):
            try:
                value = grading.rubric_text(value)
            except (AttributeError, KeyError, TypeError, ValueError):
                errors["rubric"] = _("Write «Criterion: level = points; level = points», a criterion per line.")
                return []
        try:
            criteria = grading.parse_rubric(value)
        except ValidationError as exc:
            errors["rubric"] = exc.message
            return []
        if grading.rubric_maximum(criteria) < 1:
            errors["rubric"] = _("The best levels must be worth at least one point in all.")
            return []
        return criteria

    @staticmethod
    def words(text: str) -> int:
        return len(re.findall(r"\w+(?:[-']\w+)*", re.sub(r"<[^>]+>", " ", str(text or ""))))

    def check(self, definition: dict, text: str) -> str | None:
        """Why the text cannot be sent as it is (a word limit), or None."""
        n = self.words(text)
        if definition.get("min_words") and n < definition["min_words"]:
            return _("At least %(n)d words; now %(m)d.", n=definition["min_words"], m=n)
        if definition.get("max_words") and n > definition["max_words"]:
            return _("At most %(n)d words; now %(m)d.", n=definition["max_words"], m=n)
        return None

    def grade(self, definition, response):
        if not str(response or "").strip():
            return NOT_ANSWERED
        return Outcome(None, MANUAL)

    def public(self, definition):
        return {**super().public(definition), "min_words": definition.get("min_words", 0),
                "max_words": definition.get("max_words", 0), "attachments": definition.get("attachments", 0)}


__all__ = ["REGISTRY", "Outcome", "QuestionType", "grade", "parse_number", "qtype", "register",
           "wildcard_pattern"]


# --- embedded answers (Cloze) -----------------------------------------------------------------------

#: Cloze subquestion types as Moodle writes them, and what they are here: (type, single, case-sensitive).
CLOZE_KINDS = {
    **dict.fromkeys(("SHORTANSWER", "SA", "MW"), ("shortanswer", True, False)),
    **dict.fromkeys(("SHORTANSWER_C", "SAC", "MWC"), ("shortanswer", True, True)),
    **dict.fromkeys(("NUMERICAL", "NM"), ("numerical", True, False)),
    **dict.fromkeys(("MULTICHOICE", "MC", "MCV", "MCH", "MULTICHOICE_V", "MULTICHOICE_H", "MULTICHOICE_S", "MCS",
                     "MCVS", "MCHS", "MULTICHOICE_VS", "MULTICHOICE_HS"), ("multichoice", True, False)),
    **dict.fromkeys(("MULTIRESPONSE", "MR", "MRH", "MULTIRESPONSE_H", "MULTIRESPONSE_S", "MRS", "MRHS",
                     "MULTIRESPONSE_HS"), ("multichoice", False, False)),
}
_CLOZE = re.compile(r"\{(\d*):([A-Z_]+):((?:\\.|[^\\}])*)\}")


def _unescape_cloze(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text).strip()


def _cloze_answers(body: str, numeric: bool) -> list[dict]:
    answers = []
    for raw in re.split(r"(?<!\\)~", body):
        if not raw.strip():
            continue
        fraction = 0.0
        if raw.startswith("="):
            fraction, raw = 1.0, raw[1:]
        else:
            weight = re.match(r"%(-?\d+(?:[.,]\d+)?)%", raw)
            if weight:
                fraction, raw = float(weight.group(1).replace(",", ".")) / 100, raw[weight.end():]
        pieces = re.split(r"(?<!\\)#", raw, maxsplit=1)
        text, feedback = _unescape_cloze(pieces[0]), _unescape_cloze(pieces[1] if len(pieces) > 1 else "")
        if numeric:
            value, _c, tolerance = text.partition(":")
            answers.append({"value": value.strip() or text, "tolerance": tolerance.strip() or 0,
                            "fraction": fraction, "feedback": feedback})
        else:
            answers.append({"text": text, "fraction": fraction, "feedback": feedback})
    return answers


@register
class Cloze(QuestionType):
    """Embedded answers: the text carries its subquestions as Moodle writes them, ``{1:SHORTANSWER:=ответ}``,
    ``{2:MULTICHOICE:=верно~неверно}``, ``{1:NUMERICAL:=3.14:0.01}``, ``{1:MULTIRESPONSE:%50%а~%50%б~%-100%в}``.
    The weight before the colon (1 when empty) sets each part's share of the mark. Response: {part number (from
    0): that part's response}."""

    name = "cloze"

    def _clean(self, definition, errors):
        parts = []
        for n, match in enumerate(_CLOZE.finditer(str(definition.get("text") or ""))):
            weight, kind, body = match.groups()
            if kind not in CLOZE_KINDS:
                errors[f"parts-{n}"] = _("Part %(n)d: the type «%(t)s» is unknown.", n=n + 1, t=kind)
                continue
            qt, single, case = CLOZE_KINDS[kind]
            part_errors: dict[str, str] = {}
            raw = {"answers": _cloze_answers(body, qt == "numerical"), "single": single, "case_sensitive": case,
                   "shuffle": kind.endswith("S")}
            part = {"kind": qt, "weight": int(weight or 1), **REGISTRY[qt]._clean(raw, part_errors)}
            for key, message in part_errors.items():
                errors[f"parts-{n}-{key}"] = _("Part %(n)d: %(m)s", n=n + 1, m=message)
            parts.append(part)
        if not parts and not errors:
            errors["text"] = _("The text has no embedded answers such as {1:SHORTANSWER:=answer}.")
        return {"parts": parts}

    def grade(self, definition, response):
        answers = response if isinstance(response, dict) else {}
        parts = definition["parts"]
        outcomes = [REGISTRY[p["kind"]].grade(p, answers.get(str(n), answers.get(n))) for n, p in enumerate(parts)]
        if all(o.state == UNANSWERED for o in outcomes):
            return NOT_ANSWERED
        total = sum(p["weight"] for p in parts) or 1
        fraction = sum(max(o.fraction or 0.0, 0.0) * p["weight"] for o, p in zip(outcomes, parts, strict=True)) / total
        return Outcome.of(fraction, tuple(f for o in outcomes for f in o.feedback))

    def public(self, definition):
        counter = iter(range(10_000))
        text = _CLOZE.sub(lambda _m: f"{{#{next(counter)}}}", definition.get("text", ""))
        return {"qtype": self.name, "text": text,
                "parts": [{"kind": p["kind"], "single": p.get("single", True),
                           **({"choices": [a["text"] for a in p["answers"]]} if p["kind"] == "multichoice" else {})}
                          for p in definition["parts"]]}


# --- select missing words -------------------------------------------------------------------------

_GAP = re.compile(r"\[\[(\d+)\]\]")


@register
class GapSelect(QuestionType):
    """Select missing words: the text has gaps ``[[1]]``, ``[[2]]``…; ``options`` [{"text", "group"}] where gap n's
    right answer is option n, and each gap offers the options of its right answer's group. Response: {gap
    number (from 0): the chosen option's number (from 1)}. Each right gap is worth an equal share."""

    name = "gapselect"

    def _clean(self, definition, errors):
        options = []
        for n, o in enumerate(definition.get("options") or []):
            group = str(o.get("group", 1)).strip()
            if not group.isdecimal() or not 1 <= int(group) <= 20:
                errors[f"options-{n}-group"] = _("From %(low)d to %(high)d.", low=1, high=20)
                group = "1"
            options.append({"text": _text(o.get("text"), f"options-{n}-text", errors, limit=200), "group": int(group)})
        gaps = [int(g) for g in _GAP.findall(str(definition.get("text") or ""))]
        if not gaps:
            errors["text"] = _("The text has no gaps such as [[1]].")
        for g in gaps:
            if not 1 <= g <= len(options):
                errors["text"] = _("The gap [[%(n)d]] has no option %(n)d.", n=g)
        return {"options": options, "shuffle": bool(definition.get("shuffle", True))}

    @staticmethod
    def gaps(definition: dict) -> list[int]:
        return [int(g) for g in _GAP.findall(definition.get("text", ""))]

    def grade(self, definition, response):
        chosen = response if isinstance(response, dict) else {}
        gaps = self.gaps(definition)
        picked = [str(chosen.get(str(n), chosen.get(n, ""))).strip() for n in range(len(gaps))]
        if not any(picked):
            return NOT_ANSWERED
        right = sum(1 for n, g in enumerate(gaps) if picked[n] == str(g))
        return Outcome.of(right / len(gaps))

    def public(self, definition):
        options = definition["options"]
        counter = iter(range(10_000))
        return {"qtype": self.name, "text": _GAP.sub(lambda _m: f"{{#{next(counter)}}}", definition.get("text", "")),
                "gaps": [sorted(((i, o["text"]) for i, o in enumerate(options, start=1)
                                 if o["group"] == options[g - 1]["group"]), key=lambda io: io[1])
                         for g in self.gaps(definition)]}
