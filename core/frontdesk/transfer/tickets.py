"""Import writer for tickets: fields, tags, watchers and links (the thread is in ``thread``).

A ticket record is applied as a whole inside the caller's transaction. Fields, tags, watchers and
outgoing links are set to what the record says; messages and history events are only ever added,
each recognised by its identity so that importing the same record again adds nothing. Like the
other import writers it fires no lifecycle event and records one ``imported`` history event when
it created or changed the ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from frontdesk.db import session
from frontdesk.models import Queue, Tag, Ticket, TicketLink
from frontdesk.services import record_event
from frontdesk.services.custom_fields import validate_values
from frontdesk.services.validation import clean_subject, clean_tags, status_category
from frontdesk.transfer.format import RecordError
from frontdesk.transfer.records import IMPORT_ACTION, IMPORT_SOURCE
from frontdesk.transfer.services import (
    CREATED,
    UNCHANGED,
    UPDATED,
    Resolver,
    apply,
    raise_ticket_sequence,
)
from frontdesk.transfer.thread import add_events, add_messages


TIMESTAMPS = (
    "created_at",
    "updated_at",
    "first_response_at",
    "solved_at",
    "closed_at",
    "pending_until",
)


@dataclass
class PendingReference:
    """A link or merge target not in the database yet; settled once the whole file is read."""

    line: int
    number: str
    kind: str  # a link kind, or "merged_into"
    target: str


def import_ticket(
    record: dict[str, Any], resolver: Resolver, line: int, receipt: dict[str, Any]
) -> tuple[str, list[PendingReference]]:
    """Create or bring up to date the ticket ``record`` describes; returns the outcome."""
    number = record["number"]
    queue = resolver.queue(record["queue"], "queue")
    values = {
        "subject": clean_subject(record["subject"]),
        "status": record["status"],
        "status_category": status_category(record["status"]),
        "priority": record["priority"],
        "queue_id": queue.id if queue else None,
        "customer_id": _id(resolver.user(record["customer"], "customer")),
        "assignee_id": _id(resolver.user(record["assignee"], "assignee")),
        "organization_id": _id(resolver.organization(record["organization"], "organization")),
        "channel": record["channel"],
        "language": record["language"],
        "custom_fields": _custom_fields(queue, record["custom_fields"]),
        "plugin_data": record["plugin_data"],
        **{name: record[name] for name in TIMESTAMPS},
    }
    tags = clean_tags(record["tags"])
    watchers = [resolver.user(e, f"watchers.{i}") for i, e in enumerate(record["watchers"])]
    watcher_rows = [w for w in watchers if w is not None]
    pending: list[PendingReference] = []
    if record["merged_into"] is not None:
        target = _ticket_id(record["merged_into"])
        if target is None:
            pending.append(PendingReference(line, number, "merged_into", record["merged_into"]))
        else:
            values["merged_into_id"] = target
    else:
        values["merged_into_id"] = None

    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    created = ticket is None
    if ticket is None:
        ticket = Ticket(number=number, **values)
        session.add(ticket)
        session.flush()
        changed = True
    else:
        changed = apply(ticket, values)
    changed |= _sync_tags(ticket, tags, resolver, created)
    if (created and watcher_rows) or (
        not created and {w.id for w in ticket.watchers} != {w.id for w in watcher_rows}
    ):
        ticket.watchers = watcher_rows
        changed = True
    lookups = resolver.lookups
    lookups.message_keys.clear()  # message ids are only looked up within one ticket's record
    messages_changed, by_key = add_messages(ticket, record["messages"], resolver, lookups, created)
    changed |= messages_changed
    changed |= add_events(ticket, record["events"], resolver, lookups, created, by_key)
    changed |= _sync_links(ticket, record["links"], line, pending, created)
    if changed:
        outcome = CREATED if created else UPDATED
        record_event(
            ticket, IMPORT_ACTION, None, new={**receipt, "result": outcome}, source=IMPORT_SOURCE
        )
    raise_ticket_sequence(number, resolver)
    return (outcome if changed else UNCHANGED), pending


def settle(reference: PendingReference) -> None:
    """Create a link or set ``merged_into`` whose target arrived later in the file."""
    source = session.scalar(select(Ticket).where(Ticket.number == reference.number))
    target_id = _ticket_id(reference.target)
    if source is None:
        raise RecordError(f"ticket {reference.number} was not imported")
    if target_id is None:
        field = "merged_into" if reference.kind == "merged_into" else "links"
        raise RecordError(f"{field}: unknown ticket {reference.target!r}")
    if reference.kind == "merged_into":
        source.merged_into_id = target_id
        return
    exists = session.scalar(
        select(TicketLink.id).filter_by(
            source_id=source.id, target_id=target_id, kind=reference.kind
        )
    )
    if exists is None:
        session.add(TicketLink(source_id=source.id, target_id=target_id, kind=reference.kind))


def _id(row: Any) -> int | None:
    return row.id if row is not None else None


def _ticket_id(number: str) -> int | None:
    return session.scalar(select(Ticket.id).where(Ticket.number == number))


def _custom_fields(queue: Queue | None, values: dict[str, Any]) -> dict[str, Any]:
    # Types are checked against the queue's definitions, but an old ticket may predate a field
    # becoming required or a choice being retired: history is imported as it happened.
    definitions = [
        {**d, "required": False, "type": "text" if d["type"] == "choice" else d["type"]}
        for d in (queue.custom_fields if queue else [])
    ]
    surrogate = SimpleNamespace(custom_fields=definitions) if queue else None
    return validate_values(surrogate, values)  # type: ignore[arg-type]


def _sync_tags(ticket: Ticket, names: list[str], resolver: Resolver, created: bool) -> bool:
    unchanged = not names if created else sorted(ticket.tag_names) == sorted(names)
    if unchanged:
        return False
    known = resolver.tags
    missing = [name for name in names if name not in known]
    if missing:
        known.update((t.name, t) for t in session.scalars(select(Tag).where(Tag.name.in_(missing))))
    for name in names:
        if name not in known:
            known[name] = Tag(name=name)
            session.add(known[name])
    ticket.tags = [known[name] for name in names]
    return True


def _sync_links(
    ticket: Ticket,
    records: list[dict[str, Any]],
    line: int,
    pending: list[PendingReference],
    created: bool,
) -> bool:
    existing: dict[tuple[str, str], TicketLink] = {}
    if not created:
        rows = session.execute(
            select(TicketLink, Ticket.number)
            .join(Ticket, Ticket.id == TicketLink.target_id)
            .where(TicketLink.source_id == ticket.id)
        )
        existing = {(link.kind, number): link for link, number in rows}
    wanted: set[tuple[str, str]] = set()
    changed = False
    for index, item in enumerate(records):
        kind, number = item["kind"], item["ticket"]
        wanted.add((kind, number))
        if number == ticket.number:
            raise RecordError(f"links.{index}: a ticket cannot link to itself")
        if (kind, number) in existing:
            continue
        target = _ticket_id(number)
        if target is None:
            pending.append(PendingReference(line, ticket.number, kind, number))
            continue
        session.add(TicketLink(source_id=ticket.id, target_id=target, kind=kind))
        changed = True
    for key, link in existing.items():
        if key not in wanted:
            session.delete(link)
            changed = True
    return changed
