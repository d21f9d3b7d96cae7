"""Question banks: owned by an organization (and shared with chosen others) or by a course run; a category
tree; questions whose every edit is a new version (attempts keep the version they were given)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import TimestampMixin, utcnow
from lms.extensions import db

DIFFICULTIES = ("easy", "medium", "hard")


class QuestionBank(TimestampMixin, db.Model):
    __tablename__ = "question_banks"
    __table_args__ = (
        CheckConstraint("(organization_id IS NULL) <> (run_id IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("course_runs.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    organization = relationship("Organization")
    run = relationship("CourseRun")
    shares: Mapped[list[BankShare]] = relationship(back_populates="bank", cascade="all, delete-orphan")


class BankShare(db.Model):
    """Another organization whose teachers may use (not edit) the bank's questions in their quizzes."""

    __tablename__ = "question_bank_shares"
    __table_args__ = (UniqueConstraint("bank_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("question_banks.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)

    bank: Mapped[QuestionBank] = relationship(back_populates="shares")
    organization = relationship("Organization")


class QuestionCategory(db.Model):
    __tablename__ = "question_categories"
    __table_args__ = (Index("ix_question_categories_bank_parent", "bank_id", "parent_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("question_banks.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("question_categories.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))


class Question(TimestampMixin, db.Model):
    __tablename__ = "questions"
    __table_args__ = (Index("ix_questions_bank_category", "bank_id", "category_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("question_banks.id", ondelete="CASCADE"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("question_categories.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(255))
    qtype: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(120), default="")
    #: School grade (1–11) the question is for, if any.
    grade: Mapped[int | None]
    difficulty: Mapped[str | None] = mapped_column(String(10))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The version new quizzes and attempts get.
    current_version: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    versions: Mapped[list[QuestionVersion]] = relationship(back_populates="question", cascade="all, delete-orphan",
                                                           order_by="QuestionVersion.version")


class QuestionVersion(db.Model):
    __tablename__ = "question_versions"
    __table_args__ = (UniqueConstraint("question_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    version: Mapped[int]
    #: The cleaned definition (``lms.assessment.qtypes``).
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    question: Mapped[Question] = relationship(back_populates="versions")


# --- quizzes ----------------------------------------------------------------------------------------

class OverdueHandling:
    AUTOSUBMIT = "autosubmit"    # the attempt is submitted with what was saved by the deadline
    GRACE = "grace"              # it may still be submitted (not changed) during the grace period
    ABANDON = "abandon"          # it must be submitted before the deadline, or it never counts

    ALL = (AUTOSUBMIT, GRACE, ABANDON)


class AttemptState:
    IN_PROGRESS = "inprogress"
    OVERDUE = "overdue"          # past the deadline, inside the grace period: submit only
    FINISHED = "finished"
    ABANDONED = "abandoned"      # never submitted in time: does not count

    OPEN = (IN_PROGRESS, OVERDUE)


class Quiz(TimestampMixin, db.Model):
    """A quiz: the settings Moodle users know (timing, attempts, grading, layout, behaviour, review)."""

    __tablename__ = "quizzes"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), unique=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("course_runs.id", ondelete="CASCADE"), index=True)
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    #: Seconds (None: no limit).
    time_limit: Mapped[int | None]
    overdue: Mapped[str] = mapped_column(String(10), default=OverdueHandling.AUTOSUBMIT)
    #: Seconds after the deadline during which an overdue attempt may still be submitted.
    grace_period: Mapped[int] = mapped_column(default=0)
    #: 0: unlimited.
    attempts_allowed: Mapped[int] = mapped_column(default=0)
    grade_method: Mapped[str] = mapped_column(String(8), default="highest")
    max_grade: Mapped[int] = mapped_column(default=10)
    pass_grade: Mapped[float | None]
    #: When questions are added: how many to a page (0: all on one page).
    questions_per_page: Mapped[int] = mapped_column(default=1)
    navigation: Mapped[str] = mapped_column(String(10), default="free")
    shuffle_questions: Mapped[bool] = mapped_column(default=False)
    shuffle_answers: Mapped[bool] = mapped_column(default=True)
    behaviour: Mapped[str] = mapped_column(String(12), default="deferred")
    #: Interactive behaviour: tries per question and the share of the mark each extra try costs.
    tries: Mapped[int] = mapped_column(default=3)
    penalty: Mapped[float] = mapped_column(default=1 / 3)
    #: {moment: [what is shown]}; moments «during», «immediately», «open», «closed».
    review: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Bumped when the questions or their layout change (a cached layout is rebuilt).
    rev: Mapped[int] = mapped_column(default=0)

    activity = relationship("Activity")
    slots: Mapped[list[QuizSlot]] = relationship(back_populates="quiz", cascade="all, delete-orphan",
                                                 order_by="QuizSlot.position")


class QuizSlot(db.Model):
    """A place in the quiz: a given question (the latest version, or a pinned one) or a question drawn at random
    from a category (with its subcategories) and tags when the attempt starts."""

    __tablename__ = "quiz_slots"
    __table_args__ = (UniqueConstraint("quiz_id", "position"),
                      CheckConstraint("(question_id IS NULL) <> (category_id IS NULL)", name="fixed_or_random"))

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"))
    position: Mapped[int]
    page: Mapped[int] = mapped_column(default=1)
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id", ondelete="RESTRICT"), index=True)
    #: A pinned version (None: the question's current version when the attempt starts).
    version: Mapped[int | None]
    category_id: Mapped[int | None] = mapped_column(ForeignKey("question_categories.id", ondelete="RESTRICT"),
                                                    index=True)
    include_subcategories: Mapped[bool] = mapped_column(default=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    max_mark: Mapped[float] = mapped_column(default=1.0)

    quiz: Mapped[Quiz] = relationship(back_populates="slots")
    question = relationship("Question")
    category = relationship("QuestionCategory")


class QuizOverride(db.Model):
    """Other dates, time or attempts for one learner or one group (accommodations). A learner's own override
    wins over their group's."""

    __tablename__ = "quiz_overrides"
    __table_args__ = (UniqueConstraint("quiz_id", "user_id"), UniqueConstraint("quiz_id", "group_id"),
                      CheckConstraint("(user_id IS NULL) <> (group_id IS NULL)", name="user_or_group"))

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("run_groups.id", ondelete="CASCADE"))
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    time_limit: Mapped[int | None]
    attempts_allowed: Mapped[int | None]

    user = relationship("User")
    group = relationship("RunGroup")


class QuizAttempt(db.Model):
    __tablename__ = "quiz_attempts"
    __table_args__ = (
        UniqueConstraint("quiz_id", "user_id", "number"),
        # at most one open attempt per learner and quiz, however many «Start» requests race
        Index("uq_quiz_attempts_open", "quiz_id", "user_id", unique=True,
              sqlite_where=text("state IN ('inprogress', 'overdue')"),
              postgresql_where=text("state IN ('inprogress', 'overdue')")),
        Index("ix_quiz_attempts_state_deadline", "state", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"))
    run_id: Mapped[int] = mapped_column(ForeignKey("course_runs.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    state: Mapped[str] = mapped_column(String(10), default=AttemptState.IN_PROGRESS)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The server's deadline: the start plus the time limit, or the close date if sooner (None: none).
    deadline: Mapped[datetime | None]
    #: The grace period this attempt got (seconds), fixed at the start.
    grace: Mapped[int] = mapped_column(default=0)
    overdue: Mapped[str] = mapped_column(String(10), default=OverdueHandling.AUTOSUBMIT)
    finished_at: Mapped[datetime | None]
    #: Sum of the marks (None while a question waits for a person).
    sum_marks: Mapped[float | None]
    max_marks: Mapped[float] = mapped_column(default=0.0)
    #: The page a sequential quiz has reached (it never goes back).
    page: Mapped[int] = mapped_column(default=1)
    pages: Mapped[int] = mapped_column(default=1)
    is_preview: Mapped[bool] = mapped_column(default=False)

    quiz: Mapped[Quiz] = relationship()
    user = relationship("User")
    questions: Mapped[list[QuestionAttempt]] = relationship(back_populates="attempt", cascade="all, delete-orphan",
                                                            order_by="QuestionAttempt.slot")


class QuestionAttempt(db.Model):
    """One question of one attempt: the version it was given, its arrangement, the last saved response (with
    the client's sequence number: a save is applied once, and an older one never overwrites a newer one) and
    the mark."""

    __tablename__ = "question_attempts"
    __table_args__ = (UniqueConstraint("attempt_id", "slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id", ondelete="CASCADE"))
    #: The question's number in this attempt (the quiz's order, or shuffled within pages).
    slot: Mapped[int]
    page: Mapped[int] = mapped_column(default=1)
    #: The quiz's slot it fills (its mark follows the slot's on a regrade).
    quiz_slot_id: Mapped[int | None] = mapped_column(ForeignKey("quiz_slots.id", ondelete="SET NULL"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="RESTRICT"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("question_versions.id", ondelete="RESTRICT"), index=True)
    max_mark: Mapped[float] = mapped_column(default=1.0)
    order: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    response: Mapped[Any] = mapped_column(JSON, nullable=True)
    seq: Mapped[int] = mapped_column(default=0)
    saved_at: Mapped[datetime | None]
    #: The share of the mark (None: not graded yet, or waiting for a person).
    fraction: Mapped[float | None]
    state: Mapped[str] = mapped_column(String(12), default="todo")
    #: Interactive behaviour: tries checked so far; ``checked`` once the question is settled.
    tries: Mapped[int] = mapped_column(default=0)
    checked: Mapped[bool] = mapped_column(default=False)
    flagged: Mapped[bool] = mapped_column(default=False)
    comment: Mapped[str] = mapped_column(Text, default="")
    #: An essay graded with its rubric: the chosen level per criterion (indexes into the version's rubric).
    rubric_levels: Mapped[list[int] | None] = mapped_column(JSON)
    graded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    graded_at: Mapped[datetime | None]

    attempt: Mapped[QuizAttempt] = relationship(back_populates="questions")
    version = relationship("QuestionVersion")
    files: Mapped[list[AttemptFile]] = relationship(back_populates="question_attempt", cascade="all, delete-orphan",
                                                    passive_deletes=True, order_by="AttemptFile.id")


class AttemptFile(db.Model):
    """A file the learner attached to an essay of an attempt (the object is in storage under ``key``)."""

    __tablename__ = "attempt_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_attempt_id: Mapped[int] = mapped_column(ForeignKey("question_attempts.id", ondelete="CASCADE"),
                                                     index=True)
    key: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(default=0)
    content_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    question_attempt: Mapped[QuestionAttempt] = relationship(back_populates="files")


class QuizGrade(db.Model):
    """A learner's quiz grade by the quiz's grading method (what the gradebook shows)."""

    __tablename__ = "quiz_grades"
    __table_args__ = (UniqueConstraint("quiz_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    grade: Mapped[float]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
