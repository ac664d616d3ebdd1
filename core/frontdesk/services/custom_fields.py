"""Per-queue custom fields: definitions on the queue, values on the ticket, validated together."""

from __future__ import annotations

from datetime import date
from typing import Any

from frontdesk.models import Queue
from frontdesk.services.errors import ValidationFailed

FIELD_TYPES = ("text", "number", "boolean", "date", "choice")


def check_definitions(definitions: Any) -> list[dict[str, Any]]:
    """Validate a queue's field definitions: known types, unique keys, choices for choice fields."""
    errors: dict[str, list[str]] = {}
    if not isinstance(definitions, list):
        raise ValidationFailed("custom_fields must be a list", {"custom_fields": ["must be a list"]})
    seen: set[str] = set()
    clean = []
    for index, item in enumerate(definitions):
        where = f"custom_fields.{index}"
        if not isinstance(item, dict) or not isinstance(item.get("key"), str) or not item["key"]:
            errors[where] = ["each field needs a non-empty string 'key'"]
            continue
        key = item["key"]
        if key in seen:
            errors[where] = [f"duplicate field key {key!r}"]
            continue
        seen.add(key)
        kind = item.get("type", "text")
        if kind not in FIELD_TYPES:
            errors[where] = [f"type must be one of {', '.join(FIELD_TYPES)}"]
            continue
        choices = item.get("choices") or []
        if kind == "choice" and (not choices or not all(isinstance(c, str) for c in choices)):
            errors[where] = ["a choice field needs a list of string 'choices'"]
            continue
        clean.append(
            {
                "key": key,
                "label": str(item.get("label") or key),
                "type": kind,
                "required": bool(item.get("required", False)),
                "choices": list(choices),
                "public": bool(item.get("public", True)),
            }
        )
    if errors:
        raise ValidationFailed("invalid custom field definitions", errors)
    return clean


def _coerce(definition: dict[str, Any], value: Any) -> Any:
    kind = definition["type"]
    if value is None:
        return None
    if kind == "text":
        if not isinstance(value, str):
            raise ValueError("must be text")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("must be a number")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if kind == "date":
        if not isinstance(value, str):
            raise ValueError("must be a date (YYYY-MM-DD)")
        return date.fromisoformat(value).isoformat()
    if value not in definition["choices"]:
        raise ValueError(f"must be one of {', '.join(definition['choices'])}")
    return value


def validate_values(
    queue: Queue | None, values: dict[str, Any], current: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Merge ``values`` into ``current`` and check the result against ``queue``'s definitions."""
    if not isinstance(values, dict):
        raise ValidationFailed("custom_fields must be an object", {"custom_fields": ["must be an object"]})
    definitions = {d["key"]: d for d in (queue.custom_fields if queue else [])}
    merged = dict(current or {})
    errors: dict[str, list[str]] = {}
    for key, value in values.items():
        if key not in definitions:
            errors[f"custom_fields.{key}"] = ["unknown field for this queue"]
            continue
        try:
            coerced = _coerce(definitions[key], value)
        except ValueError as exc:
            errors[f"custom_fields.{key}"] = [str(exc) if str(exc) else "invalid value"]
            continue
        if coerced is None:
            merged.pop(key, None)
        else:
            merged[key] = coerced
    for key, definition in definitions.items():
        if definition["required"] and merged.get(key) in (None, ""):
            errors.setdefault(f"custom_fields.{key}", []).append("this field is required")
    if errors:
        raise ValidationFailed("invalid custom field values", errors)
    return merged
