"""Course runs (потоки): one delivery of a programme version with dates, a host organization, staff,
groups, capacity, enrolment methods and the enrolments themselves."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import TimestampMixin, utcnow
from lms.extensions import db


class RunStaffRole(enum.StrEnum):
    TEACHER = "teacher"
    ASSISTANT = "assistant"


class EnrolmentStatus(enum.StrEnum):
    REQUESTED = "requested"    # waits for a manager's approval
    WAITLISTED = "waitlisted"  # the run was full; takes the next free place
    ACTIVE = "active"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"


#: Statuses that hold a place in the run.
HOLDS_PLACE = frozenset({EnrolmentStatus.ACTIVE, EnrolmentStatus.COMPLETED})
#: Statuses from which a person may ask again.
ENDED = frozenset({EnrolmentStatus.WITHDRAWN, EnrolmentStatus.REJECTED})


class EnrolmentMethod(enum.StrEnum):
    MANUAL = "manual"
    SELF = "self"
    KEY = "key"
    CSV = "csv"
    COHORT = "cohort"  # a whole class or organization


class CourseRun(TimestampMixin, db.Model):
    __tablename__ = "course_runs"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="dates_in_order"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        Index("ix_course_runs_published_starts", "is_published", "starts_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    host_organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    #: E.g. «Поток 1, осень 2026»; the programme's title is shown with it.
    name: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    #: None: no limit.
    capacity: Mapped[int | None]
    #: Shown in the network's catalogue (a person may find it and ask to enrol).
    is_published: Mapped[bool] = mapped_column(default=False)
    self_enrolment: Mapped[bool] = mapped_column(default=False)
    requires_approval: Mapped[bool] = mapped_column(default=True)
    enrolment_key: Mapped[str | None] = mapped_column(String(64))
    #: Network form: learners of organizations other than the host may enrol.
    is_network: Mapped[bool] = mapped_column(default=False)
    #: A template run: new runs of the programme copy its content.
    is_template: Mapped[bool] = mapped_column(default=False)
    template_run_id: Mapped[int | None] = mapped_column(ForeignKey("course_runs.id", ondelete="SET NULL"))
    cancelled_at: Mapped[datetime | None]
    #: Bumped by every enrolment decision: taking it is how a decision waits for the one before it.
    lock_version: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Revisions of what the run's pages show (``lms.courses.revisions``): its content (sections,
    #: activities, groups, staff, announcements, grade items) and its learners' state (enrolments,
    #: progress, submissions, attestation, grades). Bumped on every such change; cached pages key on them.
    content_rev: Mapped[int] = mapped_column(default=0, server_default="0")
    learners_rev: Mapped[int] = mapped_column(default=0, server_default="0")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    programme = relationship("Programme")
    host_organization = relationship("Organization")
    staff: Mapped[list[RunStaff]] = relationship(back_populates="run", cascade="all, delete-orphan",
                                                 order_by="RunStaff.id")
    groups: Mapped[list[RunGroup]] = relationship(back_populates="run", cascade="all, delete-orphan",
                                                  order_by="RunGroup.name")

    def __str__(self) -> str:
        return self.name


class RunStaff(db.Model):
    __tablename__ = "run_staff"
    __table_args__ = (UniqueConstraint("run_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("course_runs.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16), default=RunStaffRole.TEACHER)

    run: Mapped[CourseRun] = relationship(back_populates="staff")
    user = relationship("User")


class RunGroup(db.Model):
    __tablename__ = "run_groups"
    __table_args__ = (UniqueConstraint("run_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("course_runs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))

    run: Mapped[CourseRun] = relationship(back_populates="groups")


class Enrolment(TimestampMixin, db.Model):
    __tablename__ = "enrolments"
    __table_args__ = (
        UniqueConstraint("run_id", "user_id"),
        Index("ix_enrolments_run_status", "run_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("course_runs.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("run_groups.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(16))
    #: What the person wrote when asking to enrol.
    note: Mapped[str] = mapped_column(String(500), default="")
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: Revision of this learner's state in the run (progress, submissions, grades), as ``CourseRun.learners_rev``.
    rev: Mapped[int] = mapped_column(default=0, server_default="0")

    run = relationship("CourseRun")
    user = relationship("User", foreign_keys=[user_id])
    group = relationship("RunGroup")
