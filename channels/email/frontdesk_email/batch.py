"""Many piped messages in one run: one commit per group of messages instead of one per message.

``frontdesk email ingest FILE...`` takes the messages in groups: a group is one transaction that
ends after :data:`GROUP_SIZE` messages or :data:`GROUP_SECONDS`, whichever comes first, and each
message runs in a savepoint inside it. A message whose ticket change fails is recorded as
rejected, as it would be on its own (see :func:`.ingest.process`); one that fails anywhere else is
undone entirely and reported for a retry. The others of its group are kept. The lifecycle
events and after-commit calls of a group (the acknowledgement, jobs) fire once each after the
commit that made them durable, as for a single message; outcomes are handed back only then, so
nothing is reported that a crash could still take back. A crash loses at most the uncommitted
group, which a rerun takes in again (the committed ones are recognised by their bytes and
reported as seen before).

The files are read, stored and parsed ahead by a helper process (:mod:`.readahead`) while this
one writes.
"""

from __future__ import annotations

import logging
import time
from contextlib import closing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from frontdesk.db import savepoint, session, transaction, utcnow

from .ingest import TRANSIENT, TemporaryFailure, history_source, ingest_ready
from .models import InboundRecord, Mailbox
from .readahead import Input, prepared

log = logging.getLogger(__name__)
GROUP_SIZE = 100
GROUP_SECONDS = 0.5


@dataclass
class Outcome:
    """What became of one input: its record, or the error that kept it from being recorded."""

    name: str
    record: InboundRecord | None = None
    seen_before: bool = False
    error: str | None = None  # why there is no record
    retry: bool = False  # not taken in for now: the sender should keep it and try again later


def ingest_grouped(
    names: Sequence[str],
    mailbox_id: int | None,
    publish: Callable[[list[Outcome]], None],
    *,
    size: int = GROUP_SIZE,
    seconds: float = GROUP_SECONDS,
    read_ahead: bool = True,
) -> None:
    """Take in the named files (``-``: standard input) group by group.

    ``publish`` gets each group's outcomes, in order, once the group is committed.
    ``read_ahead``: let a helper process store and parse the inputs ahead (:mod:`.readahead`).

    An unavailable database or blob store ends the run: the outcomes of the group that could
    not be committed are published as temporary failures, then :class:`TemporaryFailure` is
    raised.
    """
    inputs = prepared(names, helper=read_ahead)
    # Each group's first input is read before its transaction begins: standard input may be
    # slow to arrive, and on SQLite a write transaction keeps every other writer waiting.
    upcoming = next(inputs, None)
    with closing(inputs), history_source("email"):  # history by events after commits too
        while upcoming is not None:
            group: list[Outcome] = []
            try:
                with transaction():
                    upcoming = _fill_group(upcoming, inputs, mailbox_id, group, size, seconds)
            except (TemporaryFailure, *TRANSIENT) as exc:
                brief = str(exc) if isinstance(exc, TemporaryFailure) else _brief(exc)
                publish([_lost(outcome, brief) for outcome in group])
                raise TemporaryFailure(brief) from exc
            publish(group)
            session.expunge_all()  # keep memory flat over thousands of files


def _fill_group(
    upcoming: Input,
    inputs: Iterator[Input],
    mailbox_id: int | None,
    group: list[Outcome],
    size: int,
    seconds: float,
) -> Input | None:
    """Process inputs into ``group`` until it is full or old enough; the next group's first."""
    deadline = time.monotonic() + seconds
    mailbox = session.get(Mailbox, mailbox_id) if mailbox_id else None
    item: Input | None = upcoming
    while item is not None:
        group.append(Outcome(item.name))  # stands for the input until it is processed
        group[-1] = _one(item, mailbox)
        item = next(inputs, None)
        if len(group) >= size or time.monotonic() >= deadline:
            break
    return item


def _one(item: Input, mailbox: Mailbox | None) -> Outcome:
    name = item.name
    if item.unreadable is not None:
        return Outcome(name, error=f"cannot read: {item.unreadable}")
    if item.ready is None:
        raise TemporaryFailure(item.unstored or "the message could not be stored")
    started = utcnow()
    try:
        with savepoint():
            record = ingest_ready(item.ready, mailbox=mailbox, source="pipe")
    except (TemporaryFailure, *TRANSIENT):
        raise
    except Exception as exc:  # a bug: this message is undone and kept by the MTA for a retry
        log.exception("piped message %s failed", name)
        error = f"internal error: {type(exc).__name__}: {exc}"
        return Outcome(name, error=error, retry=True)
    seen = record.received_at is not None and record.received_at < started
    return Outcome(name, record=record, seen_before=seen)


def _lost(outcome: Outcome, brief: str) -> Outcome:
    """The outcome of an input whose group was rolled back by a temporary failure."""
    if outcome.error is not None and not outcome.retry:
        return outcome  # never read: nothing was lost
    error = f"temporary failure, try again later: {brief}"
    return Outcome(outcome.name, error=error, retry=True)


def _brief(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0]
