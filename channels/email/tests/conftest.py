"""Fixtures of the email tests: real Dovecot and SMTP servers, mailboxes pointing at them, mail.

A missing server program fails the tests that need it with a message naming the install script;
nothing is skipped.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from typing import Any

import pytest


def _load_servers() -> Any:
    # Test folders are not packages (pytest's importlib mode): load the helper module by path.
    name = "frontdesk_email_test_servers"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("servers.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


servers = _load_servers()
_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def mail_tls(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A throw-away certificate for 127.0.0.1 used by every TLS listener."""
    try:
        return servers.TlsFiles.create(tmp_path_factory.mktemp("mail-tls"))
    except servers.MissingComponent as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(autouse=True)
def trust_test_certificate(mail_tls: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Our TLS clients use the system trust store; make it the test certificate."""
    monkeypatch.setenv("SSL_CERT_FILE", str(mail_tls.cert))


@pytest.fixture(scope="session")
def dovecot(mail_tls: Any) -> Iterator[Any]:
    """A running Dovecot IMAP server (plain/STARTTLS port and implicit-TLS port)."""
    try:
        server = servers.DovecotServer(mail_tls).start()
    except servers.MissingComponent as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def smtp_servers(mail_tls: Any) -> Iterator[Any]:
    """aiosmtpd listeners (plain, STARTTLS, implicit TLS) that require AUTH and keep every mail."""
    try:
        server = servers.SmtpServers(mail_tls).start()
    except servers.MissingComponent as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def imap_account(dovecot: Any) -> Any:
    """A fresh, empty mail account on the test Dovecot."""
    return dovecot.add_account()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (a server that is down)."""
    return servers.free_port()


@pytest.fixture
def outbox(smtp_servers: Any) -> list[Any]:
    """What the SMTP server received during this test (``ReceivedMail`` items)."""
    smtp_servers.outbox.clear()
    return smtp_servers.outbox


@pytest.fixture
def make_mailbox(app: Any, imap_account: Any, smtp_servers: Any) -> Callable[..., Any]:
    """``make_mailbox(**fields)``: a mailbox on ``imap_account`` that sends through aiosmtpd."""
    from frontdesk.db import session, transaction
    from frontdesk_email.models import Mailbox

    def make(**overrides: Any) -> Any:
        n = next(_numbers)
        values = {
            "key": f"support{n}",
            "name": "Frontdesk Support",
            "from_address": f"support{n}@frontdesk.test",
            "imap_host": servers.HOST,
            "imap_port": imap_account.port,
            "imap_tls": "none",
            "imap_username": imap_account.user,
            "imap_password": imap_account.password,
            "smtp_host": servers.HOST,
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


@pytest.fixture
def mailbox(make_mailbox: Callable[..., Any]) -> Any:
    return make_mailbox()


def compose(
    *,
    sender: str = "ana@customer.test",
    sender_name: str = "Ana Popescu",
    to: str = "support@frontdesk.test",
    subject: str = "Printer on floor 2 is offline",
    body: str = "Hello,\nthe printer does not answer since this morning.\n",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, str, bytes]] = (),
) -> bytes:
    """A customer's mail as raw bytes, the way a mail client would write it."""
    mail = EmailMessage()
    mail["From"] = formataddr((sender_name, sender))
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Message-ID"] = message_id or make_msgid(domain="customer.test")
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
    if references:
        mail["References"] = " ".join(references)
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(body)
    for filename, media_type, data in attachments:
        maintype, _, subtype = media_type.partition("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return bytes(mail)


@pytest.fixture
def raw_mail() -> Callable[..., bytes]:
    """``raw_mail(subject=..., in_reply_to=...)``: a customer's mail as bytes (see ``compose``)."""
    return compose


def pytest_configure(config: pytest.Config) -> None:
    # The plain listener deliberately takes AUTH without TLS: loopback only, as many relays do.
    config.addinivalue_line(
        "filterwarnings", "ignore:Requiring AUTH while not requiring TLS:UserWarning"
    )
