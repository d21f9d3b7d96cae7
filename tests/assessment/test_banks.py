"""Question banks: who edits and who uses them (sharing across the network, a run's own bank), the category
tree, versions, all-or-nothing import with a preview, export round trips, and the CLI."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.assessment import banks
from lms.assessment.models import Question, QuestionCategory, QuestionVersion
from lms.core.errors import ValidationError
from lms.extensions import db
from tests.assessment.test_gift import SAMPLE
from tests.courses.test_content import make_run


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def bank(world):
    b = banks.create_bank(name="Муниципальная олимпиада", organization=world.school_a, by=world.methodologist_a)
    db.session.commit()
    return b


def test_who_edits_and_who_uses_an_organizations_bank(world, bank):
    assert banks.can_edit_bank(world.methodologist_a, bank) and banks.can_edit_bank(world.admin_a, bank)
    assert banks.can_edit_bank(world.teacher_a, bank)
    assert not banks.can_use_bank(world.admin_b, bank) and not banks.can_use_bank(world.student_a, bank)
    banks.share(bank, [world.school_b.id], by=world.admin_a)
    db.session.commit()
    assert banks.can_use_bank(world.admin_b, bank) and not banks.can_edit_bank(world.admin_b, bank)
    assert not banks.can_use_bank(world.student_b, bank)  # students of a shared school do not see the bank
    banks.share(bank, [], by=world.admin_a)
    db.session.commit()
    assert not banks.can_use_bank(world.admin_b, bank)


def test_a_runs_bank_is_its_teachers_and_is_not_shared(world):
    run = make_run(world)
    own = banks.create_bank(name="Итоговый тест", run=run, by=world.teacher_a)
    assert banks.can_edit_bank(world.teacher_a, own) and not banks.can_edit_bank(world.methodologist_a, own)
    with pytest.raises(ValidationError):
        banks.share(own, [world.school_b.id], by=world.teacher_a)
    with pytest.raises(ValidationError):
        banks.create_bank(name="Ничей", by=None)
    with pytest.raises(ValidationError):
        banks.create_bank(name=" ", organization=world.school_a, by=None)


def test_an_edit_is_a_new_version_and_no_change_is_none(world, bank):
    q = banks.add_question(bank, {"qtype": "truefalse", "text": "Земля круглая", "answer": True}, by=None,
                           tags=["география", " география "], grade="5", difficulty="easy")
    assert (q.current_version, q.tags, q.grade, q.name) == (1, ["география"], 5, "Земля круглая")
    assert banks.edit_question(q, {"qtype": "truefalse", "text": "Земля круглая", "answer": True}, by=None) is None
    v2 = banks.edit_question(q, {"qtype": "truefalse", "text": "Земля шарообразна", "answer": True}, by=None)
    assert v2.version == 2 and q.current_version == 2 and banks.current(q).definition["text"] == "Земля шарообразна"
    assert [v.definition["text"] for v in q.versions] == ["Земля круглая", "Земля шарообразна"]  # the first kept
    with pytest.raises(ValidationError) as exc:
        banks.edit_question(q, {"qtype": "essay", "text": "?"}, by=None)
    assert exc.value.field == "qtype"
    with pytest.raises(ValidationError) as exc:
        banks.add_question(bank, {"qtype": "truefalse", "text": "?", "answer": True}, by=None, grade="12")
    assert exc.value.field == "grade"


def test_import_previews_then_writes_everything_or_nothing(world, bank):
    preview = banks.import_questions(bank, SAMPLE.encode(), "gift", by=world.methodologist_a, dry_run=True)
    assert preview.questions == 13 and preview.categories == {"Олимпиада/Математика"} and not preview.written
    assert count(Question) == 0
    broken = SAMPLE + "\n::Сломанный::2+2?{=4 ~5\n"
    report = banks.import_questions(bank, broken.encode(), "gift", by=world.methodologist_a, dry_run=False)
    assert report.errors and not report.written and count(Question) == 0
    report = banks.import_questions(bank, SAMPLE.encode(), "gift", by=world.methodologist_a, dry_run=False)
    db.session.commit()
    assert report.written and count(Question) == 13 and count(QuestionVersion) == 13
    assert {c.name for c in db.session.scalars(select(QuestionCategory))} == {"Олимпиада", "Математика"}
    assert set(banks.category_paths(bank).values()) == {"Олимпиада", "Олимпиада/Математика"}


def test_export_round_trips_through_both_formats(world, bank):
    banks.import_questions(bank, SAMPLE.encode(), "gift", by=None, dry_run=False)
    banks.add_question(bank, {"qtype": "essay", "text": "Без категории"}, by=None)
    db.session.commit()
    for fmt in ("gift", "xml"):
        data = banks.export_questions(bank, fmt)
        result = banks.read(data, fmt)
        assert result.errors == [] and len(result.questions) == 14
        assert {q.category for q in result.questions} == {"Олимпиада/Математика", ""}


def test_the_cli_imports_and_exports(app, world, bank, tmp_path):
    source = tmp_path / "bank.gift"
    source.write_text(SAMPLE, encoding="utf-8")
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["questions", "import", str(source), "--format", "gift", "--bank", str(bank.id),
                              "--dry-run"])
    assert dry.exit_code == 0 and "ничего не записано" in dry.output and count(Question) == 0
    bad = tmp_path / "bad.gift"
    bad.write_text("::А::2+2?{=4 ~5\n", encoding="utf-8")
    failed = runner.invoke(args=["questions", "import", str(bad), "--format", "gift", "--bank", str(bank.id)])
    assert failed.exit_code != 0 and "строка 1" in failed.output
    done = runner.invoke(args=["questions", "import", str(source), "--format", "gift", "--bank", str(bank.id)])
    assert done.exit_code == 0 and count(Question) == 13
    out = tmp_path / "out.xml"
    exported = runner.invoke(args=["questions", "export", "--format", "xml", "--bank", str(bank.id), "--output",
                                   str(out)])
    assert exported.exit_code == 0 and out.read_bytes().startswith(b"<?xml")
    missing = runner.invoke(args=["questions", "export", "--format", "gift", "--bank", "98765"])
    assert missing.exit_code != 0 and "не найден" in missing.output
