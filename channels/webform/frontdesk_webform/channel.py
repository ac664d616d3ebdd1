"""The web-form channel: what a form submission becomes for the core (an ``InboundMessage``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from frontdesk.channels.base import Channel, InboundMessage, IncomingAttachment

from .i18n import _l

if TYPE_CHECKING:
    from frontdesk.models import Message, Ticket

CHANNEL = "webform"


class WebformChannel(Channel):
    """Requests written in the portal's form or an embedded copy of it.

    It cannot send: customers read the answers in the portal, where the form brought them.
    """

    key = CHANNEL
    label = _l("Web form")
    can_send = False

    def send(self, ticket: Ticket, message: Message) -> str | None:
        return None


def external_id(delivery_id: str) -> str:
    """The message's identity in the core: one form delivery opens at most one ticket."""
    return f"{CHANNEL}:{delivery_id}"


def inbound_message(
    *,
    delivery_id: str,
    email: str,
    name: str,
    subject: str,
    body: str,
    language: str | None,
    queue_key: str | None = None,
    custom_fields: dict[str, Any] | None = None,
    attachments: Sequence[IncomingAttachment] = (),
    embedded: bool = False,
) -> InboundMessage:
    """The core's view of one form submission."""
    return InboundMessage(
        channel=CHANNEL,
        sender_email=email,
        sender_name=name,
        subject=subject,
        body_text=body,
        external_id=external_id(delivery_id),
        language=language,
        queue_key=queue_key,
        custom_fields=dict(custom_fields or {}),
        attachments=list(attachments),
        meta={CHANNEL: {"embedded": embedded}},
    )
