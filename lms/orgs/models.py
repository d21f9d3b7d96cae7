"""Organizations of a municipal education network and the memberships of people in them."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import TimestampMixin
from lms.extensions import db


class OrganizationKind(enum.StrEnum):
    SCHOOL = "school"
    PRESCHOOL = "preschool"
    SUPPLEMENTARY_CENTRE = "supplementary_centre"
    COLLEGE = "college"
    UNIVERSITY = "university"
    METHODOLOGICAL_OFFICE = "methodological_office"
    EDUCATION_DEPARTMENT = "education_department"


class OrganizationStatusKind(enum.StrEnum):
    RESOURCE_CENTRE = "resource_centre"
    INTERNSHIP_SITE = "internship_site"
    INNOVATION_SITE = "innovation_site"


class Role(enum.StrEnum):
    STUDENT = "student"
    TEACHER = "teacher"
    METHODOLOGIST = "methodologist"
    ORG_ADMIN = "org_admin"
    # A coordinator's membership in any organization of a municipality (usually the education
    # department) makes them coordinator of every organization of that municipality.
    COORDINATOR = "coordinator"


#: Roles that teach: they see the people of their organization (names, classes), not personal data.
TEACHING_ROLES = frozenset({Role.TEACHER, Role.METHODOLOGIST})


class Municipality(TimestampMixin, db.Model):
    __tablename__ = "municipalities"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    region: Mapped[str] = mapped_column(String(200), default="")
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow")

    organizations: Mapped[list[Organization]] = relationship(
        back_populates="municipality", order_by="Organization.name")

    def __str__(self) -> str:
        return self.name


class Organization(TimestampMixin, db.Model):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(300))
    short_name: Mapped[str] = mapped_column(String(120))
    #: Short unique code used in CSV files and the API (e.g. ``school3``).
    code: Mapped[str] = mapped_column(String(40), unique=True)
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow")
    address: Mapped[str] = mapped_column(String(500), default="")
    inn: Mapped[str | None] = mapped_column(String(12))
    is_active: Mapped[bool] = mapped_column(default=True)
    #: Length of an academic hour in minutes (RULES-RU.md: 45 by convention, set per organization).
    academic_hour_minutes: Mapped[int] = mapped_column(default=45, server_default="45")

    municipality: Mapped[Municipality] = relationship(back_populates="organizations")
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organization", cascade="all, delete-orphan")
    statuses: Mapped[list[OrganizationStatus]] = relationship(
        back_populates="organization", cascade="all, delete-orphan")

    def __str__(self) -> str:
        return self.short_name or self.name


class AcademicYear(db.Model):
    """1 September to 31 August; named by its starting year (2025 → «2025/2026»)."""

    __tablename__ = "academic_years"

    id: Mapped[int] = mapped_column(primary_key=True)
    start_year: Mapped[int] = mapped_column(unique=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    is_current: Mapped[bool] = mapped_column(default=False)

    @property
    def name(self) -> str:
        return f"{self.start_year}/{self.start_year + 1}"

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def start_year_for(day: date) -> int:
        return day.year if day.month >= 9 else day.year - 1


class OrganizationStatus(db.Model):
    __tablename__ = "organization_statuses"
    __table_args__ = (UniqueConstraint("organization_id", "academic_year_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    academic_year_id: Mapped[int] = mapped_column(ForeignKey("academic_years.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(String(500), default="")

    organization: Mapped[Organization] = relationship(back_populates="statuses")
    academic_year: Mapped[AcademicYear] = relationship()


class Membership(TimestampMixin, db.Model):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("user_id", "organization_id", "role"),
        Index("ix_memberships_org_role", "organization_id", "role"),
        CheckConstraint("grade IS NULL OR (grade >= 0 AND grade <= 11)", name="grade_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    #: For students: school grade (0 — preschool/kindergarten group, 1…11) and class letter.
    grade: Mapped[int | None]
    class_letter: Mapped[str | None] = mapped_column(String(4))

    user: Mapped["User"] = relationship(back_populates="memberships")  # noqa: F821, UP037
    organization: Mapped[Organization] = relationship(back_populates="memberships")

    @property
    def class_name(self) -> str:
        if self.grade is None:
            return ""
        return f"{self.grade}{self.class_letter or ''}"
