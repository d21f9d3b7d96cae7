"""What an attempt's page shows of its questions, one rule for the pages and the API."""

from __future__ import annotations

from lms.assessment import attempt_files, attempts, render
from lms.assessment.models import QuestionAttempt, QuizAttempt


def question_views(attempt: QuizAttempt, qas: list[QuestionAttempt], items: frozenset[str]) -> list[dict]:
    """Each question as the learner sees it: ``qa``, its ``view`` (options in the attempt's order, nothing of
    the key), its ``number``, its ``files`` (None when it takes none), and its marks and feedback only where the
    review options ``items`` allow them now (``attempts.question_outcome``: left out otherwise)."""
    numbers = attempts.question_numbers(attempt)
    takes = {qa.slot for qa in qas if attempt_files.allowed(qa.version.definition)}
    files = attempt_files.files_by_slot(attempt) if takes else {}
    out = []
    for qa in qas:
        shown = {"qa": qa, "view": render.view(qa.version.definition, qa.order), "number": numbers.get(qa.slot),
                 "files": files.get(qa.slot, []) if qa.slot in takes else None}
        shown.update(attempts.question_outcome(attempt, qa, items))
        out.append(shown)
    return out
