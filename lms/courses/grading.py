"""How an assignment is graded: with points, on a scale (5-point or pass/fail), or with a rubric.

A rubric (Moodle's «рубрика») is a list of criteria, each with levels worth points; the grader picks one
level per criterion and the work gets their sum. The methodologist writes it a criterion per line::

    Полнота раскрытия темы: не раскрыта = 0; частично = 2; полностью = 4
    Оформление: с ошибками = 0; без ошибок = 2

Whatever the method, the assignment keeps ``max_points`` and ``pass_points`` in its settings (a scale's
marks are its points: 2–5 of 5, or 0/1 of 1), so completion, the gradebook and the totals work the same.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms.core.errors import ValidationError

POINTS, SCALE, RUBRIC = "points", "scale", "rubric"
METHODS = (POINTS, SCALE, RUBRIC)
METHOD_LABELS = {POINTS: _l("Points"), SCALE: _l("A scale"), RUBRIC: _l("A rubric")}

FIVE_POINT, PASS_FAIL = "five_point", "pass_fail"
#: scale: (maximum, pass mark, marks from the best)
SCALES = {FIVE_POINT: (5, 3, (5, 4, 3, 2)), PASS_FAIL: (1, 1, (1, 0))}
SCALE_LABELS = {FIVE_POINT: _l("5-point (отлично … неудовлетворительно)"),
                PASS_FAIL: _l("Pass or fail (зачтено / не зачтено)")}
MARK_LABELS = {
    FIVE_POINT: {5: _l("5 (excellent)"), 4: _l("4 (good)"), 3: _l("3 (satisfactory)"), 2: _l("2 (unsatisfactory)")},
    PASS_FAIL: {1: _l("passed (зачтено)"), 0: _l("failed (не зачтено)")},
}

MAX_CRITERIA, MAX_LEVELS, MAX_LEVEL_POINTS = 20, 10, 100


def method_of(settings: dict) -> str:
    method = (settings or {}).get("grading")
    return method if method in METHODS else POINTS


def parse_rubric(text: str) -> list[dict]:
    """Criteria from the text form; a ValidationError on the field «rubric» names every bad line."""
    criteria: list[dict] = []
    problems: list[str] = []
    lines = [(n, line.strip()) for n, line in enumerate((text or "").splitlines(), start=1) if line.strip()]
    for n, line in lines:
        title, colon, rest = line.partition(":")
        title = title.strip()
        if not colon or not title:
            problems.append(_("line %(n)d: write «Criterion: level = points; level = points».", n=n))
            continue
        levels = []
        for part in (p.strip() for p in rest.split(";")):
            if not part:
                continue
            label, eq, value = part.rpartition("=")
            label, value = label.strip(), value.strip()
            if not eq or not label or not value.isdecimal() or int(value) > MAX_LEVEL_POINTS:
                problems.append(_("line %(n)d: «%(part)s» is not «level = points» with points from 0 to %(m)d.",
                                  n=n, part=part[:60], m=MAX_LEVEL_POINTS))
                break
            levels.append({"text": label[:200], "points": int(value)})
        else:
            if not 2 <= len(levels) <= MAX_LEVELS:
                problems.append(_("line %(n)d: a criterion needs from 2 to %(m)d levels.", n=n, m=MAX_LEVELS))
            else:
                criteria.append({"title": title[:200], "levels": levels})
    if not lines:
        problems.append(_("Write at least one criterion."))
    elif len(lines) > MAX_CRITERIA:
        problems.append(_("At most %(n)d criteria.", n=MAX_CRITERIA))
    if problems:
        raise ValidationError("; ".join(problems[:5]), field="rubric")
    return criteria


def rubric_text(criteria: list[dict]) -> str:
    """The text form of a rubric (for editing it again)."""
    return "\n".join(f"{c['title']}: " + "; ".join(f"{level['text']} = {level['points']}" for level in c["levels"])
                     for c in criteria or [])


def rubric_maximum(criteria: list[dict]) -> int:
    return sum(max(level["points"] for level in c["levels"]) for c in criteria)


def clean_settings(data: dict, errors: dict) -> dict:
    """The grading part of an assignment's settings from the form's values; problems go into ``errors``."""
    method = data.get("grading") or POINTS
    if method not in METHODS:
        errors["grading"] = _("Choose one of the options.")
        return {}
    if method == SCALE:
        scale = data.get("scale") or FIVE_POINT
        if scale not in SCALES:
            errors["scale"] = _("Choose one of the options.")
            return {}
        maximum, pass_mark, _marks = SCALES[scale]
        return {"grading": SCALE, "scale": scale, "max_points": maximum, "pass_points": pass_mark}
    if method == RUBRIC:
        try:
            criteria = parse_rubric(data.get("rubric") or "")
        except ValidationError as exc:
            errors["rubric"] = exc.message
            return {}
        maximum = rubric_maximum(criteria)
        if maximum < 1:
            errors["rubric"] = _("The best levels must be worth at least one point in all.")
            return {}
        pass_points = str(data.get("pass_points") or "0").strip()
        if not pass_points.isdecimal() or int(pass_points) > maximum:
            errors["pass_points"] = _("From %(low)d to %(high)d.", low=0, high=maximum)
            return {}
        return {"grading": RUBRIC, "rubric": criteria, "max_points": maximum, "pass_points": int(pass_points)}
    max_points = str(data.get("max_points") or "100").strip()
    pass_points = str(data.get("pass_points") or "0").strip()
    if not max_points.isdecimal() or not 1 <= int(max_points) <= 1000:
        errors["max_points"] = _("From %(low)d to %(high)d.", low=1, high=1000)
    elif not pass_points.isdecimal() or int(pass_points) > int(max_points):
        errors["pass_points"] = _("The pass mark cannot exceed the maximum.")
    else:
        return {"grading": POINTS, "max_points": int(max_points), "pass_points": int(pass_points)}
    return {}


def marks(settings: dict) -> list[tuple[int, str]]:
    """(points, label) of a scale's marks, the best first."""
    scale = settings.get("scale", FIVE_POINT)
    return [(m, str(MARK_LABELS[scale][m])) for m in SCALES.get(scale, SCALES[FIVE_POINT])[2]]


def score(settings: dict, *, points=None, levels=None) -> tuple[int, list[int] | None]:
    """(points, chosen level per criterion or None) from what the grader entered, or a ValidationError
    naming the field: «points» (points or a scale's mark) or «level-N» (a rubric's N-th criterion, from 1)."""
    method = method_of(settings)
    if method == RUBRIC:
        criteria = settings.get("rubric") or []
        levels = list(levels or [])
        chosen, errors = [], {}
        for n, criterion in enumerate(criteria):
            value = str(levels[n] if n < len(levels) and levels[n] is not None else "").strip()
            if not value.isdecimal() or int(value) >= len(criterion["levels"]):
                errors[f"level-{n + 1}"] = _("Choose a level for «%(c)s».", c=criterion["title"])
            else:
                chosen.append(int(value))
        if errors:
            raise ValidationError.of(errors)
        return sum(criteria[n]["levels"][i]["points"] for n, i in enumerate(chosen)), chosen
    text = str(points if points is not None else "").strip()
    if method == SCALE:
        allowed = [m for m, _label in marks(settings)]
        if not text.isdecimal() or int(text) not in allowed:
            raise ValidationError(_("Choose one of the options."), field="points")
        return int(text), None
    maximum = int(settings.get("max_points", 100))
    if not text.isdecimal() or int(text) > maximum:
        raise ValidationError(_("From %(low)d to %(high)d.", low=0, high=maximum), field="points")
    return int(text), None


def grade_label(settings: dict, points: int | None) -> str:
    """The grade as the learner reads it: «4 (хорошо)», «зачтено», or «7 из 10 баллов»."""
    if points is None:
        return ""
    if method_of(settings) == SCALE:
        labels = MARK_LABELS.get(settings.get("scale", FIVE_POINT), {})
        if points in labels:
            return str(labels[points])
    return _("%(p)d of %(m)d points", p=points, m=int(settings.get("max_points", 100)))
