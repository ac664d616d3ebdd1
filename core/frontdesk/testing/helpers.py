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
