"""Small helpers shared by tests: row counts, what a page shows next to a field, workers run at one instant."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable

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


def at_once(workers: list[Callable[[], None]], *, timeout: float = 60) -> None:
    """Run ``workers`` in threads released together by a barrier; when done, fail with the errors any raised."""
    barrier = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def run(worker: Callable[[], None]) -> None:
        try:
            barrier.wait(timeout=timeout)
            worker()
        except BaseException as exc:  # noqa: BLE001 - reported by the calling thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
