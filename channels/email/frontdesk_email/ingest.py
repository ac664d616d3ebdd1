"""The inbound pipeline shared by the IMAP poller and the MTA pipe: raw bytes in, one outcome out.

Order matters for crash safety. The raw bytes go to content-addressed storage first, then an
``InboundRecord`` row (outcome ``pending``) is committed; the ticket change and the record's
outcome are committed together afterwards. A run killed anywhere leaves either nothing, or a
pending record that the next run (same bytes, same mailbox, or same IMAP UID) picks up and
finishes, or a finished record that the next run returns unchanged.

Called inside a transaction of its caller (a batch of piped mail, see :mod:`.batch`), the record
and its outcome join that transaction instead: they become durable together when the caller
commits, and a crash before then leaves nothing of them.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from flask import current_app, g
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from frontdesk.channels.base import InboundOutcome
from frontdesk.db import in_transaction, savepoint, session, transaction, utcnow
from frontdesk.models import Ticket
from frontdesk.services import (
    ServiceError,
    find_user_by_email,
    read_blob,
    receive_inbound,
    write_blob,
)

from .models import InboundRecord, Mailbox
from .notifications import acknowledge_opened
from .parsing import Limits, MailRejected, ParsedMail, parse_mail
from .records import first_with_message_id, insert_record, same_bytes, update_record
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
    with _temporary_failures():
        digest = write_blob(raw)
        return _ingest(
            digest, len(raw), lambda: read_mail(raw), mailbox, source, uidvalidity, imap_uid
        )


@dataclass
class Ready:
    """A message stored and read before its transaction begins (see :func:`store_and_read`)."""

    digest: str  # of the raw bytes, stored durably under it
    size: int
    reading: ParsedMail | Refused


def store_and_read(raw: bytes) -> Ready:
    """The part of taking in ``raw`` that needs no database: store its bytes, parse them.

    Raises ``OSError`` when the blob store fails (a temporary failure of the whole run).
    """
    return Ready(write_blob(raw), len(raw), read_mail(raw))


def ingest_ready(ready: Ready, *, mailbox: Mailbox | None, source: str) -> InboundRecord:
    """:func:`ingest_raw` for a message already stored and read (a piped batch reads ahead)."""
    with _temporary_failures():
        return _ingest(ready.digest, ready.size, lambda: ready.reading, mailbox, source, None, None)


def _ingest(
    digest: str,
    size: int,
    reading: Callable[[], ParsedMail | Refused],
    mailbox: Mailbox | None,
    source: str,
    uidvalidity: int | None,
    imap_uid: int | None,
) -> InboundRecord:
    record, claimed_here = _claim(digest, size, mailbox, source, uidvalidity, imap_uid)
    if record.outcome == "pending":  # only then is the message read (re-deliveries are not)
        process(record, reading(), claimed_here=claimed_here)
    return record


@contextmanager
def _temporary_failures() -> Iterator[None]:
    """Turn an unavailable database or blob store into :class:`TemporaryFailure`."""
    with history_source("email"):
        try:
            yield
        except TRANSIENT as exc:
            if not in_transaction():  # else the caller's transaction is the caller's to end
                _rollback_quietly()
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}".splitlines()[0]) from exc


@dataclass(frozen=True)
class Refused:
    """Why a message cannot be taken in at all; it is recorded as rejected with this reason."""

    reason: str
    trace: str | None = None  # the traceback of a parser bug, logged against the record


def read_mail(raw: bytes) -> ParsedMail | Refused:
    """Parse ``raw`` within the configured limits; whatever is wrong with it, never raises."""
    settings = inbound_settings()
    if len(raw) > settings["MAX_MESSAGE_BYTES"]:
        return Refused(
            f"the message is {len(raw)} bytes; the limit is {settings['MAX_MESSAGE_BYTES']}"
        )
    limits = Limits(
        max_parts=settings["MAX_MIME_PARTS"],
        max_depth=settings["MAX_MIME_DEPTH"],
        max_body_chars=current_app.config["MAX_BODY_LENGTH"],
    )
    try:
        return parse_mail(raw, limits)
    except MailRejected as exc:
        return Refused(str(exc))
    except Exception as exc:  # a parser bug must cost one message, never the batch
        return Refused(f"could not parse the message: {_brief(exc)}", traceback.format_exc())


def reprocess(record: InboundRecord) -> InboundRecord:
    """Run a stored message through the pipeline again; the new outcome gets its own record."""
    if not record.raw_sha256:
        raise ServiceError(f"inbound message #{record.id} has no stored raw bytes")
    try:
        raw = read_blob(record.raw_sha256)
    except FileNotFoundError:
        raise ServiceError(f"the raw bytes of inbound message #{record.id} are missing") from None
    with history_source("email"):
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
            process(fresh, read_mail(raw), reprocessing=True)
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
) -> tuple[InboundRecord, bool]:
    """The record of this delivery: an existing one (same UID, or same bytes) or a new one.

    The flag says whether the record is new and not yet committed: then no other run can see
    it, let alone be finishing it.
    """
    mailbox_id = mailbox.id if mailbox is not None else None
    nested = in_transaction()
    for attempt in range(2):
        existing = _existing(digest, mailbox_id, uidvalidity, imap_uid)
        if existing is not None:
            return existing, False
        # Only an IMAP UID can collide; inside the caller's transaction a collision must not
        # spoil the rest of it.
        guard = savepoint() if nested and imap_uid is not None else nullcontext()
        try:
            with transaction(), guard:
                record = insert_record(
                    mailbox_id=mailbox_id,
                    source=source,
                    uidvalidity=uidvalidity,
                    imap_uid=imap_uid,
                    raw_sha256=digest,
                    raw_size=size,
                )
            return record, nested
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
    return same_bytes(digest, mailbox_id)


def process(
    record: InboundRecord,
    reading: ParsedMail | Refused,
    *,
    reprocessing: bool = False,
    claimed_here: bool = False,
) -> None:
    """Hand over one recorded message (as :func:`read_mail` read it); always leaves the record
    with an outcome.

    ``claimed_here``: the record was created in the current, uncommitted transaction.
    """
    if isinstance(reading, Refused):
        if reading.trace:
            log.error("inbound message #%s could not be parsed\n%s", record.id, reading.trace)
        _finish_alone(record, "rejected", reading.reason)
        return
    parsed = reading
    with transaction():
        if not claimed_here:
            # Another run may be finishing the same record: the row lock (PostgreSQL) or the
            # write lock (SQLite) orders us after it, and then there is nothing left to do.
            session.refresh(record, with_for_update=True)
            if record.outcome != "pending":
                return
        try:
            with savepoint():  # a failure undoes the ticket change only, not the record
                flags, mailbox_id = _prepare(record, parsed, reprocessing)
                outcome = receive_inbound(parsed.message)
                _finish(record, parsed, outcome, flags, mailbox_id)
        except TRANSIENT:
            raise
        except Exception as exc:
            log.exception("inbound message #%s failed", record.id)
            session.refresh(record)  # as the database has it again
            _finish_alone(record, "rejected", f"internal error: {_brief(exc)}", parsed)
            return
        if outcome.action == "created":
            _acknowledge(outcome.ticket, session.get(Mailbox, mailbox_id) if mailbox_id else None)


def _acknowledge(ticket: Ticket, mailbox: Mailbox | None) -> None:
    """Queue the acknowledgement together with the new ticket, in the same transaction.

    A failure here costs the acknowledgement, never the message: the ``ticket_created`` hook
    tries again after the commit.
    """
    try:
        with savepoint():
            acknowledge_opened(ticket, mailbox)
    except TRANSIENT:
        raise
    except Exception:
        log.exception("ticket %s: the acknowledgement could not be queued", ticket.number)


def _prepare(
    record: InboundRecord, parsed: ParsedMail, reprocessing: bool
) -> tuple[dict[str, Any], int | None]:
    """Fill in the message's mailbox facts; flag a Message-ID reused for a different body.

    Returns the flags to record and the mailbox the message came to.
    """
    message = parsed.message
    message.meta["inbound_id"] = record.id
    if reprocessing:
        message.meta["reprocess"] = True
    flags: dict[str, Any] = {}
    if parsed.notes:
        flags["notes"] = parsed.notes
    if parsed.message_id_derived:
        flags["derived_message_id"] = True
    mailbox_id = record.mailbox_id
    mailbox = session.get(Mailbox, mailbox_id) if mailbox_id else None
    if mailbox is None and parsed.recipients:
        mailbox = session.scalar(
            select(Mailbox).where(func.lower(Mailbox.from_address).in_(parsed.recipients))
        )
    if mailbox is not None:
        mailbox_id = mailbox.id
        if mailbox.default_queue is not None:
            message.queue_key = mailbox.default_queue.key
        if mailbox.default_language and not _known_language(message.sender_email):
            message.language = mailbox.default_language
    first = first_with_message_id(parsed.message_id, mailbox_id, other_than=record.id)
    if first is not None and first.body_sha256 != parsed.body_sha256:
        # Same Message-ID, different content: keep it (the core would call it a duplicate under
        # the plain id) and say so; the suffix is stable, so a re-delivery of it still dedupes.
        message.external_id = f"{parsed.message_id}#{parsed.body_sha256[:16]}"
        flags["message_id_reused"] = (
            f"Message-ID {parsed.message_id} was first received as inbound #{first.id} with a "
            "different body; kept as a separate message"
        )
    return flags, mailbox_id


def _known_language(email: str | None) -> bool:
    try:
        user = find_user_by_email(email) if email else None
    except ServiceError:
        return False
    return bool(user and user.language)


def _finish(
    record: InboundRecord,
    parsed: ParsedMail,
    outcome: InboundOutcome,
    flags: dict[str, Any],
    mailbox_id: int | None,
) -> None:
    ticket = outcome.ticket
    reason = outcome.reason
    if outcome.action == "duplicate" and ticket is not None:
        reason = f"same Message-ID as a message already on {ticket.number}"
    elif outcome.action == "created" and not reason:
        reason = "new ticket"
    bounced = parsed.message.meta.get("bounce_ticket_id")  # a bounce names the ticket it is about
    update_record(
        record,
        **_description(parsed),
        mailbox_id=mailbox_id,
        outcome=outcome.action,
        reason=reason[:4000],
        ticket_id=ticket.id if ticket is not None else bounced,
        ticket_message_id=outcome.message.id if outcome.message is not None else None,
        flags={**(record.flags or {}), **flags},
        processed_at=utcnow(),
    )


def _description(parsed: ParsedMail) -> dict[str, Any]:
    """What the record says about the mail itself."""
    message = parsed.message
    return {
        "message_id": parsed.message_id[:998],
        "body_sha256": parsed.body_sha256,
        "sender": (message.sender_email or "")[:320] or None,
        "subject": message.subject,
    }


def _finish_alone(
    record: InboundRecord, outcome: str, reason: str, parsed: ParsedMail | None = None
) -> None:
    """Record an outcome reached without the core (rejections before or after a failure)."""
    described = _description(parsed) if parsed is not None else {}
    with transaction():
        update_record(
            record, **described, outcome=outcome, reason=reason[:4000], processed_at=utcnow()
        )


def _brief(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:500]


def _rollback_quietly() -> None:
    try:
        session.rollback()
    except SQLAlchemyError:  # the connection is already gone; nothing to undo
        pass


@contextmanager
def history_source(name: str) -> Iterator[None]:
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
