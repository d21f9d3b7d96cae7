"""How many requests of one process run at once.

A gunicorn process serves with dozens of threads (WebSocket connections each hold one), but Python runs one
thread at a time: a thousand learners pressing «Start» in the same minute, let in 64 at a time, spend their
CPU switching between one another (on PostgreSQL a start cost 13 ms of CPU with 64 in flight, 8.6 ms with 8,
7.2 ms with 4, the default; 6.3 ms with 2, where saves, which wait on the database, start to lose). So ordinary
requests take a slot to run and the rest wait for one, blocked without using the CPU, in the order they came: a
slot given back passes straight to the first in line, so a request that comes later never takes it first (with
a plain semaphore one learner's stream of saves kept another's «Submit» waiting until the stream ended).

Not counted: Socket.IO (a WebSocket or a long poll holds its thread for as long as it lasts) and requests whose
body is large (an upload is read at the client's pace; it must not hold a slot meanwhile). The response body
is sent after the slot is given back.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable

#: Bodies above this are read at the client's pace: such a request runs without a slot.
LARGE_BODY = 256 * 1024


class RequestSlots:
    """WSGI middleware: at most ``limit`` ordinary requests of this process in the application at once, the
    others served in the order they came."""

    def __init__(self, app: Callable, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._lock = threading.Lock()
        self._free = limit
        self._line: deque[threading.Lock] = deque()

    def take(self) -> None:
        with self._lock:
            if self._free and not self._line:
                self._free -= 1
                return
            turn = threading.Lock()
            turn.acquire()
            self._line.append(turn)
        turn.acquire()  # released by ``give``, which passes its slot on

    def give(self) -> None:
        with self._lock:
            if self._line:
                self._line.popleft().release()
            else:
                self._free += 1

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if not self._counted(environ):
            return self.app(environ, start_response)
        self.take()
        try:
            return self.app(environ, start_response)
        finally:
            self.give()

    @staticmethod
    def _counted(environ: dict) -> bool:
        if environ.get("PATH_INFO", "").startswith("/socket.io"):
            return False
        length = environ.get("CONTENT_LENGTH") or "0"
        return not (length.isdecimal() and int(length) > LARGE_BODY) and environ.get("HTTP_TRANSFER_ENCODING") is None
