"""Helpers for the inbound-mail tests: building mails, fixtures, running the real CLI.

Test modules import this file by name (``sys.path`` gets this folder first), because the suite
runs in pytest's importlib mode where test folders are not packages.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from frontdesk.db import session, transaction, utcnow
from frontdesk.models import Ticket

MAILS = Path(__file__).parent / "mails"
REPO = Path(__file__).resolve().parents[3]
FRONTDESK = Path(sys.executable).with_name("frontdesk")
_numbers = itertools.count(1)


def make_mail(
    *,
    sender: str = "Ann Customer <ann@example.com>",
    to: str = "support@example.org",
    subject: str = "Printer on fire",
    body: str = "The printer on the second floor is on fire.",
    html: str | None = None,
    message_id: str | None = "auto",
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, bytes, str]] = (),
) -> bytes:
    """One RFC 5322 message as bytes (``message_id=None`` leaves the header out)."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = format_datetime(utcnow())
    if message_id == "auto":
        message_id = f"<test-{next(_numbers)}-{os.getpid()}@example.com>"
    if message_id:
        mail["Message-ID"] = message_id
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
    if references:
        mail["References"] = " ".join(references)
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(body)
    if html is not None:
        mail.add_alternative(html, subtype="html")
    for filename, data, media_type in attachments:
        maintype, _, subtype = media_type.partition("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return mail.as_bytes()


def fixture_mail(name: str) -> bytes:
    return (MAILS / name).read_bytes()


def ticket_count() -> int:
    return session.scalar(select(func.count(Ticket.id))) or 0


@pytest.fixture
def email_settings(app: Any) -> Any:
    """``email_settings(RATE_LIMIT_COUNT=3, ...)``: change the email plugin's settings."""

    def change(**values: Any) -> None:
        app.extensions["frontdesk.registry"].plugins["email"].config.update(values)

    return change


@pytest.fixture
def no_acknowledgements(email_settings: Any) -> None:
    """Inbound tests look at what came in; acknowledgement mail is tested with SMTP elsewhere."""
    email_settings(ACKNOWLEDGE=False)


@pytest.fixture
def ingest(app: Any) -> Any:
    """``ingest(raw, mailbox=None, **kw)``: run ``ingest_raw`` like the pipe does."""
    from frontdesk_email.ingest import ingest_raw

    def run(raw: bytes, mailbox: Any = None, source: str = "pipe", **kwargs: Any) -> Any:
        return ingest_raw(raw, mailbox=mailbox, source=source, **kwargs)

    return run


@pytest.fixture
def make_plain_mailbox(app: Any) -> Any:
    """``make_plain_mailbox(key=..., from_address=...)``: a mailbox row, no servers behind it."""
    from frontdesk_email.models import Mailbox

    def make(**fields: Any) -> Any:
        n = next(_numbers)
        fields.setdefault("key", f"box{n}")
        fields.setdefault("from_address", f"box{n}@support.example.org")
        with transaction():
            mailbox = Mailbox(**fields)
            session.add(mailbox)
        return mailbox

    return make


@pytest.fixture
def record_outbound(app: Any) -> Any:
    """``record_outbound(ticket) -> Message-ID``: pretend we sent a mail on ``ticket``."""
    from frontdesk_email.compose import ID_MARK
    from frontdesk_email.models import OutboundMessageId

    def record(ticket: Any, message_id: str | None = None) -> str:
        message_id = message_id or make_msgid(idstring=ID_MARK, domain="support.example.org")
        with transaction():
            session.add(OutboundMessageId(message_id=message_id, ticket_id=ticket.id))
        return message_id

    return record


def cli_env(app: Any, tmp_path: Path, **extra: str) -> dict[str, str]:
    """Environment for running ``frontdesk`` against the test's database and blob store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    env.update(
        FRONTDESK_SECRET_KEY="cli-test-secret",
        FRONTDESK_DATABASE_URL=app.config["DATABASE_URL"],
        FRONTDESK_ATTACHMENT_DIR=app.config["ATTACHMENT_DIR"],
        FRONTDESK_INSTANCE_PATH=str(tmp_path / "cli-instance"),
        FRONTDESK_PLUGINS_CONFIG=json.dumps({"email": {"ACKNOWLEDGE": False}}),
    )
    env.update(extra)
    return env


def run_cli(
    app: Any, tmp_path: Path, *args: str, input: bytes | None = None, **env: str
) -> subprocess.CompletedProcess[bytes]:
    """Run the installed ``frontdesk`` command (a separate process, as an MTA would)."""
    session.commit()  # the child must see what this test wrote, and not wait on our locks
    if not FRONTDESK.exists():
        raise RuntimeError(f"the frontdesk command is missing at {FRONTDESK}; install the project")
    result = subprocess.run(
        [str(FRONTDESK), *args],
        input=input if input is not None else b"",
        capture_output=True,
        env=cli_env(app, tmp_path, **env),
        cwd=tmp_path,
        timeout=600,
        check=False,
    )
    session.expire_all()  # what the child wrote must be read afresh
    return result


def json_lines(output: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.decode().splitlines() if line.strip()]
