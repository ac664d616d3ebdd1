"""Polling mailboxes over IMAP, resumable at any point without losing or repeating a message.

Each message is fetched without touching its flags, handed to ``ingest_raw`` and committed; only
then is it flagged ``\\Seen`` (or moved to the done folder) and only after that is ``last_uid``
saved. A poll killed anywhere therefore leaves either an unrecorded message (fetched again next
time) or a recorded one whose UID is still above ``last_uid``: the next poll finds its record by
(UIDVALIDITY, UID), skips the ingest and just finishes flagging it.
"""

from __future__ import annotations

import imaplib
import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from frontdesk.db import session, transaction, utcnow
from frontdesk.jobs import PeriodicTask, enqueue

from .config import settings
from .connection import MailServerError, server_text
from .imap_client import (
    capabilities,
    command,
    ensure_folder,
    fail,
    folder_name,
    logout,
    open_imap,
    select_folder,
)
from .models import InboundRecord, Mailbox

log = logging.getLogger(__name__)
TICK_SECONDS = 30
POLL_TASK = PeriodicTask(
    name="email.poll", func="frontdesk_email.imap.poll_due_mailboxes", seconds=TICK_SECONDS
)
MAX_ERROR_CHARS = 2000


@dataclass
class PollResult:
    """What one poll of a mailbox did."""

    mailbox: str
    outcomes: Counter = field(default_factory=Counter)
    uidvalidity_changed: bool = False

    @property
    def fetched(self) -> int:
        return sum(self.outcomes.values())

    def describe(self) -> str:
        counts = ", ".join(f"{n} {what}" for what, n in sorted(self.outcomes.items())) or "no mail"
        return f"mailbox {self.mailbox}: {counts}"


def poll_mailbox(mailbox: Mailbox) -> PollResult:
    """Fetch every message above ``last_uid`` from ``mailbox`` and ingest it (see module doc).

    A failure is recorded in ``mailbox.last_error`` and raised as ``MailServerError``; what was
    committed before it stays, and the rest is fetched by the next poll.
    """
    with transaction():
        mailbox.last_polled_at = utcnow()
    result = PollResult(mailbox.key)
    try:
        conn = open_imap(mailbox)
        try:
            _poll(conn, mailbox, result)
        finally:
            logout(conn)
    except MailServerError as exc:
        session.rollback()
        _record_error(mailbox, str(exc))
        raise
    with transaction():
        mailbox.last_error = None
    log.info(result.describe())
    return result


def _record_error(mailbox: Mailbox, error: str) -> None:
    with transaction():
        mailbox.last_error = f"{utcnow():%Y-%m-%d %H:%M:%S} UTC: {error}"[:MAX_ERROR_CHARS]
    log.warning("mailbox %s: %s", mailbox.key, error)


def _poll(conn: imaplib.IMAP4, mailbox: Mailbox, result: PollResult) -> None:
    uidvalidity, _ = select_folder(conn, mailbox.imap_folder)
    if mailbox.imap_done_folder:
        ensure_folder(conn, mailbox.imap_done_folder)
    if mailbox.uidvalidity != uidvalidity:
        # The folder was recreated or renumbered: old UIDs mean nothing now. Start over; the
        # ingest recognises messages it already has by their Message-ID.
        if mailbox.uidvalidity is not None:
            result.uidvalidity_changed = True
            log.warning(
                "mailbox %s: UIDVALIDITY changed from %s to %s; reading the folder again",
                mailbox.key,
                mailbox.uidvalidity,
                uidvalidity,
            )
        with transaction():
            mailbox.uidvalidity, mailbox.last_uid = uidvalidity, 0
    uids = _uids_above(conn, mailbox.last_uid)
    for batch in _chunks(uids, settings()["POLL_BATCH"]):
        done: list[int] = []
        try:
            for uid in batch:
                _take(conn, mailbox, uidvalidity, uid, result)
                done.append(uid)
        except MailServerError:
            # Finish what was committed before the failure; the next poll resumes after it.
            if done:
                try:
                    _finish(conn, mailbox, done)
                except MailServerError as exc:
                    log.warning("mailbox %s: %s", mailbox.key, exc)
            raise
        _finish(conn, mailbox, done)


def _uids_above(conn: imaplib.IMAP4, last_uid: int) -> list[int]:
    data = command(conn, "search", "SEARCH", f"UID {last_uid + 1}:*")
    found = {int(token) for chunk in data if chunk for token in chunk.split()}
    # "n:*" always matches the highest UID, even when it is below n.
    return sorted(uid for uid in found if uid > last_uid)


def _chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _take(
    conn: imaplib.IMAP4, mailbox: Mailbox, uidvalidity: int, uid: int, result: PollResult
) -> None:
    from .ingest import ingest_raw

    outcome = session.scalar(
        select(InboundRecord.outcome).where(
            InboundRecord.mailbox_id == mailbox.id,
            InboundRecord.uidvalidity == uidvalidity,
            InboundRecord.imap_uid == uid,
        )
    )
    session.commit()  # end the read snapshot
    if outcome is not None and outcome != "pending":
        # A poll died after committing this one but before flagging it: only finish it.
        result.outcomes["recorded earlier"] += 1
        return
    raw = _fetch(conn, uid)
    if raw is None:
        result.outcomes["vanished"] += 1  # expunged by someone else since the search
        return
    try:
        record = ingest_raw(
            raw, mailbox=mailbox, source="imap", uidvalidity=uidvalidity, imap_uid=uid
        )
        session.commit()
    except Exception as exc:
        session.rollback()
        log.exception("mailbox %s: UID %s could not be ingested", mailbox.key, uid)
        raise fail("ingest", f"UID {uid} could not be ingested: {type(exc).__name__}: {exc}")
    result.outcomes[record.outcome] += 1


def _fetch(conn: imaplib.IMAP4, uid: int) -> bytes | None:
    # BODY.PEEK leaves \Seen alone: the flag means "committed", so only we may set it.
    data = command(conn, "fetch", "FETCH", str(uid), "(BODY.PEEK[])")
    for item in data:
        if isinstance(item, tuple) and b"BODY[]" in item[0].upper():
            return item[1]
    return None


def _finish(conn: imaplib.IMAP4, mailbox: Mailbox, uids: list[int]) -> None:
    """Flag (or move) committed messages, then remember the highest UID done."""
    uid_set = ",".join(str(uid) for uid in uids)
    if mailbox.imap_done_folder:
        target = folder_name(mailbox.imap_done_folder)
        command(conn, "move", "STORE", uid_set, "+FLAGS.SILENT", "(\\Seen)")
        if "MOVE" in capabilities(conn):
            command(conn, "move", "MOVE", uid_set, target)
        else:
            command(conn, "move", "COPY", uid_set, target)
            command(conn, "move", "STORE", uid_set, "+FLAGS.SILENT", "(\\Deleted)")
            try:
                conn.expunge()
            except (imaplib.IMAP4.error, OSError) as exc:
                raise fail("move", f"EXPUNGE failed: {server_text(exc)}") from None
    else:
        command(conn, "flag", "STORE", uid_set, "+FLAGS.SILENT", "(\\Seen)")
    with transaction():
        mailbox.last_uid = max(mailbox.last_uid or 0, *uids)


def poll_mailbox_job(mailbox_id: int) -> None:
    """Job: poll one mailbox (queued per mailbox so two workers never poll it at once)."""
    mailbox = session.get(Mailbox, mailbox_id)
    if mailbox is None or not mailbox.is_active or not mailbox.imap_host:
        return
    poll_mailbox(mailbox)


def poll_due_mailboxes() -> list[str]:
    """Periodic task: queue a poll of every active IMAP mailbox whose interval has passed."""
    interval = timedelta(seconds=settings()["POLL_SECONDS"])
    # Half a tick of slack, so a 60 s interval on a 30 s tick polls every 60 s, not every 90 s.
    due_before = utcnow() - interval + timedelta(seconds=TICK_SECONDS / 2)
    mailboxes = session.scalars(
        select(Mailbox)
        .where(Mailbox.is_active.is_(True), Mailbox.imap_host.is_not(None))
        .order_by(Mailbox.id)
    ).all()
    due = [m for m in mailboxes if m.last_polled_at is None or m.last_polled_at <= due_before]
    session.commit()
    for mailbox in due:
        enqueue(
            poll_mailbox_job, key=f"email:poll:{mailbox.id}", max_attempts=1, mailbox_id=mailbox.id
        )
    return [m.key for m in due]
