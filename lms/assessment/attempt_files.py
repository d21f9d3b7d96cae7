"""Files a learner attaches to an essay of an attempt («Файлы к ответу», when the question allows them).

They follow the rules of saving an answer: only the attempt's owner, only while it is open and before its
deadline, only on the current page of a sequential quiz, and no more files than the question allows. The
object goes to storage first and its row is written after; a file removed while the attempt is open is deleted
from storage once the removal is committed (``discard``). An essay with files and no text is an answer: it
waits for a teacher like any other.

Plain functions: they flush, never commit, and raise ``ValidationError``/``Conflict``/``NotFound``.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.exceptions import NotFound

from lms.assessment import attempts
from lms.assessment.models import AttemptFile, QuestionAttempt, QuizAttempt
from lms.core.db import utcnow
from lms.core.errors import ValidationError
from lms.core.storage import get_storage
from lms.courses.content import Upload, check_upload
from lms.extensions import db

logger = logging.getLogger(__name__)


def allowed(definition: dict) -> int:
    """How many files an answer to the question may carry (only essays take any)."""
    return int(definition.get("attachments") or 0) if definition.get("qtype") == "essay" else 0


def field(slot: int) -> str:
    """The form field (and error field) of a question's files."""
    return f"{attempts.prefix(slot)}-files"


def _open_question(attempt_id: int, user_id: int, slot: int, now: datetime) -> tuple[QuestionAttempt, int]:
    """The learner's question that may take files now, and how many it allows."""
    row = attempts.answerable(attempt_id, user_id, now)  # the same checks as a save
    qa = db.session.scalar(select(QuestionAttempt).where(QuestionAttempt.attempt_id == attempt_id,
                                                         QuestionAttempt.slot == slot))
    if qa is None:
        raise ValidationError(_("The attempt has no question %(n)d.", n=slot), field="slot")
    definition = qa.version.definition
    limit = allowed(definition)
    if not limit:
        raise ValidationError(_("Question %(n)d takes no files.", n=slot), field=field(slot))
    if row.navigation == "sequential" and qa.page != row.page:
        raise attempts.AttemptClosed(_("This quiz is answered page by page: question %(n)d is not on the current "
                                       "page.", n=slot))
    if qa.checked:
        raise attempts.AttemptClosed(_("Question %(n)d is already checked: its answer is final.", n=slot))
    return qa, limit


def attach(attempt_id: int, user_id: int, slot: int, uploads: list[Upload], *,
           now: datetime | None = None) -> list[AttemptFile]:
    """Store the learner's files for the essay in ``slot``; every file is checked before any is stored."""
    now = now or utcnow()
    qa, allowed = _open_question(attempt_id, user_id, slot, now)
    uploads = [u for u in uploads if u.filename]
    if not uploads:
        raise ValidationError(_("Choose a file."), field=field(slot))
    held = db.session.scalar(select(func.count()).select_from(AttemptFile)
                             .where(AttemptFile.question_attempt_id == qa.id)) or 0
    if held + len(uploads) > allowed:
        raise ValidationError(_("Question %(n)d takes at most %(m)d files; %(held)d are attached.",
                                n=slot, m=allowed, held=held), field=field(slot))
    for upload in uploads:
        try:
            upload.filename = check_upload(upload.filename, upload.length)
        except ValidationError as exc:
            raise ValidationError(f"{upload.filename}: {exc.message}", field=field(slot)) from None
    storage = get_storage()
    attempt_run = db.session.scalar(select(QuizAttempt.run_id).where(QuizAttempt.id == attempt_id))
    added = []
    for upload in uploads:
        # a token of its own per file: two files of one name never overwrite each other
        key = f"runs/{attempt_run}/attempts/{attempt_id}/{slot}/{secrets.token_hex(8)}/{upload.filename}"
        stored = storage.put(key, upload.stream, length=upload.length, content_type=upload.content_type)
        row = AttemptFile(question_attempt_id=qa.id, key=key, name=upload.filename, size=stored.size,
                          content_type=upload.content_type[:100], created_at=now)
        db.session.add(row)
        added.append(row)
    db.session.flush()
    return added


def detach(attempt_id: int, user_id: int, file_id: int, *, now: datetime | None = None) -> AttemptFile:
    """Remove one of the learner's files from an open attempt; returns the row (delete its object with
    ``discard`` after the commit)."""
    now = now or utcnow()
    row = db.session.scalar(select(AttemptFile).join(QuestionAttempt).where(
        AttemptFile.id == file_id, QuestionAttempt.attempt_id == attempt_id))
    if row is None:
        raise NotFound()
    _open_question(attempt_id, user_id, row.question_attempt.slot, now)
    db.session.delete(row)
    db.session.flush()
    return row


def discard(key: str) -> None:
    """Delete a removed file's object (after the removal is committed); a failure leaves only an orphan."""
    try:
        get_storage().delete(key)
    except Exception:  # the row is gone already: the object is unreachable, not lost work
        logger.warning("attempt file %s not deleted from storage", key, exc_info=True)


def files_by_slot(attempt: QuizAttempt) -> dict[int, list[AttemptFile]]:
    """The attempt's files per question, in one statement."""
    out: dict[int, list[AttemptFile]] = {}
    for slot, row in db.session.execute(
            select(QuestionAttempt.slot, AttemptFile).join(AttemptFile.question_attempt)
            .where(QuestionAttempt.attempt_id == attempt.id).order_by(AttemptFile.id)):
        out.setdefault(slot, []).append(row)
    return out


def readable(attempt_id: int, file_id: int, user) -> AttemptFile:
    """A file of the attempt, for those who read the attempt (``attempts.reads_as_staff``); NotFound otherwise."""
    row = db.session.get(AttemptFile, file_id)
    if row is None or row.question_attempt.attempt_id != attempt_id:
        raise NotFound()
    attempts.reads_as_staff(row.question_attempt.attempt, user)
    return row
