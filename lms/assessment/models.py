"""Question banks: owned by an organization (and shared with chosen others) or by a course run; a category
tree; questions whose every edit is a new version (attempts keep the version they were given)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
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
