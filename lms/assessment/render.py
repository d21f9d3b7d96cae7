"""What a learner sees of a question, and reading their answer back.

``view(definition, order)`` is the page's data: the sanitised text (embedded images inline) and the choices in
the attempt's order, each choice carrying a *token* — its place on this learner's page, never its place in the
bank — so neither the HTML nor the JSON of an open attempt says which choice is right. ``order`` is drawn once
when the attempt starts (``make_order``) and kept with it.

``response_from_form(definition, order, form, prefix)`` turns the form fields (or the same names sent as JSON)
into the response ``qtypes.grade`` reads; ``form_values`` does the reverse, to fill the form again after a
reload. Field names: ``prefix`` for one-answer types, ``prefix-N`` for the N-th stem, item, gap or part.
"""

from __future__ import annotations

import html
import random
import re
from typing import Any

from flask_babel import gettext as _

from lms.assessment import qtypes
from lms.courses.content import sanitize

_IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
                "webp": "image/webp"}
_PLUGINFILE = re.compile(r"@@PLUGINFILE@@/([\w.\- %]+)")


def text_html(text: str, fmt: str = "moodle", files: list[dict] | None = None) -> str:
    """A question's text as safe HTML: plain and markdown text are escaped (paragraphs and line breaks kept),
    Moodle's auto-format keeps HTML and turns line breaks into ``<br>``; images the text names as
    ``@@PLUGINFILE@@/name`` are inlined from the question's own files after sanitising."""
    text = str(text or "")
    if fmt in ("plain", "markdown"):
        text = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>"
                       for p in re.split(r"\n\s*\n", text.strip()) if p.strip())
    elif fmt == "moodle" and "<" not in text:
        text = html.escape(text).replace("\n", "<br>")
    out = sanitize(text)
    if files and "@@PLUGINFILE@@" in out:
        data = {f["name"]: f["data"] for f in files}

        def inline(match: re.Match) -> str:
            name = match.group(1).replace("%20", " ")
            kind = _IMAGE_TYPES.get(name.rsplit(".", 1)[-1].lower())
            if name not in data or kind is None:
                return match.group(0)
            return f"data:{kind};base64,{data[name]}"

        out = _PLUGINFILE.sub(inline, out)
    return out


def _perm(count: int, rng: random.Random | None, *, avoid_identity: bool = False) -> list[int]:
    perm = list(range(count))
    if rng is None:
        return perm
    rng.shuffle(perm)
    if avoid_identity and count > 1 and perm == sorted(perm):
        perm = perm[1:] + perm[:1]
    return perm


def make_order(definition: dict, rng: random.Random | None, *, shuffle_answers: bool = True) -> dict:
    """The attempt's arrangement of one question: the order of choices, stems, items and options. Orders
    that would give the answer away (the items of an ordering question, the options of the missing words)
    are always drawn; choices are shuffled when both the quiz and the question ask for it."""
    kind = definition.get("qtype")
    rng = rng or random.Random()
    shuffle = shuffle_answers and definition.get("shuffle", True)
    if kind == "multichoice":
        return {"choices": _perm(len(definition["answers"]), rng if shuffle else None)}
    if kind == "matching":
        stems = [n for n, p in enumerate(definition["pairs"]) if p["stem"]]
        if shuffle:
            rng.shuffle(stems)
        return {"stems": stems}
    if kind == "ordering":
        return {"items": _perm(len(definition["items"]), rng, avoid_identity=True)}
    if kind == "gapselect":
        return {"options": _perm(len(definition["options"]), rng)}
    if kind == "cloze":
        return {"parts": {str(n): _perm(len(p["answers"]), rng if shuffle_answers and p.get("shuffle") else None)
                          for n, p in enumerate(definition["parts"]) if p["kind"] == "multichoice"}}
    return {}


def _identity(definition: dict) -> dict:
    """The order a preview uses when none was drawn: the bank's, except where that gives the answer away."""
    return make_order(definition, random.Random(0), shuffle_answers=False)


def view(definition: dict, order: dict | None = None) -> dict:
    """The question as the attempt page shows it (see the module's notes)."""
    order = order if order is not None else _identity(definition)
    kind = definition.get("qtype", "")
    fmt, files = definition.get("format", "moodle"), definition.get("files")
    out: dict[str, Any] = {"qtype": kind, "text": text_html(definition.get("text", ""), fmt, files),
                           "graded": qtypes.qtype(kind).graded}
    if kind == "truefalse":
        out["choices"] = [{"token": "true", "text": "true"}, {"token": "false", "text": "false"}]
    elif kind == "multichoice":
        answers = definition["answers"]
        out["single"] = definition.get("single", True)
        out["choices"] = [{"token": str(pos), "text": text_html(answers[i]["text"], fmt, files)}
                          for pos, i in enumerate(order.get("choices") or range(len(answers)))]
    elif kind == "matching":
        pairs = definition["pairs"]
        out["stems"] = [{"token": str(n), "text": text_html(pairs[n]["stem"], fmt, files)}
                        for n in order.get("stems") or [n for n, p in enumerate(pairs) if p["stem"]]]
        out["choices"] = sorted({p["answer"] for p in pairs})
    elif kind == "ordering":
        items = definition["items"]
        out["items"] = [{"token": str(pos), "text": items[i]} for pos, i in enumerate(order["items"])]
    elif kind == "essay":
        out.update({k: definition.get(k, 0) for k in ("min_words", "max_words", "attachments")})
    elif kind == "cloze":
        public = qtypes.qtype("cloze").public(definition)
        out["text"] = text_html(public["text"], fmt, files)
        parts = []
        for n, p in enumerate(definition["parts"]):
            part = {"kind": p["kind"], "single": p.get("single", True)}
            if p["kind"] == "multichoice":
                perm = (order.get("parts") or {}).get(str(n)) or list(range(len(p["answers"])))
                part["choices"] = [{"token": str(pos), "text": p["answers"][i]["text"]} for pos, i in enumerate(perm)]
            parts.append(part)
        out["parts"] = parts
        out["segments"] = _segments(out["text"])
    elif kind == "gapselect":
        perm = order["options"]
        token = {original: pos for pos, original in enumerate(perm)}
        public = qtypes.qtype("gapselect").public(definition)
        out["text"] = text_html(public["text"], fmt, files)
        out["gaps"] = [[{"token": str(token[number - 1]), "text": label} for number, label in gap]
                       for gap in public["gaps"]]
        out["segments"] = _segments(out["text"])
    return out


def _segments(text: str) -> list[dict]:
    """The text around its embedded fields: [{"html": …} or {"part": n}] (the HTML halves join up again)."""
    out: list[dict] = []
    for n, piece in enumerate(re.split(r"\{#(\d+)\}", text)):
        if n % 2:
            out.append({"part": int(piece)})
        elif piece:
            out.append({"html": piece})
    return out


def _one(form, name: str) -> str:
    value = form.get(name)
    return "" if value is None else str(value).strip()[:5000]


def _many(form, name: str) -> list[str]:
    getlist = getattr(form, "getlist", None)
    values = getlist(name) if getlist else form.get(name)
    if values is None:
        return []
    if not isinstance(values, list | tuple):
        values = [values]
    return [str(v).strip() for v in values][:100]


def _at(perm: list[int], token: str) -> int | None:
    return perm[int(token)] if token.isdecimal() and int(token) < len(perm) else None


def response_from_form(definition: dict, order: dict | None, form, prefix: str) -> Any:
    """The response in the bank's terms, from form fields named as ``view`` names them. Unknown tokens are
    dropped, so nothing a browser sends can point outside the question."""
    order = order if order is not None else _identity(definition)
    kind = definition.get("qtype")
    if kind == "truefalse":
        value = _one(form, prefix)
        return {"true": True, "false": False}.get(value)
    if kind == "multichoice":
        perm = order.get("choices") or list(range(len(definition["answers"])))
        chosen = [_at(perm, t) for t in (_many(form, prefix) if not definition.get("single", True)
                                         else [_one(form, prefix)])]
        chosen = sorted({c for c in chosen if c is not None})
        if definition.get("single", True):
            return chosen[0] if chosen else None
        return chosen
    if kind in ("shortanswer", "numerical", "essay"):
        return _one(form, prefix) if kind != "essay" else str(form.get(prefix) or "")[:200_000]
    if kind == "matching":
        choices = {p["answer"] for p in definition["pairs"]}
        out = {}
        for n, p in enumerate(definition["pairs"]):
            if p["stem"]:
                value = _one(form, f"{prefix}-{n}")
                if value in choices:
                    out[str(n)] = value
        return out
    if kind == "ordering":
        perm = order["items"]
        ranks = []
        for pos, original in enumerate(perm):
            rank = _one(form, f"{prefix}-{pos}")
            if not rank.isdecimal():
                return None
            ranks.append((int(rank), pos, original))
        return [original for _r, _p, original in sorted(ranks)]
    if kind == "cloze":
        out = {}
        for n, p in enumerate(definition["parts"]):
            name = f"{prefix}-{n}"
            if p["kind"] == "multichoice":
                perm = (order.get("parts") or {}).get(str(n)) or list(range(len(p["answers"])))
                chosen = sorted({c for c in (_at(perm, t) for t in _many(form, name)) if c is not None})
                if chosen:
                    out[str(n)] = chosen[0] if p.get("single", True) else chosen
            elif _one(form, name):
                out[str(n)] = _one(form, name)
        return out
    if kind == "gapselect":
        perm = order["options"]
        out = {}
        for n in range(len(qtypes.GapSelect.gaps(definition))):
            original = _at(perm, _one(form, f"{prefix}-{n}"))
            if original is not None:
                out[str(n)] = str(original + 1)
        return out
    return None


def form_values(definition: dict, order: dict | None, response: Any, prefix: str) -> dict[str, Any]:
    """The form fields that show ``response`` again: {name: value, or a list for checkboxes}."""
    order = order if order is not None else _identity(definition)
    kind = definition.get("qtype")
    if response is None or response == "" or response == {} or response == []:
        return {}
    if kind == "truefalse":
        return {prefix: "true" if response else "false"}
    if kind == "multichoice":
        perm = order.get("choices") or list(range(len(definition["answers"])))
        place = {original: str(pos) for pos, original in enumerate(perm)}
        if definition.get("single", True):
            return {prefix: place.get(response, "")}
        return {prefix: [place[i] for i in response if i in place]}
    if kind in ("shortanswer", "numerical", "essay"):
        return {prefix: str(response)}
    if kind == "matching":
        return {f"{prefix}-{n}": v for n, v in response.items()}
    if kind == "ordering":
        place = {original: pos for pos, original in enumerate(order["items"])}
        return {f"{prefix}-{place[original]}": str(rank) for rank, original in enumerate(response, start=1)
                if original in place}
    if kind == "cloze":
        out = {}
        for n, p in enumerate(definition["parts"]):
            value = response.get(str(n))
            if value is None:
                continue
            if p["kind"] == "multichoice":
                perm = (order.get("parts") or {}).get(str(n)) or list(range(len(p["answers"])))
                place = {original: str(pos) for pos, original in enumerate(perm)}
                chosen = value if isinstance(value, list) else [value]
                out[f"{prefix}-{n}"] = [place[c] for c in chosen if c in place] if not p.get("single", True) \
                    else place.get(chosen[0], "")
            else:
                out[f"{prefix}-{n}"] = str(value)
        return out
    if kind == "gapselect":
        place = {original: str(pos) for pos, original in enumerate(order["options"])}
        return {f"{prefix}-{n}": place.get(int(v) - 1, "") for n, v in response.items() if str(v).isdecimal()}
    return {}


def _number(value) -> str:
    return qtypes._num(value) if isinstance(value, float | int) else str(value)


def right_answer(definition: dict) -> str:
    """The right answer in words, for the review and the teacher's pages."""
    kind = definition.get("qtype")
    if kind == "truefalse":
        return _("True") if definition["answer"] else _("False")
    if kind == "multichoice":
        best = [a for a in definition["answers"] if a["fraction"] > 0]
        if definition.get("single", True):
            best = [max(definition["answers"], key=lambda a: a["fraction"])]
        return "; ".join(re.sub(r"<[^>]+>", "", a["text"]) for a in best)
    if kind == "shortanswer":
        return next((a["text"] for a in definition["answers"] if a["fraction"] >= 1), "")
    if kind == "numerical":
        parts = []
        for a in definition["answers"]:
            if a["fraction"] >= 1 and a["value"] != "*":
                tolerance = f" ± {_number(a['tolerance'])}" if a.get("tolerance") else ""
                parts.append(f"{_number(a['value'])}{tolerance}")
        return "; ".join(parts)
    if kind == "matching":
        return "; ".join(f"{re.sub(r'<[^>]+>', '', p['stem'])} → {p['answer']}" for p in definition["pairs"]
                         if p["stem"])
    if kind == "ordering":
        return " → ".join(definition["items"])
    if kind == "gapselect":
        options = definition["options"]
        return "; ".join(options[g - 1]["text"] for g in qtypes.GapSelect.gaps(definition))
    if kind == "cloze":
        out = []
        for p in definition["parts"]:
            out.append(right_answer({"qtype": p["kind"], **p}))
        return "; ".join(out)
    return ""


def response_text(definition: dict, response: Any) -> str:
    """A response in words, for the teacher's pages and the response distribution."""
    kind = definition.get("qtype")
    if response is None or response == "" or response == {} or response == []:
        return ""
    if kind == "truefalse":
        return _("True") if response else _("False")
    if kind == "multichoice":
        chosen = response if isinstance(response, list) else [response]
        answers = definition["answers"]
        return "; ".join(re.sub(r"<[^>]+>", "", answers[i]["text"]) for i in chosen
                         if isinstance(i, int) and 0 <= i < len(answers))
    if kind == "matching":
        pairs = definition["pairs"]
        return "; ".join(f"{re.sub(r'<[^>]+>', '', pairs[int(n)]['stem'])} → {v}" for n, v in response.items()
                         if str(n).isdecimal() and int(n) < len(pairs))
    if kind == "ordering":
        items = definition["items"]
        return " → ".join(items[i] for i in response if isinstance(i, int) and 0 <= i < len(items))
    if kind == "gapselect":
        options = definition["options"]
        return "; ".join(options[int(v) - 1]["text"] for _n, v in sorted(response.items())
                         if str(v).isdecimal() and 0 < int(v) <= len(options))
    if kind == "cloze":
        parts = definition["parts"]
        return "; ".join(response_text({"qtype": parts[int(n)]["kind"], **parts[int(n)]}, v)
                         for n, v in sorted(response.items()) if str(n).isdecimal() and int(n) < len(parts))
    if kind == "essay":
        return re.sub(r"<[^>]+>", " ", str(response)).strip()[:500]
    return str(response)
