"""The email plugin's API blueprint (``/api/v1/email``): problem+json errors, CSRF defence.

It follows the core API's rules: errors are ``application/problem+json`` with a field-level
``errors`` map, unknown fields are refused, and writes signed in with a session cookie must send
``X-Requested-With: frontdesk``.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import marshmallow as ma
from flask import Blueprint, Response, current_app, json, request

from frontdesk.services import ServiceError, ValidationFailed

blp = Blueprint("email", __name__, url_prefix="/api/v1/email")
PROBLEM = "application/problem+json"


def problem(status: int, detail: str, errors: dict[str, list[str]] | None = None) -> Response:
    """An ``application/problem+json`` response like the core API's."""
    body = {
        "type": "about:blank",
        "title": _title(status),
        "status": status,
        "detail": detail,
        "errors": errors or {},
    }
    return current_app.response_class(json.dumps(body), status=status, mimetype=PROBLEM)


def _title(status: int) -> str:
    return HTTPStatus(status).phrase


@blp.before_request
def _refuse_cross_site_writes() -> Response | None:
    # Same rule as the core API: cookie-authenticated writes must carry a header browsers only
    # send cross-site after a CORS preflight that is never granted.
    bearer = request.headers.get("Authorization", "")[:7].lower() == "bearer "
    unsafe = request.method in ("POST", "PUT", "PATCH", "DELETE")
    if unsafe and not bearer and request.headers.get("X-Requested-With") != "frontdesk":
        return problem(
            403,
            "requests signed in with a session cookie must send the header "
            "'X-Requested-With: frontdesk'",
        )
    return None


@blp.errorhandler(ma.ValidationError)
def _invalid(exc: ma.ValidationError) -> Response:
    errors = _flatten(exc.normalized_messages())
    unknown = sorted(k for k, v in errors.items() if "Unknown field." in v)
    detail = (
        ("unknown field(s): " + ", ".join(unknown))
        if unknown
        else "invalid input: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in sorted(errors.items()))
    )
    return problem(422, detail, errors)


@blp.errorhandler(ServiceError)
def _refused(exc: ServiceError) -> Response:
    return problem(exc.status, exc.detail, exc.errors)


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = prefix.rstrip(".") or "_body" if key == "_schema" else f"{prefix}{key}"
            out.update(
                _flatten(value, f"{name}.")
                if isinstance(value, dict)
                else {name: [str(m) for m in (value if isinstance(value, list) else [value])]}
            )
    return out


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 422 problem."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationFailed("the body must be a JSON object", {"_body": ["not a JSON object"]})
    return data
