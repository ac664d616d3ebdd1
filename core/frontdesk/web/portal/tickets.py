"""One request in the portal: its public thread, replies with files, close and reopen, downloads.

A customer sees customer and agent messages only (never internal notes or system entries), no
agent-only fields (priority, queue, tags, custom fields, assignee), and of ``plugin_data`` only the
keys a plugin lists in ``PluginInfo.public_data``. A ticket the customer may not see is a 404,
exactly like one that does not exist.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from frontdesk.auth import access, current_actor
from frontdesk.channels.base import IncomingAttachment
from frontdesk.db import session
from frontdesk.i18n import _, format_decimal, ngettext
from frontdesk.models import Attachment, Message, Ticket, User
from frontdesk.pluginmanager import get_registry
from frontdesk.services.attachments import blob_path
from frontdesk.services.errors import StaleVersion, TooLarge, TransitionRefused, ValidationFailed
from frontdesk.services.tickets import change_status, reply
from frontdesk.services.validation import first_status_in
from frontdesk.web.portal import bp
from frontdesk.web.portal.views import PREFIX, new_request_url, portal_tickets_clause, status_view

PUBLIC_KINDS = ("customer", "agent")
REOPENABLE = ("solved", "closed")
# Served as a download under its own type only when a browser cannot run it as a page.
ACTIVE_TYPES = ("html", "xml", "svg", "javascript", "ecmascript", "xhtml")


def visible_ticket(number: str) -> Ticket:
    """The ticket ``number`` if the signed-in user may see it in the portal, else 404."""
    actor = current_actor()
    ticket = session.scalar(
        select(Ticket).where(Ticket.number == number, portal_tickets_clause(actor))
    )
    if ticket is None:
        abort(404)
    return ticket


def public_messages(ticket: Ticket) -> list[Message]:
    return list(
        session.scalars(
            select(Message)
            .where(Message.ticket_id == ticket.id, Message.kind.in_(PUBLIC_KINDS))
            .order_by(Message.created_at, Message.id)
        )
    )


def public_plugin_data(ticket: Ticket) -> dict[str, dict[str, Any]]:
    """The parts of ``ticket.plugin_data`` that their plugins marked public."""
    shown: dict[str, dict[str, Any]] = {}
    plugins = get_registry().plugins
    for name, data in (ticket.plugin_data or {}).items():
        plugin = plugins.get(name)
        keys = plugin.info.public_data if plugin is not None and plugin.info else ()
        if isinstance(data, dict) and keys:
            public = {key: data[key] for key in keys if key in data}
            if public:
                shown[name] = public
    return shown


def author_name(message: Message) -> str:
    """Who wrote ``message``, as the customer sees it (agents by name, never by address)."""
    author: User | None = message.author
    if message.kind == "agent":
        return (author.name if author else "") or _("Support team")
    actor = current_actor()
    if author is not None and actor is not None and author.id == actor.id:
        return _("You")
    return (author.name or author.email) if author else _("Customer")


def _merged_into(ticket: Ticket) -> Ticket | None:
    if ticket.merged_into_id is None:
        return None
    actor = current_actor()
    return session.scalar(
        select(Ticket).where(Ticket.id == ticket.merged_into_id, portal_tickets_clause(actor))
    )


def _render(
    ticket: Ticket, body: str = "", errors: dict[str, str] | None = None, status: int = 200
) -> Any:
    page = render_template(
        "portal/request.html",
        ticket=ticket,
        status=status_view(ticket),
        messages=public_messages(ticket),
        author_name=author_name,
        public_data=public_plugin_data(ticket),
        merged_into=_merged_into(ticket),
        can_reply=ticket.merged_into_id is None and ticket.status_category != "closed",
        can_close=ticket.merged_into_id is None and ticket.status_category not in REOPENABLE,
        can_reopen=ticket.merged_into_id is None and ticket.status_category in REOPENABLE,
        body=body,
        errors=errors or {},
        max_bytes=current_app.config["MAX_ATTACHMENT_BYTES"],
        size_text=size_text,
        max_files=current_app.config["MAX_ATTACHMENTS_PER_MESSAGE"],
        max_request=current_app.config.get("MAX_CONTENT_LENGTH"),
        new_request_url=new_request_url(),
    )
    return page, status


def _uploads() -> list[IncomingAttachment]:
    files = []
    for item in request.files.getlist("attachments"):
        if not item or not item.filename:
            continue  # the empty part a browser sends when no file was chosen
        files.append(
            IncomingAttachment(
                filename=item.filename,
                data=item.read(),
                media_type=item.mimetype or "application/octet-stream",
            )
        )
    return files


def size_text(size: int) -> str:
    """A file size for people, in the page's language (1024-based units, as file managers do)."""
    if size < 1024:
        return ngettext("%(num)d byte", "%(num)d bytes", size)
    if size < 1024 * 1024:
        return _("%(size)s KB", size=format_decimal(round(size / 1024, 1)))
    return _("%(size)s MB", size=format_decimal(round(size / 1024 / 1024, 1)))


@bp.route(PREFIX + "/requests/<number>", methods=["GET", "POST"])
@access("authenticated")
def request_page(locale: str, number: str) -> ResponseReturnValue:
    """The request and its public thread; a POST adds the customer's reply (with files)."""
    ticket = visible_ticket(number)
    if request.method == "GET":
        return _render(ticket)
    body = request.form.get("body", "")
    if not (ticket.merged_into_id is None and ticket.status_category != "closed"):
        return _render(ticket, body, {"form": _("Reopen this request to write again.")}, 409)
    files = _uploads()
    errors: dict[str, str] = {}
    if not body.strip() and not files:
        errors["body"] = _("Write a message or attach a file.")
    elif len(files) > current_app.config["MAX_ATTACHMENTS_PER_MESSAGE"]:
        errors["attachments"] = _(
            "You can attach at most %(count)d files to one message.",
            count=current_app.config["MAX_ATTACHMENTS_PER_MESSAGE"],
        )
    if errors:
        return _render(ticket, body, errors, 422)
    try:
        reply(ticket, body, current_actor(), attachments=files, channel="web")
    except TooLarge:
        limit = size_text(current_app.config["MAX_ATTACHMENT_BYTES"])
        errors["attachments"] = _(
            "A file is too large: each file can be at most %(limit)s. Your message is not sent "
            "yet; choose smaller files and send it again.",
            limit=limit,
        )
        return _render(ticket, body, errors, 413)
    except StaleVersion:
        errors["form"] = _(
            "The request changed while you wrote. Your message is kept: send it again."
        )
        return _render(visible_ticket(number), body, errors, 409)
    except ValidationFailed as exc:
        if "body_text" in exc.errors:
            errors["body"] = _(
                "The message is too long: at most %(count)d characters.",
                count=current_app.config["MAX_BODY_LENGTH"],
            )
        else:
            errors["form"] = _("The message could not be sent. Please check it and try again.")
        return _render(ticket, body, errors, 422)
    flash(_("Your reply is sent."), "success")
    return redirect(url_for("portal.request_page", number=ticket.number, _anchor="latest"))


def _move(number: str, category: str, done: str) -> ResponseReturnValue:
    ticket = visible_ticket(number)
    allowed = ticket.merged_into_id is None and (
        (category == "open") == (ticket.status_category in REOPENABLE)
    )
    if allowed:
        try:
            change_status(ticket, first_status_in(category), current_actor())
        except TransitionRefused as exc:
            flash(
                _("The request could not be changed: %(reasons)s", reasons="; ".join(exc.reasons)),
                "error",
            )
        except StaleVersion:
            flash(_("The request changed meanwhile. Please try again."), "error")
        else:
            flash(done, "success")
    return redirect(url_for("portal.request_page", number=ticket.number))


@bp.post(PREFIX + "/requests/<number>/close")
@access("authenticated")
def close_request(locale: str, number: str) -> ResponseReturnValue:
    """The customer says the request is done: it moves to the first registered closed status."""
    return _move(number, "closed", _("The request is closed."))


@bp.post(PREFIX + "/requests/<number>/reopen")
@access("authenticated")
def reopen_request(locale: str, number: str) -> ResponseReturnValue:
    """A solved or closed request opens again (first registered open status)."""
    return _move(number, "open", _("The request is open again."))


@bp.get(PREFIX + "/requests/<number>/files/<int:attachment_id>")
@access("authenticated")
def attachment(locale: str, number: str, attachment_id: int) -> ResponseReturnValue:
    """A file of a public message of a visible request, always as a download, never as a page."""
    ticket = visible_ticket(number)
    row = session.scalar(
        select(Attachment)
        .join(Message, Message.id == Attachment.message_id)
        .where(
            Attachment.id == attachment_id,
            Message.ticket_id == ticket.id,
            Message.kind.in_(PUBLIC_KINDS),
        )
    )
    if row is None:
        abort(404)
    path = blob_path(row.sha256)
    if not path.is_file():
        abort(404)
    media_type = (row.media_type or "").lower()
    if media_type.count("/") != 1 or any(word in media_type for word in ACTIVE_TYPES):
        media_type = "application/octet-stream"
    response = send_file(
        path,
        mimetype=media_type,
        as_attachment=True,
        download_name=row.filename,
        conditional=True,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
