"""Outbound mail: the email channel sending agent replies, and what every sent mail shares.

Every mail we send gets our own Message-ID, recorded in ``email__outbound`` *before* it is handed
to the SMTP server, so a reply to it threads even when the worker dies right after sending. A
retried job reuses the recorded Message-ID, so a mail that did go out and is sent again is the
same mail to the receiving side.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import Select, bindparam, select

from frontdesk.channels.base import Channel
from frontdesk.db import read, session, transaction, utcnow
from frontdesk.models import Message, Ticket, User
from frontdesk.plugins import registered_statuses

from .compose import build_mail, new_message_id, thread_headers
from .config import settings
from .connection import MailServerError
from .i18n import _l
from .mailtemplates import render
from .models import InboundRecord, Mailbox, OutboundMessageId
from .smtp import send_mail

log = logging.getLogger(__name__)


class EmailChannel(Channel):
    """Replies to tickets that came in by mail, sent from the ticket's mailbox over SMTP."""

    key = "email"
    label = _l("Email")
    can_send = True

    def send(self, ticket: Ticket, message: Message) -> str | None:
        return send_reply(ticket, message)


_mailboxes = Mailbox.__table__
_records = InboundRecord.__table__
_can_send = _mailboxes.c.smtp_host.is_not(None)
_active = (_mailboxes.c.is_active.is_(True), _can_send)
_MAILBOX_BY_KEY = (
    select(_mailboxes.c.id).where(_mailboxes.c.key == bindparam("key"), _can_send).limit(1)
)
_MAILBOX_OF_FIRST_MAIL = (
    select(_mailboxes.c.id)
    .join(_records, _records.c.mailbox_id == _mailboxes.c.id)
    .where(_records.c.ticket_id == bindparam("ticket_id"), _can_send)
    .order_by(_records.c.id)
    .limit(1)
)
_MAILBOX_OF_QUEUE = (
    select(_mailboxes.c.id)
    .where(_mailboxes.c.default_queue_id == bindparam("queue_id"), *_active)
    .limit(1)
)
_FIRST_ACTIVE_MAILBOX = select(_mailboxes.c.id).where(*_active).order_by(_mailboxes.c.id).limit(1)


def mailbox_for(ticket: Ticket, *, first_mail_to: Mailbox | None = None) -> Mailbox | None:
    """The mailbox that speaks for ``ticket``: where its mail came in, else a configured one.

    In order: ``ticket.plugin_data["email"]["mailbox"]``, the mailbox of the ticket's first
    inbound mail, the mailbox whose default queue is the ticket's queue, ``DEFAULT_MAILBOX``,
    then the first active mailbox that can send. ``first_mail_to``: the mailbox of the ticket's
    first inbound mail, when the caller knows it (the mail that just opened the ticket).
    """
    key = ((ticket.plugin_data or {}).get("email") or {}).get("mailbox")
    candidates: list[tuple[Select, dict[str, Any]] | Mailbox] = []
    if key:
        candidates.append((_MAILBOX_BY_KEY, {"key": key}))
    if first_mail_to is None:
        candidates.append((_MAILBOX_OF_FIRST_MAIL, {"ticket_id": ticket.id}))
    elif first_mail_to.smtp_host is not None:  # as _MAILBOX_OF_FIRST_MAIL would find it
        candidates.append(first_mail_to)
    if ticket.queue_id is not None:
        candidates.append((_MAILBOX_OF_QUEUE, {"queue_id": ticket.queue_id}))
    default_key = settings()["DEFAULT_MAILBOX"]
    if default_key:
        candidates.append((_MAILBOX_BY_KEY, {"key": default_key}))
    candidates.append((_FIRST_ACTIVE_MAILBOX, {}))
    for candidate in candidates:
        if isinstance(candidate, Mailbox):
            return candidate
        stmt, params = candidate
        found = read(stmt, **params).scalar()
        if found is not None:
            return session.get(Mailbox, found)
    return None


def languages_for(ticket: Ticket, mailbox: Mailbox) -> list[str | None]:
    customer = ticket.customer
    return [ticket.language, customer.language if customer else None, mailbox.default_language]


def status_label(key: str, locale: str) -> str:
    status = registered_statuses().get(key)
    if status is None:
        return key
    with force_locale(locale):
        return str(status.label)


def template_context(ticket: Ticket, mailbox: Mailbox, **extra: Any) -> dict[str, Any]:
    """The plain values a mail template sees (no database objects)."""
    customer = ticket.customer
    context: dict[str, Any] = {
        "ticket": {
            "number": ticket.number,
            "subject": ticket.subject,
            "status": ticket.status,
            "priority": ticket.priority,
        },
        "customer": {
            "name": (customer.name or customer.email) if customer else "",
            "email": customer.email if customer else "",
        },
        "mailbox": {"name": mailbox.name or mailbox.from_address, "address": mailbox.from_address},
        "subject_tag": current_app.config["SUBJECT_TAG"].format(number=ticket.number),
    }
    context.update(extra)
    return context


def recipient_of(ticket: Ticket) -> User:
    customer = ticket.customer
    if customer is None or not customer.email:
        raise MailServerError("SMTP", "address", f"ticket {ticket.number} has no customer address")
    return customer


def require_mailbox(ticket: Ticket) -> Mailbox:
    mailbox = mailbox_for(ticket)
    if mailbox is None:
        raise MailServerError("SMTP", "configuration", "no mailbox with an SMTP server is set up")
    return mailbox


def send_reply(ticket: Ticket, message: Message) -> str:
    """Mail a public agent message to the customer; return its Message-ID (raise to retry)."""
    mailbox = require_mailbox(ticket)
    customer = recipient_of(ticket)
    row = session.scalar(
        select(OutboundMessageId).where(
            OutboundMessageId.ticket_message_id == message.id, OutboundMessageId.kind == "reply"
        )
    )
    if row is None:
        with transaction():
            row = OutboundMessageId(
                message_id=new_message_id(mailbox),
                ticket_id=ticket.id,
                ticket_message_id=message.id,
                kind="reply",
            )
            session.add(row)
    author = message.author
    context = template_context(
        ticket,
        mailbox,
        message={"text": message.body_text, "html": message.body_html or ""},
        agent={"name": (author.name or author.email) if author else ""},
    )
    rendered = render("reply", languages_for(ticket, mailbox), context)
    mail = build_mail(
        mailbox,
        customer,
        rendered,
        row.message_id,
        thread=thread_headers(ticket, exclude=row.message_id),
        automatic=False,
        attachments=list(message.attachments),
        ticket_number=ticket.number,
    )
    deliver(mailbox, mail, customer, row)
    return row.message_id


def deliver(mailbox: Mailbox, mail: Any, customer: User, row: OutboundMessageId) -> None:
    try:
        send_mail(mailbox, mail, [customer.email])
    except MailServerError as exc:
        with transaction():
            row.error = str(exc)
        raise
    with transaction():
        row.delivered_at = utcnow()
        row.error = None
