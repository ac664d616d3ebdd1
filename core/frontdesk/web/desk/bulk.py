"""Bulk actions on the queue view: assign, status, priority, tags or merge several tickets.

Each ticket is changed in its own transaction, so one refusal (no right to change it, changed
meanwhile, a status transition a plugin refuses) leaves the others applied; the refusals are
listed in a flash. Tickets the agent cannot see are never touched and never named.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from frontdesk.auth import access, current_actor
from frontdesk.db import session, transaction
from frontdesk.i18n import _, ngettext
from frontdesk.models import PRIORITIES, Ticket, User
from frontdesk.pluginmanager import get_registry
from frontdesk.services import (
    Conflict,
    PermissionDenied,
    ServiceError,
    StaleVersion,
    TransitionRefused,
    ValidationFailed,
    add_tags,
    assign,
    can_edit_ticket,
    change_status,
    has_permission,
    merge_tickets,
    remove_tags,
    update_ticket,
    visible_tickets_clause,
)
from frontdesk.services.validation import clean_tags
from frontdesk.web.desk import bp
from frontdesk.web.desk.views import render_queue
from frontdesk.web.security import safe_next_url

ACTIONS = ("assign", "status", "priority", "add_tags", "remove_tags", "merge")
MAX_TICKETS = 500

Apply = Callable[[Ticket, User], None]


def _selected_ids() -> list[int]:
    ids = [int(v) for v in request.form.getlist("ticket") if v.isdigit()]
    return list(dict.fromkeys(ids))[:MAX_TICKETS]


def _expected_version(ticket_id: int) -> int | None:
    value = request.form.get(f"v{ticket_id}", "")
    return int(value) if value.isdigit() else None


def _prepare(action: str, form: MultiDict, user: User) -> tuple[Apply, str]:
    """Check the action's value once; the function applying it and its permission.

    Raises ``ValidationFailed`` naming the form field.
    """
    if action == "assign":
        value = form.get("assignee", "")
        agent: User | None = None
        if value == "me":
            agent = user
        elif value.isdigit():
            agent = session.get(User, int(value))
            if agent is None or not agent.is_staff or not agent.is_active:
                raise ValidationFailed("assignee", {"assignee": [_("Choose an agent.")]})
        elif value != "none":
            raise ValidationFailed("assignee", {"assignee": [_("Choose an agent.")]})
        return (lambda t, actor: assign(t, agent, actor)), "tickets.edit"
    if action == "status":
        status = form.get("status", "")
        if status not in get_registry().statuses:
            raise ValidationFailed("status", {"status": [_("Choose a status.")]})
        return (lambda t, actor: change_status(t, status, actor)), "tickets.edit"
    if action == "priority":
        priority = form.get("priority", "")
        if priority not in PRIORITIES:
            raise ValidationFailed("priority", {"priority": [_("Choose a priority.")]})
        return (lambda t, actor: update_ticket(t, {"priority": priority}, actor)), "tickets.edit"
    if action in ("add_tags", "remove_tags"):
        names = [n for n in form.get("tags", "").split(",") if n.strip()]
        try:
            names = clean_tags(names)
        except ValidationFailed:
            names = []
        if not names:
            raise ValidationFailed(
                "tags", {"tags": [_("Type one or more tags separated by commas.")]}
            )
        change = add_tags if action == "add_tags" else remove_tags
        return (lambda t, actor: change(t, names, actor)), "tickets.edit"
    raise ValidationFailed("action", {"action": [_("Choose an action.")]})


def _reason(exc: Exception) -> str:
    if isinstance(exc, StaleVersion):
        return _("it was changed by someone else meanwhile; reload and try again")
    if isinstance(exc, PermissionDenied):
        return _("you may not change it")
    if isinstance(exc, TransitionRefused):
        return _("the status change was refused: %(reasons)s", reasons="; ".join(exc.reasons))
    if isinstance(exc, Conflict):
        return _("it was merged already")
    return exc.detail if isinstance(exc, ServiceError) else _("it could not be changed")


def _apply_each(tickets: list[Ticket], apply: Apply, permission: str, user: User) -> list[str]:
    """Apply to every ticket on its own; the failures as "number: reason" lines."""
    failures = []
    for ticket in tickets:
        number = ticket.number
        try:
            if not (can_edit_ticket(user, ticket) and has_permission(user, permission, ticket)):
                raise PermissionDenied(number)
            expected = _expected_version(ticket.id)
            with transaction():
                if expected is not None and expected != ticket.version:
                    raise StaleVersion(number)
                apply(ticket, user)
        except ServiceError as exc:
            failures.append(_("%(number)s: %(reason)s", number=number, reason=_reason(exc)))
    return failures


def _merge(tickets: list[Ticket], into: str, user: User) -> tuple[int, list[str]]:
    target = next((t for t in tickets if t.number.lower() == into.strip().lower()), None)
    if target is None or len(tickets) < 2:
        raise ValidationFailed(
            "merge_into",
            {"merge_into": [_("Type the number of one of the selected tickets.")]},
        )
    if not (can_edit_ticket(user, target) and has_permission(user, "tickets.merge", target)):
        raise ValidationFailed("merge_into", {"merge_into": [_("You may not merge into it.")]})
    sources = [t for t in tickets if t.id != target.id]
    failures = _apply_each(
        sources, lambda t, actor: merge_tickets(t, target, actor), "tickets.merge", user
    )
    return len(sources) - len(failures), failures


def _queue_args(next_url: str) -> MultiDict:
    return MultiDict(
        [(k, v) for k, vs in parse_qs(urlsplit(next_url).query).items() for v in vs]
    )


@bp.post("/tickets/bulk")
@access("staff")
def bulk() -> ResponseReturnValue:
    """Apply one action to the selected tickets, then go back to the queue the form was on."""
    user = current_actor()
    next_url = safe_next_url(request.form.get("next"), url_for("desk.tickets"))
    ids = _selected_ids()
    action = request.form.get("action", "")
    tickets: list[Ticket] = []
    if ids:
        stmt = select(Ticket).where(Ticket.id.in_(ids), visible_tickets_clause(user))
        tickets = sorted(session.scalars(stmt), key=lambda t: ids.index(t.id))
    try:
        if not ids:
            raise ValidationFailed("ticket", {"ticket": [_("Select one or more tickets.")]})
        if action == "merge":
            done, failures = _merge(tickets, request.form.get("merge_into", ""), user)
        else:
            apply, permission = _prepare(action, request.form, user)
            failures = _apply_each(tickets, apply, permission, user)
            done = len(tickets) - len(failures)
    except ValidationFailed as exc:
        form: dict[str, Any] = {k: request.form.get(k, "") for k in request.form}
        errors = {k: " ".join(str(m) for m in v) for k, v in exc.errors.items()}
        bulk_state = {"errors": errors, "form": form, "selected": set(ids)}
        return render_queue(_queue_args(next_url), 422, bulk_state)
    if done:
        flash(ngettext("%(num)d ticket changed.", "%(num)d tickets changed.", done), "success")
    if missing := len(ids) - len(tickets):
        flash(
            ngettext(
                "%(num)d ticket was not found.", "%(num)d tickets were not found.", missing
            ),
            "error",
        )
    if failures:
        flash(_("Not changed: %(list)s", list="; ".join(failures)), "error")
    return redirect(next_url, 303)
