"""Threading replies onto tickets, each match saying why, and never for strangers."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from inbound_helpers import (  # noqa: E402,F401
    email_settings,
    ingest,
    make_mail,
    no_acknowledgements,
    record_outbound,
    ticket_count,
)

from frontdesk.channels.base import InboundMessage  # noqa: E402
from frontdesk.db import clock_at, session, utcnow  # noqa: E402
from frontdesk.models import Message, Ticket  # noqa: E402
from frontdesk_email.threading import find_thread, normalize_subject  # noqa: E402

pytestmark = pytest.mark.usefixtures("no_acknowledgements")
ANN = "Ann Customer <ann@example.com>"


def _message(record):
    return session.get(Message, record.ticket_message_id)


@pytest.fixture
def first(ingest):
    """Ann's first mail, which opened a ticket."""
    record = ingest(make_mail(sender=ANN, subject="Printer on fire"))
    assert record.outcome == "created"
    return record


def test_a_reply_to_our_mail_threads_by_in_reply_to(ingest, first, record_outbound):
    ticket = session.get(Ticket, first.ticket_id)
    sent = record_outbound(ticket)
    reply = ingest(make_mail(sender=ANN, subject="Re: something else", in_reply_to=sent))
    assert (reply.outcome, reply.ticket_id) == ("appended", ticket.id)
    assert reply.reason == f"threaded by In-Reply-To {sent}"
    assert _message(reply).meta["threaded_by"] == f"threaded by In-Reply-To {sent}"
    assert ticket_count() == 1


def test_references_to_an_earlier_inbound_mail_thread_too(ingest, first):
    follow_up = ingest(
        make_mail(sender=ANN, subject="More details", references=["<x@y>", first.message_id])
    )
    assert (follow_up.outcome, follow_up.ticket_id) == ("appended", first.ticket_id)
    assert follow_up.reason == f"threaded by References {first.message_id}"


def test_in_reply_to_wins_over_references_and_newest_reference_first(
    ingest, make_ticket, record_outbound, make_customer
):
    ann = make_customer(email="ann@example.com")
    old, new, direct = (make_ticket(customer=ann, channel="email") for _ in range(3))
    old_id, new_id, direct_id = record_outbound(old), record_outbound(new), record_outbound(direct)
    by_refs = ingest(make_mail(sender=ANN, references=[old_id, new_id]))
    assert (by_refs.ticket_id, by_refs.reason) == (new.id, f"threaded by References {new_id}")
    both = ingest(make_mail(sender=ANN, in_reply_to=direct_id, references=[old_id, new_id]))
    assert (both.ticket_id, both.reason) == (direct.id, f"threaded by In-Reply-To {direct_id}")


def test_the_subject_tag_threads_when_headers_do_not(ingest, first):
    number = session.get(Ticket, first.ticket_id).number
    reply = ingest(make_mail(sender=ANN, subject=f"Re: [Ticket#{number}] Printer on fire"))
    assert (reply.outcome, reply.ticket_id) == ("appended", first.ticket_id)
    assert reply.reason == f"threaded by subject tag [Ticket#{number}]"


def test_a_stranger_quoting_a_ticket_gets_a_new_ticket_never_access(
    ingest, first, record_outbound
):
    ticket = session.get(Ticket, first.ticket_id)
    sent = record_outbound(ticket)
    by_tag = ingest(
        make_mail(sender="Mallory <mallory@evil.example>", subject=f"[Ticket#{ticket.number}] hi")
    )
    by_header = ingest(make_mail(sender="mallory@evil.example", in_reply_to=sent))
    for record in (by_tag, by_header):
        assert record.outcome == "created" and record.ticket_id != ticket.id
        stranger_ticket = session.get(Ticket, record.ticket_id)
        assert stranger_ticket.customer.email == "mallory@evil.example"
        assert "not a participant" in record.reason
        assert _message(record).meta["thread_refused"].startswith("sender is not a participant")
    session.expire_all()
    assert [m.author.email for m in ticket.messages] == ["ann@example.com"]


def test_a_watcher_may_reply_to_the_ticket(ingest, first, make_customer):
    from frontdesk.services import add_watcher

    ticket = session.get(Ticket, first.ticket_id)
    colleague = make_customer(email="bea@example.com")
    add_watcher(ticket, colleague, None)
    reply = ingest(make_mail(sender="bea@example.com", subject=f"[Ticket#{ticket.number}]"))
    assert (reply.outcome, reply.ticket_id) == ("appended", ticket.id)


def test_same_sender_and_subject_is_off_by_default(ingest, first):
    again = ingest(make_mail(sender=ANN, subject="RE: Printer on fire"))
    assert again.outcome == "created" and again.ticket_id != first.ticket_id


def test_same_sender_and_subject_within_the_window_when_enabled(ingest, email_settings):
    email_settings(THREAD_BY_SUBJECT_DAYS=7)
    with clock_at(utcnow() - timedelta(days=10)):
        stale = ingest(make_mail(sender=ANN, subject="Invoice question"))
    recent = ingest(make_mail(sender=ANN, subject="Printer on fire"))
    reply = ingest(make_mail(sender=ANN, subject="AW: Fwd: Printer  on FIRE"))
    assert (reply.outcome, reply.ticket_id) == ("appended", recent.ticket_id)
    assert reply.reason == (
        "threaded by same sender ann@example.com and subject 'AW: Fwd: Printer  on FIRE' "
        "within 7 days"
    )
    old = ingest(make_mail(sender=ANN, subject="Re: Invoice question"))
    assert old.outcome == "created" and old.ticket_id != stale.ticket_id
    other = ingest(make_mail(sender="bob@example.com", subject="Re: Printer on fire"))
    assert other.outcome == "created"


@pytest.mark.parametrize(
    ("subject", "normal"),
    [
        ("Re: AW: Fwd: [Ticket#FD-1001] Printer on fire", "printer on fire"),
        ("Ответ: Не работает принтер", "не работает принтер"),
        ("R: I: Fattura sbagliata", "fattura sbagliata"),
        ("Re[2]: RE:   spaced   out ", "spaced out"),
        ("پاسخ: درخواست", "درخواست"),
    ],
)
def test_subjects_are_compared_without_prefixes_and_tags(app, subject, normal):
    assert normalize_subject(subject) == normal


def test_messages_of_other_channels_are_left_to_others(app):
    message = InboundMessage(channel="webform", sender_email="a@example.com", body_text="x",
                             subject="[Ticket#FD-1000]")
    assert find_thread(message) is None
