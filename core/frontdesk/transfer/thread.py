"""Import writer for a ticket's thread and history: messages, attachments, events.

Both are append-only: a message or event the database already holds is recognised by its
identity (see docs/interchange.md) and never written twice; nothing is ever removed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections import Counter
from typing import Any

from sqlalchemy import select

from frontdesk.channels.base import IncomingAttachment
from frontdesk.db import session
from frontdesk.models import Attachment, Event, Message, Ticket
from frontdesk.services import sanitize_filename, sanitize_html
from frontdesk.services.attachments import check_attachments, write_blob
from frontdesk.services.validation import clean_body
from frontdesk.transfer.format import RecordError, event_key, iso, message_key
from frontdesk.transfer.records import (
    IMPORT_ACTION,
    IMPORT_SOURCE,
    Lookups,
    event_record,
    is_import_receipt,
)
from frontdesk.transfer.refs import decode_value, encode_value
from frontdesk.transfer.services import Resolver, apply


def add_messages(
    ticket: Ticket,
    records: list[dict[str, Any]],
    resolver: Resolver,
    lookups: Lookups,
    created: bool,
) -> tuple[bool, dict[str, Message]]:
    """Add the messages not stored yet; returns whether any was, and the thread by key."""
    known: dict[str, list[Message]] = {}
    thread: dict[str, Message] = {}
    if not created:
        for stored in ticket.messages:
            key = lookups.remember_message(stored)
            known.setdefault(key, []).append(stored)
            thread.setdefault(key, stored)
    changed = False
    for index, record in enumerate(records):
        where = f"messages.{index}"
        author = resolver.user(record["author"], f"{where}.author")
        body_text = clean_body(record["body_text"], f"{where}.body_text")
        key = message_key(
            record["kind"],
            record["channel"],
            author.email if author else None,
            iso(record["created_at"]),
            body_text,
        )
        existing = _existing_message(record, known.get(key))
        if existing is not None:
            if existing.ticket_id == ticket.id:
                updates = {"meta": record["meta"]}
                if existing.external_id is None and record["external_id"] is not None:
                    updates["external_id"] = record["external_id"]
                changed |= apply(existing, updates)
            continue
        html = record["body_html"]
        message = Message(
            ticket=ticket,
            kind=record["kind"],
            channel=record["channel"],
            author_id=author.id if author else None,
            body_text=body_text,
            body_html=sanitize_html(clean_body(html, f"{where}.body_html")) if html else html,
            external_id=record["external_id"],
            meta=record["meta"],
            created_at=record["created_at"],
        )
        session.add(message)
        _add_attachments(message, record["attachments"], where)
        thread.setdefault(key, message)
        changed = True
    if changed:
        session.flush()
    return changed, thread


def _existing_message(record: dict[str, Any], same_key: list[Message] | None) -> Message | None:
    """The stored message ``record`` describes: same channel and external id, else same key.

    Messages with the same key are matched one for one, so a thread that really holds two
    identical messages keeps both.
    """
    if record["external_id"] is not None:
        found = session.scalar(
            select(Message).where(
                Message.channel == record["channel"], Message.external_id == record["external_id"]
            )
        )
        if found is not None:
            if same_key and found in same_key:
                same_key.remove(found)
            return found
    return same_key.pop(0) if same_key else None


def _add_attachments(message: Message, records: list[dict[str, Any]], where: str) -> None:
    files = []
    for index, item in enumerate(records):
        here = f"{where}.attachments.{index}"
        try:
            data = base64.b64decode(item["content"], validate=True)
        except (binascii.Error, ValueError):
            raise RecordError(f"{here}.content: not valid base64") from None
        if len(data) != item["size"]:
            raise RecordError(f"{here}.size: {item['size']} but the content has {len(data)} bytes")
        if hashlib.sha256(data).hexdigest() != item["sha256"]:
            raise RecordError(f"{here}.sha256: does not match the content")
        files.append((item, data))
    check_attachments([IncomingAttachment(i["filename"], d, i["media_type"]) for i, d in files])
    for index, (item, data) in enumerate(files, start=1):
        row = Attachment(
            message=message,
            sha256=write_blob(data),
            filename=sanitize_filename(item["filename"], fallback=f"attachment-{index}"),
            media_type=item["media_type"],
            size=len(data),
            content_id=item["content_id"],
        )
        if item["created_at"] is not None:
            row.created_at = item["created_at"]
        session.add(row)


def add_events(
    ticket: Ticket,
    records: list[dict[str, Any]],
    resolver: Resolver,
    lookups: Lookups,
    created: bool,
    thread: dict[str, Message],
) -> bool:
    known: Counter[str] = Counter()
    if not created:
        rows = session.scalars(select(Event).where(Event.ticket_id == ticket.id).order_by(Event.id))
        known.update(event_key(event_record(e, lookups)) for e in rows if not is_import_receipt(e))
    by_key = {key: message.id for key, message in thread.items()}
    lookups.message_keys.update((message.id, key) for key, message in thread.items())
    added = False
    for index, record in enumerate(records):
        where = f"events.{index}"
        if record["action"] == IMPORT_ACTION and record["source"] == IMPORT_SOURCE:
            continue  # another instance's import receipt: this import writes its own
        actor = resolver.user(record["actor"], f"{where}.actor")
        old, new = (
            decode_value(record[name], resolver.user_id, by_key.get, f"{where}.{name}")
            for name in ("old", "new")
        )

        normalised = {
            **record,
            "created_at": iso(record["created_at"]),
            "actor": actor.email if actor else None,
            "old": _encode(record, old, lookups),
            "new": _encode(record, new, lookups),
        }
        key = event_key(normalised)
        if known[key] > 0:
            known[key] -= 1
            continue
        session.add(
            Event(
                ticket_id=ticket.id,
                actor_id=actor.id if actor else None,
                action=record["action"],
                field=record["field"],
                old=old,
                new=new,
                source=record["source"],
                created_at=record["created_at"],
            )
        )
        added = True
    return added


def _encode(record: dict[str, Any], value: Any, lookups: Lookups) -> Any:
    return encode_value(
        record["action"], record["field"], value, lookups.email_of, lookups.message_key_of
    )
