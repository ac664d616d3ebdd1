"""References inside history values: database ids on the inside, portable keys in a dump.

History events store some users and messages by id (who was assigned, which message was added).
Ids mean nothing in another database, so a dump writes ``{"$user": email}`` and
``{"$message": key}`` in their place and the importer turns them back into ids. Only the
places the core is known to write ids are translated; everything else is copied verbatim.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from frontdesk.transfer.format import RecordError

USER_FIELDS = ("assignee", "customer", "watchers")
UserEmail = Callable[[int], str | None]
MessageKey = Callable[[int], str | None]


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _user(value: Any, email_of: UserEmail) -> Any:
    if _is_id(value):
        email = email_of(value)
        return {"$user": email} if email is not None else None
    if isinstance(value, dict) and _is_id(value.get("id")):
        email = email_of(value["id"])
        return {**value, "id": {"$user": email} if email is not None else None}
    return value


def _message(value: Any, key_of: MessageKey) -> Any:
    if _is_id(value):
        key = key_of(value)
        return {"$message": key} if key is not None else None
    return value


def encode_value(
    action: str, field: str | None, value: Any, email_of: UserEmail, key_of: MessageKey
) -> Any:
    """An event's ``old`` or ``new`` with the ids the core writes replaced by portable refs."""
    if field in USER_FIELDS:
        value = _user(value, email_of)
    if isinstance(value, dict):
        if "message_id" in value:
            value = {**value, "message_id": _message(value["message_id"], key_of)}
        if action == "split" and isinstance(value.get("messages"), list):
            value = {**value, "messages": [_message(v, key_of) for v in value["messages"]]}
    return value


def decode_value(
    value: Any,
    user_id: Callable[[str], int | None],
    message_id: Callable[[str], int | None],
    where: str,
) -> Any:
    """Turn portable refs back into ids.

    An unknown user is an error (users come before tickets in a dump); a message that is not
    (yet) in the database keeps its portable ref, which exports unchanged.
    """
    if isinstance(value, dict):
        if set(value) == {"$user"}:
            email = value["$user"]
            if not isinstance(email, str):
                raise RecordError(f"{where}: $user must be an email address")
            found = user_id(email)
            if found is None:
                raise RecordError(f"{where}: unknown user {email!r}")
            return found
        if set(value) == {"$message"}:
            key = value["$message"]
            if not isinstance(key, str):
                raise RecordError(f"{where}: $message must be a message key")
            found = message_id(key)
            return found if found is not None else value
        return {k: decode_value(v, user_id, message_id, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [decode_value(v, user_id, message_id, f"{where}.{i}") for i, v in enumerate(value)]
    return value
