"""Helpers for tests: sign a test client in as a user."""

from __future__ import annotations

from typing import Any

from frontdesk.models import User


def login(client: Any, user: User) -> Any:
    """Mark ``client``'s session as signed in as ``user`` (as the sign-in page would)."""
    with client.session_transaction() as sess:
        sess["user_id"] = user.id
        sess["auth_epoch"] = (user.password_hash or "")[-16:]
    return client


def logout(client: Any) -> Any:
    with client.session_transaction() as sess:
        sess.clear()
    return client


def csrf_token(client: Any) -> str:
    """The CSRF token of ``client``'s session (created if missing), as a page form carries it."""
    import secrets

    with client.session_transaction() as sess:
        token = sess.get("csrf_token") or secrets.token_urlsafe(32)
        sess["csrf_token"] = token
    return token


def post_form(client: Any, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """POST a page form as a browser would: with the session's CSRF token."""
    payload = dict(data or {})
    payload.setdefault("csrf_token", csrf_token(client))
    return client.post(url, data=payload, **kwargs)
