"""Small helpers shared by tests: row counts and what a page shows next to a field."""

from __future__ import annotations

import html
import re

from sqlalchemy import func, select

from lms.extensions import db


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def field_error(response, field_id: str) -> str | None:
    """The message shown under an input; the form macro ties it to the input as ``<id>-error``."""
    match = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>',
                      response.get_data(as_text=True), re.S)
    return html.unescape(match.group(1)).strip() if match else None


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))
