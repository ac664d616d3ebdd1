"""Agent replies leave through real SMTP with the thread's headers; answers thread back."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from frontdesk.channels.base import IncomingAttachment
from frontdesk.db import session, transaction
from frontdesk.models import Job, Message, Ticket
from frontdesk.services import deliver_message, reply

from frontdesk_email.imap import poll_mailbox
from frontdesk_email.models import OutboundMessageId


def _ticket_from_mail(mailbox: Any, imap_account: Any, raw: bytes) -> Ticket:
    imap_account.append(raw)
    poll_mailbox(mailbox)
    return session.scalars(select(Ticket).order_by(Ticket.id.desc())).first()


def _replies(outbox: list[Any]) -> list[Any]:
    return [m for m in outbox if "Auto-Submitted" not in m.parsed()]


def test_an_agent_reply_arrives_with_the_thread_headers_both_parts_and_attachments(
    mailbox: Any, imap_account: Any, raw_mail: Any, outbox: list[Any], agent: Any
) -> None:
    customer_id = "<first-mail@customer.test>"
    ticket = _ticket_from_mail(
        mailbox, imap_account, raw_mail(message_id=customer_id, subject="VPN drops every hour")
    )
    outbox.clear()  # the acknowledgement is tested elsewhere

    message = reply(
        ticket,
        "Hello Ana,\nplease try the new profile attached.",
        agent,
        body_html="<p>Hello Ana,</p><p>please try the <b>new profile</b> attached.</p>",
        attachments=[
            IncomingAttachment(
                "vpn-profile.ovpn",
                b"client\nremote vpn.example 1194\n",
                "application/x-openvpn-profile",
            ),
            IncomingAttachment("steps.pdf", b"%PDF-1.4 fake", "application/pdf"),
        ],
    )

    [received] = outbox
    mail = received.parsed()
    recorded = session.scalars(
        select(OutboundMessageId).where(OutboundMessageId.kind == "reply")
    ).one()
    assert mail["Message-ID"] == recorded.message_id
    assert recorded.ticket_message_id == message.id and recorded.kind == "reply"
    assert recorded.delivered_at is not None
    assert mail["In-Reply-To"] == customer_id
    assert mail["References"] == customer_id
    assert mail["Subject"] == f"[Ticket#{ticket.number}] Re: VPN drops every hour"
    assert mail["From"].addresses[0].addr_spec == mailbox.from_address
    assert received.mail_from == mailbox.from_address
    assert received.rcpt_tos == ["ana@customer.test"]
    assert received.login == "frontdesk"
    assert "Auto-Submitted" not in mail  # a person wrote it
    assert "please try the new profile attached." in mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "<b>new profile</b>" in html and agent.name in html
    files = {part.get_filename(): part.get_content() for part in mail.iter_attachments()}
    assert files == {
        "vpn-profile.ovpn": b"client\nremote vpn.example 1194\n",
        "steps.pdf": b"%PDF-1.4 fake",
    }
    session.refresh(message)
    assert message.external_id == recorded.message_id
    assert message.meta.get("delivered_at") and "delivery_error" not in message.meta


def test_the_customers_answer_to_our_reply_lands_on_the_same_ticket(
    mailbox: Any, imap_account: Any, raw_mail: Any, outbox: list[Any], agent: Any
) -> None:
    ticket = _ticket_from_mail(mailbox, imap_account, raw_mail(subject="Invoice 2291 is wrong"))
    reply(ticket, "Which line is wrong?", agent)
    ours = _replies(outbox)[-1].parsed()["Message-ID"]

    # A client that drops the subject tag: only the headers can thread it.
    imap_account.append(
        raw_mail(
            subject="Re: the invoice",
            body="Line 3 is charged twice.",
            in_reply_to=ours,
            references=[ours],
        )
    )
    result = poll_mailbox(mailbox)

    assert result.outcomes["appended"] == 1
    assert session.scalar(select(Ticket.id).where(Ticket.id != ticket.id)) is None
    last = session.scalars(
        select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id.desc())
    ).first()
    assert last.kind == "customer" and "Line 3 is charged twice." in last.body_text
    assert ours in last.meta["threaded_by"]

    # Our next reply continues the whole conversation.
    reply(ticket, "Fixed, a new invoice is on its way.", agent)
    latest = _replies(outbox)[-1].parsed()
    assert latest["In-Reply-To"] == last.external_id
    assert latest["References"].split()[-2:] == [ours, last.external_id]


@pytest.mark.parametrize("tls", ["starttls", "ssl"])
def test_replies_go_out_over_tls(
    tls: str,
    make_mailbox: Any,
    smtp_servers: Any,
    imap_account: Any,
    raw_mail: Any,
    outbox: list[Any],
    agent: Any,
) -> None:
    mailbox = make_mailbox(smtp_tls=tls, smtp_port=smtp_servers.port(tls))
    ticket = _ticket_from_mail(mailbox, imap_account, raw_mail())
    outbox.clear()

    reply(ticket, "Secured answer.", agent)

    [received] = outbox
    assert received.listener == tls and received.login == "frontdesk"


def test_when_smtp_is_down_the_job_retries_and_the_error_shows_on_the_message(
    make_mailbox: Any,
    smtp_servers: Any,
    imap_account: Any,
    raw_mail: Any,
    outbox: list[Any],
    agent: Any,
    closed_port: int,
) -> None:
    mailbox = make_mailbox(smtp_port=closed_port)
    ticket = _ticket_from_mail(mailbox, imap_account, raw_mail())

    message = reply(ticket, "This cannot leave yet.", agent)

    session.refresh(message)
    assert "SMTP connect failed" in message.meta["delivery_error"]
    assert "connection refused" in message.meta["delivery_error"]
    session.expire_all()  # the job runner wrote with plain UPDATEs
    job = session.scalars(select(Job).where(Job.key == f"deliver:{message.id}")).one()
    assert job.state == "queued" and job.attempts == 1  # waiting for its retry
    assert job.run_at > job.created_at
    assert "connection refused" in job.last_error
    first_id = (
        session.scalars(select(OutboundMessageId).where(OutboundMessageId.kind == "reply"))
        .one()
        .message_id
    )

    with transaction():
        mailbox.smtp_port = smtp_servers.port("plain")
    deliver_message(message.id)  # what the retry runs

    [received] = _replies(outbox)
    assert received.parsed()["Message-ID"] == first_id  # the same mail, not a new one
    session.refresh(message)
    assert "delivery_error" not in message.meta and message.meta["delivered_at"]
