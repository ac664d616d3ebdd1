"""The ingest pipeline: raw bytes kept, one outcome per message, idempotent across crashes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

sys.path.insert(0, str(Path(__file__).parent))
from inbound_helpers import (  # noqa: E402,F401
    email_settings,
    ingest,
    make_mail,
    make_plain_mailbox,
    no_acknowledgements,
    ticket_count,
)

from frontdesk.channels.base import ScreenVerdict  # noqa: E402
from frontdesk.db import session  # noqa: E402
from frontdesk.models import Event, Message, Ticket  # noqa: E402
from frontdesk.plugins import hookimpl  # noqa: E402
from frontdesk.services import read_blob  # noqa: E402
from frontdesk_email import ingest as pipeline  # noqa: E402
from frontdesk_email.models import InboundRecord  # noqa: E402

pytestmark = pytest.mark.usefixtures("no_acknowledgements")


def records() -> list[InboundRecord]:
    session.expire_all()
    return list(session.scalars(select(InboundRecord).order_by(InboundRecord.id)))


def test_a_message_becomes_a_ticket_with_its_raw_bytes_kept(ingest):
    raw = make_mail(subject="Printer on fire", attachments=[("a.txt", b"hello", "text/plain")])
    record = ingest(raw)
    assert (record.outcome, record.reason, record.source) == ("created", "new ticket", "pipe")
    assert read_blob(record.raw_sha256) == raw and record.raw_size == len(raw)
    ticket = session.get(Ticket, record.ticket_id)
    assert (ticket.subject, ticket.channel, ticket.customer.email) == (
        "Printer on fire", "email", "ann@example.com",
    )  # fmt: skip
    message = ticket.messages[0]
    assert record.ticket_message_id == message.id
    assert message.external_id == record.message_id
    assert message.meta["inbound_id"] == record.id
    assert [a.filename for a in message.attachments] == ["a.txt"]
    assert (record.sender, record.subject) == ("ann@example.com", "Printer on fire")
    sources = set(session.scalars(select(Event.source).where(Event.ticket_id == ticket.id)))
    assert sources == {"email"}


def test_the_same_bytes_twice_are_one_record_and_one_ticket(ingest):
    raw = make_mail()
    first, second = ingest(raw), ingest(raw)
    assert first.id == second.id and second.outcome == "created"
    assert len(records()) == 1 and ticket_count() == 1


def test_the_same_message_by_another_route_is_a_recorded_duplicate(ingest):
    raw = make_mail()
    first = ingest(raw)
    again = ingest(b"Received: from backup-mx.example.net\r\n" + raw)
    assert again.id != first.id
    assert again.outcome == "duplicate" and again.ticket_id == first.ticket_id
    number = session.get(Ticket, first.ticket_id).number
    assert again.reason == f"same Message-ID as a message already on {number}"
    assert ticket_count() == 1
    assert read_blob(again.raw_sha256).startswith(b"Received: from backup-mx")


def test_the_same_message_id_with_another_body_is_kept_and_flagged(ingest, make_plain_mailbox):
    mailbox = make_plain_mailbox()
    first = ingest(make_mail(message_id="<reused@example.com>", body="one"), mailbox=mailbox)
    other = ingest(make_mail(message_id="<reused@example.com>", body="two"), mailbox=mailbox)
    assert other.outcome == "created" and other.ticket_id != first.ticket_id
    assert other.flags["message_id_reused"].startswith(
        f"Message-ID <reused@example.com> was first received as inbound #{first.id}"
    )
    external = session.get(Message, other.ticket_message_id).external_id
    assert external.startswith("<reused@example.com>#")
    # That second version delivered again is a duplicate of itself, not a third ticket.
    again = ingest(b"Received: x\r\n" + make_mail(message_id="<reused@example.com>", body="two"),
                   mailbox=mailbox)
    assert again.outcome == "duplicate" and again.ticket_id == other.ticket_id
    assert ticket_count() == 2


def test_imap_uids_make_a_repeated_fetch_idempotent(ingest, make_plain_mailbox):
    mailbox = make_plain_mailbox()
    raw = make_mail()
    first = ingest(raw, mailbox=mailbox, source="imap", uidvalidity=7, imap_uid=42)
    again = ingest(raw, mailbox=mailbox, source="imap", uidvalidity=7, imap_uid=42)
    assert first.id == again.id and (first.uidvalidity, first.imap_uid) == (7, 42)
    copy = ingest(raw, mailbox=mailbox, source="imap", uidvalidity=7, imap_uid=43)
    assert copy.outcome == "duplicate" and ticket_count() == 1


class Crash(BaseException):
    """Stands in for the process being killed (not an ``Exception``: nothing may catch it)."""


@pytest.mark.parametrize("where", ["after_blob", "after_claim", "inside_ticket_write"])
def test_a_run_killed_anywhere_loses_nothing_and_duplicates_nothing(ingest, monkeypatch, where):
    raw = make_mail(subject="Survives crashes")
    if where == "after_blob":
        monkeypatch.setattr(pipeline, "_claim", lambda *a, **k: (_ for _ in ()).throw(Crash()))
    elif where == "after_claim":
        monkeypatch.setattr(pipeline, "process", lambda *a, **k: (_ for _ in ()).throw(Crash()))
    else:
        real = pipeline.receive_inbound

        def dies_after_writing(message):
            real(message)  # the ticket is written, but the transaction never commits
            raise Crash()

        monkeypatch.setattr(pipeline, "receive_inbound", dies_after_writing)
    with pytest.raises(Crash):
        ingest(raw)
    session.rollback()
    assert ticket_count() == 0
    assert [r.outcome for r in records()] == ([] if where == "after_blob" else ["pending"])
    monkeypatch.undo()
    record = ingest(raw)  # the next run (an MTA retry, the next poll) finishes the job
    assert record.outcome == "created" and ticket_count() == 1
    assert [r.outcome for r in records()] == ["created"]
    assert ingest(raw).id == record.id and ticket_count() == 1


def test_a_parser_failure_is_a_recorded_rejection(ingest, monkeypatch):
    def broken(raw, limits=None):
        raise ValueError("parser bug")

    monkeypatch.setattr(pipeline, "parse_mail", broken)
    raw = make_mail()
    record = ingest(raw)
    assert (record.outcome, record.reason) == (
        "rejected", "could not parse the message: ValueError: parser bug",
    )  # fmt: skip
    assert read_blob(record.raw_sha256) == raw and ticket_count() == 0


def test_a_failure_while_writing_leaves_the_database_as_it_was(ingest, monkeypatch):
    real = pipeline.receive_inbound

    def explodes(message):
        real(message)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(pipeline, "receive_inbound", explodes)
    record = ingest(make_mail(subject="Boom"))
    assert record.outcome == "rejected"
    assert record.reason == "internal error: RuntimeError: disk on fire"
    assert record.subject == "Boom" and ticket_count() == 0
    assert session.scalar(select(func.count(Event.id))) == 0


def test_an_unavailable_database_is_a_temporary_failure(ingest, monkeypatch):
    def down(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(pipeline, "_claim", down)
    with pytest.raises(pipeline.TemporaryFailure, match="connection refused"):
        ingest(make_mail())


def test_too_large_messages_and_attachments_are_rejected_with_the_limit(
    ingest, email_settings, app
):
    email_settings(MAX_MESSAGE_BYTES=2048)
    big = make_mail(body="x" * 4000)
    record = ingest(big)
    assert record.outcome == "rejected"
    assert record.reason == f"the message is {len(big)} bytes; the limit is 2048"
    assert read_blob(record.raw_sha256) == big
    email_settings(MAX_MESSAGE_BYTES=10**7)
    app.config["MAX_ATTACHMENT_BYTES"] = 100
    file_record = ingest(make_mail(attachments=[("big.bin", b"y" * 500, "application/x-foo")]))
    assert file_record.outcome == "rejected"
    assert "'big.bin' is 500 bytes; the limit is 100 bytes" in file_record.reason
    assert ticket_count() == 0


def test_mailbox_defaults_pick_queue_and_language(ingest, make_plain_mailbox, make_queue):
    queue = make_queue(key="sales")
    mailbox = make_plain_mailbox(
        key="sales", from_address="sales@example.org", default_queue_id=queue.id,
        default_language="it",
    )  # fmt: skip
    record = ingest(make_mail(to="sales@example.org"))  # no --mailbox: found by recipient
    ticket = session.get(Ticket, record.ticket_id)
    assert record.mailbox_id == mailbox.id
    assert (ticket.queue.key, ticket.language) == ("sales", "it")


def test_reprocessing_records_a_new_outcome_and_keeps_the_old_one(ingest, plugins):
    class RefuseAll:
        @hookimpl(tryfirst=True)
        def inbound_message_screen(self, message):
            return ScreenVerdict("reject", "spam filter misconfigured")

    plugins.register(RefuseAll())
    record = ingest(make_mail(subject="Please help"))
    assert (record.outcome, record.reason) == ("rejected", "spam filter misconfigured")
    plugins.unregister_all()  # the fix
    fresh = pipeline.reprocess(record)
    assert fresh.id != record.id
    assert (fresh.outcome, fresh.source, fresh.flags["reprocess_of"]) == (
        "created", "reprocess", record.id,
    )  # fmt: skip
    old = session.get(InboundRecord, record.id)
    assert old.outcome == "rejected" and old.flags["reprocessed_as"] == [fresh.id]
    again = pipeline.reprocess(record)
    assert again.outcome == "duplicate" and ticket_count() == 1


def test_every_message_gets_exactly_one_outcome(ingest):
    mails = [make_mail(), make_mail(headers={"Precedence": "bulk"}),
             b"not a mail at all", make_mail(sender="not-an-address")]
    outcomes = [ingest(raw).outcome for raw in mails]
    assert outcomes == ["created", "dropped", "rejected", "rejected"]
    assert all(r.processed_at is not None for r in records())
