"""``frontdesk email ...``: the MTA pipe entry, re-processing stored mail, recent outcomes.

Exit codes follow sysexits(3) so an MTA piping into ``frontdesk email ingest`` does the right
thing: 0 once the message is recorded (whatever its outcome, a rejection included), 75
(EX_TEMPFAIL: keep the mail queued and retry) while the database or storage is unavailable,
78 (EX_CONFIG) for an unknown ``--mailbox``, 66 (EX_NOINPUT) when a named file cannot be read.

A Postfix ``master.cf`` entry, for example::

    frontdesk unix - n n - - pipe
      flags=Rq user=frontdesk argv=/srv/frontdesk/.venv/bin/frontdesk
      --instance /srv/frontdesk/instance email ingest --mailbox support
"""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from flask import Flask
from sqlalchemy import bindparam, select

from frontdesk.db import read, session
from frontdesk.models import Ticket
from frontdesk.services import ServiceError

from .batch import Outcome, ingest_grouped
from .ingest import TRANSIENT, TemporaryFailure, reprocess
from .models import OUTCOMES, InboundRecord, Mailbox

EX_OK, EX_DATAERR, EX_NOINPUT, EX_TEMPFAIL, EX_CONFIG = 0, 65, 66, 75, 78


def _app() -> Flask:
    # The ``frontdesk`` command keeps the app it built (to find plugin commands) on the root
    # context's object; reuse it rather than building a second one.
    holder = click.get_current_context().find_root().obj
    return holder.app()


@contextmanager
def _app_context() -> Iterator[Flask]:
    try:
        app = _app()
    except Exception as exc:  # the configuration or database cannot even be opened
        click.echo(f"frontdesk email: cannot start: {exc}", err=True)
        sys.exit(EX_CONFIG)
    with app.app_context():
        yield app


_tickets = Ticket.__table__
_TICKET_NUMBERS = select(_tickets.c.id, _tickets.c.number).where(
    _tickets.c.id.in_(bindparam("ids", expanding=True))
)


def ticket_numbers(records: Iterable[InboundRecord]) -> dict[int, str]:
    """The numbers of the tickets ``records`` name, by ticket id: one query for them all."""
    ids = sorted({r.ticket_id for r in records if r.ticket_id is not None})
    return dict(read(_TICKET_NUMBERS, ids=ids).tuples().all()) if ids else {}


def outcome_row(
    record: InboundRecord, numbers: dict[int, str] | None = None, **extra: Any
) -> dict[str, Any]:
    """One outcome as printed by the CLI (and as a JSON line with ``--json``).

    ``numbers``: ticket numbers by id, from :func:`ticket_numbers` (looked up when missing).
    """
    if numbers is None:
        numbers = ticket_numbers([record])
    return {
        **extra,
        "id": record.id,
        "outcome": record.outcome,
        "reason": record.reason,
        "ticket": numbers.get(record.ticket_id) if record.ticket_id is not None else None,
        "mailbox_id": record.mailbox_id,
        "message_id": record.message_id,
        "sender": record.sender,
        "subject": record.subject,
        "flags": record.flags or {},
        "received_at": record.received_at.isoformat() if record.received_at else None,
    }


def _emit(row: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(row, ensure_ascii=False))
        return
    where = f"{row['file']}: " if row.get("file") else ""
    ticket = f" {row['ticket']}" if row.get("ticket") else ""
    label = f"#{row['id']} " if row.get("id") else ""
    again = " (recorded earlier)" if row.get("seen_before") else ""
    click.echo(f"{where}{label}{row['outcome']}{ticket}: {row['reason']}{again}")


def _fail(message: str, code: int, as_json: bool, **row: Any) -> None:
    _emit({**row, "outcome": "error", "reason": message}, as_json)
    sys.exit(code)


@click.group("email")
def email() -> None:
    """Email channel: piped mail, re-processing and recorded outcomes."""


@email.command("ingest")
@click.option("--mailbox", "mailbox_key", help="Key of the mailbox the mail was sent to.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per message.")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True))
def ingest_cmd(mailbox_key: str | None, as_json: bool, files: tuple[str, ...]) -> None:
    """Take in mail: each FILE is one message; no FILE (or -) reads one from standard input.

    Many FILEs are committed in groups (see ``frontdesk_email.batch``); each outcome is printed
    once its group is committed.
    """
    status = EX_OK

    def publish(outcomes: list[Outcome]) -> None:
        nonlocal status
        numbers = ticket_numbers(o.record for o in outcomes if o.record is not None)
        for outcome in outcomes:
            if outcome.record is not None:
                seen = outcome.seen_before
                row = outcome_row(outcome.record, numbers, file=outcome.name, seen_before=seen)
                _emit(row, as_json)
                continue
            _emit({"file": outcome.name, "outcome": "error", "reason": outcome.error}, as_json)
            # A message to retry outranks a file that could not be read.
            status = max(status, EX_TEMPFAIL if outcome.retry else EX_NOINPUT)

    with _app_context():
        mailbox_id = _mailbox_id(mailbox_key, as_json)
        if len(files) > 1:
            _collect_garbage_less_often()
        try:
            ingest_grouped(files or ("-",), mailbox_id, publish)
        except TemporaryFailure:
            sys.exit(EX_TEMPFAIL)  # the inputs not committed were reported as such
    sys.exit(status)


def _collect_garbage_less_often() -> None:
    """Tune this process's garbage collector for a batch (it is the command's own process).

    A batch allocates ORM objects by the hundred thousand, and at the default pace the
    collector kept re-scanning the app's long-lived objects: ~7% of a run (3,000 mails). Those
    are frozen (which also keeps the read-ahead helper's forked pages shared) and young objects
    collected in bigger, rarer sweeps: about half the time, for ~7 MiB more peak memory.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(5_000, 10, 10)


def _mailbox_id(key: str | None, as_json: bool) -> int | None:
    if not key:
        return None
    try:
        mailbox_id = session.scalar(select(Mailbox.id).where(Mailbox.key == key))
    except TRANSIENT as exc:
        _fail(f"temporary failure, try again later: {type(exc).__name__}", EX_TEMPFAIL, as_json)
    if mailbox_id is None:
        _fail(f"no mailbox with key {key!r}; nothing was recorded", EX_CONFIG, as_json)
    return mailbox_id


@email.command("reprocess")
@click.option("--json", "as_json", is_flag=True, help="Print the new outcome as JSON.")
@click.argument("record_id", type=int)
def reprocess_cmd(as_json: bool, record_id: int) -> None:
    """Run the stored raw message of inbound RECORD_ID through the pipeline again."""
    with _app_context():
        try:
            record = session.get(InboundRecord, record_id)
            if record is None:
                _fail(f"no inbound message #{record_id}", EX_DATAERR, as_json)
            fresh = reprocess(record)
        except ServiceError as exc:
            _fail(exc.detail, EX_DATAERR, as_json)
        except (TemporaryFailure, *TRANSIENT) as exc:
            _fail(f"temporary failure, try again later: {exc}", EX_TEMPFAIL, as_json)
        _emit(outcome_row(fresh, reprocess_of=record_id), as_json)


@email.command("outcomes")
@click.option("--outcome", type=click.Choice(OUTCOMES), help="Only this outcome.")
@click.option("--mailbox", "mailbox_key", help="Only mail of this mailbox.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
def outcomes_cmd(outcome: str | None, mailbox_key: str | None, limit: int, as_json: bool) -> None:
    """List the most recent inbound messages and what became of them."""
    with _app_context():
        query = select(InboundRecord).order_by(InboundRecord.id.desc()).limit(limit)
        if outcome:
            query = query.where(InboundRecord.outcome == outcome)
        if mailbox_key:
            query = query.where(InboundRecord.mailbox_id == _mailbox_id(mailbox_key, as_json))
        try:
            records = session.scalars(query).all()
            numbers = ticket_numbers(records)
            for record in records:
                _emit(outcome_row(record, numbers), as_json)
        except TRANSIENT as exc:
            _fail(f"temporary failure: {type(exc).__name__}", EX_TEMPFAIL, as_json)
