"""Rows as interchange records: the one place that decides what a dump says about each row.

The exporter writes these records; the importer builds the same records from what is already in
the database to recognise messages and events it has imported before.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from frontdesk.models import Event, Message, Organization, Queue, Ticket, TicketLink, User
from frontdesk.transfer.format import iso, message_key
from frontdesk.transfer.refs import encode_value

# The importer's own receipt ("this ticket was imported"): bookkeeping of the receiving instance,
# never exported, so a dump survives any number of export/import hops unchanged.
IMPORT_ACTION = "imported"
IMPORT_SOURCE = "import"


class Lookups:
    """Cached id -> email / message key / ticket number lookups against one session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.emails: dict[int, str | None] = {}
        self.message_keys: dict[int, str | None] = {}
        self.numbers: dict[int, str | None] = {}

    def email_of(self, user_id: int | None) -> str | None:
        if user_id is None:
            return None
        if user_id not in self.emails:
            self.emails[user_id] = self.session.scalar(select(User.email).where(User.id == user_id))
        return self.emails[user_id]

    def remember_message(self, message: Message) -> str:
        key = message_key_of(message, self.email_of(message.author_id))
        self.message_keys[message.id] = key
        return key

    def message_key_of(self, message_id: int) -> str | None:
        if message_id not in self.message_keys:
            message = self.session.get(Message, message_id)
            self.message_keys[message_id] = (
                self.remember_message(message) if message is not None else None
            )
        return self.message_keys[message_id]

    def numbers_of(self, ticket_ids: Iterable[int]) -> None:
        missing = {i for i in ticket_ids if i not in self.numbers}
        if missing:
            rows = self.session.execute(
                select(Ticket.id, Ticket.number).where(Ticket.id.in_(missing))
            )
            self.numbers.update({row.id: row.number for row in rows})

    def number_of(self, ticket_id: int | None) -> str | None:
        if ticket_id is None:
            return None
        self.numbers_of([ticket_id])
        return self.numbers.get(ticket_id)


def message_key_of(message: Message, author_email: str | None) -> str:
    return message_key(
        message.kind, message.channel, author_email, iso(message.created_at), message.body_text
    )


def organization_record(org: Organization) -> dict[str, Any]:
    return {
        "type": "organization",
        "name": org.name,
        "domains": list(org.domains or []),
        "shared_tickets": org.shared_tickets,
        "notes": org.notes or "",
        "created_at": iso(org.created_at),
    }


def user_record(user: User, organization: str | None) -> dict[str, Any]:
    # Never the password hash, API tokens or login times: they belong to the instance.
    return {
        "type": "user",
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "organization": organization,
        "language": user.language,
        "timezone": user.timezone,
        "is_active": user.is_active,
        "vip": user.vip,
        "plugin_data": dict(user.plugin_data or {}),
        "created_at": iso(user.created_at),
    }


def queue_record(queue: Queue) -> dict[str, Any]:
    return {
        "type": "queue",
        "key": queue.key,
        "name": queue.name,
        "description": queue.description or "",
        "email": queue.email,
        "custom_fields": [dict(d) for d in queue.custom_fields or []],
        "routing": queue.routing,
        "sla_policy": queue.sla_policy,
        "is_active": queue.is_active,
        "members": sorted(m.email for m in queue.members),
        "created_at": iso(queue.created_at),
    }


def message_record(
    message: Message, lookups: Lookups, read: Callable[[str], bytes | None] | None
) -> dict[str, Any]:
    """A message; with ``read`` its attachments carry their bytes (base64).

    An attachment whose bytes ``read`` cannot find (``None``) is left out.
    """
    attachments = []
    for item in message.attachments:
        entry: dict[str, Any] = {
            "filename": item.filename,
            "media_type": item.media_type,
            "size": item.size,
            "sha256": item.sha256,
            "content_id": item.content_id,
            "created_at": iso(item.created_at),
        }
        if read is not None:
            data = read(item.sha256)
            if data is None:
                continue
            entry["content"] = base64.b64encode(data).decode("ascii")
        attachments.append(entry)
    return {
        "kind": message.kind,
        "channel": message.channel,
        "author": lookups.email_of(message.author_id),
        "body_text": message.body_text,
        "body_html": message.body_html,
        "external_id": message.external_id,
        "meta": dict(message.meta or {}),
        "created_at": iso(message.created_at),
        "attachments": attachments,
    }


def event_record(event: Event, lookups: Lookups) -> dict[str, Any]:
    def encode(value: Any) -> Any:
        return encode_value(
            event.action, event.field, value, lookups.email_of, lookups.message_key_of
        )

    return {
        "created_at": iso(event.created_at),
        "actor": lookups.email_of(event.actor_id),
        "action": event.action,
        "field": event.field,
        "old": encode(event.old),
        "new": encode(event.new),
        "source": event.source,
    }


def is_import_receipt(event: Event) -> bool:
    return event.action == IMPORT_ACTION and event.source == IMPORT_SOURCE


def ticket_record(
    ticket: Ticket,
    messages: list[dict[str, Any]],
    events: list[dict[str, Any]],
    links: list[TicketLink],
    lookups: Lookups,
    organization: str | None,
) -> dict[str, Any]:
    link_rows = [{"kind": link.kind, "ticket": lookups.number_of(link.target_id)} for link in links]
    return {
        "type": "ticket",
        "number": ticket.number,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "queue": ticket.queue.key if ticket.queue else None,
        "customer": lookups.email_of(ticket.customer_id),
        "assignee": lookups.email_of(ticket.assignee_id),
        "organization": organization,
        "channel": ticket.channel,
        "language": ticket.language,
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "first_response_at": iso(ticket.first_response_at),
        "solved_at": iso(ticket.solved_at),
        "closed_at": iso(ticket.closed_at),
        "pending_until": iso(ticket.pending_until),
        "merged_into": lookups.number_of(ticket.merged_into_id),
        "tags": ticket.tag_names,
        "watchers": sorted(w.email for w in ticket.watchers),
        "links": sorted(link_rows, key=lambda r: (r["kind"], r["ticket"] or "")),
        "custom_fields": dict(ticket.custom_fields or {}),
        "plugin_data": dict(ticket.plugin_data or {}),
        "messages": messages,
        "events": events,
    }
