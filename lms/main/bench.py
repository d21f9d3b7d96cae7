"""Routes used only by ``bench/`` (registered when ``LMS_BENCH_ROUTES=1``, never in production).

``/_bench/bare`` is the baseline the dashboard is measured against: a Flask view that touches no
database. It still passes through the application's before/after-request hooks (login check,
security headers), so the baseline is what the framework and those hooks cost, not a bare WSGI app.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("bench", __name__)


@bp.get("/_bench/bare")
def bare():
    return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8"}
