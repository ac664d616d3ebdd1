"""Reading ahead: a helper process stores and parses the next piped messages meanwhile.

Taking in a message is two kinds of work: database work, which on SQLite one writer does at a
time, and work that needs no database (reading the file, storing its bytes with an ``fsync``,
parsing the MIME structure), about a third of the whole. For a batch of files the second kind
runs in a helper process forked from this one, at most :data:`CHUNKS_AHEAD` chunks of
:data:`CHUNK` inputs ahead, while this process writes; both cores work. The helper stores the
attachments too, so the writer finds them stored.

The helper writes nothing to the database. The bytes it stores are content-addressed and durable
before they take their name, so a crash leaves at most blobs that no record names, as a crash
between storing and recording always could. If the helper dies or stops answering, the inputs
it had not handed back are read here and the run goes on without it.
"""

from __future__ import annotations

import logging
import multiprocessing
import sys
from collections import deque
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app

from frontdesk.services import write_blob

from . import ingest
from .ingest import Ready
from .parsing import ParsedMail

log = logging.getLogger(__name__)
CHUNK = 16
CHUNKS_AHEAD = 4
HELPER_TIMEOUT = 120.0  # seconds one chunk may take before it is read here instead


@dataclass
class Input:
    """One named input made ready for its transaction, or why it could not be."""

    name: str
    ready: Ready | None = None
    unreadable: str | None = None  # the file cannot be read: the input has no record
    unstored: str | None = None  # the blob store failed: a temporary failure of the run


def prepare(name: str, *, files_too: bool = False) -> Input:
    """Read the input ``name`` (``-``: standard input), store its bytes and parse them.

    ``files_too``: store its attachments as well (the helper does, see :func:`_store_files`).
    """
    try:
        raw = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except OSError as exc:
        return Input(name, unreadable=str(exc))
    try:
        ready = ingest.store_and_read(raw)
        if files_too:
            _store_files(ready)
        return Input(name, ready=ready)
    except OSError as exc:
        return Input(name, unstored=f"{type(exc).__name__}: {exc}".splitlines()[0])


def _store_files(ready: Ready) -> None:
    """Store the message's attachments ahead, as the core stores them when it keeps them.

    Blobs are content-addressed: the writer then finds each one stored and skips its write and
    ``fsync``. Attachments over the limits are left alone (the message will be rejected); those
    of a message that ends dropped or rejected for another reason stay stored without a row,
    no more than the message's own stored bytes already hold.
    """
    if not isinstance(ready.reading, ParsedMail):
        return
    files = ready.reading.message.attachments
    config = current_app.config
    if len(files) > config["MAX_ATTACHMENTS_PER_MESSAGE"]:
        return
    limit = config["MAX_ATTACHMENT_BYTES"]
    for item in files:
        if len(item.data) <= limit:
            write_blob(item.data)


def prepared(names: Sequence[str], *, helper: bool = True) -> Generator[Input, None, None]:
    """Each of ``names`` made ready, in order; read ahead by a helper process when it pays.

    One input (the MTA pipe) or standard input among them: no helper, everything is read here.
    """
    if not helper or len(names) < 2 or "-" in names:
        for name in names:
            yield prepare(name)
        return
    yield from _ReadAhead(current_app._get_current_object(), names)  # type: ignore[attr-defined]


class _ReadAhead:
    def __init__(self, app: Flask, names: Sequence[str]) -> None:
        self.app = app
        self.chunks = iter([names[i : i + CHUNK] for i in range(0, len(names), CHUNK)])
        self.pending: deque[tuple[Sequence[str], Future[list[Input]] | None]] = deque()
        self.pool: ProcessPoolExecutor | None = None

    def __iter__(self) -> Iterator[Input]:
        # Forked before any transaction of this run begins, and the helper touches no
        # connection it inherits: it leaves with os._exit, which closes nothing gracefully.
        self.pool = ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_enter_app,
            initargs=(self.app,),
        )
        try:
            self._fill()
            while self.pending:
                chunk, future = self.pending.popleft()
                inputs = self._collect(chunk, future)
                self._fill()  # hand the helper more before this process gets busy
                yield from inputs
        finally:
            self._stop(wait=True)

    def _fill(self) -> None:
        while len(self.pending) < CHUNKS_AHEAD:
            chunk = next(self.chunks, None)
            if chunk is None:
                return
            future = None
            if self.pool is not None:
                try:
                    future = self.pool.submit(_prepare_all, chunk)
                except RuntimeError as exc:  # BrokenProcessPool: the helper is gone
                    self._give_up(exc)
            self.pending.append((chunk, future))

    def _collect(self, chunk: Sequence[str], future: Future[list[Input]] | None) -> list[Input]:
        if future is not None:
            try:
                return future.result(timeout=HELPER_TIMEOUT)
            except Exception as exc:  # it died, hangs, or failed: read the chunk here
                self._give_up(exc)
        return [prepare(name) for name in chunk]

    def _give_up(self, exc: BaseException) -> None:
        if self.pool is not None:
            log.warning("the read-ahead helper failed (%s); reading here", _brief(exc))
            self._stop(wait=False)

    def _stop(self, *, wait: bool) -> None:
        pool, self.pool = self.pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)


def _enter_app(app: Flask) -> None:
    app.app_context().push()  # the helper's one app context, for the configuration


def _prepare_all(names: Sequence[str]) -> list[Input]:
    return [prepare(name, files_too=True) for name in names]


def _brief(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
