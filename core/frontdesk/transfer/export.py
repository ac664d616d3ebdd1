"""Writing a dump: header, organizations, users, queues, then tickets in batches.

The export reads through its own session, so it never disturbs (or is disturbed by) the work of
the caller's session, and it drops each batch of rows once written to keep memory flat.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from sqlalchemy import Engine, Select, func, or_, select
from sqlalchemy.orm import Session

from frontdesk.db import get_db, utcnow
from frontdesk.models import (
    Event,
    Message,
    Organization,
    Queue,
    Ticket,
    TicketLink,
    User,
    queue_member,
    ticket_watcher,
)
from frontdesk.services import read_blob
from frontdesk.transfer.format import FORMAT_NAME, FORMAT_VERSION, dump_line, iso
from frontdesk.transfer.records import (
    Lookups,
    event_record,
    is_import_receipt,
    message_record,
    organization_record,
    queue_record,
    ticket_record,
    user_record,
)
from frontdesk.transfer.refs import USER_FIELDS

log = logging.getLogger(__name__)
BATCH = 100


@dataclass
class ExportReport:
    """What an export wrote, and what it had to leave out."""

    counts: dict[str, int] = field(
        default_factory=lambda: {"organization": 0, "user": 0, "queue": 0, "ticket": 0}
    )
    warnings: list[str] = field(default_factory=list)


def count_tickets(since: datetime | None = None) -> int:
    """How many tickets an export with ``since`` will write (for a progress bar)."""
    with Session(get_db().engine) as s:
        query = select(func.count(Ticket.id))
        if since is not None:
            query = query.where(Ticket.updated_at >= since)
        return s.scalar(query) or 0


def export_dump(
    out: IO[bytes],
    since: datetime | None = None,
    on_ticket: Callable[[], None] | None = None,
) -> ExportReport:
    """Write a whole dump to ``out``; with ``since``, only tickets updated since then.

    People, organizations and queues are all written in a full dump; with ``since`` only those the
    selected tickets refer to (including the members of their queues).
    """
    report = ExportReport()
    header = {
        "type": "header",
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "exported_at": iso(utcnow()),
        "since": iso(since),
        "generator": _generator(),
    }
    out.write(dump_line(header))
    with _snapshot_session() as s:
        lookups = Lookups(s)
        selected = select(Ticket.id).where(Ticket.updated_at >= since) if since else None
        user_ids = org_ids = queue_ids = None
        if selected is not None:
            user_ids, org_ids, queue_ids = _referenced(s, selected)
        org_names = {o.id: o.name for o in s.scalars(select(Organization))}
        for org in s.scalars(_only(select(Organization), Organization.id, org_ids)):
            out.write(dump_line(organization_record(org)))
            report.counts["organization"] += 1
        for user in s.scalars(_only(select(User), User.id, user_ids)):
            lookups.emails[user.id] = user.email
            out.write(dump_line(user_record(user, org_names.get(user.organization_id))))
            report.counts["user"] += 1
        for queue in s.scalars(_only(select(Queue), Queue.id, queue_ids)):
            out.write(dump_line(queue_record(queue)))
            report.counts["queue"] += 1
        s.expunge_all()
        last = 0
        while True:
            query = select(Ticket).where(Ticket.id > last).order_by(Ticket.id).limit(BATCH)
            if since is not None:
                query = query.where(Ticket.updated_at >= since)
            tickets = list(s.scalars(query).unique())
            if not tickets:
                break
            for line in _ticket_lines(s, tickets, lookups, org_names, report):
                out.write(line)
                report.counts["ticket"] += 1
                if on_ticket is not None:
                    on_ticket()
            last = tickets[-1].id
            s.expunge_all()
            lookups.message_keys.clear()
    return report


def _snapshot_session() -> Session:
    """A read session that sees one snapshot from its first query to its last.

    Without it a user created halfway through a long export could be missing from the people
    while a ticket written later refers to them. SQLite keeps a read transaction's snapshot
    anyway; PostgreSQL needs REPEATABLE READ for that.
    """
    engine: Engine = get_db().engine
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    return Session(engine)


def _generator() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"frontdesk {version('frontdesk')}"
    except PackageNotFoundError:
        return "frontdesk"


def _only(query: Select[Any], column: Any, ids: set[int] | None) -> Select[Any]:
    if ids is not None:
        query = query.where(column.in_(ids)) if ids else query.where(column.is_(None))
    return query.order_by(column)


def _referenced(s: Session, selected: Select[Any]) -> tuple[set[int], set[int], set[int]]:
    """Ids of the users, organizations and queues the selected tickets refer to."""
    users: set[int] = set()
    orgs: set[int] = set()
    queues: set[int] = set()
    rows = s.execute(
        select(
            Ticket.customer_id, Ticket.assignee_id, Ticket.organization_id, Ticket.queue_id
        ).where(Ticket.id.in_(selected))
    )
    for customer_id, assignee_id, organization_id, queue_id in rows:
        users.update(i for i in (customer_id, assignee_id) if i is not None)
        if organization_id is not None:
            orgs.add(organization_id)
        if queue_id is not None:
            queues.add(queue_id)
    users.update(
        s.scalars(select(Message.author_id).where(Message.ticket_id.in_(selected)).distinct())
    )
    users.update(s.scalars(select(Event.actor_id).where(Event.ticket_id.in_(selected)).distinct()))
    users.update(
        s.scalars(select(ticket_watcher.c.user_id).where(ticket_watcher.c.ticket_id.in_(selected)))
    )
    if queues:
        users.update(
            s.scalars(select(queue_member.c.user_id).where(queue_member.c.queue_id.in_(queues)))
        )
    history = select(Event.old, Event.new).where(
        Event.ticket_id.in_(selected), or_(*(Event.field == name for name in USER_FIELDS))
    )
    for old, new in s.execute(history):
        for value in (old, new):
            if isinstance(value, dict):
                value = value.get("id")
            if isinstance(value, int) and not isinstance(value, bool):
                users.add(value)
    users.discard(None)  # type: ignore[arg-type]
    orgs.update(
        i
        for i in s.scalars(select(User.organization_id).where(User.id.in_(users)))
        if i is not None
    )
    return users, orgs, queues


def _ticket_lines(
    s: Session,
    tickets: list[Ticket],
    lookups: Lookups,
    org_names: dict[int, str],
    report: ExportReport,
) -> list[bytes]:
    ids = [t.id for t in tickets]
    messages: dict[int, list[Message]] = {i: [] for i in ids}
    for message in s.scalars(
        select(Message).where(Message.ticket_id.in_(ids)).order_by(Message.id)
    ):
        messages[message.ticket_id].append(message)
        lookups.remember_message(message)
    events: dict[int, list[Event]] = {i: [] for i in ids}
    for event in s.scalars(select(Event).where(Event.ticket_id.in_(ids)).order_by(Event.id)):
        if not is_import_receipt(event):
            events[event.ticket_id].append(event)  # type: ignore[index]
    links: dict[int, list[TicketLink]] = {i: [] for i in ids}
    for link in s.scalars(select(TicketLink).where(TicketLink.source_id.in_(ids))):
        links[link.source_id].append(link)
    lookups.numbers_of(
        [link.target_id for rows in links.values() for link in rows]
        + [t.merged_into_id for t in tickets if t.merged_into_id is not None]
    )
    lines = []
    for ticket in tickets:
        read = _reader(ticket, report)
        message_rows = [message_record(m, lookups, read) for m in messages[ticket.id]]
        event_rows = [event_record(e, lookups) for e in events[ticket.id]]
        record = ticket_record(
            ticket,
            message_rows,
            event_rows,
            links[ticket.id],
            lookups,
            org_names.get(ticket.organization_id) if ticket.organization_id else None,
        )
        lines.append(dump_line(record))
    return lines


def _reader(ticket: Ticket, report: ExportReport) -> Callable[[str], bytes | None]:
    def read(sha256: str) -> bytes | None:
        try:
            return read_blob(sha256)
        except OSError as exc:
            # A lost blob must not stop the whole export; the report makes the command fail.
            report.warnings.append(
                f"ticket {ticket.number}: attachment {sha256} left out: {exc.strerror or exc}"
            )
            return None

    return read
