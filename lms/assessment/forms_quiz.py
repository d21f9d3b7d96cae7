"""Forms of the teacher's quiz pages. They carry the input; the rules (ranges, choices, which settings go
together) live in ``lms.assessment.quizzes``, so the pages and the API report problems the same way. Numbers
are text fields so that a wrong value gets the service's message on its field (field names are the
service's). The review options are a table of checkboxes the template draws itself (``review-<moment>``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField

from lms.assessment.quizzes import BEHAVIOURS, GRADE_METHODS, NAVIGATION, OVERDUE
from lms.core.forms import select_choices


def _choices(labels: dict):
    return lambda: select_choices(labels.items())


class QuizSettingsForm(FlaskForm):
    # Timing
    opens_at = StringField(_l("Open the quiz"), description=_l("Date and time in the organization's time zone; "
                                                               "empty: open at once."))
    closes_at = StringField(_l("Close the quiz"), description=_l("Empty: never closes."))
    time_limit = StringField(_l("Time limit, minutes"), description=_l("0 or empty: no limit."))
    overdue = RadioField(_l("When time expires"), choices=_choices(OVERDUE), validate_choice=False)
    grace_period = StringField(_l("Submission grace period, minutes"),
                               description=_l("Only with a grace period: how long after the deadline an open "
                                              "attempt may still be submitted."))
    # Grade
    attempts_allowed = StringField(_l("Attempts allowed"), description=_l("0: unlimited."))
    grade_method = SelectField(_l("Grading method"), choices=_choices(GRADE_METHODS), validate_choice=False,
                               description=_l("Which attempt's grade counts when several are allowed."))
    max_grade = StringField(_l("Maximum grade"), description=_l("The quiz's grade in the gradebook is out of "
                                                                "this; fixed once learners have attempted."))
    pass_grade = StringField(_l("Grade to pass"), description=_l("Empty: no pass grade. A decimal comma is fine."))
    # Layout
    questions_per_page = StringField(_l("New page"), description=_l("Questions per page as questions are added; "
                                                                    "0: all on one page."))
    navigation = SelectField(_l("Navigation method"), choices=_choices(NAVIGATION), validate_choice=False,
                             description=_l("Sequential: pages in order, no going back."))
    # Question behaviour
    shuffle_questions = BooleanField(_l("Shuffle questions within pages"))
    shuffle_answers = BooleanField(_l("Shuffle within questions"),
                                   description=_l("The choices of a question, if the question allows it."))
    behaviour = SelectField(_l("How questions behave"), choices=_choices(BEHAVIOURS), validate_choice=False)
    tries = StringField(_l("Tries per question"), description=_l("Interactive behaviour only."))
    penalty = StringField(_l("Penalty for each extra try, %"),
                          description=_l("Interactive behaviour only: the share of the question's mark each "
                                         "extra try costs."))

    TIMING = ("opens_at", "closes_at", "time_limit", "overdue", "grace_period")
    GRADE = ("attempts_allowed", "grade_method", "max_grade", "pass_grade")
    LAYOUT = ("questions_per_page", "navigation")
    BEHAVIOUR = ("shuffle_questions", "shuffle_answers", "behaviour", "tries", "penalty")


class OverrideForm(FlaskForm):
    user = SelectField(_l("Learner"), coerce=str, validate_choice=False)
    group = SelectField(_l("Group"), coerce=str, validate_choice=False,
                        description=_l("Choose a learner or a group. A learner's own override wins over their "
                                       "group's."))
    opens_at = StringField(_l("Open the quiz"), description=_l("Empty: as the quiz."))
    closes_at = StringField(_l("Close the quiz"), description=_l("Empty: as the quiz."))
    time_limit = StringField(_l("Time limit, minutes"), description=_l("Empty: as the quiz."))
    attempts_allowed = StringField(_l("Attempts allowed"), description=_l("Empty: as the quiz; 0: unlimited."))
