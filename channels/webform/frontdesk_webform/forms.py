"""Reading a submitted form: who, what, which queue and its custom fields, the files.

Every problem becomes a message in the visitor's language under the name of the field it concerns
(``form`` for the form as a whole); the typed values go back into the form unchanged.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, ImmutableMultiDict, MultiDict

from frontdesk.channels.base import IncomingAttachment
from frontdesk.db import session
from frontdesk.i18n import format_decimal
from frontdesk.models import Queue, User
from frontdesk.services import ValidationFailed

from .coreweb import validate_custom_fields
from .i18n import _
from .schemas import settings

TEXT_FIELDS = ("name", "email", "subject", "message", "queue")
HONEYPOT = "website"
MAX_NAME = 200
MAX_FIELD_TEXT = 5000
EMAIL_RE = re.compile(r"^[^@\s<>()\[\]\\,;:\"]+@[^@\s<>()\[\]\\,;:\"]+\.[^@\s<>()\[\]\\,;:\".]+$")


@dataclass
class FormInput:
    """One submission as read: clean values for the core, typed values for the page, errors."""

    values: dict[str, str]
    name: str = ""
    email: str = ""
    subject: str = ""
    body: str = ""
    queue: Queue | None = None
    custom_fields: dict[str, Any] = field(default_factory=dict)
    files: list[IncomingAttachment] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def offered_queues() -> list[Queue]:
    """The active queues the form offers (``queues`` in the config; default: every active one)."""
    stmt = select(Queue).where(Queue.is_active.is_(True))
    keys = settings()["queues"]
    if keys is not None:
        stmt = stmt.where(Queue.key.in_(keys))
    return list(session.scalars(stmt.order_by(Queue.name, Queue.key)))


def public_fields(queue: Queue | None) -> list[dict[str, Any]]:
    """The custom fields of ``queue`` a customer fills in (agent-only ones are not asked)."""
    if queue is None:
        return []
    return [d for d in queue.custom_fields or [] if d.get("public", True)]


def field_name(queue: Queue, definition: dict[str, Any]) -> str:
    # Namespaced by queue: two queues may both define a field "order".
    return f"cf.{queue.key}.{definition['key']}"


def typed_values(form: MultiDict[str, str]) -> dict[str, str]:
    """What the visitor typed, to fill the form again (text without NUL characters)."""
    values = {key: form.get(key, "").replace("\x00", "") for key in TEXT_FIELDS}
    values.update(
        {key: value.replace("\x00", "") for key, value in form.items() if key.startswith("cf.")}
    )
    return values


def read_form(
    form: MultiDict[str, str],
    files: ImmutableMultiDict[str, FileStorage],
    *,
    actor: User | None,
    queues: list[Queue],
) -> FormInput:
    """Read and check a submission; ``actor`` (signed in) is the sender, else the typed address."""
    data = FormInput(values=typed_values(form))
    _read_sender(data, actor)
    _read_text(data)
    _read_queue(data, queues)
    if data.queue is not None:
        _read_custom_fields(data, form)
    _read_files(data, files)
    return data


def _read_sender(data: FormInput, actor: User | None) -> None:
    if actor is not None:
        data.name, data.email = actor.name or "", actor.email
        return
    data.name = data.values["name"].strip()
    data.email = data.values["email"].strip()
    if not data.name:
        data.errors["name"] = _("Please enter your name.")
    elif len(data.name) > MAX_NAME:
        data.errors["name"] = _("The name can have at most %(count)d characters.", count=MAX_NAME)
    if not data.email:
        data.errors["email"] = _("Please enter your email address: we send you a link to it.")
    elif len(data.email) > 320 or not EMAIL_RE.match(data.email):
        data.errors["email"] = _("Please enter a valid email address.")


def _read_text(data: FormInput) -> None:
    config = current_app.config
    data.subject = " ".join(data.values["subject"].split())
    data.body = data.values["message"].strip("\r\n")
    if not data.subject:
        data.errors["subject"] = _("Please say in a few words what your request is about.")
    elif len(data.subject) > config["MAX_SUBJECT_LENGTH"]:
        data.errors["subject"] = _(
            "The subject can have at most %(count)d characters.", count=config["MAX_SUBJECT_LENGTH"]
        )
    if not data.body.strip():
        data.errors["message"] = _("Please describe your request.")
    elif len(data.body) > config["MAX_BODY_LENGTH"]:
        data.errors["message"] = _(
            "The message can have at most %(count)d characters.", count=config["MAX_BODY_LENGTH"]
        )


def _read_queue(data: FormInput, queues: list[Queue]) -> None:
    if len(queues) == 1:
        data.queue = queues[0]
        return
    key = data.values["queue"]
    data.queue = next((q for q in queues if q.key == key), None)
    if queues and data.queue is None:
        data.errors["queue"] = _("Please choose what your request is about.")


def _read_custom_fields(data: FormInput, form: MultiDict[str, str]) -> None:
    queue = data.queue
    assert queue is not None
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for definition in public_fields(queue):
        name = field_name(queue, definition)
        kind = definition["type"]
        if kind == "boolean":
            values[definition["key"]] = name in form
            continue
        raw = data.values.get(name, "").strip()
        value: Any = raw or None
        if raw and kind == "number":
            value = _number(raw)
            if value is None:
                errors[name] = _("Enter a number.")
        elif raw and kind == "date":
            try:
                value = date.fromisoformat(raw).isoformat()
            except ValueError:
                errors[name] = _("Enter a date as YYYY-MM-DD.")
        elif raw and kind == "choice" and raw not in definition["choices"]:
            errors[name] = _("Choose one of the offered values.")
        elif raw and len(raw) > MAX_FIELD_TEXT:
            errors[name] = _("At most %(count)d characters.", count=MAX_FIELD_TEXT)
        if value is None and definition.get("required") and name not in errors:
            errors[name] = _("This field is required.")
        if value is not None:
            values[definition["key"]] = value
    if not errors:
        try:
            # The core's own check has the last word (and knows the agent-only fields too).
            values = validate_custom_fields(queue, values)
        except ValidationFailed as exc:
            errors = _core_field_errors(queue, exc)
    data.custom_fields = values
    data.errors.update(errors)


def _number(raw: str) -> int | float | None:
    try:
        value: int | float = int(raw) if raw.lstrip("+-").isdigit() else float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _core_field_errors(queue: Queue, exc: ValidationFailed) -> dict[str, str]:
    public = {d["key"]: d for d in public_fields(queue)}
    errors: dict[str, str] = {}
    for key in exc.errors:
        field_key = key.partition(".")[2]
        if field_key in public:
            errors[field_name(queue, public[field_key])] = _("This value is not accepted.")
        else:
            errors["form"] = _(
                "This kind of request cannot be sent with this form. Please choose another one."
            )
    return errors or {"form": _("Please check the fields of your request.")}


def _read_files(data: FormInput, files: ImmutableMultiDict[str, FileStorage]) -> None:
    config = current_app.config
    chosen = [item for item in files.getlist("attachments") if item and item.filename]
    if len(chosen) > config["MAX_ATTACHMENTS_PER_MESSAGE"]:
        data.errors["attachments"] = _(
            "You can attach at most %(count)d files.", count=config["MAX_ATTACHMENTS_PER_MESSAGE"]
        )
        return
    limit = config["MAX_ATTACHMENT_BYTES"]
    for item in chosen:
        # Measured on the spooled upload, so an oversized file is never read into memory.
        item.stream.seek(0, 2)
        size = item.stream.tell()
        item.stream.seek(0)
        if size > limit:
            data.errors["attachments"] = _(
                "The file %(name)s is too large: each file can be at most %(limit)s. Your "
                "request is not sent yet; choose smaller files and send it again.",
                name=item.filename,
                limit=size_text(limit),
            )
            return
        data.files.append(
            IncomingAttachment(
                filename=item.filename,
                data=item.read(),
                media_type=item.mimetype or "application/octet-stream",
            )
        )


def size_text(size: int) -> str:
    """A file size in the visitor's language (``25 MB``)."""
    if size >= 1024 * 1024:
        return _("%(size)s MB", size=format_decimal(round(size / 1024 / 1024, 1)))
    return _("%(size)s KB", size=format_decimal(max(1, round(size / 1024))))
