"""In-process background work for the embedded default (imports, mail).

Work that must survive a restart keeps its state in the database (e.g. ``ImportJob``), so a job
lost with its process is found by its stale heartbeat and reported, never silently dropped.
With ``BACKGROUND_INLINE`` (tests) the work runs at once in the caller's thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask, current_app

log = logging.getLogger(__name__)
_executor: ThreadPoolExecutor | None = None


def submit(fn: Callable[..., Any], *args: Any) -> None:
    """Run ``fn(*args)`` inside an application context, in the background."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config.get("BACKGROUND_INLINE"):
        fn(*args)
        return
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lms-bg")

    def run() -> None:
        with app.app_context():
            try:
                fn(*args)
            except Exception:
                log.exception("background task %s failed", getattr(fn, "__name__", fn))

    _executor.submit(run)
