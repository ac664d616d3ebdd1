"""Ticket threads, history and attachment downloads."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from sqlalchemy import select

from frontdesk.api.blueprint import ApiBlueprint, actor
from frontdesk.api.body import accepts_attachments
from frontdesk.api.errors import ApiError
from frontdesk.api.fields import MEDIA_TYPE_RE
from frontdesk.api.lookups import visible_ticket
from frontdesk.api.pagination import KeyColumn, Keyset, PageArgsSchema, page_of, paginate
from frontdesk.api.schemas import EventSchema, MessageInSchema, MessageSchema
from frontdesk.auth import access
from frontdesk.db import session
from frontdesk.models import Attachment, Event, Message
from frontdesk.services import add_note, can_edit_ticket, can_view_ticket, read_blob, reply

blp = ApiBlueprint(
    "messages", __name__, url_prefix="/api/v1", description="Ticket threads and history"
)

PUBLIC_KINDS = ("customer", "agent")
_by_id = Keyset("id", [KeyColumn(Message.id, lambda m: m.id)])
_events_by_id = Keyset("id", [KeyColumn(Event.id, lambda e: e.id)])


@blp.route("/tickets/<number>/messages", methods=["GET"])
@access("tickets.view")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(MessageSchema))
def list_messages(args: dict[str, Any], number: str) -> dict[str, Any]:
    """The thread of a ticket, oldest first (customers never see internal notes)."""
    ticket = visible_ticket(number)
    stmt = select(Message).where(Message.ticket_id == ticket.id)
    if not actor().is_staff:
        stmt = stmt.where(Message.kind.in_(PUBLIC_KINDS))
    return paginate(stmt, _by_id, args.get("limit"), args.get("cursor"))


@blp.route("/tickets/<number>/messages", methods=["POST"])
@access("tickets.view")
@accepts_attachments
@blp.arguments(MessageInSchema)
@blp.response(201, MessageSchema)
def post_message(data: dict[str, Any], number: str) -> Message:
    """Reply on a ticket, or (staff) add an internal note."""
    ticket = visible_ticket(number)
    user = actor()
    if user.is_staff and not can_edit_ticket(user, ticket):
        raise ApiError(403, f"you may not change ticket {number}", kind="forbidden")
    if data["kind"] == "note" and not user.is_staff:
        raise ApiError(
            403, "only staff write internal notes", {"kind": ["staff only"]}, kind="forbidden"
        )
    write = add_note if data["kind"] == "note" else reply
    return write(
        ticket,
        data.get("body_text", ""),
        user,
        body_html=data.get("body_html"),
        attachments=data.get("attachments", ()),
    )


@blp.route("/tickets/<number>/history", methods=["GET"])
@access("staff")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(EventSchema))
def history(args: dict[str, Any], number: str) -> dict[str, Any]:
    """Every recorded change of a ticket, oldest first."""
    ticket = visible_ticket(number)
    stmt = select(Event).where(Event.ticket_id == ticket.id)
    return paginate(stmt, _events_by_id, args.get("limit"), args.get("cursor"))


@blp.route("/attachments/<int:attachment_id>", methods=["GET"])
@access("tickets.view")
@blp.response(200, description="The file", content_type="application/octet-stream")
def download(attachment_id: int) -> Response:
    """Download an attachment of a message you may see."""
    attachment = session.get(Attachment, attachment_id)
    message = attachment.message if attachment is not None else None
    user = actor()
    if (
        message is None
        or not can_view_ticket(user, message.ticket)
        or (not user.is_staff and message.kind not in PUBLIC_KINDS)
    ):
        raise ApiError(404, f"no attachment {attachment_id}", kind="not-found")
    media_type = attachment.media_type  # type: ignore[union-attr]
    if not MEDIA_TYPE_RE.fullmatch(media_type):
        media_type = "application/octet-stream"
    response = current_app.response_class(
        read_blob(attachment.sha256),
        mimetype=media_type,  # type: ignore[union-attr]
    )
    response.headers.set("Content-Disposition", "attachment", filename=attachment.filename)  # type: ignore[union-attr]
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
