"""Automatic mails: acknowledgement (once per ticket), status change, pending reminder."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from frontdesk.db import clock_at, session, transaction, utcnow
from frontdesk.models import Event, Ticket
from frontdesk.services import change_status, create_ticket, reply

from frontdesk_email.imap import poll_mailbox
from frontdesk_email.models import OutboundMessageId
from frontdesk_email.notifications import (
    on_ticket_created,
    send_notification,
    send_pending_reminders,
)


def _poll_one(mailbox: Any, imap_account: Any, raw: bytes) -> Ticket:
    imap_account.append(raw)
    poll_mailbox(mailbox)
    return session.scalars(select(Ticket).order_by(Ticket.id.desc())).first()


def _automatic(outbox: list[Any]) -> list[Any]:
    return [m.parsed() for m in outbox if m.parsed()["Auto-Submitted"] == "auto-replied"]


def test_a_new_mail_ticket_is_acknowledged_once(
    mailbox: Any, imap_account: Any, raw_mail: Any, outbox: list[Any]
) -> None:
    first_id = "<hello@customer.test>"
    ticket = _poll_one(mailbox, imap_account, raw_mail(message_id=first_id, subject="Locked out"))

    [ack] = _automatic(outbox)
    assert ack["Subject"] == f"[Ticket#{ticket.number}] We have received your request: Locked out"
    assert ack["To"].addresses[0].addr_spec == "ana@customer.test"
    assert ack["In-Reply-To"] == first_id
    assert ack["X-Auto-Response-Suppress"] == "All"
    assert ticket.number in ack.get_body(("plain",)).get_content()
    assert ack.get_body(("html",)) is not None
    recorded = session.scalars(select(OutboundMessageId)).one()
    assert (recorded.kind, recorded.message_id) == ("acknowledgement", ack["Message-ID"])
    assert recorded.delivered_at is not None
    sent = session.scalars(select(Event).where(Event.action == "email_sent")).one()
    assert sent.field == "acknowledgement" and sent.ticket_id == ticket.id

    # A follow-up on the same ticket, and the hook firing again, send nothing more.
    _poll_one(
        mailbox,
        imap_account,
        raw_mail(subject=f"Re: [Ticket#{ticket.number}] Locked out", in_reply_to=first_id),
    )
    on_ticket_created(ticket)
    assert len(_automatic(outbox)) == 1
    assert len(session.scalars(select(OutboundMessageId)).all()) == 1


def test_the_acknowledgement_comes_from_the_mailbox_the_mail_came_to(
    make_mailbox: Any, imap_account: Any, raw_mail: Any, outbox: list[Any]
) -> None:
    first = make_mailbox()
    second = make_mailbox()
    receive_only = make_mailbox(smtp_host=None)

    _poll_one(second, imap_account, raw_mail(subject="Invoice missing"))
    _poll_one(receive_only, imap_account, raw_mail(subject="Password reset"))

    acks = _automatic(outbox)
    senders = {m["Subject"].split(": ", 1)[1]: m["From"].addresses[0].addr_spec for m in acks}
    # A mailbox that cannot send leaves it to the first active one that can.
    assert senders == {
        "Invoice missing": second.from_address,
        "Password reset": first.from_address,
    }


def test_mail_the_screen_drops_is_never_answered(
    mailbox: Any, imap_account: Any, raw_mail: Any, outbox: list[Any]
) -> None:
    imap_account.append(
        raw_mail(subject="Out of office", headers={"Auto-Submitted": "auto-replied"})
    )
    imap_account.append(
        raw_mail(subject="Newsletter", headers={"Precedence": "bulk"}, sender="news@shop.test")
    )

    result = poll_mailbox(mailbox)

    assert result.outcomes == {"dropped": 2}
    assert outbox == []


def test_tickets_not_opened_by_mail_are_not_acknowledged(
    mailbox: Any, customer: Any, agent: Any, outbox: list[Any]
) -> None:
    create_ticket(
        subject="Phoned in",
        body_text="Called about the printer.",
        customer=customer,
        actor=agent,
        channel="phone",
    )
    create_ticket(
        subject="Agent wrote first",
        body_text="We noticed a problem.",
        customer=customer,
        actor=agent,
        channel="email",
        message_kind="agent",
    )

    assert _automatic(outbox) == []


def test_mail_from_our_own_address_is_not_acknowledged(
    mailbox: Any, make_customer: Any, outbox: list[Any]
) -> None:
    ourselves = make_customer(email=mailbox.from_address)
    create_ticket(subject="Loop", body_text="from us", customer=ourselves, channel="email")

    assert outbox == []


def test_acknowledgements_per_customer_are_limited(
    app: Any, mailbox: Any, customer: Any, outbox: list[Any]
) -> None:
    app.extensions["frontdesk.registry"].plugins["email"].config["ACKNOWLEDGE_PER_HOUR"] = 2
    for n in range(4):
        create_ticket(subject=f"Storm {n}", body_text="again", customer=customer, channel="email")

    assert len(_automatic(outbox)) == 2


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("it", "Abbiamo ricevuto la tua richiesta"),
        ("ro", "Am primit solicitarea dumneavoastră"),
        ("ru", "Мы получили ваше обращение"),
        ("fa", "درخواست شما را دریافت کردیم"),
        ("en", "We have received your request"),
    ],
)
def test_the_customers_language_picks_the_template(
    language: str, expected: str, mailbox: Any, make_customer: Any, outbox: list[Any]
) -> None:
    customer = make_customer(language=language, name="Ștefan Вася")
    ticket = create_ticket(
        subject="Ciao — привет", body_text="…", customer=customer, channel="email"
    )

    [ack] = _automatic(outbox)
    assert ack["Subject"] == f"[Ticket#{ticket.number}] {expected}: Ciao — привет"
    assert ack["Content-Language"] == language
    assert "Ștefan Вася" in ack.get_body(("plain",)).get_content()
    html = ack.get_body(("html",)).get_content()
    assert ('dir="rtl"' in html) == (language == "fa")


def test_the_mailbox_language_is_used_when_the_customer_has_none(
    make_mailbox: Any, customer: Any, outbox: list[Any]
) -> None:
    make_mailbox(default_language="it")
    create_ticket(subject="Stampante", body_text="…", customer=customer, channel="email")

    assert "Abbiamo ricevuto" in _automatic(outbox)[0]["Subject"]


def test_the_customer_hears_when_an_agent_solves_the_ticket(
    mailbox: Any, customer: Any, agent: Any, outbox: list[Any]
) -> None:
    ticket = create_ticket(subject="Wi-Fi", body_text="slow", customer=customer, channel="email")
    outbox.clear()

    change_status(ticket, "open", agent)  # not a notified category
    change_status(ticket, "solved", agent)

    [mail] = _automatic(outbox)
    assert mail["Subject"].startswith(f"[Ticket#{ticket.number}] Your request is now")
    assert "solved" in mail.get_body(("plain",)).get_content().lower()


def test_a_failed_notification_is_visible_and_retried(
    make_mailbox: Any, customer: Any, closed_port: int, smtp_servers: Any, outbox: list[Any]
) -> None:
    mailbox = make_mailbox(smtp_port=closed_port)
    ticket = create_ticket(subject="Down", body_text="…", customer=customer, channel="email")

    row = session.scalars(select(OutboundMessageId)).one()
    assert row.delivered_at is None and "connection refused" in row.error
    failed = session.scalars(select(Event).where(Event.action == "email_failed")).one()
    assert failed.ticket_id == ticket.id and "connection refused" in failed.new["error"]

    with transaction():
        mailbox.smtp_port = smtp_servers.port("plain")
    send_notification(row.id)  # what the job's retry runs
    send_notification(row.id)  # and a second run changes nothing
    session.refresh(row)
    assert row.delivered_at is not None and row.error is None
    assert [m["Message-ID"] for m in _automatic(outbox)] == [row.message_id]


def test_pending_tickets_get_one_reminder_per_agent_message(
    mailbox: Any, customer: Any, agent: Any, outbox: list[Any]
) -> None:
    ticket = create_ticket(
        subject="Need logs", body_text="It crashes.", customer=customer, channel="email"
    )
    with clock_at(utcnow() - timedelta(days=4)):
        reply(ticket, "Could you send the logs?", agent)
        change_status(ticket, "pending", agent)
        session.flush()
    fresh = create_ticket(subject="Just asked", body_text="…", customer=customer, channel="email")
    reply(fresh, "Which version?", agent)
    change_status(fresh, "pending", agent)
    outbox.clear()

    assert send_pending_reminders() == 1
    assert send_pending_reminders() == 0

    [mail] = _automatic(outbox)
    assert mail["Subject"] == f"[Ticket#{ticket.number}] We are waiting for your reply: Need logs"
