"""A course run with a quiz of fixed and random questions, and learners in it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from lms.assessment import banks, quizzes
from lms.assessment.models import Question, QuestionBank, QuestionCategory, Quiz
from lms.courses import content, runs
from lms.courses.models import Activity, CourseRun, Section
from lms.extensions import db
from tests.courses.test_content import make_run

CAPITAL = {"qtype": "multichoice", "text": "Столица России?", "answers": [
    {"text": "Москва", "fraction": 1, "feedback": "Верно!"}, {"text": "Казань", "fraction": 0, "feedback": "Нет."},
    {"text": "Тверь", "fraction": 0}], "general_feedback": "Москва — столица с 1918 года."}
AUTHOR = {"qtype": "shortanswer", "text": "Автор «Евгения Онегина»", "answers": [
    {"text": "Пушкин", "fraction": 1}, {"text": "*Пушкин*", "fraction": 0.5}]}
PI = {"qtype": "numerical", "text": "Число π с точностью до сотых", "answers": [
    {"value": "3.14", "tolerance": "0.005", "fraction": 1}]}
ESSAY = {"qtype": "essay", "text": "Почему вы выбрали профессию учителя?", "min_words": 3}


def arithmetic(n: int) -> dict:
    return {"qtype": "shortanswer", "text": f"{n} + {n} = ?", "answers": [{"text": str(2 * n), "fraction": 1}]}


@dataclass
class QuizSetup:
    run: CourseRun
    activity: Activity
    quiz: Quiz
    bank: QuestionBank
    questions: dict[str, Question]
    category: QuestionCategory


def make_quiz_setup(world, *, random_count: int = 2, essay: bool = True, **settings) -> QuizSetup:
    run = make_run(world, is_network=True)
    runs.enrol(run, world.student_a, by=world.admin_a)
    runs.enrol(run, world.student_b, by=world.admin_a)
    bank = banks.create_bank(name="Аттестация", organization=world.school_a, by=world.teacher_a)
    questions = {}
    for name, d in (("capital", CAPITAL), ("author", AUTHOR), ("pi", PI)) + ((("essay", ESSAY),) if essay else ()):
        questions[name] = banks.add_question(bank, d, by=world.teacher_a, name=name)
    category = banks.category_path(bank, "Арифметика")
    for n in range(1, 6):
        banks.add_question(bank, arithmetic(n), by=world.teacher_a, name=f"сложение {n}", category=category)
    section = db.session.scalars(select(Section).where(Section.run_id == run.id).order_by(Section.position)).first()
    activity = content.save_activity(section, {"kind": "quiz", "title": "Итоговый тест", "planned_hours": 2,
                                               "completion": "graded"}, by=world.teacher_a)
    quiz = quizzes.quiz_of(activity)
    base = {"max_grade": 10, "questions_per_page": 2}
    quizzes.save_settings(quiz, {**base, **settings}, by=world.teacher_a)
    quizzes.add_questions(quiz, [q.id for q in questions.values()], by=world.teacher_a)
    if random_count:
        quizzes.add_random(quiz, category_id=category.id, count=random_count, by=world.teacher_a)
    db.session.commit()
    return QuizSetup(run, activity, quiz, bank, questions, category)


def right_values(qa) -> dict:
    """The form values of the right answer of an attempt's question (as the learner's page names them)."""
    from lms.assessment import render

    d = qa.version.definition
    response = {"multichoice": lambda: 0, "numerical": lambda: "3,14", "truefalse": lambda: True,
                "shortanswer": lambda: next(a["text"] for a in d["answers"] if a["fraction"] >= 1),
                "essay": lambda: "Потому что люблю детей и знания"}[d["qtype"]]()
    values = render.form_values(d, qa.order, response, "q")
    return {k[1:]: v for k, v in values.items()}
