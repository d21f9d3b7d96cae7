"""Socket.IO: only logged-in users connect; several processes share events through Redis."""

from __future__ import annotations

import json
import os
import time

import pytest

from lms.extensions import socketio
from lms.main.events import user_room


def test_anonymous_connection_is_refused(app, client, world):
    sio = socketio.test_client(app, flask_test_client=client)
    assert not sio.is_connected()


def test_logged_in_user_connects_and_gets_events_for_their_room(app, client, world, login_as):
    login_as(client, world.student_a)
    sio = socketio.test_client(app, flask_test_client=client)
    assert sio.is_connected()
    socketio.emit("notice", {"text": "Новая оценка"}, to=user_room(world.student_a.id))
    received = sio.get_received()
    assert any(r["name"] == "notice" and r["args"][0]["text"] == "Новая оценка" for r in received)
    sio.disconnect()


def test_events_reach_other_processes_through_redis():
    """What `LMS_SOCKETIO_MESSAGE_QUEUE=redis://…` relies on: an emit from one process (here a
    write-only emitter, as a CLI job or a second worker would be) is published on Redis."""
    url = os.environ.get("LMS_TEST_REDIS_URL")
    if not url:
        if os.environ.get("LMS_REQUIRE_REDIS"):
            pytest.fail("LMS_TEST_REDIS_URL is required in CI")
        pytest.skip("no Redis (set LMS_TEST_REDIS_URL)")
    import redis
    from flask_socketio import SocketIO

    r = redis.Redis.from_url(url)
    pubsub = r.pubsub()
    pubsub.subscribe("flask-socketio")
    pubsub.get_message(timeout=1)  # subscription confirmation
    emitter = SocketIO(message_queue=url, write_only=True)
    emitter.emit("notice", {"text": "из другого процесса"}, to="user:42")
    deadline = time.time() + 5
    message = None
    while time.time() < deadline and message is None:
        m = pubsub.get_message(timeout=0.5)
        if m and m["type"] == "message":
            message = m
    assert message is not None
    payload = message["data"]
    # python-socketio pickles or JSON-encodes; either way the event and room are in it.
    text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else json.dumps(payload)
    assert "notice" in text or b"notice" in payload
