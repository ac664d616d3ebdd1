"""Notices outside tickets (``deliver_notice``): plain mails through the default mailbox's SMTP."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import current_app
from sqlalchemy import select

from frontdesk.db import session, transaction
from frontdesk.models import Job
from frontdesk.services import get_or_create_customer
from frontdesk_email.models import Mailbox


@pytest.fixture
def make_sender(app: Any, smtp_servers: Any) -> Callable[..., Any]:
    """``make_sender(key, **fields)``: a mailbox that only sends, through the test SMTP server."""

    def make(key: str, **overrides: Any) -> Any:
        values = {
            "key": key,
            "name": "Help Center",
            "from_address": f"{key}@frontdesk.test",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_servers.port("plain"),
            "smtp_tls": "none",
            "smtp_username": smtp_servers.user,
            "smtp_password": smtp_servers.password,
        }
        values.update(overrides)
        with transaction():
            mailbox = Mailbox(**values)
            session.add(mailbox)
        return mailbox

    return make


def _notify(recipient: Any, **fields: Any) -> Any:
    values = {
        "kind": "signin_link",
        "subject": "Ваша ссылка для входа",
        "text": "Здравствуйте!\n\nОткройте ссылку ниже, чтобы войти.",
        "url": "http://frontdesk.test/ru/portal/signin/link/abc",
    }
    values.update(fields)
    return current_app.extensions["frontdesk"].hook.deliver_notice(recipient=recipient, **values)


def _post_page_form(client: Any, url: str, data: dict[str, str] | None = None) -> Any:
    """Post to a portal page as a browser does: with the CSRF token the page carried."""
    page = client.get(url).get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    return client.post(url, data={**(data or {}), "csrf_token": match.group(1) if match else ""})


@pytest.mark.parametrize(
    "app_config", [{"PLUGINS_CONFIG": {"email": {"DEFAULT_MAILBOX": "notices"}}}]
)
def test_a_notice_is_a_plain_automatic_mail_from_the_default_mailbox(
    make_sender: Any, outbox: list[Any]
) -> None:
    make_sender("support")
    make_sender("notices", name="Помощь")
    customer = get_or_create_customer("olga@customer.test", "Ольга Смирнова", language="ru")

    assert _notify(customer) is True

    [received] = outbox
    assert received.rcpt_tos == ["olga@customer.test"]
    assert received.mail_from == "notices@frontdesk.test"
    mail = received.parsed()
    assert mail["Subject"] == "Ваша ссылка для входа"
    assert mail["From"].addresses[0].addr_spec == "notices@frontdesk.test"
    assert mail["From"].addresses[0].display_name == "Помощь"
    assert mail["To"].addresses[0].display_name == "Ольга Смирнова"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["X-Auto-Response-Suppress"] == "All"
    assert mail["Message-ID"].endswith("@frontdesk.test>")
    assert not mail.is_multipart()
    assert mail.get_content_type() == "text/plain"
    body = mail.get_content().replace("\r\n", "\n")
    assert body.startswith("Здравствуйте!\n\nОткройте ссылку ниже, чтобы войти.")
    assert "\nhttp://frontdesk.test/ru/portal/signin/link/abc\n" in body
    job = session.scalars(
        select(Job).where(Job.func == "frontdesk_email.notices.send_notice")
    ).one()
    assert job.state == "done"


def test_without_a_default_the_first_active_sender_is_used(
    make_sender: Any, outbox: list[Any]
) -> None:
    make_sender("old", is_active=False)
    make_sender("main")
    make_sender("second")
    customer = get_or_create_customer("ana@customer.test", "Ana")

    assert (
        _notify(
            customer, subject="Hello", text="Link inside: http://x.test/a", url="http://x.test/a"
        )
        is True
    )

    [received] = outbox
    assert received.mail_from == "main@frontdesk.test"
    assert received.parsed().get_content().count("http://x.test/a") == 1  # not repeated


def test_no_sending_mailbox_means_nobody_could_deliver(app: Any, outbox: list[Any]) -> None:
    with transaction():
        session.add(Mailbox(key="read-only", from_address="in@frontdesk.test", imap_host="x"))
    customer = get_or_create_customer("ana@customer.test", "Ana")
    assert _notify(customer) is None
    assert outbox == []


def test_a_failing_server_leaves_the_notice_queued_for_a_retry(
    make_sender: Any, closed_port: int, outbox: list[Any]
) -> None:
    make_sender("down", smtp_port=closed_port)
    customer = get_or_create_customer("ana@customer.test", "Ana")

    assert _notify(customer) is True

    assert outbox == []
    session.expire_all()
    job = session.scalars(
        select(Job).where(Job.func == "frontdesk_email.notices.send_notice")
    ).one()
    assert job.state == "queued" and job.attempts == 1
    assert "connect" in job.last_error


def test_a_portal_sign_in_link_arrives_by_mail_and_signs_in(
    app: Any, client: Any, make_sender: Any, outbox: list[Any]
) -> None:
    make_sender("support")
    customer = get_or_create_customer("ana@customer.test", "Ana Popescu", language="ro")

    response = _post_page_form(client, "/en/portal/signin/link", {"email": "ana@customer.test"})
    assert response.status_code == 200

    [received] = outbox
    mail = received.parsed()
    assert mail["Auto-Submitted"] == "auto-generated"
    text = mail.get_content()
    [link] = re.findall(r"http://frontdesk\.test(/ro/portal/signin/link/[\w-]+)", text)
    assert _post_page_form(client, link).status_code == 302
    with client.session_transaction() as sess:
        assert sess["user_id"] == customer.id
    assert _post_page_form(app.test_client(), link).status_code == 410
