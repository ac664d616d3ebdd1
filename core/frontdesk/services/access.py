"""Who may see what: ticket visibility for agents and customers, as checks and as SQL filters."""

from __future__ import annotations

from typing import Any

from sqlalchemy import false, or_, select, true

from frontdesk.models import Organization, Ticket, User, queue_member, ticket_watcher
from frontdesk.pluginmanager import hook


def has_permission(actor: User | None, permission: str, obj: Any = None) -> bool:
    """Ask the ``permission_check`` hook (plugins first, the role-based default last)."""
    return bool(hook().permission_check(actor=actor, permission=permission, obj=obj))


def visible_tickets_clause(actor: User | None) -> Any:
    """A WHERE clause selecting the tickets ``actor`` may see.

    Admins see all; agents the tickets of their teams' queues, tickets without a queue and tickets
    assigned to them; customers their own tickets, the ones they watch, and their organisation's
    when it shares tickets.
    """
    kind, user_id, org_id = visibility_of(actor)
    return visibility_clause(kind, user_id, org_id)


def visibility_of(actor: User | None) -> tuple[str, int | None, int | None]:
    """Which rule of :func:`visible_tickets_clause` applies to ``actor``, with its user and org.

    The kind is ``none``, ``all``, ``team``, ``own`` or ``own_and_org``; callers that build one
    statement per kind and bind the ids (the ticket list) use it with :func:`visibility_clause`.
    """
    if actor is None or not actor.is_active:
        return "none", None, None
    if actor.is_admin:
        return "all", actor.id, None
    if actor.is_staff:
        return "team", actor.id, None
    org: Organization | None = actor.organization
    if org is not None and org.shared_tickets:
        return "own_and_org", actor.id, org.id
    return "own", actor.id, None


def visibility_clause(kind: str, user_id: Any, org_id: Any) -> Any:
    """The clause for one kind of :func:`visibility_of`; the ids may be values or bind params."""
    if kind == "none":
        return false()
    if kind == "all":
        return true()
    if kind == "team":
        team_queues = select(queue_member.c.queue_id).where(queue_member.c.user_id == user_id)
        return or_(
            Ticket.queue_id.in_(team_queues),
            Ticket.queue_id.is_(None),
            Ticket.assignee_id == user_id,
        )
    watched = select(ticket_watcher.c.ticket_id).where(ticket_watcher.c.user_id == user_id)
    clauses = [Ticket.customer_id == user_id, Ticket.id.in_(watched)]
    if kind == "own_and_org":
        clauses.append(Ticket.organization_id == org_id)
    return or_(*clauses)


def can_view_ticket(actor: User | None, ticket: Ticket) -> bool:
    if actor is None or not actor.is_active:
        return False
    if actor.is_admin:
        return True
    if actor.is_staff:
        if ticket.queue_id is None or ticket.assignee_id == actor.id:
            return True
        return any(q.id == ticket.queue_id for q in actor.queues)
    if ticket.customer_id == actor.id or actor in ticket.watchers:
        return True
    org = actor.organization
    return bool(org and org.shared_tickets and ticket.organization_id == org.id)


def can_edit_ticket(actor: User | None, ticket: Ticket) -> bool:
    """Staff who can see a ticket may change it; customers only reply, close and reopen."""
    return bool(actor and actor.is_staff and can_view_ticket(actor, ticket))


def is_participant(user: User | None, ticket: Ticket) -> bool:
    """Whether ``user`` takes part in ``ticket``: may add to it through a channel."""
    if user is None:
        return False
    if user.is_staff:
        return user.is_active
    return can_view_ticket(user, ticket)
