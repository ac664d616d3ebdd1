"""The core models (public API): tickets, messages, people, queues, history."""

from __future__ import annotations

from frontdesk.models.jobs import Job, PeriodicTick
from frontdesk.models.people import (
    ROLES,
    ApiToken,
    CannedResponse,
    Organization,
    Queue,
    SavedView,
    User,
    queue_member,
)
from frontdesk.models.signin import SigninLink  # noqa: F401  (the table must be known)
from frontdesk.models.ticket import (
    LINK_KINDS,
    MESSAGE_KINDS,
    PRIORITIES,
    PRIORITY_RANK,
    Attachment,
    Event,
    Message,
    Sequence,
    Tag,
    Ticket,
    TicketLink,
    ticket_tag,
    ticket_watcher,
)

__all__ = [
    "LINK_KINDS",
    "MESSAGE_KINDS",
    "PRIORITIES",
    "PRIORITY_RANK",
    "ROLES",
    "ApiToken",
    "Attachment",
    "CannedResponse",
    "Event",
    "Job",
    "Message",
    "Organization",
    "PeriodicTick",
    "Queue",
    "SavedView",
    "Sequence",
    "Tag",
    "Ticket",
    "TicketLink",
    "User",
    "queue_member",
    "ticket_tag",
    "ticket_watcher",
]
