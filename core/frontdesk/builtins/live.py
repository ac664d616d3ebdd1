"""Built-in: the agent desk updates live (pushes on the ``/desk`` Socket.IO namespace).

Each ticket event becomes a push to the ticket's room and to the rooms of the queue views that
may list it; :mod:`frontdesk.web.live` (the namespace) puts agents in those rooms. A push carries
ids, the number, the version and field names, never a body or a field's value. Desk pages load
the Socket.IO client and ``live.js`` through :func:`asset_urls`.

Nothing here imports Flask-SocketIO: job workers load this module too, and stay lean.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import url_for

from frontdesk.models import Message, Queue, Ticket, User
from frontdesk.plugins import hookimpl
from frontdesk.realtime import emit

NAMESPACE = "/desk"
ALL_TICKETS = "tickets:all"  # admins see every ticket: one room instead of one per queue


def ticket_room(ticket_id: int) -> str:
    return f"ticket:{ticket_id}"


def queue_room(queue_id: int | None) -> str:
    return "queue:none" if queue_id is None else f"queue:{queue_id}"


def agent_room(user_id: int) -> str:
    return f"agent:{user_id}"


def rooms_for(
    ticket: Ticket,
    also_queues: Iterable[Queue | None] = (),
    also_agents: Iterable[User | None] = (),
) -> list[str]:
    """The rooms of everyone who may see ``ticket``, and of the queues and agents it just left."""
    rooms = [ticket_room(ticket.id), ALL_TICKETS, queue_room(ticket.queue_id)]
    rooms += [queue_room(q.id if q is not None else None) for q in also_queues]
    agents = [ticket.assignee_id, *(a.id for a in also_agents if a is not None)]
    rooms += [agent_room(a) for a in agents if a is not None]
    return list(dict.fromkeys(rooms))


def person(user: User | None) -> dict[str, Any] | None:
    return None if user is None else {"id": user.id, "name": user.name or user.email}


def push_ticket_changed(
    ticket: Ticket,
    fields: Iterable[str],
    actor: User | None,
    *,
    also_queues: Iterable[Queue | None] = (),
    also_agents: Iterable[User | None] = (),
) -> None:
    """Tell the ticket's viewers and the queue views that could list it that it changed."""
    data = {
        "ticket_id": ticket.id,
        "number": ticket.number,
        "version": ticket.version,
        "fields": sorted(set(fields)),
        "by": person(actor),
    }
    rooms = rooms_for(ticket, also_queues, also_agents)
    # A client in several of the rooms gets the push once (Socket.IO merges the room lists).
    emit("ticket_changed", data, namespace=NAMESPACE, to=rooms)  # type: ignore[arg-type]


def push_message_added(ticket: Ticket, message: Message) -> None:
    """Announce a new message without its body (internal notes stay on the ticket page)."""
    data = {
        "ticket_id": ticket.id,
        "number": ticket.number,
        "version": ticket.version,
        "message_id": message.id,
        "kind": message.kind,
        "author": person(message.author),
    }
    emit("message_added", data, namespace=NAMESPACE, to=rooms_for(ticket))  # type: ignore[arg-type]


# --- Hook implementations -------------------------------------------------------------------


@hookimpl
def ticket_created(ticket: Ticket, actor: User | None) -> None:
    push_ticket_changed(ticket, ["created"], actor)


@hookimpl
def ticket_updated(ticket: Ticket, changes: dict[str, tuple[Any, Any]], actor: User | None) -> None:
    old_queue = [changes["queue"][0]] if "queue" in changes else []
    old_agent = [changes["assignee"][0]] if "assignee" in changes else []
    push_ticket_changed(ticket, changes, actor, also_queues=old_queue, also_agents=old_agent)


@hookimpl
def ticket_status_changed(ticket: Ticket, old: str, new: str, actor: User | None) -> None:
    push_ticket_changed(ticket, ["status"], actor)


@hookimpl
def ticket_assigned(ticket: Ticket, old: User | None, new: User | None, actor: User | None) -> None:
    push_ticket_changed(ticket, ["assignee"], actor, also_agents=[old])


@hookimpl
def ticket_message_added(ticket: Ticket, message: Message, actor: User | None) -> None:
    push_message_added(ticket, message)


@hookimpl
def ticket_merged(source: Ticket, target: Ticket, actor: User | None) -> None:
    push_ticket_changed(source, ["merged"], actor)
    push_ticket_changed(target, ["merged"], actor)


@hookimpl
def asset_urls(area: str) -> list[str]:
    if area != "desk":
        return []
    # Deferred scripts run in document order: the client first, then the code that uses it.
    return [
        url_for("static", filename="vendor/socket.io.min.js"),
        url_for("static", filename="js/live.js"),
    ]
