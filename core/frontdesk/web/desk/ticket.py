"""The agent ticket page (header, thread, history, sidebar) and attachment downloads."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from typing import Any

import flask_babel
from flask import abort, current_app, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape
from sqlalchemy import bindparam, inspect, select
from sqlalchemy.orm import joinedload, lazyload
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.routing import BuildError

from frontdesk.auth import access, current_actor
from frontdesk.db import session
from frontdesk.models import (
    LINK_KINDS,
    Attachment,
    Event,
    Queue,
    Tag,
    Ticket,
    User,
    ticket_tag,
    ticket_watcher,
)
from frontdesk.pluginmanager import get_registry, hook
from frontdesk.services import can_edit_ticket, can_view_ticket, has_permission, ticket_links
from frontdesk.services.attachments import blob_path
from frontdesk.web.desk import bp
from frontdesk.web.desk.ticket_thread import (
    attachment_url,
    human_size,
    load_thread,
    short_datetimes,
)

log = logging.getLogger(__name__)

PUBLIC_KINDS = ("customer", "agent")
# History rows the page shows elsewhere (each message is in the thread itself).
HIDDEN_EVENTS = ("message",)
# Served as opaque bytes whatever they claim to be: a browser could run them from our origin.
RISKY_TYPE_WORDS = ("html", "xml", "svg", "javascript", "ecmascript")
RISKY_SUFFIXES = {"htm", "html", "xhtml", "xht", "shtml", "svg", "svgz", "xml", "xsl", "xslt",
                  "js", "mjs", "hta"}  # fmt: skip
MEDIA_TYPE_RE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")

# The page's statements, built once: building one and its cache key took longer than running it.
# Tags and watchers come from the two statements below, not from a per-ticket selectin loader.
NO_COLLECTIONS = (lazyload(Ticket.tags), lazyload(Ticket.watchers))
TICKET_BY_NUMBER = (
    select(Ticket)
    .where(Ticket.number == bindparam("number"))
    .options(joinedload(Ticket.organization), *NO_COLLECTIONS)
)
TICKET_TAGS = (
    select(Tag)
    .select_from(ticket_tag)
    .join(Tag, Tag.id == ticket_tag.c.tag_id)
    .where(ticket_tag.c.ticket_id == bindparam("ticket_id"))
    .order_by(Tag.name)
)
TICKET_WATCHERS = (
    select(User)
    .select_from(ticket_watcher)
    .join(User, User.id == ticket_watcher.c.user_id)
    .where(ticket_watcher.c.ticket_id == bindparam("ticket_id"))
)
TICKET_EVENTS = (
    select(Event)
    .where(Event.ticket_id == bindparam("ticket_id"), Event.action.not_in(HIDDEN_EVENTS))
    .order_by(Event.id)
)
LINKED_TICKETS = (
    select(Ticket).where(Ticket.id.in_(bindparam("ids", expanding=True))).options(*NO_COLLECTIONS)
)
PEOPLE_NAMES = select(User.id, User.name, User.email).where(
    User.id.in_(bindparam("ids", expanding=True))
)
# The sidebar's choices as rows (queues: key, name; agents: id, name, email), not objects.
ACTIVE_QUEUES = select(Queue.key, Queue.name).where(Queue.is_active.is_(True)).order_by(Queue.name)
ACTIVE_AGENTS = (
    select(User.id, User.name, User.email)
    .where(User.role.in_(("admin", "agent")), User.is_active.is_(True))
    .order_by(User.name, User.email)
)


def ticket_by_number(number: str) -> Ticket | None:
    """The ticket with ``number``, with its tags and watchers, in three prebuilt statements.

    The model loads both collections ``selectin``, a loader that builds its statement anew for
    every ticket; the same queries run here prebuilt and fill the collections as it would.
    """
    ticket = session.scalar(TICKET_BY_NUMBER, {"number": number})
    if ticket is not None:
        unloaded = inspect(ticket).unloaded  # already in the session: keep what it holds
        for name, statement in (("tags", TICKET_TAGS), ("watchers", TICKET_WATCHERS)):
            if name in unloaded:
                found = session.scalars(statement, {"ticket_id": ticket.id}).all()
                set_committed_value(ticket, name, list(found))
    return ticket


def visible_ticket(number: str) -> Ticket:
    """The ticket with ``number`` when the current agent may see it; 404 as if missing otherwise."""
    ticket = ticket_by_number(number)
    if ticket is None or not can_view_ticket(current_actor(), ticket):
        abort(404)
    return ticket


def editable_ticket(number: str, permission: str = "tickets.edit") -> Ticket:
    """The ticket when the current agent may change it (and holds ``permission``); else 404."""
    ticket = visible_ticket(number)
    actor = current_actor()
    if not can_edit_ticket(actor, ticket) or not has_permission(actor, permission, ticket):
        abort(404)
    return ticket


def customer_url(user: User) -> str:
    return f"{request.script_root}/desk/customers/{user.id}"


def _panels(ticket: Ticket, actor: User | None) -> list[dict[str, Any]]:
    panels = [
        p for group in hook().ticket_sidebar_panels(ticket=ticket, actor=actor) for p in group or ()
    ]
    rendered = []
    for panel in sorted(
        panels, key=lambda p: (getattr(p, "order", 100), str(getattr(p, "key", "")))
    ):
        try:
            html = Markup(render_template(panel.template, **(panel.context or {})))
        except Exception:  # one broken plugin panel must not take the page down
            log.exception("ticket sidebar panel %r failed", getattr(panel, "key", panel))
            continue
        rendered.append({"key": panel.key, "title": panel.title, "html": html})
    return rendered


def _actions(ticket: Ticket, actor: User | None) -> list[dict[str, Any]]:
    actions = [
        a for group in hook().ticket_actions(ticket=ticket, actor=actor) for a in group or ()
    ]
    out = []
    for action in sorted(actions, key=lambda a: (a.order, a.key)):
        try:
            url = url_for(action.endpoint, number=ticket.number)
        except BuildError:
            log.warning("ticket action %r: no route %r", action.key, action.endpoint)
            continue
        out.append({"key": action.key, "label": action.label, "url": url, "danger": action.danger})
    return out


def _links(ticket: Ticket) -> list[dict[str, Any]]:
    links = ticket_links(ticket)
    other_ids = {
        link.target_id if link.source_id == ticket.id else link.source_id for link in links
    }
    others = {}
    if other_ids:
        others = {t.id: t for t in session.scalars(LINKED_TICKETS, {"ids": list(other_ids)})}
    out = []
    for link in links:
        outgoing = link.source_id == ticket.id
        other = others.get(link.target_id if outgoing else link.source_id)
        if other is not None:
            out.append({"link": link, "other": other, "outgoing": outgoing})
    return out


PEOPLE_EVENTS = {"assigned", "watcher_added", "watcher_removed", "mentioned"}


def _people(events: Sequence[Event], known: dict[int, str]) -> dict[int, str]:
    """Names of the people history rows refer to by id (assignees, watchers, mentions).

    ``known`` names the active agents, already loaded for the sidebar; only others are read.
    """
    ids: set[int] = set()
    for event in events:
        if event.action not in PEOPLE_EVENTS and event.field != "customer":
            continue
        for value in (event.old, event.new):
            if isinstance(value, int) and not isinstance(value, bool):
                ids.add(value)
            elif isinstance(value, dict):
                if isinstance(value.get("id"), int):
                    ids.add(value["id"])
                ids.update(v for v in value.get("users") or [] if isinstance(v, int))
    names = {i: known[i] for i in ids if i in known}
    if missing := ids - names.keys():
        rows = session.execute(PEOPLE_NAMES, {"ids": list(missing)})
        names.update((row.id, row.name or row.email) for row in rows)
    return names


def ticket_context(ticket: Ticket) -> dict[str, Any]:
    """Everything ``desk/ticket.html`` shows about ``ticket``.

    Read in a fixed number of statements whatever the thread's length (one more for names the
    history mentions that are not active agents, one for the tickets it links to, if any).
    """
    actor = current_actor()
    events = session.scalars(TICKET_EVENTS, {"ticket_id": ticket.id}).all()
    registry = get_registry()
    statuses = sorted(registry.statuses.values(), key=lambda s: (s.order, s.key))
    queues = session.execute(ACTIVE_QUEUES).all()
    agents = session.execute(ACTIVE_AGENTS).all()
    when = short_datetimes()
    thread = load_thread(ticket, when)
    watching = any(w.id == actor.id for w in ticket.watchers)
    return {
        "ticket": ticket,
        "thread": thread,
        "events": events,
        "people": _people(events, {a.id: a.name or a.email for a in agents}),
        "links": _links(ticket),
        "merged_into": session.get(Ticket, ticket.merged_into_id)
        if ticket.merged_into_id
        else None,
        "link_kinds": LINK_KINDS,
        "statuses": statuses,
        # Printed as they would be (a lazy label is translated here once, not at each use).
        "status_labels": {s.key: escape(s.label) for s in statuses},
        "queues": queues,
        "queue_names": {q.key: q.name for q in queues},
        "agents": agents,
        "field_defs": list(ticket.queue.custom_fields) if ticket.queue else [],
        "panels": _panels(ticket, actor),
        "actions": _actions(ticket, actor),
        "watching": watching,
        "can_merge": has_permission(actor, "tickets.merge", ticket),
        "last_message_id": max((e.id for e in thread if e.kind in PUBLIC_KINDS), default=0),
        "customer_url": customer_url(ticket.customer) if ticket.customer else None,
        "attachment_url": attachment_url,
        "human_size": human_size,
        "when": when,
        "max_attachment_bytes": current_app.config["MAX_ATTACHMENT_BYTES"],
        "max_attachments": current_app.config["MAX_ATTACHMENTS_PER_MESSAGE"],
    }


def bound_gettext() -> dict[str, Callable[..., str]]:
    """The templates' ``_``, ``gettext`` and ``ngettext``, bound to this request's catalog.

    They behave exactly like the ones Flask-Babel installs in Jinja (autoescaped text, named
    placeholders, ``num`` for plurals), but look the catalog up once instead of on each call
    through the request's context: the ticket page translates over a hundred strings.
    """
    translations = flask_babel.get_translations()

    @pass_context
    def gettext(context: Context, string: str, **variables: Any) -> str:
        text = translations.ugettext(string)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        if not variables and "%" not in text:
            return text  # what formatting would give back: most strings have no placeholder
        return text % variables

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        text = translations.ungettext(singular, plural, num)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext}


def render_ticket(
    ticket: Ticket,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    kept: dict[str, Any] | None = None,
    composer: str = "reply",
    collision: bool = False,
) -> ResponseReturnValue:
    """The ticket page; actions that fail re-render it with their errors and the kept input."""
    context = ticket_context(ticket)
    context.update(errors=errors or {}, kept=kept or {}, composer=composer, collision=collision)
    context.update(bound_gettext())
    return render_template("desk/ticket.html", **context), status


@bp.route("/tickets/<number>", methods=["GET"])
@access("staff")
def ticket(number: str) -> ResponseReturnValue:
    """An agent's view of one ticket: thread, editors, properties, relations and history."""
    return render_ticket(visible_ticket(number))


def download_type(attachment: Attachment) -> str:
    """The Content-Type to serve: the stored one, unless a browser could run it as a page."""
    media_type = (attachment.media_type or "").split(";")[0].strip().lower()
    suffix = attachment.filename.rpartition(".")[2].lower() if "." in attachment.filename else ""
    if (
        not MEDIA_TYPE_RE.fullmatch(media_type)
        or any(word in media_type for word in RISKY_TYPE_WORDS)
        or suffix in RISKY_SUFFIXES
    ):
        return "application/octet-stream"
    return media_type


@bp.route("/attachments/<int:attachment_id>/<filename>", methods=["GET"])
@access("staff")
def attachment(attachment_id: int, filename: str) -> ResponseReturnValue:
    """Download an attachment of a ticket the agent may see, always as a file, never as a page."""
    found = session.get(Attachment, attachment_id)
    message = found.message if found is not None else None
    if found is None or message is None or not can_view_ticket(current_actor(), message.ticket):
        abort(404)
    if filename != found.filename:
        return redirect(attachment_url(found))
    path = blob_path(found.sha256)
    if not path.is_file():
        abort(404)
    response = send_file(
        path,
        mimetype=download_type(found),
        as_attachment=True,
        download_name=found.filename,
        conditional=True,
        etag=found.sha256,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["Cache-Control"] = "private, no-cache"
    return response
