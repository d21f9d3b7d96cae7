"""GIFT: every syntax feature read into question definitions, bad questions reported by line while the good
ones are kept, and export → import round trips."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from lms.assessment import gift, qtypes


@pytest.fixture(autouse=True)
def _russian(app):
    with app.test_request_context():
        yield


SAMPLE = r"""// Банк муниципальной олимпиады
$CATEGORY: Олимпиада/Математика

::Столица::Столица России?{=Москва#Верно! ~Казань#Нет ~%-50%Париж#Это Франция####Столица — Москва.}

::Простые::[html]<p>Какие числа простые?</p>{~%50%2 ~%50%3 ~%-100%4}

Земля вращается вокруг Солнца.{T}

::ЛожьСОтзывами::Солнце — планета.{FALSE#Подумайте ещё#Верно, это звезда}

::Автор::Кто написал «Евгения Онегина»?{=Пушкин =%50%*Пушкин*#Достаточно фамилии}

::Пи::Число π до сотых{#3.14:0.005}

::Диапазон::Назовите число от 1 до 5{#1..5}

::Несколько::Ускорение свободного падения{#=9.81:0.01 =%50%10:0.5#Грубо \~ но близко}

::Пары::Сопоставьте{=Россия -> Москва =Франция -> Париж =Италия -> Рим}

Пушкин родился в {~Санкт-Петербурге =Москве ~Казани} в 1799 году.

::Эссе::Опишите ваш урок.{}

::Экраны::Знаки \~ \= \# \{ \} \: и перенос\nстроки{=да}

Прочитайте текст ниже.
"""


def test_every_feature_is_read():
    result = gift.parse(SAMPLE)
    assert result.errors == []
    by_name = {q.name: q for q in result.questions}
    capital = by_name["Столица"].definition
    assert capital["qtype"] == "multichoice" and capital["single"]
    assert [a["fraction"] for a in capital["answers"]] == [1, 0, -0.5]
    assert capital["answers"][2]["feedback"] == "Это Франция"
    assert capital["general_feedback"] == "Столица — Москва."
    assert by_name["Столица"].category == "Олимпиада/Математика" and by_name["Столица"].line == 4
    primes = by_name["Простые"].definition
    assert not primes["single"] and primes["format"] == "html" and primes["text"] == "<p>Какие числа простые?</p>"
    true = next(q.definition for q in result.questions if q.definition["qtype"] == "truefalse" and q.definition["answer"])
    assert true["text"] == "Земля вращается вокруг Солнца."
    false = by_name["ЛожьСОтзывами"].definition
    assert false["answer"] is False and false["feedback_true"] == "Подумайте ещё"
    assert false["feedback_false"] == "Верно, это звезда"
    author = by_name["Автор"].definition
    assert author["qtype"] == "shortanswer" and author["answers"][1] == {
        "text": "*Пушкин*", "fraction": 0.5, "feedback": "Достаточно фамилии"}
    assert qtypes.grade(by_name["Пи"].definition, "3,144").state == "correct"
    assert qtypes.grade(by_name["Диапазон"].definition, "4,9").state == "correct"
    assert qtypes.grade(by_name["Диапазон"].definition, "5,1").state == "wrong"
    several = by_name["Несколько"].definition
    assert [(a["value"], a["fraction"]) for a in several["answers"]] == [(9.81, 1), (10, 0.5)]
    assert several["answers"][1]["feedback"] == "Грубо ~ но близко"
    assert by_name["Пары"].definition["pairs"][2] == {"stem": "Италия", "answer": "Рим"}
    missing = next(q.definition for q in result.questions if "1799" in q.definition["text"])
    assert missing["text"] == "Пушкин родился в _____ в 1799 году." and missing["qtype"] == "multichoice"
    assert by_name["Эссе"].definition["qtype"] == "essay"
    assert by_name["Экраны"].definition["text"] == "Знаки ~ = # { } : и перенос\nстроки"
    assert result.questions[-1].definition["qtype"] == "description"


def test_bad_questions_are_named_by_line_and_the_good_ones_kept():
    text = ("::Хороший::2+2?{=4 ~5}\n\n"
            "::Без закрытия::2+3?{=5 ~6\n\n"
            "::Без верного::2+4?{~5 ~7}\n\n"
            "::Плохое число::Пи?{#три:0.1}\n\n"
            "::Два набора::А{=1} и Б{=2}\n")
    result = gift.parse(text)
    assert [q.name for q in result.questions] == ["Хороший"]
    lines = [line for line, _reason in result.errors]
    assert lines == [3, 5, 7, 9]
    reasons = dict(result.errors)
    assert "}" in reasons[3] and "100%" in reasons[5] and "три" in reasons[7]


def test_a_huge_or_undecodable_file_is_refused():
    assert gift.parse(b"x" * (gift.MAX_BYTES + 1)).errors[0][0] == 0
    assert "UTF-8" in gift.parse("Вопрос{=да}".encode("cp1251")).errors[0][1]


def test_export_then_import_gives_the_same_questions():
    first = gift.parse(SAMPLE)
    text = gift.export([(q.category, q.name, q.definition) for q in first.questions])
    again = gift.parse(text)
    assert again.errors == []
    assert [q.definition for q in again.questions] == [q.definition for q in first.questions]
    assert [q.category for q in again.questions] == [q.category for q in first.questions]


@pytest.mark.parametrize("text", ["a ~ b = c # d { e } f : g", "обратная \\ черта", "строка\nдругая"])
def test_escaped_text_comes_back_unchanged(text):
    definition = qtypes.qtype("shortanswer").clean({"text": text, "answers": [{"text": text}]})
    again = gift.parse(gift.export([("", "Экраны", definition)])).questions[0].definition
    assert again["text"] == text and again["answers"][0]["text"] == text


@given(st.text(alphabet=st.sampled_from(list("абвxyz019 ~=#{}:\\\n%-.")), min_size=1, max_size=40))
def test_any_text_survives_a_round_trip(text):
    text = text.strip()
    assume(text and not text.startswith("%"))
    definition = qtypes.qtype("shortanswer").clean({"text": text, "answers": [{"text": text}]})
    again = gift.parse(gift.export([("", "Q", definition)]))
    assert again.errors == [] and again.questions[0].definition == definition


def test_what_gift_cannot_express_is_left_as_a_comment():
    from tests.assessment.test_qtypes import CLOZE

    cloze = qtypes.qtype("cloze").clean({"text": CLOZE})
    essay = qtypes.qtype("essay").clean({"text": "Эссе"})
    text = gift.export([("", "Сборный", cloze), ("", "Эссе", essay)])
    assert text.startswith("// «Сборный»") and "Moodle XML" in text.splitlines()[0]
    assert [q.name for q in gift.parse(text).questions] == ["Эссе"]
