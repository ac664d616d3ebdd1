"""The signed-in caller of an API view (kept apart so light modules need not load flask-smorest)."""

from __future__ import annotations

from frontdesk.api.errors import ApiError
from frontdesk.auth import current_actor
from frontdesk.models import User


def actor() -> User:
    """The signed-in user of the current request (views run only after the access check)."""
    user = current_actor()
    if user is None:  # pragma: no cover - the access rule refuses anonymous callers first
        raise ApiError(401, "sign in or send an API token")
    return user
