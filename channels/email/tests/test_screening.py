"""Loop and noise protection: automatic mail is dropped with a reason and never answered."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).parent))
from inbound_helpers import (  # noqa: E402,F401
    email_settings,
    fixture_mail,
    ingest,
    make_mail,
    make_plain_mailbox,
    no_acknowledgements,
    record_outbound,
    ticket_count,
)

from frontdesk.channels.base import InboundMessage  # noqa: E402
from frontdesk.models import Message  # noqa: E402
from frontdesk.services import receive_inbound  # noqa: E402
from frontdesk_email.compose import may_be_ours, new_message_id  # noqa: E402

pytestmark = pytest.mark.usefixtures("no_acknowledgements")


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, "automatic mail (Auto-Submitted: auto-replied)"),
        ({"Auto-Submitted": "auto-generated"}, "automatic mail (Auto-Submitted: auto-generated)"),
        ({"Precedence": "bulk"}, "bulk mail (Precedence: bulk)"),
        ({"Precedence": "list"}, "bulk mail (Precedence: list)"),
        ({"Precedence": "junk"}, "bulk mail (Precedence: junk)"),
        (
            {"X-Auto-Response-Suppress": "OOF, AutoReply"},
            "automatic mail (X-Auto-Response-Suppress: OOF, AutoReply)",
        ),
        ({"X-Autoreply": "yes"}, "auto-reply (X-Autoreply: yes)"),
        ({"X-Autorespond": "Out of office"}, "auto-reply (X-Autorespond: Out of office)"),
        ({"Return-Path": "<>"}, "automatic mail (empty Return-Path <>)"),
        ({"List-Id": "Users <users.lists.example.com>"}, "mailing-list mail (List-Id: Users"),
        ({"List-Unsubscribe": "<mailto:leave@example.com>"}, "mailing-list mail (List-Unsubscribe"),
    ],
)
def test_automatic_and_bulk_mail_is_dropped_with_its_reason(ingest, headers, reason):
    record = ingest(make_mail(subject="Out of office", headers=headers))
    assert record.outcome == "dropped"
    assert record.reason.startswith(reason)
    assert ticket_count() == 0  # no ticket, so nothing can ever answer it


def test_auto_submitted_no_is_a_person_writing(ingest):
    record = ingest(make_mail(headers={"Auto-Submitted": "no"}))
    assert record.outcome == "created"


def test_list_mail_passes_when_configured_to(ingest, email_settings):
    email_settings(DROP_LIST_MAIL=False)
    assert ingest(make_mail(headers={"List-Id": "<a.example.com>"})).outcome == "created"


def test_mail_from_our_own_mailbox_is_a_loop(ingest, make_plain_mailbox):
    make_plain_mailbox(from_address="help@support.example.org")
    record = ingest(make_mail(sender="Help <Help@Support.Example.org>"))
    assert (record.outcome, record.reason) == (
        "dropped",
        "loop: mail from our own address help@support.example.org",
    )


def test_configured_extra_addresses_and_x_loop_are_loops(ingest, email_settings):
    email_settings(OWN_ADDRESSES=["noreply@example.org"])
    assert ingest(make_mail(sender="noreply@example.org")).reason.startswith("loop: mail from")
    record = ingest(make_mail(headers={"X-Loop": "noreply@example.org"}))
    assert record.reason == "loop: X-Loop names our address (noreply@example.org)"


def test_our_own_sent_message_coming_back_is_a_loop(ingest, make_ticket, record_outbound):
    sent_id = record_outbound(make_ticket())
    record = ingest(make_mail(message_id=sent_id))
    assert (record.outcome, record.reason) == ("dropped", f"loop: {sent_id} is a message we sent")


def test_every_id_we_make_is_one_the_loop_check_looks_up(make_plain_mailbox):
    """The loop check skips the lookup for ids not of our form; ours must all be of it."""
    mailbox = make_plain_mailbox(from_address="help@support.example.org")
    ours = [new_message_id(mailbox) for _ in range(50)]
    assert len(set(ours)) == 50
    assert all(may_be_ours(i) and may_be_ours(i.strip("<>")) for i in ours)
    foreign = ["<CAF+x=1@mail.gmail.com>", "<a.b@outlook.com>", "fd@example.com", "<>", ""]
    assert not any(may_be_ours(i) for i in foreign)


def test_a_bounce_is_recorded_on_the_ticket_whose_mail_failed(
    ingest, make_ticket, record_outbound, db
):
    ticket = make_ticket(channel="email")
    record_outbound(ticket, "<sent-1@support.example.org>")
    record = ingest(fixture_mail("bounce-dsn.eml"))
    assert record.outcome == "dropped"
    assert record.reason.startswith(f"bounce for {ticket.number}: ")
    assert "nobody@customer.example.com" in record.reason and "5.1.1" in record.reason
    assert record.ticket_id == ticket.id
    notes = [m for m in ticket.messages if m.kind == "system"]
    assert len(notes) == 1
    assert "could not be delivered" in notes[0].body_text
    assert notes[0].meta["bounce"]["message_id"] == "<sent-1@support.example.org>"
    # The same bounce delivered again (another relay) does not note it twice.
    again = ingest(b"Received: from relay2\r\n" + fixture_mail("bounce-dsn.eml"))
    assert again.outcome == "dropped" and again.id != record.id
    db.expire_all()
    assert len([m for m in ticket.messages if m.kind == "system"]) == 1


def test_a_bounce_for_mail_we_never_sent_is_dropped(ingest):
    record = ingest(fixture_mail("bounce-dsn.eml"))
    assert (record.outcome, record.reason) == (
        "dropped",
        "delivery status notification about a message we did not send",
    )
    assert ticket_count() == 0


def test_a_plain_mailer_daemon_bounce_is_matched_by_the_quoted_message_id(
    ingest, make_ticket, record_outbound
):
    ticket = make_ticket(channel="email")
    sent_id = record_outbound(ticket)
    body = f"Delivery failed.\n\n--- original message ---\nMessage-ID: {sent_id}\nSubject: x\n"
    record = ingest(make_mail(sender="MAILER-DAEMON@mx.example.net", body=body))
    assert record.outcome == "dropped"
    assert record.reason == f"bounce for {ticket.number}"


def test_read_receipts_are_dropped(ingest):
    raw = (
        b"From: ann@example.com\r\nSubject: Read: hello\r\nMessage-ID: <mdn-1@example.com>\r\n"
        b'Content-Type: multipart/report; report-type=disposition-notification; boundary="R"\r\n'
        b"\r\n--R\r\nContent-Type: text/plain\r\n\r\nYour message was read.\r\n--R\r\n"
        b"Content-Type: message/disposition-notification\r\n\r\n"
        b"Disposition: manual-action/MDN-sent-manually; displayed\r\n\r\n--R--\r\n"
    )
    record = ingest(raw)
    assert record.outcome == "dropped" and record.reason.startswith("read receipt")


def test_a_sender_over_the_rate_limit_is_dropped(ingest, email_settings, make_agent):
    email_settings(RATE_LIMIT_COUNT=3, RATE_LIMIT_WINDOW_SECONDS=600)
    outcomes = [ingest(make_mail(subject=f"flood {i}")).outcome for i in range(5)]
    assert outcomes == ["created", "created", "created", "dropped", "dropped"]
    last = ingest(make_mail(subject="flood 6"))
    assert last.reason == "rate limit: 5 messages from ann@example.com within 600 seconds"
    assert ingest(make_mail(sender="bob@example.com")).outcome == "created"
    agent = make_agent(email="agent@example.org")
    for i in range(4):
        assert ingest(make_mail(sender=agent.email, subject=f"note {i}")).outcome == "created"


def test_the_rate_limit_can_be_turned_off(ingest, email_settings):
    email_settings(RATE_LIMIT_COUNT=0)
    assert {ingest(make_mail(subject=f"m{i}")).outcome for i in range(4)} == {"created"}


def test_other_channels_are_not_screened_by_the_email_plugin(app, db):
    message = InboundMessage(
        channel="webform",
        sender_email="ann@example.com",
        body_text="hello",
        subject="Out of office",
        headers={"auto-submitted": "auto-replied", "precedence": "bulk"},
    )
    assert receive_inbound(message).action == "created"
    assert db.scalar(select(Message.channel)) == "webform"
