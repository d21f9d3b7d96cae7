"""ФИС ФРДО export: the preflight list of problems per person and the produced workbook."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from lms.accounts import services as people
from lms.courses import certificates as services
from lms.courses import frdo
from lms.extensions import db
from tests.courses.certificate_helpers import issue, make_programme
from tests.helpers import field_error, text_of

PERIOD = (date(2026, 1, 1), date(2026, 12, 31))


def _complete(world):
    """School A's settings filled in, and two people with every field the registry needs."""
    services.update_settings(world.school_a, by=None, study_form="Заочная",
                             funding_source="За счет бюджетных ассигнований местных бюджетов",
                             education_form="В организации, осуществляющей образовательную деятельность")
    people.update_user(world.teacher_a, {"patronymic": "Сергеевна", "birth_date": date(1980, 5, 17), "sex": "f",
                                         "snils": "123-456-789 64"}, by=None)
    people.update_user(world.methodologist_a, {"birth_date": date(1975, 1, 2), "sex": "f",
                                               "snils": "087-654-303 00"}, by=None)
    db.session.flush()


def _sheet(data: bytes):
    wb = load_workbook(io.BytesIO(data))
    return wb, wb.worksheets


def test_preflight_lists_what_is_missing_or_invalid_per_person(world):
    _complete(world)
    programme = make_programme(world.school_a)
    good = issue(world.teacher_a, world.school_a, programme)
    latin = make_user_with(world, surname="Ivanov", name="Пётр", snils="11223344596", sex="m",
                           birth_date=date(1990, 1, 1))
    long_name = make_user_with(world, surname="Щ" * 51, name="Анна", sex=None, birth_date=None, snils=None)
    bad_latin = issue(latin, world.school_a, programme)
    bad_long = issue(long_name, world.school_a, programme)
    profile = make_programme(world.school_a, title="Профильная химия", kind="profile")
    not_dpo = issue(world.methodologist_a, world.school_a, profile, kind="statement")
    result = frdo.preflight(world.school_a, *PERIOD)

    by_cert = {}
    for f in result.findings:
        by_cert.setdefault(f.cert.id, []).append((f.field, f.message))
    assert good.id not in by_cert
    latin_problems = dict(by_cert[bad_latin.id])
    assert "Латинские буквы" in latin_problems["Фамилия"]
    assert "контрольное число" in latin_problems["СНИЛС"].lower()
    long_problems = dict(by_cert[bad_long.id])
    assert "50" in long_problems["Фамилия"]
    assert {"СНИЛС", "Дата рождения", "Пол"} <= set(long_problems)
    assert [field for field, _m in by_cert[not_dpo.id]] == ["Программа"]
    assert result.problem_ids == {bad_latin.id, bad_long.id, not_dpo.id}


def make_user_with(world, *, surname, name, snils, sex, birth_date):
    """A person whose stored data may be wrong (old data from before the checks): written directly."""
    from tests.factories import make_user

    user = make_user(org=world.school_a, role="teacher", surname="Временный", name="Человек")
    user.surname, user.name, user.snils, user.sex, user.birth_date = surname, name, snils, sex, birth_date
    db.session.flush()
    return user


def test_settings_left_empty_are_reported_once(world):
    issue(world.teacher_a, world.school_a, make_programme(world.school_a))
    result = frdo.preflight(world.school_a, *PERIOD)
    org_level = [f for f in result.findings if f.cert is None]
    assert [f.field for f in org_level] == ["Источник финансирования", "Форма получения образования"]


def test_the_workbook_has_one_sheet_named_template_and_the_columns_in_order(world):
    _complete(world)
    services.update_settings(world.school_a, by=None, series="")
    programme = make_programme(world.school_a, title="Цифровые технологии для трансформации школы", hours=72)
    original = issue(world.teacher_a, world.school_a, programme, issued_on=date(2026, 3, 30))
    dup = services.issue_duplicate(original, None, issued_on=date(2026, 4, 15))
    services.update_settings(world.school_a, by=None, series="МО")
    revoked = issue(world.methodologist_a, world.school_a, programme, issued_on=date(2026, 4, 20))
    services.revoke(revoked, "ошибка", by=None)
    outside = issue(world.methodologist_a, world.school_a, programme, issued_on=date(2025, 12, 1))
    result = frdo.preflight(world.school_a, *PERIOD)
    assert result.revoked == 1 and outside.id not in {c.id for c in result.certificates}

    out = io.BytesIO()
    assert frdo.write_xlsx(world.school_a, result.certificates, out) == 2
    wb, sheets = _sheet(out.getvalue())
    assert [ws.title for ws in sheets] == ["Шаблон"]
    assert sheets[0].sheet_state == "visible"
    rows = list(sheets[0].iter_rows(values_only=True))
    header = list(rows[0])
    assert header == list(frdo.COLUMNS)
    assert header[:9] == ["Вид документа", "Статус документа", "Подтверждение утраты", "Подтверждение обмена",
                          "Подтверждение уничтожения", "Серия документа", "Номер документа",
                          "Дата выдачи документа", "Регистрационный номер"]
    assert header.index("СНИЛС") == header.index("Пол получателя") + 1 == header.index("Фамилия получателя") + 5
    assert header[-1] == "Номер документа для изменения"
    col = {name: i for i, name in enumerate(header)}
    first, second = rows[1], rows[2]
    assert first[col["Вид документа"]] == "Удостоверение о повышении квалификации"
    assert first[col["Статус документа"]] == "Оригинал" and first[col["Подтверждение утраты"]] == "Да"
    assert first[col["Серия документа"]] == "Нет"  # no series → «Нет»
    assert first[col["Дата выдачи документа"]] == "30.03.2026"
    assert first[col["Регистрационный номер"]] == "1"
    assert first[col["СНИЛС"]] == "123-456-789 64"
    assert first[col["Дата рождения получателя"]] == "17.05.1980"
    assert first[col["Пол получателя"]] == "Жен"
    assert first[col["Дополнительная профессиональная программа (повышение квалификации / "
                     "профессиональная переподготовка)"]] == "Повышение квалификации"
    assert first[col["Срок обучения, часов"]] == 72 and first[col["Год окончания обучения"]] == 2026
    assert first[col["Отчество получателя"]] == "Сергеевна"
    assert first[col["Гражданство получателя (код страны по ОКСМ)"]] == "643"
    assert second[col["Статус документа"]] == "Дубликат" and second[col["Регистрационный номер"]] == "2"
    assert second[col["Номер (оригинала)"]] == original.number
    assert second[col["Дата выдачи (оригинала)"]] == "30.03.2026"
    assert dup.id == result.certificates[1].id


def test_a_person_without_a_patronymic_leaves_it_empty(world):
    _complete(world)
    cert = issue(world.methodologist_a, world.school_a, make_programme(world.school_a))
    row = frdo.row_of(cert, services.settings_for(world.school_a))
    assert row[frdo.COLUMNS.index("Отчество получателя")] == ""
    assert row[frdo.COLUMNS.index("СНИЛС")] == "087-654-303 00"


def test_the_frdo_page_checks_then_downloads(client, world, login_as):
    _complete(world)
    programme = make_programme(world.school_a)
    issue(world.teacher_a, world.school_a, programme)
    issue(world.student_b, world.school_a, programme)  # no СНИЛС, birth date or sex
    db.session.commit()
    login_as(client, world.admin_a)
    assert client.get("/certificates/frdo").status_code == 200
    query = {"org": world.school_a.id, "start": "2026-01-01", "end": "2026-12-31"}
    page = client.get("/certificates/frdo", query_string=query)
    html = text_of(page)
    assert page.status_code == 200 and "Школьникова Дарья" in html and "СНИЛС" in html
    everything = client.get("/certificates/frdo.xlsx", query_string=query)
    assert everything.status_code == 200
    _wb, sheets = _sheet(everything.data)
    assert sheets[0].max_row == 3
    clean = client.get("/certificates/frdo.xlsx", query_string={**query, "only_valid": "1"})
    assert _sheet(clean.data)[1][0].max_row == 2
    backwards = client.get("/certificates/frdo", query_string={**query, "end": "2025-01-01"})
    assert backwards.status_code == 422 and field_error(backwards, "end")
    garbage = client.get("/certificates/frdo", query_string={**query, "start": "вчера"})
    assert garbage.status_code == 422 and field_error(garbage, "start")


@pytest.mark.parametrize("who", ["admin_b", "admin_c"])
def test_another_organizations_admin_cannot_export_it(client, world, login_as, who):
    login_as(client, getattr(world, who))
    query = {"org": world.school_a.id, "start": "2026-01-01", "end": "2026-12-31"}
    assert client.get("/certificates/frdo", query_string=query).status_code == 403
    assert client.get("/certificates/frdo.xlsx", query_string=query).status_code == 403
