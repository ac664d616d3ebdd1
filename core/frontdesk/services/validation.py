"""Checks shared by the services: text fields, tags, priorities, statuses."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app

from frontdesk.models import PRIORITIES
from frontdesk.pluginmanager import get_registry
from frontdesk.services.errors import ValidationFailed

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TAG_RE = re.compile(r"^[^\x00-\x1f\x7f,]{1,64}$")


def clean_text(field: str, value: Any, *, max_length: int, required: bool = False) -> str:
    """A string without NUL or control characters, within ``max_length``; errors name ``field``."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be text", {field: ["must be a string"]})
    if "\x00" in value:
        raise ValidationFailed(f"{field} contains a NUL character", {field: ["contains NUL (\\0)"]})
    if len(value) > max_length:
        raise ValidationFailed(
            f"{field} is too long", {field: [f"at most {max_length} characters, got {len(value)}"]}
        )
    if required and not value.strip():
        raise ValidationFailed(f"{field} is required", {field: ["must not be empty"]})
    return value


def clean_subject(value: Any) -> str:
    subject = clean_text(
        "subject", value, max_length=current_app.config["MAX_SUBJECT_LENGTH"], required=True
    )
    return _CONTROL.sub(" ", subject).strip()


def clean_body(value: Any, field: str = "body_text") -> str:
    return clean_text(field, value, max_length=current_app.config["MAX_BODY_LENGTH"])


def clean_priority(value: Any) -> str:
    if value not in PRIORITIES:
        raise ValidationFailed(
            "unknown priority", {"priority": [f"must be one of {', '.join(PRIORITIES)}"]}
        )
    return value


def clean_tags(values: Any) -> list[str]:
    """Normalised tag names (trimmed, lower-case, unique, in the given order)."""
    if not isinstance(values, (list, tuple)):
        raise ValidationFailed("tags must be a list", {"tags": ["must be a list of strings"]})
    out: list[str] = []
    for index, raw in enumerate(values):
        if not isinstance(raw, str) or not _TAG_RE.match(raw.strip() or "\x00"):
            raise ValidationFailed(
                "invalid tag",
                {f"tags.{index}": ["1-64 characters, no commas or control characters"]},
            )
        name = raw.strip().lower()
        if name not in out:
            out.append(name)
    return out


def status_category(key: str) -> str:
    try:
        return get_registry().status(key).category
    except LookupError:
        known = ", ".join(sorted(get_registry().statuses))
        raise ValidationFailed("unknown status", {"status": [f"must be one of {known}"]}) from None


def first_status_in(category: str) -> str:
    statuses = sorted(get_registry().statuses_in(category), key=lambda s: (s.order, s.key))
    if not statuses:
        raise RuntimeError(f"no status of category {category!r} is registered")
    return statuses[0].key
