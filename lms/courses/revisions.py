"""Revisions of what a run's pages show, bumped by every change, whoever makes it.

A course page or a gradebook is cached (``lms.core.pagecache``) under the revisions of the data it shows,
read from the database on every request:

- ``CourseRun.content_rev``: the run itself, its sections, activities, groups, staff, announcements, grade
  categories and items;
- ``CourseRun.learners_rev``: any learner's enrolment, progress, submissions, attestation records and grades;
- ``Enrolment.rev``: that one learner's state (so one learner's work does not throw away every other
  learner's cached course page).

Nobody has to remember to bump them: a ``before_flush`` hook of every ORM session looks at what the flush
writes and bumps the revisions in the same transaction, so they commit (or roll back) with the change. A
change of a person's name bumps the runs they learn or teach in (names appear in gradebooks and under
announcements). The run's row is updated before the changed rows are written, in the same order as the
run lock of ``lms.courses.runs`` (run first, then its rows), so the two never wait for each other in a
circle.

Bulk Core statements on these tables bypass the hook; the courses code uses none (``bench/`` seeds with
them before anything is cached).
"""

from __future__ import annotations

from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session

from lms.accounts.models import User
from lms.courses.models import (
    Activity,
    ActivityProgress,
    Announcement,
    AttestationRecord,
    CourseRun,
    Enrolment,
    GradeCategory,
    GradeChange,
    GradeItem,
    GradeOverride,
    RunGroup,
    RunStaff,
    Section,
    Submission,
    SubmissionFile,
)

#: Rows of a run's content: they carry ``run_id``.
CONTENT = (Section, Activity, Announcement, RunGroup, RunStaff, GradeCategory, GradeItem)
#: Rows of one learner's state in a run that course pages and gradebooks show: they carry ``run_id`` and
#: ``user_id``. (Certificates are not shown there: issuing a thousand does not touch the revisions.)
LEARNER = (Enrolment, ActivityProgress, Submission, AttestationRecord, GradeChange)
#: Name fields shown on course pages.
NAME_FIELDS = ("surname", "name", "patronymic")
#: Columns of the run that its lock and these revisions change: not content.
RUN_BOOKKEEPING = frozenset({"lock_version", "content_rev", "learners_rev", "updated_at"})


def _changed(session: Session, obj) -> bool:
    return session.is_modified(obj, include_collections=False)


def _run_of(obj) -> int | None:
    run_id = obj.run_id
    if run_id is None:
        run = getattr(obj, "run", None)
        run_id = run.id if run is not None else None
    return run_id


def _user_of(obj) -> int | None:
    user_id = getattr(obj, "user_id", None)
    if user_id is None:
        user = getattr(obj, "user", None)
        user_id = user.id if user is not None else None
    return user_id


def _learner_row(session: Session, obj) -> tuple[int | None, int | None]:
    """(run id, user id) of a learner-state row, including those that reach the run through a parent."""
    if isinstance(obj, SubmissionFile):
        parent = obj.submission if obj.submission is not None else session.get(Submission, obj.submission_id)
        return (parent.run_id, parent.user_id) if parent is not None else (None, None)
    if isinstance(obj, GradeOverride):
        item = session.get(GradeItem, obj.item_id) if obj.item_id is not None else None
        return (item.run_id if item is not None else None), obj.user_id
    return _run_of(obj), _user_of(obj)


def _run_changed(obj: CourseRun) -> bool:
    state = inspect(obj)
    return any(attr.history.has_changes() for attr in state.attrs if attr.key not in RUN_BOOKKEEPING)


def _names_changed(obj: User) -> bool:
    state = inspect(obj)
    return any(state.attrs[key].history.has_changes() for key in NAME_FIELDS)


@event.listens_for(Session, "before_flush")
def _bump_revisions(session: Session, _flush_context, _instances) -> None:
    content: set[int] = set()
    learners: set[tuple[int, int]] = set()
    renamed: set[int] = set()
    # Session.new/dirty/deleted build a fresh set on every access: read them once, not once per object
    # (a bulk issue or enrolment flushes thousands).
    new, dirty, deleted = session.new, session.dirty, session.deleted
    for obj in (*new, *dirty, *deleted):
        if obj in dirty and not _changed(session, obj):
            continue
        if isinstance(obj, CONTENT):
            run_id = _run_of(obj)
            if run_id is not None:
                content.add(run_id)
        elif isinstance(obj, (*LEARNER, SubmissionFile, GradeOverride)):
            run_id, user_id = _learner_row(session, obj)
            if run_id is not None and user_id is not None:
                learners.add((run_id, user_id))
        elif isinstance(obj, CourseRun):
            if obj.id is not None and obj not in new and (obj in deleted or _run_changed(obj)):
                content.add(obj.id)
        elif isinstance(obj, User) and obj.id is not None and obj in dirty and _names_changed(obj):
            renamed.add(obj.id)
    if not (content or learners or renamed):
        return
    bump(session, content=content, learners=learners, renamed=renamed)


def bump(session: Session, *, content=(), learners=(), renamed=()) -> None:
    """Bump the revisions: ``content`` run ids, ``learners`` (run id, user id) pairs, and the runs in which
    the ``renamed`` people learn or teach. Runs first, then enrolments (see the module's note on order)."""
    runs = CourseRun.__table__
    enrolments = Enrolment.__table__
    conn = session.connection()
    learner_runs = {run_id for run_id, _u in learners}
    if renamed:
        ids = sorted(renamed)
        taught = set(session.execute(select(RunStaff.run_id).where(RunStaff.user_id.in_(ids))).scalars())
        learnt = set(session.execute(select(Enrolment.run_id).where(Enrolment.user_id.in_(ids))).scalars())
        content = set(content) | taught
        learner_runs |= learnt
    # updated_at is kept: a revision is bookkeeping, not a change of the run or the enrolment.
    for run_id in sorted(set(content) | learner_runs):
        values = {"updated_at": runs.c.updated_at}
        if run_id in content:
            values["content_rev"] = runs.c.content_rev + 1
        if run_id in learner_runs:
            values["learners_rev"] = runs.c.learners_rev + 1
        conn.execute(update(runs).where(runs.c.id == run_id).values(**values))
    by_run: dict[int, list[int]] = {}
    for run_id, user_id in sorted(learners):
        by_run.setdefault(run_id, []).append(user_id)
    for run_id, user_ids in by_run.items():  # one statement per run, however many learners (bulk grading)
        conn.execute(update(enrolments).where(enrolments.c.run_id == run_id, enrolments.c.user_id.in_(user_ids))
                     .values(rev=enrolments.c.rev + 1, updated_at=enrolments.c.updated_at))
    if renamed:
        conn.execute(update(enrolments).where(enrolments.c.user_id.in_(sorted(renamed)))
                     .values(rev=enrolments.c.rev + 1, updated_at=enrolments.c.updated_at))
