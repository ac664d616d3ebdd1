"""Reading the ticket page's forms: uploads, properties, custom fields; refusals in words.

The actions in ``ticket_actions`` turn a POST into typed values here, so each stays a short
sequence of "read, check, call the service, answer".
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from flask import current_app, request
from sqlalchemy import select

from frontdesk.channels.base import IncomingAttachment
from frontdesk.db import session
from frontdesk.i18n import _
from frontdesk.models import Queue, User
from frontdesk.services import (
    Conflict,
    ServiceError,
    StaleVersion,
    TooLarge,
    TransitionRefused,
    ValidationFailed,
    sanitize_filename,
)
from frontdesk.web.desk.ticket_thread import human_size

PROPERTIES = ("status", "priority", "queue", "assignee")


class UploadRefused(Exception):
    """An upload the page refuses before anything is stored; the message is for the agent."""


def uploaded_files(name: str = "attachments") -> list[IncomingAttachment]:
    """The files of the form field ``name``, each read no further than the size limit."""
    config = current_app.config
    limit, most = config["MAX_ATTACHMENT_BYTES"], config["MAX_ATTACHMENTS_PER_MESSAGE"]
    files = [f for f in request.files.getlist(name) if f and f.filename]
    if len(files) > most:
        raise UploadRefused(_("At most %(num)d files can be attached to one message.", num=most))
    found = []
    for upload in files:
        data = upload.stream.read(limit + 1)
        if len(data) > limit:
            raise UploadRefused(
                _(
                    "The file %(name)s is larger than the limit of %(limit)s. Nothing was sent; "
                    "your text is kept below. Attach a smaller file and send again.",
                    name=sanitize_filename(upload.filename or ""),
                    limit=human_size(limit),
                )
            )
        media_type = upload.mimetype or "application/octet-stream"
        found.append(
            IncomingAttachment(filename=upload.filename or "", data=data, media_type=media_type)
        )
    return found


def service_message(exc: ServiceError) -> str:
    """A refusal from a service, said in the agent's language."""
    if isinstance(exc, StaleVersion):
        return _(
            "This ticket was changed by someone else meanwhile. Your input is kept: check it "
            "against the current ticket and save again."
        )
    if isinstance(exc, TransitionRefused):
        return _("The status change was refused: %(reasons)s", reasons="; ".join(exc.reasons))
    if isinstance(exc, TooLarge):
        return _("A file is larger than the limit of %(limit)s.",
                 limit=human_size(current_app.config["MAX_ATTACHMENT_BYTES"]))  # fmt: skip
    if isinstance(exc, Conflict):
        return _("That is not possible: %(detail)s", detail=exc.detail)
    if isinstance(exc, ValidationFailed) and "body_text" in exc.errors:
        return _("The message is empty or too long.")
    return _("The change was not accepted: %(detail)s", detail=exc.detail)


def int_or_none(value: Any) -> int | None:
    """``value`` as a whole number, or ``None`` when a form sent something else (or nothing)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def kept_update_input(form: Any) -> dict[str, Any]:
    """What the property form sent, to show again when the update is refused."""
    kept: dict[str, Any] = {"props": {k: form.get(k, "") for k in PROPERTIES if k in form}}
    kept["cf"] = {k[3:]: v for k, v in form.items() if k.startswith("cf.")}
    for marker in [k for k in kept["cf"] if k.endswith(".present")]:  # unticked boxes send nothing
        kept["cf"].setdefault(marker.removesuffix(".present"), "")
        del kept["cf"][marker]
    return kept


def read_properties(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Status, priority, queue and assignee changes in ``form`` and why some do not fit."""
    errors: dict[str, str] = {}
    changes: dict[str, Any] = {}
    for name in ("status", "priority"):
        if form.get(name):
            changes[name] = form[name]
    if "queue" in form:
        key = form["queue"]
        changes["queue"] = session.scalar(select(Queue).where(Queue.key == key)) if key else None
        if key and changes["queue"] is None:
            errors["props"] = _("There is no such queue.")
    if "assignee" in form:
        agent_id = int_or_none(form["assignee"])
        agent = session.get(User, agent_id) if agent_id else None
        if form["assignee"] and (agent is None or not agent.is_staff or not agent.is_active):
            errors["props"] = _("Tickets can only be assigned to active agents.")
        changes["assignee"] = agent
    return changes, errors


def read_custom_fields(
    definitions: list[dict[str, Any]], form: Any
) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed values of the custom fields in ``form`` and the errors of those that do not fit."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for definition in definitions:
        key, kind = definition["key"], definition["type"]
        name = f"cf.{key}"
        if kind == "boolean":
            if f"{name}.present" in form:
                values[key] = name in form
            continue
        if name not in form:
            continue
        raw = form.get(name, "").strip()
        value: Any = raw or None
        if raw and kind == "number":
            try:
                value = int(raw) if raw.lstrip("+-").isdigit() else float(raw)
            except ValueError:
                value = None
            if value is None or not math.isfinite(value):
                errors[name] = _("Enter a number.")
        elif raw and kind == "date":
            try:
                value = date.fromisoformat(raw).isoformat()
            except ValueError:
                errors[name] = _("Enter a date as YYYY-MM-DD.")
        elif raw and kind == "choice" and raw not in definition["choices"]:
            errors[name] = _("Choose one of the offered values.")
        if value is None and definition.get("required"):
            errors[name] = _("This field is required.")
        values[key] = value
    return values, errors
