"""Tickets and what hangs off them: messages, attachments, tags, watchers, links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from frontdesk.db import Model, utcnow
from frontdesk.models.people import Organization, Queue, User

PRIORITIES = ("low", "normal", "high", "urgent")
PRIORITY_RANK = {name: rank for rank, name in enumerate(PRIORITIES)}
MESSAGE_KINDS = ("customer", "agent", "internal_note", "system")
LINK_KINDS = ("related", "duplicate_of", "parent_of", "child_of", "split_from")

ticket_tag = Table(
    "ticket_tag",
    Model.metadata,
    Column("ticket_id", ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True, index=True),
)

ticket_watcher = Table(
    "ticket_watcher",
    Model.metadata,
    Column("ticket_id", ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Tag(Model):
    """A label; names are stored lower-case and trimmed."""

    __tablename__ = "tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)


class Ticket(Model):
    """A request from a customer and everything done about it.

    ``status_category`` mirrors the category of ``status`` so queue views filter and sort on an
    index; ``version`` is the optimistic lock (a stale write raises ``StaleDataError``).
    """

    __tablename__ = "ticket"
    __table_args__ = (
        Index("ix_ticket_queue_cat_updated", "queue_id", "status_category", "updated_at", "id"),
        Index("ix_ticket_assignee_cat_updated", "assignee_id", "status_category", "updated_at", "id"),
        Index("ix_ticket_cat_updated", "status_category", "updated_at", "id"),
        Index("ix_ticket_customer_updated", "customer_id", "updated_at", "id"),
        Index("ix_ticket_updated", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    subject: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(64))
    status_category: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queue.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str] = mapped_column(String(64), default="api")
    language: Mapped[str | None] = mapped_column(String(16))
    custom_fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    plugin_data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_response_at: Mapped[datetime | None]
    solved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    pending_until: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    queue: Mapped[Queue | None] = relationship(lazy="joined")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], lazy="joined")
    customer: Mapped[User | None] = relationship(foreign_keys=[customer_id], lazy="joined")
    organization: Mapped[Organization | None] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=ticket_tag, lazy="selectin", order_by=Tag.name)
    watchers: Mapped[list[User]] = relationship(secondary=ticket_watcher, lazy="selectin")
    messages: Mapped[list[Message]] = relationship(
        back_populates="ticket",
        order_by="Message.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def tag_names(self) -> list[str]:
        """Tag names in alphabetical order (as loaded from the database, and before a reload)."""
        return sorted(t.name for t in self.tags)

    def __repr__(self) -> str:
        return f"<Ticket {self.number} {self.status}>"


class Message(Model):
    """One entry of a ticket's thread; ``body_html`` is sanitised before it is stored.

    ``external_id`` is the channel's identity of the message (an email's Message-ID) and is unique
    per channel, which makes duplicate deliveries detectable. ``meta`` holds channel facts worth
    showing (how a mail was threaded, delivery failures).
    """

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_message_channel_external_id"),
        Index("ix_message_ticket_id", "ticket_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(64), default="api")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(998))
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    author: Mapped[User | None] = relationship(lazy="joined")
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", lazy="selectin", order_by="Attachment.id"
    )

    @property
    def is_public(self) -> bool:
        return self.kind in ("customer", "agent")


class Attachment(Model):
    """A file on a message: the bytes live in content-addressed storage under ``sha256``."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("message.id", ondelete="CASCADE"), index=True
    )
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(255), default="application/octet-stream")
    size: Mapped[int]
    content_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    message: Mapped[Message | None] = relationship(back_populates="attachments")


class TicketLink(Model):
    """A typed link between two tickets (related, duplicate_of, parent_of, split_from, ...)."""

    __tablename__ = "ticket_link"
    __table_args__ = (UniqueConstraint("source_id", "target_id", "kind", name="uq_ticket_link"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32), default="related")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Event(Model):
    """The append-only history: one row per change (who, when, what field, old, new, from where).

    Rows are never updated or deleted; an admin redaction appends an event naming what it hid.
    """

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_ticket_id", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(32))
    field: Mapped[str | None] = mapped_column(String(64))
    old: Mapped[Any] = mapped_column(JSON, nullable=True)
    new: Mapped[Any] = mapped_column(JSON, nullable=True)
    source: Mapped[str] = mapped_column(String(64), default="web")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship(lazy="joined")


class Sequence(Model):
    """Named counters (ticket numbers); incremented inside the writing transaction."""

    __tablename__ = "sequence"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)
