"""Creating and changing tickets: the only code that writes them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import instance_state, set_committed_value

from frontdesk.channels.base import IncomingAttachment
from frontdesk.db import emit_after_commit, session, transaction, utcnow
from frontdesk.statements import execute
from frontdesk.models import Message, Queue, Tag, Ticket, User
from frontdesk.models import Sequence as SequenceRow
from frontdesk.pluginmanager import collect, hook
from frontdesk.services import custom_fields as cf
from frontdesk.services.dispatch import apply_sla, route
from frontdesk.services.errors import StaleVersion, TransitionRefused, ValidationFailed
from frontdesk.services.history import history_batch, record_change, record_event
from frontdesk.services.messages import (
    add_message,
    append_message,
    check_message_body,
    check_message_kind,
)
from frontdesk.services.rows import insert_now, new_model
from frontdesk.services.validation import (
    clean_priority,
    clean_subject,
    clean_tags,
    first_status_in,
    status_category,
)

UPDATABLE = (
    "subject",
    "priority",
    "status",
    "queue",
    "assignee",
    "customer",
    "tags",
    "custom_fields",
    "pending_until",
    "language",
)


_sequence = SequenceRow.__table__
_NEXT_VALUE = (
    update(_sequence)
    .where(_sequence.c.name == bindparam("counter"))
    .values(value=_sequence.c.value + 1)
    .returning(_sequence.c.value)
)


def next_sequence(name: str, start: int = 1) -> int:
    """The next value of the named counter, taken inside the current transaction."""
    # A Core statement on the session's connection: the ORM's bulk-update bookkeeping
    # (synchronising loaded objects) has nothing to do for a counter row.
    result = execute(session.connection(), _NEXT_VALUE, {"counter": name}).scalar()
    if result is not None:
        return result
    try:
        with session.begin_nested():  # a concurrent first use may insert the row before us
            session.add(SequenceRow(name=name, value=start))
        return start
    except IntegrityError:
        return next_sequence(name, start)


def create_ticket(
    *,
    subject: str,
    body_text: str = "",
    body_html: str | None = None,
    customer: User | None,
    actor: User | None = None,
    queue: Queue | None = None,
    priority: str = "normal",
    status: str | None = None,
    channel: str = "api",
    language: str | None = None,
    tags: Sequence[str] = (),
    custom_fields: dict[str, Any] | None = None,
    assignee: User | None = None,
    attachments: Sequence[IncomingAttachment] = (),
    message_kind: str = "customer",
    external_id: str | None = None,
    created_at: datetime | None = None,
    meta: dict[str, Any] | None = None,
) -> Ticket:
    """Open a ticket with its first message; fires ``ticket_created`` after commit."""
    # Everything that needs no database is checked before the transaction: on SQLite the
    # transaction holds the write lock, and every writer waits while it is held.
    subject = clean_subject(subject)
    priority = clean_priority(priority)
    status = status or first_status_in("new")
    category = status_category(status)
    check_message_kind(message_kind)
    body = check_message_body(body_text, body_html, attachments)
    with transaction(), history_batch():
        now = created_at or utcnow()
        ticket = new_model(
            Ticket,
            subject=subject,
            priority=priority,
            status=status,
            status_category=category,
            customer=customer,
            organization_id=customer.organization_id if customer else None,
            queue=queue,
            channel=channel,
            language=language or (customer.language if customer else None),
            created_at=now,
            updated_at=now,
            custom_fields={},
            plugin_data={},
        )
        data = {"tags": list(tags), "custom_fields": dict(custom_fields or {})}
        hook().ticket_prepare(ticket=ticket, data=data, actor=actor)
        if ticket.queue is None:
            ticket.queue = hook().select_queue(ticket=ticket)
        ticket.custom_fields = cf.validate_values(ticket.queue, data["custom_fields"])
        tag_names = clean_tags(data["tags"])
        sequence = next_sequence("ticket", current_app.config["TICKET_NUMBER_START"])
        ticket.number = hook().ticket_number(ticket=ticket, sequence=sequence)
        if tag_names:
            _set_tags(ticket, tag_names)
        insert_now(ticket)
        # A new ticket has none of these (tags: unless just set): loaded, reading them later
        # costs no query. The first message is added below.
        for collection in ("messages", "watchers", "tags"):
            if collection not in instance_state(ticket).dict:
                set_committed_value(ticket, collection, [])
        record_event(
            ticket,
            "created",
            actor,
            new={
                "subject": ticket.subject,
                "status": ticket.status,
                "priority": ticket.priority,
                "queue": ticket.queue.key if ticket.queue else None,
                "channel": channel,
            },
        )
        author = customer if message_kind == "customer" else actor
        append_message(
            ticket,
            body,
            kind=message_kind,
            author=author,
            actor=actor,
            channel=channel,
            external_id=external_id,
            created_at=now,
            meta=meta,
        )
        if assignee is not None:
            assign(ticket, assignee, actor)
        else:
            route(ticket, actor)
        apply_sla(ticket)
        emit_after_commit("ticket_created", ticket=ticket, actor=actor)
    return ticket


def _set_tags(ticket: Ticket, names: list[str]) -> None:
    if not names:
        ticket.tags = []
        return
    existing = {t.name: t for t in session.scalars(select(Tag).where(Tag.name.in_(names)))}
    tags = []
    for name in names:
        tag = existing.get(name)
        if tag is None:
            tag = Tag(name=name)
            session.add(tag)
        tags.append(tag)
    ticket.tags = tags


def _touch(ticket: Ticket) -> None:
    ticket.updated_at = utcnow()


def change_status(ticket: Ticket, new: str, actor: User | None) -> None:
    """Move ``ticket`` to status ``new`` unless a plugin refuses; fires ``ticket_status_changed``."""
    with transaction():
        category = status_category(new)
        old = ticket.status
        if new == old:
            return
        reasons = collect(
            hook().status_transition_issues(ticket=ticket, old=old, new=new, actor=actor)
        )
        if reasons:
            raise TransitionRefused([str(r) for r in reasons])
        record_change(ticket, "status", old, new, actor)
        ticket.status, ticket.status_category = new, category
        now = utcnow()
        if category == "solved" and ticket.solved_at is None:
            ticket.solved_at = now
        if category == "closed":
            ticket.closed_at = now
            ticket.solved_at = ticket.solved_at or now
        if category in ("new", "open"):
            ticket.solved_at = ticket.closed_at = None
        if category != "pending" and ticket.pending_until is not None:
            record_change(ticket, "pending_until", ticket.pending_until, None, actor)
            ticket.pending_until = None
        _touch(ticket)
        emit_after_commit("ticket_status_changed", ticket=ticket, old=old, new=new, actor=actor)


def assign(ticket: Ticket, agent: User | None, actor: User | None, reason: str = "") -> None:
    """Give ``ticket`` to ``agent`` (``None`` unassigns); fires ``ticket_assigned``."""
    with transaction():
        if agent is not None and (not agent.is_staff or not agent.is_active):
            raise ValidationFailed(
                "tickets can only be assigned to active agents",
                {"assignee": ["not an active agent or admin"]},
            )
        old = ticket.assignee
        if old is agent or (old is not None and agent is not None and old.id == agent.id):
            return
        record_event(
            ticket,
            "assigned",
            actor,
            field="assignee",
            old=old.id if old else None,
            new={"id": agent.id, "reason": reason} if agent and reason else (agent.id if agent else None),
        )
        ticket.assignee = agent
        _touch(ticket)
        emit_after_commit("ticket_assigned", ticket=ticket, old=old, new=agent, actor=actor)


def update_ticket(
    ticket: Ticket,
    changes: dict[str, Any],
    actor: User | None,
    expected_version: int | None = None,
) -> dict[str, tuple[Any, Any]]:
    """Apply several field changes at once; returns ``{field: (old, new)}`` of what changed.

    ``expected_version`` guards against lost updates: a mismatch raises ``StaleVersion``.
    """
    unknown = sorted(set(changes) - set(UPDATABLE))
    if unknown:
        raise ValidationFailed(
            "unknown fields", {name: ["unknown field"] for name in unknown}
        )
    with transaction():
        if expected_version is not None and expected_version != ticket.version:
            raise StaleVersion(
                f"ticket {ticket.number} is at version {ticket.version}, not {expected_version}"
            )
        done: dict[str, tuple[Any, Any]] = {}
        simple = {
            "subject": clean_subject,
            "priority": clean_priority,
            "language": lambda v: v,
            "pending_until": lambda v: v,
        }
        for name, cleaner in simple.items():
            if name in changes:
                new = cleaner(changes[name])
                old = getattr(ticket, name)
                if new != old:
                    record_change(ticket, name, old, new, actor)
                    setattr(ticket, name, new)
                    done[name] = (old, new)
        if "queue" in changes and changes["queue"] is not ticket.queue:
            old_queue, new_queue = ticket.queue, changes["queue"]
            record_change(
                ticket, "queue", old_queue.key if old_queue else None, new_queue.key if new_queue else None, actor
            )
            ticket.queue = new_queue
            done["queue"] = (old_queue, new_queue)
            keys = {d["key"] for d in (new_queue.custom_fields if new_queue else [])}
            ticket.custom_fields = {k: v for k, v in ticket.custom_fields.items() if k in keys}
            if "custom_fields" not in changes:
                cf.validate_values(new_queue, {}, ticket.custom_fields)
            apply_sla(ticket)
        if "customer" in changes and changes["customer"] is not ticket.customer:
            old_c, new_c = ticket.customer, changes["customer"]
            record_change(ticket, "customer", old_c.id if old_c else None, new_c.id if new_c else None, actor)
            ticket.customer = new_c
            ticket.organization_id = new_c.organization_id if new_c else None
            done["customer"] = (old_c, new_c)
        if "custom_fields" in changes:
            old_values = dict(ticket.custom_fields)
            new_values = cf.validate_values(ticket.queue, changes["custom_fields"], old_values)
            if new_values != old_values:
                record_change(ticket, "custom_fields", old_values, new_values, actor)
                ticket.custom_fields = new_values
                done["custom_fields"] = (old_values, new_values)
        if "tags" in changes:
            old_tags = ticket.tag_names
            new_tags = clean_tags(changes["tags"])
            if sorted(old_tags) != sorted(new_tags):
                record_change(ticket, "tags", old_tags, new_tags, actor)
                _set_tags(ticket, new_tags)
                done["tags"] = (old_tags, new_tags)
        if "status" in changes and changes["status"] != ticket.status:
            old_status = ticket.status
            change_status(ticket, changes["status"], actor)
            done["status"] = (old_status, ticket.status)
        if "assignee" in changes:
            old_a = ticket.assignee
            assign(ticket, changes["assignee"], actor)
            if ticket.assignee is not old_a:
                done["assignee"] = (old_a, ticket.assignee)
        if done:
            _touch(ticket)
            emit_after_commit("ticket_updated", ticket=ticket, changes=done, actor=actor)
    return done


def add_tags(ticket: Ticket, names: Sequence[str], actor: User | None) -> None:
    update_ticket(ticket, {"tags": ticket.tag_names + list(names)}, actor)


def remove_tags(ticket: Ticket, names: Sequence[str], actor: User | None) -> None:
    drop = set(clean_tags(list(names)))
    update_ticket(ticket, {"tags": [n for n in ticket.tag_names if n not in drop]}, actor)


def reply(
    ticket: Ticket,
    body_text: str,
    actor: User,
    *,
    body_html: str | None = None,
    attachments: Sequence[IncomingAttachment] = (),
    channel: str | None = None,
) -> Message:
    """A public message from ``actor``: an agent's answer, or a customer's follow-up."""
    kind = "agent" if actor.is_staff else "customer"
    return add_message(
        ticket,
        kind=kind,
        body_text=body_text,
        body_html=body_html,
        author=actor,
        actor=actor,
        channel=channel or ("web" if kind == "agent" else ticket.channel),
        attachments=attachments,
    )


def add_note(
    ticket: Ticket,
    body_text: str,
    actor: User,
    *,
    body_html: str | None = None,
    attachments: Sequence[IncomingAttachment] = (),
) -> Message:
    """An internal note: visible to staff only, never sent to the customer."""
    if not actor.is_staff:
        raise ValidationFailed("only agents can write internal notes", {"kind": ["agents only"]})
    return add_message(
        ticket,
        kind="internal_note",
        body_text=body_text,
        body_html=body_html,
        author=actor,
        actor=actor,
        channel="web",
        attachments=attachments,
    )
