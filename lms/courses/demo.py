"""Demo programmes (seed 004: Dubna's PD programmes on digital transformation; seed 001: a network profile
course of a resource centre), each brought to a different stage of its lifecycle."""

from __future__ import annotations

from datetime import date, timedelta

from lms.courses import content, runs
from lms.courses import programmes as services

M = "credit"  # most modules end with a зачёт

#: title, owner code, kind, audience, note, subject, total, final (form, hours), modules, stage
PROGRAMMES = [
    ("Введение в цифровую трансформацию", "cro", "pd", "teachers", "педагогические работники школ",
     "Информатика", 36, ("test", 2), [
         ("Цифровая трансформация образования: понятия и нормативная база", 4, 2, 4, M),
         ("Цифровая образовательная среда: сервисы и платформы", 4, 6, 4, M),
         ("Цифровые образовательные ресурсы на уроке", 2, 6, 2, "test_work"),
     ], "published"),
    ("Цифровые технологии для трансформации школы", "cro", "pd", "teachers",
     "учителя и заместители директоров", "Информатика", 72, ("project", 4), [
         ("Стратегия цифровой трансформации школы", 6, 4, 4, M),
         ("Цифровая образовательная среда и её сервисы", 6, 10, 6, M),
         ("Данные об обучении: сбор, анализ, решения", 4, 8, 4, "test_work"),
         ("Проектирование цифрового урока", 4, 8, 4, M),
     ], "published"),
    ("Модель управления развитием школы в контексте цифровой трансформации", "cro", "pd", "managers",
     "директора и заместители директоров", "Управление образованием", 36, ("exam", 2), [
         ("Управление изменениями в школе", 6, 6, 4, M),
         ("Цифровые инструменты управления", 4, 8, 6, "graded_credit"),
     ], "review"),
    ("Проектирование цифровой трансформации школы", "cro", "pd", "managers", "управленческие команды школ",
     "Управление образованием", 36, ("project", 2), [
         ("Диагностика цифровой зрелости школы", 4, 6, 4, M),
         ("Дорожная карта цифровой трансформации", 4, 8, 4, M),
     ], "draft"),  # 30 + 2 ≠ 36: the card shows what is missing
    ("Основы создания персонального сайта педагога: структура и наполнение", "cro", "pd", "teachers",
     "учителя-предметники", "Информатика", 36, ("project", 2), [
         ("Сайт педагога: назначение и структура", 4, 4, 2, M),
         ("Конструкторы сайтов и облачные сервисы", 2, 10, 4, M),
         ("Наполнение и сопровождение сайта", 2, 4, 2, M),
     ], "approved"),
    ("Основы инженерного проектирования", "lyceum6", "profile", "students",
     "обучающиеся 10–11 классов школ города (сетевая форма)", "Технология", 34, ("project", 2), [
         ("Инженерная графика и чертёж", 4, 6, 2, M),
         ("3D-моделирование и прототипирование", 2, 10, 2, M),
         ("Инженерный проект", 0, 4, 2, M),
     ], "published"),
]


def load_programmes(orgs: dict, users: dict) -> None:
    programmes = _programmes(orgs, users)
    _runs(orgs, users, programmes)


def _programmes(orgs: dict, users: dict) -> dict:
    created = {}
    author, expert, manager = users["methodologist"], users["lecturer"], users["cro_admin"]
    for title, code, kind, audience, note, subject, total, (final, final_hours), modules, stage in PROGRAMMES:
        owner = orgs[code]
        by = author if code == "cro" else users["teacher_lyceum6"]
        programme = services.create_programme(
            owner, by=by, title=title, kind=kind, audience=audience, audience_note=note, subject=subject,
            total_hours=total, final_attestation_form=final, final_attestation_hours=final_hours,
            result_scale="pass_fail" if kind == "pd" else "five_point",
            threshold_5=86, threshold_4=71, threshold_3=51,
            description=f"Программа «{title}» сетевого объединения образовательных организаций г. Дубны.")
        created[title] = programme
        services.set_curriculum(programme, [
            {"title": t, "lecture_hours": lec, "practice_hours": pr, "self_study_hours": ss, "control_form": cf}
            for t, lec, pr, ss, cf in modules], by=by)
        if stage == "draft":
            continue
        reviewer = expert if code == "cro" else author
        services.submit_for_review(programme, [reviewer], by=by, comment="Прошу провести экспертизу программы.")
        if stage == "review":
            services.review(programme, by=reviewer, action="comment",
                            comment="Уточните формы промежуточной аттестации во втором модуле.",
                            module_id=programme.modules[1].id)
            continue
        services.review(programme, by=reviewer, action="approve", comment="Программа соответствует требованиям.")
        if stage == "published":
            services.publish(programme, by=manager if code == "cro" else users["coordinator"])
    return created


def _runs(orgs: dict, users: dict, programmes: dict) -> None:
    """Runs of the published programmes with learners at several stages (seed 004's dates moved to now)."""
    today = date.today()
    manager = users["cro_admin"]
    intro = runs.open_run(
        programmes["Введение в цифровую трансформацию"], orgs["cro"], by=manager, teachers=[users["methodologist"]],
        groups=["Группа 1"], name="Поток 1", starts_on=today - timedelta(days=20), ends_on=today + timedelta(days=40),
        capacity="25", is_published=True, self_enrolment=True, requires_approval=True, is_network=True)
    group = intro.groups[0].id
    _content(intro, users["methodologist"])
    _finished_run(orgs, users, programmes["Введение в цифровую трансформацию"])
    for login in ("teacher", "teacher_gym3", "teacher_lyceum6"):
        runs.enrol(intro, users[login], by=manager, group_id=group)
    _work(intro, users)
    runs.request_enrolment(intro, users["orgadmin"], note="Заместитель директора по УВР, школа № 1")
    school = runs.open_run(
        programmes["Цифровые технологии для трансформации школы"], orgs["cro"], by=manager,
        teachers=[users["methodologist"]], name="Поток 1", starts_on=today + timedelta(days=10),
        ends_on=today + timedelta(days=70), capacity="2", is_published=True, self_enrolment=True,
        requires_approval=False, enrolment_key=None, is_network=True)
    for login in ("teacher_gym3", "teacher", "lecturer"):  # two places: the third waits
        runs.request_enrolment(school, users[login], note="")
    profile = runs.open_run(
        programmes["Основы инженерного проектирования"], orgs["lyceum6"], by=users["coordinator"],
        teachers=[users["teacher_lyceum6"]], name="10–11 классы, 2026/27", starts_on=today - timedelta(days=60),
        ends_on=today + timedelta(days=150), capacity="30", is_published=True, self_enrolment=True,
        requires_approval=True, is_network=True)
    for code in ("school1", "gym3"):
        runs.enrol_cohort(profile, orgs[code], role="student", by=users["coordinator"], grade=10)


def _content(run, teacher) -> None:
    """Pages, a video link and an assignment in the sections of the demo run, with planned hours."""
    from sqlalchemy import select

    from lms.courses.models import Section
    from lms.extensions import db

    sections = db.session.scalars(select(Section).where(Section.run_id == run.id).order_by(Section.position)).all()
    for section in sections:
        hours = section.module.total_hours if section.module else 2
        content.save_activity(section, {
            "kind": "page", "title": f"Лекция: {section.title}", "planned_hours": hours // 2, "completion": "viewed",
            "body": "<p>Материал лекции по теме раздела.</p><ul><li>Основные понятия</li>"
                    "<li>Нормативные документы</li><li>Примеры из практики школ г. Дубны</li></ul>"}, by=teacher)
        content.save_activity(section, {
            "kind": "link", "title": "Видеозапись вебинара", "url": "https://example.org/webinar",
            "planned_hours": 1, "completion": "viewed"}, by=teacher)
        content.save_activity(section, {
            "kind": "assignment", "title": f"Практическая работа: {section.title}",
            "planned_hours": hours - hours // 2 - 1, "completion": "submitted", "grading": "rubric", "pass_points": 6,
            "rubric": "Связь с темой раздела: не показана = 0; частично = 2; полностью = 4\n"
                      "Применимость на уроке: нет = 0; с оговорками = 2; готово к применению = 4\n"
                      "Оформление: с ошибками = 0; аккуратно = 2",
            "body": "<p>Опишите, как вы примените материал раздела на своих уроках.</p>"}, by=teacher)


def _finished_run(orgs: dict, users: dict, programme) -> None:
    """Last spring's run of the 36-hour programme: two teachers completed it and hold numbered certificates
    (PDFs are made on first download); one left."""
    from lms.courses import certificates

    manager, cro = users["cro_admin"], orgs["cro"]
    certificates.update_settings(cro, by=manager, city="Дубна", director_name="Белоскова Е. Г.",
                                 director_title="Директор", series="ЦРО", funding_source="Бюджет муниципалитета")
    today = date.today()
    start, end = date(today.year - 1, 3, 2), date(today.year - 1, 4, 24)
    past = runs.open_run(programme, cro, by=manager, teachers=[users["methodologist"]], name="Поток весна",
                         starts_on=start, ends_on=end, capacity="25", is_network=True)
    for login in ("teacher", "teacher_lyceum6", "lecturer"):
        enrolment = runs.enrol(past, users[login], by=manager)
        if login == "lecturer":
            runs.withdraw(enrolment, by=manager)
            continue
        runs.mark_completed(enrolment, by=manager)
        certificates.issue_certificate(users[login], cro, programme=programme,
                                       kind=certificates.kind_for_programme(programme), hours=programme.total_hours,
                                       study_start=start, study_end=end, by=manager, issued_on=end,
                                       run_id=past.id, enrolment_id=enrolment.id)


def _work(run, users) -> None:
    """Learners at several stages: one read the first lecture and had the first assignment graded, one
    sent work that waits for grading, one has not started."""
    from sqlalchemy import select

    from lms.courses import assignments
    from lms.courses.models import Activity
    from lms.extensions import db

    activities = db.session.scalars(select(Activity).where(Activity.run_id == run.id).order_by(Activity.id)).all()
    lecture = next(a for a in activities if a.kind == "page")
    work = next(a for a in activities if a.kind == "assignment")
    content.record_view(lecture, users["teacher"])
    graded = assignments.submit(work, users["teacher"], text="<p>План внедрения ЦОС в 7-х классах: …</p>")
    assignments.grade(graded, levels=[2, 1, 1], feedback="<p>Хорошо; добавьте критерии оценивания.</p>",
                      by=users["methodologist"])
    content.record_view(lecture, users["teacher_gym3"])
    assignments.submit(work, users["teacher_gym3"], text="<p>Черновик плана урока с цифровыми ресурсами.</p>")
