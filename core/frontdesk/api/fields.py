"""Strict field types every API schema uses: JSON types are not coerced, text is checked."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import marshmallow as ma

fields = ma.fields


class StrictInteger(fields.Integer):
    """An integer that refuses strings, fractions and booleans (``true`` is not ``1``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _validated(self, value: Any) -> Any:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._validated(value)


class StrictBoolean(fields.Boolean):
    """``true`` or ``false`` only (no ``"yes"``, ``1`` or ``"on"``)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class Text(fields.String):
    """A JSON string (numbers are not strings)."""


class UtcDateTime(fields.AwareDateTime):
    """An ISO 8601 timestamp with its offset, stored as UTC (one without an offset is refused)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> datetime:
        return super()._deserialize(value, attr, data, **kwargs).astimezone(UTC)


LANGUAGE_RE = re.compile(r"[A-Za-z]{2,3}([_-][A-Za-z0-9]{1,8}){0,3}", re.ASCII)
MEDIA_TYPE_RE = re.compile(r"[A-Za-z0-9][\w.+-]{0,126}/[A-Za-z0-9][\w.+-]{0,126}", re.ASCII)


def full_match(pattern: re.Pattern[str], error: str) -> Any:
    """A validator: the whole value matches ``pattern`` (a trailing newline does not)."""

    def validate(value: str) -> None:
        if not pattern.fullmatch(value):
            raise ma.ValidationError(error)

    return validate


def Language(**kwargs: Any) -> Text:  # noqa: N802 - a field factory reads like a field class
    """A language tag such as ``en`` or ``pt-BR`` (at most 16 characters)."""
    return Text(
        validate=[
            ma.validate.Length(max=16),
            full_match(LANGUAGE_RE, "not a language tag such as en or pt-BR"),
        ],
        **kwargs,
    )


class Timezone(Text):
    """An IANA time zone name such as ``Europe/Rome``."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        name = super()._deserialize(value, attr, data, **kwargs)
        try:
            if len(name) > 64 or "\x00" in name:
                raise ValueError(name)
            ZoneInfo(name)
        except (ValueError, ZoneInfoNotFoundError):
            raise ma.ValidationError("not a time zone name such as Europe/Rome") from None
        return name
