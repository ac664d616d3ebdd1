"""The channel contract: how a channel hands inbound messages to the core and sends replies."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from frontdesk.providers import Provider

if TYPE_CHECKING:
    from frontdesk.models import Message, Ticket


@dataclass
class IncomingAttachment:
    """A file that arrived with a message, before it is stored."""

    filename: str
    data: bytes
    media_type: str = "application/octet-stream"
    content_id: str | None = None


@dataclass
class InboundMessage:
    """A message as a channel received it, normalised for the core.

    ``external_id`` identifies the delivery (an email's Message-ID); the core uses it to detect
    duplicates per channel. ``in_reply_to``/``references`` carry the channel's own threading facts.
    """

    channel: str
    sender_email: str | None
    body_text: str
    subject: str = ""
    sender_name: str = ""
    body_html: str | None = None
    external_id: str | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    attachments: list[IncomingAttachment] = field(default_factory=list)
    received_at: datetime | None = None
    language: str | None = None
    queue_key: str | None = None
    custom_fields: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScreenVerdict:
    """An ``inbound_message_screen`` answer: drop (noise, loops) or reject (refused), with why."""

    action: Literal["drop", "reject"]
    reason: str


@dataclass(frozen=True)
class ThreadMatch:
    """An ``inbound_message_thread`` answer: the ticket a message belongs to and why."""

    ticket: Ticket
    reason: str


@dataclass(frozen=True)
class InboundOutcome:
    """What became of one inbound message; every message ends in exactly one outcome."""

    action: Literal["created", "appended", "duplicate", "dropped", "rejected"]
    ticket: Ticket | None = None
    message: Message | None = None
    reason: str = ""

    def describe(self) -> str:
        if self.action in ("created", "appended") and self.ticket is not None:
            verb = "created ticket" if self.action == "created" else "appended to ticket"
            return f"{verb} {self.ticket.number}" + (f" ({self.reason})" if self.reason else "")
        if self.action == "duplicate" and self.ticket is not None:
            return f"duplicate of a delivery already on ticket {self.ticket.number}"
        return f"{self.action}: {self.reason}" if self.reason else self.action


class Channel(Provider):
    """A way tickets arrive and replies leave (email, web form, chat, ...).

    Inbound messages go to ``frontdesk.services.receive_inbound``; the core screens, de-duplicates,
    threads and records them. ``send`` delivers a public agent message to the customer and returns
    the channel's identity for it (or ``None`` if the channel cannot send).
    """

    kind: ClassVar[str] = "channel"
    can_send: ClassVar[bool] = False

    @abstractmethod
    def send(self, ticket: Ticket, message: Message) -> str | None:
        """Deliver ``message`` of ``ticket``; return its external id. Raise to have the job retry."""
