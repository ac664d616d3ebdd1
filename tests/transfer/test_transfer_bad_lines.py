"""Bad lines: each is reported with its number and reason, changes nothing, and the rest imports."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from frontdesk.models import Message, Organization, Ticket, TicketLink, User

HEADER = {"type": "header", "format": "frontdesk-interchange", "version": 1}
USER = {"type": "user", "email": "maria@acme.example", "name": "Maria"}


def ticket(number: str, **fields: Any) -> dict[str, Any]:
    record = {
        "type": "ticket",
        "number": number,
        "subject": f"Ticket {number}",
        "status": "open",
        "customer": "maria@acme.example",
        "created_at": "2014-03-01T09:00:00+00:00",
        "updated_at": "2014-03-01T09:00:00+00:00",
        "messages": [
            {"kind": "customer", "author": "maria@acme.example", "body_text": "Hi",
             "created_at": "2014-03-01T09:00:00+00:00"}
        ],
    }  # fmt: skip
    record.update(fields)
    return record


def line(record: dict[str, Any]) -> bytes:
    return json.dumps(record).encode() + b"\n"


def attachment(data: bytes, **fields: Any) -> dict[str, Any]:
    item = {
        "filename": "a.txt",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "content": base64.b64encode(data).decode(),
    }
    item.update(fields)
    return item


def with_message(**fields: Any) -> bytes:
    message = {"kind": "customer", "created_at": "2014-03-01T09:00:00Z", "body_text": "x"}
    message.update(fields)
    return line(ticket("FD-2", messages=[message]))


BAD_LINES = {
    "invalid JSON": (b'{"type": "ticket", "number": \n', "invalid JSON"),
    "not an object": (b"[1, 2, 3]\n", "a record must be a JSON object"),
    "unknown record type": (line({"type": "invoice"}), "type: must be one of"),
    "wrong type": (line(ticket("FD-2", priority=5)), "priority: Not a valid string."),
    "unknown priority": (line(ticket("FD-2", priority="critical")), "priority: Must be one of"),
    "string for boolean": (
        line({"type": "user", "email": "x@example.test", "vip": "yes"}),
        "vip: Not a boolean",
    ),
    "unknown field": (line(ticket("FD-2", colour="red")), "colour: Unknown field."),
    "missing field": (
        line({k: v for k, v in ticket("FD-2").items() if k != "subject"}),
        "subject: Missing data for required field.",
    ),
    "naive timestamp": (
        line(ticket("FD-2", created_at="2014-03-01T09:00:00")),
        "created_at: Not a valid aware datetime.",
    ),
    "unknown user": (
        line(ticket("FD-2", customer="nobody@example.test")),
        "customer: unknown user 'nobody@example.test'",
    ),
    "unknown queue": (line(ticket("FD-2", queue="nope")), "queue: unknown queue 'nope'"),
    "unknown status": (line(ticket("FD-2", status="limbo")), "status: must be one of"),
    "unknown user in history": (
        line(
            ticket(
                "FD-2",
                events=[
                    {
                        "action": "assigned",
                        "field": "assignee",
                        "new": {"$user": "ghost@example.test"},
                        "created_at": "2014-03-01T09:00:00Z",
                    }
                ],
            )
        ),  # fmt: skip
        "events.0.new: unknown user 'ghost@example.test'",
    ),
    "raw NUL byte": (line(ticket("FD-2")).replace(b"Ticket", b"Tic\x00ket"), "NUL byte at byte"),
    "escaped NUL": (line(ticket("FD-2", subject="a\u0000b")), "subject: contains a NUL character"),
    "invalid UTF-8": (line(ticket("FD-2")).replace(b"Ticket", b"Tick\xffet"), "invalid UTF-8"),
    "empty subject": (line(ticket("FD-2", subject="   ")), "subject: must not be empty"),
    "bad base64": (
        with_message(attachments=[{**attachment(b"abc"), "content": "@@@"}]),
        "messages.0.attachments.0.content: not valid base64",
    ),
    "checksum mismatch": (
        with_message(attachments=[attachment(b"abc", sha256="0" * 64)]),
        "messages.0.attachments.0.sha256: does not match the content",
    ),
    "size mismatch": (
        with_message(attachments=[attachment(b"abc", size=4)]),
        "messages.0.attachments.0.size: 4 but the content has 3 bytes",
    ),
    "bad custom field value": (
        line(ticket("FD-2", custom_fields={"colour": "red"})),
        "custom_fields.colour: unknown field for this queue",
    ),
    "duplicate custom field keys": (
        line({"type": "queue", "key": "q", "name": "Q",
              "custom_fields": [{"key": "a"}, {"key": "a", "type": "number"}]}),  # fmt: skip
        "queue q: custom_fields.1: duplicate field key 'a'",
    ),
    "bad queue key": (line({"type": "queue", "key": "Bad Key", "name": "Q"}), "not a queue key"),
    "invalid email": (line({"type": "user", "email": "not-an-email"}), "not a valid email"),
    "oversize body": (
        line(ticket("FD-2", messages=[{"kind": "customer", "body_text": "x" * 1_000_001,
                                       "created_at": "2014-03-01T09:00:00Z"}])),  # fmt: skip
        "messages.0.body_text: at most 1000000 characters",
    ),
    "second header": (line(HEADER), "a second header"),
}


@pytest.mark.parametrize("bad, reason", BAD_LINES.values(), ids=BAD_LINES.keys())
def test_a_bad_line_is_reported_and_the_others_import(bad, reason, cli, db):
    dump = line(HEADER) + line(USER) + bad + line(ticket("FD-3"))

    result = cli("import", "-", input=dump)

    assert result.exit_code == 1
    assert "line 3: " in result.stderr and reason in result.stderr, result.stderr
    assert "1 failed" in result.stderr
    assert db.scalars(select(Ticket.number)).all() == ["FD-3"]
    assert db.scalar(select(func.count(User.id))) == 1


def test_a_ticket_failing_halfway_leaves_nothing_behind(cli, db):
    good = {"kind": "customer", "body_text": "first", "created_at": "2014-03-01T09:00:00Z"}
    bad = {"kind": "agent", "author": "ghost@example.test", "body_text": "second",
           "created_at": "2014-03-01T10:00:00Z"}  # fmt: skip
    dump = line(HEADER) + line(USER) + line(ticket("FD-2", messages=[good, bad]))

    result = cli("import", "-", input=dump)

    assert result.exit_code == 1
    assert "line 3: ticket FD-2: messages.1.author: unknown user" in result.stderr
    assert db.scalar(select(func.count(Ticket.id))) == 0
    assert db.scalar(select(func.count(Message.id))) == 0


def test_an_oversize_line_is_skipped_without_stopping_the_import(cli, db):
    huge = line(ticket("FD-2", subject="x" * (1024 * 1024 + 10)))
    dump = line(HEADER) + line(USER) + huge + line(ticket("FD-3"))

    result = cli("import", "--max-line-size", "1", "-", input=dump)

    assert result.exit_code == 1
    assert "line 3: line longer than 1048576 bytes; skipped" in result.stderr
    assert db.scalars(select(Ticket.number)).all() == ["FD-3"]


def test_an_attachment_over_the_instance_limit_is_refused(cli, db, app):
    app.config["MAX_ATTACHMENT_BYTES"] = 10
    dump = line(HEADER) + line(USER) + with_message(attachments=[attachment(b"x" * 11)])
    result = cli("import", "-", input=dump)
    assert result.exit_code == 1
    assert "line 3: ticket FD-2: attachments.0: larger than 10 bytes" in result.stderr
    assert db.scalar(select(func.count(Ticket.id))) == 0


@pytest.mark.parametrize(
    "first, reason",
    [
        (line(USER), "line 1: the first line must be the frontdesk-interchange header"),
        (line({**HEADER, "version": 2}), "format version 2 is not supported"),
        (line({**HEADER, "format": "zendesk"}), "line 1: not a frontdesk-interchange header"),
        (b"not json\n", "invalid JSON"),
    ],
    ids=["no header", "newer version", "foreign format", "garbage"],
)
def test_a_file_without_a_readable_header_imports_nothing(first, reason, cli, db):
    result = cli(
        "import", "-", input=first + line(USER) + line({"type": "organization", "name": "A"})
    )
    assert result.exit_code == 1
    assert reason in result.stderr and "nothing was imported" in result.stderr
    assert db.scalar(select(func.count(User.id))) == 0
    assert db.scalar(select(func.count(Organization.id))) == 0


def test_links_may_point_forward_and_unknown_targets_are_reported(cli, db):
    dump = (
        line(HEADER)
        + line(USER)
        + line(ticket("FD-1", links=[{"kind": "related", "ticket": "FD-2"}]))
        + line(ticket("FD-2", merged_into="FD-1"))
        + line(ticket("FD-3", links=[{"kind": "duplicate_of", "ticket": "FD-99"}]))
    )

    result = cli("import", "-", input=dump)

    assert result.exit_code == 1
    assert "line 5: ticket FD-3: links: unknown ticket 'FD-99'" in result.stderr
    assert "1 link or merge reference(s) could not be resolved" in result.stderr
    ids = dict(db.execute(select(Ticket.number, Ticket.id)).all())
    links = db.execute(select(TicketLink.source_id, TicketLink.target_id, TicketLink.kind)).all()
    assert [tuple(row) for row in links] == [(ids["FD-1"], ids["FD-2"], "related")]
    assert db.get(Ticket, ids["FD-2"]).merged_into_id == ids["FD-1"]
    assert db.get(Ticket, ids["FD-3"]) is not None

    again = cli("import", "-", input=dump)
    assert db.scalar(select(func.count(TicketLink.id))) == 1
    assert "0 created, 0 updated, 4 unchanged" in again.stderr


def test_a_missing_file_is_a_clear_error(cli, tmp_path):
    result = cli("import", str(tmp_path / "nope.jsonl"))
    assert result.exit_code == 2
    assert "No such file or directory" in result.stderr


def test_a_byte_order_mark_and_blank_lines_are_tolerated(cli, db):
    dump = b"\xef\xbb\xbf" + line(HEADER) + b"\n" + line(USER) + b"\r\n  \n" + line(ticket("FD-3"))
    result = cli("import", "-", input=dump)
    assert result.exit_code == 0, result.stderr
    assert db.scalars(select(Ticket.number)).all() == ["FD-3"]


def test_line_numbers_count_blank_lines(cli):
    dump = line(HEADER) + b"\n\n" + b"{oops}\n"
    result = cli("import", "-", input=dump)
    assert result.exit_code == 1
    assert result.stderr.startswith("line 4: invalid JSON")
