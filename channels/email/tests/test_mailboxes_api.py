"""The admin API for mailboxes: CRUD with validation, write-only passwords, connection tests."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import func, select

from frontdesk.db import session, transaction
from frontdesk.models import Ticket

from frontdesk_email.models import Mailbox

URL = "/api/v1/email/mailboxes"


@pytest.fixture
def settings(imap_account: Any, smtp_servers: Any, make_queue: Any) -> dict[str, Any]:
    """A valid body for a mailbox on the test servers."""
    make_queue(key="billing")
    return {
        "key": "billing",
        "name": "Billing desk",
        "from_address": "billing@frontdesk.test",
        "imap_host": "127.0.0.1",
        "imap_port": imap_account.port,
        "imap_tls": "none",
        "imap_username": imap_account.user,
        "imap_password": imap_account.password,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_servers.port("plain"),
        "smtp_tls": "none",
        "smtp_username": smtp_servers.user,
        "smtp_password": smtp_servers.password,
        "default_queue": "billing",
        "default_language": "it",
    }


def _count() -> int:
    session.commit()
    return session.scalar(select(func.count()).select_from(Mailbox))


def test_an_admin_creates_reads_changes_and_deletes_a_mailbox(
    api_client: Any, settings: dict[str, Any], imap_account: Any
) -> None:
    created = api_client.post(URL, json=settings)

    assert created.status_code == 201, created.json
    assert created.headers["Location"].endswith(f"{URL}/billing")
    body = created.json
    assert body["default_queue"] == "billing" and body["default_language"] == "it"
    assert body["has_imap_password"] and body["has_smtp_password"]
    assert imap_account.password not in created.get_data(as_text=True)
    assert "smtp-secret" not in created.get_data(as_text=True)
    assert [m["key"] for m in api_client.get(URL).json["items"]] == ["billing"]

    changed = api_client.patch(f"{URL}/billing", json={"name": "Invoices", "smtp_port": 2525})
    assert changed.status_code == 200, changed.json
    assert changed.json["name"] == "Invoices" and changed.json["has_smtp_password"]
    stored = session.scalar(select(Mailbox).where(Mailbox.key == "billing"))
    session.refresh(stored)
    assert stored.smtp_password == "smtp-secret"  # left out: kept

    assert api_client.delete(f"{URL}/billing").status_code == 204
    assert api_client.get(f"{URL}/billing").status_code == 404
    assert _count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"imap_tls": "tls"}, "imap_tls"),
        ({"smtp_port": 0}, "smtp_port"),
        ({"imap_port": 70000}, "imap_port"),
        ({"from_address": "not an address"}, "from_address"),
        ({"imap_host": "imaps://mail.example.com"}, "imap_host"),
        ({"smtp_host": "mail example com"}, "smtp_host"),
        ({"imap_tls": "ssl", "imap_port": 143}, "imap_tls"),
        ({"smtp_tls": "starttls", "smtp_port": 465}, "smtp_tls"),
        ({"imap_password": None}, "imap_password"),
        ({"imap_done_folder": "INBOX"}, "imap_done_folder"),
        ({"default_queue": "nope"}, "default_queue"),
        ({"default_language": "xx"}, "default_language"),
        ({"key": "Has Spaces"}, "key"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_settings_are_refused_naming_the_field_and_nothing_is_stored(
    api_client: Any, settings: dict[str, Any], change: dict[str, Any], field: str
) -> None:
    response = api_client.post(URL, json={**settings, **change})

    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    assert field in response.json["errors"]
    assert _count() == 0


def test_a_bad_change_leaves_the_mailbox_as_it_was(
    api_client: Any, settings: dict[str, Any]
) -> None:
    api_client.post(URL, json=settings)

    response = api_client.patch(
        f"{URL}/billing", json={"name": "New", "smtp_tls": "ssl", "smtp_port": 587}
    )

    assert response.status_code == 422 and "smtp_tls" in response.json["errors"]
    assert api_client.get(f"{URL}/billing").json["name"] == "Billing desk"


def test_keys_are_unique(api_client: Any, settings: dict[str, Any]) -> None:
    api_client.post(URL, json=settings)

    again = api_client.post(URL, json=settings)

    assert again.status_code == 409 and again.json["errors"] == {"key": ["taken"]}
    assert _count() == 1


def test_only_admins_may_touch_mailboxes(client: Any, agent_client: Any) -> None:
    assert client.get(URL).status_code == 401
    assert agent_client.get(URL).status_code == 403
    headers = {"X-Requested-With": "frontdesk"}
    assert agent_client.post(f"{URL}/x/test", headers=headers).status_code == 403


def test_cookie_sessions_must_send_the_csrf_header(
    admin_client: Any, settings: dict[str, Any]
) -> None:
    refused = admin_client.post(URL, json=settings)
    accepted = admin_client.post(URL, json=settings, headers={"X-Requested-With": "frontdesk"})

    assert refused.status_code == 403
    assert accepted.status_code == 201


def test_the_connection_test_passes_on_good_settings(
    api_client: Any, settings: dict[str, Any]
) -> None:
    api_client.post(URL, json=settings)

    result = api_client.post(f"{URL}/billing/test").json

    assert result["ok"] is True
    assert result["imap"]["steps_passed"] == ["connect", "login", "select"]
    assert result["imap"]["details"]["messages"] == 0
    assert result["smtp"]["steps_passed"] == ["connect", "ehlo", "auth"]


@pytest.mark.parametrize(
    ("change", "proto", "step", "words"),
    [
        ({"imap_password": "wrong"}, "imap", "login", "AUTHENTICATIONFAILED"),
        ({"smtp_password": "wrong"}, "smtp", "auth", "535"),
        ({"imap_port": "closed"}, "imap", "connect", "connection refused"),
        ({"smtp_port": "closed"}, "smtp", "connect", "connection refused"),
        ({"imap_port": "smtp"}, "imap", "connect", "did not greet as an IMAP server"),
        ({"smtp_port": "imap"}, "smtp", "connect", "did not greet as an SMTP server"),
        ({"smtp_tls": "starttls"}, "smtp", "starttls", "does not offer STARTTLS"),
        ({"imap_folder": "Nowhere"}, "imap", "select", "'Nowhere' cannot be opened"),
        ({"imap_host": "no-such-host.invalid"}, "imap", "connect", "cannot be resolved"),
    ],
)
def test_the_connection_test_names_the_failing_step_and_why(
    api_client: Any,
    settings: dict[str, Any],
    change: dict[str, Any],
    proto: str,
    step: str,
    words: str,
    closed_port: int,
    imap_account: Any,
    smtp_servers: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ports = {"closed": closed_port, "smtp": smtp_servers.port("plain"), "imap": imap_account.port}
    change = {k: ports.get(v, v) if k.endswith("_port") else v for k, v in change.items()}
    api_client.post(URL, json={**settings, **change})
    caplog.set_level(logging.DEBUG)

    result = api_client.post(f"{URL}/billing/test").json

    assert result["ok"] is False
    assert result[proto]["ok"] is False
    assert result[proto]["failed_step"] == step
    assert words in result[proto]["error"]
    other = "smtp" if proto == "imap" else "imap"
    assert result[other]["ok"] is True  # the other half is judged on its own
    for secret in ("wrong", imap_account.password, smtp_servers.password):
        assert secret not in str(result) and secret not in caplog.text


def test_tls_settings_are_tested_with_certificate_checks(
    api_client: Any,
    settings: dict[str, Any],
    imap_account: Any,
    smtp_servers: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tls = {
        "imap_tls": "ssl",
        "imap_port": imap_account.ssl_port,
        "smtp_tls": "starttls",
        "smtp_port": smtp_servers.port("starttls"),
    }
    api_client.post(URL, json={**settings, **tls})

    trusted = api_client.post(f"{URL}/billing/test").json
    monkeypatch.delenv("SSL_CERT_FILE")  # the system store does not know the test certificate
    untrusted = api_client.post(f"{URL}/billing/test").json

    assert trusted["ok"] is True, trusted
    assert trusted["smtp"]["steps_passed"] == ["connect", "ehlo", "starttls", "auth"]
    assert untrusted["imap"]["failed_step"] == "connect"
    assert "certificate" in untrusted["imap"]["error"]
    assert untrusted["smtp"]["failed_step"] == "starttls"
    assert "certificate" in untrusted["smtp"]["error"]


def test_poll_now_queues_a_poll(
    api_client: Any, settings: dict[str, Any], imap_account: Any, raw_mail: Any
) -> None:
    api_client.post(URL, json=settings)
    imap_account.append(raw_mail(to="billing@frontdesk.test"))

    response = api_client.post(f"{URL}/billing/poll")

    assert response.status_code == 202
    ticket = session.scalars(select(Ticket)).one()
    assert ticket.queue.key == "billing"


def test_pointing_a_mailbox_at_another_folder_restarts_its_uid_bookkeeping(
    api_client: Any, mailbox: Any
) -> None:
    with transaction():
        mailbox.uidvalidity, mailbox.last_uid = 1700000000, 42
    url = f"{URL}/{mailbox.key}"

    renamed = api_client.patch(url, json={"name": "Renamed", "imap_folder": "INBOX"}).json
    moved = api_client.patch(url, json={"imap_folder": "Support"}).json

    assert (renamed["uidvalidity"], renamed["last_uid"]) == (1700000000, 42)
    assert (moved["uidvalidity"], moved["last_uid"]) == (None, 0)
