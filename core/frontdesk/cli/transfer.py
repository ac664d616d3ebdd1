"""``frontdesk export`` and ``frontdesk import``: the JSON Lines interchange format.

The dump goes to standard output (or ``-o``); everything meant for a person (progress, errors,
the summary) goes to standard error, so ``frontdesk export > dump.jsonl`` stays a clean file.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Iterator
from typing import IO, Any

import click
from flask import Flask

from frontdesk.cli.context import with_app


@contextlib.contextmanager
def _progress(length: int | None, label: str) -> Iterator[Any]:
    """A progress bar on a terminal's standard error; nothing when stderr is not a terminal."""
    err = sys.stderr
    if length is None or not err.isatty():
        yield None
        return
    with click.progressbar(length=length, label=label, file=err) as bar:
        yield bar


def _regular_file_size(stream: IO[bytes]) -> int | None:
    try:
        info = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return None  # stdin of a test runner, a pipe: no size to measure progress against
    return info.st_size if stat.S_ISREG(info.st_mode) else None


@click.command("export")
@click.option(
    "--since",
    metavar="DATE",
    help="Only tickets updated at or after DATE (YYYY-MM-DD or an ISO datetime, UTC unless it "
    "has an offset), with the people, organizations and queues they refer to.",
)
@click.option(
    "-o",
    "--output",
    type=click.File("wb"),
    default="-",
    help="Write the dump to FILE instead of standard output.",
)
@with_app()
def export_command(app: Flask, since: str | None, output: IO[bytes]) -> None:
    """Write organizations, people, queues and tickets as JSON Lines.

    The format is described in docs/interchange.md; `frontdesk import` reads it back.
    """
    from frontdesk.transfer import count_tickets, export_dump, parse_since

    since_at = None
    if since is not None:
        try:
            since_at = parse_since(since)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--since") from None
    length = count_tickets(since_at) if sys.stderr.isatty() else None
    with _progress(length, "Exporting tickets") as bar:
        report = export_dump(
            output, since=since_at, on_ticket=(lambda: bar.update(1)) if bar else None
        )
    output.flush()
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    counts = report.counts
    click.echo(
        f"exported {counts['organization']} organizations, {counts['user']} users, "
        f"{counts['queue']} queues, {counts['ticket']} tickets",
        err=True,
    )
    if report.warnings:
        click.get_current_context().exit(1)


@click.command("import")
@click.argument("dump", type=click.File("rb"))
@click.option(
    "--max-line-size",
    type=click.IntRange(min=1),
    default=256,
    show_default=True,
    metavar="MIB",
    help="Longest line accepted, in MiB; a longer line is reported and skipped.",
)
@with_app()
def import_command(app: Flask, dump: IO[bytes], max_line_size: int) -> None:
    """Import a dump written by `frontdesk export` (DUMP is a file, or - for standard input).

    Each line is imported in its own transaction; a bad line is reported with its number and
    the others still import. Importing the same dump again changes nothing. The exit status is
    1 when any line failed.
    """
    from frontdesk.transfer import ImportAborted, import_dump

    def report_error(line: int, reason: str) -> None:
        click.echo(f"line {line}: {reason}", err=True)

    with _progress(_regular_file_size(dump), "Importing") as bar:
        try:
            report = import_dump(
                dump,
                max_line_bytes=max_line_size * 1024 * 1024,
                on_progress=bar.update if bar else None,
                on_error=report_error,
            )
        except ImportAborted as exc:
            raise click.ClickException(f"{exc}; nothing was imported") from None
    for line in report.summary_lines():
        click.echo(line, err=True)
    if not report.ok:
        click.get_current_context().exit(1)


COMMANDS = [export_command, import_command]
