"""WSGI entry point: ``gunicorn wsgi:app``; ``python wsgi.py`` serves with Socket.IO on LMS_HOST:LMS_PORT."""

from lms import create_app
from lms.extensions import socketio

app = create_app()

if __name__ == "__main__":
    host, port = app.config["HOST"], app.config["PORT"]
    print(f" * Сервер запущен: http://{host}:{port}/  (остановить: Ctrl+C)", flush=True)  # noqa: T201
    socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True, use_reloader=False)
