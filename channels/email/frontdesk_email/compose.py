"""Building outgoing mail: MIME structure, our Message-IDs and the thread's reply headers."""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Self
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from sqlalchemy import select

from frontdesk.db import session, utcnow
from frontdesk.models import Attachment, Message, Ticket, User
from frontdesk.services import read_blob

from .mailtemplates import Rendered
from .models import Mailbox, OutboundMessageId

MAX_REFERENCES = 20  # the first id plus the most recent ones, as RFC 5322 §3.6.4 suggests


class EncodedHeader(str):
    """An unstructured header value that ``email.header.Header`` encodes (RFC 2047).

    The modern ``email`` folder drops the space between two words when it has to split a
    non-ASCII header across encoded-words ("ваше обращение" arrives as "вашеобращение"); the
    classic encoder keeps spaces inside the encoded text. The message's policy stores and folds
    any value with ``name`` and ``fold`` as given.
    """

    name: str

    def __new__(cls, name: str, value: str) -> Self:
        header = super().__new__(cls, value)
        header.name = name
        return header

    def fold(self, *, policy: object) -> str:
        linesep = getattr(policy, "linesep", "\n")
        encoded = Header(str(self), "utf-8", header_name=self.name).encode(linesep=linesep)
        return f"{self.name}: {encoded}{linesep}"


def unstructured(name: str, value: str) -> str:
    """``value`` ready for an unstructured header such as Subject."""
    return value if value.isascii() else EncodedHeader(name, value)


@dataclass(frozen=True)
class ThreadHeaders:
    """In-Reply-To and References of a mail continuing a ticket's conversation."""

    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)


# Every Message-ID we make ends its left part with ".fd" (make_msgid puts the idstring there):
# mail coming in under an id without it cannot be one we sent, whatever the domain (a mailbox's
# address, and so the domain of its ids, may change).
ID_MARK = "fd"


def new_message_id(mailbox: Mailbox) -> str:
    """A fresh, globally unique Message-ID in the mailbox's domain (with angle brackets)."""
    domain = mailbox.from_address.rpartition("@")[2] or "frontdesk.invalid"
    return make_msgid(idstring=ID_MARK, domain=domain)


def may_be_ours(message_id: str) -> bool:
    """Whether ``message_id`` has the form of the ids :func:`new_message_id` makes."""
    return message_id.strip().strip("<>").rpartition("@")[0].endswith("." + ID_MARK)


def thread_headers(ticket: Ticket, exclude: str | None = None) -> ThreadHeaders:
    """The thread of ``ticket`` as mail sees it: inbound Message-IDs and the ones we sent.

    ``In-Reply-To`` names the customer's most recent mail (else our latest); ``References``
    lists the conversation from its first mail up to that one, trimmed to the first and the
    latest ids.
    """
    found: list[tuple[datetime, int, str]] = []
    inbound_ids: set[str] = set()
    inbound = session.execute(
        select(Message.created_at, Message.id, Message.external_id).where(
            Message.ticket_id == ticket.id,
            Message.channel == "email",
            Message.external_id.is_not(None),
        )
    )
    for created_at, message_id, external_id in inbound:
        found.append((created_at, message_id, external_id))
        inbound_ids.add(external_id)
    ours = session.execute(
        select(OutboundMessageId.sent_at, OutboundMessageId.id, OutboundMessageId.message_id).where(
            OutboundMessageId.ticket_id == ticket.id,
            # A reply is threaded as soon as it is recorded; a notification once it went out.
            (OutboundMessageId.kind == "reply") | OutboundMessageId.delivered_at.is_not(None),
        )
    )
    for sent_at, row_id, message_id in ours:
        found.append((sent_at, row_id, message_id))
    ids: list[str] = []
    for _when, _id, value in sorted(found):
        if value and value != exclude and _looks_like_id(value) and value not in ids:
            ids.append(value)
    if not ids:
        return ThreadHeaders()
    # We answer the customer's latest mail (not our acknowledgement that followed it); like a
    # mail client, we reference what came up to that mail (RFC 5322 §3.6.4).
    parent = next((i for i in reversed(ids) if i in inbound_ids), ids[-1])
    ids = ids[: ids.index(parent) + 1]
    if len(ids) > MAX_REFERENCES:
        ids = ids[:1] + ids[-(MAX_REFERENCES - 1) :]
    return ThreadHeaders(in_reply_to=parent, references=ids)


def _looks_like_id(value: str) -> bool:
    return value.startswith("<") and value.endswith(">") and "@" in value and " " not in value


def build_mail(
    mailbox: Mailbox,
    recipient: User,
    rendered: Rendered,
    message_id: str,
    *,
    thread: ThreadHeaders,
    automatic: bool,
    attachments: Sequence[Attachment],
    ticket_number: str,
) -> EmailMessage:
    """A multipart mail (text and HTML alternatives, then attachments) ready for SMTP."""
    mail = EmailMessage()
    mail["From"] = formataddr((mailbox.name or "", mailbox.from_address))
    mail["To"] = formataddr((recipient.name or "", recipient.email))
    mail["Subject"] = unstructured("Subject", rendered.subject)
    mail["Date"] = format_datetime(utcnow())
    mail["Message-ID"] = message_id
    if thread.in_reply_to:
        mail["In-Reply-To"] = thread.in_reply_to
        mail["References"] = " ".join(thread.references)
    if automatic:
        # RFC 3834: tells well-behaved responders (out-of-office, other helpdesks) to stay quiet.
        mail["Auto-Submitted"] = "auto-replied"
        mail["X-Auto-Response-Suppress"] = "All"
    mail["X-Frontdesk-Ticket"] = ticket_number
    mail.set_content(rendered.text, subtype="plain", charset="utf-8")
    mail.add_alternative(rendered.html, subtype="html", charset="utf-8")
    for attachment in attachments:
        maintype, _, subtype = _media_type(attachment).partition("/")
        mail.add_attachment(
            read_blob(attachment.sha256),
            maintype=maintype,
            subtype=subtype,
            filename=attachment.filename,
            cid=f"<{attachment.content_id.strip('<>')}>" if attachment.content_id else None,
        )
    if rendered.locale:  # after the body: setting content drops earlier Content-* headers
        mail["Content-Language"] = rendered.locale
    return mail


def _media_type(attachment: Attachment) -> str:
    media_type = (attachment.media_type or "").lower()
    if media_type.count("/") != 1:
        media_type = mimetypes.guess_type(attachment.filename)[0] or "application/octet-stream"
    if media_type.split("/")[0] in ("multipart", "message"):
        # Stored as opaque bytes: sent as a plain file rather than as a nested MIME structure.
        return "application/octet-stream"
    return media_type
