"""The IMAP poller against a real Dovecot: mail becomes tickets, flags follow commits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from frontdesk.db import session, transaction, utcnow
from frontdesk.models import Message, Ticket

from frontdesk_email.connection import MailServerError
from frontdesk_email.imap import poll_due_mailboxes, poll_mailbox
from frontdesk_email.imap_client import folder_name
from frontdesk_email.models import InboundRecord


def _count(model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_a_mail_in_the_inbox_becomes_a_ticket(
    mailbox: Any, imap_account: Any, raw_mail: Any
) -> None:
    uid = imap_account.append(raw_mail(subject="Printer on floor 2 is offline"))

    result = poll_mailbox(mailbox)

    assert result.outcomes["created"] == 1
    ticket = session.scalars(select(Ticket)).one()
    assert ticket.subject == "Printer on floor 2 is offline"
    assert ticket.channel == "email"
    assert ticket.customer.email == "ana@customer.test"
    assert "\\Seen" in imap_account.flags()[uid]
    record = session.scalars(select(InboundRecord)).one()
    assert (record.imap_uid, record.uidvalidity) == (uid, imap_account.uidvalidity())
    assert (record.mailbox_id, record.ticket_id) == (mailbox.id, ticket.id)
    assert mailbox.last_uid == uid and mailbox.last_error is None


def test_each_message_is_taken_once_even_when_already_read_by_a_person(
    mailbox: Any, imap_account: Any, raw_mail: Any
) -> None:
    uids = [
        imap_account.append(raw_mail(subject=f"Request {n}", sender=f"c{n}@customer.test"))
        for n in range(3)
    ]
    imap_account.append(raw_mail(subject="Opened in a mail client first"), flags="\\Seen")

    first = poll_mailbox(mailbox)
    second = poll_mailbox(mailbox)

    assert first.outcomes["created"] == 4
    assert second.fetched == 0
    assert _count(Ticket) == 4 and _count(InboundRecord) == 4
    assert all("\\Seen" in flags for flags in imap_account.flags().values())
    assert mailbox.last_uid == max(uids) + 1


def test_processed_mail_moves_to_the_done_folder_when_one_is_set(
    make_mailbox: Any, imap_account: Any, raw_mail: Any
) -> None:
    mailbox = make_mailbox(imap_done_folder="Processed")
    imap_account.append(raw_mail(subject="Move me"))
    imap_account.append(raw_mail(subject="Me too", sender="bob@customer.test"))

    poll_mailbox(mailbox)

    assert imap_account.uids("INBOX") == []
    assert len(imap_account.uids("Processed")) == 2
    assert _count(Ticket) == 2


def test_a_folder_with_a_non_ascii_name_is_polled(
    make_mailbox: Any, imap_account: Any, raw_mail: Any
) -> None:
    imap_account.create(folder_name("Assistenza clienti – è").strip('"'))
    mailbox = make_mailbox(imap_folder="Assistenza clienti – è")
    imap_account.append(raw_mail(), folder=folder_name("Assistenza clienti – è").strip('"'))

    assert poll_mailbox(mailbox).outcomes["created"] == 1


def test_a_changed_uidvalidity_reads_the_folder_again_without_duplicates(
    make_mailbox: Any, imap_account: Any, raw_mail: Any
) -> None:
    imap_account.create("Support")
    mailbox = make_mailbox(imap_folder="Support")
    old = [raw_mail(subject=f"Old {n}", sender=f"o{n}@customer.test") for n in range(2)]
    for raw in old:
        imap_account.append(raw, folder="Support")
    poll_mailbox(mailbox)
    before = mailbox.uidvalidity

    # The server lost its index: same mail, new UIDVALIDITY, UIDs from 1 again, one new mail.
    imap_account.recreate("Support")
    for raw in old:
        imap_account.append(raw, folder="Support")
    imap_account.append(raw_mail(subject="New after the rebuild"), folder="Support")
    result = poll_mailbox(mailbox)

    assert result.uidvalidity_changed
    assert mailbox.uidvalidity == imap_account.uidvalidity("Support") != before
    assert result.outcomes == {"duplicate": 2, "created": 1}
    assert sorted(session.scalars(select(Ticket.subject))) == [
        "New after the rebuild",
        "Old 0",
        "Old 1",
    ]
    assert _count(Message) == 3
    assert mailbox.last_uid == 3


@pytest.mark.parametrize("tls", ["starttls", "ssl"])
def test_polling_works_over_tls(
    tls: str, make_mailbox: Any, imap_account: Any, raw_mail: Any
) -> None:
    port = imap_account.ssl_port if tls == "ssl" else imap_account.port
    mailbox = make_mailbox(imap_tls=tls, imap_port=port)
    imap_account.append(raw_mail())

    assert poll_mailbox(mailbox).outcomes["created"] == 1


def test_a_refused_login_is_recorded_on_the_mailbox_and_cleared_by_the_next_good_poll(
    make_mailbox: Any, imap_account: Any, raw_mail: Any
) -> None:
    mailbox = make_mailbox(imap_password="not-the-password")
    imap_account.append(raw_mail())

    with pytest.raises(MailServerError) as caught:
        poll_mailbox(mailbox)

    assert caught.value.step == "login"
    assert "IMAP login failed" in mailbox.last_error
    assert "AUTHENTICATIONFAILED" in mailbox.last_error
    assert "not-the-password" not in mailbox.last_error
    assert _count(Ticket) == 0 and "\\Seen" not in imap_account.flags()[1]

    with transaction():
        mailbox.imap_password = imap_account.password
    poll_mailbox(mailbox)
    assert mailbox.last_error is None and _count(Ticket) == 1


def test_an_unreachable_server_is_recorded(make_mailbox: Any, closed_port: int) -> None:
    mailbox = make_mailbox(imap_port=closed_port)

    with pytest.raises(MailServerError):
        poll_mailbox(mailbox)

    assert "IMAP connect failed: connection refused" in mailbox.last_error


def test_the_periodic_task_polls_only_active_mailboxes_that_are_due(
    app: Any, make_mailbox: Any, imap_account: Any, raw_mail: Any
) -> None:
    assert "email.poll" in app.extensions["frontdesk.registry"].periodic_tasks
    due = make_mailbox()
    recent = make_mailbox(last_polled_at=utcnow() - timedelta(seconds=5))
    make_mailbox(is_active=False)
    make_mailbox(imap_host=None)
    imap_account.append(raw_mail())

    polled = poll_due_mailboxes()  # queues one job per due mailbox; tests run jobs at once

    assert polled == [due.key]
    assert recent.key not in polled
    assert _count(Ticket) == 1
    assert session.scalar(select(InboundRecord.mailbox_id)) == due.id
