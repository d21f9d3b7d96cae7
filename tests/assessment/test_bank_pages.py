"""The question-bank pages: who sees which bank (another organization's bank does not exist for them), creating
banks, the category tree, the question list's filters, import with a preview that writes nothing until it is
confirmed, export, the editor for every question type (a saved edit is a new version; a wrong field is named and
nothing is stored), moving and copying questions between banks, and the preview as a learner."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from lms.assessment import banks, qtypes
from lms.assessment import routes_banks as pages
from lms.assessment.models import Question, QuestionBank, QuestionCategory, QuestionVersion
from lms.core.audit import AuditEvent
from lms.core.storage import get_storage
from lms.extensions import db
from tests.assessment.test_gift import SAMPLE
from tests.helpers import count, field_error, text_of


def make_bank(org, by, name="Банк школы"):
    bank = banks.create_bank(name=name, organization=org, by=by)
    db.session.commit()
    return bank


@pytest.fixture
def bank(world):
    return make_bank(world.school_a, world.methodologist_a, "Олимпиада школы А")


@pytest.fixture
def other_bank(world):
    """A bank of the other municipality's school."""
    return make_bank(world.school_c, world.admin_c, "Банк школы В")


def tf(bank, text="Земля круглая", **meta):
    q = banks.add_question(bank, {"qtype": "truefalse", "text": text, "answer": True}, by=None, name=text, **meta)
    db.session.commit()
    return q


def names(response) -> set[str]:
    """The question names listed on a bank page."""
    return set(re.findall(r'<a href="/questions/\d+">([^<]+)</a>', response.get_data(as_text=True)))


# --- who sees which bank ----------------------------------------------------------------------------------

def test_the_list_shows_own_shared_and_no_strangers_banks(client, world, login_as, bank, other_bank):
    login_as(client, world.methodologist_a)
    page = text_of(client.get("/banks"))
    assert bank.name in page and other_bank.name not in page
    assert client.get(f"/banks/{other_bank.id}").status_code == 404  # not even shown to exist
    assert client.get(f"/banks/{other_bank.id}/export?format=gift").status_code == 404
    q = tf(other_bank, "Чужой вопрос")
    assert client.get(f"/questions/{q.id}").status_code == 404
    assert client.get(f"/questions/{q.id}/edit").status_code == 404

    other = client.application.test_client()
    login_as(other, world.admin_b)
    assert bank.name not in text_of(other.get("/banks"))
    assert other.get(f"/banks/{bank.id}").status_code == 404
    banks.share(bank, [world.school_b.id], by=world.admin_a)
    db.session.commit()
    listed = text_of(other.get("/banks"))
    assert bank.name in listed
    assert other.get(f"/banks/{bank.id}").status_code == 200
    # Shared for use: read, export and copy, never change.
    assert other.get(f"/banks/{bank.id}/questions/new?qtype=essay").status_code == 403
    assert other.get(f"/banks/{bank.id}/import").status_code == 403
    assert other.post(f"/banks/{bank.id}/categories", data={"cat-name": "Чужая"}).status_code == 403
    assert count(QuestionCategory) == 0


def test_students_have_no_banks_and_no_menu_entry(client, world, login_as, bank):
    login_as(client, world.student_a)
    assert client.get("/banks").status_code == 403
    assert client.get(f"/banks/{bank.id}").status_code == 404
    assert 'href="/banks"' not in client.get("/").get_data(as_text=True)
    teacher = client.application.test_client()
    login_as(teacher, world.teacher_a)
    assert 'href="/banks"' in teacher.get("/").get_data(as_text=True)


def test_a_bank_is_created_in_an_organization_of_ones_own(client, world, login_as):
    login_as(client, world.methodologist_a)
    assert client.get("/banks/new").status_code == 200
    empty = client.post("/banks/new", data={"organization": str(world.school_a.id), "name": "  "})
    assert empty.status_code == 422 and field_error(empty, "name") and count(QuestionBank) == 0
    assert client.post("/banks/new", data={"organization": str(world.school_b.id),
                                           "name": "Чужой"}).status_code == 403
    assert client.post("/banks/new", data={"organization": "", "name": "Без школы"}).status_code == 422
    done = client.post("/banks/new", data={"organization": str(world.school_a.id), "name": "Физика 7",
                                           "description": "Задачи"})
    created = db.session.scalar(select(QuestionBank))
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/banks/{created.id}")
    assert (created.name, created.organization_id, created.created_by_id) == (
        "Физика 7", world.school_a.id, world.methodologist_a.id)
    assert count(QuestionBank) == 1


# --- categories -----------------------------------------------------------------------------------------

def test_categories_are_added_renamed_moved_and_deleted_when_empty(client, world, login_as, bank):
    login_as(client, world.teacher_a)
    assert client.post(f"/banks/{bank.id}/categories", data={"cat-name": "Алгебра"}).status_code == 302
    algebra = db.session.scalar(select(QuestionCategory).where(QuestionCategory.name == "Алгебра"))
    assert client.post(f"/banks/{bank.id}/categories",
                       data={"cat-name": "Дроби", "cat-parent": str(algebra.id)}).status_code == 302
    fractions = db.session.scalar(select(QuestionCategory).where(QuestionCategory.name == "Дроби"))
    assert fractions.parent_id == algebra.id
    for bad in ({"cat-name": ""}, {"cat-name": "Алгебра"}, {"cat-name": "а/б"},
                {"cat-name": "Ещё", "cat-parent": "987654"}):
        refused = client.post(f"/banks/{bank.id}/categories", data=bad)
        assert refused.status_code == 422, bad
        assert field_error(refused, "cat-name") or field_error(refused, "cat-parent")
    assert count(QuestionCategory) == 2

    page = text_of(client.get(f"/banks/{bank.id}"))
    assert "Алгебра" in page and "Алгебра/Дроби" in page  # the tree and the paths of the filter
    into_itself = client.post(f"/categories/{algebra.id}/edit", data={"name": "Алгебра", "parent": str(fractions.id)})
    assert into_itself.status_code == 422 and field_error(into_itself, "parent")
    assert client.post(f"/categories/{fractions.id}/edit", data={"name": "Обыкновенные дроби",
                                                                  "parent": ""}).status_code == 302
    db.session.refresh(fractions)
    assert (fractions.name, fractions.parent_id) == ("Обыкновенные дроби", None)

    tf(bank, "Вопрос в алгебре", category=algebra)
    refused = client.post(f"/categories/{algebra.id}/delete")
    assert refused.status_code == 422 and db.session.get(QuestionCategory, algebra.id) is not None
    fractions_id = fractions.id
    assert client.post(f"/categories/{fractions_id}/delete").status_code == 302
    assert db.session.scalar(select(QuestionCategory).where(QuestionCategory.id == fractions_id)) is None


# --- the list of questions ----------------------------------------------------------------------------

def test_the_question_list_filters_and_pages(client, world, login_as, bank):
    maths = banks.category_path(bank, "Математика")
    fractions = banks.category_path(bank, "Математика/Дроби")
    physics = banks.category_path(bank, "Физика")
    tf(bank, "Дробь один", category=fractions, tags=["ВсОШ", "дроби"], subject="Математика", grade=5,
       difficulty="easy")
    tf(bank, "Уравнение", category=maths, tags=["ВсОШ"], subject="Математика", grade=7, difficulty="hard")
    tf(bank, "Сила тока", category=physics, tags=["ОГЭ"], subject="Физика", grade=8)
    banks.add_question(bank, {"qtype": "essay", "text": "Опишите опыт с маятником"}, by=None, name="Эссе")
    db.session.commit()
    login_as(client, world.methodologist_a)
    url = f"/banks/{bank.id}"
    assert names(client.get(url)) == {"Дробь один", "Уравнение", "Сила тока", "Эссе"}
    assert names(client.get(f"{url}?category={maths.id}")) == {"Дробь один", "Уравнение"}  # with subcategories
    assert names(client.get(f"{url}?category=none")) == {"Эссе"}
    assert names(client.get(f"{url}?qtype=essay")) == {"Эссе"}
    assert names(client.get(f"{url}?tag=ВсОШ")) == {"Дробь один", "Уравнение"}
    assert names(client.get(f"{url}?tag=дроби")) == {"Дробь один"}
    assert names(client.get(f"{url}?subject=Физика")) == {"Сила тока"}
    assert names(client.get(f"{url}?grade=7")) == {"Уравнение"}
    assert names(client.get(f"{url}?difficulty=easy")) == {"Дробь один"}
    assert names(client.get(f"{url}?q=маятник")) == {"Эссе"}  # the text, not only the name
    assert names(client.get(f"{url}?q=УРАВН")) == {"Уравнение"}
    assert names(client.get(f"{url}?q=100%25")) == set()
    # Unknown filter values are ignored rather than failing.
    assert len(names(client.get(f"{url}?category=abc&grade=99&qtype=nope&difficulty=x"))) == 4

    for n in range(pages.QUESTIONS_PER_PAGE + 5):
        banks.add_question(bank, {"qtype": "essay", "text": f"Вопрос {n:03d}"}, by=None, name=f"Вопрос {n:03d}")
    db.session.commit()
    first, second = client.get(f"{url}?qtype=essay"), client.get(f"{url}?qtype=essay&page=2")
    assert len(names(first)) == pages.QUESTIONS_PER_PAGE and len(names(second)) == 6
    assert "qtype=essay" in re.search(r'<a href="([^"]+)" rel="next"', first.get_data(as_text=True)).group(1)


def test_percent_and_underscore_in_a_filter_are_taken_literally(client, world, login_as, bank):
    tf(bank, "Скидка 50% на всё", tags=["5_класс"])
    tf(bank, "Скидка 500 рублей", tags=["5-класс", "5x класс"])
    tf(bank, "Скидка 50 процентов", tags=["5класс"])
    banks.add_question(bank, {"qtype": "essay", "text": "Решите: a_b = ?"}, by=None, name="Эссе")
    db.session.commit()
    login_as(client, world.methodologist_a)
    url = f"/banks/{bank.id}"
    assert names(client.get(f"{url}?q=50%25")) == {"Скидка 50% на всё"}
    assert names(client.get(f"{url}?q=%25")) == {"Скидка 50% на всё"}
    assert names(client.get(f"{url}?q=a_b")) == {"Эссе"}  # in the text
    assert names(client.get(f"{url}?q=_")) == {"Эссе"}
    assert names(client.get(f"{url}?q=0_")) == set()
    assert names(client.get(f"{url}?tag=5_класс")) == {"Скидка 50% на всё"}
    assert names(client.get(f"{url}?tag=5%25")) == set()
    assert names(client.get(f"{url}?q=/")) == set()  # the escape character itself is plain too


def test_sharing_offers_the_municipality_and_refuses_strangers(client, world, login_as, bank):
    login_as(client, world.methodologist_a)
    page = text_of(client.get(f"/banks/{bank.id}"))
    assert "Школа Б" in page and "Школа В" not in page  # the other municipality is not offered
    stranger = client.post(f"/banks/{bank.id}/share", data={"organizations": [str(world.school_c.id)]})
    assert stranger.status_code == 422 and field_error(stranger, "organizations") and not bank.shares
    assert client.post(f"/banks/{bank.id}/share",
                       data={"organizations": [str(world.school_b.id)]}).status_code == 302
    db.session.refresh(bank)
    assert [s.organization_id for s in bank.shares] == [world.school_b.id]
    shared = client.application.test_client()
    login_as(shared, world.admin_b)
    assert shared.post(f"/banks/{bank.id}/share", data={"organizations": []}).status_code == 403


# --- import and export -----------------------------------------------------------------------------------

def upload(client, bank, data: bytes | str, filename="bank.gift"):
    raw = data.encode() if isinstance(data, str) else data
    return client.post(f"/banks/{bank.id}/import", data={"file": (io.BytesIO(raw), filename)},
                       content_type="multipart/form-data")


def confirm_fields(response) -> dict:
    html = response.get_data(as_text=True)
    return {name: re.search(rf'name="{name}" value="([^"]*)"', html).group(1) for name in ("digest", "format")}


def test_the_import_preview_writes_nothing_until_confirmed(client, world, login_as, bank):
    login_as(client, world.methodologist_a)
    assert client.get(f"/banks/{bank.id}/import").status_code == 200
    preview = upload(client, bank, SAMPLE)
    page = text_of(preview)
    assert preview.status_code == 200 and "13" in page and "Олимпиада/Математика" in page and "Столица" in page
    assert count(Question) == 0 and count(QuestionCategory) == 0  # nothing written by the preview
    fields = confirm_fields(preview)

    # Nobody else can confirm this person's checked file, nor a file that was not checked.
    teacher = client.application.test_client()
    login_as(teacher, world.teacher_a)
    assert teacher.post(f"/banks/{bank.id}/import/confirm", data=fields).status_code == 422
    forged = client.post(f"/banks/{bank.id}/import/confirm", data={**fields, "digest": "0" * 64})
    assert forged.status_code == 422 and field_error(forged, "file") and count(Question) == 0

    done = client.post(f"/banks/{bank.id}/import/confirm", data=fields)
    assert done.status_code == 302 and count(Question) == 13 and count(QuestionVersion) == 13
    assert set(banks.category_paths(bank).values()) == {"Олимпиада", "Олимпиада/Математика"}
    again = client.post(f"/banks/{bank.id}/import/confirm", data=fields)  # the kept file is gone
    assert again.status_code == 422 and field_error(again, "file") and count(Question) == 13


def test_a_file_with_bad_questions_lists_each_with_its_line_and_writes_nothing(client, world, login_as, bank):
    login_as(client, world.methodologist_a)
    broken = SAMPLE + "\n::Сломанный::2+2?{=4 ~5\n\n::Пусто::{#}\n"
    lines = [n for n, line in enumerate(broken.splitlines(), start=1) if line.startswith(("::Сломанный", "::Пусто"))]
    response = upload(client, bank, broken)
    assert response.status_code == 422
    rows = re.findall(r'<tr><th scope="row">(\d+)</th><td>([^<]+)</td></tr>', response.get_data(as_text=True))
    assert [int(line) for line, _reason in rows] == lines and all(reason.strip() for _l, reason in rows)
    assert 'name="digest"' not in response.get_data(as_text=True)  # nothing to confirm
    assert count(Question) == 0 and not list(get_storage().list(f"{pages.IMPORT_PREFIX}/{bank.id}/"))
    xml = upload(client, bank, '<?xml version="1.0"?><quiz><question type="multichoice"><name><text>Плохой</text>'
                               '</name><questiontext><text>?</text></questiontext></question></quiz>', "bank.xml")
    assert xml.status_code == 422 and "Плохой" in text_of(xml) and count(Question) == 0


@pytest.mark.parametrize(("data", "filename"), [
    (b"%PDF-1.4", "bank.pdf"),
    (b"", "bank.gift"),
    (b"\xff\xfe\x00bad", "bank.gift"),
    (b"<quiz><question", "bank.xml"),
    (b'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY x "y">]><quiz>&x;</quiz>', "bank.xml"),
    (b"// only a comment\n", "bank.txt"),
])
def test_a_bad_file_is_refused_with_a_reason(client, world, login_as, bank, data, filename):
    login_as(client, world.methodologist_a)
    response = upload(client, bank, data, filename)
    assert response.status_code == 422
    assert field_error(response, "file") or "import-errors" in response.get_data(as_text=True)
    assert count(Question) == 0


def test_no_file_and_too_large_a_file_are_refused(client, world, login_as, bank, monkeypatch):
    login_as(client, world.methodologist_a)
    none = client.post(f"/banks/{bank.id}/import", data={}, content_type="multipart/form-data")
    assert none.status_code == 422 and field_error(none, "file")
    monkeypatch.setitem(pages.MAX_BYTES, "gift", 100)
    large = upload(client, bank, SAMPLE)
    assert large.status_code == 422 and field_error(large, "file") and count(Question) == 0


def test_an_expired_preview_asks_for_the_file_again(client, world, login_as, bank, monkeypatch):
    login_as(client, world.methodologist_a)
    fields = confirm_fields(upload(client, bank, SAMPLE))
    monkeypatch.setattr(pages, "PREVIEW_TTL", timedelta(seconds=-1))
    expired = client.post(f"/banks/{bank.id}/import/confirm", data=fields)
    assert expired.status_code == 422 and field_error(expired, "file") and count(Question) == 0
    assert client.post(f"/banks/{bank.id}/import/confirm", data={}).status_code == 422


def test_export_downloads_the_bank(client, world, login_as, bank):
    banks.import_questions(bank, SAMPLE.encode(), "gift", by=None, dry_run=False)
    db.session.commit()
    login_as(client, world.teacher_a)
    for fmt in ("gift", "xml"):
        response = client.get(f"/banks/{bank.id}/export?format={fmt}")
        assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
        assert len(banks.read(response.data, fmt).questions) == 13
    assert client.get(f"/banks/{bank.id}/export?format=xml").data.startswith(b"<?xml")
    assert client.get(f"/banks/{bank.id}/export?format=pdf").status_code == 422


# --- the editor -----------------------------------------------------------------------------------------

COMMON = {"name": "", "category": "", "format": "moodle", "general_feedback": "Общий отзыв", "subject": "",
          "grade": "", "difficulty": "", "tags": ""}
VALID = {
    "description": {"text": "Прочитайте текст ниже."},
    "truefalse": {"text": "Земля круглая", "answer": "true", "feedback_true": "Да", "feedback_false": "Нет"},
    "multichoice": {"text": "Какие числа простые?", "single": "0", "shuffle": "y",
                    "answers-0-text": "2", "answers-0-fraction": "0.5", "answers-0-feedback": "",
                    "answers-1-text": "3", "answers-1-fraction": "0.5", "answers-1-feedback": "Да",
                    "answers-2-text": "4", "answers-2-fraction": "-1", "answers-2-feedback": "Составное",
                    "answers-3-text": "", "answers-3-fraction": "0", "answers-3-feedback": ""},
    "shortanswer": {"text": "Кто написал «Онегина»?", "answers-0-text": "Пушкин", "answers-0-fraction": "1",
                    "answers-0-feedback": "", "answers-1-text": "*Пушкин*", "answers-1-fraction": "0.5",
                    "answers-1-feedback": "Фамилии достаточно", "answers-2-text": "", "answers-2-fraction": "0"},
    "numerical": {"text": "Ускорение свободного падения", "answers-0-value": "9,81", "answers-0-tolerance": "0.01",
                  "answers-0-fraction": "1", "answers-0-feedback": "", "answers-1-value": "", "answers-1-tolerance": "0",
                  "answers-1-fraction": "0", "tolerance_type": "absolute", "units-0-unit": "м/с²",
                  "units-0-multiplier": "1", "units-1-unit": "", "units-1-multiplier": "1", "unit_required": "y",
                  "unit_penalty": "0.2"},
    "matching": {"text": "Сопоставьте столицы", "pairs-0-stem": "Россия", "pairs-0-answer": "Москва",
                 "pairs-1-stem": "Франция", "pairs-1-answer": "Париж", "pairs-2-stem": "", "pairs-2-answer": "Берлин",
                 "pairs-3-stem": "", "pairs-3-answer": "", "shuffle": "y"},
    "ordering": {"text": "Расположите по порядку", "items-0": "один", "items-1": "", "items-2": "два",
                 "items-3": "три", "all_or_nothing": "y"},
    "essay": {"text": "Опишите урок", "min_words": "10", "max_words": "200", "attachments": "2",
              "grader_info": "Критерии"},
    "cloze": {"text": "Столица России — {1:SHORTANSWER:=Москва#Верно}, а 2+2 = {2:NUMERICAL:=4}."},
    "gapselect": {"text": "Кот [[1]] на [[2]].", "options-0-text": "сидит", "options-0-group": "1",
                  "options-1-text": "крыше", "options-1-group": "2", "options-2-text": "лежит",
                  "options-2-group": "1", "options-3-text": "", "options-3-group": "1", "shuffle": "y"},
}
#: A wrong input per type and the field (input id) its message must stand next to.
INVALID = {
    "description": ({"text": " "}, "text"),
    "truefalse": ({"answer": ""}, "answer"),
    "multichoice": ({"answers-1-text": "", "answers-1-fraction": "0.5"}, "answers-1-text"),
    "shortanswer": ({"answers-1-fraction": "две трети"}, "answers-1-fraction"),
    "numerical": ({"answers-0-value": "девять"}, "answers-0-value"),
    "matching": ({"pairs-1-stem": ""}, "pairs"),
    "ordering": ({"items-2": "", "items-3": ""}, "items"),
    "essay": ({"min_words": "много"}, "min_words"),
    "cloze": ({"text": "Без вложенных ответов"}, "text"),
    "gapselect": ({"text": "Кот [[1]] на [[5]]."}, "text"),
}


def test_every_type_in_the_registry_has_an_editor_case():
    assert set(VALID) == set(qtypes.REGISTRY) == set(INVALID)


def test_the_new_question_page_offers_every_type(client, world, login_as, bank):
    login_as(client, world.teacher_a)
    chooser = client.get(f"/banks/{bank.id}/questions/new").get_data(as_text=True)
    for name in qtypes.REGISTRY:
        assert f"qtype={name}" in chooser
        assert client.get(f"/banks/{bank.id}/questions/new?qtype={name}").status_code == 200
    assert client.get(f"/banks/{bank.id}/questions/new?qtype=nope").status_code == 404


@pytest.mark.parametrize("qtype", list(VALID))
def test_the_editor_saves_every_type_and_an_edit_is_a_new_version(client, world, login_as, bank, qtype):
    login_as(client, world.teacher_a)
    category = banks.category_path(bank, "Раздел")
    db.session.commit()
    data = {**COMMON, **VALID[qtype], "category": str(category.id), "grade": "6", "difficulty": "medium",
            "tags": "ВсОШ, дроби", "subject": "Математика"}
    saved = client.post(f"/banks/{bank.id}/questions/new?qtype={qtype}", data=data)
    assert saved.status_code == 302, text_of(saved)[:3000]
    question = db.session.scalar(select(Question))
    definition = banks.current(question).definition
    assert definition == qtypes.qtype(qtype).clean(definition)
    assert (question.qtype, question.category_id, question.grade, question.difficulty, question.tags,
            question.subject) == (qtype, category.id, 6, "medium", ["ВсОШ", "дроби"], "Математика")
    assert definition["general_feedback"] == "Общий отзыв"
    assert question.current_version == 1 and question.created_by_id == world.teacher_a.id

    # The edit page shows the saved question back: saving it unchanged makes no new version.
    form = client.get(f"/questions/{question.id}/edit")
    assert form.status_code == 200
    assert VALID[qtype]["text"].split("{")[0].split("[")[0].strip() in text_of(form)
    edited = {**data, "text": data["text"].replace("Кот", "Пёс") + " (исправлено)", "name": "Исправленный"}
    assert client.post(f"/questions/{question.id}/edit", data=edited).status_code == 302
    db.session.refresh(question)
    assert question.current_version == 2 and question.name == "Исправленный"
    assert [v.version for v in question.versions] == [1, 2]
    assert banks.current(question).definition["text"].endswith("(исправлено)")
    assert question.versions[0].definition == definition  # the first version is kept as it was
    assert question.versions[1].created_by_id == world.teacher_a.id
    page = text_of(client.get(f"/questions/{question.id}"))
    assert "Учителева" in page and ("Версия 2" in page or "Version 2" in page)
    assert client.get(f"/questions/{question.id}?version=1").status_code == 200
    assert client.get(f"/questions/{question.id}?version=7").status_code == 404


class _FormValues(HTMLParser):
    """What a browser would send from a form: text inputs, checked boxes and radios, textareas, and each
    select's selected option (its first when none is marked)."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside, self.values = form_id, False, []
        self._select = self._textarea = None
        self._options: list[tuple[str, bool]] = []
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and a.get("name") and a.get("type", "text") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.values.append((a["name"], a.get("value", "on" if a.get("type") == "checkbox" else "")))
        elif tag == "select":
            self._select, self._options = a.get("name"), []
        elif tag == "option" and self._select:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea":
            self._textarea, self._text = a.get("name"), []

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select:
            chosen = [v for v, selected in self._options if selected] or [v for v, _s in self._options[:1]]
            self.values += [(self._select, v) for v in chosen]
            self._select = None
        elif tag == "textarea" and self._textarea:
            # A browser drops the line break that opens a textarea (WTForms writes it as CR LF).
            self.values.append((self._textarea, "".join(self._text).removeprefix("\r").removeprefix("\n")))
            self._textarea = None


def form_values(response, form_id="question-form") -> dict[str, list[str]]:
    parser = _FormValues(form_id)
    parser.feed(response.get_data(as_text=True))
    out: dict[str, list[str]] = {}
    for name, value in parser.values:
        out.setdefault(name, []).append(value)
    return out


@pytest.mark.parametrize("qtype", list(VALID))
def test_the_edit_form_shows_the_question_exactly(client, world, login_as, bank, qtype):
    """Saving the edit page untouched changes nothing: every value (grades, numbers, units, groups, flags)
    comes back as it was stored, also for questions imported with grades the select does not list."""
    login_as(client, world.teacher_a)
    assert client.post(f"/banks/{bank.id}/questions/new?qtype={qtype}",
                       data={**COMMON, **VALID[qtype], "grade": "9", "tags": "а, б"}).status_code == 302
    question = db.session.scalar(select(Question))
    before = banks.current(question).definition
    resent = client.post(f"/questions/{question.id}/edit", data=form_values(client.get(f"/questions/{question.id}/edit")))
    assert resent.status_code == 302, text_of(resent)[:3000]
    db.session.refresh(question)
    assert question.current_version == 1 and banks.current(question).definition == before
    assert (question.grade, question.tags) == (9, ["а", "б"])


def test_imported_grades_outside_the_list_are_kept(client, world, login_as, bank):
    question = banks.add_question(bank, {"qtype": "multichoice", "text": "?", "single": False, "answers": [
        {"text": "а", "fraction": 0.33333}, {"text": "б", "fraction": 0.33333}, {"text": "в", "fraction": 0.33334},
        {"text": "г", "fraction": -0.25}]}, by=None)
    db.session.commit()
    login_as(client, world.teacher_a)
    page = client.get(f"/questions/{question.id}/edit")
    assert client.post(f"/questions/{question.id}/edit", data=form_values(page)).status_code == 302
    db.session.refresh(question)
    assert question.current_version == 1
    assert [a["fraction"] for a in banks.current(question).definition["answers"]] == [0.33333, 0.33333, 0.33334,
                                                                                      -0.25]


@pytest.mark.parametrize("qtype", list(INVALID))
def test_a_wrong_field_is_named_and_nothing_is_stored(client, world, login_as, bank, qtype):
    login_as(client, world.teacher_a)
    change, field = INVALID[qtype]
    response = client.post(f"/banks/{bank.id}/questions/new?qtype={qtype}",
                           data={**COMMON, **VALID[qtype], **change})
    assert response.status_code == 422
    assert field_error(response, field), (field, text_of(response)[:4000])
    assert f'href="#{field}"' in response.get_data(as_text=True)  # the summary links to it
    assert count(Question) == 0 and count(QuestionVersion) == 0


def test_a_wrong_edit_changes_nothing(client, world, login_as, bank):
    question = tf(bank)
    login_as(client, world.teacher_a)
    data = {**COMMON, **VALID["truefalse"], "text": "Изменённый", "grade": "12"}
    response = client.post(f"/questions/{question.id}/edit", data=data)
    assert response.status_code == 422 and field_error(response, "grade")
    db.session.refresh(question)
    assert question.current_version == 1 and question.grade is None
    assert banks.current(question).definition["text"] == "Земля круглая"
    forged = client.post(f"/questions/{question.id}/edit", data={**data, "grade": "", "category": "987654"})
    assert forged.status_code == 422 and field_error(forged, "category") and question.current_version == 1


RUBRIC = ("Полнота раскрытия: не раскрыта = 0; частично = 2; полностью = 4\n"
          "Грамотность: много ошибок = 0; без ошибок = 1")


def test_an_essays_rubric_is_saved_as_criteria_and_shown_again(client, world, login_as, bank):
    question = banks.add_question(bank, {"qtype": "essay", "text": "Опишите урок"}, by=None, name="Эссе")
    db.session.commit()
    login_as(client, world.teacher_a)
    assert 'name="rubric"' in client.get(f"/questions/{question.id}/edit").get_data(as_text=True)
    saved = client.post(f"/questions/{question.id}/edit", data={**COMMON, **VALID["essay"], "rubric": RUBRIC})
    assert saved.status_code == 302, text_of(saved)[:3000]
    db.session.refresh(question)
    assert question.current_version == 2
    assert banks.current(question).definition["rubric"] == [
        {"title": "Полнота раскрытия", "levels": [{"text": "не раскрыта", "points": 0},
                                                  {"text": "частично", "points": 2},
                                                  {"text": "полностью", "points": 4}]},
        {"title": "Грамотность", "levels": [{"text": "много ошибок", "points": 0},
                                            {"text": "без ошибок", "points": 1}]}]
    assert "rubric" not in question.versions[0].definition  # the first version is kept without one
    page = client.get(f"/questions/{question.id}/edit")
    assert form_values(page)["rubric"] == [RUBRIC]  # shown as the text it was written in
    assert "Полнота раскрытия: не раскрыта = 0" in text_of(client.get(f"/questions/{question.id}"))
    # Sent back untouched: no new version.
    assert client.post(f"/questions/{question.id}/edit", data=form_values(page)).status_code == 302
    db.session.refresh(question)
    assert question.current_version == 2


@pytest.mark.parametrize("rubric", ["Полнота раскрытия без двоеточия",
                                    "Полнота: мало = 0; много = пять",
                                    "Полнота: только один уровень = 3",
                                    "Полнота: нет = 0; тоже нет = 0"])
def test_a_bad_rubric_line_is_named_and_changes_nothing(client, world, login_as, bank, rubric):
    question = banks.add_question(bank, {"qtype": "essay", "text": "Опишите урок",
                                         "rubric": "Ясность: нет = 0; да = 2"}, by=None, name="Эссе")
    db.session.commit()
    before = banks.current(question).definition
    login_as(client, world.teacher_a)
    response = client.post(f"/questions/{question.id}/edit",
                           data={**COMMON, **VALID["essay"], "text": "Новый текст", "rubric": rubric})
    assert response.status_code == 422
    assert field_error(response, "rubric"), text_of(response)[:3000]
    assert 'href="#rubric"' in response.get_data(as_text=True)  # the summary links to it
    assert rubric in text_of(response)  # what was typed stays to be corrected
    db.session.refresh(question)
    assert question.current_version == 1 and banks.current(question).definition == before
    assert count(QuestionVersion) == 1


def test_more_rows_are_added_without_saving(client, world, login_as, bank):
    login_as(client, world.teacher_a)
    data = {**COMMON, **VALID["multichoice"], "add_rows": "answers"}
    response = client.post(f"/banks/{bank.id}/questions/new?qtype=multichoice", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and count(Question) == 0
    assert 'id="answers-6-text"' in html and 'id="answers-7-text"' not in html
    assert 'value="Составное"' in html  # what was typed stays


def test_only_editors_edit_questions(client, world, login_as, bank):
    question = tf(bank)
    banks.share(bank, [world.school_b.id], by=None)
    db.session.commit()
    login_as(client, world.admin_b)
    assert client.get(f"/questions/{question.id}").status_code == 200
    assert client.get(f"/questions/{question.id}/edit").status_code == 403
    assert client.post(f"/questions/{question.id}/edit",
                       data={**COMMON, **VALID["truefalse"]}).status_code == 403
    assert question.current_version == 1


# --- moving and copying ---------------------------------------------------------------------------------

def test_questions_move_and_copy_only_where_one_may(client, world, login_as, bank):
    second = make_bank(world.school_a, world.methodologist_a, "Второй банк школы А")
    target = banks.category_path(second, "Прибывшие")
    school_b = make_bank(world.school_b, world.admin_b, "Банк школы Б")
    banks.share(school_b, [world.school_a.id], by=None)
    first, other = tf(bank, "Первый"), tf(bank, "Второй")
    theirs = tf(school_b, "Их вопрос")
    banks.edit_question(first, {"qtype": "truefalse", "text": "Первый, правка", "answer": True}, by=None)
    elsewhere = banks.category_path(bank, "Чужая")
    db.session.commit()
    login_as(client, world.methodologist_a)
    url = f"/banks/{bank.id}/questions/transfer"

    assert client.post(url, data={"action": "move", "target": f"{second.id}-0"}).status_code == 422  # none chosen
    assert client.post(url, data={"action": "move", "questions": [str(first.id)]}).status_code == 422  # no target
    assert client.post(url, data={"action": "move", "questions": [str(theirs.id)],
                                  "target": f"{second.id}-0"}).status_code == 422  # not in this bank
    assert client.post(url, data={"action": "move", "questions": [str(first.id)],
                                  "target": f"{school_b.id}-0"}).status_code == 403  # may not edit the target
    assert client.post(url, data={"action": "move", "questions": [str(first.id)],
                                  "target": f"{second.id}-{elsewhere.id}"}).status_code == 422  # not its category
    assert first.bank_id == bank.id

    moved = client.post(url, data={"action": "move", "questions": [str(first.id), str(other.id)],
                                   "target": f"{second.id}-{target.id}"})
    assert moved.status_code == 302
    db.session.refresh(first)
    assert (first.bank_id, first.category_id, first.current_version) == (second.id, target.id, 2)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "questions_moved")).details["count"] == 2

    # From a bank shared with the school: copy, never move.
    shared = f"/banks/{school_b.id}/questions/transfer"
    assert client.post(shared, data={"action": "move", "questions": [str(theirs.id)],
                                     "target": f"{bank.id}-0"}).status_code == 403
    copied = client.post(shared, data={"action": "copy", "questions": [str(theirs.id)], "target": f"{bank.id}-0"})
    assert copied.status_code == 302
    copy = db.session.scalar(select(Question).where(Question.bank_id == bank.id))
    assert copy.name == "Их вопрос" and copy.id != theirs.id and copy.current_version == 1
    assert banks.current(copy).definition == banks.current(theirs).definition
    assert db.session.get(Question, theirs.id).bank_id == school_b.id  # the original stays
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "questions_copied")) is not None

    stranger = client.application.test_client()
    login_as(stranger, world.admin_c)
    assert stranger.post(shared, data={"action": "copy", "questions": [str(theirs.id)],
                                       "target": f"{bank.id}-0"}).status_code == 404


# --- the preview ----------------------------------------------------------------------------------------

def test_the_preview_grades_an_answer_and_shows_the_feedback_and_the_right_answer(client, world, login_as, bank):
    question = banks.add_question(bank, {"qtype": "multichoice", "text": "Столица России?", "single": True,
                                         "general_feedback": "Москва — столица с 1918 года.",
                                         "answers": [{"text": "Москва", "fraction": 1, "feedback": "Верно!"},
                                                     {"text": "Казань", "fraction": 0, "feedback": "Это Татарстан"}]},
                                  by=None, name="Столица")
    db.session.commit()
    login_as(client, world.teacher_a)
    page = client.get(f"/questions/{question.id}/preview")
    assert page.status_code == 200 and "Казань" in text_of(page) and "Верно!" not in text_of(page)
    choices = {re.sub(r"<[^>]+>|\s+", " ", label).split(".", 1)[-1].strip(): token for token, label in re.findall(
        r'name="q" id="q-\d+" value="(\d+)"[^>]*>\s*<label for="q-\d+">(.*?)</label>', page.get_data(as_text=True), re.S)}
    assert set(choices) == {"Москва", "Казань"}
    wrong = text_of(client.post(f"/questions/{question.id}/preview", data={"q": choices["Казань"]}))
    assert "Это Татарстан" in wrong and "0 %" in wrong and "Москва — столица с 1918 года." in wrong
    assert re.search(r"Москва\s*</p>", wrong)  # the right answer
    right = text_of(client.post(f"/questions/{question.id}/preview", data={"q": choices["Москва"]}))
    assert "Верно!" in right and "100 %" in right
    assert count(Question) == 1 and count(QuestionVersion) == 1  # a preview records nothing


@pytest.mark.parametrize("qtype", list(VALID))
def test_the_preview_shows_every_type(client, world, login_as, bank, qtype):
    login_as(client, world.teacher_a)
    assert client.post(f"/banks/{bank.id}/questions/new?qtype={qtype}",
                       data={**COMMON, **VALID[qtype]}).status_code == 302
    question = db.session.scalar(select(Question))
    assert client.get(f"/questions/{question.id}/preview").status_code == 200
    assert client.post(f"/questions/{question.id}/preview", data={}).status_code == 200
