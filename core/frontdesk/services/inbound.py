"""The inbound half of the channel contract: one message in, exactly one recorded outcome out."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from frontdesk.channels.base import InboundMessage, InboundOutcome
from frontdesk.db import session
from frontdesk.models import Message, Queue, Ticket
from frontdesk.pluginmanager import hook
from frontdesk.services.access import is_participant
from frontdesk.services.errors import ServiceError
from frontdesk.services.messages import add_message
from frontdesk.services.tickets import create_ticket

log = logging.getLogger(__name__)
MAX_MERGE_HOPS = 20


def find_delivery(channel: str, external_id: str) -> Message | None:
    return session.scalar(
        select(Message).where(Message.channel == channel, Message.external_id == external_id)
    )


def _follow_merges(ticket: Ticket) -> Ticket:
    for _ in range(MAX_MERGE_HOPS):
        if ticket.merged_into_id is None:
            break
        ticket = session.get(Ticket, ticket.merged_into_id)
    return ticket


def receive_inbound(message: InboundMessage) -> InboundOutcome:
    """Screen, de-duplicate, thread and record ``message``.

    Noise is dropped and refusals rejected with a reason (through ``inbound_message_screen``); a
    delivery seen before (same channel and external id) is a duplicate; a message threaded onto a
    ticket is appended only when its sender takes part in that ticket, otherwise it opens a new one.
    """
    verdict = hook().inbound_message_screen(message=message)
    if verdict is not None:
        action = "dropped" if verdict.action == "drop" else "rejected"
        return InboundOutcome(action, reason=verdict.reason)
    if message.external_id:
        seen = find_delivery(message.channel, message.external_id)
        if seen is not None:
            return InboundOutcome("duplicate", ticket=seen.ticket, message=seen)
    if not message.sender_email:
        return InboundOutcome("rejected", reason="the message has no sender address")
    try:
        return _record(message)
    except IntegrityError:
        session.rollback()
        seen = message.external_id and find_delivery(message.channel, message.external_id)
        if seen:  # a concurrent delivery of the same message won the race
            return InboundOutcome("duplicate", ticket=seen.ticket, message=seen)
        raise
    except ServiceError as exc:
        session.rollback()
        return InboundOutcome("rejected", reason=exc.detail)


def _record(message: InboundMessage) -> InboundOutcome:
    sender = hook().customer_lookup(
        email=message.sender_email, name=message.sender_name, channel=message.channel
    )
    match = hook().inbound_message_thread(message=message)
    meta = dict(message.meta)
    note = ""
    if match is not None:
        ticket = _follow_merges(match.ticket)
        if is_participant(sender, ticket):
            meta["threaded_by"] = match.reason
            msg = add_message(
                ticket,
                kind="agent" if sender.is_staff else "customer",
                body_text=message.body_text,
                body_html=message.body_html,
                author=sender,
                actor=sender,
                channel=message.channel,
                attachments=message.attachments,
                external_id=message.external_id,
                created_at=message.received_at,
                meta=meta,
            )
            return InboundOutcome("appended", ticket=ticket, message=msg, reason=match.reason)
        note = f"sender is not a participant of {ticket.number}; opened a new ticket"
        meta["thread_refused"] = note
    queue = None
    if message.queue_key:
        queue = session.scalar(select(Queue).where(Queue.key == message.queue_key))
    ticket = create_ticket(
        subject=message.subject.strip() or "(no subject)",
        body_text=message.body_text,
        body_html=message.body_html,
        customer=sender,
        actor=sender,
        queue=queue,
        channel=message.channel,
        language=message.language,
        custom_fields=message.custom_fields,
        attachments=message.attachments,
        external_id=message.external_id,
        created_at=message.received_at,
        meta=meta,
    )
    return InboundOutcome("created", ticket=ticket, message=ticket.messages[0], reason=note)
