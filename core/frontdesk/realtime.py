"""Realtime pushes over Flask-SocketIO (public API).

A process that serves HTTP (``frontdesk run``, ``wsgi.py``, or the first ``/socket.io`` request
to an app made with role ``web``) holds one ``SocketIO`` server per app, in threading mode
(simple-websocket); with ``REDIS_URL`` set it uses Redis as message queue so events cross
processes. A job worker serves no clients, so it starts no server: its first
:func:`emit` creates a write-only emitter on the same queue (without a queue nobody could receive
a worker's push, and it is dropped). Plugins register namespaces named ``/<plugin>`` and push
with :func:`emit`.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

if TYPE_CHECKING:
    from flask_socketio import SocketIO

__all__ = ["emit", "get_socketio", "init_realtime"]

log = logging.getLogger(__name__)

SERVER = "socketio"  # where Flask-SocketIO keeps an app's server
EMITTER = "frontdesk.realtime.emitter"
# Flask-SocketIO and its dependencies hold some 14 MiB: created once, by whichever thread is first.
_create_lock = threading.Lock()


def init_realtime(app: Flask, *, serve: bool = True) -> None:
    """Let a process that serves clients (``serve``) create its Socket.IO server on demand.

    The server is made by the first request for ``/socket.io`` (or by :func:`get_socketio`, as
    ``wsgi.py`` and ``frontdesk run`` do): a command-line process never loads Flask-SocketIO
    (about 0.2 s and 14 MiB of every ``frontdesk`` command; a mail piped in by an MTA starts
    one). Until a server exists no client can be connected, so a push before it is lost
    to nobody (and crosses to other processes through ``REDIS_URL`` as a worker's does).
    """
    if not serve:
        return
    inner = app.wsgi_app
    path = "/socket.io"

    def start_socketio_on_first_use(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO", "").startswith(path) and SERVER not in app.extensions:
            get_socketio(app)  # wraps app.wsgi_app in its middleware: this request goes there
            return app.wsgi_app(environ, start_response)
        return inner(environ, start_response)

    app.wsgi_app = start_socketio_on_first_use  # type: ignore[method-assign]


def get_socketio(app: Flask | None = None) -> SocketIO:
    """The app's Socket.IO server with the plugins' namespaces (created on first use)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    with _create_lock:
        server = app.extensions.get(SERVER)
        if server is None:
            server = _new_server(app)
    return server


def _new_server(app: Flask) -> SocketIO:
    from flask_socketio import SocketIO

    socketio = SocketIO(
        app,
        async_mode="threading",
        message_queue=app.config.get("REDIS_URL") or None,
        cors_allowed_origins=_origin_check(app),
        logger=False,
        engineio_logger=False,
    )
    for namespace in app.extensions["frontdesk.registry"].namespaces:
        socketio.on_namespace(namespace)
    from frontdesk.web.live import DeskNamespace

    socketio.on_namespace(DeskNamespace())  # the core's own namespace, /desk
    return socketio


def _origin_check(app: Flask) -> Any:
    """Same-origin connections, plus ``SOCKETIO_ALLOWED_ORIGINS``; every other page is refused.

    An empty list would switch Engine.IO's check off altogether and let any site's page open a
    socket with a signed-in agent's cookie.
    """
    from frontdesk.web.live import origin_allowed

    def check(origin: str | None, environ: dict[str, Any]) -> bool:
        extra = app.config.get("SOCKETIO_ALLOWED_ORIGINS") or []
        return origin_allowed(origin, environ.get("HTTP_HOST", ""), extra)

    return check


def _emitter(app: Flask) -> SocketIO | None:
    """What carries a push from this process: its server, else a write-only queue emitter."""
    server = app.extensions.get(SERVER)
    if server is not None:
        return server
    queue = app.config.get("REDIS_URL")
    if not queue:
        return None
    with _create_lock:
        emitter = app.extensions.get(EMITTER)
        if emitter is None:
            from flask_socketio import SocketIO

            # No app: Flask-SocketIO makes a write-only client manager on the queue, the
            # documented way for processes outside the servers to reach their clients.
            emitter = SocketIO(
                message_queue=queue, async_mode="threading", logger=False, engineio_logger=False
            )
            app.extensions[EMITTER] = emitter
    return emitter


def emit(
    event: str, data: Any, *, namespace: str = "/", to: str | list[str] | None = None
) -> None:
    """Push ``event`` to the clients of ``namespace`` (in room ``to`` if given), from any context.

    Works in requests and in jobs; in a worker without ``REDIS_URL`` no client can be reached
    and the push is dropped.
    """
    emitter = _emitter(current_app._get_current_object())  # type: ignore[attr-defined]
    if emitter is None:
        log.debug("realtime %s on %s dropped: no server or message queue", event, namespace)
        return
    emitter.emit(event, data, namespace=namespace, to=to)
