"""Transaction helpers of the inbound pipeline: lookups made once per transaction.

A batch of piped mail shares one transaction per group of messages; each message runs in the
core's ``frontdesk.db.savepoint()``, so a message that fails is undone alone, with the events it
queued.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from frontdesk.db import session

T = TypeVar("T")
_MEMO = "frontdesk_email.per_transaction"


def per_transaction(name: str, load: Callable[[], T]) -> T:
    """``load()`` once per database transaction, then the same answer until it ends.

    For small configuration rows (our mailboxes' addresses) that every message of a batch asks
    about: within one transaction the answer cannot be older than the transaction itself.
    Outside a transaction nothing is kept.
    """
    current = session.get_transaction()
    if current is None:
        return load()
    memo: dict[str, tuple[Any, Any]] = session.info.setdefault(_MEMO, {})
    kept = memo.get(name)
    if kept is not None and kept[0] is current:
        return kept[1]
    value = load()
    memo[name] = (current, value)
    return value
