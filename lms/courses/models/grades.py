"""The gradebook of a run: grade items (assignments, module attestations, the final attestation, or
items a teacher adds), categories with weights, overrides with a reason, and the history of every change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import utcnow
from lms.extensions import db


class GradeCategory(db.Model):
    __tablename__ = "grade_categories"
    __table_args__ = (UniqueConstraint("run_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("course_runs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    #: «mean»: weighted mean of the items' percentages; «sum»: natural sum of points over the maximum.
    aggregation: Mapped[str] = mapped_column(String(8), default="mean")
    weight: Mapped[int] = mapped_column(default=1)


class GradeItem(db.Model):
    __tablename__ = "grade_items"
    __table_args__ = (Index("ix_grade_items_run", "run_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("course_runs.id", ondelete="CASCADE"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("grade_categories.id", ondelete="SET NULL"))
    #: «assignment», «module», «final» (from the course) or «manual».
    source: Mapped[str] = mapped_column(String(16))
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), unique=True)
    module_id: Mapped[int | None] = mapped_column(ForeignKey("curriculum_modules.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    max_points: Mapped[int] = mapped_column(default=100)
    weight: Mapped[int] = mapped_column(default=1)

    category = relationship("GradeCategory")


class GradeOverride(db.Model):
    """A grade set in the gradebook itself, replacing what the item's source says."""

    __tablename__ = "grade_overrides"
    __table_args__ = (UniqueConstraint("item_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("grade_items.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    points: Mapped[float]  # to hundredths, as a quiz's grade may be (7,5)
    reason: Mapped[str] = mapped_column(String(500))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class GradeChange(db.Model):
    """Every change of a learner's grade: who, when, the old and the new value, and why."""

    __tablename__ = "grade_changes"
    __table_args__ = (Index("ix_grade_changes_run_user", "run_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("course_runs.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    old: Mapped[str | None] = mapped_column(String(32))
    new: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(500), default="")
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    by = relationship("User", foreign_keys=[by_id])
