"""Demo programmes (seed 004: Dubna's PD programmes on digital transformation; seed 001: a network profile
course of a resource centre), each brought to a different stage of its lifecycle."""

from __future__ import annotations

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
