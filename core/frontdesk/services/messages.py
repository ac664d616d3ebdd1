"""Adding messages to tickets, and delivering public agent messages through their channel."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm.attributes import instance_state, set_committed_value

from frontdesk.channels.base import IncomingAttachment
from frontdesk.db import emit_after_commit, session, transaction, utcnow
from frontdesk.jobs import enqueue
from frontdesk.models import MESSAGE_KINDS, Message, Ticket, User
from frontdesk.pluginmanager import fire_event, get_registry, hook
from frontdesk.services.attachments import check_attachments, store_attachments
from frontdesk.services.errors import ValidationFailed
from frontdesk.services.history import record_event
from frontdesk.services.html import html_to_text, sanitize_html
from frontdesk.services.rows import insert_now, new_model, update_now
from frontdesk.services.validation import clean_body, first_status_in

log = logging.getLogger(__name__)
DELIVER_JOB = "frontdesk.services.messages.deliver_message"


@dataclass(frozen=True)
class MessageBody:
    """A message's checked content: text, sanitised HTML and attachments within the limits."""

    text: str
    html: str | None
    attachments: list[IncomingAttachment]


def check_message_body(
    body_text: str = "",
    body_html: str | None = None,
    attachments: Sequence[IncomingAttachment] = (),
) -> MessageBody:
    """Check and sanitise a message's content; needs no transaction (raises ValidationFailed)."""
    body_text = clean_body(body_text)
    if body_html is not None:
        body_html = sanitize_html(clean_body(body_html, "body_html"))
        if not body_text.strip():
            body_text = html_to_text(body_html)
    if not body_text.strip() and not attachments:
        raise ValidationFailed("the message is empty", {"body_text": ["must not be empty"]})
    files = list(attachments)
    check_attachments(files)
    return MessageBody(body_text, body_html, files)


def add_message(
    ticket: Ticket,
    *,
    kind: str,
    body_text: str = "",
    body_html: str | None = None,
    author: User | None,
    actor: User | None,
    channel: str = "web",
    attachments: Sequence[IncomingAttachment] = (),
    external_id: str | None = None,
    created_at: datetime | None = None,
    meta: dict[str, Any] | None = None,
) -> Message:
    """Append a message of ``kind`` to ``ticket`` (HTML sanitised, attachments stored).

    A customer message reopens a pending or solved ticket; the first agent message sets
    ``first_response_at``; a public agent message is queued for delivery through the ticket's
    channel after commit.
    """
    check_message_kind(kind)
    body = check_message_body(body_text, body_html, attachments)
    return append_message(
        ticket,
        body,
        kind=kind,
        author=author,
        actor=actor,
        channel=channel,
        external_id=external_id,
        created_at=created_at,
        meta=meta,
    )


def check_message_kind(kind: str) -> None:
    if kind not in MESSAGE_KINDS:
        raise ValidationFailed(
            "unknown message kind", {"kind": [f"one of {', '.join(MESSAGE_KINDS)}"]}
        )


def append_message(
    ticket: Ticket,
    body: MessageBody,
    *,
    kind: str,
    author: User | None,
    actor: User | None,
    channel: str = "web",
    external_id: str | None = None,
    created_at: datetime | None = None,
    meta: dict[str, Any] | None = None,
) -> Message:
    """The write half of :func:`add_message`, for content :func:`check_message_body` checked."""
    with transaction():
        now = created_at or utcnow()
        message = new_model(
            Message,
            kind=kind,
            channel=channel,
            author=author,
            body_text=body.text,
            body_html=body.html,
            external_id=external_id,
            meta=dict(meta or {}),
            created_at=now,
        )
        # Both sides of message.ticket are set as loaded: assigning it would also append to
        # ticket.messages, and reading an unloaded collection costs a query.
        set_committed_value(message, "ticket", ticket)
        set_committed_value(message, "attachments", [])
        if kind == "agent":
            hook().outbound_message_prepare(ticket=ticket, message=message, actor=actor)
        insert_now(message)
        loaded = instance_state(ticket).dict.get("messages")
        if loaded is not None:  # otherwise the next read loads them, this one included
            set_committed_value(ticket, "messages", [*loaded, message])
        store_attachments(message, body.attachments)
        if kind == "agent" and ticket.first_response_at is None:
            ticket.first_response_at = now
        if kind == "customer" and ticket.status_category in ("pending", "solved"):
            from frontdesk.services.tickets import change_status

            change_status(ticket, first_status_in("open"), actor)
        if now > ticket.updated_at:  # noqa: PLR1730 - max() would assign, dirtying the ticket
            ticket.updated_at = now
        update_now(ticket)  # one UPDATE now rather than a flush of the ticket later
        record_event(ticket, "message", actor, field=kind, new={"message_id": message.id})
        emit_after_commit("ticket_message_added", ticket=ticket, message=message, actor=actor)
        if kind == "agent" and _channel_can_send(ticket.channel):
            # Enqueued inside the transaction: the job exists exactly when the message does.
            enqueue(DELIVER_JOB, key=f"deliver:{message.id}", message_id=message.id)
    return message


def _channel_can_send(channel: str) -> bool:
    provider = get_registry().providers.get("channel", {}).get(channel)
    return bool(provider and provider.can_send)


def deliver_message(message_id: int) -> None:
    """Job: send a public agent message through its ticket's channel (retried on failure)."""
    message = session.get(Message, message_id)
    if message is None or message.meta.get("delivered_at"):
        return  # deleted since, or delivered by an earlier attempt: nothing to do
    ticket = message.ticket
    provider = get_registry().provider("channel", ticket.channel)
    channel = provider(get_registry().plugins[provider.plugin_name].config)
    try:
        external_id = channel.send(ticket, message)
    except Exception as exc:
        with transaction():
            meta = dict(message.meta)
            meta["delivery_error"] = f"{type(exc).__name__}: {exc}"
            message.meta = meta
        raise
    with transaction():
        meta = dict(message.meta)
        meta.pop("delivery_error", None)
        meta["delivered_at"] = utcnow().isoformat()
        message.meta = meta
        if external_id and not message.external_id:
            message.external_id = external_id
        record_event(ticket, "delivered", None, new={"message_id": message.id, "channel": ticket.channel})
    fire_event("outbound_message_sent", ticket=ticket, message=message, channel=ticket.channel)
