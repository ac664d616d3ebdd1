"""The ticket list query: filters and sorts matching the agent views, paged by keyset.

Filters become plain column conditions so the composite indexes on ``ticket`` answer them: a
queue view (``queue`` + ``status_category`` + ``-updated_at``) reads
``ix_ticket_queue_cat_updated`` in index order and stops after one page.

A request's arguments split into a *shape* (which filters, one value or several, the sort, the
viewer's kind of visibility) and the values themselves. The statement is built once per shape
with named bind parameters and reused, so a list request neither rebuilds SQL expressions nor
makes SQLAlchemy compute a cache key for a new statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from functools import lru_cache
from typing import Any

import marshmallow as ma
from sqlalchemy import (
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
)
from webargs.fields import DelimitedList

from frontdesk.api.errors import ApiError
from frontdesk.api.lookups import queue_ids
from frontdesk.api.pagination import KeyColumn, Keyset, PageArgsSchema
from frontdesk.db import IsoTimestamp, UTCDateTime
from frontdesk.models import (
    PRIORITIES,
    PRIORITY_RANK,
    Queue,
    Tag,
    Ticket,
    User,
    ticket_tag,
    ticket_watcher,
)
from frontdesk.pluginmanager import get_registry
from frontdesk.plugins import STATUS_CATEGORIES
from frontdesk.services.access import visibility_clause, visibility_of

_ticket = Ticket.__table__
_queue = Queue.__table__
_assignee = User.__table__.alias("assignee")
_customer = User.__table__.alias("customer")
_merged = Ticket.__table__.alias("merged_into")

# A list reads plain columns, not models: the ticket's own, the few it shows of its queue and
# people, and the merged-into number, all in one statement (each join is on a primary key).
# Timestamps come back as ISO 8601 text, the form the JSON shows them in.
LIST_COLUMNS = select(
    *[
        type_coerce(c, IsoTimestamp()).label(c.key) if isinstance(c.type, UTCDateTime) else c
        for c in _ticket.c
    ],
    _queue.c.key.label("queue_key"),
    _queue.c.name.label("queue_name"),
    _assignee.c.name.label("assignee_name"),
    _assignee.c.email.label("assignee_email"),
    _assignee.c.role.label("assignee_role"),
    _customer.c.name.label("customer_name"),
    _customer.c.email.label("customer_email"),
    _customer.c.role.label("customer_role"),
    _merged.c.number.label("merged_into_number"),
).select_from(
    _ticket.outerjoin(_queue, _queue.c.id == _ticket.c.queue_id)
    .outerjoin(_assignee, _assignee.c.id == _ticket.c.assignee_id)
    .outerjoin(_customer, _customer.c.id == _ticket.c.customer_id)
    .outerjoin(_merged, _merged.c.id == _ticket.c.merged_into_id)
)

_QUEUE_ID = select(_queue.c.id).where(_queue.c.key == bindparam("queue_key"))

TAG_SEPARATOR = "\x1f"  # tag names cannot hold control characters
# The separator as SQL (no portable literal: a bound one would be rendered anew per execution).
_TAG_SEPARATOR_SQL = {"sqlite": "char(31)", "postgresql": "chr(31)"}
_tag = Tag.__table__


def _tag_names(dialect: str) -> Any:
    """Each row's tag names in one text, ``TAG_SEPARATOR`` between them (order undefined).

    A subquery per row reads the (ticket_id, tag_id) primary key: cheaper than a second
    statement for the page with an IN list.
    """
    separator = literal_column(_TAG_SEPARATOR_SQL[dialect])
    return (
        select(func.aggregate_strings(_tag.c.name, separator))
        .select_from(ticket_tag.join(_tag, _tag.c.id == ticket_tag.c.tag_id))
        .where(ticket_tag.c.ticket_id == _ticket.c.id)
        .scalar_subquery()
        .label("tag_names")
    )


_WATCHER_IDS = (
    select(func.aggregate_strings(cast(ticket_watcher.c.user_id, String), literal_column("','")))
    .where(ticket_watcher.c.ticket_id == _ticket.c.id)
    .scalar_subquery()
    .label("watcher_ids")
)

_rank = case({p: i for i, p in enumerate(PRIORITIES)}, value=Ticket.priority, else_=-1)
_id = KeyColumn(Ticket.id, lambda t: t.id)
_updated = KeyColumn(Ticket.updated_at, lambda t: t.updated_at, "datetime")
_created = KeyColumn(Ticket.created_at, lambda t: t.created_at, "datetime")
_priority = KeyColumn(_rank, lambda t: PRIORITY_RANK.get(t.priority, -1))

SORTS: dict[str, Keyset] = {
    "updated_at": Keyset("updated_at", [_updated, _id]),
    "-updated_at": Keyset("-updated_at", [_updated, _id], descending=True),
    "created_at": Keyset("created_at", [_created, _id]),
    "-created_at": Keyset("-created_at", [_created, _id], descending=True),
    "priority": Keyset("priority", [_priority, _id]),
    "-priority": Keyset("-priority", [_priority, _id], descending=True),
    # Numbers come from a sequence in creation order, so id order is number order.
    "number": Keyset("number", [_id]),
}


class TicketListArgsSchema(PageArgsSchema):
    status = DelimitedList(ma.fields.String(), metadata={"description": "Status keys"})
    status_category = DelimitedList(
        ma.fields.String(validate=ma.validate.OneOf(STATUS_CATEGORIES)),
        metadata={"description": "new, open, pending, solved, closed"},
    )
    queue = DelimitedList(ma.fields.String(), metadata={"description": "Queue keys"})
    assignee = ma.fields.String(metadata={"description": "User id, 'me' or 'none'"})
    priority = DelimitedList(ma.fields.String(validate=ma.validate.OneOf(PRIORITIES)))
    tag = DelimitedList(ma.fields.String(), metadata={"description": "Tickets with every tag"})
    customer = ma.fields.String(metadata={"description": "Customer id or email"})
    organization = ma.fields.Integer()
    updated_after = ma.fields.AwareDateTime(default_timezone=UTC)
    updated_before = ma.fields.AwareDateTime(default_timezone=UTC)
    q = ma.fields.String(metadata={"description": "Text the subject contains, or a ticket number"})
    sort = ma.fields.String(load_default="-updated_at", validate=ma.validate.OneOf(list(SORTS)))


@dataclass(frozen=True)
class ListShape:
    """What a list statement depends on besides bound values (``many`` = an IN list)."""

    visibility: str
    sort: str
    staff: bool = False  # staff see watchers
    statuses: str = ""  # "", "one" or "many"; likewise for the other multi-value filters
    categories: str = ""
    queues: str = ""  # or "key": one queue, looked up by its key inside the statement
    priorities: str = ""
    tags: int = 0
    assignee: str = ""  # "", "id" or "none"
    customer: str = ""  # "", "id" or "email"
    organization: bool = False
    updated_after: bool = False
    updated_before: bool = False
    q: bool = False


def _how_many(values: list[Any]) -> str:
    return "one" if len(values) == 1 else "many"


def _one_or_many(column: Any, name: str, how: str) -> Any:
    # A single value as "=" keeps the composite indexes usable for ordering.
    if how == "one":
        return column == bindparam(name)
    return column.in_(bindparam(name, expanding=True))


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(422, f"{field}: {message}", {field: [message]}, kind="invalid-input")


def list_shape_and_params(viewer: User, args: dict[str, Any]) -> tuple[ListShape, dict[str, Any]]:
    """Check ``args`` (from :class:`TicketListArgsSchema`); the statement's shape and values.

    One queue key is not checked here: the statement finds no tickets for an unknown key, and
    :func:`check_queue_key` tells the two apart when a page comes back empty.
    """
    kind, viewer_id, org_id = visibility_of(viewer)
    shape: dict[str, Any] = {"visibility": kind, "sort": args["sort"], "staff": viewer.is_staff}
    params: dict[str, Any] = {"viewer_id": viewer_id, "viewer_org": org_id}

    def many(name: str, values: list[Any]) -> None:
        shape[name] = _how_many(values)
        params[name] = values[0] if len(values) == 1 else list(values)

    if statuses := args.get("status"):
        unknown = sorted(set(statuses) - set(get_registry().statuses))
        if unknown:
            raise _invalid("status", f"unknown status {', '.join(unknown)}")
        many("statuses", statuses)
    if categories := args.get("status_category"):
        many("categories", categories)
    if keys := args.get("queue"):
        if len(keys) == 1:  # the usual queue view: the statement looks the key up itself
            shape["queues"], params["queue_key"] = "key", keys[0]
        else:
            many("queues", queue_ids(keys))
    if (assignee := args.get("assignee")) is not None:
        if assignee == "none":
            shape["assignee"] = "none"
        elif assignee == "me" or assignee.isdigit():
            shape["assignee"] = "id"
            params["assignee"] = viewer.id if assignee == "me" else int(assignee)
        else:
            raise _invalid("assignee", "a user id, 'me' or 'none'")
    if priorities := args.get("priority"):
        many("priorities", priorities)
    tags = [name.strip().lower() for name in args.get("tag") or ()]
    shape["tags"] = len(tags)
    params.update({f"tag_{i}": name for i, name in enumerate(tags)})
    if (customer := args.get("customer")) is not None:
        if customer.isdigit():
            shape["customer"], params["customer"] = "id", int(customer)
        elif "@" in customer:
            shape["customer"], params["customer"] = "email", customer.strip().lower()
        else:
            raise _invalid("customer", "a customer id or email address")
    for name in ("organization", "updated_after", "updated_before"):
        if (value := args.get(name)) is not None:
            shape[name], params[name] = True, value
    if q := (args.get("q") or "").strip():
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        shape["q"] = True
        params.update(q=q, q_like=f"%{escaped}%")
    return ListShape(**shape), params


@lru_cache(maxsize=256)
def list_statement(shape: ListShape, with_cursor: bool, dialect: str) -> Select:
    """The statement for ``shape`` on ``dialect``: filtered, ordered, ``LIMIT :page_limit``.

    With ``with_cursor`` it continues after the sort-key values bound as ``cursor_0``....
    """
    conditions: list[Any] = [
        visibility_clause(shape.visibility, bindparam("viewer_id"), bindparam("viewer_org"))
    ]
    for name, column in (
        ("statuses", Ticket.status),
        ("categories", Ticket.status_category),
        ("queues", Ticket.queue_id),
        ("priorities", Ticket.priority),
    ):
        how = getattr(shape, name)
        if how == "key":
            conditions.append(column == _QUEUE_ID.scalar_subquery())
        elif how:
            conditions.append(_one_or_many(column, name, how))
    if shape.assignee == "none":
        conditions.append(Ticket.assignee_id.is_(None))
    elif shape.assignee == "id":
        conditions.append(Ticket.assignee_id == bindparam("assignee"))
    for i in range(shape.tags):
        conditions.append(
            exists().where(
                ticket_tag.c.ticket_id == Ticket.id,
                ticket_tag.c.tag_id == Tag.id,
                Tag.name == bindparam(f"tag_{i}"),
            )
        )
    if shape.customer == "id":
        conditions.append(Ticket.customer_id == bindparam("customer"))
    elif shape.customer == "email":
        ids = select(User.id).where(func.lower(User.email) == bindparam("customer"))
        conditions.append(Ticket.customer_id.in_(ids))
    if shape.organization:
        conditions.append(Ticket.organization_id == bindparam("organization"))
    if shape.updated_after:
        conditions.append(Ticket.updated_at >= bindparam("updated_after"))
    if shape.updated_before:
        conditions.append(Ticket.updated_at < bindparam("updated_before"))
    if shape.q:
        conditions.append(
            or_(
                Ticket.subject.ilike(bindparam("q_like"), escape="\\"),
                Ticket.number == bindparam("q"),
            )
        )
    keyset = SORTS[shape.sort]
    if with_cursor:
        conditions.append(keyset.after_bound("cursor"))
    extra = [_tag_names(dialect), _WATCHER_IDS] if shape.staff else [_tag_names(dialect)]
    return (
        LIST_COLUMNS.add_columns(*extra)
        .where(and_(*conditions))
        .order_by(*keyset.order_by())
        .limit(bindparam("page_limit"))
    )


def check_queue_key(params: dict[str, Any]) -> None:
    """Refuse an unknown queue key that the list statement looked up itself (see above)."""
    if "queue_key" in params:
        queue_ids([params["queue_key"]])
