"""Realtime pushes over Flask-SocketIO (public API).

One ``SocketIO`` server per app, in threading mode (simple-websocket); with ``REDIS_URL`` set it
uses Redis as message queue so events cross worker processes. Plugins register namespaces named
``/<plugin>`` and push with :func:`emit`.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from flask_socketio import SocketIO

__all__ = ["emit", "get_socketio", "init_realtime"]


def init_realtime(app: Flask) -> SocketIO:
    queue = app.config.get("REDIS_URL") or None
    socketio = SocketIO(
        app,
        async_mode="threading",
        message_queue=queue,
        cors_allowed_origins=app.config.get("SOCKETIO_ALLOWED_ORIGINS") or [],
        logger=False,
        engineio_logger=False,
    )
    for namespace in app.extensions["frontdesk.registry"].namespaces:
        socketio.on_namespace(namespace)
    return socketio


def get_socketio(app: Flask | None = None) -> SocketIO:
    return (app or current_app).extensions["socketio"]


def emit(event: str, data: Any, *, namespace: str = "/", to: str | None = None) -> None:
    """Push ``event`` to the clients of ``namespace`` (in room ``to`` if given), from any context."""
    get_socketio().emit(event, data, namespace=namespace, to=to)
