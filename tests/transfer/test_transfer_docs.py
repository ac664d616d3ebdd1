"""The examples in docs/interchange.md import as documented (so the document stays true)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy import select

from frontdesk.models import Event, Message, Queue, Ticket, TicketLink, User
from frontdesk.services import read_blob

DOC = Path(__file__).resolve().parents[2] / "docs" / "interchange.md"


def documented_records() -> list[dict]:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    return [json.loads(block) for block in blocks]


def test_every_record_type_has_an_example():
    types = [record["type"] for record in documented_records()]
    assert types[0] == "header"
    assert set(types) == {"header", "organization", "user", "queue", "ticket"}


def test_the_documented_examples_import_and_mean_what_the_document_says(cli, jsonl, db):
    result = cli("import", "-", input=jsonl(documented_records()))

    assert result.exit_code == 0, result.stderr
    assert "total:         6 created, 0 updated, 0 unchanged, 0 failed" in result.stderr
    ticket = db.scalar(select(Ticket).where(Ticket.number == "FD-1042"))
    assert ticket.queue.key == "billing" and ticket.assignee.email == "sam@frontdesk.example"
    assert ticket.tag_names == ["invoice", "refund"] and ticket.status_category == "solved"
    attachment = ticket.messages[0].attachments[0]
    assert read_blob(attachment.sha256) == b"Order 1042: 2 x Widget, 19.90 EUR\n"
    # the documented message key really is the key of the documented agent message
    event = db.scalar(select(Event).where(Event.ticket_id == ticket.id, Event.action == "message"))
    assert db.get(Message, event.new["message_id"]).body_text.startswith("Sorry about that")
    assigned = db.scalar(select(Event).where(Event.action == "assigned"))
    assert db.get(User, assigned.new).email == "sam@frontdesk.example"
    minimal = db.scalar(select(Ticket).where(Ticket.number == "FD-1043"))
    assert minimal.priority == "normal" and minimal.channel == "api"
    assert minimal.messages[0].channel == "api" and minimal.messages[0].author is None
    link = db.scalar(select(TicketLink))
    assert (link.source_id, link.target_id, link.kind) == (minimal.id, ticket.id, "related")
    queue = db.scalar(select(Queue).where(Queue.key == "billing"))
    assert [f["key"] for f in queue.custom_fields] == ["invoice", "plan"]

    again = cli("import", "-", input=jsonl(documented_records()))
    assert "total:         0 created, 0 updated, 6 unchanged, 0 failed" in again.stderr


def test_the_documented_error_lines_match_what_the_importer_says(cli, jsonl):
    records = documented_records()
    header = records[0]
    users = [r for r in records if r["type"] == "user"]
    minimal = dict(records[-1], customer="nobody@example.com", links=[])
    result = cli("import", "-", input=jsonl([header, *users, minimal]))
    documented = "line 4: ticket FD-1043: customer: unknown user 'nobody@example.com'"
    assert documented.replace("line 4", "line 7") in DOC.read_text(encoding="utf-8")
    assert documented in result.stderr
