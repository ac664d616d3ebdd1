"""The ticket list query: filters and sorts matching the agent views, paged by keyset.

Filters become plain column conditions so the composite indexes on ``ticket`` answer them: a
queue view (``queue`` + ``status_category`` + ``-updated_at``) reads
``ix_ticket_queue_cat_updated`` in index order and stops after one page.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import marshmallow as ma
from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import selectinload
from webargs.fields import DelimitedList

from frontdesk.api.errors import ApiError
from frontdesk.api.lookups import queue_by_key
from frontdesk.api.pagination import KeyColumn, Keyset, PageArgsSchema
from frontdesk.models import PRIORITIES, PRIORITY_RANK, Tag, Ticket, User, ticket_tag
from frontdesk.pluginmanager import get_registry
from frontdesk.plugins import STATUS_CATEGORIES
from frontdesk.services import visible_tickets_clause

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


def _one_or_many(column: Any, values: list[Any]) -> Any:
    # A single value as "=" keeps the composite indexes usable for ordering.
    return column == values[0] if len(values) == 1 else column.in_(values)


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(422, f"{field}: {message}", {field: [message]}, kind="invalid-input")


def ticket_list_query(viewer: User, args: dict[str, Any]) -> tuple[Select, Keyset]:
    """The visible tickets matching ``args`` (from :class:`TicketListArgsSchema`) and the sort."""
    conditions: list[Any] = [visible_tickets_clause(viewer)]
    if statuses := args.get("status"):
        unknown = sorted(set(statuses) - set(get_registry().statuses))
        if unknown:
            raise _invalid("status", f"unknown status {', '.join(unknown)}")
        conditions.append(_one_or_many(Ticket.status, statuses))
    if categories := args.get("status_category"):
        conditions.append(_one_or_many(Ticket.status_category, categories))
    if keys := args.get("queue"):
        ids = [queue_by_key(key).id for key in keys]  # type: ignore[union-attr]
        conditions.append(_one_or_many(Ticket.queue_id, ids))
    if (assignee := args.get("assignee")) is not None:
        conditions.append(_assignee_condition(viewer, assignee))
    if priorities := args.get("priority"):
        conditions.append(_one_or_many(Ticket.priority, priorities))
    for name in args.get("tag") or ():
        conditions.append(
            exists().where(
                ticket_tag.c.ticket_id == Ticket.id,
                ticket_tag.c.tag_id == Tag.id,
                Tag.name == name.strip().lower(),
            )
        )
    if (customer := args.get("customer")) is not None:
        conditions.append(_customer_condition(customer))
    if (organization := args.get("organization")) is not None:
        conditions.append(Ticket.organization_id == organization)
    if (after := args.get("updated_after")) is not None:
        conditions.append(Ticket.updated_at >= after)
    if (before := args.get("updated_before")) is not None:
        conditions.append(Ticket.updated_at < before)
    if q := (args.get("q") or "").strip():
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(
            or_(Ticket.subject.ilike(f"%{escaped}%", escape="\\"), Ticket.number == q)
        )
    # Lists show watcher ids only: load just the ids instead of whole user rows.
    stmt = select(Ticket).options(selectinload(Ticket.watchers).load_only(User.id))
    return stmt.where(and_(*conditions)), SORTS[args["sort"]]


def _assignee_condition(viewer: User, value: str) -> Any:
    if value == "me":
        return Ticket.assignee_id == viewer.id
    if value == "none":
        return Ticket.assignee_id.is_(None)
    if value.isdigit():
        return Ticket.assignee_id == int(value)
    raise _invalid("assignee", "a user id, 'me' or 'none'")


def _customer_condition(value: str) -> Any:
    if value.isdigit():
        return Ticket.customer_id == int(value)
    if "@" not in value:
        raise _invalid("customer", "a customer id or email address")
    ids = select(User.id).where(func.lower(User.email) == value.strip().lower())
    return Ticket.customer_id.in_(ids)
