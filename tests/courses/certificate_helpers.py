"""Helpers shared by the certificate and ФИС ФРДО tests."""

from __future__ import annotations

from datetime import date, timedelta

from lms.courses import certificates as services
from lms.courses.models import Programme
from lms.extensions import db


def make_programme(org, *, title="Введение в цифровую трансформацию", kind="pd", hours=36,
                   status="published") -> Programme:
    """A programme version in the given state, written directly (the programme services are tested
    elsewhere; certificates only need a frozen version)."""
    programme = Programme(owner_organization_id=org.id, title=title, kind=kind, audience="teachers",
                          total_hours=hours, final_attestation_form="test", result_scale="pass_fail",
                          status=status)
    db.session.add(programme)
    db.session.flush()
    programme.lineage_id = programme.id
    return programme


def issue(holder, org, programme, *, by=None, issued_on=date(2026, 3, 30), kind=None, hours=None, **kw):
    return services.issue_certificate(
        holder, org, programme=programme, kind=kind or services.kind_for_programme(programme),
        hours=hours or programme.total_hours, study_start=issued_on - timedelta(days=28),
        study_end=issued_on - timedelta(days=3),
        issued_on=issued_on, by=by, **kw)
