"""``frontdesk email ingest|reprocess|outcomes`` run as a separate process, as an MTA runs it."""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).parent))
from inbound_helpers import (  # noqa: E402,F401
    json_lines,
    make_mail,
    make_plain_mailbox,
    run_cli,
    ticket_count,
)

from frontdesk.db import session  # noqa: E402
from frontdesk.models import Ticket  # noqa: E402
from frontdesk_email.models import InboundRecord  # noqa: E402


def test_one_message_on_standard_input_like_an_mta_pipe(app, tmp_path, make_plain_mailbox):
    make_plain_mailbox(key="support", from_address="support@example.org")
    raw = make_mail(subject="Piped in")
    result = run_cli(app, tmp_path, "email", "ingest", "--mailbox", "support", "--json", input=raw)
    assert result.returncode == 0, result.stderr.decode()
    [row] = json_lines(result.stdout)
    assert (row["file"], row["outcome"], row["subject"], row["seen_before"]) == (
        "-", "created", "Piped in", False,
    )  # fmt: skip
    record = session.get(InboundRecord, row["id"])
    assert record.mailbox.key == "support" and row["ticket"].startswith("FD-")
    again = run_cli(app, tmp_path, "email", "ingest", "--mailbox", "support", "--json", input=raw)
    assert json_lines(again.stdout)[0]["seen_before"] is True and ticket_count() == 1


def test_many_files_print_one_outcome_each_even_rejected_and_unreadable(app, tmp_path):
    files = []
    for index, raw in enumerate(
        [make_mail(), make_mail(headers={"Auto-Submitted": "auto-replied"}), b"garbage"]
    ):
        path = tmp_path / f"mail{index}.eml"
        path.write_bytes(raw)
        files.append(str(path))
    missing = str(tmp_path / "missing.eml")
    result = run_cli(app, tmp_path, "email", "ingest", *files, missing)
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 4
    assert " created FD-" in lines[0]
    assert lines[1].endswith("dropped: automatic mail (Auto-Submitted: auto-replied)")
    assert lines[2].endswith("rejected: the message has no sender address")
    assert lines[3].startswith(f"{missing}: error: cannot read")
    assert result.returncode == 66  # EX_NOINPUT: one file could not be read; the rest is in
    assert session.scalar(select(InboundRecord.outcome).where(InboundRecord.outcome == "rejected"))


def test_a_rejected_message_still_exits_zero(app, tmp_path):
    result = run_cli(app, tmp_path, "email", "ingest", input=b"not mail")
    assert result.returncode == 0
    assert "rejected: the message has no sender address" in result.stdout.decode()


def test_an_unknown_mailbox_records_nothing(app, tmp_path):
    result = run_cli(app, tmp_path, "email", "ingest", "--mailbox", "nope", input=make_mail())
    assert result.returncode == 78  # EX_CONFIG: the MTA keeps the mail until it is fixed
    assert "no mailbox with key 'nope'" in result.stdout.decode()
    assert session.scalar(select(InboundRecord.id)) is None


def test_a_database_that_is_down_asks_the_mta_to_retry(app, tmp_path):
    down = "postgresql+psycopg://nobody@127.0.0.1:9/frontdesk?connect_timeout=3"
    result = run_cli(app, tmp_path, "email", "ingest", "--json", input=make_mail(),
                     FRONTDESK_DATABASE_URL=down)
    assert result.returncode == 75, result.stderr.decode()  # EX_TEMPFAIL
    [row] = json_lines(result.stdout)
    assert row["outcome"] == "error" and row["reason"].startswith("temporary failure")


def test_reprocess_and_outcomes_commands(app, tmp_path):
    raw = make_mail(sender="not-an-address")
    first = json_lines(run_cli(app, tmp_path, "email", "ingest", "--json", input=raw).stdout)[0]
    assert first["outcome"] == "rejected"
    result = run_cli(app, tmp_path, "email", "reprocess", "--json", str(first["id"]))
    assert result.returncode == 0
    [row] = json_lines(result.stdout)
    assert (row["reprocess_of"], row["outcome"], row["flags"]["reprocess_of"]) == (
        first["id"], "rejected", first["id"],
    )  # fmt: skip
    listed = json_lines(run_cli(app, tmp_path, "email", "outcomes", "--json").stdout)
    assert [r["id"] for r in listed] == [row["id"], first["id"]]
    assert listed[1]["flags"]["reprocessed_as"] == [row["id"]]
    only = run_cli(app, tmp_path, "email", "outcomes", "--outcome", "created", "--json")
    assert json_lines(only.stdout) == []
    missing = run_cli(app, tmp_path, "email", "reprocess", "999999")
    assert missing.returncode == 65 and "no inbound message #999999" in missing.stdout.decode()


def test_the_email_group_lists_its_commands(app, tmp_path):
    result = run_cli(app, tmp_path, "email", "--help")
    assert result.returncode == 0
    for command in (b"ingest", b"reprocess", b"outcomes"):
        assert b"\n  " + command + b" " in result.stdout


def test_each_outcome_names_its_own_ticket_in_a_batch_and_in_the_listing(app, tmp_path):
    """Replies print the number of the ticket they joined; new mail the one it opened."""
    mails = [
        make_mail(subject="Printer on fire", message_id="<first@example.com>"),
        make_mail(sender="Bob <bob@example.com>", subject="VPN down"),
        make_mail(subject="Re: Printer on fire", in_reply_to="<first@example.com>"),
        make_mail(headers={"Auto-Submitted": "auto-replied"}),
    ]
    files = []
    for index, raw in enumerate(mails):
        path = tmp_path / f"mail{index}.eml"
        path.write_bytes(raw)
        files.append(str(path))
    rows = json_lines(run_cli(app, tmp_path, "email", "ingest", "--json", *files).stdout)

    numbers = {
        record.id: session.get(Ticket, record.ticket_id).number if record.ticket_id else None
        for record in session.scalars(select(InboundRecord))
    }
    assert [r["outcome"] for r in rows] == ["created", "created", "appended", "dropped"]
    assert [r["ticket"] for r in rows] == [numbers[r["id"]] for r in rows]
    assert rows[0]["ticket"] == rows[2]["ticket"] != rows[1]["ticket"]
    assert rows[3]["ticket"] is None
    listed = json_lines(run_cli(app, tmp_path, "email", "outcomes", "--json").stdout)
    assert {r["id"]: r["ticket"] for r in listed} == {r["id"]: r["ticket"] for r in rows}
