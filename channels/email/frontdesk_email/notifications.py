"""Automatic mails: the acknowledgement of a new ticket, status changes, pending reminders.

Each one gets its Message-ID recorded in ``email__outbound`` when it is decided (in the same
transaction that queues its job), so a ticket is acknowledged at most once however often the
hook fires, and a retried job sends the same mail again, never a second one. All of them carry
``Auto-Submitted: auto-replied``.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from weakref import WeakSet

from sqlalchemy import bindparam, case, func, insert, inspect, select

from frontdesk.db import read, session, transaction, utcnow, write
from frontdesk.jobs import PeriodicTask, enqueue
from frontdesk.models import Message, Ticket, User
from frontdesk.services import record_event

from .compose import build_mail, new_message_id, thread_headers
from .config import settings
from .connection import MailServerError
from .mailtemplates import AUTOMATIC_KINDS, render
from .models import Mailbox, OutboundMessageId
from .outbound import (
    deliver,
    languages_for,
    mailbox_for,
    recipient_of,
    require_mailbox,
    status_label,
    template_context,
)
from .txn import per_transaction

log = logging.getLogger(__name__)
_DECIDED = "frontdesk_email.acknowledgement_decided"
NOTIFY_JOB = "frontdesk_email.notifications.send_notification"
REMINDER_TASK = PeriodicTask(
    name="email.reminders", func="frontdesk_email.notifications.send_pending_reminders", seconds=900
)


_outbound = OutboundMessageId.__table__
_tickets = Ticket.__table__
_INSERT_OUTBOUND = insert(_outbound)
# Of a customer's acknowledgements: how many are on one ticket, and how many since a moment.
_ACKNOWLEDGEMENTS = (
    select(
        func.count(case((_outbound.c.ticket_id == bindparam("ticket_id"), 1))),
        func.count(case((_outbound.c.sent_at >= bindparam("since"), 1))),
    )
    .select_from(_outbound.join(_tickets, _tickets.c.id == _outbound.c.ticket_id))
    .where(
        _tickets.c.customer_id == bindparam("customer_id"),
        _outbound.c.kind == "acknowledgement",
    )
)


def queue_notification(
    ticket: Ticket, kind: str, *, first_mail_to: Mailbox | None = None, **params: Any
) -> int | None:
    """Record a Message-ID for an automatic mail of ``kind`` and queue the job that sends it.

    Nothing is rendered here: the job renders the template when it sends. ``params`` go to the
    job; ``first_mail_to`` as for :func:`mailbox_for`.
    """
    mailbox = mailbox_for(ticket, first_mail_to=first_mail_to)
    if mailbox is None:
        log.warning("ticket %s: no mailbox can send its %s mail", ticket.number, kind)
        return None
    with transaction():
        row = {
            "message_id": new_message_id(mailbox),
            "ticket_id": ticket.id,
            "kind": kind,
            "sent_at": utcnow(),  # given, not left to the default: one statement, no defaults
        }
        outbound_id = write(_INSERT_OUTBOUND, **row).inserted_primary_key[0]
        enqueue(NOTIFY_JOB, key=f"email:notify:{outbound_id}", outbound_id=outbound_id, **params)
    return outbound_id


def send_notification(outbound_id: int, **params: Any) -> None:
    """Job: send the automatic mail recorded as ``outbound_id`` (skipped once delivered)."""
    row = session.get(OutboundMessageId, outbound_id)
    if row is None or row.delivered_at is not None:
        return
    ticket = session.get(Ticket, row.ticket_id)
    mailbox = require_mailbox(ticket)
    customer = recipient_of(ticket)
    languages = languages_for(ticket, mailbox)
    extra: dict[str, Any] = {}
    if row.kind == "status_change":
        locale = next((lang for lang in languages if lang), "en")
        extra = {
            "old_status": status_label(params.get("old", ""), locale),
            "new_status": status_label(params.get("new", ticket.status), locale),
        }
    rendered = render(row.kind, languages, template_context(ticket, mailbox, **extra))
    mail = build_mail(
        mailbox,
        customer,
        rendered,
        row.message_id,
        thread=thread_headers(ticket, exclude=row.message_id),
        automatic=row.kind in AUTOMATIC_KINDS,
        attachments=[],
        ticket_number=ticket.number,
    )
    first_failure = row.error is None
    try:
        deliver(mailbox, mail, customer, row)
    except MailServerError as exc:
        if first_failure:
            with transaction():
                record_event(ticket, "email_failed", None, field=row.kind, new={"error": str(exc)})
        raise
    with transaction():
        record_event(
            ticket,
            "email_sent",
            None,
            field=row.kind,
            new={"message_id": row.message_id, "to": customer.email},
        )


def _our_addresses() -> frozenset[str]:
    return per_transaction(
        "mailbox_addresses_casefolded",
        lambda: frozenset(a.casefold() for a in session.scalars(select(Mailbox.from_address)) if a),
    )


def on_ticket_created(ticket: Ticket) -> None:
    """Acknowledge a ticket opened by an inbound mail, at most once per ticket.

    The ingest pipeline decides about the tickets it opens before they are committed (see
    :func:`acknowledge_opened`); those are not looked at again.
    """
    decided = session.info.get(_DECIDED)
    if decided is not None and ticket in decided:
        decided.discard(ticket)
        return
    acknowledge(ticket)


def acknowledge_opened(ticket: Ticket, mailbox: Mailbox | None = None) -> None:
    """:func:`acknowledge` a ticket the ingest pipeline just opened, in the same transaction.

    ``mailbox``: the one the opening mail came to, if known. The acknowledgement becomes
    durable with the ticket, and the hook after the commit has nothing left to decide.
    (Remembered per object: a ticket whose transaction rolls back never reaches the hook, and
    a new ticket is a new object.)
    """
    acknowledge(ticket, first_mail_to=mailbox)
    session.info.setdefault(_DECIDED, WeakSet()).add(ticket)


def acknowledge(ticket: Ticket, *, first_mail_to: Mailbox | None = None) -> None:
    """Queue the acknowledgement of ``ticket`` if it is due, in the current transaction if any.

    Only the decision and the Message-ID are made here; the job renders the template and sends.
    ``first_mail_to`` as for :func:`.outbound.mailbox_for`.
    """
    if ticket.channel != "email" or not settings()["ACKNOWLEDGE"]:
        return
    customer = ticket.customer
    if customer is None or not customer.email:
        return
    acknowledged, recent = _acknowledgements(ticket, customer)
    if acknowledged:
        return
    if not _opened_by_customer_mail(ticket):
        return  # opened by an agent or another channel: nobody wrote to us
    if customer.email.casefold() in _our_addresses():
        return  # never answer ourselves
    limit = settings()["ACKNOWLEDGE_PER_HOUR"]
    if recent >= limit:
        log.info(
            "ticket %s: %s got %s acknowledgements this hour; no more",
            ticket.number,
            customer.email,
            recent,
        )
        return
    queue_notification(ticket, "acknowledgement", first_mail_to=first_mail_to)


def _opened_by_customer_mail(ticket: Ticket) -> bool:
    """Whether the ticket's first message is a customer's mail."""
    loaded = inspect(ticket).dict.get("messages")
    if loaded:  # a ticket just opened still has its messages in memory
        first: Any = loaded[0]
    else:
        first = session.execute(
            select(Message.kind, Message.channel)
            .where(Message.ticket_id == ticket.id)
            .order_by(Message.id)
            .limit(1)
        ).first()
    return first is not None and first.kind == "customer" and first.channel == "email"


def _acknowledgements(ticket: Ticket, customer: User) -> tuple[bool, int]:
    """Whether ``ticket`` was acknowledged, and how often ``customer`` was within the hour."""
    acknowledged, recent = read(
        _ACKNOWLEDGEMENTS,
        ticket_id=ticket.id,
        customer_id=customer.id,
        since=utcnow() - timedelta(hours=1),
    ).one()
    return acknowledged > 0, recent


def on_status_changed(ticket: Ticket, old: str, new: str, actor: User | None) -> None:
    """Tell the customer when staff (or automation) moves a mail ticket into a notified category."""
    if (
        ticket.channel != "email"
        or ticket.status_category not in settings()["NOTIFY_STATUS_CATEGORIES"]
    ):
        return
    if actor is not None and not actor.is_staff:
        return  # the customer did it: they know
    queue_notification(ticket, "status_change", old=old, new=new)


def send_pending_reminders() -> int:
    """Periodic task: remind customers of pending mail tickets once per agent message."""
    hours = settings()["REMINDER_AFTER_HOURS"]
    if not hours:
        return 0
    cutoff = utcnow() - timedelta(hours=hours)
    last_agent = (
        select(func.max(Message.created_at))
        .where(Message.ticket_id == Ticket.id, Message.kind == "agent")
        .scalar_subquery()
    )
    last_reminder = (
        select(func.max(OutboundMessageId.sent_at))
        .where(
            OutboundMessageId.ticket_id == Ticket.id, OutboundMessageId.kind == "pending_reminder"
        )
        .scalar_subquery()
    )
    due = session.scalars(
        select(Ticket).where(
            Ticket.channel == "email",
            Ticket.status_category == "pending",
            Ticket.merged_into_id.is_(None),
            last_agent <= cutoff,
            (last_reminder.is_(None)) | (last_reminder < last_agent),
        )
    ).all()
    session.commit()
    for ticket in due:
        queue_notification(ticket, "pending_reminder")
    return len(due)
