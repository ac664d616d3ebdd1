"""Mailboxes and the record of every inbound message (raw bytes kept, one outcome each)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from frontdesk.db import Model, utcnow
from frontdesk.models import Queue

TLS_MODES = ("none", "starttls", "ssl")
OUTCOMES = ("created", "appended", "duplicate", "dropped", "rejected", "pending")


class Mailbox(Model):
    """One address Frontdesk reads (IMAP) and sends from (SMTP)."""

    __tablename__ = "email__mailbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    from_address: Mapped[str] = mapped_column(String(320))
    imap_host: Mapped[str | None] = mapped_column(String(255))
    imap_port: Mapped[int] = mapped_column(default=993)
    imap_tls: Mapped[str] = mapped_column(String(16), default="ssl")
    imap_username: Mapped[str | None] = mapped_column(String(320))
    imap_password: Mapped[str | None] = mapped_column(String(255))
    imap_folder: Mapped[str] = mapped_column(String(255), default="INBOX")
    imap_done_folder: Mapped[str | None] = mapped_column(String(255))
    smtp_host: Mapped[str | None] = mapped_column(String(255))
    smtp_port: Mapped[int] = mapped_column(default=587)
    smtp_tls: Mapped[str] = mapped_column(String(16), default="starttls")
    smtp_username: Mapped[str | None] = mapped_column(String(320))
    smtp_password: Mapped[str | None] = mapped_column(String(255))
    default_queue_id: Mapped[int | None] = mapped_column(
        ForeignKey("queue.id", ondelete="SET NULL")
    )
    default_language: Mapped[str | None] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # IMAP UIDs and UIDVALIDITY are unsigned 32-bit numbers: too big for a signed INTEGER.
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    last_polled_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    default_queue: Mapped[Queue | None] = relationship()


class InboundRecord(Model):
    """One received message: its raw bytes (by SHA-256), where it came from, and its outcome.

    ``imap_uid`` with ``uidvalidity`` identifies the message in its folder, which makes a poll
    that died half-way resumable without duplicates.
    """

    __tablename__ = "email__inbound"
    __table_args__ = (
        UniqueConstraint("mailbox_id", "uidvalidity", "imap_uid", name="uq_email__inbound_uid"),
        Index("ix_email__inbound_received", "received_at", "id"),
        Index("ix_email__inbound_message_id", "mailbox_id", "message_id"),
        Index("ix_email__inbound_raw", "raw_sha256", "mailbox_id"),
        Index("ix_email__inbound_sender", "sender", "received_at"),
        Index("ix_email__inbound_outcome", "outcome", "id"),
        Index("ix_email__inbound_ticket", "ticket_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("email__mailbox.id", ondelete="SET NULL")
    )
    source: Mapped[str] = mapped_column(String(16), default="pipe")  # pipe | imap | reprocess
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    imap_uid: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[str | None] = mapped_column(String(998))
    raw_sha256: Mapped[str | None] = mapped_column(String(64))
    raw_size: Mapped[int] = mapped_column(default=0)
    body_sha256: Mapped[str | None] = mapped_column(String(64))
    sender: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str] = mapped_column(Text, default="")
    flags: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="SET NULL"))
    ticket_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("message.id", ondelete="SET NULL")
    )
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]

    mailbox: Mapped[Mailbox | None] = relationship()


class OutboundMessageId(Model):
    """The Message-ID we gave each mail we sent, so replies to it thread to the right ticket."""

    __tablename__ = "email__outbound"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    ticket_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("message.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(32), default="reply")
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set once the SMTP server accepted the mail; a retried job skips a delivered notification.
    delivered_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class EmailTemplate(Model):
    """An admin's override of a default mail template (one per kind and locale)."""

    __tablename__ = "email__template"
    __table_args__ = (UniqueConstraint("kind", "locale", name="uq_email__template_kind_locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    locale: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
