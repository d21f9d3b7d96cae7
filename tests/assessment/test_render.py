"""What a learner sees of a question: tokens instead of bank positions, the answer read back from the form
and the form filled again from the answer, for every type; the page's HTML carries no right answer."""

from __future__ import annotations

import random

import pytest
from flask import render_template_string
from werkzeug.datastructures import MultiDict

from lms.assessment import qtypes, render


@pytest.fixture(autouse=True)
def _russian(app):
    with app.test_request_context():
        yield


def clean(definition: dict) -> dict:
    return qtypes.qtype(definition["qtype"]).clean(definition)


DEFINITIONS = {
    "truefalse": ({"qtype": "truefalse", "text": "Земля круглая", "answer": True}, True),
    "multichoice": ({"qtype": "multichoice", "text": "Столица?", "answers": [
        {"text": "Москва", "fraction": 1}, {"text": "Казань", "fraction": 0}, {"text": "Тверь", "fraction": 0}]}, 0),
    "multiple": ({"qtype": "multichoice", "text": "Простые", "single": False, "answers": [
        {"text": "2", "fraction": 0.5}, {"text": "3", "fraction": 0.5}, {"text": "4", "fraction": -1}]}, [0, 1]),
    "shortanswer": ({"qtype": "shortanswer", "text": "Автор «Онегина»", "answers": [
        {"text": "Пушкин", "fraction": 1}]}, "Пушкин"),
    "numerical": ({"qtype": "numerical", "text": "π", "answers": [
        {"value": "3.14", "tolerance": "0.01", "fraction": 1}]}, "3,14"),
    "matching": ({"qtype": "matching", "text": "Столицы", "pairs": [
        {"stem": "Франция", "answer": "Париж"}, {"stem": "Италия", "answer": "Рим"},
        {"stem": "", "answer": "Мадрид"}]}, {"0": "Париж", "1": "Рим"}),
    "ordering": ({"qtype": "ordering", "text": "По порядку", "items": ["один", "два", "три", "четыре"]},
                 [0, 1, 2, 3]),
    "essay": ({"qtype": "essay", "text": "Эссе", "min_words": 3}, "Мой ответ из слов"),
    "cloze": ({"qtype": "cloze", "text": "Столица {1:SHORTANSWER:=Москва} — {1:MULTICHOICE:=да~нет} и "
                                         "{1:MULTIRESPONSE:%50%а~%50%б~%-100%в}"},
              {"0": "Москва", "1": 0, "2": [0, 1]}),
    "gapselect": ({"qtype": "gapselect", "text": "[[1]] и [[2]]", "options": [
        {"text": "кошка", "group": 1}, {"text": "собака", "group": 1}, {"text": "мышь", "group": 1}]},
        {"0": "1", "1": "2"}),
}


@pytest.mark.parametrize("kind", sorted(DEFINITIONS))
def test_an_answer_goes_through_the_form_and_back(kind):
    raw, response = DEFINITIONS[kind]
    definition = clean(raw)
    for seed in range(5):
        order = render.make_order(definition, random.Random(seed))
        values = render.form_values(definition, order, response, "q1")
        form = MultiDict([(k, x) for k, v in values.items() for x in (v if isinstance(v, list) else [v])])
        back = render.response_from_form(definition, order, form, "q1")
        if kind == "numerical":
            assert back == "3,14"
        else:
            assert back == response, (seed, order, values)
        assert qtypes.grade(definition, back).fraction == 1.0 or kind == "essay"


@pytest.mark.parametrize("kind", sorted(DEFINITIONS))
def test_the_page_names_no_right_answer(kind):
    raw, _response = DEFINITIONS[kind]
    definition = clean(raw)
    view = render.view(definition, render.make_order(definition, random.Random(1)))
    page = render_template_string('{% from "assessment/_question.html" import question %}{{ question(v, "q1") }}',
                                  v=view)
    assert "fraction" not in page and "feedback" not in page
    assert 'name="q1' in page or kind == "description"
    for word in ("correct", "right", "answer\"", "1.0"):
        assert word not in str(view)


def test_tokens_are_places_on_the_page_not_in_the_bank():
    definition = clean(DEFINITIONS["gapselect"][0])
    tokens_seen = set()
    for seed in range(20):
        order = render.make_order(definition, random.Random(seed))
        view = render.view(definition, order)
        right = [render.form_values(definition, order, {"0": "1"}, "q")["q-0"]]
        tokens_seen.update(right)
        assert [o["text"] for o in view["gaps"][0]] == sorted(o["text"] for o in view["gaps"][0])
    assert len(tokens_seen) > 1  # the right option's token changes from attempt to attempt
    ordering = clean(DEFINITIONS["ordering"][0])
    for seed in range(20):
        assert render.make_order(ordering, random.Random(seed))["items"] != [0, 1, 2, 3]


def test_strangers_in_the_form_are_dropped():
    definition = clean(DEFINITIONS["multichoice"][0])
    order = {"choices": [2, 0, 1]}
    assert render.response_from_form(definition, order, MultiDict({"q": "7"}), "q") is None
    assert render.response_from_form(definition, order, MultiDict({"q": "1"}), "q") == 0
    matching = clean(DEFINITIONS["matching"][0])
    assert render.response_from_form(matching, None, MultiDict({"q-0": "<script>"}), "q") == {}
    ordering = clean(DEFINITIONS["ordering"][0])
    assert render.response_from_form(ordering, None, MultiDict({"q-0": "1"}), "q") is None  # not every place


def test_text_formats_and_images():
    png = "iVBORw0KGgo="
    html = render.text_html('<p>См. <img src="@@PLUGINFILE@@/a.png" alt="схема"><script>x()</script></p>', "html",
                            [{"name": "a.png", "data": png}])
    assert f"data:image/png;base64,{png}" in html and "<script>" not in html
    assert render.text_html("a < b\n\nвторой", "plain") == "<p>a &lt; b</p><p>второй</p>"
    assert render.text_html("строка\nещё", "moodle") == "строка<br>ещё"


def test_right_answer_and_response_in_words():
    cloze = clean(DEFINITIONS["cloze"][0])
    assert render.right_answer(cloze) == "Москва; да; а; б"
    assert render.response_text(cloze, {"0": "Москва", "1": 1}) == "Москва; нет"
    assert render.right_answer(clean(DEFINITIONS["numerical"][0])) == "3,14 ± 0,01"
    assert render.right_answer(clean(DEFINITIONS["gapselect"][0])) == "кошка; собака"
