"""The form's own token: signed, time-limited, carrying the id of the delivery it will make.

An embedded form runs in a third-party page, where the browser does not send our session cookie
(SameSite=Lax), so the session's CSRF token cannot protect it; this token replaces it there and
accompanies the portal's form too. Its random ``delivery_id`` makes a form sent twice (a double
click, a reload) count once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from .schemas import settings

SALT = "frontdesk.webform.form"


@dataclass(frozen=True)
class FormToken:
    """What a valid token says: its delivery id and whether it was issued for the embed page."""

    delivery_id: str
    embedded: bool


class TokenProblem(Exception):
    """The token is missing, forged, issued for the other page, or too old (``expired``)."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)


def issue_form_token(*, embedded: bool) -> str:
    return _serializer().dumps({"d": secrets.token_hex(16), "e": embedded})


def read_form_token(token: str | None, *, embedded: bool) -> FormToken:
    """The content of ``token`` if it is genuine, recent and made for this page; else raise."""
    if not token:
        raise TokenProblem()
    max_age = settings()["form_token_hours"] * 3600
    try:
        data = _serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise TokenProblem(expired=True) from None
    except BadSignature:
        raise TokenProblem() from None
    if (
        not isinstance(data, dict)
        or data.get("e") is not embedded
        or not isinstance(data.get("d"), str)
    ):
        raise TokenProblem()
    return FormToken(delivery_id=data["d"], embedded=embedded)
