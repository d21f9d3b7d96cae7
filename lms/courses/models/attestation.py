"""Attestation records: the intermediate attestation of a curriculum module and the final attestation of a
programme, per learner of a run — form, date, result and examiners."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import TimestampMixin
from lms.extensions import db


class AttestationRecord(TimestampMixin, db.Model):
    __tablename__ = "attestation_records"
    __table_args__ = (Index("ix_attestation_records_run_user", "run_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("course_runs.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: The module of an intermediate attestation; None for the final attestation.
    module_id: Mapped[int | None] = mapped_column(ForeignKey("curriculum_modules.id", ondelete="CASCADE"))
    #: A ControlForm (module) or a FinalAttestationForm (final), as the programme states it.
    form: Mapped[str] = mapped_column(String(16))
    held_on: Mapped[date]
    #: What the scale says: «passed»/«failed», a mark 2–5, or points.
    result: Mapped[str] = mapped_column(String(16))
    passed: Mapped[bool]
    examiners: Mapped[str] = mapped_column(String(300), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    module = relationship("CurriculumModule")
