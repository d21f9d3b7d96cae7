"""Forms of the question-bank pages. They carry the input; the rules (what a definition must hold, which
fractions add up, category names) live in ``lms.assessment.banks`` and ``qtypes``, so the pages, the import
and the API report problems the same way. Numbers are text fields here so that a wrong value gets the
service's message on its field instead of WTForms' generic one.

The question editor is one form class per question type (``question_form``): the common fields and the
type's own, with its rows (answers, pairs, items, options, units) as ``FieldList``s whose inputs are named as
``qtypes`` names its errors (``answers-2-fraction``), so every message lands next to its input."""

from __future__ import annotations

from functools import cache

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import SelectChoice

from lms.assessment import qtypes
from lms.core.forms import select_choices

#: Question types by their names in the registry, as the pages call them.
QTYPE_LABELS = {
    "multichoice": _l("Multiple choice"),
    "truefalse": _l("True/false"),
    "shortanswer": _l("Short answer"),
    "numerical": _l("Numerical"),
    "matching": _l("Matching"),
    "ordering": _l("Ordering"),
    "essay": _l("Essay (written answer)"),
    "cloze": _l("Embedded answers (Cloze)"),
    "gapselect": _l("Select missing words"),
    "description": _l("Description (no answer)"),
}
QTYPE_HINTS = {
    "multichoice": _l("One or several right answers among the choices; partial and negative credit."),
    "truefalse": _l("A statement the learner marks as true or false."),
    "shortanswer": _l("A word or phrase typed in; * stands for any characters."),
    "numerical": _l("A number within a tolerance, optionally with units."),
    "matching": _l("Pairs: each question matched with its answer; extra answers distract."),
    "ordering": _l("Items the learner puts in the right order."),
    "essay": _l("A written answer a teacher grades by hand."),
    "cloze": _l("A text with answers embedded in it, as Moodle writes them."),
    "gapselect": _l("A text with gaps; each gap offers the options of its group."),
    "description": _l("Text or instructions between questions; not graded."),
}
DIFFICULTY_LABELS = {"easy": _l("easy"), "medium": _l("medium"), "hard": _l("hard")}
TEXT_FORMAT_LABELS = {
    "moodle": _l("Moodle auto-format (line breaks kept, HTML allowed)"),
    "html": _l("HTML"),
    "plain": _l("Plain text"),
    "markdown": _l("Markdown"),
}
TOLERANCE_LABELS = {"absolute": _l("absolute (± the number)"), "relative": _l("relative (± a share of the answer)")}

#: The grades Moodle offers for an answer, as fractions of the mark.
FRACTIONS = (1.0, 0.9, 0.8333333, 0.8, 0.75, 0.7, 0.6666667, 0.6, 0.5, 0.4, 0.3333333, 0.3, 0.25, 0.2, 0.1666667,
             0.1428571, 0.125, 0.1111111, 0.1, 0.05, 0.0)
#: Blank rows a new question starts with, and how many «More rows» adds.
BLANK_ROWS = {"answers": 4, "pairs": 4, "items": 4, "options": 4, "units": 2}
MORE_ROWS = 3
MAX_ROWS = 60


def fraction_value(value) -> str:
    """A fraction as the select's option value: «1», «0.5», «-0.3333333»."""
    try:
        number = float(str(value).replace(",", "."))
    except (TypeError, ValueError):
        return str(value)
    text = f"{number:.7g}"
    return "0" if text == "-0" else text


def fraction_label(value: str) -> str:
    try:
        number = float(value)
    except ValueError:
        return value
    return f"{number * 100:.5g}".replace(".", ",") + " %"


def fraction_choices(low: float, current: str | None = None) -> list[SelectChoice]:
    """The grades from 100 % down to 0 % (and to −100 % when ``low`` is −1), with an imported value that is
    not among them kept as its own option."""
    values = [fraction_value(f) for f in FRACTIONS]
    if low < 0:
        values += [fraction_value(-f) for f in reversed(FRACTIONS) if f]
    if current not in (None, "") and current not in values:
        values.append(current)
    return select_choices((v, fraction_label(v)) for v in values)


def _choices(labels: dict, empty: str | None = None):
    def build():
        items = [(k, str(v)) for k, v in labels.items()]
        return select_choices([("", empty)] + items if empty is not None else items)
    return build


# --- banks, categories, sharing, import, move and copy ----------------------------------------------------

class BankForm(FlaskForm):
    organization = SelectField(_l("Organization"), coerce=str, validate_choice=False,
                               description=_l("Its teachers and methodologists will edit the bank."))
    name = StringField(_l("Name of the bank"), description=_l("E.g. «Олимпиадная математика, 5–6 классы»."))
    description = TextAreaField(_l("Description"))


class CategoryForm(FlaskForm):
    name = StringField(_l("Name of the category"))
    parent = SelectField(_l("Inside"), coerce=str, validate_choice=False,
                         description=_l("The category it belongs to, or the top of the bank."))


class ImportForm(FlaskForm):
    file = FileField(_l("File with questions"),
                     description=_l("GIFT (.gift or .txt, UTF-8) or Moodle XML (.xml), at most %(n)d MB.", n=20))


# --- the question editor --------------------------------------------------------------------------------

class ChoiceRow(Form):
    text = TextAreaField(_l("Answer text"), render_kw={"rows": 2})
    fraction = SelectField(_l("Mark for the answer"), validate_choice=False, choices=[])
    feedback = StringField(_l("Feedback"))


class ShortRow(Form):
    text = StringField(_l("Answer"), description=_l("* stands for any characters."))
    fraction = SelectField(_l("Mark for the answer"), validate_choice=False, choices=[])
    feedback = StringField(_l("Feedback"))


class NumberRow(Form):
    value = StringField(_l("Number"), description=_l("Or * for any other number."))
    tolerance = StringField(_l("Tolerance"), default="0")
    fraction = SelectField(_l("Mark for the answer"), validate_choice=False, choices=[])
    feedback = StringField(_l("Feedback"))


class UnitRow(Form):
    unit = StringField(_l("Unit"))
    multiplier = StringField(_l("Multiplier"), default="1",
                             description=_l("How many of this unit make one of the first (base) unit."))


class PairRow(Form):
    stem = StringField(_l("Question"), description=_l("Leave empty for an extra answer that matches nothing."))
    answer = StringField(_l("Matching answer"))


class OptionRow(Form):
    text = StringField(_l("Option"))
    group = SelectField(_l("Group"), validate_choice=False,
                        choices=select_choices((str(n), str(n)) for n in range(1, 21)), default="1")


class QuestionForm(FlaskForm):
    """The fields every type has; ``question_form(qtype)`` adds the type's own."""

    name = StringField(_l("Question name"), description=_l("Shown to teachers only; empty — the start of the text."))
    category = SelectField(_l("Category"), coerce=str, validate_choice=False)
    format = SelectField(_l("Text format"), choices=_choices(TEXT_FORMAT_LABELS), validate_choice=False)
    text = TextAreaField(_l("Question text"), render_kw={"rows": 6})
    general_feedback = TextAreaField(_l("General feedback"), render_kw={"rows": 3},
                                     description=_l("Shown after the answer, whatever it was."))
    subject = StringField(_l("Subject"), description=_l("E.g. «Математика»."))
    grade = SelectField(_l("Grade"), validate_choice=False,
                        choices=select_choices([("", "—")] + [(str(n), str(n)) for n in range(1, 12)]))
    difficulty = SelectField(_l("Difficulty"), choices=_choices(DIFFICULTY_LABELS, "—"), validate_choice=False)
    tags = StringField(_l("Tags"), description=_l("Separated by commas, e.g. «ВсОШ, дроби»."))


def _rows(form_class, name: str):
    return FieldList(FormField(form_class), max_entries=MAX_ROWS, label=name)


_SHUFFLE = BooleanField(_l("Shuffle the choices in each attempt"), default=True)

TYPE_FIELDS = {
    "description": {},
    "truefalse": {
        "answer": RadioField(_l("The statement is"),
                             choices=select_choices([("true", _l("True")), ("false", _l("False"))]),
                             validate_choice=False),
        "feedback_true": StringField(_l("Feedback to the answer «true»")),
        "feedback_false": StringField(_l("Feedback to the answer «false»")),
    },
    "multichoice": {
        "single": RadioField(_l("How many answers may be chosen"),
                             choices=select_choices([("1", _l("One answer only")),
                                                     ("0", _l("Several answers may be chosen"))]),
                             default="1", validate_choice=False),
        "shuffle": _SHUFFLE,
        "answers": _rows(ChoiceRow, "answers"),
    },
    "shortanswer": {
        "case_sensitive": BooleanField(_l("Letter case matters")),
        "answers": _rows(ShortRow, "answers"),
    },
    "numerical": {
        "answers": _rows(NumberRow, "answers"),
        "tolerance_type": SelectField(_l("Tolerance"), choices=_choices(TOLERANCE_LABELS), validate_choice=False),
        "units": _rows(UnitRow, "units"),
        "unit_required": BooleanField(_l("The unit must be given")),
        "unit_penalty": StringField(_l("Penalty for a missing or unknown unit"), default="0.1",
                                    description=_l("A fraction of the mark from 0 to 1, e.g. 0.1.")),
    },
    "matching": {
        "pairs": _rows(PairRow, "pairs"),
        "shuffle": _SHUFFLE,
    },
    "ordering": {
        "items": FieldList(StringField(_l("Item")), max_entries=MAX_ROWS),
        "all_or_nothing": BooleanField(_l("All or nothing: a mark only for the whole order right"),
                                       description=_l("Otherwise each item in its right place earns its share.")),
    },
    "essay": {
        "min_words": StringField(_l("At least, words"), default="0", description=_l("0 — no limit.")),
        "max_words": StringField(_l("At most, words"), default="0", description=_l("0 — no limit.")),
        "attachments": StringField(_l("Files the learner may attach"), default="0", description=_l("From 0 to 10.")),
        "grader_info": TextAreaField(_l("Information for graders"), render_kw={"rows": 3}),
        "rubric": TextAreaField(_l("Rubric"), render_kw={"rows": 4}, description=_l(
            "Optional. A criterion per line: «Criterion: level = points; level = points». The grader chooses a "
            "level for each criterion; the answer gets the chosen levels' share of the best levels' sum.")),
    },
    "cloze": {},
    "gapselect": {
        "options": _rows(OptionRow, "options"),
        "shuffle": BooleanField(_l("Shuffle the options in each attempt"), default=True),
    },
}
#: Which rows each type has (for «More rows»), and the row fields that make a row not blank.
ROW_LISTS = {"multichoice": ("answers",), "shortanswer": ("answers",), "numerical": ("answers", "units"),
             "matching": ("pairs",), "ordering": ("items",), "gapselect": ("options",)}
ROW_LABELS = {"answers": _l("Answer %(n)d"), "units": _l("Unit %(n)d"), "pairs": _l("Pair %(n)d"),
              "items": _l("Item %(n)d"), "options": _l("Option %(n)d")}
MORE_LABELS = {"answers": _l("More answer rows"), "units": _l("More unit rows"), "pairs": _l("More pairs"),
               "items": _l("More items"), "options": _l("More options")}
TEXT_HINTS = {
    "cloze": _l("Write the answers into the text: {1:SHORTANSWER:=Москва#Верно~%50%Moscow}, "
                "{1:MULTICHOICE:=верно~неверно}, {2:NUMERICAL:=3.14:0.01}, {1:MULTIRESPONSE:%50%а~%50%б~%-100%в}. "
                "The number before the colon is the part's weight."),
    "gapselect": _l("Mark gaps as [[1]], [[2]]…: gap n's right answer is option n below; a gap offers every "
                    "option of that option's group."),
}


@cache
def question_form(qtype: str) -> type[QuestionForm]:
    """The editor's form class for a question type (one per type, built once)."""
    if qtype not in qtypes.REGISTRY:
        raise KeyError(qtype)
    return type(f"QuestionForm_{qtype}", (QuestionForm,), dict(TYPE_FIELDS.get(qtype, {})))
