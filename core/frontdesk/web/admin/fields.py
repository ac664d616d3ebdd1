"""Admin pages for each queue's custom fields (definitions stored on the queue, as JSON)."""

from __future__ import annotations

import re
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from frontdesk.auth import access
from frontdesk.db import session
from frontdesk.i18n import _, _l
from frontdesk.models import Queue
from frontdesk.services import update_queue
from frontdesk.services.custom_fields import FIELD_TYPES
from frontdesk.services.errors import ServiceError
from frontdesk.web.admin import bp
from frontdesk.web.admin.forms import flag, form_values, service_errors
from frontdesk.web.admin.queues import get_queue

# A field's key is stored in every ticket's values and used by the API: keep it plain.
FIELD_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
TYPE_LABELS = {
    "text": _l("Text"),
    "number": _l("Number"),
    "boolean": _l("Yes or no"),
    "date": _l("Date"),
    "choice": _l("Choice from a list"),
}


def type_options() -> list[tuple[str, str]]:
    return [(kind, str(TYPE_LABELS.get(kind, kind))) for kind in FIELD_TYPES]


def _posted(key: str | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """The field as posted (for re-rendering) and the errors found before asking the service."""
    form = form_values("key", "label", "type", "choices")
    form.update(required=flag("required"), public=flag("public"))
    if key is not None:
        form["key"] = key  # ticket values are stored under the key: it never changes
    errors = {}
    if not FIELD_KEY_RE.match(form["key"]):
        errors["key"] = _("Use lower-case letters, digits and _, starting with a letter.")
    if form["type"] not in FIELD_TYPES:
        errors["type"] = _("Choose one of the listed options.")
    if len(form["label"]) > 200:
        errors["label"] = _("At most %(n)d characters.", n=200)
    if form["type"] == "choice" and not _choices(form):
        errors["choices"] = _("A choice field needs at least one choice.")
    return form, errors


def _choices(form: dict[str, Any]) -> list[str]:
    seen: list[str] = []
    for line in form["choices"].splitlines():
        if line.strip() and line.strip() not in seen:
            seen.append(line.strip())
    return seen


def _definition(form: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": form["key"],
        "label": form["label"] or form["key"],
        "type": form["type"],
        "required": form["required"],
        "public": form["public"],
        "choices": _choices(form) if form["type"] == "choice" else [],
    }


def _save(queue: Queue, definitions: list[dict[str, Any]]) -> dict[str, str]:
    try:
        update_queue(queue, custom_fields=definitions)
    except ServiceError as exc:
        return service_errors(exc)
    return {}


def _page(queue: Queue, form: dict[str, Any], errors: dict[str, str], status: int = 200):
    context = {
        "queue": queue,
        "form": form,
        "errors": errors,
        "type_options": type_options(),
        "type_labels": TYPE_LABELS,
    }
    return render_template("admin/fields.html", **context), status


@bp.get("/fields")
@access("admin")
def custom_fields() -> ResponseReturnValue:
    """Queues with how many custom fields each defines."""
    rows = session.scalars(select(Queue).order_by(Queue.is_active.desc(), Queue.key)).all()
    return render_template("admin/fields_queues.html", queues=rows, type_labels=TYPE_LABELS)


@bp.route("/queues/<key>/fields", methods=["GET", "POST"])
@access("admin")
def queue_fields(key: str) -> ResponseReturnValue:
    """A queue's fields, and the form that adds one."""
    queue = get_queue(key)
    if request.method == "GET":
        return _page(queue, {"type": "text", "public": True}, {})
    form, errors = _posted()
    if form["key"] in {d["key"] for d in queue.custom_fields or []}:
        errors["key"] = _("This queue already has a field with this key.")
    if errors:
        return _page(queue, form, errors, 422)
    errors = _save(queue, [*(queue.custom_fields or []), _definition(form)])
    if errors:
        return _page(queue, form, errors, 422)
    flash(_("Field %(label)s added.", label=form["label"] or form["key"]), "success")
    return redirect(url_for("admin.queue_fields", key=queue.key))


def _find(queue: Queue, field_key: str) -> int:
    for index, definition in enumerate(queue.custom_fields or []):
        if definition["key"] == field_key:
            return index
    abort(404)


@bp.route("/queues/<key>/fields/<field_key>", methods=["GET", "POST"])
@access("admin")
def edit_field(key: str, field_key: str) -> ResponseReturnValue:
    queue = get_queue(key)
    index = _find(queue, field_key)
    current = queue.custom_fields[index]
    if request.method == "GET":
        form = {**current, "choices": "\n".join(current.get("choices") or [])}
        return _render_field(queue, form, {})
    form, errors = _posted(key=field_key)
    if not errors:
        definitions = list(queue.custom_fields)
        definitions[index] = _definition(form)
        errors = _save(queue, definitions)
    if errors:
        return _render_field(queue, form, errors, 422)
    flash(_("Field %(label)s saved.", label=form["label"] or form["key"]), "success")
    return redirect(url_for("admin.queue_fields", key=queue.key))


def _render_field(queue: Queue, form: dict[str, Any], errors: dict[str, str], status: int = 200):
    context = {"queue": queue, "form": form, "errors": errors, "type_options": type_options()}
    return render_template("admin/field_form.html", **context), status


@bp.post("/queues/<key>/fields/<field_key>/delete")
@access("admin")
def delete_field(key: str, field_key: str) -> ResponseReturnValue:
    """Remove a definition (values already stored on tickets are kept, no longer shown)."""
    queue = get_queue(key)
    index = _find(queue, field_key)
    definitions = list(queue.custom_fields)
    removed = definitions.pop(index)
    errors = _save(queue, definitions)
    if errors:
        flash(" ".join(errors.values()), "error")
    else:
        flash(_("Field %(label)s removed.", label=removed["label"]), "success")
    return redirect(url_for("admin.queue_fields", key=queue.key))
