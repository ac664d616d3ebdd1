"""Strict reading of JSON request bodies: size limits, UTF-8, duplicate keys, NUL characters.

The body is parsed once, before the view runs, and handed to webargs from a per-request cache;
a body that is not JSON, too large, not UTF-8, has a key twice or a NUL character anywhere is
refused with a problem response before any schema or service sees it.
"""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, request
from webargs.core import missing

from frontdesk.api.errors import ApiError

BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
ACCEPTS_ATTACHMENTS = "_frontdesk_accepts_attachments"
_CACHE_KEY = "json"


class _JsonObject(dict):
    """A decoded JSON object that remembers keys it saw more than once."""

    duplicates: tuple[str, ...] = ()


def _decode(text: str) -> tuple[Any, bool]:
    """The JSON value of ``text``, and whether an object in it repeats a key.

    Raises ``ValueError`` when ``text`` is not JSON.
    """
    repeats = False

    def object_pairs(pairs: list[tuple[str, Any]]) -> _JsonObject:
        nonlocal repeats
        obj = _JsonObject(pairs)
        if len(obj) != len(pairs):
            repeats = True
            obj.duplicates = _repeated_keys(pairs)
        return obj

    data = json.loads(text, object_pairs_hook=object_pairs, parse_constant=_refuse_constant)
    return data, repeats


def _repeated_keys(pairs: list[tuple[str, Any]]) -> tuple[str, ...]:
    """Each key of ``pairs`` seen before, once per repetition."""
    seen: set[str] = set()
    repeated = []
    for key, _value in pairs:
        if key in seen:
            repeated.append(key)
        seen.add(key)
    return tuple(repeated)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def accepts_attachments(view: Any) -> Any:
    """Mark a view whose body may carry base64 attachments beyond ``MAX_JSON_BYTES``."""
    setattr(view, ACCEPTS_ATTACHMENTS, True)
    return view


def request_json() -> Any:
    """The parsed body of the current request (webargs' ``missing`` when there is none)."""
    return request_cache().get(_CACHE_KEY, missing)


def request_cache() -> dict[str, Any]:
    """A dict that lives exactly as long as the current request.

    Not ``g``: an app context, and its ``g``, can outlive a request (tests push one around
    several requests).
    """
    environ = request.environ
    return environ.setdefault("frontdesk.api", {})


def _takes_attachments() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, ACCEPTS_ATTACHMENTS, False))


def _has_body() -> bool:
    return (
        bool(request.content_length)
        or "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    )


def load_body() -> None:
    """Parse and check the current request's JSON body for webargs (raises problems)."""
    if request.method not in BODY_METHODS or not _has_body():
        return
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise ApiError(
            415,
            f"send JSON (Content-Type: application/json), not {mimetype or 'no content type'}",
            kind="unsupported-media-type",
        )
    config = current_app.config
    json_limit = int(config["MAX_JSON_BYTES"])
    with_files = _takes_attachments()
    cap = config.get("MAX_CONTENT_LENGTH") if with_files else json_limit
    if cap and request.content_length and request.content_length > cap:
        raise _too_large(request.content_length, cap)
    raw = request.get_data(cache=True)
    if cap and len(raw) > cap:
        raise _too_large(len(raw), cap)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(
            400, f"the body is not valid UTF-8 (byte {exc.start})", kind="invalid-encoding"
        ) from None
    try:
        data, repeats = _decode(text)
    except ValueError as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc}", kind="invalid-json") from None
    # JSON holds a NUL only as this escape: a body without it and without repeated keys has
    # nothing to find, and is not walked.
    if repeats or "\\u0000" in text:
        problems = _inspect(data, "")
    else:
        problems = {"duplicates": [], "nul": []}
    if problems["duplicates"]:
        raise ApiError(
            400,
            "duplicate key(s) in the JSON body: " + ", ".join(problems["duplicates"]),
            {path: ["duplicate key"] for path in problems["duplicates"]},
            kind="duplicate-key",
        )
    if problems["nul"]:
        raise ApiError(
            422,
            "NUL characters are not accepted: " + ", ".join(problems["nul"]),
            {path: ["contains a NUL (\\u0000) character"] for path in problems["nul"]},
            kind="invalid-input",
        )
    if with_files:
        _check_attachment_sizes(data, len(raw), json_limit)
    request_cache()[_CACHE_KEY] = data


def _too_large(size: int, limit: int) -> ApiError:
    return ApiError(
        413, f"the body is {size} bytes; the limit is {limit} bytes", kind="payload-too-large"
    )


def _inspect(value: Any, path: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {"duplicates": [], "nul": []}
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, dict):
            for key in getattr(item, "duplicates", ()):
                found["duplicates"].append(_join(where, key))
            for key, child in item.items():
                if "\x00" in key:
                    found["nul"].append(_join(where, key.replace("\x00", "\\u0000")))
                stack.append((child, _join(where, key)))
        elif isinstance(item, list):
            stack.extend((child, _join(where, str(i))) for i, child in enumerate(item))
        elif isinstance(item, str) and "\x00" in item:
            found["nul"].append(where or "_body")
    found["duplicates"].sort()
    found["nul"].sort()
    return found


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _check_attachment_sizes(data: Any, body_size: int, json_limit: int) -> None:
    """Each attachment within MAX_ATTACHMENT_BYTES; the rest of the body within MAX_JSON_BYTES."""
    items = data.get("attachments") if isinstance(data, dict) else None
    if not isinstance(items, list):
        if body_size > json_limit:
            raise _too_large(body_size, json_limit)
        return
    limit = int(current_app.config["MAX_ATTACHMENT_BYTES"])
    encoded_total = 0
    for index, item in enumerate(items):
        content = item.get("content_base64") if isinstance(item, dict) else None
        if not isinstance(content, str):
            continue
        encoded_total += len(content)
        stripped = content.rstrip("=")
        decoded = len(stripped) * 3 // 4
        if decoded > limit:
            raise ApiError(
                413,
                f"attachment {index} is {decoded} bytes; the limit is {limit} bytes",
                {f"attachments.{index}.content_base64": [f"larger than {limit} bytes"]},
                kind="payload-too-large",
            )
    if body_size - encoded_total > json_limit:
        raise _too_large(body_size - encoded_total, json_limit)
