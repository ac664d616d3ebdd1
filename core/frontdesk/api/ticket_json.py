"""Tickets as JSON without marshmallow, for the busiest endpoints (list, open, read, change).

Dumping a page of tickets through ``TicketSchema`` costs more than loading it, so the ticket
endpoints build the same dictionaries by hand. ``TicketSchema`` stays the description in the
OpenAPI document, and a test holds both to producing identical JSON for the same ticket.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from frontdesk.models import Queue, Ticket, User


def _iso(value: datetime | str | None) -> str | None:
    # List rows carry timestamps as ISO text already (see ``IsoTimestamp``).
    return value if value is None or isinstance(value, str) else value.isoformat()


def user_ref(
    user_id: int | None, name: str | None, email: str | None, role: str | None, staff: bool
) -> dict[str, Any] | None:
    """``UserRefSchema``'s dump: customers see who works on their ticket, not agents' emails."""
    if user_id is None:
        return None
    ref: dict[str, Any] = {"id": user_id, "name": name, "email": email, "role": role}
    if role != "customer" and not staff:
        del ref["email"]
    return ref


def user_ref_of(user: User | None, staff: bool) -> dict[str, Any] | None:
    if user is None:
        return None
    return user_ref(user.id, user.name, user.email, user.role, staff)


def public_field_keys(definitions: Sequence[Mapping[str, Any]] | None) -> set[str]:
    """The custom fields of a queue that its customers may see."""
    return {d["key"] for d in definitions or () if d.get("public", True)}


# The ticket columns the JSON shows as they are (timestamps become ISO 8601 text).
TICKET_COLUMNS = (
    "id",
    "number",
    "subject",
    "status",
    "status_category",
    "priority",
    "organization_id",
    "channel",
    "language",
    "custom_fields",
    "plugin_data",
    "created_at",
    "updated_at",
    "first_response_at",
    "solved_at",
    "closed_at",
    "pending_until",
    "version",
)


def ticket_json(
    t: Mapping[str, Any],
    *,
    queue: dict[str, Any] | None,
    assignee: dict[str, Any] | None,
    customer: dict[str, Any] | None,
    tags: Iterable[str],
    watcher_ids: Iterable[int],
    merged_into: str | None,
    staff: bool,
    queue_fields: Sequence[Mapping[str, Any]] | None,
) -> dict[str, Any]:
    """One ticket as ``TicketSchema`` dumps it.

    ``t`` maps the names in ``TICKET_COLUMNS`` to the ticket's values; the related parts come
    already shaped. ``queue_fields`` (the queue's custom field definitions) decides which
    custom fields a customer sees.
    """
    custom_fields = t["custom_fields"]
    custom_fields = dict(custom_fields) if custom_fields is not None else None
    data: dict[str, Any] = {
        "id": t["id"],
        "number": t["number"],
        "subject": t["subject"],
        "status": t["status"],
        "status_category": t["status_category"],
        "priority": t["priority"],
        "queue": queue,
        "assignee": assignee,
        "customer": customer,
        "organization_id": t["organization_id"],
        "channel": t["channel"],
        "language": t["language"],
        "tags": list(tags),
        "custom_fields": custom_fields,
        "merged_into": merged_into,
        "created_at": _iso(t["created_at"]),
        "updated_at": _iso(t["updated_at"]),
        "first_response_at": _iso(t["first_response_at"]),
        "solved_at": _iso(t["solved_at"]),
        "closed_at": _iso(t["closed_at"]),
        "pending_until": _iso(t["pending_until"]),
        "version": t["version"],
    }
    if staff:
        plugin_data = t["plugin_data"]
        data["watcher_ids"] = list(watcher_ids)
        data["plugin_data"] = dict(plugin_data) if plugin_data is not None else None
    else:
        public = public_field_keys(queue_fields)
        data["custom_fields"] = {k: v for k, v in (custom_fields or {}).items() if k in public}
    return data


def ticket_to_json(ticket: Ticket, staff: bool) -> dict[str, Any]:
    """A loaded ticket model as JSON (its relationships are read, loading them if needed)."""
    queue: Queue | None = ticket.queue
    merged_into = None
    if ticket.merged_into_id is not None:
        from frontdesk.api.lookups import ticket_numbers

        merged_into = ticket_numbers([ticket.merged_into_id]).get(ticket.merged_into_id)
    return ticket_json(
        {name: getattr(ticket, name) for name in TICKET_COLUMNS},
        queue={"id": queue.id, "key": queue.key, "name": queue.name} if queue else None,
        assignee=user_ref_of(ticket.assignee, staff),
        customer=user_ref_of(ticket.customer, staff),
        tags=ticket.tag_names,
        watcher_ids=sorted(w.id for w in ticket.watchers) if staff else (),
        merged_into=merged_into,
        staff=staff,
        queue_fields=queue.custom_fields if queue else None,
    )
