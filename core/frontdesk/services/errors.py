"""Errors services raise; the API turns each into a problem+json response, the CLI into a message."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """Base of every refusal a service makes; ``status`` is the HTTP status it maps to."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}


class ValidationFailed(ServiceError):
    """Input is wrong; ``errors`` maps each field to its messages."""

    status = 422
    title = "Validation failed"


class TransitionRefused(ServiceError):
    """A plugin refused a status transition; ``reasons`` says why."""

    status = 409
    title = "Status transition refused"

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons), {"status": list(reasons)})
        self.reasons = list(reasons)


class StaleVersion(ServiceError):
    """The ticket changed since the caller read it."""

    status = 412
    title = "Precondition failed"


class PermissionDenied(ServiceError):
    status = 403
    title = "Forbidden"


class NotFound(ServiceError):
    status = 404
    title = "Not found"


class Conflict(ServiceError):
    status = 409
    title = "Conflict"


class TooLarge(ServiceError):
    status = 413
    title = "Payload too large"
