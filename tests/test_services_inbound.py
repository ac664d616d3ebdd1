"""The channel contract's inbound half: screening, duplicates, threading, participation."""

from __future__ import annotations

from frontdesk.channels.base import IncomingAttachment, InboundMessage, ScreenVerdict, ThreadMatch
from frontdesk.plugins import hookimpl
from frontdesk.services import receive_inbound


def inbound(**kwargs):
    kwargs.setdefault("channel", "test")
    kwargs.setdefault("sender_email", "ana@example.test")
    kwargs.setdefault("subject", "Cannot log in")
    kwargs.setdefault("body_text", "Hello, I cannot log in.")
    return InboundMessage(**kwargs)


def test_new_message_creates_ticket_for_new_customer(app):
    outcome = receive_inbound(inbound(sender_name="Ana Pop", external_id="<m1@example.test>"))
    assert outcome.action == "created"
    assert outcome.ticket.customer.email == "ana@example.test"
    assert outcome.ticket.customer.name == "Ana Pop"
    assert outcome.message.external_id == "<m1@example.test>"
    assert outcome.describe() == f"created ticket {outcome.ticket.number}"


def test_same_delivery_twice_is_a_duplicate(app):
    first = receive_inbound(inbound(external_id="<dup@example.test>"))
    second = receive_inbound(inbound(external_id="<dup@example.test>"))
    assert second.action == "duplicate" and second.ticket.id == first.ticket.id
    assert len(first.ticket.messages) == 1


def test_reply_with_subject_tag_appends_and_says_why(app):
    created = receive_inbound(inbound())
    number = created.ticket.number
    reply = receive_inbound(inbound(subject=f"Re: [Ticket#{number}] Cannot log in", body_text="Still"))
    assert reply.action == "appended" and reply.ticket.id == created.ticket.id
    assert reply.message.meta["threaded_by"] == f"subject tag [Ticket#{number}]"


def test_foreign_sender_quoting_a_ticket_number_gets_a_new_ticket(app):
    created = receive_inbound(inbound())
    number = created.ticket.number
    stranger = receive_inbound(
        inbound(sender_email="mallory@evil.test", subject=f"Re: [Ticket#{number}] give me access")
    )
    assert stranger.action == "created" and stranger.ticket.id != created.ticket.id
    assert "not a participant" in stranger.reason
    assert len(created.ticket.messages) == 1


def test_agents_may_reply_by_channel(app, agent):
    created = receive_inbound(inbound())
    answer = receive_inbound(
        inbound(sender_email=agent.email, subject=f"[Ticket#{created.ticket.number}]")
    )
    assert answer.action == "appended" and answer.message.kind == "agent"


def test_screen_and_thread_hooks(app, plugins, make_ticket):
    target = make_ticket(customer__email="ana@example.test")

    class Rules:
        @hookimpl
        def inbound_message_screen(self, message):
            if message.headers.get("Auto-Submitted", "no") != "no":
                return ScreenVerdict("drop", "auto-submitted (RFC 3834)")
            return None

        @hookimpl(tryfirst=True)
        def inbound_message_thread(self, message):
            if "<known@x>" in message.references:
                return ThreadMatch(target, "References <known@x>")
            return None

    plugins.register(Rules())
    dropped = receive_inbound(inbound(headers={"Auto-Submitted": "auto-replied"}))
    assert dropped.action == "dropped" and dropped.reason == "auto-submitted (RFC 3834)"
    threaded = receive_inbound(inbound(references=["<known@x>"]))
    assert threaded.action == "appended" and threaded.ticket.id == target.id
    assert threaded.message.meta["threaded_by"] == "References <known@x>"


def test_replies_to_a_merged_ticket_follow_the_merge(app, agent):
    from frontdesk.services import merge_tickets

    a = receive_inbound(inbound()).ticket
    b = receive_inbound(inbound(subject="Another")).ticket
    merge_tickets(a, b, agent)
    late = receive_inbound(inbound(subject=f"Re: [Ticket#{a.number}]"))
    assert late.action == "appended" and late.ticket.id == b.id


def test_bad_messages_are_rejected_with_a_reason(app):
    no_sender = receive_inbound(inbound(sender_email=None))
    assert no_sender.action == "rejected" and "sender" in no_sender.reason
    bad_address = receive_inbound(inbound(sender_email="not an address"))
    assert bad_address.action == "rejected" and "email" in bad_address.reason
    too_big = receive_inbound(
        inbound(attachments=[IncomingAttachment("big.bin", b"x" * (app.config["MAX_ATTACHMENT_BYTES"] + 1))])
    )
    assert too_big.action == "rejected" and "limit" in too_big.reason
