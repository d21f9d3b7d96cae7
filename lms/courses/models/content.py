"""The content of a course run: sections (by default one per curriculum module) holding activities, each
with planned academic hours, access restrictions and a completion rule; what each learner has viewed or
completed; announcements to all learners."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import TimestampMixin, utcnow
from lms.extensions import db


class ActivityKind(enum.StrEnum):
    PAGE = "page"
    FILE = "file"
    LINK = "link"          # an external link or a video
    ASSIGNMENT = "assignment"
    QUIZ = "quiz"          # lms.assessment
    WEBINAR = "webinar"    # filled by the webinars issue
    SURVEY = "survey"      # filled by the surveys issue


#: Kinds whose engine lands with a later issue: they can be placed and planned, not yet taken.
SLOT_KINDS = frozenset({ActivityKind.WEBINAR, ActivityKind.SURVEY})


class CompletionRule(enum.StrEnum):
    NONE = "none"            # does not count toward completion
    VIEWED = "viewed"
    SUBMITTED = "submitted"
    GRADED = "graded"        # graded at or above the pass mark
    ATTENDED = "attended"    # attended minutes (webinars): a hook the webinars issue fills


class Section(db.Model):
    __tablename__ = "course_sections"
    __table_args__ = (UniqueConstraint("run_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("course_runs.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    #: The curriculum module the section delivers (None: e.g. an introduction).
    module_id: Mapped[int | None] = mapped_column(ForeignKey("curriculum_modules.id", ondelete="SET NULL"))

    activities: Mapped[list[Activity]] = relationship(
        back_populates="section", cascade="all, delete-orphan", order_by="Activity.position")
    module = relationship("CurriculumModule")


class Activity(TimestampMixin, db.Model):
    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_run_section_position", "run_id", "section_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("course_runs.id", ondelete="CASCADE"))
    section_id: Mapped[int] = mapped_column(ForeignKey("course_sections.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    #: Sanitised HTML: the page's text, or the description of other kinds.
    body: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(2000))
    file_key: Mapped[str | None] = mapped_column(String(255))
    file_name: Mapped[str | None] = mapped_column(String(255))
    file_size: Mapped[int | None]
    file_type: Mapped[str | None] = mapped_column(String(100))
    planned_hours: Mapped[int] = mapped_column(default=0)
    is_visible: Mapped[bool] = mapped_column(default=True)
    completion: Mapped[str] = mapped_column(String(16), default=CompletionRule.NONE)
    #: Kind-specific settings (an assignment's dates and grading).
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Access restrictions (all must hold).
    available_from: Mapped[datetime | None]
    available_until: Mapped[datetime | None]
    requires_activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id", ondelete="SET NULL"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("run_groups.id", ondelete="SET NULL"))

    section: Mapped[Section] = relationship(back_populates="activities")
    requires_activity = relationship("Activity", remote_side=[id])
    group = relationship("RunGroup")


class ActivityProgress(db.Model):
    """One learner's progress in one activity: first view, submission, completion."""

    __tablename__ = "activity_progress"
    __table_args__ = (UniqueConstraint("activity_id", "user_id"),
                      Index("ix_activity_progress_run_user", "run_id", "user_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("course_runs.id", ondelete="CASCADE"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    viewed_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    #: Minutes attended (webinars fill it).
    attended_minutes: Mapped[int] = mapped_column(default=0)


class Announcement(db.Model):
    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("course_runs.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author = relationship("User")


class SubmissionStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    GRADED = "graded"
    REOPENED = "reopened"  # graded below the pass mark: the learner may submit again


class Submission(TimestampMixin, db.Model):
    """A learner's work for an assignment: the latest attempt, its files, and its grade and feedback."""

    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("activity_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("course_runs.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(default=1)
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=SubmissionStatus.SUBMITTED)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    is_late: Mapped[bool] = mapped_column(default=False)
    points: Mapped[int | None]
    #: A rubric's chosen level per criterion (indexes into the activity's ``settings["rubric"]``).
    rubric_levels: Mapped[list[int] | None] = mapped_column(JSON)
    feedback: Mapped[str] = mapped_column(Text, default="")
    graded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    graded_at: Mapped[datetime | None]

    files: Mapped[list[SubmissionFile]] = relationship(back_populates="submission", cascade="all, delete-orphan",
                                                      order_by="SubmissionFile.id")
    user = relationship("User", foreign_keys=[user_id])
    graded_by = relationship("User", foreign_keys=[graded_by_id])


class SubmissionFile(db.Model):
    __tablename__ = "submission_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    #: The attempt the file was sent with (earlier attempts' files are kept).
    attempt: Mapped[int] = mapped_column(default=1)
    #: Feedback files are the teacher's, attached when grading.
    is_feedback: Mapped[bool] = mapped_column(default=False)
    key: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(default=0)
    content_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="files")
