"""The agent desk's live channel: the Socket.IO namespace ``/desk`` and who views a ticket.

Only signed-in staff connect. ``watch_queue`` puts a client in the rooms of the tickets its agent
may see (its teams' queues, tickets without a queue, tickets assigned to it; admins one room for
all); ``view_ticket`` puts it in a ticket's room, after the same check as the ticket page. The
pushes into those rooms come from :mod:`frontdesk.builtins.live`.

Presence (who views a ticket, who is writing a reply) lives in Redis with a time to live when
``REDIS_URL`` is set, so every server process sees the same viewers; else in process memory.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, request
from flask_babel import ngettext
from flask_socketio import Namespace, disconnect, join_room, leave_room

from frontdesk.auth import current_actor
from frontdesk.builtins.live import (
    ALL_TICKETS,
    NAMESPACE,
    agent_room,
    person,
    queue_room,
    ticket_room,
)
from frontdesk.db import session
from frontdesk.i18n import _
from frontdesk.models import Ticket, User
from frontdesk.realtime import emit
from frontdesk.services.access import can_view_ticket

__all__ = ["DeskNamespace", "origin_allowed", "presence_state"]

# live.js renews its presence every 30 s; an entry not renewed for this long (its server process
# died without running the disconnect handler) no longer counts.
PRESENCE_TTL = 90
PRESENCE_KEY = "frontdesk:presence:ticket:{}"
STORE = "frontdesk.live.presence"
_store_lock = threading.Lock()


# --- Presence stores ------------------------------------------------------------------------


class MemoryPresence:
    """Viewers per ticket in this process (one process serves every client).

    ``entries`` answers the fresh entries and whether it just dropped stale ones: the viewers
    of a ticket then learn that someone left without saying so.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tickets: dict[int, dict[str, dict[str, Any]]] = {}

    def put(self, ticket_id: int, sid: str, entry: dict[str, Any]) -> None:
        with self._lock:
            self._tickets.setdefault(ticket_id, {})[sid] = {**entry, "at": time.time()}

    def get(self, ticket_id: int, sid: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._tickets.get(ticket_id, {}).get(sid)
        return entry if entry is not None and _fresh(entry) else None

    def drop(self, ticket_id: int, sid: str) -> bool:
        with self._lock:
            viewers = self._tickets.get(ticket_id, {})
            found = viewers.pop(sid, None) is not None
            if not viewers:
                self._tickets.pop(ticket_id, None)
        return found

    def entries(self, ticket_id: int) -> tuple[list[dict[str, Any]], bool]:
        with self._lock:
            viewers = self._tickets.get(ticket_id, {})
            stale = [sid for sid, entry in viewers.items() if not _fresh(entry)]
            for sid in stale:
                del viewers[sid]
            return list(viewers.values()), bool(stale)


class RedisPresence:
    """Viewers per ticket in a Redis hash (sid -> JSON), shared by every server process."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def put(self, ticket_id: int, sid: str, entry: dict[str, Any]) -> None:
        key = PRESENCE_KEY.format(ticket_id)
        pipe = self._redis.pipeline()
        pipe.hset(key, sid, json.dumps({**entry, "at": time.time()}))
        pipe.expire(key, PRESENCE_TTL)
        pipe.execute()

    def get(self, ticket_id: int, sid: str) -> dict[str, Any] | None:
        raw = self._redis.hget(PRESENCE_KEY.format(ticket_id), sid)
        entry = json.loads(raw) if raw else None
        return entry if entry is not None and _fresh(entry) else None

    def drop(self, ticket_id: int, sid: str) -> bool:
        return bool(self._redis.hdel(PRESENCE_KEY.format(ticket_id), sid))

    def entries(self, ticket_id: int) -> tuple[list[dict[str, Any]], bool]:
        key = PRESENCE_KEY.format(ticket_id)
        entries = {sid: json.loads(raw) for sid, raw in self._redis.hgetall(key).items()}
        if stale := [sid for sid, entry in entries.items() if not _fresh(entry)]:
            self._redis.hdel(key, *stale)
        return [entry for sid, entry in entries.items() if sid not in stale], bool(stale)


def _fresh(entry: dict[str, Any]) -> bool:
    return float(entry.get("at", 0)) > time.time() - PRESENCE_TTL


def presence_store() -> MemoryPresence | RedisPresence:
    """The current app's presence store (Redis when the app has a message queue)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with _store_lock:
        store = app.extensions.get(STORE)
        if store is None:
            url = app.config.get("REDIS_URL")
            store = app.extensions[STORE] = RedisPresence(url) if url else MemoryPresence()
    return store


def presence_state(ticket_id: int, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """``{ticket_id, viewers, replying}``: each agent once, however many tabs it has open."""
    viewers: dict[int, dict[str, Any]] = {}
    replying: dict[int, dict[str, Any]] = {}
    for entry in entries:
        someone = {"id": entry["id"], "name": entry["name"]}
        viewers[someone["id"]] = someone
        if entry.get("replying"):
            replying[someone["id"]] = someone
    order = lambda p: (p["name"].casefold(), p["id"])  # noqa: E731
    return {
        "ticket_id": ticket_id,
        "viewers": sorted(viewers.values(), key=order),
        "replying": sorted(replying.values(), key=order),
    }


def broadcast_presence(ticket_id: int) -> dict[str, Any]:
    state = presence_state(ticket_id, presence_store().entries(ticket_id)[0])
    emit("presence", state, namespace=NAMESPACE, to=ticket_room(ticket_id))
    return state


# --- The namespace --------------------------------------------------------------------------


def _staff() -> User | None:
    """The connected agent, looked up again on every event.

    A deactivated account or a new password ends a socket's session as it ends a page's.
    """
    actor = current_actor()
    return actor if actor is not None and actor.is_active and actor.is_staff else None


def origin_allowed(origin: str | None, host: str, extra: Iterable[str] = ()) -> bool:
    """Whether a Socket.IO connection with ``Origin: origin`` to ``host`` may go on.

    Browsers send Origin on WebSocket and cross-origin requests; a page of another site must not
    ride on the agent's cookie (cross-site WebSocket hijacking). Host names are compared without
    ports: cookies do not tell ports apart either, and proxies often drop the port from Host.
    """
    if not origin or origin in extra:
        return True
    parts = urlsplit(origin)
    # One origin, nothing else: two joined headers ("a, b") must not pass on their first half.
    if parts.scheme not in ("http", "https") or "," in origin or parts.path:
        return False
    return parts.hostname is not None and parts.hostname == urlsplit(f"//{host}").hostname


def _origin_allowed() -> bool:
    extra = current_app.config.get("SOCKETIO_ALLOWED_ORIGINS") or []
    return origin_allowed(request.headers.get("Origin"), request.host, extra)


def _ticket_id(data: Any) -> int | None:
    value = data.get("ticket_id") if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _entry(actor: User, replying: bool) -> dict[str, Any]:
    return {"id": actor.id, "name": actor.name or actor.email, "replying": replying}


def _texts() -> dict[str, str]:
    """The sentences live.js shows, in the agent's language (``%(names)s`` filled in there)."""
    return {
        "viewing": _("Also viewing: %(names)s"),
        "replying": _("Writing a reply: %(names)s"),
        "new_message": _(
            "A new message arrived while you were writing. Read it before you send your reply."
        ),
        "changed": _("This ticket has changed since you opened it."),
        "reload": _("Reload"),
    }


class DeskNamespace(Namespace):
    """``/desk``: ticket rooms, queue rooms and presence for signed-in staff."""

    def __init__(self) -> None:
        super().__init__(NAMESPACE)
        self._lock = threading.Lock()
        # Which tickets each socket of this process views, to clean up when it disconnects.
        self._viewing: dict[str, set[int]] = {}

    def on_connect(self, auth: Any = None) -> None:
        if not _origin_allowed():
            raise ConnectionRefusedError("origin not allowed")
        if _staff() is None:
            raise ConnectionRefusedError("sign in as an agent first")

    def on_disconnect(self, reason: Any = None) -> None:
        sid = request.sid  # type: ignore[attr-defined]
        with self._lock:
            tickets = self._viewing.pop(sid, set())
        for ticket_id in tickets:
            if presence_store().drop(ticket_id, sid):
                broadcast_presence(ticket_id)

    def on_hello(self, data: Any = None) -> dict[str, Any]:
        """Who the client is and the sentences it shows."""
        actor = self._actor()
        if actor is None:
            return {"ok": False}
        return {"ok": True, "user": person(actor), "text": _texts()}

    def on_watch_queue(self, data: Any = None) -> dict[str, Any]:
        actor = self._actor()
        if actor is None:
            return {"ok": False}
        if actor.is_admin:
            rooms = [ALL_TICKETS]
        else:
            rooms = [queue_room(q.id) for q in actor.queues]
            rooms += [queue_room(None), agent_room(actor.id)]
        try:
            for room in rooms:
                join_room(room)
        except (KeyError, ValueError):  # the client left meanwhile, as in on_view_ticket
            return {"ok": False, "error": "disconnected"}
        return {"ok": True}

    def on_view_ticket(self, data: Any) -> dict[str, Any]:
        """Join a ticket's room and count as its viewer; sent again every 30 s to stay one."""
        actor = self._actor()
        ticket_id = _ticket_id(data)
        ticket = session.get(Ticket, ticket_id) if actor and ticket_id is not None else None
        if ticket is None or not can_view_ticket(actor, ticket):
            return {"ok": False, "error": "not_found"}  # the same answer whether it exists or not
        sid = request.sid  # type: ignore[attr-defined]
        try:
            join_room(ticket_room(ticket.id))
        except (KeyError, ValueError):
            # The client left (a page navigated away) while the event waited for its thread:
            # there is nobody to count as a viewer. (python-socketio raises ValueError for a
            # session no longer in the namespace, older releases KeyError.)
            return {"ok": False, "error": "disconnected"}
        with self._lock:
            self._viewing.setdefault(sid, set()).add(ticket.id)
        store = presence_store()
        known = store.get(ticket.id, sid)
        replying = bool(known and known.get("replying"))
        store.put(ticket.id, sid, _entry(actor, replying))
        entries, dropped = store.entries(ticket.id)
        if known is None or dropped:
            return {"ok": True, **broadcast_presence(ticket.id)}
        return {"ok": True, **presence_state(ticket.id, entries)}

    def on_typing(self, data: Any) -> dict[str, Any]:
        """Mark whether the agent is writing a reply on a ticket it views."""
        actor = self._actor()
        ticket_id = _ticket_id(data)
        if actor is None or ticket_id is None:
            return {"ok": False}
        sid = request.sid  # type: ignore[attr-defined]
        store = presence_store()
        known = store.get(ticket_id, sid)
        if known is None:
            return {"ok": False, "error": "not_viewing"}
        replying = bool(data.get("replying"))
        if bool(known.get("replying")) != replying:
            store.put(ticket_id, sid, _entry(actor, replying))
            broadcast_presence(ticket_id)
        return {"ok": True}

    def on_leave_ticket(self, data: Any) -> dict[str, Any]:
        ticket_id = _ticket_id(data)
        if ticket_id is None:
            return {"ok": False}
        sid = request.sid  # type: ignore[attr-defined]
        leave_room(ticket_room(ticket_id))
        with self._lock:
            self._viewing.get(sid, set()).discard(ticket_id)
        if presence_store().drop(ticket_id, sid):
            broadcast_presence(ticket_id)
        return {"ok": True}

    def on_changed_label(self, data: Any) -> dict[str, Any]:
        """The queue view's notice for ``count`` changed tickets, with the language's plural."""
        count = data.get("count") if isinstance(data, dict) else None
        if self._actor() is None or not isinstance(count, int) or count < 1:
            return {"ok": False}
        text = ngettext(
            "%(num)d ticket changed since this list was loaded.",
            "%(num)d tickets changed since this list was loaded.",
            min(count, 9999),
        )
        return {"ok": True, "text": text}

    def _actor(self) -> User | None:
        actor = _staff()
        if actor is None:
            disconnect()
        return actor
