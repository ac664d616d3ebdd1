"""Export and import: a dump survives a trip through a fresh instance; re-importing is a no-op."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from frontdesk.db import Model, session
from frontdesk.models import Attachment, Event, Job, Message, Ticket, User
from frontdesk.plugins import hookimpl
from frontdesk.services import create_ticket, find_user_by_email, read_blob


def _row_counts() -> dict[str, int]:
    return {
        table.name: session.scalar(select(func.count()).select_from(table)) or 0
        for table in Model.metadata.sorted_tables
    }


def _versions() -> dict[str, int]:
    return {
        number: version
        for number, version in session.execute(select(Ticket.number, Ticket.version))
    }


def test_round_trip_through_a_fresh_instance_gives_the_same_dump(
    helpdesk, cli, export_lines, fresh_database, jsonl
):
    first = export_lines()
    assert first[0]["type"] == "header" and first[0]["version"] == 1
    assert [r["type"] for r in first[1:]] == (
        ["organization"] * 2 + ["user"] * 4 + ["queue"] * 2 + ["ticket"] * 4
    )

    fresh_database()
    result = cli("import", "-", input=jsonl(first))
    assert result.exit_code == 0, result.stderr
    assert "total:         12 created, 0 updated, 0 unchanged, 0 failed" in result.stderr

    second = export_lines()
    assert second[1:] == first[1:]


def test_import_keeps_numbers_timestamps_and_history_and_adds_one_receipt(
    helpdesk, export_lines, fresh_database, cli, jsonl, db
):
    records = export_lines()
    original = {r["number"]: r for r in records if r["type"] == "ticket"}
    fresh_database()
    assert cli("import", "-", input=jsonl(records)).exit_code == 0

    ticket = db.scalar(select(Ticket).where(Ticket.number == "FD-1000"))
    assert ticket.created_at.isoformat() == "2015-03-04T05:06:07.123456+00:00"
    assert ticket.messages[0].created_at == ticket.created_at
    assert ticket.status == "pending" and ticket.status_category == "pending"
    assert ticket.assignee.email == "agent@helpdesk.test"
    events = db.scalars(select(Event).where(Event.ticket_id == ticket.id).order_by(Event.id)).all()
    assert len(events) == len(original["FD-1000"]["events"]) + 1
    receipt = events[-1]
    assert (receipt.action, receipt.source, receipt.new["result"]) == (
        "imported",
        "import",
        "created",
    )
    # history refers to the new instance's rows, not the old ids
    assigned = next(e for e in events if e.action == "assigned")
    assert assigned.new == db.scalar(select(User.id).where(User.email == "agent@helpdesk.test"))
    added = next(e for e in events if e.action == "message" and e.field == "agent")
    assert db.get(Message, added.new["message_id"]).body_text == "We are on it"


def test_importing_the_same_dump_twice_changes_nothing(
    helpdesk, export_lines, fresh_database, cli, jsonl
):
    dump = jsonl(export_lines())
    fresh_database()
    assert cli("import", "-", input=dump).exit_code == 0
    rows, versions = _row_counts(), _versions()

    again = cli("import", "-", input=dump)

    assert again.exit_code == 0, again.stderr
    assert "total:         0 created, 0 updated, 12 unchanged, 0 failed" in again.stderr
    assert _row_counts() == rows
    assert _versions() == versions


def test_importing_a_dump_into_the_instance_it_came_from_changes_nothing(
    helpdesk, export_lines, cli, jsonl
):
    dump = jsonl(export_lines())
    rows, versions = _row_counts(), _versions()
    result = cli("import", "-", input=dump)
    assert result.exit_code == 0, result.stderr
    assert "12 unchanged" in result.stderr
    assert _row_counts() == rows and _versions() == versions


def test_a_changed_dump_updates_and_adds_without_duplicating(
    helpdesk, export_lines, fresh_database, cli, jsonl, db
):
    records = export_lines()
    fresh_database()
    assert cli("import", "-", input=jsonl(records)).exit_code == 0
    ticket_record = next(r for r in records if r.get("number") == "FD-1001")
    ticket_record["subject"] = "Second, renamed"
    ticket_record["tags"] = ["vip", "renamed"]
    ticket_record["messages"].append(
        {"kind": "agent", "author": "agent@helpdesk.test", "body_text": "Later answer",
         "created_at": "2030-01-01T00:00:00+00:00"}
    )  # fmt: skip

    result = cli("import", "-", input=jsonl(records))

    assert result.exit_code == 0, result.stderr
    assert "tickets:       0 created, 1 updated, 3 unchanged, 0 failed" in result.stderr
    ticket = db.scalar(select(Ticket).where(Ticket.number == "FD-1001"))
    db.refresh(ticket)
    assert ticket.subject == "Second, renamed" and ticket.tag_names == ["renamed", "vip"]
    assert [m.body_text for m in ticket.messages][-1] == "Later answer"
    assert len(ticket.messages) == len(ticket_record["messages"])
    receipts = db.scalars(
        select(Event.new).where(Event.ticket_id == ticket.id, Event.action == "imported")
    ).all()
    assert [r["result"] for r in receipts] == ["created", "updated"]


def test_attachments_survive_with_their_bytes(
    helpdesk, export_lines, fresh_database, cli, jsonl, db, png, app
):
    dump = jsonl(export_lines())
    fresh_database()  # also a new, empty attachment folder
    assert cli("import", "-", input=dump).exit_code == 0
    attachment = db.scalar(select(Attachment))
    assert (attachment.filename, attachment.media_type, attachment.size) == (
        "scan.png", "image/png", len(png)
    )  # fmt: skip
    assert read_blob(attachment.sha256) == png
    assert attachment.message.ticket.number == "FD-1000"


def test_no_password_hash_or_token_leaves_and_passwords_stay(
    helpdesk, export_lines, make_api_token, cli, jsonl, db
):
    make_api_token(helpdesk["agent"])
    records = export_lines()
    text = jsonl(records).decode()
    hash_before = helpdesk["agent"].password_hash
    assert hash_before and hash_before not in text
    assert "password" not in text and "fdt_" not in text and "token" not in text

    assert cli("import", "-", input=jsonl(records)).exit_code == 0
    assert find_user_by_email("agent@helpdesk.test").password_hash == hash_before


def test_imported_users_have_no_password(helpdesk, export_lines, fresh_database, cli, jsonl):
    dump = jsonl(export_lines())
    fresh_database()
    assert cli("import", "-", input=dump).exit_code == 0
    assert find_user_by_email("agent@helpdesk.test").password_hash is None


def test_new_tickets_after_an_import_never_reuse_an_imported_number(
    fresh_database, cli, jsonl, make_customer, db
):
    fresh_database()
    dump = [
        {"type": "header", "format": "frontdesk-interchange", "version": 1},
        {"type": "user", "email": "old@example.test"},
        {"type": "ticket", "number": "FD-5000", "subject": "Old", "status": "closed",
         "customer": "old@example.test", "created_at": "2012-01-01T00:00:00Z",
         "updated_at": "2012-01-02T00:00:00Z"},
    ]  # fmt: skip
    assert cli("import", "-", input=jsonl(dump)).exit_code == 0

    ticket = create_ticket(subject="New", body_text="Hi", customer=make_customer())
    assert ticket.number == "FD-5001"


def test_import_fires_no_lifecycle_events_and_sends_nothing(
    helpdesk, export_lines, fresh_database, cli, jsonl, plugins, db
):
    dump = jsonl(export_lines())
    fresh_database()
    heard: list[str] = []

    class Listener:
        @hookimpl
        def ticket_created(self, ticket: Any) -> None:
            heard.append("ticket_created")

        @hookimpl
        def ticket_message_added(self, ticket: Any, message: Any) -> None:
            heard.append("ticket_message_added")

        @hookimpl
        def ticket_status_changed(self, ticket: Any) -> None:
            heard.append("ticket_status_changed")

        @hookimpl
        def ticket_assigned(self, ticket: Any) -> None:
            heard.append("ticket_assigned")

    plugins.register(Listener(), name="listener")
    assert cli("import", "-", input=dump).exit_code == 0
    assert db.scalar(select(func.count(Ticket.id))) == 4
    assert heard == []
    assert db.scalar(select(func.count(Job.id))) == 0


def test_export_to_a_file_and_import_from_a_path(helpdesk, cli, fresh_database, tmp_path, db):
    dump = tmp_path / "dump.jsonl"
    result = cli("export", "-o", str(dump))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "exported 2 organizations, 4 users, 2 queues, 4 tickets" in result.stderr
    fresh_database()

    result = cli("import", str(dump))

    assert result.exit_code == 0, result.stderr
    assert db.scalar(select(func.count(Ticket.id))) == 4


def test_a_lost_attachment_blob_is_left_out_with_a_warning(helpdesk, cli, app, tmp_path):
    app.config["ATTACHMENT_DIR"] = str(tmp_path / "elsewhere")

    result = cli("export")

    assert result.exit_code == 1
    assert "warning: ticket FD-1000: attachment" in result.stderr and "left out" in result.stderr
    assert b'"attachments":[]' in result.stdout_bytes
    assert result.stdout_bytes.count(b"\n") == 13  # every record is still there
