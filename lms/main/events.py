"""The default Socket.IO namespace: only logged-in users connect; each joins a private room.

Socket.IO delivery is at most once, so nothing that must not be lost travels only over it:
it carries notifications of changes that are already stored in the database.
"""

from __future__ import annotations

from flask_login import current_user
from flask_socketio import SocketIO, join_room


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def register(socketio: SocketIO) -> None:
    @socketio.on("connect")
    def _connect(auth=None):
        if not current_user.is_authenticated:
            return False  # refuse: the client gets a connect_error
        join_room(user_room(current_user.id))
        return True
