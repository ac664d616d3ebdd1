"""Reading a dump: one record per line, each in its own transaction, bad lines reported.

A line that cannot be read or applied is reported with its number and reason and changes
nothing; the lines after it still import. Only a missing or foreign header stops the import
before anything is written, because then no line can be trusted to mean what it says.
"""

from __future__ import annotations

import codecs
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy.exc import SQLAlchemyError

from frontdesk.db import transaction
from frontdesk.services import ServiceError
from frontdesk.transfer.format import (
    DEFAULT_MAX_LINE_BYTES,
    FORMAT_NAME,
    FORMAT_VERSION,
    RecordError,
    decode_line,
    iso,
    read_lines,
)
from frontdesk.transfer.schemas import load_record
from frontdesk.transfer.services import (
    Resolver,
    import_organization,
    import_queue,
    import_user,
)
from frontdesk.transfer.tickets import PendingReference, import_ticket, settle

log = logging.getLogger(__name__)
OUTCOMES = ("created", "updated", "unchanged", "failed")


class ImportAborted(Exception):
    """The file is not a dump this version can read; nothing was imported."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass
class ImportReport:
    """Per record type, how many were created, updated, unchanged or failed; and why."""

    counts: dict[str, Counter[str]] = field(default_factory=dict)
    errors: list[tuple[int, str]] = field(default_factory=list)
    unresolved: int = 0

    def count(self, kind: str, outcome: str) -> None:
        self.counts.setdefault(kind, Counter())[outcome] += 1

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary_lines(self) -> list[str]:
        lines = []
        total: Counter[str] = Counter()
        for kind in ("organization", "user", "queue", "ticket", "unreadable"):
            if kind in self.counts:
                counts = self.counts[kind]
                total.update(counts)
                lines.append(f"{kind + 's:':15}" + _outcomes(counts))
        lines.append(f"{'total:':15}" + _outcomes(total))
        if self.unresolved:
            lines.append(f"{self.unresolved} link or merge reference(s) could not be resolved")
        return lines


def _outcomes(counts: Counter[str]) -> str:
    return ", ".join(f"{counts[o]} {o}" for o in OUTCOMES)


WRITERS: dict[str, Callable[..., Any]] = {
    "organization": import_organization,
    "user": import_user,
    "queue": import_queue,
}


def import_dump(
    stream: IO[bytes],
    *,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    on_progress: Callable[[int], None] | None = None,
    on_error: Callable[[int, str], None] | None = None,
) -> ImportReport:
    """Import every record of the dump in ``stream``; raises :class:`ImportAborted` on a bad header.

    ``on_progress`` receives the bytes consumed per line, ``on_error`` each failure as it happens.
    """
    report = ImportReport()
    resolver = Resolver()
    pending: list[PendingReference] = []
    header: dict[str, Any] | None = None

    def fail(line: int, kind: str, reason: str) -> None:
        report.errors.append((line, reason))
        report.count(kind, "failed")
        if on_error is not None:
            on_error(line, reason)

    for number, raw, consumed in read_lines(stream, max_line_bytes):
        if on_progress is not None:
            on_progress(consumed)
        if raw is not None and not raw.strip():
            continue
        if header is None:
            if raw is not None and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]  # some editors start UTF-8 files with a BOM
            header = _read_header(number, raw)
            continue
        if raw is None:
            fail(number, "unreadable", f"line longer than {max_line_bytes} bytes; skipped")
            continue
        kind, label = "unreadable", ""
        try:
            data = decode_line(raw)
            kind = data.get("type") if data.get("type") in (*WRITERS, "ticket") else kind
            label = _label(data)
            record_type, record = load_record(data)
            if record_type == "header":
                raise RecordError("a second header; a dump has exactly one, on its first line")
            refs: list[PendingReference] = []
            with transaction():
                if record_type == "ticket":
                    outcome, refs = import_ticket(record, resolver, number, _receipt(header))
                else:
                    outcome = WRITERS[record_type](record, resolver)
            pending.extend(refs)  # only once committed: settling needs the ticket to exist
            report.count(kind, outcome)
        except Exception as exc:  # noqa: BLE001 - one bad record must never stop the others
            resolver.clear()  # ids cached during a rolled-back write may not exist
            fail(number, kind, label + _reason(exc))
    if header is None:
        raise ImportAborted(1, "empty file: expected a header line")
    for reference in pending:
        try:
            with transaction():
                settle(reference)
        except Exception as exc:  # noqa: BLE001
            report.unresolved += 1
            report.errors.append((reference.line, f"ticket {reference.number}: {_reason(exc)}"))
            if on_error is not None:
                on_error(reference.line, report.errors[-1][1])
    return report


def _read_header(number: int, raw: bytes | None) -> dict[str, Any]:
    if raw is None:
        raise ImportAborted(number, "the first line is too long to be a header")
    try:
        record_type, header = load_record(decode_line(raw))
    except RecordError as exc:
        raise ImportAborted(number, f"not a {FORMAT_NAME} header: {exc}") from None
    if record_type != "header":
        raise ImportAborted(number, f"the first line must be the {FORMAT_NAME} header")
    if not 1 <= header["version"] <= FORMAT_VERSION:
        raise ImportAborted(
            number,
            f"format version {header['version']} is not supported "
            f"(this Frontdesk reads versions 1 to {FORMAT_VERSION})",
        )
    return header


def _receipt(header: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": FORMAT_NAME,
        "version": header["version"],
        "exported_at": iso(header["exported_at"]),
    }


def _label(data: dict[str, Any]) -> str:
    keys = {"ticket": "number", "user": "email", "organization": "name", "queue": "key"}
    key = keys.get(data.get("type"))  # type: ignore[arg-type]
    value = data.get(key) if key else None
    return f"{data['type']} {value}: " if isinstance(value, str) and len(value) <= 320 else ""


def _reason(exc: Exception) -> str:
    if isinstance(exc, RecordError):
        return str(exc)
    if isinstance(exc, ServiceError):
        if exc.errors:
            return "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in exc.errors.items())
        return exc.detail
    if isinstance(exc, SQLAlchemyError):
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return f"the database refused the record: {detail}"
    log.exception("unexpected error while importing a record")
    return f"unexpected error: {type(exc).__name__}: {exc}"
