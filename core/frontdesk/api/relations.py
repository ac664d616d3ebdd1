"""Merging, splitting, linking and watching tickets."""

from __future__ import annotations

from typing import Any

from flask import url_for

from frontdesk.api.blueprint import ApiBlueprint, actor, etag_for
from frontdesk.api.errors import ApiError
from frontdesk.api.lookups import editable_ticket, ticket_numbers, user_by_id, visible_ticket
from frontdesk.api.schemas import (
    LinkInSchema,
    LinkSchema,
    MergeSchema,
    SplitSchema,
    TicketSchema,
    UserRefSchema,
    WatcherInSchema,
)
from frontdesk.auth import access
from frontdesk.db import session
from frontdesk.models import Ticket, TicketLink
from frontdesk.services import (
    add_watcher,
    link_tickets,
    merge_tickets,
    remove_watcher,
    split_ticket,
    ticket_links,
    unlink_tickets,
)

blp = ApiBlueprint(
    "relations", __name__, url_prefix="/api/v1/tickets", description="Merge, split, links, watchers"
)


@blp.route("/<number>/merge", methods=["POST"])
@access("tickets.merge")
@blp.arguments(MergeSchema)
@blp.response(200, TicketSchema)
def merge(data: dict[str, Any], number: str) -> Any:
    """Merge this ticket into another; answers with the ticket merged into."""
    source = editable_ticket(number, "tickets.merge")
    try:
        target = editable_ticket(data["into"], "tickets.merge")
    except ApiError as exc:
        raise ApiError(exc.code or 422, exc.detail, {"into": [exc.detail]}, kind=exc.kind) from None
    merge_tickets(source, target, actor())
    return target, 200, {"ETag": etag_for(target.version)}


@blp.route("/<number>/split", methods=["POST"])
@access("tickets.merge")
@blp.arguments(SplitSchema)
@blp.response(201, TicketSchema, headers={"Location": {"schema": {"type": "string"}}})
def split(data: dict[str, Any], number: str) -> Any:
    """Move some messages of this ticket into a new ticket."""
    ticket = editable_ticket(number, "tickets.merge")
    new = split_ticket(ticket, data["message_ids"], actor(), subject=data.get("subject"))
    location = url_for("tickets.get_ticket", number=new.number)
    return new, 201, {"Location": location, "ETag": etag_for(new.version)}


def _links_of(ticket: Ticket) -> list[TicketLink]:
    links = ticket_links(ticket)
    ticket_numbers([link.source_id for link in links] + [link.target_id for link in links])
    return links


@blp.route("/<number>/links", methods=["GET"])
@access("staff")
@blp.response(200, LinkSchema(many=True))
def list_links(number: str) -> list[TicketLink]:
    """Links from and to this ticket."""
    return _links_of(visible_ticket(number))


@blp.route("/<number>/links", methods=["POST"])
@access("tickets.edit")
@blp.arguments(LinkInSchema)
@blp.response(201, LinkSchema)
def add_link(data: dict[str, Any], number: str) -> TicketLink:
    """Link this ticket to another (related, parent_of, child_of, duplicate_of)."""
    source = editable_ticket(number)
    try:
        target = visible_ticket(data["target"])
    except ApiError as exc:
        raise ApiError(422, exc.detail, {"target": [exc.detail]}, kind="invalid-input") from None
    link = link_tickets(source, target, data["kind"], actor())
    ticket_numbers([source.id, target.id])
    return link


@blp.route("/<number>/links/<int:link_id>", methods=["DELETE"])
@access("tickets.edit")
@blp.response(204)
def delete_link(number: str, link_id: int) -> None:
    """Remove a link of this ticket."""
    ticket = editable_ticket(number)
    link = session.get(TicketLink, link_id)
    if link is None or ticket.id not in (link.source_id, link.target_id):
        raise ApiError(404, f"ticket {number} has no link {link_id}", kind="not-found")
    unlink_tickets(link, actor())


@blp.route("/<number>/watchers", methods=["GET"])
@access("staff")
@blp.response(200, UserRefSchema(many=True))
def list_watchers(number: str) -> Any:
    """Who follows this ticket."""
    return visible_ticket(number).watchers


@blp.route("/<number>/watchers", methods=["POST"])
@access("tickets.edit")
@blp.arguments(WatcherInSchema)
@blp.response(200, UserRefSchema(many=True))
def watch(data: dict[str, Any], number: str) -> Any:
    """Add a watcher; answers with the watchers."""
    ticket = editable_ticket(number)
    user = user_by_id(data["user_id"], "user_id")
    add_watcher(ticket, user, actor())  # type: ignore[arg-type]
    return ticket.watchers


@blp.route("/<number>/watchers/<int:user_id>", methods=["DELETE"])
@access("tickets.edit")
@blp.response(204)
def unwatch(number: str, user_id: int) -> None:
    """Remove a watcher."""
    ticket = editable_ticket(number)
    user = next((w for w in ticket.watchers if w.id == user_id), None)
    if user is None:
        raise ApiError(404, f"user {user_id} does not watch ticket {number}", kind="not-found")
    remove_watcher(ticket, user, actor())
