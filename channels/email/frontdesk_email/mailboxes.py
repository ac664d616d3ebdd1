"""Admin API for mailboxes: create, list, change, delete, test the connection, poll now.

Passwords are write-only: they are accepted on create and change, never returned (the API says
only whether one is set) and never logged.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import marshmallow as ma
from flask import current_app, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from frontdesk.db import session, transaction
from frontdesk.jobs import enqueue
from frontdesk.models import Queue
from frontdesk.services import ServiceError, ValidationFailed
from frontdesk.ui import access

from .api import blp, json_body, problem
from .imap import poll_mailbox_job
from .imap_client import check_imap
from .models import TLS_MODES, Mailbox
from .smtp import check_smtp

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
HOST_RE = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*\.?$"
)
# Well-known ports whose TLS mode is fixed by convention: a mismatch is almost always a typo.
PORT_TLS_CONFLICTS = {
    "imap": {143: ("ssl",), 993: ("none", "starttls")},
    "smtp": {25: ("ssl",), 587: ("ssl",), 465: ("none", "starttls")},
}


def _host(value: str) -> None:
    if "://" in value or "/" in value:
        raise ma.ValidationError("give a host name such as mail.example.com, not a URL")
    try:
        ipaddress.ip_address(value.strip("[]"))
        return
    except ValueError:
        pass
    if not HOST_RE.match(value):
        raise ma.ValidationError("not a valid host name")


def _folder(value: str) -> None:
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise ma.ValidationError("folder names cannot contain control characters")


class MailboxInputSchema(ma.Schema):
    """What an admin may set on a mailbox (unknown fields are refused)."""

    name = ma.fields.String(validate=ma.validate.Length(max=200))
    from_address = ma.fields.Email(validate=ma.validate.Length(max=320))
    imap_host = ma.fields.String(allow_none=True, validate=[ma.validate.Length(max=255), _host])
    imap_port = ma.fields.Integer(validate=ma.validate.Range(min=1, max=65535))
    imap_tls = ma.fields.String(validate=ma.validate.OneOf(TLS_MODES))
    imap_username = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=320))
    imap_password = ma.fields.String(
        allow_none=True, load_only=True, validate=ma.validate.Length(max=255)
    )
    imap_folder = ma.fields.String(validate=[ma.validate.Length(min=1, max=255), _folder])
    imap_done_folder = ma.fields.String(
        allow_none=True, validate=[ma.validate.Length(min=1, max=255), _folder]
    )
    smtp_host = ma.fields.String(allow_none=True, validate=[ma.validate.Length(max=255), _host])
    smtp_port = ma.fields.Integer(validate=ma.validate.Range(min=1, max=65535))
    smtp_tls = ma.fields.String(validate=ma.validate.OneOf(TLS_MODES))
    smtp_username = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=320))
    smtp_password = ma.fields.String(
        allow_none=True, load_only=True, validate=ma.validate.Length(max=255)
    )
    default_queue = ma.fields.String(allow_none=True)
    default_language = ma.fields.String(allow_none=True)
    is_active = ma.fields.Boolean()


class MailboxCreateSchema(MailboxInputSchema):
    key = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(
            KEY_RE, error="lower-case letters, digits, '-' and '_' (at most 64)"
        ),
    )
    from_address = ma.fields.Email(required=True, validate=ma.validate.Length(max=320))


class MailboxSchema(ma.Schema):
    """A mailbox as the API shows it: settings, polling state, never a password."""

    id = ma.fields.Integer()
    key = ma.fields.String()
    name = ma.fields.String()
    from_address = ma.fields.String()
    imap_host = ma.fields.String(allow_none=True)
    imap_port = ma.fields.Integer()
    imap_tls = ma.fields.String()
    imap_username = ma.fields.String(allow_none=True)
    has_imap_password = ma.fields.Function(lambda m: bool(m.imap_password))
    imap_folder = ma.fields.String()
    imap_done_folder = ma.fields.String(allow_none=True)
    smtp_host = ma.fields.String(allow_none=True)
    smtp_port = ma.fields.Integer()
    smtp_tls = ma.fields.String()
    smtp_username = ma.fields.String(allow_none=True)
    has_smtp_password = ma.fields.Function(lambda m: bool(m.smtp_password))
    default_queue = ma.fields.Function(lambda m: m.default_queue.key if m.default_queue else None)
    default_language = ma.fields.String(allow_none=True)
    is_active = ma.fields.Boolean()
    uidvalidity = ma.fields.Integer(allow_none=True)
    last_uid = ma.fields.Integer()
    last_polled_at = ma.fields.DateTime(allow_none=True)
    last_error = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()


DEFAULTS = {
    "name": "",
    "imap_port": 993,
    "imap_tls": "ssl",
    "imap_folder": "INBOX",
    "smtp_port": 587,
    "smtp_tls": "starttls",
    "is_active": True,
}


def _check(values: dict[str, Any]) -> dict[str, Any]:
    """Cross-field rules on the mailbox as it would be; returns the values to store."""
    errors: dict[str, list[str]] = {}
    for proto in ("imap", "smtp"):
        port, tls = values.get(f"{proto}_port"), values.get(f"{proto}_tls")
        if tls in PORT_TLS_CONFLICTS[proto].get(port, ()):
            errors.setdefault(f"{proto}_tls", []).append(
                f"port {port} is not used with TLS mode {tls!r}; check the port or the mode"
            )
    if values.get("imap_host"):
        if not values.get("imap_username"):
            errors.setdefault("imap_username", []).append("required when an IMAP host is set")
        if not values.get("imap_password"):
            errors.setdefault("imap_password", []).append("required when an IMAP host is set")
    if values.get("smtp_username") and not values.get("smtp_password"):
        errors.setdefault("smtp_password", []).append("required when an SMTP username is set")
    done = values.get("imap_done_folder")
    if done and done == values.get("imap_folder"):
        errors.setdefault("imap_done_folder", []).append("must differ from the folder polled")
    language = values.get("default_language")
    if language and language not in current_app.config["LANGUAGES"]:
        known = ", ".join(current_app.config["LANGUAGES"])
        errors.setdefault("default_language", []).append(f"one of: {known}")
    if "default_queue" in values:
        key = values.pop("default_queue")
        queue = session.scalar(select(Queue).where(Queue.key == key)) if key else None
        if key and queue is None:
            errors.setdefault("default_queue", []).append(f"no queue {key!r}")
        values["default_queue"] = queue
    if errors:
        raise ValidationFailed("the mailbox settings are not valid", errors)
    return values


def _mailbox(key: str) -> Mailbox:
    mailbox = session.scalar(select(Mailbox).where(Mailbox.key == key))
    if mailbox is None:
        raise _NotFound(f"no mailbox {key!r}")
    return mailbox


class _NotFound(ServiceError):
    status = 404
    title = "Not found"


def _dump(mailbox: Mailbox) -> dict[str, Any]:
    return MailboxSchema().dump(mailbox)


@blp.route("/mailboxes", methods=["GET"])
@access("admin")
def list_mailboxes() -> Any:
    """Every mailbox, in creation order."""
    mailboxes = session.scalars(select(Mailbox).order_by(Mailbox.id)).all()
    return {"items": [_dump(m) for m in mailboxes]}


@blp.route("/mailboxes", methods=["POST"])
@access("admin")
def create_mailbox() -> Any:
    """Add a mailbox (201 with its location)."""
    data = MailboxCreateSchema().load(json_body())
    values = _check({**DEFAULTS, **data})
    if session.scalar(select(Mailbox.id).where(Mailbox.key == values["key"])) is not None:
        return problem(409, f"a mailbox {values['key']!r} exists already", {"key": ["taken"]})
    with transaction():
        mailbox = Mailbox(**values)
        session.add(mailbox)
    location = url_for("email.get_mailbox", key=mailbox.key)
    return _dump(mailbox), 201, {"Location": location}


@blp.route("/mailboxes/<key>", methods=["GET"])
@access("admin")
def get_mailbox(key: str) -> Any:
    return _dump(_mailbox(key))


@blp.route("/mailboxes/<key>", methods=["PATCH"])
@access("admin")
def update_mailbox(key: str) -> Any:
    """Change some settings; a password left out stays as it is, ``null`` clears it."""
    mailbox = _mailbox(key)
    data = MailboxInputSchema().load(json_body())
    current = {
        name: getattr(mailbox, name)
        for name in MailboxInputSchema().fields
        if name != "default_queue"
    }
    merged = {**current, **data}
    if "default_queue" not in data:
        merged.pop("default_queue", None)
    values = _check(merged)
    account = ("imap_host", "imap_folder", "imap_username")
    moved = any(name in data and data[name] != current[name] for name in account)
    with transaction():
        for name, value in values.items():
            if name in data:
                setattr(mailbox, name, value)
        if moved:
            # Another server, folder or account: the old UIDs mean nothing there.
            mailbox.uidvalidity, mailbox.last_uid = None, 0
    return _dump(mailbox)


@blp.route("/mailboxes/<key>", methods=["DELETE"])
@access("admin")
def delete_mailbox(key: str) -> Any:
    """Remove a mailbox; its inbound records stay (without a mailbox)."""
    mailbox = _mailbox(key)
    try:
        with transaction():
            session.delete(mailbox)
    except IntegrityError:
        return problem(409, f"mailbox {key!r} is still referenced")
    return "", 204


@blp.route("/mailboxes/<key>/test", methods=["POST"])
@access("admin")
def test_mailbox(key: str) -> Any:
    """Try IMAP (connect, STARTTLS, login, select) and SMTP (connect, EHLO, STARTTLS, AUTH).

    Answers 200 either way; ``ok`` says whether both worked, and each protocol names the step
    that failed and the reason.
    """
    mailbox = _mailbox(key)
    session.commit()  # hold no transaction open while talking to the servers
    result: dict[str, Any] = {}
    for proto, host, check in (
        ("imap", mailbox.imap_host, check_imap),
        ("smtp", mailbox.smtp_host, check_smtp),
    ):
        if host:
            result[proto] = check(mailbox).as_dict()
        else:
            result[proto] = {"ok": None, "skipped": f"no {proto.upper()} host is set"}
    result["ok"] = all(part["ok"] is not False for part in result.values()) and any(
        part["ok"] for part in result.values()
    )
    return result


@blp.route("/mailboxes/<key>/poll", methods=["POST"])
@access("admin")
def poll_now(key: str) -> Any:
    """Queue a poll of the mailbox now (202); nothing new is queued while one is waiting."""
    mailbox = _mailbox(key)
    if not mailbox.imap_host:
        return problem(422, f"mailbox {key!r} has no IMAP host", {"imap_host": ["not set"]})
    with transaction():
        job = enqueue(
            poll_mailbox_job, key=f"email:poll:{mailbox.id}", max_attempts=1, mailbox_id=mailbox.id
        )
    return {"queued": job is not None}, 202


from . import template_api  # noqa: F401  (adds the template routes to ``blp``)
