"""Which ticket an inbound email continues, and why (the ``inbound_message_thread`` hook).

Steps, first match wins: our own Message-IDs (and those of earlier inbound mail) named in
In-Reply-To, then References (newest first); the subject tag ``[Ticket#N]``; then the optional
fallback "same sender, same subject within N days". Every match says exactly why it matched; the
core still appends only when the sender takes part in the ticket.
"""

from __future__ import annotations

import re
from datetime import timedelta

from flask import current_app
from sqlalchemy import Select, bindparam, func, literal, select, union_all

from frontdesk.channels.base import InboundMessage, ThreadMatch
from frontdesk.db import load, read, session, utcnow
from frontdesk.models import Message, Ticket, User

from .models import OutboundMessageId
from .parsing import CHANNEL
from .schemas import inbound_settings
from .screening import id_forms

# Reply and forward prefixes in the languages we serve and common neighbours ("Re[2]:", "AW:").
_PREFIX = re.compile(
    r"^\s*(?:re|fw|fwd|aw|wg|sv|vs|antw|r|i|rif|inoltro|tr|odp|ynt|rv|ответ|отв|пересл|fw|"
    r"رد|پاسخ|هدایت|باز\s*ارسال)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*",
    re.I,
)
MAX_CANDIDATES = 20
_outbound = OutboundMessageId.__table__
_messages = Message.__table__


def find_thread(message: InboundMessage) -> ThreadMatch | None:
    """The ticket ``message`` continues, or ``None`` (other channels are not ours to judge)."""
    if message.channel != CHANNEL:
        return None
    return by_headers(message) or by_subject_tag(message) or by_sender_and_subject(message)


def by_headers(message: InboundMessage) -> ThreadMatch | None:
    """Our own Message-IDs in In-Reply-To, then in References from the newest to the oldest."""
    candidates: list[tuple[str, str]] = []
    newest_first = message.references[::-1]
    for header, ids in (("In-Reply-To", message.in_reply_to), ("References", newest_first)):
        for msgid in ids:
            if msgid != message.external_id and all(msgid != c for _, c in candidates):
                candidates.append((header, msgid))
    candidates = candidates[:MAX_CANDIDATES]
    if not candidates:
        return None
    tickets: dict[str, int] = {}
    for msgid, ticket_id in read(_TICKETS_OF_IDS, forms=id_forms([c for _, c in candidates])):
        tickets.setdefault(msgid.strip().strip("<>"), ticket_id)
    for header, msgid in candidates:
        ticket_id = tickets.get(msgid.strip("<>"))
        if ticket_id is not None:
            ticket = load(Ticket, ticket_id)  # tags and watchers load only when read
            if ticket is not None:
                return ThreadMatch(ticket, f"threaded by {header} {msgid}")
    return None


def _tickets_of_ids() -> Select:
    """(Message-ID, ticket id) of mail we sent, then of mail we received, in one query."""
    forms = bindparam("forms", expanding=True)
    sent = select(
        _outbound.c.message_id.label("msgid"), _outbound.c.ticket_id, literal(0).label("rank")
    ).where(_outbound.c.message_id.in_(forms))
    received = select(_messages.c.external_id, _messages.c.ticket_id, literal(1)).where(
        _messages.c.channel == CHANNEL, _messages.c.external_id.in_(forms)
    )
    both = union_all(sent, received).subquery()
    return select(both.c.msgid, both.c.ticket_id).order_by(both.c.rank)


_TICKETS_OF_IDS = _tickets_of_ids()


def subject_tag_pattern() -> re.Pattern[str]:
    """The configured subject tag (``SUBJECT_TAG``, e.g. ``[Ticket#{number}]``) as a regex."""
    before, _, after = current_app.config["SUBJECT_TAG"].partition("{number}")
    return re.compile(re.escape(before) + r"\s*([A-Za-z0-9_-]{1,32})\s*" + re.escape(after), re.I)


def by_subject_tag(message: InboundMessage) -> ThreadMatch | None:
    for found in subject_tag_pattern().finditer(message.subject or ""):
        ticket = session.scalar(select(Ticket).where(Ticket.number == found.group(1)))
        if ticket is not None:
            return ThreadMatch(ticket, f"threaded by subject tag {found.group(0)}")
    return None


def normalize_subject(subject: str) -> str:
    """A subject without reply/forward prefixes and ticket tags, for comparing threads."""
    text = subject_tag_pattern().sub(" ", subject or "")
    while True:
        shorter = _PREFIX.sub("", text, count=1)
        if shorter == text:
            break
        text = shorter
    return " ".join(text.split()).casefold()


def by_sender_and_subject(message: InboundMessage) -> ThreadMatch | None:
    """Fallback (off unless ``THREAD_BY_SUBJECT_DAYS`` > 0): same sender, same subject, recent."""
    days = inbound_settings()["THREAD_BY_SUBJECT_DAYS"]
    subject = normalize_subject(message.subject)
    if not days or not subject or not message.sender_email:
        return None
    since = utcnow() - timedelta(days=days)
    recent = session.scalars(
        select(Ticket)
        .join(User, Ticket.customer_id == User.id)
        .where(
            func.lower(User.email) == message.sender_email.lower(),
            Ticket.updated_at >= since,
            Ticket.merged_into_id.is_(None),
            Ticket.status_category != "closed",
        )
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
        .limit(MAX_CANDIDATES)
    )
    for ticket in recent:
        if normalize_subject(ticket.subject) == subject:
            return ThreadMatch(
                ticket,
                f"threaded by same sender {message.sender_email} and subject "
                f"{message.subject.strip()!r} within {days} days",
            )
    return None
