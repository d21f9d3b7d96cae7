"""How many requests of one process run at once.

A gunicorn process serves with dozens of threads (WebSocket connections each hold one), but Python runs one
thread at a time: a thousand learners pressing «Start» in the same minute, let in 64 at a time, spend their
CPU switching between one another (a start cost 13 ms of CPU with 64 in flight, 8.6 ms with 8). So ordinary
requests take a slot to run and the rest wait for one, blocked without using the CPU; the waiting order is the
operating system's (close to arrival order).

Not counted: Socket.IO (a WebSocket or a long poll holds its thread for as long as it lasts) and requests whose
body is large (an upload is read at the client's pace; it must not hold a slot meanwhile). The response body
is sent after the slot is given back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

#: Bodies above this are read at the client's pace: such a request runs without a slot.
LARGE_BODY = 256 * 1024


class RequestSlots:
    """WSGI middleware: at most ``limit`` ordinary requests of this process in the application at once."""

    def __init__(self, app: Callable, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._slots = threading.BoundedSemaphore(limit)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if not self._counted(environ):
            return self.app(environ, start_response)
        with self._slots:
            return self.app(environ, start_response)

    @staticmethod
    def _counted(environ: dict) -> bool:
        if environ.get("PATH_INFO", "").startswith("/socket.io"):
            return False
        length = environ.get("CONTENT_LENGTH") or "0"
        return not (length.isdecimal() and int(length) > LARGE_BODY) and environ.get("HTTP_TRANSFER_ENCODING") is None
