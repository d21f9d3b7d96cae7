"""Question types: checking definitions field by field, grading every type as Moodle does, and properties of
partial credit and numerical tolerance (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from lms.assessment import qtypes
from lms.core.errors import ValidationError


@pytest.fixture(autouse=True)
def _russian(app):
    with app.test_request_context():
        yield


def clean(definition: dict) -> dict:
    return qtypes.qtype(definition["qtype"]).clean(definition)


CAPITAL = {"qtype": "multichoice", "text": "Столица России?", "single": True, "answers": [
    {"text": "Москва", "fraction": 1, "feedback": "Верно"}, {"text": "Казань", "fraction": 0},
    {"text": "Париж", "fraction": -0.5, "feedback": "Это Франция"}]}
PRIMES = {"qtype": "multichoice", "text": "Простые числа", "single": False, "answers": [
    {"text": "2", "fraction": 0.5}, {"text": "3", "fraction": 0.5}, {"text": "4", "fraction": -1},
    {"text": "9", "fraction": -0.5}]}


def test_single_choice_may_take_marks_away():
    q = clean(CAPITAL)
    assert qtypes.grade(q, 0) == qtypes.Outcome(1.0, "correct", ("Верно",))
    assert qtypes.grade(q, "2").fraction == -0.5 and qtypes.grade(q, "2").feedback == ("Это Франция",)
    assert qtypes.grade(q, None).state == "unanswered"
    assert qtypes.grade(q, [0, 1]).fraction == 0  # two answers to a one-answer question
    assert qtypes.grade(q, "7").state == "unanswered"  # not one of the answers


def test_multiple_choice_sums_and_stays_between_0_and_1():
    q = clean(PRIMES)
    assert qtypes.grade(q, [0, 1]).state == "correct"
    assert qtypes.grade(q, [0]).fraction == 0.5 and qtypes.grade(q, [0]).state == "partial"
    assert qtypes.grade(q, [0, 1, 3]).fraction == 0.5
    assert qtypes.grade(q, [0, 2]).fraction == 0  # not below zero
    assert qtypes.grade(q, [0, 0, 1]).fraction == 1  # a repeated choice counts once


@given(st.lists(st.floats(min_value=-1, max_value=1, allow_nan=False), min_size=2, max_size=8), st.data())
def test_multiple_choice_fraction_is_always_within_bounds(fractions, data):
    answers = [{"text": str(n), "fraction": f} for n, f in enumerate(fractions)]
    chosen = data.draw(st.lists(st.integers(min_value=0, max_value=len(answers) - 1), unique=True))
    question = {"qtype": "multichoice", "single": False, "answers": answers}
    outcome = qtypes.grade(question, chosen)
    assert outcome.state == "unanswered" or 0 <= outcome.fraction <= 1


@pytest.mark.parametrize(("definition", "field"), [
    ({**CAPITAL, "text": ""}, "text"),
    ({**CAPITAL, "answers": [{"text": "Москва", "fraction": 1}]}, "answers"),
    ({**CAPITAL, "answers": [{"text": "А", "fraction": 0.5}, {"text": "Б", "fraction": 0}]}, "answers"),
    ({**CAPITAL, "answers": [{"text": "А", "fraction": 1}, {"text": "", "fraction": 0}]}, "answers-1-text"),
    ({**CAPITAL, "answers": [{"text": "А", "fraction": 1}, {"text": "Б", "fraction": "много"}]}, "answers-1-fraction"),
    ({**PRIMES, "answers": [{"text": "2", "fraction": 0.5}, {"text": "3", "fraction": 0.4}]}, "answers"),
    ({"qtype": "numerical", "text": "?", "answers": [{"value": "пять"}]}, "answers-0-value"),
    ({"qtype": "numerical", "text": "?", "answers": [{"value": 5, "tolerance": -1}]}, "answers-0-tolerance"),
    ({"qtype": "shortanswer", "text": "?", "answers": [{"text": "а", "fraction": 0.5}]}, "answers"),
    ({"qtype": "matching", "text": "?", "pairs": [{"stem": "а", "answer": "1"}]}, "pairs"),
    ({"qtype": "essay", "text": "?", "min_words": 50, "max_words": 10}, "min_words"),
    ({"qtype": "truefalse", "text": "?"}, "answer"),
])
def test_bad_definitions_name_the_field(definition, field):
    with pytest.raises(ValidationError) as exc:
        clean(definition)
    assert field in exc.value.errors


def test_the_message_of_a_wrong_total_is_russian():
    with pytest.raises(ValidationError) as exc:
        clean({**PRIMES, "answers": [{"text": "2", "fraction": 0.5}, {"text": "3", "fraction": 0.4}]})
    assert exc.value.errors["answers"] == "Положительные доли должны давать в сумме 100%; сейчас 90%."


def test_true_false():
    q = clean({"qtype": "truefalse", "text": "Земля круглая", "answer": True, "feedback_false": "Нет, круглая"})
    assert qtypes.grade(q, True).state == "correct"
    assert qtypes.grade(q, "false") == qtypes.Outcome(0.0, "wrong", ("Нет, круглая",))
    assert qtypes.grade(q, "").state == "unanswered"


def test_short_answer_wildcards_case_and_order():
    q = clean({"qtype": "shortanswer", "text": "Автор «Евгения Онегина»?", "answers": [
        {"text": "Пушкин", "fraction": 1}, {"text": "*Пушкин*", "fraction": 0.5, "feedback": "Только фамилия"},
        {"text": "A\\*B", "fraction": 0.3}]})
    assert qtypes.grade(q, "  пушкин ").fraction == 1  # case ignored, spaces trimmed
    assert qtypes.grade(q, "А. С. Пушкин").fraction == 0.5
    assert qtypes.grade(q, "Лермонтов").state == "wrong"
    assert qtypes.grade(q, "A*B").fraction == 0.3 and qtypes.grade(q, "AxB").fraction == 0  # \\* is a star
    strict = clean({"qtype": "shortanswer", "text": "?", "case_sensitive": True, "answers": [{"text": "NaCl"}]})
    assert qtypes.grade(strict, "NaCl").fraction == 1 and qtypes.grade(strict, "nacl").fraction == 0


@given(st.text(min_size=1, max_size=30))
def test_a_short_answer_without_wildcards_matches_only_itself(text):
    assume("*" not in text and text.strip())
    pattern = qtypes.wildcard_pattern(" ".join(text.split()), case_sensitive=True)
    assert pattern.match(" ".join(text.split()))
    assert not pattern.match(" ".join(text.split()) + "x")


def test_numerical_tolerance_answers_in_order_and_units():
    q = clean({"qtype": "numerical", "text": "g, м/с²?", "answers": [
        {"value": "9,81", "tolerance": "0,01", "fraction": 1}, {"value": 10, "tolerance": 0.5, "fraction": 0.5},
        {"value": "*", "fraction": 0, "feedback": "Вспомните формулу"}]})
    assert qtypes.grade(q, "9,8").fraction == 1 and qtypes.grade(q, "9.82").fraction == 1
    assert qtypes.grade(q, "9,7").fraction == 0.5
    assert qtypes.grade(q, "12").feedback == ("Вспомните формулу",)
    assert qtypes.grade(q, "девять").state == "wrong"
    relative = clean({"qtype": "numerical", "text": "?", "tolerance_type": "relative",
                      "answers": [{"value": 200, "tolerance": 0.05}]})
    assert qtypes.grade(relative, "209").fraction == 1 and qtypes.grade(relative, "211").fraction == 0
    distance = clean({"qtype": "numerical", "text": "?", "answers": [{"value": 1500, "tolerance": 0}],
                      "units": [{"unit": "м", "multiplier": 1}, {"unit": "км", "multiplier": 0.001}],
                      "unit_required": True, "unit_penalty": 0.2})
    assert qtypes.grade(distance, "1,5 км").fraction == 1 and qtypes.grade(distance, "1500м").fraction == 1
    assert qtypes.grade(distance, "1500").fraction == pytest.approx(0.8)  # the unit is missing


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.floats(min_value=0, max_value=1e3),
       st.floats(min_value=0, max_value=1))
def test_a_number_within_the_tolerance_matches_and_one_beyond_does_not(value, tolerance, share):
    answer = {"value": value, "tolerance": tolerance, "fraction": 1}
    assert qtypes.Numerical.matches(answer, value + share * tolerance)
    assert qtypes.Numerical.matches(answer, value - share * tolerance)
    beyond = tolerance + 1e-6 * max(1.0, abs(value)) + 1e-3
    assert not qtypes.Numerical.matches(answer, value + beyond)


@pytest.mark.parametrize(("text", "value"), [("3,14", 3.14), ("-2", -2), ("1e3", 1000), ("1 000", 1000),
                                              (".5", 0.5), ("abc", None), ("", None), ("1,2,3", None)])
def test_numbers_are_read_as_people_type_them(text, value):
    assert qtypes.parse_number(text) == value


def test_matching_gives_a_share_per_pair_and_keeps_distractors():
    q = clean({"qtype": "matching", "text": "Столицы", "pairs": [
        {"stem": "Россия", "answer": "Москва"}, {"stem": "Франция", "answer": "Париж"},
        {"stem": "Италия", "answer": "Рим"}, {"stem": "", "answer": "Берлин"}]})
    assert qtypes.grade(q, {0: "Москва", 1: "Париж", 2: "Рим"}).state == "correct"
    assert qtypes.grade(q, {"0": "Москва", "1": "Берлин", "2": "Рим"}).fraction == pytest.approx(2 / 3)
    assert qtypes.grade(q, {}).state == "unanswered"
    assert "Берлин" in qtypes.qtype("matching").public(q)["choices"]


def test_ordering_by_position_or_all_or_nothing():
    q = clean({"qtype": "ordering", "text": "По порядку", "items": ["ШЭ", "МЭ", "РЭ", "ЗЭ"]})
    assert qtypes.grade(q, [0, 1, 2, 3]).state == "correct"
    assert qtypes.grade(q, [0, 1, 3, 2]).fraction == 0.5
    strict = clean({**q, "all_or_nothing": True})
    assert qtypes.grade(strict, [0, 1, 3, 2]).fraction == 0


def test_an_essay_waits_for_a_person_and_counts_words():
    q = clean({"qtype": "essay", "text": "Эссе", "min_words": 3, "max_words": 5})
    essay = qtypes.qtype("essay")
    assert qtypes.grade(q, "<p>Моё мнение такое</p>") == qtypes.Outcome(None, "manual")
    assert essay.check(q, "Два слова") == "Не меньше 3 слов; сейчас 2."
    assert essay.check(q, "раз два три четыре пять шесть").startswith("Не больше 5 слов")
    assert essay.check(q, "северо-запад — это одно слово, да") is None


def test_a_description_takes_no_answer():
    q = clean({"qtype": "description", "text": "Прочитайте текст"})
    assert qtypes.grade(q, "что угодно").fraction is None and not qtypes.qtype("description").graded


@pytest.mark.parametrize("definition", [CAPITAL, PRIMES])
def test_an_open_attempt_sees_no_fraction_or_feedback(definition):
    public = qtypes.qtype(definition["qtype"]).public(clean(definition))
    assert "fraction" not in str(public) and "Верно" not in str(public) and "Франция" not in str(public)


def test_an_unknown_type_is_refused():
    with pytest.raises(ValidationError) as exc:
        qtypes.qtype("hotspot")
    assert exc.value.field == "qtype"


CLOZE = ("Столица Франции — {1:SHORTANSWER:=Париж#Верно~%50%париж*#Почти}. "
         "Пи ≈ {2:NUMERICAL:=3.14:0.01}. Лучший ответ: {1:MC:неверно~=верно#Да\\~да~%-50%совсем нет}. "
         "Простые: {1:MULTIRESPONSE:%50%2~%50%3~%-100%4}.")


def test_cloze_parts_are_read_and_weighted():
    q = clean({"qtype": "cloze", "text": CLOZE})
    assert [(p["kind"], p["weight"]) for p in q["parts"]] == [
        ("shortanswer", 1), ("numerical", 2), ("multichoice", 1), ("multichoice", 1)]
    assert q["parts"][2]["answers"][1] == {"text": "верно", "fraction": 1.0, "feedback": "Да~да"}
    assert not q["parts"][3]["single"]
    everything = {"0": "Париж", "1": "3,14", "2": 1, "3": [0, 1]}
    assert qtypes.grade(q, everything).state == "correct"
    assert qtypes.grade(q, {**everything, "1": "3"}).fraction == pytest.approx(3 / 5)  # the weight-2 part wrong
    assert qtypes.grade(q, {**everything, "2": 2}).fraction == pytest.approx(4 / 5)  # a negative part counts as 0
    assert qtypes.grade(q, {}).state == "unanswered"
    public = qtypes.qtype("cloze").public(q)
    assert "{#1}" in public["text"] and "3.14" not in str(public) and "fraction" not in str(public)
    assert public["parts"][2]["choices"] == ["неверно", "верно", "совсем нет"]


@pytest.mark.parametrize(("text", "field"), [
    ("Без частей", "text"),
    ("{1:UNKNOWN:=а}", "parts-0"),
    ("{1:MC:а~б}", "parts-0-answers"),
    ("{1:NUMERICAL:=пять}", "parts-0-answers-0-value"),
])
def test_bad_cloze_parts_are_named(text, field):
    with pytest.raises(ValidationError) as exc:
        clean({"qtype": "cloze", "text": text})
    assert field in exc.value.errors


GAPS = {"qtype": "gapselect", "text": "[[1]] — столица России, [[2]] — столица Франции, в [[3]] живёт больше людей.",
        "options": [{"text": "Москва", "group": 1}, {"text": "Париж", "group": 1}, {"text": "Москве", "group": 2},
                    {"text": "Берлин", "group": 1}, {"text": "Париже", "group": 2}]}


def test_select_missing_words():
    q = clean(GAPS)
    assert qtypes.grade(q, {"0": "1", "1": "2", "2": "3"}).state == "correct"
    assert qtypes.grade(q, {0: 1, 1: 4, 2: 3}).fraction == pytest.approx(2 / 3)
    assert qtypes.grade(q, {}).state == "unanswered"
    public = qtypes.qtype("gapselect").public(q)
    assert public["text"].startswith("{#0} — столица")
    assert [text for _i, text in public["gaps"][2]] == ["Москве", "Париже"]  # the third gap offers its group only
    assert "fraction" not in str(public)


@pytest.mark.parametrize(("definition", "field"), [
    ({**GAPS, "text": "Без пропусков"}, "text"),
    ({**GAPS, "text": "[[9]]"}, "text"),
    ({**GAPS, "options": [{"text": "", "group": 1}]}, "options-0-text"),
    ({**GAPS, "options": [{"text": "А", "group": 30}]}, "options-0-group"),
])
def test_bad_gaps_are_named(definition, field):
    with pytest.raises(ValidationError) as exc:
        clean(definition)
    assert field in exc.value.errors


@pytest.mark.parametrize("definition", [
    {"qtype": "multichoice", "text": "?", "answers": "строка"},
    {"qtype": "matching", "text": "?", "pairs": ["а", "б"]},
    {"qtype": "gapselect", "text": "[[1]]", "options": [1, 2]},
    {"qtype": "numerical", "text": "?", "answers": [["1"]], "units": "м"},
])
def test_a_definition_of_the_wrong_shape_is_refused_not_crashed(definition):
    with pytest.raises(ValidationError):
        clean(definition)


SHAPES = ["x", 5, [1], ["a"], [None], [[1]], {"a": 1}, [{"text": [1]}], [{"fraction": "x"}], None, True, [{}]]
KEYS = ["answers", "pairs", "items", "options", "parts", "files", "rubric", "answer", "single", "min_words",
        "tolerance_type", "units", "text"]


@pytest.mark.parametrize("name", sorted(qtypes.REGISTRY))
def test_a_definition_of_any_shape_is_checked_never_a_crash(app, name):
    """JSON of another shape (a string where a list of rows belongs, a number for a list…) in any key of any
    type is bad input named by a field — the API passes such definitions on as they come."""
    with app.test_request_context():
        for key in KEYS:
            for value in SHAPES:
                text = "Вопрос {1:SA:=да}" if name == "cloze" else "Вопрос"
                try:
                    qtypes.qtype(name).clean({"qtype": name, "text": text, key: value})
                except ValidationError as exc:
                    assert exc.errors, (key, value)
