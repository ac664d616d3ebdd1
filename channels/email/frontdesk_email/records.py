"""Inbound records read and written with one plain statement each.

Every message writes its record twice (pending, then its outcome) and looks for earlier records
of the same bytes and of the same Message-ID. Through the ORM's unit of work each write costs
several times the statement it sends; here each is one statement on the session's connection,
and the record object stays in the session exactly as if the ORM had written it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, bindparam, insert, inspect, select, update
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from frontdesk.db import read, session, utcnow, write

from .models import InboundRecord

_records = InboundRecord.__table__
_MAPPER = inspect(InboundRecord)
_INSERT = insert(_records)
_UPDATE = update(_records).where(_records.c.id == bindparam("record_id"))
# The first record of the same bytes (a re-delivery), anywhere or in one mailbox.
_SAME_BYTES = (
    select(_records.c.id)
    .where(_records.c.raw_sha256 == bindparam("digest"), _records.c.source != "reprocess")
    .order_by(_records.c.id)
    .limit(1)
)
_SAME_BYTES_IN_MAILBOX = _SAME_BYTES.where(_records.c.mailbox_id == bindparam("mailbox_id"))
# The first other record of the same Message-ID with a known body, in a mailbox or in none.
_SAME_MESSAGE_ID = (
    select(_records.c.id, _records.c.body_sha256)
    .where(
        _records.c.message_id == bindparam("message_id"),
        _records.c.id != bindparam("record_id"),
        _records.c.body_sha256.is_not(None),
    )
    .order_by(_records.c.id)
    .limit(1)
)
_SAME_MESSAGE_ID_IN_MAILBOX = _SAME_MESSAGE_ID.where(
    _records.c.mailbox_id == bindparam("mailbox_id")
)
_SAME_MESSAGE_ID_NO_MAILBOX = _SAME_MESSAGE_ID.where(_records.c.mailbox_id.is_(None))


def same_bytes(digest: str, mailbox_id: int | None) -> InboundRecord | None:
    """The first record of these bytes (not a re-processing), in ``mailbox_id`` when given."""
    if mailbox_id is None:
        found = read(_SAME_BYTES, digest=digest).scalar()
    else:
        found = read(_SAME_BYTES_IN_MAILBOX, digest=digest, mailbox_id=mailbox_id).scalar()
    return session.get(InboundRecord, found) if found is not None else None


def first_with_message_id(
    message_id: str, mailbox_id: int | None, other_than: int
) -> Row[Any] | None:
    """(id, body_sha256) of the first other record of ``message_id`` whose body is known."""
    query = _SAME_MESSAGE_ID_NO_MAILBOX if mailbox_id is None else _SAME_MESSAGE_ID_IN_MAILBOX
    return read(
        query, message_id=message_id, record_id=other_than, mailbox_id=mailbox_id
    ).first()


def insert_record(**values: Any) -> InboundRecord:
    """Write a new record now (columns not given take their defaults) and return it, loaded."""
    row = {
        "mailbox_id": None,
        "uidvalidity": None,
        "imap_uid": None,
        "message_id": None,
        "raw_sha256": None,
        "raw_size": 0,
        "body_sha256": None,
        "sender": None,
        "subject": None,
        "outcome": "pending",
        "reason": "",
        "flags": {},
        "ticket_id": None,
        "ticket_message_id": None,
        "received_at": utcnow(),
        "processed_at": None,
        **values,
    }
    row["id"] = write(_INSERT, **row).inserted_primary_key[0]
    # Built as a load builds it (straight into the instance's dict), not through the constructor,
    # which fires a change event per column only for make_transient_to_detached to forget them.
    record = _MAPPER.class_manager.new_instance()
    record.__dict__.update(row)
    make_transient_to_detached(record)  # every attribute now counts as loaded, nothing as changed
    state = inspect(record)
    state.manager.dispatch.load(state, None)  # as after a load: the JSON flags track changes
    # A record written in a savepoint that rolled back may still sit in the session under the
    # id the database just handed out again; the row it stood for is gone.
    stale = session.identity_map.get(identity_key(InboundRecord, row["id"]))
    if stale is not None:
        session.expunge(stale)
    session.add(record)
    return record


def update_record(record: InboundRecord, **values: Any) -> None:
    """Write ``values`` to the record's row now; the object shows them as loaded."""
    write(_UPDATE, record_id=record.id, **values)
    for key, value in values.items():
        set_committed_value(record, key, value)
