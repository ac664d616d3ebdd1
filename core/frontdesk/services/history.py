"""The append-only ticket history: every change becomes an ``Event`` row."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from enum import Enum
from typing import Any

from flask import g, has_request_context
from sqlalchemy import event as sa_event
from sqlalchemy import insert
from sqlalchemy.orm import Session

from frontdesk.db import session, utcnow
from frontdesk.models import Event, Ticket, User
from frontdesk.statements import execute


def current_source() -> str:
    """Where the change comes from: ``api``, ``web``, ``cli``, a channel name, or ``system``."""
    if has_request_context():
        return getattr(g, "frontdesk_source", "web")
    return getattr(g, "frontdesk_source", "system") if _has_g() else "system"


def _has_g() -> bool:
    from flask import has_app_context

    return has_app_context()


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, User):
        return value.id
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


_INSERT_EVENT = insert(Event.__table__)  # built once: reused, its compiled form is cached
_BATCH = "frontdesk.history_batch"


def record_event(
    ticket: Ticket | None,
    action: str,
    actor: User | None,
    field: str | None = None,
    old: Any = None,
    new: Any = None,
    source: str | None = None,
) -> dict[str, Any]:
    """Append one history row (inside the caller's transaction); returns the row's values.

    Rows are written with a plain INSERT, not as models: nothing reads them back while the
    transaction runs, and the ORM's bookkeeping per row cost more than the row itself. Inside
    :func:`history_batch` they are written together when the batch ends.
    """
    if ticket is not None and ticket.id is None:
        session.flush()  # a new ticket gets its id
    row = {
        "ticket_id": ticket.id if ticket is not None else None,
        "actor_id": actor.id if actor is not None else None,
        "action": action,
        "field": field,
        "old": _jsonable(old),
        "new": _jsonable(new),
        "source": source or current_source(),
        "created_at": utcnow(),
    }
    batch = session.info.get(_BATCH)
    if batch is not None:
        batch.append(row)
    else:
        execute(session.connection(), _INSERT_EVENT, row)
    return row


@contextlib.contextmanager
def history_batch() -> Iterator[None]:
    """Collect the history rows recorded in the block and write them in one statement at its end.

    For services that record several rows at once (opening a ticket): one INSERT instead of
    one per row. The rows are not in the database until the block ends; nested blocks join
    the outer one.
    """
    if session.info.get(_BATCH) is not None:
        yield
        return
    rows: list[dict[str, Any]] = []
    session.info[_BATCH] = rows
    try:
        yield
    finally:
        session.info.pop(_BATCH, None)
    if rows:
        session.connection().execute(_INSERT_EVENT, rows)  # executemany


def record_change(ticket: Ticket, field: str, old: Any, new: Any, actor: User | None) -> None:
    record_event(ticket, "changed", actor, field=field, old=old, new=new)


@sa_event.listens_for(Session, "before_flush")
def _history_is_append_only(sess: Session, _ctx: Any, _instances: Any) -> None:
    for obj in list(sess.dirty) + list(sess.deleted):
        if isinstance(obj, Event) and (obj in sess.deleted or sess.is_modified(obj)):
            raise RuntimeError("history events are append-only; write a redaction event instead")
