"""Programmes (ДПП): the designed course with its curriculum of modules and hours, reviews and versions.

A programme row is one *version*. Versions of the same programme share ``lineage_id`` (the id of the
first version). An approved version is frozen; a change makes a new draft version of the lineage.
Course runs (and certificates) point at the exact version they were delivered under.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import TimestampMixin, utcnow
from lms.extensions import db


class ProgrammeKind(enum.StrEnum):
    PD = "pd"                        # повышение квалификации
    RETRAINING = "retraining"        # профессиональная переподготовка
    PROFILE = "profile"              # профильный курс (сетевая форма)
    PREPROFILE = "preprofile"        # предпрофильный элективный курс
    OLYMPIAD = "olympiad"            # олимпиадная подготовка
    SUPPLEMENTARY = "supplementary"  # дополнительная общеразвивающая программа


#: Kinds that are additional professional programmes (ДПО) for adults, with a legal minimum of hours.
MIN_HOURS = {ProgrammeKind.PD: 16, ProgrammeKind.RETRAINING: 250}


class Direction(enum.StrEnum):
    """Направленность of a supplementary (общеразвивающая) programme."""

    TECHNICAL = "technical"
    NATURAL_SCIENCE = "natural_science"
    SOCIAL_HUMANITARIAN = "social_humanitarian"
    ARTS = "arts"
    PHYSICAL = "physical"
    TOURISM = "tourism"


class Audience(enum.StrEnum):
    TEACHERS = "teachers"
    MANAGERS = "managers"
    STUDENTS = "students"
    PARENTS = "parents"


class ProgrammeStatus(enum.StrEnum):
    DRAFT = "draft"
    REVIEW = "review"
    APPROVED = "approved"
    PUBLISHED = "published"
    ARCHIVED = "archived"


#: Statuses in which a version is frozen: a change makes a new version.
FROZEN = frozenset({ProgrammeStatus.APPROVED, ProgrammeStatus.PUBLISHED, ProgrammeStatus.ARCHIVED})


class ControlForm(enum.StrEnum):
    """Form of intermediate attestation of a module."""

    NONE = "none"
    CREDIT = "credit"                # зачёт
    GRADED_CREDIT = "graded_credit"  # дифференцированный зачёт
    EXAM = "exam"                    # экзамен
    TEST_WORK = "test_work"          # контрольная работа
    ESSAY = "essay"                  # реферат
    INTERVIEW = "interview"          # собеседование


class FinalAttestationForm(enum.StrEnum):
    TEST = "test"              # тестирование
    EXAM = "exam"              # экзамен
    PROJECT = "project"        # защита проекта
    FINAL_WORK = "final_work"  # защита итоговой работы


class ResultScale(enum.StrEnum):
    PASS_FAIL = "pass_fail"  # noqa: S105 - зачтено / не зачтено, not a password
    FIVE_POINT = "five_point"  # 5-балльная, с порогами в процентах
    POINTS = "points"          # баллы


#: Percent thresholds of the 5-point scale (RULES-RU.md example: > 85 → 5, 71–85 → 4, 51–70 → 3).
DEFAULT_FIVE_POINT = {"5": 86, "4": 71, "3": 51}


class Programme(TimestampMixin, db.Model):
    __tablename__ = "programmes"
    __table_args__ = (
        UniqueConstraint("lineage_id", "version"),
        CheckConstraint("total_hours > 0", name="total_hours_positive"),
        Index("ix_programmes_status_kind", "status", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The id of the first version; every version of one programme shares it.
    lineage_id: Mapped[int | None] = mapped_column(index=True)
    version: Mapped[int] = mapped_column(default=1)
    owner_organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(24))
    direction: Mapped[str | None] = mapped_column(String(32))
    audience: Mapped[str] = mapped_column(String(16))
    #: Who exactly (e.g. «учителя математики 5–9 классов»).
    audience_note: Mapped[str] = mapped_column(String(300), default="")
    subject: Mapped[str] = mapped_column(String(120), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    #: Планируемые результаты обучения.
    outcomes: Mapped[str] = mapped_column(Text, default="")
    total_hours: Mapped[int]
    academic_hour_minutes: Mapped[int] = mapped_column(default=45)
    #: Hours of the variable part: a learner takes optional modules worth this many hours.
    variable_hours: Mapped[int] = mapped_column(default=0)
    final_attestation_form: Mapped[str] = mapped_column(String(16))
    final_attestation_hours: Mapped[int] = mapped_column(default=0)
    result_scale: Mapped[str] = mapped_column(String(16))
    #: 5-point scale: the lowest percent for each mark {"5": 86, "4": 71, "3": 51}.
    five_point_thresholds: Mapped[dict[str, Any]] = mapped_column(JSON, default=lambda: dict(DEFAULT_FIVE_POINT))
    #: Points scale: maximum and pass mark.
    max_points: Mapped[int | None]
    pass_points: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(16), default=ProgrammeStatus.DRAFT)
    submitted_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    archived_at: Mapped[datetime | None]

    owner_organization = relationship("Organization")
    author = relationship("User", foreign_keys=[author_id])
    modules: Mapped[list[CurriculumModule]] = relationship(
        back_populates="programme", cascade="all, delete-orphan", order_by="CurriculumModule.position")
    reviewers: Mapped[list[ProgrammeReviewer]] = relationship(
        back_populates="programme", cascade="all, delete-orphan", order_by="ProgrammeReviewer.id")
    reviews: Mapped[list[ProgrammeReview]] = relationship(
        back_populates="programme", cascade="all, delete-orphan", order_by="ProgrammeReview.id")

    @property
    def is_frozen(self) -> bool:
        return self.status in FROZEN

    def __str__(self) -> str:
        return self.title


class CurriculumModule(db.Model):
    """A row of the учебный план: a module with its hours by kind of work and its form of control."""

    __tablename__ = "curriculum_modules"
    __table_args__ = (
        UniqueConstraint("programme_id", "position"),
        CheckConstraint("lecture_hours >= 0 AND practice_hours >= 0 AND self_study_hours >= 0 "
                        "AND internship_hours >= 0", name="hours_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    lecture_hours: Mapped[int] = mapped_column(default=0)
    practice_hours: Mapped[int] = mapped_column(default=0)
    self_study_hours: Mapped[int] = mapped_column(default=0)
    internship_hours: Mapped[int] = mapped_column(default=0)
    control_form: Mapped[str] = mapped_column(String(16), default=ControlForm.NONE)
    #: A module of the variable part, chosen by the learner.
    is_optional: Mapped[bool] = mapped_column(default=False)

    programme: Mapped[Programme] = relationship(back_populates="modules")

    @property
    def total_hours(self) -> int:
        return self.lecture_hours + self.practice_hours + self.self_study_hours + self.internship_hours


class ProgrammeReviewer(db.Model):
    """A reviewer assigned to a version: a methodologist, or an expert of another organization."""

    __tablename__ = "programme_reviewers"
    __table_args__ = (UniqueConstraint("programme_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: The reviewer's current decision on this round of review: None (pending), "approve" or "return".
    decision: Mapped[str | None] = mapped_column(String(16))
    decided_at: Mapped[datetime | None]

    programme: Mapped[Programme] = relationship(back_populates="reviewers")
    user = relationship("User")


class ReviewAction(enum.StrEnum):
    SUBMIT = "submit"
    COMMENT = "comment"
    APPROVE = "approve"
    RETURN = "return"
    PUBLISH = "publish"
    ARCHIVE = "archive"
    WITHDRAW = "withdraw"


class ProgrammeReview(db.Model):
    """The review history of a version: submissions, comments, decisions, publication."""

    __tablename__ = "programme_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    #: The module the comment is about (None: the programme as a whole).
    module_id: Mapped[int | None] = mapped_column(ForeignKey("curriculum_modules.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    programme: Mapped[Programme] = relationship(back_populates="reviews")
    author = relationship("User")
    module = relationship("CurriculumModule")
