"""Moodle XML: every supported type read as Moodle writes it, embedded images, categories, unsupported types
and bad questions reported, hostile XML refused, and export → import round trips (also with GIFT)."""

from __future__ import annotations

import base64

import pytest

from lms.assessment import gift, moodle_xml, qtypes


@pytest.fixture(autouse=True)
def _russian(app):
    with app.test_request_context():
        yield


PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20).decode()

SAMPLE = f"""<?xml version="1.0" encoding="UTF-8"?>
<quiz>
  <question type="category"><category><text>$course$/top/Олимпиада/Физика</text></category></question>
  <question type="multichoice">
    <name><text>Скорость света</text></name>
    <questiontext format="html"><text><![CDATA[<p>Скорость света? <img src="@@PLUGINFILE@@/c.png"></p>]]></text>
      <file name="c.png" path="/" encoding="base64">{PNG}</file></questiontext>
    <generalfeedback format="html"><text>≈ 300 000 км/с</text></generalfeedback>
    <single>true</single><shuffleanswers>false</shuffleanswers>
    <answer fraction="100" format="html"><text>300 000 км/с</text><feedback><text>Верно</text></feedback></answer>
    <answer fraction="0" format="html"><text>300 км/с</text><feedback><text/></feedback></answer>
    <answer fraction="-33.33333" format="html"><text>3 км/с</text></answer>
  </question>
  <question type="truefalse">
    <name><text>Звук в вакууме</text></name>
    <questiontext format="moodle_auto_format"><text>Звук распространяется в вакууме.</text></questiontext>
    <answer fraction="0"><text>true</text><feedback><text>Нет: нужна среда</text></feedback></answer>
    <answer fraction="100"><text>false</text><feedback><text>Верно</text></feedback></answer>
  </question>
  <question type="shortanswer">
    <name><text>Единица силы</text></name>
    <questiontext format="plain_text"><text>Единица силы в СИ?</text></questiontext>
    <usecase>0</usecase>
    <answer fraction="100"><text>ньютон</text></answer>
    <answer fraction="50"><text>Н*</text><feedback><text>Полностью: ньютон</text></feedback></answer>
  </question>
  <question type="numerical">
    <name><text>Путь</text></name>
    <questiontext format="html"><text>Сколько метров в 1,5 км?</text></questiontext>
    <answer fraction="100"><text>1500</text><tolerance>0</tolerance></answer>
    <answer fraction="0"><text>*</text><tolerance>0</tolerance><feedback><text>Километр — тысяча метров</text></feedback></answer>
    <units><unit><multiplier>1</multiplier><unit_name>м</unit_name></unit>
      <unit><multiplier>0.001</multiplier><unit_name>км</unit_name></unit></units>
    <unitgradingtype>1</unitgradingtype><unitpenalty>0.2</unitpenalty>
  </question>
  <question type="matching">
    <name><text>Учёные</text></name>
    <questiontext format="html"><text>Сопоставьте</text></questiontext>
    <subquestion format="html"><text>Закон тяготения</text><answer><text>Ньютон</text></answer></subquestion>
    <subquestion format="html"><text>Теория относительности</text><answer><text>Эйнштейн</text></answer></subquestion>
    <subquestion format="html"><text></text><answer><text>Дарвин</text></answer></subquestion>
  </question>
  <question type="essay">
    <name><text>Эссе</text></name>
    <questiontext format="html"><text>Почему небо голубое?</text></questiontext>
    <minwordlimit>20</minwordlimit><maxwordlimit>200</maxwordlimit><attachments>1</attachments>
    <graderinfo format="html"><text>Рэлеевское рассеяние</text></graderinfo>
  </question>
  <question type="description">
    <name><text>Введение</text></name>
    <questiontext format="html"><text>Прочитайте условие.</text></questiontext>
  </question>
  <question type="calculated">
    <name><text>Формула</text></name>
    <questiontext format="html"><text>{{a}} + {{b}}</text></questiontext>
  </question>
  <question type="multichoice">
    <name><text>Без верного</text></name>
    <questiontext format="html"><text>?</text></questiontext>
    <single>true</single>
    <answer fraction="50"><text>А</text></answer><answer fraction="0"><text>Б</text></answer>
  </question>
</quiz>
"""


def test_every_supported_type_is_read():
    result = moodle_xml.parse(SAMPLE)
    by_name = {q.name: q.definition for q in result.questions}
    light = by_name["Скорость света"]
    assert light["files"] == [{"name": "c.png", "data": PNG}] and "@@PLUGINFILE@@/c.png" in light["text"]
    assert [a["fraction"] for a in light["answers"]] == [1, 0, pytest.approx(-1 / 3)]
    assert light["general_feedback"] == "≈ 300 000 км/с" and not light["shuffle"]
    assert result.questions[0].category == "Олимпиада/Физика"
    sound = by_name["Звук в вакууме"]
    assert sound["answer"] is False and sound["feedback_true"] == "Нет: нужна среда"
    assert by_name["Единица силы"]["format"] == "plain"
    assert qtypes.grade(by_name["Единица силы"], "Н·м").fraction == 0.5
    path = by_name["Путь"]
    assert qtypes.grade(path, "1,5 км").state == "correct" and qtypes.grade(path, "1500").fraction == 0.8
    assert qtypes.grade(path, "15 м").feedback == ("Километр — тысяча метров",)
    assert by_name["Учёные"]["pairs"][2] == {"stem": "", "answer": "Дарвин"}
    essay = by_name["Эссе"]
    assert (essay["min_words"], essay["max_words"], essay["attachments"]) == (20, 200, 1)
    assert by_name["Введение"]["qtype"] == "description"
    errors = dict(result.errors)
    assert "calculated" in errors[9] and "Без верного" in errors[10]


@pytest.mark.parametrize("xml", [
    b'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY x "xxxxxxxxxx">]><quiz>&x;</quiz>',
    b'<?xml version="1.0"?><!DOCTYPE quiz SYSTEM "file:///etc/passwd"><quiz/>',
    b'<?xml version="1.0"?><!DOCTYPE q [<!ENTITY e SYSTEM "file:///etc/passwd">]><quiz>&e;</quiz>',
])
def test_hostile_xml_is_refused(xml):
    result = moodle_xml.parse(xml)
    assert not result.questions and "DTD" in result.errors[0][1]


def test_broken_huge_or_foreign_files_are_refused_with_a_reason():
    assert "XML" in moodle_xml.parse(b"<quiz><question></quiz>").errors[0][1]
    assert moodle_xml.parse(b"<x/>" + b" " * moodle_xml.MAX_BYTES).errors[0][0] == 0
    assert "<quiz>" in moodle_xml.parse(b"<questions/>").errors[0][1]


def test_a_bad_embedded_file_is_named():
    xml = SAMPLE.replace(f">{PNG}<", ">не base64!<")
    errors = dict(moodle_xml.parse(xml).errors)
    assert "c.png" in errors[2]


def test_export_then_import_gives_the_same_questions():
    first = moodle_xml.parse(SAMPLE)
    again = moodle_xml.parse(moodle_xml.export([(q.category, q.name, q.definition) for q in first.questions]))
    assert again.errors == []
    assert [q.definition for q in again.questions] == [q.definition for q in first.questions]
    assert {q.category for q in again.questions} == {"Олимпиада/Физика"}


def test_gift_questions_travel_through_moodle_xml():
    from tests.assessment.test_gift import SAMPLE as GIFT_SAMPLE

    first = [q for q in gift.parse(GIFT_SAMPLE).questions]
    again = moodle_xml.parse(moodle_xml.export([(q.category, q.name, q.definition) for q in first]))
    assert again.errors == []
    assert [q.definition for q in again.questions] == [q.definition for q in first]


def test_embedded_answers_are_read_and_written():
    from tests.assessment.test_qtypes import CLOZE

    xml = ('<quiz><question type="cloze"><name><text>Сборный</text></name><questiontext format="html"><text>'
           + CLOZE.replace("&", "&amp;").replace("<", "&lt;") + "</text></questiontext></question></quiz>")
    first = moodle_xml.parse(xml)
    assert first.errors == [] and len(first.questions[0].definition["parts"]) == 4
    again = moodle_xml.parse(moodle_xml.export([("", q.name, q.definition) for q in first.questions]))
    assert [q.definition for q in again.questions] == [q.definition for q in first.questions]


def test_select_missing_words_travel_through_moodle_xml():
    from tests.assessment.test_qtypes import GAPS

    definition = qtypes.qtype("gapselect").clean(GAPS)
    again = moodle_xml.parse(moodle_xml.export([("", "Пропуски", definition)]))
    assert again.errors == [] and again.questions[0].definition == definition
