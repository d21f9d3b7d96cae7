"""Periodic jobs of the assessment domain (run by `flask --app wsgi jobs run` and the dev server's timer)."""

from __future__ import annotations

from lms.assessment.attempts import close_overdue
from lms.core.jobs import periodic


@periodic
def close_overdue_attempts() -> str:
    """Attempts past their deadline are submitted, moved into their grace period or abandoned."""
    return f"overdue quiz attempts closed: {close_overdue()}"
