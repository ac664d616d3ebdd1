"""One page of the ticket list as JSON, in a fixed number of statements whatever its size.

The list statement reads plain columns (no models), each row with its tags and, for staff, its
watchers; for customers one more statement reads the custom field definitions of the queues on
the page. ``ticket_json`` turns each row into the JSON ``TicketSchema`` describes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from frontdesk.api.pagination import page_from, page_limit
from frontdesk.api.ticket_json import ticket_json, user_ref
from frontdesk.api.ticket_query import (
    SORTS,
    TAG_SEPARATOR,
    check_queue_key,
    list_shape_and_params,
    list_statement,
)
from frontdesk.db import session
from frontdesk.models import Queue, User

_queue = Queue.__table__
_QUEUE_FIELDS = select(_queue.c.id, _queue.c.custom_fields).where(
    _queue.c.id.in_(bindparam("ids", expanding=True))
)


def ticket_page(viewer: User, args: dict[str, Any]) -> dict[str, Any]:
    """``{"items": [...], "next_cursor": ...}`` for the list arguments ``args``."""
    shape, params = list_shape_and_params(viewer, args)
    size = page_limit(args.get("limit"))
    keyset = SORTS[shape.sort]
    cursor = args.get("cursor")
    if cursor:
        params.update(keyset.bound_values("cursor", keyset.decode(cursor)))
    params["page_limit"] = size + 1
    conn = session.connection()
    rows = conn.execute(list_statement(shape, bool(cursor), conn.dialect.name), params).all()
    if not rows:
        check_queue_key(params)
    page = page_from(rows, size, keyset)
    page["items"] = list_items(page["items"], viewer.is_staff)
    return page


def list_items(rows: list[Any], staff: bool) -> list[dict[str, Any]]:
    """The JSON of list rows, with their tags (and for staff their watchers)."""
    if not rows:
        return []
    # Customers are not shown who watches; the queue's definitions decide which custom
    # fields they see.
    queue_fields: dict[int, Any] = {}
    if not staff:
        queue_ids = list({row.queue_id for row in rows if row.queue_id is not None})
        if queue_ids:
            found = session.connection().execute(_QUEUE_FIELDS, {"ids": queue_ids})
            queue_fields = dict(found.all())
    items = []
    for row in rows:
        r = row._mapping  # name lookups on the mapping are much cheaper than row attributes
        queue_id = r["queue_id"]
        tag_names = r["tag_names"]
        watcher_ids = r["watcher_ids"] if staff else None
        items.append(
            ticket_json(
                r,
                queue=(
                    {"id": queue_id, "key": r["queue_key"], "name": r["queue_name"]}
                    if queue_id is not None
                    else None
                ),
                assignee=user_ref(
                    r["assignee_id"],
                    r["assignee_name"],
                    r["assignee_email"],
                    r["assignee_role"],
                    staff,
                ),
                customer=user_ref(
                    r["customer_id"],
                    r["customer_name"],
                    r["customer_email"],
                    r["customer_role"],
                    staff,
                ),
                tags=sorted(tag_names.split(TAG_SEPARATOR)) if tag_names else (),
                watcher_ids=sorted(map(int, watcher_ids.split(","))) if watcher_ids else (),
                merged_into=r["merged_into_number"],
                staff=staff,
                queue_fields=queue_fields.get(queue_id),
            )
        )
    return items
