"""Ticket relations: merge, split, links and watchers."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update

from frontdesk.db import emit_after_commit, session, transaction, utcnow
from frontdesk.models import LINK_KINDS, Message, Ticket, TicketLink, User
from frontdesk.pluginmanager import get_registry
from frontdesk.services.errors import Conflict, ValidationFailed
from frontdesk.services.history import record_event
from frontdesk.services.validation import first_status_in


def merge_tickets(source: Ticket, target: Ticket, actor: User | None) -> Ticket:
    """Move every message of ``source`` into ``target`` and close ``source`` as merged.

    Tags and watchers are united; ``source`` keeps a ``duplicate_of`` link to ``target``.
    """
    if source.id == target.id:
        raise ValidationFailed("a ticket cannot be merged into itself", {"target": ["same ticket"]})
    if source.merged_into_id is not None:
        raise Conflict(f"ticket {source.number} was already merged")
    if target.merged_into_id is not None:
        raise Conflict(f"ticket {target.number} was merged into another ticket; merge into that one")
    from frontdesk.services.tickets import _set_tags, change_status

    with transaction():
        moved = session.execute(
            update(Message).where(Message.ticket_id == source.id).values(ticket_id=target.id)
        ).rowcount
        session.expire(source, ["messages"])
        session.expire(target, ["messages"])
        _set_tags(target, list(dict.fromkeys(target.tag_names + source.tag_names)))
        for watcher in source.watchers:
            if watcher not in target.watchers:
                target.watchers.append(watcher)
        if source.customer and source.customer is not target.customer:
            if source.customer not in target.watchers:
                target.watchers.append(source.customer)
        session.add(TicketLink(source_id=source.id, target_id=target.id, kind="duplicate_of"))
        source.merged_into_id = target.id
        record_event(source, "merged", actor, field="merged_into", new=target.number)
        record_event(target, "merged", actor, field="merged_from", new={"ticket": source.number, "messages": moved})
        statuses = get_registry().statuses
        merged = "merged" if "merged" in statuses else first_status_in("closed")
        if source.status != merged:
            change_status(source, merged, actor)
        target.updated_at = utcnow()
        emit_after_commit("ticket_merged", source=source, target=target, actor=actor)
    return target


def split_ticket(
    ticket: Ticket, message_ids: Sequence[int], actor: User | None, subject: str | None = None
) -> Ticket:
    """Move the given messages of ``ticket`` into a new ticket for the same customer and queue."""
    from frontdesk.services.tickets import create_ticket

    ids = list(dict.fromkeys(message_ids))
    if not ids:
        raise ValidationFailed("choose messages to split off", {"message_ids": ["must not be empty"]})
    messages = list(
        session.scalars(select(Message).where(Message.id.in_(ids)).order_by(Message.id))
    )
    if len(messages) != len(ids) or any(m.ticket_id != ticket.id for m in messages):
        raise ValidationFailed(
            "every message must belong to this ticket", {"message_ids": ["not messages of this ticket"]}
        )
    if len(messages) == len(ticket.messages):
        raise ValidationFailed("a split must leave at least one message", {"message_ids": ["all messages"]})
    with transaction():
        first = messages[0]
        new = create_ticket(
            subject=subject or ticket.subject,
            body_text=f"Split from {ticket.number}",
            customer=ticket.customer,
            actor=actor,
            queue=ticket.queue,
            priority=ticket.priority,
            channel=ticket.channel,
            language=ticket.language,
            message_kind="system",
            created_at=first.created_at,
        )
        session.execute(update(Message).where(Message.id.in_(ids)).values(ticket_id=new.id))
        session.expire(ticket, ["messages"])
        session.expire(new, ["messages"])
        session.add(TicketLink(source_id=new.id, target_id=ticket.id, kind="split_from"))
        record_event(ticket, "split", actor, field="split_to", new={"ticket": new.number, "messages": ids})
        record_event(new, "split", actor, field="split_from", new={"ticket": ticket.number, "messages": ids})
        ticket.updated_at = utcnow()
    return new


def link_tickets(source: Ticket, target: Ticket, kind: str, actor: User | None) -> TicketLink:
    if kind not in LINK_KINDS:
        raise ValidationFailed("unknown link kind", {"kind": [f"one of {', '.join(LINK_KINDS)}"]})
    if source.id == target.id:
        raise ValidationFailed("a ticket cannot link to itself", {"target": ["same ticket"]})
    with transaction():
        existing = session.scalar(
            select(TicketLink).filter_by(source_id=source.id, target_id=target.id, kind=kind)
        )
        if existing:
            return existing
        link = TicketLink(source_id=source.id, target_id=target.id, kind=kind)
        session.add(link)
        record_event(source, "linked", actor, field=kind, new=target.number)
        record_event(target, "linked", actor, field=f"{kind}:reverse", new=source.number)
    return link


def unlink_tickets(link: TicketLink, actor: User | None) -> None:
    with transaction():
        source = session.get(Ticket, link.source_id)
        target = session.get(Ticket, link.target_id)
        record_event(source, "unlinked", actor, field=link.kind, old=target.number if target else None)
        session.delete(link)


def ticket_links(ticket: Ticket) -> list[TicketLink]:
    return list(
        session.scalars(
            select(TicketLink)
            .where((TicketLink.source_id == ticket.id) | (TicketLink.target_id == ticket.id))
            .order_by(TicketLink.id)
        )
    )


def add_watcher(ticket: Ticket, user: User, actor: User | None) -> None:
    with transaction():
        if user not in ticket.watchers:
            ticket.watchers.append(user)
            record_event(ticket, "watcher_added", actor, field="watchers", new=user.id)


def remove_watcher(ticket: Ticket, user: User, actor: User | None) -> None:
    with transaction():
        if user in ticket.watchers:
            ticket.watchers.remove(user)
            record_event(ticket, "watcher_removed", actor, field="watchers", old=user.id)
