"""The inbound half of the channel contract: one message in, exactly one recorded outcome out."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import bindparam, inspect, select
from sqlalchemy.exc import IntegrityError

from frontdesk.channels.base import InboundMessage, InboundOutcome
from frontdesk.db import in_transaction, savepoint, session
from frontdesk.statements import execute
from frontdesk.models import Message, Queue, Ticket
from frontdesk.pluginmanager import hook
from frontdesk.services.access import is_participant
from frontdesk.services.errors import ServiceError
from frontdesk.services.messages import add_message
from frontdesk.services.tickets import create_ticket

log = logging.getLogger(__name__)
MAX_MERGE_HOPS = 20
_QUEUE_IDS = "frontdesk.inbound_queue_ids"
_messages = Message.__table__
_DELIVERY = select(_messages.c.id).where(
    _messages.c.channel == bindparam("channel"), _messages.c.external_id == bindparam("external_id")
)


def find_delivery(channel: str, external_id: str) -> Message | None:
    """The message already received as ``external_id`` on ``channel``, if any.

    Asked for every inbound message and nearly always absent: the id is looked up with a plain
    statement on the connection, a fraction of the cost of an ORM query, and the message is
    loaded only when there is one.
    """
    session.flush()
    params = {"channel": channel, "external_id": external_id}
    found = execute(session.connection(), _DELIVERY, params).scalar()
    return session.get(Message, found) if found is not None else None


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
        with _undone_on_failure():
            return _record(message)
    except IntegrityError:
        seen = message.external_id and find_delivery(message.channel, message.external_id)
        if seen:  # a concurrent delivery of the same message won the race
            return InboundOutcome("duplicate", ticket=seen.ticket, message=seen)
        raise
    except ServiceError as exc:
        return InboundOutcome("rejected", reason=exc.detail)


@contextmanager
def _undone_on_failure() -> Iterator[None]:
    """On an exception, undo what the block wrote, and only that.

    Inside the caller's transaction (a channel recording its own row with the outcome, a batch of
    messages) the block runs in a savepoint, and the events it queued are dropped with it; the
    caller's other work stays. Outside one, the session's transaction is rolled back.
    """
    if not in_transaction():
        try:
            yield
        except (IntegrityError, ServiceError):
            session.rollback()
            raise
        return
    with savepoint():
        yield


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
    ticket = create_ticket(
        subject=message.subject.strip() or "(no subject)",
        body_text=message.body_text,
        body_html=message.body_html,
        customer=sender,
        actor=sender,
        queue=_queue(message.queue_key),
        channel=message.channel,
        language=message.language,
        custom_fields=message.custom_fields,
        attachments=message.attachments,
        external_id=message.external_id,
        created_at=message.received_at,
        meta=meta,
    )
    return InboundOutcome("created", ticket=ticket, message=_first_message(ticket), reason=note)


def _first_message(ticket: Ticket) -> Message:
    """The message a ticket was opened with, without loading the whole conversation."""
    loaded = inspect(ticket).dict.get("messages")
    if loaded:
        return loaded[0]
    return session.scalars(
        select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id).limit(1)
    ).one()


def _queue(key: str | None) -> Queue | None:
    """The queue named ``key``, looked up once per transaction (a batch names the same few)."""
    if not key:
        return None
    current = session.get_transaction()
    known: tuple[Any, dict[str, int | None]] | None = session.info.get(_QUEUE_IDS)
    if known is None or known[0] is not current:
        known = (current, {})
        if current is not None:  # outside a transaction nothing is kept
            session.info[_QUEUE_IDS] = known
    ids = known[1]
    if key not in ids:
        ids[key] = session.scalar(select(Queue.id).where(Queue.key == key))
    return session.get(Queue, ids[key]) if ids[key] is not None else None
