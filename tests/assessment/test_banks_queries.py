"""How much work the question-bank pages and services do: an import reads the file once and the bank's
categories once, whatever the number of questions; the bank page reads the categories once; copying
questions reads only their current versions, in one statement. Counted in SQL statements (and parser calls),
so that a bank of a thousand questions costs what a bank of ten does."""

from __future__ import annotations

import io
import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from lms.assessment import banks, gift
from lms.assessment.cli import questions_cli
from lms.assessment.models import Question, QuestionBank, QuestionCategory, QuestionVersion
from lms.extensions import db
from tests.helpers import count, text_of


@contextmanager
def statements():
    """Every SQL statement run meanwhile (savepoints left out), by any session of the test."""
    seen: list[str] = []
    connection = db.engines[None]  # in tests: the one connection every session runs on (tests/conftest.py)

    def record(_conn, _cursor, statement, _parameters, _context, _many):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            seen.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", record)


def reading(seen: list[str], table: str) -> int:
    """How many of the statements read ``table``."""
    pattern = re.compile(rf"\bFROM\b[^;]*\b{table}\b", re.I | re.S)
    return sum(1 for s in seen if s.lstrip().upper().startswith("SELECT") and pattern.search(s))


@pytest.fixture
def bank(world):
    bank = banks.create_bank(name="Олимпиада школы А", organization=world.school_a, by=world.methodologist_a)
    db.session.commit()
    return bank


def gift_file(n: int, category: str = "Олимпиада/Математика/Дроби") -> bytes:
    body = "\n\n".join(f"::В{i}::{i}+{i}?{{={2 * i} ~{2 * i + 1}}}" for i in range(n))
    return f"$CATEGORY: {category}\n\n{body}\n".encode()


def other_categories(bank: QuestionBank, n: int) -> None:
    for i in range(n):
        banks.category_path(bank, f"Раздел {i}/Подраздел")
    db.session.commit()


@pytest.fixture
def parses(monkeypatch):
    """How many times a GIFT file is parsed."""
    calls = []
    original = gift.parse

    def counting(data):
        calls.append(len(data))
        return original(data)

    monkeypatch.setattr(gift, "parse", counting)
    return calls


# --- import ------------------------------------------------------------------------------------------

def test_the_import_page_parses_the_file_once_for_the_preview_and_once_for_the_confirmation(
        client, world, login_as, bank, parses):
    login_as(client, world.methodologist_a)
    preview = client.post(f"/banks/{bank.id}/import", data={"file": (io.BytesIO(gift_file(3)), "bank.gift")},
                          content_type="multipart/form-data")
    assert preview.status_code == 200 and "В2" in preview.get_data(as_text=True)
    assert len(parses) == 1 and count(Question) == 0
    html = preview.get_data(as_text=True)
    fields = {name: re.search(rf'name="{name}" value="([^"]*)"', html).group(1) for name in ("digest", "format")}
    assert client.post(f"/banks/{bank.id}/import/confirm", data=fields).status_code == 302
    assert len(parses) == 2 and count(Question) == 3

    broken = client.post(f"/banks/{bank.id}/import", data={
        "file": (io.BytesIO(gift_file(2) + "\n::Плохой::2+2?{=4 ~5\n".encode()), "bank.gift")},
        content_type="multipart/form-data")
    assert broken.status_code == 422 and "В1" in broken.get_data(as_text=True)  # the good ones are listed too
    assert len(parses) == 3 and count(Question) == 3


def test_the_cli_parses_the_file_once(app, world, bank, parses, tmp_path):
    path = tmp_path / "bank.gift"
    path.write_bytes(gift_file(4))
    runner = app.test_cli_runner()
    checked = runner.invoke(questions_cli, ["import", str(path), "--format", "gift", "--bank", str(bank.id),
                                            "--dry-run"])
    assert checked.exit_code == 0, checked.output
    assert len(parses) == 1


@pytest.mark.parametrize("existing", [0, 20])
def test_an_import_reads_the_banks_categories_once_whatever_the_number_of_questions(world, bank, existing):
    other_categories(bank, existing)
    few, many = gift_file(2), gift_file(12)
    with statements() as first:
        banks.import_questions(bank, few, "gift", by=world.methodologist_a, dry_run=False)
    with statements() as second:
        banks.import_questions(bank, many, "gift", by=world.methodologist_a, dry_run=False)
    assert reading(first, "question_categories") == 1
    assert reading(second, "question_categories") == 1
    made = db.session.scalars(select(QuestionCategory).where(QuestionCategory.bank_id == bank.id,
                                                             QuestionCategory.name == "Дроби")).all()
    assert len(made) == 1  # the second import found the path the first one made
    assert set(db.session.scalars(select(Question.category_id).where(Question.bank_id == bank.id))) == {made[0].id}
    assert banks.category_paths(bank)[made[0].id] == "Олимпиада/Математика/Дроби"


def test_an_import_into_several_categories_makes_each_once(world, bank):
    data = ("$CATEGORY: А/Б\n\n::1::?{=да ~нет}\n\n$CATEGORY: А\n\n::2::?{=да ~нет}\n\n"
            "$CATEGORY: А/Б\n\n::3::?{=да ~нет}\n\n$CATEGORY: В/Б\n\n::4::?{=да ~нет}\n").encode()
    banks.import_questions(bank, data, "gift", by=None, dry_run=False)
    paths = banks.category_paths(bank)
    assert sorted(paths.values()) == ["А", "А/Б", "В", "В/Б"]
    by_name = {q.name: paths.get(q.category_id) for q in db.session.scalars(select(Question))}
    assert by_name == {"1": "А/Б", "2": "А", "3": "А/Б", "4": "В/Б"}


# --- the bank page -----------------------------------------------------------------------------------

@pytest.mark.parametrize("category_filter", [False, True])
def test_the_bank_page_reads_the_categories_once(client, world, login_as, bank, category_filter):
    other_categories(bank, 6)
    maths = banks.category_path(bank, "Математика")
    for i in range(3):
        banks.add_question(bank, {"qtype": "truefalse", "text": f"Вопрос {i}", "answer": True}, by=None,
                           category=maths)
    db.session.commit()
    login_as(client, world.methodologist_a)
    url = f"/banks/{bank.id}" + (f"?category={maths.id}" if category_filter else "")
    with statements() as seen:
        page = client.get(url)
    assert page.status_code == 200 and "Раздел 5/Подраздел" in page.get_data(as_text=True)
    assert reading(seen, "question_categories") == 1


def test_the_bank_page_costs_the_same_with_more_categories_and_questions(client, world, login_as, bank):
    login_as(client, world.methodologist_a)
    maths = banks.category_path(bank, "Математика")
    db.session.commit()
    client.get(f"/banks/{bank.id}")  # the first request of a session warms its caches
    with statements() as small:
        assert client.get(f"/banks/{bank.id}").status_code == 200
    other_categories(bank, 15)
    for i in range(12):
        banks.add_question(bank, {"qtype": "truefalse", "text": f"Вопрос {i}", "answer": True}, by=None,
                           category=maths if i % 2 else None, tags=[f"т{i}"])
    db.session.commit()
    with statements() as large:
        page = client.get(f"/banks/{bank.id}")
    assert page.status_code == 200
    assert len(large) == len(small)
    # The counts come from the questions read once: 12 in all, 6 in «Математика», 6 outside any category.
    text = text_of(page)
    assert "Вопросов: 12" in text
    assert re.search(rf'category={maths.id}#questions-h"[^>]*>Математика</a>\s*<span class="muted">\(6\)', text)
    assert re.search(r'category=none#questions-h">Без категории</a> <span class="muted">\(6\)', text)


# --- copying -----------------------------------------------------------------------------------------

def questions_with_history(bank: QuestionBank, n: int) -> list[Question]:
    out = []
    for i in range(n):
        q = banks.add_question(bank, {"qtype": "truefalse", "text": f"Вопрос {i}", "answer": True}, by=None,
                               name=f"Вопрос {i}")
        for v in range(3):
            banks.edit_question(q, {"qtype": "truefalse", "text": f"Вопрос {i}, правка {v}", "answer": bool(v % 2)},
                                by=None)
        out.append(q)
    db.session.commit()
    return out


@pytest.mark.parametrize("n", [2, 7])
def test_copying_reads_only_the_current_versions_in_one_statement(world, bank, n):
    target = banks.create_bank(name="Второй банк", organization=world.school_a, by=None)
    ids = [q.id for q in questions_with_history(bank, n)]
    db.session.expire_all()  # as in a request: the questions come from the database, their versions not loaded
    questions = list(db.session.scalars(select(Question).where(Question.id.in_(ids)).order_by(Question.id)))
    with statements() as seen:
        copies = banks.copy_questions(questions, target, None, by=None)
    assert reading(seen, "question_versions") == 1
    db.session.commit()
    for original, copy in zip(questions, copies, strict=True):
        assert copy.current_version == 1 and [v.version for v in copy.versions] == [1]
        assert copy.versions[0].definition == banks.current(original).definition
        assert copy.versions[0].definition["text"].endswith("правка 2")
    assert count(QuestionVersion) == n * 4 + n
