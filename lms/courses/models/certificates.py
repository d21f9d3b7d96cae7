"""Certificates (удостоверения, дипломы, сертификаты, справки) issued by an organization, their numbering,
the organization's document settings and its editable HTML templates.

A certificate keeps a snapshot of everything printed on it (the holder's name and personal data, the
programme, hours, dates, city, director): later edits of the person or the programme never change an
issued document. Registration numbers run per issuing organization and calendar year of issue,
without gaps or duplicates (``CertificateSequence``, see ``lms.courses.certificates``).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import TimestampMixin, utcnow
from lms.extensions import db


class DocumentKind(enum.StrEnum):
    PD_CERTIFICATE = "pd_certificate"            # удостоверение о повышении квалификации
    RETRAINING_DIPLOMA = "retraining_diploma"    # диплом о профессиональной переподготовке
    PROFILE_CERTIFICATE = "profile_certificate"  # сертификат (профильные курсы для школьников)
    STATEMENT = "statement"                      # справка об обучении / о периоде обучения


class CertificateStatus(enum.StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    #: The document was lost or damaged and a duplicate was issued in its place.
    REPLACED = "replaced"


class Certificate(TimestampMixin, db.Model):
    __tablename__ = "certificates"
    __table_args__ = (
        UniqueConstraint("organization_id", "year", "registration_number"),
        CheckConstraint("registration_number > 0", name="registration_number_positive"),
        CheckConstraint("hours > 0", name="hours_positive"),
        Index("ix_certificates_org_issued", "organization_id", "issued_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    #: The exact programme version the holder studied under (None: registered without one).
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id", ondelete="SET NULL"), index=True)
    #: The run and enrolment the certificate completes (None: registered by hand).
    run_id: Mapped[int | None] = mapped_column(ForeignKey("course_runs.id", ondelete="SET NULL"), index=True)
    enrolment_id: Mapped[int | None] = mapped_column(ForeignKey("enrolments.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    #: Calendar year of issue; registration numbers restart every year.
    year: Mapped[int]
    registration_number: Mapped[int]
    series: Mapped[str] = mapped_column(String(20), default="")
    number: Mapped[str] = mapped_column(String(40))
    #: Unguessable code of the public verification page /verify/<code>; not derived from anything.
    code: Mapped[str] = mapped_column(String(32), unique=True)

    # What was printed.
    holder_surname: Mapped[str] = mapped_column(String(100))
    holder_name: Mapped[str] = mapped_column(String(100))
    holder_patronymic: Mapped[str] = mapped_column(String(100), default="")
    holder_birth_date: Mapped[date | None]
    holder_sex: Mapped[str | None] = mapped_column(String(1))
    holder_snils: Mapped[str | None] = mapped_column(String(11))
    organization_name: Mapped[str] = mapped_column(String(300))
    programme_title: Mapped[str] = mapped_column(String(300))
    programme_kind: Mapped[str | None] = mapped_column(String(24))
    hours: Mapped[int]
    study_start: Mapped[date]
    study_end: Mapped[date]
    issued_on: Mapped[date]
    city: Mapped[str] = mapped_column(String(100), default="")
    director_name: Mapped[str] = mapped_column(String(200), default="")
    director_title: Mapped[str] = mapped_column(String(200), default="")
    #: The template version it was printed from (None: the default template shipped in code).
    template_id: Mapped[int | None] = mapped_column(ForeignKey("certificate_templates.id", ondelete="SET NULL"))

    status: Mapped[str] = mapped_column(String(16), default=CertificateStatus.VALID, index=True)
    revoke_reason: Mapped[str] = mapped_column(String(500), default="")
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: For a duplicate: the certificate it replaces.
    original_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"), index=True)
    pdf_key: Mapped[str | None] = mapped_column(String(300))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    holder = relationship("User", foreign_keys=[holder_id])
    organization = relationship("Organization")
    programme = relationship("Programme")
    issued_by = relationship("User", foreign_keys=[issued_by_id])
    revoked_by = relationship("User", foreign_keys=[revoked_by_id])
    original: Mapped[Certificate | None] = relationship(remote_side=[id], foreign_keys=[original_id])
    template = relationship("CertificateTemplate")

    @property
    def holder_full_name(self) -> str:
        return " ".join(p for p in (self.holder_surname, self.holder_name, self.holder_patronymic) if p)

    @property
    def is_duplicate(self) -> bool:
        return self.original_id is not None

    def __str__(self) -> str:
        return f"№ {self.registration_number}/{self.year}"


class CertificateSequence(db.Model):
    """The last registration number given by an organization in a year. Numbers are taken with one
    atomic ``UPDATE … SET last = last + n … RETURNING last`` inside the issuing transaction."""

    __tablename__ = "certificate_sequences"

    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"),
                                                 primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


class CertificateSettings(TimestampMixin, db.Model):
    """What an organization prints on its documents and reports to ФИС ФРДО."""

    __tablename__ = "certificate_settings"

    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"),
                                                 primary_key=True)
    city: Mapped[str] = mapped_column(String(100), default="")
    director_name: Mapped[str] = mapped_column(String(200), default="")
    director_title: Mapped[str] = mapped_column(String(200), default="")
    #: Series printed on new documents; empty is exported to ФИС ФРДО as «Нет».
    series: Mapped[str] = mapped_column(String(20), default="")
    # ФИС ФРДО columns the server does not know per person: one value per organization.
    study_form: Mapped[str] = mapped_column(String(60), default="Заочная")
    funding_source: Mapped[str] = mapped_column(String(120), default="")
    education_form: Mapped[str] = mapped_column(String(120), default="")
    citizenship_code: Mapped[str] = mapped_column(String(3), default="643")


class CertificateTemplate(db.Model):
    """One saved version of an organization's HTML template of a document kind. Versions are never
    changed: an edit adds a version, and each certificate names the version it was printed from."""

    __tablename__ = "certificate_templates"
    __table_args__ = (Index("ix_certificate_templates_org_kind", "organization_id", "kind", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class VerificationAttempt(db.Model):
    """A lookup on the public verification page, kept to throttle each client address."""

    __tablename__ = "verification_attempts"
    __table_args__ = (Index("ix_verification_attempts_ip_at", "ip", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    ip: Mapped[str] = mapped_column(String(64), default="")
    found: Mapped[bool] = mapped_column(default=False)
