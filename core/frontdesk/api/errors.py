"""Errors as ``application/problem+json`` (RFC 9457) with a field-level ``errors`` map."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from flask import Flask, Response, current_app, json, request
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from frontdesk.services import ServiceError

log = logging.getLogger(__name__)

PROBLEM_MIMETYPE = "application/problem+json"
API_PREFIX = "/api/"
# webargs nests messages under the location they were read from; callers only know field names.
_LOCATIONS = ("json", "query", "querystring", "view_args", "path", "headers", "form", "files")


class ProblemSchema(ma.Schema):
    """The body of every error response."""

    type = ma.fields.String(metadata={"description": "URI naming the kind of problem"})
    title = ma.fields.String(metadata={"description": "Short summary of the kind of problem"})
    status = ma.fields.Integer(metadata={"description": "HTTP status code"})
    detail = ma.fields.String(metadata={"description": "What went wrong with this request"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Messages per field (dotted paths for nested fields)"},
    )


class ApiError(HTTPException):
    """An error raised by API code, carrying the problem fields."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: Mapping[str, list[str]] | None = None,
        *,
        title: str | None = None,
        kind: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(description=detail)
        self.code = status
        self.detail = detail
        self.errors = dict(errors or {})
        self.title = title
        self.kind = kind
        self.extra_headers = dict(headers or {})


def is_api_request() -> bool:
    """Whether the current request is for the JSON API (and so gets problem+json errors)."""
    return request.path.startswith(API_PREFIX)


def problem(
    status: int,
    detail: str,
    errors: Mapping[str, Any] | None = None,
    *,
    title: str | None = None,
    kind: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Build a problem+json response."""
    from http import HTTPStatus

    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    body = {
        "type": f"urn:frontdesk:problem:{kind}" if kind else "about:blank",
        "title": title or phrase,
        "status": status,
        "detail": detail,
        "errors": {k: [str(m) for m in v] for k, v in flatten_messages(errors or {}).items()},
    }
    response = current_app.response_class(
        json.dumps(body), status=status, mimetype=PROBLEM_MIMETYPE
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn nested marshmallow/webargs messages into ``{"a.b.0.c": [messages]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            if not prefix and key in _LOCATIONS and isinstance(value, Mapping):
                out.update(flatten_messages(value, ""))
                continue
            name = str(key) if key != "_schema" else (prefix.rstrip(".") or "_body")
            path = f"{prefix}{name}" if key != "_schema" else name
            if isinstance(value, Mapping):
                out.update(flatten_messages(value, f"{path}."))
            else:
                out.setdefault(path, []).extend(_as_list(value))
    else:
        out.setdefault(prefix.rstrip(".") or "_body", []).extend(_as_list(messages))
    return out


def _as_list(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        result: list[str] = []
        for item in value:
            result.extend(_as_list(item) if isinstance(item, (list, tuple)) else [str(item)])
        return result
    return [str(value)]


def _describe(errors: dict[str, list[str]]) -> str:
    parts = [f"{field}: {' '.join(msgs)}" for field, msgs in sorted(errors.items())]
    text = "; ".join(parts)
    return text if len(text) < 500 else text[:497] + "..."


def http_exception_response(error: HTTPException) -> Response:
    """A problem response for any HTTP exception (abort, routing errors, webargs)."""
    status = error.code or 500
    headers = {
        k: v for k, v in error.get_headers() if k.lower() not in ("content-type", "content-length")
    }
    if isinstance(error, ApiError):
        headers.update(error.extra_headers)
        return problem(
            status,
            error.detail,
            error.errors,
            title=error.title,
            kind=error.kind,
            headers=headers,
        )
    data = getattr(error, "data", None) or {}
    headers.update(data.get("headers") or {})
    messages = data.get("errors") or data.get("messages")
    if messages:
        errors = flatten_messages(messages)
        unknown = sorted(f for f, msgs in errors.items() if "Unknown field." in msgs)
        if unknown:
            detail = "unknown field(s): " + ", ".join(unknown)
        else:
            detail = "invalid input: " + _describe(errors)
        return problem(status, detail, errors, kind="invalid-input", headers=headers)
    detail = error.description or ""
    if detail == type(error).description:  # werkzeug's generic wording: say it for this API
        detail = _PLAIN_DETAILS.get(status, detail)
    return problem(status, str(detail), headers=headers)


_PLAIN_DETAILS = {
    401: "sign in (POST /api/v1/session) or send an API token (Authorization: Bearer fdt_...)",
    403: "you are not allowed to do this",
    404: "there is nothing at this address",
    405: "this address does not accept this method; see the Allow header",
    413: "the request body is too large",
    500: "the server could not complete the request",
}


def service_error_response(error: ServiceError) -> Response:
    kind = re.sub(r"(?<!^)(?=[A-Z])", "-", type(error).__name__).lower()
    return problem(error.status, error.detail, error.errors, title=error.title, kind=kind)


def _stale_data_response(_error: StaleDataError) -> Response:
    return problem(
        412,
        "the ticket was changed by someone else meanwhile; reload it and try again",
        title="Precondition failed",
        kind="stale-version",
    )


def _integrity_error_response(error: IntegrityError) -> Response:
    log.info("API write refused by a database constraint: %s", error.orig)
    return problem(409, "the change conflicts with existing data", kind="conflict")


def _data_error_response(error: DataError) -> Response:
    log.info("API write refused by the database: %s", error.orig)
    return problem(
        422, "a value is too long or of the wrong type for its field", kind="invalid-input"
    )


def register_app_error_handler(app: Flask) -> None:
    """Answer HTTP errors on /api/ paths (404, 405, 401, ...) with problem+json, app-wide.

    Routing errors (no route, wrong method) belong to no blueprint, so this handler lives on the
    app; it leaves every other path to Flask's default rendering.
    """

    def handle_http_exception(error: HTTPException) -> Any:
        if not is_api_request():
            return error
        return http_exception_response(error)

    app.register_error_handler(HTTPException, handle_http_exception)


def register_blueprint_error_handlers(blp: Any) -> None:
    """Service refusals and database conflicts raised inside API views become problems."""
    blp.register_error_handler(ServiceError, service_error_response)
    blp.register_error_handler(StaleDataError, _stale_data_response)
    blp.register_error_handler(IntegrityError, _integrity_error_response)
    blp.register_error_handler(DataError, _data_error_response)
