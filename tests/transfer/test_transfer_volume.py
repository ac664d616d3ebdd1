"""A few hundred tickets in one dump: all import, a second import is a no-op, export matches."""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from frontdesk.cli.transfer import _progress
from frontdesk.models import Event, Message, Ticket

TICKETS = 200


def synthetic_dump() -> list[dict[str, Any]]:
    start = datetime(2016, 1, 1, tzinfo=UTC)
    records: list[dict[str, Any]] = [
        {"type": "header", "format": "frontdesk-interchange", "version": 1},
        {"type": "organization", "name": "Bulk Org", "domains": ["bulk.test"]},
        {"type": "user", "email": "agent@bulk.test", "role": "agent", "name": "Bulk Agent"},
        {"type": "queue", "key": "bulk", "name": "Bulk", "members": ["agent@bulk.test"]},
    ]
    records += [
        {"type": "user", "email": f"c{i}@bulk.test", "organization": "Bulk Org"} for i in range(50)
    ]
    for n in range(TICKETS):
        at = start + timedelta(hours=n)
        stamp = at.isoformat()
        customer = f"c{n % 50}@bulk.test"
        records.append(
            {
                "type": "ticket",
                "number": f"FD-{2000 + n}",
                "subject": f"Bulk ticket {n}",
                "status": "solved" if n % 3 else "open",
                "queue": "bulk",
                "customer": customer,
                "assignee": "agent@bulk.test",
                "organization": "Bulk Org",
                "created_at": stamp,
                "updated_at": (at + timedelta(minutes=30)).isoformat(),
                "tags": [f"t{n % 7}"],
                "links": [{"kind": "related", "ticket": f"FD-{2000 + n - 1}"}] if n else [],
                "messages": [
                    {
                        "kind": "customer",
                        "author": customer,
                        "channel": "email",
                        "external_id": f"<{n}@bulk.test>",
                        "body_text": f"Question {n}",
                        "created_at": stamp,
                    },
                    {
                        "kind": "agent",
                        "author": "agent@bulk.test",
                        "body_text": f"Answer {n}",
                        "created_at": (at + timedelta(minutes=10)).isoformat(),
                    },
                    {
                        "kind": "internal_note",
                        "author": "agent@bulk.test",
                        "body_text": "ok",
                        "created_at": (at + timedelta(minutes=20)).isoformat(),
                    },
                ],  # fmt: skip
                "events": [
                    {"action": "created", "created_at": stamp, "source": "email"},
                    {
                        "action": "changed",
                        "field": "status",
                        "old": "new",
                        "new": "solved",
                        "actor": "agent@bulk.test",
                        "source": "web",
                        "created_at": (at + timedelta(minutes=30)).isoformat(),
                    },
                ],  # fmt: skip
            }
        )
    return records


def test_a_few_hundred_tickets_import_and_reimport_as_a_no_op(cli, jsonl, export_lines, db):
    dump = jsonl(synthetic_dump())

    result = cli("import", "-", input=dump)

    assert result.exit_code == 0, result.stderr
    assert f"tickets:       {TICKETS} created, 0 updated" in result.stderr
    assert db.scalar(select(func.count(Message.id))) == 3 * TICKETS
    assert db.scalar(select(func.count(Event.id))) == 3 * TICKETS  # two + the receipt
    assert db.scalar(select(func.max(Ticket.number))) == f"FD-{2000 + TICKETS - 1}"

    exported = export_lines()
    assert [r["number"] for r in exported if r["type"] == "ticket"] == [
        f"FD-{2000 + n}" for n in range(TICKETS)
    ]
    again = cli("import", "-", input=dump)
    assert f"tickets:       0 created, 0 updated, {TICKETS} unchanged, 0 failed" in again.stderr
    assert db.scalar(select(func.count(Event.id))) == 3 * TICKETS


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with _progress(10, "Importing") as bar:
        assert bar is not None
        bar.update(10)
    assert "Importing" in terminal.getvalue() and "100%" in terminal.getvalue()

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with _progress(10, "Importing") as bar:
        assert bar is None
    with _progress(None, "Importing") as bar:  # standard input: no size to measure against
        assert bar is None
