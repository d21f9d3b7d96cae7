"""At most N ordinary requests of a process run at once; Socket.IO and large uploads never wait for a slot."""

from __future__ import annotations

import contextlib
import threading
import time

from lms.core.admission import LARGE_BODY, RequestSlots


def _app(inside: list[int], peak: list[int], lock: threading.Lock, pause: float = 0.05):
    def app(environ, start_response):
        with lock:
            inside[0] += 1
            peak[0] = max(peak[0], inside[0])
        time.sleep(pause)
        with lock:
            inside[0] -= 1
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    return app


def _run(middleware, environs) -> None:
    threads = [threading.Thread(target=lambda e=e: middleware(e, lambda *a: None)) for e in environs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)


def test_ordinary_requests_wait_for_one_of_the_slots():
    inside, peak, lock = [0], [0], threading.Lock()
    middleware = RequestSlots(_app(inside, peak, lock), 3)
    _run(middleware, [{"PATH_INFO": "/quizzes/1/start", "CONTENT_LENGTH": "40"} for _ in range(12)])
    assert peak[0] == 3 and inside[0] == 0


def test_socketio_and_large_uploads_do_not_take_a_slot():
    inside, peak, lock = [0], [0], threading.Lock()
    middleware = RequestSlots(_app(inside, peak, lock), 1)
    environs = [{"PATH_INFO": "/socket.io/", "QUERY_STRING": "EIO=4"} for _ in range(4)]
    environs += [{"PATH_INFO": "/activities/1/submit", "CONTENT_LENGTH": str(LARGE_BODY + 1)} for _ in range(4)]
    environs += [{"PATH_INFO": "/upload", "HTTP_TRANSFER_ENCODING": "chunked"} for _ in range(2)]
    _run(middleware, environs)
    assert peak[0] >= 8  # all of them at once, though the limit is 1


def test_a_failing_request_gives_its_slot_back():
    def broken(environ, start_response):
        raise RuntimeError("boom")

    middleware = RequestSlots(broken, 1)
    for _ in range(3):
        with contextlib.suppress(RuntimeError):
            middleware({"PATH_INFO": "/"}, lambda *a: None)
    assert middleware._free == 1  # noqa: SLF001 - the slot is free again


def test_the_waiting_are_served_in_the_order_they_came():
    """A slot given back goes to the first in line, not to whoever asks next (a learner's stream of saves must
    not keep another request waiting)."""
    order: list[str] = []
    slots = RequestSlots(lambda environ, start_response: [order.append(environ["PATH_INFO"])], 1)
    slots.take()  # the one slot is busy
    first = threading.Thread(target=slots, args=({"PATH_INFO": "/first"}, None))
    first.start()
    while not slots._line:  # noqa: SLF001 - wait until it stands in line
        time.sleep(0.001)
    slots.give()  # the slot passes to /first, not to the request below, which asks later
    slots({"PATH_INFO": "/later"}, None)
    first.join(timeout=5)
    assert order == ["/first", "/later"]
