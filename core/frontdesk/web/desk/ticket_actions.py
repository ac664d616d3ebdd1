"""What agents do from the ticket page: reply, note, change properties, tags, relations, watch.

Each action is a form POST. On success it redirects back to the page (post/redirect/get); when it
is refused it re-renders the page with the reason and everything the agent typed.
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from frontdesk.auth import access, current_actor
from frontdesk.db import session
from frontdesk.i18n import _
from frontdesk.models import LINK_KINDS, Message, Ticket, TicketLink
from frontdesk.services import (
    ServiceError,
    add_tags,
    add_watcher,
    can_edit_ticket,
    change_status,
    link_tickets,
    merge_tickets,
    remove_tags,
    remove_watcher,
    reply,
    split_ticket,
    unlink_tickets,
    update_ticket,
)
from frontdesk.services.mentions import add_note_with_mentions, notify_mentioned
from frontdesk.web.desk import bp
from frontdesk.web.desk.ticket import editable_ticket, render_ticket
from frontdesk.web.desk.ticket_forms import (
    UploadRefused,
    int_or_none,
    kept_update_input,
    read_custom_fields,
    read_properties,
    service_message,
    uploaded_files,
)


def _back(ticket: Ticket, message: str, anchor: str | None = None) -> ResponseReturnValue:
    flash(message, "success")
    return redirect(url_for("desk.ticket", number=ticket.number, _anchor=anchor))


def latest_public_message_id(ticket: Ticket) -> int:
    return (
        session.scalar(
            select(func.max(Message.id)).where(
                Message.ticket_id == ticket.id, Message.kind.in_(("customer", "agent"))
            )
        )
        or 0
    )


@bp.route("/tickets/<number>/reply", methods=["POST"])
@access("staff")
def ticket_reply(number: str) -> ResponseReturnValue:
    """Answer the customer, unless someone else answered since the agent loaded the page."""
    ticket = editable_ticket(number)
    body = request.form.get("body", "")
    kept = {"reply_body": body, "reply_status": request.form.get("status", "")}

    def refuse(message: str, status: int = 422, collision: bool = False) -> ResponseReturnValue:
        errors = {"reply": message}
        return render_ticket(ticket, status=status, errors=errors, kept=kept, collision=collision)

    try:
        files = uploaded_files()
    except UploadRefused as exc:
        return refuse(str(exc), 413)
    if not body.strip() and not files:
        return refuse(_("Write a reply or attach a file."))
    seen = int_or_none(request.form.get("last_message_id"))
    unseen = seen is not None and latest_public_message_id(ticket) > seen
    if unseen and not request.form.get("send_anyway"):
        return refuse(
            _(
                "A new message arrived on this ticket while you were writing. Your reply was "
                "not sent and is kept below: read the new message, then send again."
            ),
            409,
            collision=True,
        )
    actor = current_actor()
    try:
        message = reply(ticket, body, actor, attachments=files)
    except ServiceError as exc:
        return refuse(service_message(exc), exc.status)
    status = request.form.get("status", "")
    if status and status != ticket.status:
        try:
            change_status(ticket, status, actor)
        except ServiceError as exc:
            flash(_("The reply was sent, but the status was not changed: %(reason)s",
                    reason=service_message(exc)), "error")  # fmt: skip
    return _back(ticket, _("Reply sent."), f"m{message.id}")


@bp.route("/tickets/<number>/note", methods=["POST"])
@access("staff")
def ticket_note(number: str) -> ResponseReturnValue:
    """Add an internal note; agents it @mentions get a notice."""
    ticket = editable_ticket(number)
    body = request.form.get("body", "")

    def refuse(message: str, status: int = 422) -> ResponseReturnValue:
        return render_ticket(
            ticket,
            status=status,
            errors={"note": message},
            kept={"note_body": body},
            composer="note",
        )

    try:
        files = uploaded_files()
    except UploadRefused as exc:
        return refuse(str(exc), 413)
    if not body.strip() and not files:
        return refuse(_("Write a note or attach a file."))
    actor = current_actor()
    try:
        note, mentions = add_note_with_mentions(ticket, body, actor, attachments=files)
    except ServiceError as exc:
        return refuse(service_message(exc), exc.status)
    url = url_for("desk.ticket", number=ticket.number, _anchor=f"m{note.id}", _external=True)
    missed = notify_mentioned(ticket, note, mentions.users, actor, url)
    if mentions.unknown:
        names = ", ".join(f"@{token}" for token in mentions.unknown)
        flash(
            _("No active agent matches %(names)s; nobody was notified for it.", names=names),
            "error",
        )
    if missed:
        names = ", ".join(u.name or u.email for u in missed)
        flash(_("Could not send a notice to %(names)s.", names=names), "error")
    return _back(ticket, _("Note added."), f"m{note.id}")

@bp.route("/tickets/<number>/update", methods=["POST"])
@access("staff")
def ticket_update(number: str) -> ResponseReturnValue:
    """Change status, priority, queue, assignee and custom fields; refuses a stale form."""
    ticket = editable_ticket(number)
    form = request.form
    kept = kept_update_input(form)
    changes, errors = read_properties(form)
    queue_kept = "queue" not in changes or changes["queue"] is ticket.queue
    if queue_kept and ticket.queue is not None:
        # Fields of the old queue do not apply once the queue changes: the page shows the new ones.
        values, field_errors = read_custom_fields(list(ticket.queue.custom_fields), form)
        errors.update(field_errors)
        if values:
            changes["custom_fields"] = values
    if errors:
        return render_ticket(ticket, status=422, errors=errors, kept=kept)
    try:
        done = update_ticket(
            ticket, changes, current_actor(), expected_version=int_or_none(form.get("version"))
        )
    except ServiceError as exc:
        errors["props"] = service_message(exc)
        for key, messages in exc.errors.items():
            if key.startswith("custom_fields."):
                errors["cf." + key.partition(".")[2]] = "; ".join(map(str, messages))
        return render_ticket(ticket, status=exc.status, errors=errors, kept=kept)
    return _back(ticket, _("Saved.") if done else _("Nothing changed."))


@bp.route("/tickets/<number>/tags", methods=["POST"])
@access("staff")
def ticket_tags_add(number: str) -> ResponseReturnValue:
    ticket = editable_ticket(number)
    raw = request.form.get("tags", "")
    names = [name.strip() for name in raw.split(",") if name.strip()]
    try:
        add_tags(ticket, names, current_actor())
    except ServiceError:
        error = _("Tags are 1 to 64 characters long, separated by commas.")
        return render_ticket(ticket, status=422, errors={"tags": error}, kept={"tags": raw})
    return _back(ticket, _("Tags saved."))


@bp.route("/tickets/<number>/tags/remove", methods=["POST"])
@access("staff")
def ticket_tags_remove(number: str) -> ResponseReturnValue:
    ticket = editable_ticket(number)
    try:
        remove_tags(ticket, [request.form.get("tag", "")], current_actor())
    except ServiceError as exc:
        return render_ticket(ticket, status=exc.status, errors={"tags": service_message(exc)})
    return _back(ticket, _("Tag removed."))


def _other_ticket(number: str) -> Ticket | None:
    """Another ticket the agent may change, by number (``None`` when there is no such ticket)."""
    other = session.scalar(select(Ticket).where(Ticket.number == number.strip()))
    return other if other is not None and can_edit_ticket(current_actor(), other) else None


@bp.route("/tickets/<number>/merge", methods=["POST"])
@access("staff")
def ticket_merge(number: str) -> ResponseReturnValue:
    """Merge this ticket into another one; the page of the surviving ticket opens."""
    ticket = editable_ticket(number, "tickets.merge")
    wanted = request.form.get("target", "")
    target = _other_ticket(wanted)

    def refuse(message: str, status: int = 422) -> ResponseReturnValue:
        return render_ticket(
            ticket, status=status, errors={"merge": message}, kept={"merge_target": wanted}
        )

    if target is None:
        return refuse(_("There is no ticket %(number)s that you can change.", number=wanted))
    try:
        merge_tickets(ticket, target, current_actor())
    except ServiceError as exc:
        return refuse(service_message(exc), exc.status)
    return _back(target, _("%(number)s was merged into this ticket.", number=ticket.number))


@bp.route("/tickets/<number>/split", methods=["POST"])
@access("staff")
def ticket_split(number: str) -> ResponseReturnValue:
    """Move the selected messages into a new ticket for the same customer."""
    ticket = editable_ticket(number, "tickets.merge")
    wanted_ids = (int_or_none(v) for v in request.form.getlist("message_ids"))
    ids = [i for i in wanted_ids if i is not None]
    subject = request.form.get("subject", "").strip()
    kept = {"split_subject": subject, "split_ids": ids}
    if not ids:
        error = _("Tick the messages to move into the new ticket.")
        return render_ticket(ticket, status=422, errors={"split": error}, kept=kept)
    try:
        new = split_ticket(ticket, ids, current_actor(), subject or None)
    except ServiceError as exc:
        if "message_ids" in exc.errors:
            error = _("Choose some messages of this ticket, but not all of them.")
        else:
            error = service_message(exc)
        return render_ticket(ticket, status=exc.status, errors={"split": error}, kept=kept)
    return _back(new, _("Split from %(number)s.", number=ticket.number))


@bp.route("/tickets/<number>/links", methods=["POST"])
@access("staff")
def ticket_link(number: str) -> ResponseReturnValue:
    ticket = editable_ticket(number)
    wanted, kind = request.form.get("target", ""), request.form.get("kind", "related")
    target = _other_ticket(wanted)
    kept = {"link_target": wanted, "link_kind": kind}
    error = None
    if target is None:
        error = _("There is no ticket %(number)s that you can change.", number=wanted)
    elif kind not in LINK_KINDS:
        error = _("Choose a kind of link.")
    else:
        try:
            link_tickets(ticket, target, kind, current_actor())
        except ServiceError as exc:
            error = service_message(exc)
    if error:
        return render_ticket(ticket, status=422, errors={"link": error}, kept=kept)
    return _back(ticket, _("Linked to %(number)s.", number=target.number))


@bp.route("/tickets/<number>/links/<int:link_id>/delete", methods=["POST"])
@access("staff")
def ticket_unlink(number: str, link_id: int) -> ResponseReturnValue:
    ticket = editable_ticket(number)
    link = session.get(TicketLink, link_id)
    if link is None or ticket.id not in (link.source_id, link.target_id):
        return _back(ticket, _("The link was already removed."))
    unlink_tickets(link, current_actor())
    return _back(ticket, _("Link removed."))


@bp.route("/tickets/<number>/watch", methods=["POST"])
@access("staff")
def ticket_watch(number: str) -> ResponseReturnValue:
    ticket = editable_ticket(number)
    add_watcher(ticket, current_actor(), current_actor())
    return _back(ticket, _("You are watching this ticket."))


@bp.route("/tickets/<number>/unwatch", methods=["POST"])
@access("staff")
def ticket_unwatch(number: str) -> ResponseReturnValue:
    ticket = editable_ticket(number)
    remove_watcher(ticket, current_actor(), current_actor())
    return _back(ticket, _("You no longer watch this ticket."))
