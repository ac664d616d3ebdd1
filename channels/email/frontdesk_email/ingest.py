"""The inbound pipeline shared by the IMAP poller and the MTA pipe: raw bytes in, one outcome out.

Order matters for crash safety. The raw bytes go to content-addressed storage first, then an
``InboundRecord`` row (outcome ``pending``) is committed; the ticket change and the record's
outcome are committed together afterwards. A run killed anywhere leaves either nothing, or a
pending record that the next run (same bytes, same mailbox, or same IMAP UID) picks up and
finishes, or a finished record that the next run returns unchanged.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app, g
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from frontdesk.channels.base import InboundOutcome
from frontdesk.db import session, transaction, utcnow
from frontdesk.services import (
    ServiceError,
    find_user_by_email,
    read_blob,
    receive_inbound,
    write_blob,
)

from .models import InboundRecord, Mailbox
from .parsing import Limits, MailRejected, ParsedMail, parse_mail
from .schemas import inbound_settings

log = logging.getLogger(__name__)
TRANSIENT = (OperationalError, InterfaceError, PoolTimeout, OSError)


class TemporaryFailure(Exception):
    """The database or the blob store is unavailable; the message was not (fully) recorded.

    The caller should keep the message and try again later (an MTA gets EX_TEMPFAIL; the poller
    leaves the message unflagged).
    """


def ingest_raw(
    raw: bytes,
    *,
    mailbox: Mailbox | None,
    source: str,
    uidvalidity: int | None = None,
    imap_uid: int | None = None,
) -> InboundRecord:
    """Record ``raw`` and process it once; return its record (an earlier one if seen before).

    Problems with the message itself end in a recorded ``rejected`` outcome; only an unavailable
    database or blob store raises (:class:`TemporaryFailure`).
    """
    digest = hashlib.sha256(raw).hexdigest()
    with _source("email"):
        try:
            write_blob(raw)
            record = _claim(digest, len(raw), mailbox, source, uidvalidity, imap_uid)
            if record.outcome == "pending":
                process(record, raw)
            return record
        except TRANSIENT as exc:
            _rollback_quietly()
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}".splitlines()[0]) from exc


def reprocess(record: InboundRecord) -> InboundRecord:
    """Run a stored message through the pipeline again; the new outcome gets its own record."""
    if not record.raw_sha256:
        raise ServiceError(f"inbound message #{record.id} has no stored raw bytes")
    try:
        raw = read_blob(record.raw_sha256)
    except FileNotFoundError:
        raise ServiceError(f"the raw bytes of inbound message #{record.id} are missing") from None
    with _source("email"):
        try:
            with transaction():
                fresh = InboundRecord(
                    mailbox_id=record.mailbox_id,
                    source="reprocess",
                    raw_sha256=record.raw_sha256,
                    raw_size=record.raw_size,
                    outcome="pending",
                    flags={"reprocess_of": record.id},
                )
                session.add(fresh)
                session.flush()
                flags = dict(record.flags or {})
                flags["reprocessed_as"] = [*flags.get("reprocessed_as", []), fresh.id]
                record.flags = flags
            process(fresh, raw, reprocessing=True)
            return fresh
        except TRANSIENT as exc:
            _rollback_quietly()
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}".splitlines()[0]) from exc


def _claim(
    digest: str,
    size: int,
    mailbox: Mailbox | None,
    source: str,
    uidvalidity: int | None,
    imap_uid: int | None,
) -> InboundRecord:
    """The record of this delivery: an existing one (same UID, or same bytes) or a new one."""
    mailbox_id = mailbox.id if mailbox is not None else None
    for attempt in range(2):
        existing = _existing(digest, mailbox_id, uidvalidity, imap_uid)
        if existing is not None:
            return existing
        try:
            with transaction():
                record = InboundRecord(
                    mailbox_id=mailbox_id,
                    source=source,
                    uidvalidity=uidvalidity,
                    imap_uid=imap_uid,
                    raw_sha256=digest,
                    raw_size=size,
                    outcome="pending",
                    flags={},
                )
                session.add(record)
            return record
        except IntegrityError:
            if attempt:
                raise
            # a concurrent run recorded the same IMAP UID first: use its record
    raise AssertionError("unreachable")


def _existing(
    digest: str, mailbox_id: int | None, uidvalidity: int | None, imap_uid: int | None
) -> InboundRecord | None:
    if imap_uid is not None:
        return session.scalar(
            select(InboundRecord).where(
                InboundRecord.mailbox_id == mailbox_id,
                InboundRecord.uidvalidity == uidvalidity,
                InboundRecord.imap_uid == imap_uid,
            )
        )
    query = select(InboundRecord).where(
        InboundRecord.raw_sha256 == digest, InboundRecord.source != "reprocess"
    )
    if mailbox_id is not None:
        query = query.where(InboundRecord.mailbox_id == mailbox_id)
    return session.scalar(query.order_by(InboundRecord.id).limit(1))


def process(record: InboundRecord, raw: bytes, *, reprocessing: bool = False) -> None:
    """Parse and hand over one recorded message; always leaves the record with an outcome."""
    settings = inbound_settings()
    limits = Limits(
        max_parts=settings["MAX_MIME_PARTS"],
        max_depth=settings["MAX_MIME_DEPTH"],
        max_body_chars=current_app.config["MAX_BODY_LENGTH"],
    )
    try:
        if len(raw) > settings["MAX_MESSAGE_BYTES"]:
            raise MailRejected(
                f"the message is {len(raw)} bytes; the limit is {settings['MAX_MESSAGE_BYTES']}"
            )
        parsed = parse_mail(raw, limits)
    except MailRejected as exc:
        _finish_alone(record, "rejected", str(exc))
        return
    except Exception as exc:  # a parser bug must cost one message, never the batch
        log.exception("inbound message #%s could not be parsed", record.id)
        _finish_alone(record, "rejected", f"could not parse the message: {_brief(exc)}")
        return
    try:
        with transaction():
            # Another run may be finishing the same record: the row lock (PostgreSQL) or the
            # write lock (SQLite) orders us after it, and then there is nothing left to do.
            session.refresh(record, with_for_update=True)
            if record.outcome != "pending":
                return
            flags = _prepare(record, parsed, reprocessing)
            outcome = receive_inbound(parsed.message)
            _finish(record, parsed, outcome, flags)
    except TRANSIENT:
        raise
    except Exception as exc:
        _rollback_quietly()
        log.exception("inbound message #%s failed", record.id)
        _finish_alone(record, "rejected", f"internal error: {_brief(exc)}", parsed)


def _prepare(record: InboundRecord, parsed: ParsedMail, reprocessing: bool) -> dict[str, Any]:
    """Fill in the message's mailbox facts; flag a Message-ID reused for a different body."""
    message = parsed.message
    message.meta["inbound_id"] = record.id
    if reprocessing:
        message.meta["reprocess"] = True
    flags: dict[str, Any] = {}
    if parsed.notes:
        flags["notes"] = parsed.notes
    if parsed.message_id_derived:
        flags["derived_message_id"] = True
    mailbox = session.get(Mailbox, record.mailbox_id) if record.mailbox_id else None
    if mailbox is None and parsed.recipients:
        mailbox = session.scalar(
            select(Mailbox).where(func.lower(Mailbox.from_address).in_(parsed.recipients))
        )
    if mailbox is not None:
        record.mailbox_id = mailbox.id
        if mailbox.default_queue is not None:
            message.queue_key = mailbox.default_queue.key
        if mailbox.default_language and not _known_language(message.sender_email):
            message.language = mailbox.default_language
    first = session.scalar(
        select(InboundRecord)
        .where(
            InboundRecord.message_id == parsed.message_id,
            InboundRecord.mailbox_id == record.mailbox_id
            if record.mailbox_id is not None
            else InboundRecord.mailbox_id.is_(None),
            InboundRecord.id != record.id,
            InboundRecord.body_sha256.is_not(None),
        )
        .order_by(InboundRecord.id)
        .limit(1)
    )
    if first is not None and first.body_sha256 != parsed.body_sha256:
        # Same Message-ID, different content: keep it (the core would call it a duplicate under
        # the plain id) and say so; the suffix is stable, so a re-delivery of it still dedupes.
        message.external_id = f"{parsed.message_id}#{parsed.body_sha256[:16]}"
        flags["message_id_reused"] = (
            f"Message-ID {parsed.message_id} was first received as inbound #{first.id} with a "
            "different body; kept as a separate message"
        )
    return flags


def _known_language(email: str | None) -> bool:
    try:
        user = find_user_by_email(email) if email else None
    except ServiceError:
        return False
    return bool(user and user.language)


def _finish(
    record: InboundRecord, parsed: ParsedMail, outcome: InboundOutcome, flags: dict[str, Any]
) -> None:
    _describe_mail(record, parsed)
    ticket = outcome.ticket
    reason = outcome.reason
    if outcome.action == "duplicate" and ticket is not None:
        reason = f"same Message-ID as a message already on {ticket.number}"
    elif outcome.action == "created" and not reason:
        reason = "new ticket"
    record.outcome = outcome.action
    record.reason = reason[:4000]
    bounced = parsed.message.meta.get("bounce_ticket_id")  # a bounce names the ticket it is about
    record.ticket_id = ticket.id if ticket is not None else bounced
    record.ticket_message_id = outcome.message.id if outcome.message is not None else None
    record.flags = {**(record.flags or {}), **flags}
    record.processed_at = utcnow()


def _describe_mail(record: InboundRecord, parsed: ParsedMail) -> None:
    message = parsed.message
    record.message_id = parsed.message_id[:998]
    record.body_sha256 = parsed.body_sha256
    record.sender = (message.sender_email or "")[:320] or None
    record.subject = message.subject


def _finish_alone(
    record: InboundRecord, outcome: str, reason: str, parsed: ParsedMail | None = None
) -> None:
    """Record an outcome reached without the core (rejections before or after a failure)."""
    with transaction():
        record = session.get(InboundRecord, record.id)
        if parsed is not None:
            _describe_mail(record, parsed)
        record.outcome = outcome
        record.reason = reason[:4000]
        record.processed_at = utcnow()


def _brief(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:500]


def _rollback_quietly() -> None:
    try:
        session.rollback()
    except SQLAlchemyError:  # the connection is already gone; nothing to undo
        pass


@contextmanager
def _source(name: str) -> Iterator[None]:
    """Mark history written meanwhile as coming from this channel."""
    before = g.get("frontdesk_source")
    g.frontdesk_source = name
    try:
        yield
    finally:
        if before is None:
            g.pop("frontdesk_source", None)
        else:
            g.frontdesk_source = before


def raw_message(record: InboundRecord) -> bytes | None:
    """The bytes of ``record`` exactly as received, or ``None`` once they are gone."""
    if not record.raw_sha256:
        return None
    try:
        return read_blob(record.raw_sha256)
    except FileNotFoundError:
        return None
