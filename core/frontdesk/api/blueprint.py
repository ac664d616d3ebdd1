"""The blueprint every API resource module uses: strict parsing, CSRF defence, problem errors."""

from __future__ import annotations

from typing import Any

import flask_smorest
from flask import Response, request
from webargs.flaskparser import FlaskParser

from frontdesk.api.actor import actor
from frontdesk.api.body import load_body, request_json
from frontdesk.api.errors import ApiError, register_blueprint_error_handlers

CSRF_HEADER = "X-Requested-With"
CSRF_VALUE = "frontdesk"
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class StrictParser(FlaskParser):
    """webargs parser reading the pre-checked body; unknown fields follow the schema (raise)."""

    DEFAULT_VALIDATION_STATUS = 422

    def _raw_load_json(self, req: Any) -> Any:
        return request_json()


def has_bearer_token() -> bool:
    return request.headers.get("Authorization", "")[:7].lower() == "bearer "


def check_csrf() -> None:
    """Refuse a write that relies on the session cookie but lacks the API's custom header."""
    # A browser only sends a custom header cross-origin after a CORS preflight we never grant,
    # so requiring it on cookie-authenticated writes stops cross-site request forgery.
    if (
        request.method in UNSAFE_METHODS
        and not has_bearer_token()
        and request.headers.get(CSRF_HEADER) != CSRF_VALUE
    ):
        raise ApiError(
            403,
            f"requests signed in with a session cookie must send the header "
            f"'{CSRF_HEADER}: {CSRF_VALUE}'",
            kind="csrf",
        )


def _preflight() -> None:
    check_csrf()
    bad = sorted({name for name, value in request.args.items(multi=True) if "\x00" in value})
    if bad:
        raise ApiError(
            422,
            "NUL characters are not accepted: " + ", ".join(bad),
            {name: ["contains a NUL (\\u0000) character"] for name in bad},
            kind="invalid-input",
        )
    load_body()


def _secure_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


class ApiBlueprint(flask_smorest.Blueprint):
    """A flask-smorest blueprint wired with the API's request checks and error handlers."""

    ARGUMENTS_PARSER = StrictParser(unknown=None)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.before_request(_preflight)
        self.after_request(_secure_headers)
        register_blueprint_error_handlers(self)


def etag_for(version: int) -> str:
    return f'"{version}"'


def parse_if_match(header: str | None) -> int | None:
    """The version named in an ``If-Match`` header; ``None`` when absent or ``*``.

    A value that names no version cannot match, so it is refused with 412 like a stale one.
    """
    if header is None or header.strip() == "*":
        return None
    value = header.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    if not value.isdigit():
        raise ApiError(
            412,
            f"If-Match must name a version such as '\"3\"', got {header!r}",
            {"If-Match": ["not a version"]},
            title="Precondition failed",
            kind="stale-version",
        )
    return int(value)
