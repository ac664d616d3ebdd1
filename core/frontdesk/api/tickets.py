"""``/api/v1/tickets``: list, open, read and change tickets."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request, url_for

from frontdesk.api.blueprint import ApiBlueprint, actor, etag_for, parse_if_match
from frontdesk.api.body import accepts_attachments
from frontdesk.api.errors import PROBLEM_MIMETYPE, ApiError, ProblemSchema
from frontdesk.api.lookups import queue_by_key, user_by_id, visible_ticket
from frontdesk.api.pagination import page_of
from frontdesk.api.schemas import TicketCreateSchema, TicketSchema, TicketUpdateSchema
from frontdesk.api.ticket_json import ticket_to_json
from frontdesk.api.ticket_list import ticket_page
from frontdesk.api.ticket_query import TicketListArgsSchema
from frontdesk.auth import access
from frontdesk.db import transaction
from frontdesk.models import Ticket, User
from frontdesk.pluginmanager import hook
from frontdesk.services import (
    ValidationFailed,
    can_edit_ticket,
    create_ticket,
    update_ticket,
)
from frontdesk.services.validation import status_category as status_category_of

blp = ApiBlueprint("tickets", __name__, url_prefix="/api/v1/tickets", description="Tickets")

# Instances, not classes: webargs would build a schema (copying every field) per request.
LIST_ARGS = TicketListArgsSchema()
CREATE_ARGS = TicketCreateSchema()
STAFF_ONLY_ON_CREATE = ("customer", "customer_id", "assignee_id", "status", "priority", "tags")
# Customers may close, reopen or mark solved their own tickets; nothing else.
CUSTOMER_STATUS_CATEGORIES = ("open", "solved", "closed")


def ticket_response(ticket: Ticket, status: int = 200) -> Response:
    """The ticket as JSON (``TicketSchema``'s shape, built by hand: see ``ticket_json``)."""
    response = jsonify(ticket_to_json(ticket, actor().is_staff))
    response.status_code = status
    response.headers["ETag"] = etag_for(ticket.version)
    if status == 201:
        response.headers["Location"] = url_for("tickets.get_ticket", number=ticket.number)
    return response


@blp.route("", methods=["GET"])
@access("tickets.view")
@blp.arguments(LIST_ARGS, location="query")
@blp.response(200, page_of(TicketSchema))
def list_tickets(args: dict[str, Any]) -> Response:
    """List the tickets you may see, filtered and sorted like the agent views."""
    return jsonify(ticket_page(actor(), args))


@blp.route("", methods=["POST"])
@access("tickets.create")
@accepts_attachments
@blp.arguments(CREATE_ARGS)
@blp.response(201, TicketSchema, headers={"Location": {"schema": {"type": "string"}}})
def create(data: dict[str, Any]) -> Any:
    """Open a ticket. A customer always opens it for themselves."""
    user = actor()
    if not user.is_staff:
        refused = sorted(k for k in STAFF_ONLY_ON_CREATE if k in data)
        if refused:
            raise ApiError(
                422,
                "customers cannot set " + ", ".join(refused),
                {k: ["only staff may set this"] for k in refused},
                kind="invalid-input",
            )
    elif "customer" not in data and "customer_id" not in data:
        raise ApiError(
            422,
            "say whose ticket this is",
            {"customer": ["customer or customer_id is required"]},
            kind="invalid-input",
        )
    # Read what the request names before the write transaction takes the lock.
    queue = queue_by_key(data.get("queue"))
    assignee = user_by_id(data.get("assignee_id"), "assignee_id")
    with transaction():
        ticket = create_ticket(
            subject=data["subject"],
            body_text=data.get("body_text", ""),
            body_html=data.get("body_html"),
            customer=_customer_for(user, data),
            actor=user,
            queue=queue,
            priority=data.get("priority", "normal"),
            status=data.get("status"),
            channel="api",
            language=data.get("language"),
            tags=data.get("tags", ()),
            custom_fields=data.get("custom_fields"),
            assignee=assignee,
            attachments=data.get("attachments", ()),
        )
    return ticket_response(ticket, 201)


def _customer_for(user: User, data: dict[str, Any]) -> User:
    if not user.is_staff:
        return user
    if "customer_id" in data:
        return user_by_id(data["customer_id"], "customer_id")  # type: ignore[return-value]
    given = data["customer"]
    try:
        return hook().customer_lookup(email=given["email"], name=given["name"], channel="api")
    except ValidationFailed as exc:
        raise ValidationFailed(
            exc.detail, {f"customer.{k}": v for k, v in exc.errors.items()}
        ) from None


@blp.route("/<number>", methods=["GET"])
@access("tickets.view")
@blp.response(200, TicketSchema, headers={"ETag": {"schema": {"type": "string"}}})
@blp.alt_response(304, description="Not modified (If-None-Match matched)")
def get_ticket(number: str) -> Any:
    """Read one ticket; the ETag is its version."""
    ticket = visible_ticket(number)
    tag = etag_for(ticket.version)
    if tag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        return Response(status=304, headers={"ETag": tag})
    return ticket_response(ticket)


@blp.route("/<number>", methods=["PATCH"])
@access("tickets.view")
@blp.arguments(TicketUpdateSchema)
@blp.response(200, TicketSchema, headers={"ETag": {"schema": {"type": "string"}}})
@blp.alt_response(
    412,
    schema=ProblemSchema,
    content_type=PROBLEM_MIMETYPE,
    description="The ticket changed since the version in If-Match",
)
def patch_ticket(data: dict[str, Any], number: str) -> Any:
    """Change fields of a ticket; send ``If-Match: "<version>"`` to refuse stale writes."""
    ticket = visible_ticket(number)
    user = actor()
    expected = parse_if_match(request.headers.get("If-Match"))
    if not can_edit_ticket(user, ticket):
        _check_customer_change(data)
    changes: dict[str, Any] = {}
    for name in ("subject", "priority", "status", "tags", "custom_fields", "language"):
        if name in data:
            changes[name] = data[name]
    if "pending_until" in data:
        changes["pending_until"] = data["pending_until"]
    if "queue" in data:
        changes["queue"] = queue_by_key(data["queue"])
    if "assignee_id" in data:
        changes["assignee"] = user_by_id(data["assignee_id"], "assignee_id")
    if "customer_id" in data:
        changes["customer"] = user_by_id(data["customer_id"], "customer_id")
    try:
        update_ticket(ticket, changes, user, expected_version=expected)
    except ValidationFailed as exc:
        renamed = {"assignee": "assignee_id", "customer": "customer_id"}
        raise ValidationFailed(
            exc.detail, {renamed.get(k, k): v for k, v in exc.errors.items()}
        ) from None
    return ticket_response(ticket)


def _check_customer_change(data: dict[str, Any]) -> None:
    refused = sorted(k for k in data if k != "status")
    if refused:
        raise ApiError(
            403,
            "customers may only change a ticket's status",
            {k: ["staff only"] for k in refused},
            kind="forbidden",
        )
    if "status" in data and status_category_of(data["status"]) not in CUSTOMER_STATUS_CATEGORIES:
        raise ApiError(
            403,
            "customers may only reopen, solve or close their tickets",
            {"status": ["not a status customers may set"]},
            kind="forbidden",
        )
