"""The interchange format's fixed parts: name, version, line reading, timestamps, identity keys.

A dump is JSON Lines: one header, then organizations, users, queues and tickets, one record per
line. ``docs/interchange.md`` describes every field; this module holds what the exporter and the
importer must agree on byte for byte.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from typing import IO, Any

FORMAT_NAME = "frontdesk-interchange"
FORMAT_VERSION = 1
RECORD_TYPES = ("organization", "user", "queue", "ticket")
DEFAULT_MAX_LINE_BYTES = 256 * 1024 * 1024
_CHUNK = 1024 * 1024


class RecordError(Exception):
    """A line cannot be imported; the message says why and names the field when there is one."""


def dump_line(record: dict[str, Any]) -> bytes:
    """One record as a UTF-8 JSON line (newline included)."""
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8") + b"\n"


def iso(value: datetime | None) -> str | None:
    """A timestamp as the format writes it: ISO 8601 in UTC with an explicit offset."""
    return value.astimezone(UTC).isoformat() if value is not None else None


def parse_since(text: str) -> datetime:
    """``--since`` value: an ISO date (midnight UTC) or datetime (naive means UTC)."""
    text = text.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD) or ISO datetime") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def message_key(
    kind: str, channel: str, author: str | None, created_at: str | None, body_text: str
) -> str:
    """The identity of a message that has no external id: a digest of what never changes."""
    digest = hashlib.sha256(canonical([kind, channel, author, created_at, body_text]).encode())
    return "m1:" + digest.hexdigest()[:40]


def event_key(record: dict[str, Any]) -> str:
    """The identity of a history event: a digest of the whole (normalised) record."""
    fields = {k: record.get(k) for k in ("created_at", "actor", "action", "field", "old", "new")}
    fields["source"] = record.get("source")
    return hashlib.sha256(canonical(fields).encode()).hexdigest()


def read_lines(stream: IO[bytes], max_bytes: int) -> Iterator[tuple[int, bytes | None, int]]:
    """Yield ``(line_number, raw_line, bytes_consumed)``; ``raw_line`` is None when too long.

    A line over ``max_bytes`` is skipped without being held in memory, so one giant line cannot
    exhaust memory and the lines after it still import.
    """
    number = 0
    while True:
        raw = stream.readline(max_bytes + 1)
        if not raw:
            return
        number += 1
        consumed = len(raw)
        if len(raw) > max_bytes and not raw.endswith(b"\n"):
            while True:
                rest = stream.readline(_CHUNK)
                consumed += len(rest)
                if not rest or rest.endswith(b"\n"):
                    break
            yield number, None, consumed
            continue
        yield number, raw, consumed


def decode_line(raw: bytes) -> Any:
    """Parse one line; raises :class:`RecordError` for bad UTF-8, NUL bytes or bad JSON."""
    position = raw.find(b"\x00")
    if position >= 0:
        raise RecordError(f"NUL byte at byte {position + 1}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(f"invalid UTF-8 at byte {exc.start + 1}") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordError(f"invalid JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(value, dict):
        raise RecordError("a record must be a JSON object")
    path = find_nul(value)
    if path is not None:
        raise RecordError(f"{path or 'record'}: contains a NUL character (\\u0000)")
    return value


def find_nul(value: Any, path: str = "") -> str | None:
    """The path of the first string (or key) holding a NUL character, or None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if "\x00" in key:
                return where
            found = find_nul(item, where)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = find_nul(item, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    return None


def flatten_errors(errors: Any, prefix: str = "") -> list[str]:
    """Marshmallow's nested error map as ``path: message`` strings."""
    if isinstance(errors, dict):
        out: list[str] = []
        for key, value in errors.items():
            out += flatten_errors(value, f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(errors, list) and all(isinstance(e, str) for e in errors):
        return [f"{prefix}: {e}" if prefix else e for e in errors]
    if isinstance(errors, list):
        return [m for e in errors for m in flatten_errors(e, prefix)]
    return [f"{prefix}: {errors}" if prefix else str(errors)]
