"""Demo question bank: the municipal bank of olympiad training tasks kept by the ЦРО and shared with the
city's schools (imported from GIFT, as a methodologist would), with one embedded-answers question."""

from __future__ import annotations

from sqlalchemy import select

from lms.assessment import banks
from lms.assessment.models import Question
from lms.extensions import db

OLYMPIAD_GIFT = r"""// Муниципальный банк заданий для подготовки к школьному этапу ВсОШ
$CATEGORY: Математика/5–6 классы

::Дроби::Какая из дробей больше?{=3/4#Верно\: 3/4 \= 0,75 ~2/3#2/3 ≈ 0,67 ~5/8#5/8 \= 0,625}

::Периметр::Периметр квадрата 24 см. Чему равна его сторона, в сантиметрах?{#6:0}

::Чётность::Сумма двух нечётных чисел всегда чётна.{T#Подумайте\: 1 + 3 \= 4#Верно}

$CATEGORY: Физика/7 класс

::Единица силы::Как называется единица силы в СИ?{=ньютон =%50%Н#Полностью: ньютон}

::Учёные::Сопоставьте открытие и учёного.{=Закон всемирного тяготения -> Ньютон =Закон Архимеда -> Архимед =Закон Ома -> Ом}

::Скорость::Автомобиль проехал 120 км за 1,5 часа. Его средняя скорость, км/ч?{#80:0.5####Скорость \= путь / время.}

$CATEGORY: Русский язык/Орфография

::Пропущенная буква::В слове «к_рова» пропущена буква {~а =о ~е}.

::Эссе о языке::Напишите 5–7 предложений о том, почему важно писать грамотно.{}
"""

CLOZE = ("В слове «ра{1:MULTICHOICE:=с~з}сказ» пишется одна «с»; корень слова «подъезд» — "
         "{1:SHORTANSWER:=езд#Верно~%50%ъезд#Твёрдый знак — разделительный, он не входит в корень}.")


ESSAY_RUBRIC = ("Содержание: мысль не раскрыта = 0; раскрыта частично = 1; раскрыта полностью = 2\n"
                "Грамотность: много ошибок = 0; одна-две ошибки = 1; без ошибок = 2")


def load_banks(orgs: dict, users: dict) -> None:
    methodologist = users["methodologist"]
    bank = banks.create_bank(name="Олимпиадная подготовка: муниципальный банк", organization=orgs["cro"],
                             by=methodologist, description="Задания для подготовки к школьному этапу ВсОШ.")
    banks.import_questions(bank, OLYMPIAD_GIFT.encode(), "gift", by=methodologist, dry_run=False)
    banks.add_question(bank, {"qtype": "cloze", "text": CLOZE}, by=methodologist, name="Состав слова",
                       category=banks.category_path(bank, "Русский язык/Орфография"), subject="Русский язык",
                       grade=6, difficulty="medium", tags=["ВсОШ", "морфемика"])
    essay = db.session.scalar(select(Question).where(Question.bank_id == bank.id, Question.name == "Эссе о языке"))
    # The methodologist's second version: a rubric for the graders and a file (a photo of a handwritten draft).
    banks.edit_question(essay, {**banks.current(essay).definition, "attachments": 1, "rubric": ESSAY_RUBRIC},
                        by=methodologist)
    banks.share(bank, [orgs[code].id for code in ("school1", "gym3", "lyceum6")], by=methodologist)


def load_quizzes(orgs: dict, users: dict) -> None:
    """A diagnostic quiz in the lyceum's profile course for school students: fixed questions of the shared
    olympiad bank and a random one from its mathematics, two questions a page, 30 minutes, two attempts."""
    from lms.assessment import quizzes
    from lms.assessment.models import QuestionBank
    from lms.courses import content
    from lms.courses.models import CourseRun, Section

    teacher = users["teacher_lyceum6"]
    run = db.session.scalar(select(CourseRun).where(CourseRun.host_organization_id == orgs["lyceum6"].id)
                            .order_by(CourseRun.id))
    if run is None:
        return
    section = db.session.scalar(select(Section).where(Section.run_id == run.id).order_by(Section.position))
    activity = content.save_activity(section, {
        "kind": "quiz", "title": "Входная диагностика", "planned_hours": 1, "completion": "graded",
        "body": "<p>Проверьте себя перед началом курса: задания муниципального банка олимпиадной подготовки.</p>"},
        by=teacher)
    quiz = quizzes.quiz_of(activity)
    quizzes.save_settings(quiz, {"time_limit": "30", "attempts_allowed": "2", "max_grade": "10", "pass_grade": "5",
                                 "questions_per_page": "2", "grade_method": "highest"}, by=teacher)
    bank = db.session.scalar(select(QuestionBank).where(QuestionBank.organization_id == orgs["cro"].id))
    by_name = {q.name: q for q in db.session.scalars(select(Question).where(Question.bank_id == bank.id))}
    quizzes.add_questions(quiz, [by_name[n].id for n in ("Чётность", "Единица силы", "Учёные", "Скорость",
                                                         "Пропущенная буква", "Состав слова", "Эссе о языке")],
                          by=teacher)
    quizzes.add_random(quiz, category_id=banks.category_path(bank, "Математика/5–6 классы").id, count=1, by=teacher)
