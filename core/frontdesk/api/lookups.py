"""Loading what a request names (tickets by number, users, queues by key), checking access."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, select

from frontdesk.api.actor import actor
from frontdesk.api.body import request_cache
from frontdesk.api.errors import ApiError
from frontdesk.db import session
from frontdesk.models import Queue, Ticket, User
from frontdesk.services import can_edit_ticket, can_view_ticket, has_permission
from frontdesk.services.rows import loaded


def visible_ticket(number: str) -> Ticket:
    """The ticket with ``number`` if the current user may see it; 404 otherwise.

    A ticket the caller may not see answers exactly like a missing one, so numbers cannot be
    probed.
    """
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    if ticket is None or not can_view_ticket(actor(), ticket):
        raise ApiError(404, f"no ticket {number}", kind="not-found")
    return ticket


def editable_ticket(number: str, permission: str = "tickets.edit") -> Ticket:
    """The ticket with ``number`` if the current user may change it (403 if only see it)."""
    ticket = visible_ticket(number)
    user = actor()
    if not (can_edit_ticket(user, ticket) and has_permission(user, permission, ticket)):
        raise ApiError(403, f"you may not change ticket {number}", kind="forbidden")
    return ticket


def user_by_id(user_id: int | None, field: str) -> User | None:
    if user_id is None:
        return None
    user = session.get(User, user_id)
    if user is None:
        raise ApiError(422, f"no user {user_id}", {field: ["no such user"]}, kind="invalid-input")
    return user


_queues = Queue.__table__
_QUEUE_BY_KEY = select(_queues).where(_queues.c.key == bindparam("key"))  # built once, reused


def queue_by_key(key: str | None, field: str = "queue") -> Queue | None:
    if key is None:
        return None
    row = session.connection().execute(_QUEUE_BY_KEY, {"key": key}).mappings().first()
    if row is None:
        raise ApiError(422, f"no queue {key!r}", {field: ["no such queue"]}, kind="invalid-input")
    return loaded(Queue, row)


_QUEUE_IDS = select(Queue.__table__.c.key, Queue.__table__.c.id).where(
    Queue.__table__.c.key.in_(bindparam("keys", expanding=True))
)


def queue_ids(keys: list[str], field: str = "queue") -> list[int]:
    """The ids of the queues with ``keys``, in their order, in one query (422 if one is missing)."""
    rows = session.connection().execute(_QUEUE_IDS, {"keys": list(keys)})
    found = {key: id_ for key, id_ in rows}
    for key in keys:
        if key not in found:
            raise ApiError(
                422, f"no queue {key!r}", {field: ["no such queue"]}, kind="invalid-input"
            )
    return [found[key] for key in keys]


def ticket_numbers(ids: Iterable[int]) -> dict[int, str]:
    """Numbers of the tickets with ``ids``, fetched in one query and remembered for the request."""
    cache: dict[int, str] = request_cache().setdefault("ticket_numbers", {})
    missing = {i for i in ids if i is not None and i not in cache}
    if missing:
        rows = session.execute(select(Ticket.id, Ticket.number).where(Ticket.id.in_(missing)))
        cache.update({row.id: row.number for row in rows})
    return cache
