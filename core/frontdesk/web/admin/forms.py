"""Form helpers of the admin pages: reading posted values, service refusals as field errors."""

from __future__ import annotations

from typing import Any

from flask import request

from frontdesk.i18n import _l
from frontdesk.services.errors import ServiceError

# The services answer in English for the API; the messages a form can provoke are shown in the
# user's language. Any other message is shown as the service wrote it.
KNOWN_MESSAGES = {
    "already in use": _l("This is already in use."),
    "must not be empty": _l("This field is required."),
    "not a valid email address": _l("This is not a valid email address."),
    "lower-case letters, digits, - and _": _l(
        "Use lower-case letters, digits, - and _ (starting with a letter or digit)."
    ),
    "unknown field": _l("This field cannot be changed here."),
}


def service_errors(exc: ServiceError) -> dict[str, str]:
    """``exc`` as the ``errors`` map the form macros show: one message per field, or ``form``."""
    errors: dict[str, str] = {}
    for name, messages in (exc.errors or {}).items():
        texts = messages if isinstance(messages, list) else [messages]
        errors[str(name)] = " ".join(str(KNOWN_MESSAGES.get(str(t), t)) for t in texts)
    if not errors:
        errors["form"] = exc.detail
    return errors


def text(name: str) -> str:
    """A posted text field, trimmed (absent fields read as empty)."""
    return (request.form.get(name) or "").strip()


def flag(name: str) -> bool:
    """A posted checkbox."""
    return request.form.get(name) in ("1", "on", "true", "yes")


def ids(name: str) -> list[int]:
    """The integer values of a multi-valued field (checkbox list); anything else is ignored."""
    out = []
    for value in request.form.getlist(name):
        try:
            out.append(int(value))
        except ValueError:
            continue
    return out


def form_values(*names: str, **defaults: Any) -> dict[str, Any]:
    """The posted text of ``names`` (for re-rendering a form with what was typed)."""
    values: dict[str, Any] = dict(defaults)
    values.update({name: text(name) for name in names})
    return values
