"""The queue view (``/desk/``): built-in and saved views, the filter form, paging."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from flask import abort, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, or_, select
from werkzeug.datastructures import MultiDict

from frontdesk.api.errors import ApiError
from frontdesk.api.pagination import KeyColumn, Keyset
from frontdesk.api.ticket_query import SORTS as LIST_SORTS
from frontdesk.api.ticket_query import list_shape_and_params, list_statement
from frontdesk.auth import access, current_actor
from frontdesk.db import session, utcnow
from frontdesk.i18n import _, _l
from frontdesk.models import PRIORITIES, Queue, SavedView, Tag, Ticket, User, ticket_tag
from frontdesk.pluginmanager import get_registry
from frontdesk.services import ValidationFailed
from frontdesk.services import views as saved
from frontdesk.web.desk import bp

PAGE_SIZE = 25
CATEGORY_LABELS = {
    "new": _l("New"),
    "open": _l("Open"),
    "pending": _l("Pending"),
    "solved": _l("Solved"),
    "closed": _l("Closed"),
}
PRIORITY_LABELS = {
    "low": _l("Low"),
    "normal": _l("Normal"),
    "high": _l("High"),
    "urgent": _l("Urgent"),
}

# Tickets without a due time sort after every date.
_due_key = func.coalesce(saved.EarliestDue(), "9999")
DUE_KEYSET = Keyset(
    "due_at",
    [KeyColumn(_due_key, lambda r: r.due_key, "str"), KeyColumn(Ticket.id, lambda r: r.id)],
)
_TAGS = (
    select(ticket_tag.c.ticket_id, Tag.name)
    .join(Tag, Tag.id == ticket_tag.c.tag_id)
    .order_by(Tag.name)
)


@dataclass
class QueuePage:
    """One page of a view: plain rows (see ``LIST_COLUMNS``), their tags, the next cursor."""

    rows: list[Any] = field(default_factory=list)
    tags: dict[int, list[str]] = field(default_factory=dict)
    next_cursor: str | None = None


def run_view(
    viewer: User,
    filters: dict[str, Any],
    sort: str,
    cursor: str | None = None,
    extra: dict[str, Any] | None = None,
) -> QueuePage:
    """The page of tickets ``viewer`` may see that match checked ``filters`` (and ``extra``).

    The API's list statement does the filtering, so views and the API agree; only the free
    text (which also matches customer addresses) and due times are added here.
    """
    args = {k: v for k, v in filters.items() if k not in ("q", "due")}
    args.update(extra or {})
    args["sort"] = sort if sort in LIST_SORTS else "-updated_at"
    shape, params = list_shape_and_params(viewer, args)
    keyset = DUE_KEYSET if sort == "due_at" else LIST_SORTS[args["sort"]]
    values = None
    if cursor:
        try:
            values = keyset.decode(cursor)
        except ApiError:
            values = None  # a mangled link: start from the first page
    params["page_limit"] = PAGE_SIZE + 1
    dialect = session.connection().dialect.name
    if sort == "due_at":
        stmt = list_statement(shape, False, dialect).add_columns(_due_key.label("due_key"))
        stmt = stmt.order_by(None).order_by(*keyset.order_by())
        if values is not None:
            stmt = stmt.where(keyset.after(values))
    else:
        stmt = list_statement(shape, values is not None, dialect)
        if values is not None:
            params.update(keyset.bound_values("cursor", values))
    if q := filters.get("q"):
        stmt = stmt.where(_text_match(q))
    if filters.get("due") == "soon":
        hours = float(current_app.config.get("DESK_DUE_SOON_HOURS", 4))
        horizon = (utcnow() + timedelta(hours=hours)).isoformat()
        stmt = stmt.where(saved.EarliestDue() <= horizon)
    rows = session.connection().execute(stmt, params).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    next_cursor = keyset.encode(rows[-1]) if more else None
    return QueuePage([displayable(r) for r in rows], tags_of([r.id for r in rows]), next_cursor)


def displayable(row: Any) -> SimpleNamespace:
    """A list row for templates: its timestamps (ISO text in the list statement) as datetimes."""
    values = dict(row._mapping)
    for key, value in values.items():
        if key.endswith("_at") and isinstance(value, str):
            values[key] = datetime.fromisoformat(value)
    return SimpleNamespace(**values)


def _text_match(q: str) -> Any:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like = f"%{escaped}%"
    emails = select(User.id).where(func.lower(User.email).like(like.lower(), escape="\\"))
    return or_(
        Ticket.subject.ilike(like, escape="\\"),
        Ticket.number.in_(list(dict.fromkeys([q, q.upper()]))),
        Ticket.customer_id.in_(emails),
    )


def tags_of(ids: list[int]) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = {}
    if ids:
        for ticket_id, name in session.execute(_TAGS.where(ticket_tag.c.ticket_id.in_(ids))):
            tags.setdefault(ticket_id, []).append(name)
    return tags


def ticket_url_maker() -> Callable[[str], str]:
    """A function giving ticket page URLs without a ``url_for`` call per row."""
    marker = "TICKET-NUMBER"
    if "desk.ticket" in current_app.view_functions:
        pattern = url_for("desk.ticket", number=marker)
    else:
        pattern = f"{request.script_root}/desk/tickets/{marker}"
    return lambda number: pattern.replace(marker, quote(number, safe=""))


def row_context() -> dict[str, Any]:
    """What ``desk/_ticket_rows.html`` needs besides the rows (labels translated once)."""
    return {
        "status_labels": {k: str(s.label) for k, s in get_registry().statuses.items()},
        "priority_labels": {k: str(v) for k, v in PRIORITY_LABELS.items()},
        "ticket_url": ticket_url_maker(),
        "customers_url": url_for("desk.customers"),
        "select_label": _("Select %(number)s"),
        "unassigned_label": _("Unassigned"),
        "show_due": saved.due_times_in_use(),
        "due_of": due_of,
    }


def due_of(row: Any) -> datetime | None:
    """A row's earliest SLA due time, for display."""
    value = saved.earliest_due(row.plugin_data)
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def filters_from(args: MultiDict) -> tuple[dict[str, Any], str]:
    """Raw filters and sort from a filter form (tags are typed comma-separated)."""
    raw: dict[str, Any] = {k: args.getlist(k) for k in ("status_category", "queue", "priority")}
    raw["tag"] = [t for part in args.getlist("tag") for t in part.split(",")]
    for key in ("assignee", "customer", "q", "due"):
        raw[key] = args.get(key, "")
    return raw, args.get("sort", "-updated_at")


def form_state(raw: dict[str, Any], sort: str) -> dict[str, Any]:
    """Form values to show: what was typed, tags joined back into one text field."""
    state = {k: raw.get(k) or [] for k in ("status_category", "queue", "priority")}
    state["tag"] = ", ".join(t.strip() for t in raw.get("tag") or [] if t.strip())
    for key in ("assignee", "customer", "q", "due"):
        state[key] = raw.get(key) or ""
    state["sort"] = sort
    return state


def field_errors(exc: ValidationFailed) -> dict[str, str]:
    return {k: " ".join(str(m) for m in v) for k, v in exc.errors.items()}


def choices(user: User) -> dict[str, Any]:
    """Options of the filter, view and bulk forms."""
    if user.is_admin:
        queues = list(session.scalars(select(Queue).order_by(Queue.name)))
    else:
        queues = sorted(user.queues, key=lambda q: q.name)
    staff = session.scalars(
        select(User)
        .where(User.role.in_(("admin", "agent")), User.is_active.is_(True))
        .order_by(User.name, User.id)
    )
    statuses = sorted(get_registry().statuses.values(), key=lambda s: (s.order, s.key))
    sorts = {k: v for k, v in saved.SORTS.items() if k != "due_at" or saved.due_times_in_use()}
    return {
        "queues": queues,
        "agents": list(staff),
        "statuses": statuses,
        "categories": CATEGORY_LABELS,
        "priorities": [(p, PRIORITY_LABELS[p]) for p in PRIORITIES],
        "sorts": sorts,
        "can_share": saved.can_share_views(user),
        "show_due": saved.due_times_in_use(),
    }


def _find_view(key: str, builtins: list[Any], views: list[SavedView]) -> Any:
    for view in builtins:
        if view.key == key:
            return view
    if key.isdigit():
        return next((v for v in views if v.id == int(key)), None)
    return None


def render_queue(
    args: MultiDict, status: int = 200, bulk: dict[str, Any] | None = None
) -> ResponseReturnValue:
    """The queue page for ``args`` (also re-rendered by a refused bulk action)."""
    user = current_actor()
    builtins = saved.builtin_views(user)
    views = saved.saved_views_for(user)
    custom = args.get("filter") == "1"
    key = args.get("view") or ("" if custom else "mine")
    active = _find_view(key, builtins, views)
    if key and active is None:
        abort(404)
    if custom:
        raw, sort = filters_from(args)
    else:
        raw, sort = dict(active.filters), active.sort
        raw["tag"] = list(raw.get("tag") or [])
    errors: dict[str, str] = {}
    filters: dict[str, Any] = {}
    try:
        filters = saved.clean_filters(raw)
    except ValidationFailed as exc:
        errors = field_errors(exc)
    if sort not in saved.SORTS or (sort == "due_at" and not saved.due_times_in_use()):
        errors["sort"] = _("Choose one of the listed sort orders.")
    page = QueuePage()
    if not errors:
        try:
            page = run_view(user, filters, sort, args.get("cursor"))
        except ApiError as exc:  # passed the checks, then changed (a queue deleted meanwhile)
            errors["form"] = exc.detail
    next_args = {k: args.getlist(k) for k in args if k != "cursor"}
    context = {
        "builtin_views": builtins,
        "my_views": [v for v in views if v.owner_id is not None],
        "shared_views": [v for v in views if v.owner_id is None],
        "active": active,
        "active_key": key,
        "custom": custom,
        "form": form_state(raw, sort),
        "filters": filters,
        "errors": errors,
        "page": page,
        "first_url": url_for("desk.tickets", **next_args) if args.get("cursor") else None,
        "next_url": (
            url_for("desk.tickets", **next_args, cursor=page.next_cursor)
            if page.next_cursor
            else None
        ),
        "bulk": bulk or {"errors": {}, "form": {}, "selected": set()},
        "here": url_for("desk.tickets", **{k: args.getlist(k) for k in args}),
        "can_manage": lambda view: saved.can_manage_view(user, view),
        **choices(user),
        **row_context(),
    }
    return render_template("desk/tickets.html", **context), 400 if errors else status


@bp.get("/tickets")
@bp.get("/")  # registered first: url_for gives /desk/
@access("staff")
def tickets() -> ResponseReturnValue:
    """The queue: a view's tickets, newest activity first unless the view sorts otherwise."""
    return render_queue(request.args)
