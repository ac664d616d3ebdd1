"""Admin pages of the email channel (``/admin/email``): mailboxes and what became of inbound mail.

The pages call the same code as the admin API and the CLI: the API's schemas and cross-field
checks for mailbox settings, its connection test, and ``ingest.reprocess`` for stored mail.
Passwords are never written back into a page; an empty password field keeps the stored one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import marshmallow as ma
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template
from flask import request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_timezone
from sqlalchemy import select

from frontdesk.db import session, transaction
from frontdesk.models import Queue, Ticket
from frontdesk.plugins import NavItem
from frontdesk.services import ServiceError
from frontdesk.ui import access

from . import mailboxes as api
from .i18n import _, _l
from .ingest import TemporaryFailure, raw_message, reprocess
from .models import OUTCOMES, TLS_MODES, InboundRecord, Mailbox

bp = Blueprint("email_admin", __name__, url_prefix="/admin/email", template_folder="templates")

# The form's fields are the API's (passwords and the active flag are read on their own).
_SETTINGS = api.MailboxInputSchema().fields
TEXT_FIELDS = tuple(n for n in _SETTINGS if n != "is_active" and not n.endswith("_password"))
NULLABLE = {n for n in TEXT_FIELDS if _SETTINGS[n].allow_none}
PAGE_SIZE = 50
REPROCESSABLE = ("rejected", "dropped")
OUTCOME_LABELS = {
    "created": _l("Created a ticket"),
    "appended": _l("Added to a ticket"),
    "duplicate": _l("Duplicate delivery"),
    "dropped": _l("Dropped"),
    "rejected": _l("Rejected"),
    "pending": _l("Pending"),
}
STEP_LABELS = {
    "configuration": _l("configuration"),
    "connect": _l("connect"),
    "starttls": _l("STARTTLS"),
    "login": _l("log in"),
    "select": _l("open the folder"),
    "ehlo": _l("EHLO greeting"),
    "auth": _l("authenticate"),
}


def nav_items(area: str, actor: Any) -> list[NavItem]:
    if area != "admin" or actor is None or not actor.is_admin:
        return []
    return [
        NavItem("email_mailboxes", _l("Mailboxes"), "email_admin.mailboxes", order=60),
        NavItem("email_inbound", _l("Inbound mail"), "email_admin.inbound", order=61),
    ]


def _page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    # Plugin templates translate in the plugin's domain; each block binds ``_`` to it.
    context.update(email_gettext=_, outcome_labels=OUTCOME_LABELS, steps=STEP_LABELS)
    return render_template(template, **context), status


def _mailbox(key: str) -> Mailbox:
    mailbox = session.scalar(select(Mailbox).where(Mailbox.key == key))
    if mailbox is None:
        abort(404)
    return mailbox


def _form_of(mailbox: Mailbox) -> dict[str, Any]:
    form = {name: getattr(mailbox, name) for name in TEXT_FIELDS if name != "default_queue"}
    form["default_queue"] = mailbox.default_queue.key if mailbox.default_queue else ""
    form.update(key=mailbox.key, is_active=mailbox.is_active)
    return {k: "" if v is None else v for k, v in form.items()}


def _posted(creating: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """The form as typed (to re-render) and the payload for the API's schema."""
    form = {name: (request.form.get(name) or "").strip() for name in (*TEXT_FIELDS, "key")}
    form["is_active"] = request.form.get("is_active") == "1"
    payload: dict[str, Any] = {"is_active": form["is_active"]}
    for name in TEXT_FIELDS:
        value = form[name]
        if value or name in NULLABLE:
            payload[name] = value or None
        elif not creating and name not in ("imap_port", "smtp_port"):
            payload[name] = value  # emptied on purpose: the schema says what is missing
    for proto in ("imap", "smtp"):
        password = request.form.get(f"{proto}_password") or ""
        if request.form.get(f"clear_{proto}_password") == "1":
            payload[f"{proto}_password"] = None
        elif password:
            payload[f"{proto}_password"] = password  # empty: keep the stored one
    if creating:
        payload["key"] = form["key"]
    return form, payload


def _errors(exc: ma.ValidationError | ServiceError) -> dict[str, str]:
    messages = exc.normalized_messages() if isinstance(exc, ma.ValidationError) else exc.errors
    errors = {
        str(name): " ".join(map(str, texts if isinstance(texts, list) else [texts]))
        for name, texts in (messages or {}).items()
    }
    if not errors:
        errors["form"] = getattr(exc, "detail", str(exc))
    return errors


def _form_page(
    mailbox: Mailbox | None,
    form: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
    result: dict[str, Any] | None = None,
) -> tuple[str, int]:
    queues = session.scalars(select(Queue).order_by(Queue.key)).all()
    return _page(
        "email/admin/mailbox_form.html",
        status,
        mailbox=mailbox,
        form=form,
        errors=errors,
        result=result,
        queue_options=[(q.key, q.name) for q in queues],
        language_options=[(code, code) for code in current_app.config["LANGUAGES"]],
        tls_options=[(mode, mode) for mode in TLS_MODES],
    )


@bp.get("/mailboxes")
@access("admin")
def mailboxes() -> ResponseReturnValue:
    rows = session.scalars(select(Mailbox).order_by(Mailbox.id)).all()
    return _page("email/admin/mailboxes.html", mailboxes=rows)


@bp.route("/mailboxes/new", methods=["GET", "POST"])
@access("admin")
def new_mailbox() -> ResponseReturnValue:
    if request.method == "GET":
        return _form_page(None, {**api.DEFAULTS, "key": ""}, {})
    form, payload = _posted(creating=True)
    try:
        values = api._check({**api.DEFAULTS, **api.MailboxCreateSchema().load(payload)})
    except (ma.ValidationError, ServiceError) as exc:
        return _form_page(None, form, _errors(exc), 422)
    if session.scalar(select(Mailbox.id).where(Mailbox.key == values["key"])) is not None:
        return _form_page(None, form, {"key": _("A mailbox with this key exists already.")}, 422)
    with transaction():
        mailbox = Mailbox(**values)
        session.add(mailbox)
    flash(_("Mailbox %(key)s created. Test its connection now.", key=mailbox.key), "success")
    return redirect(url_for("email_admin.edit_mailbox", key=mailbox.key))


@bp.route("/mailboxes/<key>", methods=["GET", "POST"])
@access("admin")
def edit_mailbox(key: str) -> ResponseReturnValue:
    mailbox = _mailbox(key)
    if request.method == "GET":
        return _form_page(mailbox, _form_of(mailbox), {})
    form, data = _posted(creating=False)
    form["key"] = mailbox.key
    current = {name: getattr(mailbox, name) for name in _SETTINGS}
    current.pop("default_queue")
    try:
        data = api.MailboxInputSchema().load(data)
        values = api._check({**current, **data})
    except (ma.ValidationError, ServiceError) as exc:
        return _form_page(mailbox, form, _errors(exc), 422)
    # As the API's PATCH: another server, folder or account makes the old UIDs meaningless.
    moved = any(
        data.get(n, current[n]) != current[n] for n in ("imap_host", "imap_folder", "imap_username")
    )
    with transaction():
        for name, value in values.items():
            if name in data:
                setattr(mailbox, name, value)
        if moved:
            mailbox.uidvalidity, mailbox.last_uid = None, 0
    flash(_("Mailbox %(key)s saved.", key=mailbox.key), "success")
    return redirect(url_for("email_admin.edit_mailbox", key=mailbox.key))


@bp.post("/mailboxes/<key>/test")
@access("admin")
def test_mailbox(key: str) -> ResponseReturnValue:
    """Run the API's connection test on the saved settings and show which step failed, and why."""
    mailbox = _mailbox(key)
    result = api.test_mailbox(key)
    return _form_page(mailbox, _form_of(mailbox), {}, result=result)


def _filters() -> tuple[dict[str, str], dict[str, str]]:
    args = {
        name: (request.args.get(name) or "").strip()
        for name in ("outcome", "mailbox", "sender", "since", "until", "before")
    }
    errors = {}
    if args["outcome"] and args["outcome"] not in OUTCOMES:
        errors["outcome"] = _("Choose one of the listed outcomes.")
    for name in ("since", "until"):
        try:
            if args[name]:
                date.fromisoformat(args[name])
        except ValueError:
            errors[name] = _("Give a date such as 2025-03-31.")
    if args["before"] and not args["before"].isdigit():
        errors["before"] = _("Not a record number.")
    return args, errors


def _start_of(day: str) -> datetime:
    """Midnight of ``day`` in the admin's time zone."""
    naive, zone = datetime.combine(date.fromisoformat(day), time()), get_timezone()
    if hasattr(zone, "localize"):  # a pytz zone: its offset depends on the date
        return zone.localize(naive)
    return naive.replace(tzinfo=zone or UTC)


@bp.get("/inbound")
@access("admin")
def inbound() -> ResponseReturnValue:
    """Recent inbound messages and their outcome, newest first, with filters."""
    args, errors = _filters()
    rows: list[InboundRecord] = []
    more = False
    if not errors:
        query = select(InboundRecord).order_by(InboundRecord.id.desc()).limit(PAGE_SIZE + 1)
        if args["outcome"]:
            query = query.where(InboundRecord.outcome == args["outcome"])
        if args["mailbox"]:
            query = query.join(Mailbox, InboundRecord.mailbox_id == Mailbox.id).where(
                Mailbox.key == args["mailbox"]
            )
        if args["sender"]:
            escaped = args["sender"].lower().replace("\\", "\\\\").replace("%", "\\%")
            pattern = "%" + escaped.replace("_", "\\_") + "%"
            query = query.where(InboundRecord.sender.ilike(pattern, escape="\\"))
        if args["since"]:
            query = query.where(InboundRecord.received_at >= _start_of(args["since"]))
        if args["until"]:
            end = _start_of(args["until"]) + timedelta(days=1)
            query = query.where(InboundRecord.received_at < end)
        if args["before"]:
            query = query.where(InboundRecord.id < int(args["before"]))
        rows = list(session.scalars(query))
        more, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
    ticket_ids = {r.ticket_id for r in rows if r.ticket_id}
    tickets = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids)))}
    older = {k: v for k, v in {**args, "before": rows[-1].id}.items() if v} if more else None
    return _page(
        "email/admin/inbound.html",
        422 if errors else 200,
        records=rows,
        tickets=tickets,
        args=args,
        errors=errors,
        older=older,
        reprocessable=REPROCESSABLE,
        mailbox_options=[
            (k, k) for k in session.scalars(select(Mailbox.key).order_by(Mailbox.key))
        ],
    )


def _record(record_id: int) -> InboundRecord:
    record = session.get(InboundRecord, record_id)
    if record is None:
        abort(404)
    return record


@bp.get("/inbound/<int:record_id>")
@access("admin")
def inbound_record(record_id: int) -> ResponseReturnValue:
    record = _record(record_id)
    ticket = session.get(Ticket, record.ticket_id) if record.ticket_id else None
    return _page(
        "email/admin/inbound_record.html", record=record, ticket=ticket, reprocessable=REPROCESSABLE
    )


@bp.get("/inbound/<int:record_id>/raw")
@access("admin")
def inbound_raw(record_id: int) -> ResponseReturnValue:
    """The message exactly as received, as plain text the browser shows or saves, never runs."""
    record = _record(record_id)
    data = raw_message(record)
    if data is None:
        abort(410)
    response = Response(data, mimetype="text/plain")
    disposition = "attachment" if request.args.get("download") else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="inbound-{record.id}.txt"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/inbound/<int:record_id>/reprocess")
@access("admin")
def inbound_reprocess(record_id: int) -> ResponseReturnValue:
    """Run the stored message through the pipeline again, as ``frontdesk email reprocess``."""
    record = _record(record_id)
    try:
        fresh = reprocess(record)
    except ServiceError as exc:
        flash(exc.detail, "error")
        return redirect(url_for("email_admin.inbound_record", record_id=record_id))
    except TemporaryFailure as exc:
        flash(_("Temporarily unavailable, try again later: %(reason)s", reason=str(exc)), "error")
        return redirect(url_for("email_admin.inbound_record", record_id=record_id))
    flash(
        _("Processed again: %(outcome)s. %(reason)s", outcome=fresh.outcome, reason=fresh.reason),
        "success",
    )
    return redirect(url_for("email_admin.inbound_record", record_id=fresh.id))
