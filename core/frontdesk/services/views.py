"""Ticket views: the built-in ones, saved views (personal or shared) and the filters they hold.

A view is a filter plus a sort. Filters are stored as plain JSON in ``saved_view.filters``:
``status_category``, ``queue`` (keys), ``priority`` and ``tag`` are lists; ``assignee`` is
``"me"``, ``"none"`` or a user id; ``customer`` an email address or id; ``q`` free text;
``due`` is ``"soon"`` for tickets due within ``DESK_DUE_SOON_HOURS`` (default 4).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, has_request_context, request
from sqlalchemy import String, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement

from frontdesk.db import session, transaction
from frontdesk.i18n import _, _l
from frontdesk.models import PRIORITIES, Queue, SavedView, Ticket, User
from frontdesk.pluginmanager import get_pm, get_registry
from frontdesk.plugins import STATUS_CATEGORIES
from frontdesk.services.access import has_permission
from frontdesk.services.errors import PermissionDenied, ValidationFailed
from frontdesk.services.validation import clean_tags

SORTS = {
    "-updated_at": _l("Recently updated"),
    "updated_at": _l("Least recently updated"),
    "-priority": _l("Highest priority"),
    "priority": _l("Lowest priority"),
    "due_at": _l("Due soonest"),
}
LIST_FILTERS = ("status_category", "queue", "priority", "tag")
UNSOLVED = ["new", "open", "pending"]
SHARE_PERMISSION = "views.share"
MAX_Q_LENGTH = 200


@dataclass(frozen=True)
class BuiltinView:
    """A view every agent has; ``key`` names it in URLs (``?view=mine``)."""

    key: str
    label: Any
    filters: dict[str, Any] = field(default_factory=dict)
    sort: str = "-updated_at"


def builtin_views(user: User) -> list[BuiltinView]:
    """The built-in views for ``user``; "breaching soon" only once tickets have due times."""
    team = sorted(q.key for q in user.queues)
    # Work to pick up: tickets waiting for a customer need no owner yet.
    unassigned: dict[str, Any] = {"assignee": "none", "status_category": ["new", "open"]}
    if team:
        unassigned["queue"] = team
    views = [
        BuiltinView("mine", _l("My open tickets"), {"assignee": "me", "status_category": UNSOLVED}),
        BuiltinView("unassigned", _l("Unassigned in my teams"), unassigned),
        BuiltinView("pending", _l("Pending"), {"status_category": ["pending"]}),
    ]
    if due_times_in_use():
        views.append(
            BuiltinView(
                "breaching",
                _l("Breaching soon"),
                {"status_category": ["new", "open"], "due": "soon"},
                "due_at",
            )
        )
    views.append(BuiltinView("all", _l("All tickets")))
    return views


def saved_views_for(user: User) -> list[SavedView]:
    """``user``'s own views and the shared ones, in their order."""
    stmt = (
        select(SavedView)
        .where((SavedView.owner_id == user.id) | SavedView.owner_id.is_(None))
        .order_by(SavedView.position, SavedView.name, SavedView.id)
    )
    return list(session.scalars(stmt))


def can_share_views(user: User | None) -> bool:
    return bool(user and (user.is_admin or has_permission(user, SHARE_PERMISSION)))


def can_manage_view(user: User | None, view: SavedView) -> bool:
    """Owners change their personal views; shared views belong to those who may share."""
    if user is None or not user.is_staff:
        return False
    return view.owner_id == user.id if view.owner_id is not None else can_share_views(user)


def clean_view_input(name: Any, filters: dict[str, Any], sort: Any) -> tuple[str, dict, str]:
    """Check a view's name, filters and sort together, so a form shows every error at once."""
    errors: dict[str, list[str]] = {}
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        errors["name"] = [_("Give the view a name.")]
    elif len(name) > 200:
        errors["name"] = [_("At most %(n)d characters.", n=200)]
    try:
        filters = clean_filters(filters)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if sort not in SORTS:
        errors["sort"] = [_("Choose one of the listed sort orders.")]
    if errors:
        raise ValidationFailed(_("The view could not be saved."), errors)
    return name, filters, sort


def clean_filters(raw: dict[str, Any]) -> dict[str, Any]:
    """Normalised filters; unknown values raise ``ValidationFailed`` naming each field."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    for key in LIST_FILTERS:
        values = raw.get(key) or []
        if isinstance(values, str):
            values = [values]
        values = [v.strip() for v in values if isinstance(v, str) and v.strip()]
        if values:
            out[key] = list(dict.fromkeys(values))
    if bad := [c for c in out.get("status_category", []) if c not in STATUS_CATEGORIES]:
        errors["status_category"] = [_("Unknown status category: %(names)s", names=", ".join(bad))]
    if bad := [p for p in out.get("priority", []) if p not in PRIORITIES]:
        errors["priority"] = [_("Unknown priority: %(names)s", names=", ".join(bad))]
    if keys := out.get("queue"):
        known = set(session.scalars(select(Queue.key).where(Queue.key.in_(keys))))
        if bad := [k for k in keys if k not in known]:
            errors["queue"] = [_("Unknown queue: %(names)s", names=", ".join(bad))]
    if tags := out.get("tag"):
        try:
            out["tag"] = clean_tags(tags)
        except ValidationFailed:
            errors["tag"] = [_("Tags have 1 to 64 characters and no commas.")]
    assignee = str(raw.get("assignee") or "").strip()
    if assignee:
        if assignee in ("me", "none"):
            out["assignee"] = assignee
        elif assignee.isdigit() and _is_staff(int(assignee)):
            out["assignee"] = assignee
        else:
            errors["assignee"] = [_("Choose an agent from the list.")]
    customer = str(raw.get("customer") or "").strip()
    if customer:
        if customer.isdigit() or ("@" in customer and len(customer) <= 320):
            out["customer"] = customer.lower()
        else:
            errors["customer"] = [_("Enter the customer's email address.")]
    q = str(raw.get("q") or "").strip()
    if len(q) > MAX_Q_LENGTH:
        errors["q"] = [_("At most %(n)d characters.", n=MAX_Q_LENGTH)]
    elif q:
        out["q"] = q
    if raw.get("due") == "soon":
        out["due"] = "soon"
    if errors:
        raise ValidationFailed(_("Some filters are not valid."), errors)
    return out


def _is_staff(user_id: int) -> bool:
    user = session.get(User, user_id)
    return bool(user and user.is_staff)


def create_saved_view(
    actor: User, *, name: str, filters: dict[str, Any], sort: str, shared: bool = False
) -> SavedView:
    """Save a view for ``actor``, or for every agent when ``shared`` (needs the right to share)."""
    if shared and not can_share_views(actor):
        raise PermissionDenied(_("You may not share views."), {"shared": [_("Not allowed.")]})
    name, filters, sort = clean_view_input(name, filters, sort)
    with transaction():
        view = SavedView(
            owner_id=None if shared else actor.id, name=name, filters=filters, sort=sort
        )
        session.add(view)
        session.flush()
    return view


def update_saved_view(
    view: SavedView,
    actor: User,
    *,
    name: str,
    filters: dict[str, Any],
    sort: str,
    shared: bool,
) -> SavedView:
    if not can_manage_view(actor, view):
        raise PermissionDenied(_("You may not change this view."))
    if shared and view.owner_id is not None and not can_share_views(actor):
        raise PermissionDenied(_("You may not share views."), {"shared": [_("Not allowed.")]})
    name, filters, sort = clean_view_input(name, filters, sort)
    with transaction():
        view.name, view.filters, view.sort = name, filters, sort
        view.owner_id = None if shared else actor.id
    return view


def delete_saved_view(view: SavedView, actor: User) -> None:
    if not can_manage_view(actor, view):
        raise PermissionDenied(_("You may not delete this view."))
    with transaction():
        session.delete(view)


# --- due times -----------------------------------------------------------------------------
# SLA policies write their targets into ``plugin_data["sla"]["targets"]`` as ISO timestamps in
# UTC; the earliest one is the ticket's due time. ISO strings with the same offset sort in time
# order, so the database compares them as text.


class EarliestDue(ColumnElement[str]):
    """The earliest SLA ``due_at`` of a ticket as ISO text, NULL without targets."""

    type = String()
    inherit_cache = True


@compiles(EarliestDue, "sqlite")
def _earliest_due_sqlite(element: EarliestDue, compiler: Any, **kw: Any) -> str:
    column = compiler.process(Ticket.__table__.c.plugin_data, **kw)
    return (
        "(SELECT min(json_extract(value, '$.due_at')) "
        f"FROM json_each({column}, '$.sla.targets'))"
    )


@compiles(EarliestDue, "postgresql")
def _earliest_due_postgresql(element: EarliestDue, compiler: Any, **kw: Any) -> str:
    column = compiler.process(Ticket.__table__.c.plugin_data, **kw)
    return (
        # Byte order, as on SQLite: a linguistic collation may skip the punctuation.
        "(SELECT min((sla_target ->> 'due_at') COLLATE \"C\") "
        f"FROM json_array_elements(CAST({column} AS json) -> 'sla' -> 'targets') AS sla_target)"
    )


@compiles(EarliestDue)
def _earliest_due_other(element: EarliestDue, compiler: Any, **kw: Any) -> str:
    return "NULL"


def earliest_due(plugin_data: dict[str, Any] | None) -> str | None:
    """The same value as :class:`EarliestDue`, read off a loaded row."""
    targets = ((plugin_data or {}).get("sla") or {}).get("targets") or []
    dues = [t["due_at"] for t in targets if isinstance(t, dict) and t.get("due_at")]
    return min(dues) if dues else None


_DUE_SEEN_TTL = 60.0


def due_times_in_use() -> bool:
    """Whether tickets can have due times: an SLA plugin is installed, or a ticket has one.

    Answered once per request (a page asks several times); without an SLA plugin the database
    is asked rarely (see below), since the question costs a scan of the unsolved tickets.
    """
    if not has_request_context():
        return _due_times_in_use()
    # On the request, not on ``g``: an app context can outlive a request (tests push one).
    req = request._get_current_object()  # type: ignore[attr-defined]
    if not hasattr(req, "frontdesk_due_in_use"):
        req.frontdesk_due_in_use = _due_times_in_use()
    return req.frontdesk_due_in_use


def _due_times_in_use() -> bool:
    registry = get_registry()
    cache = current_app.extensions.setdefault("frontdesk.desk.due_seen", {})
    if _sla_plugin_installed(registry):
        cache.clear()  # due times are being written: a cached "none" would soon be wrong
        return True
    # Without an SLA plugin no ticket gets new due times, so the answer is kept for a minute.
    now = time.monotonic()
    if not cache or cache["at"] + _DUE_SEEN_TTL <= now:
        found = session.scalar(
            select(Ticket.id)
            .where(Ticket.status_category.in_(UNSOLVED), EarliestDue().is_not(None))
            .limit(1)
        )
        cache.update(at=now, value=found is not None)
    return bool(cache["value"])


def _sla_plugin_installed(registry: Any) -> bool:
    if any(key != "none" for key in registry.providers.get("sla", {})):
        return True
    for impl in get_pm().hook.sla_policy_for.get_hookimpls():
        plugin = registry.plugins.get(impl.plugin_name)
        if plugin is not None and not plugin.builtin:
            return True
    return False
