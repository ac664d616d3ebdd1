"""Sending mail through a mailbox's SMTP server (TLS none/starttls/ssl, optional AUTH)."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from email.message import EmailMessage

from .config import settings
from .connection import (
    MailServerError,
    StepReport,
    describe_network_error,
    server_text,
    tls_context,
)
from .models import Mailbox

log = logging.getLogger(__name__)
PROTOCOL = "SMTP"


def _fail(step: str, reason: str) -> MailServerError:
    return MailServerError(PROTOCOL, step, reason)


def _reply(exc: smtplib.SMTPResponseException) -> str:
    return f"{exc.smtp_code} {server_text(exc.smtp_error)}".strip()


def open_smtp(mailbox: Mailbox, steps: list[str] | None = None) -> smtplib.SMTP:
    """Connect, greet, secure and authenticate as ``mailbox`` says; raise naming the failed step.

    ``steps`` receives the name of each step that succeeded.
    """
    passed = steps if steps is not None else []
    host, port = mailbox.smtp_host, mailbox.smtp_port
    if not host:
        raise _fail("configuration", "the mailbox has no SMTP host")
    timeout = settings()["SMTP_TIMEOUT"]
    try:
        if mailbox.smtp_tls == "ssl":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(
                host, port, timeout=timeout, context=tls_context()
            )
        else:
            conn = smtplib.SMTP(host, port, timeout=timeout)
    except smtplib.SMTPConnectError as exc:
        raise _fail("connect", f"{host}:{port} did not greet as an SMTP server: {_reply(exc)}")
    except smtplib.SMTPServerDisconnected:
        raise _fail("connect", f"{host}:{port} closed the connection before greeting") from None
    except OSError as exc:
        raise _fail("connect", describe_network_error(exc, host, port)) from None
    passed.append("connect")
    try:
        _greet(conn, host, port)
        passed.append("ehlo")
        if mailbox.smtp_tls == "starttls":
            _starttls(conn, host, port)
            passed.append("starttls")
        if mailbox.smtp_username:
            _login(conn, mailbox)
            passed.append("auth")
    except BaseException:
        _close(conn)
        raise
    return conn


def _greet(conn: smtplib.SMTP, host: str, port: int) -> None:
    try:
        code, message = conn.ehlo()
        if code != 250:
            code, message = conn.helo()
            if code != 250:
                raise _fail(
                    "ehlo", f"the server refused EHLO and HELO: {code} {server_text(message)}"
                )
    except smtplib.SMTPServerDisconnected:
        raise _fail("ehlo", "the server closed the connection") from None
    except OSError as exc:
        raise _fail("ehlo", describe_network_error(exc, host, port)) from None


def _starttls(conn: smtplib.SMTP, host: str, port: int) -> None:
    if not conn.has_extn("starttls"):
        raise _fail("starttls", "the server does not offer STARTTLS (try TLS mode 'ssl' or 'none')")
    try:
        conn.starttls(context=tls_context())
        conn.ehlo()
    except smtplib.SMTPResponseException as exc:
        raise _fail("starttls", f"the server refused STARTTLS: {_reply(exc)}") from None
    except OSError as exc:
        raise _fail("starttls", describe_network_error(exc, host, port)) from None


def _login(conn: smtplib.SMTP, mailbox: Mailbox) -> None:
    if not conn.has_extn("auth"):
        hint = " before STARTTLS" if mailbox.smtp_tls == "none" else ""
        raise _fail("auth", f"the server offers no AUTH{hint}, but a username is set")
    try:
        conn.login(mailbox.smtp_username or "", mailbox.smtp_password or "")
    except smtplib.SMTPAuthenticationError as exc:
        raise _fail("auth", f"the server refused the username or password: {_reply(exc)}") from None
    except smtplib.SMTPNotSupportedError:
        raise _fail("auth", "the server offers no AUTH mechanism we can use") from None
    except smtplib.SMTPException as exc:
        raise _fail("auth", f"login failed: {exc}") from None
    except OSError as exc:
        raise _fail("auth", describe_network_error(exc, mailbox.smtp_host or "", mailbox.smtp_port))


def _close(conn: smtplib.SMTP) -> None:
    try:
        conn.quit()
    except (smtplib.SMTPException, OSError):
        conn.close()


def send_mail(mailbox: Mailbox, message: EmailMessage, recipients: Sequence[str]) -> None:
    """Hand ``message`` to the SMTP server of ``mailbox``; raise ``MailServerError`` on failure.

    The envelope sender is the mailbox's address, so bounces come back to the mailbox.
    """
    if not recipients:
        raise _fail("send", "the message has no recipient address")
    conn = open_smtp(mailbox)
    try:
        refused = conn.send_message(
            message, from_addr=mailbox.from_address, to_addrs=list(recipients)
        )
    except smtplib.SMTPRecipientsRefused as exc:
        answers = "; ".join(
            f"{rcpt}: {code} {server_text(text)}" for rcpt, (code, text) in exc.recipients.items()
        )
        raise _fail("send", f"the server refused every recipient ({answers})") from None
    except smtplib.SMTPSenderRefused as exc:
        raise _fail("send", f"the server refused the sender {exc.sender}: {_reply(exc)}") from None
    except smtplib.SMTPDataError as exc:
        raise _fail("send", f"the server refused the message: {_reply(exc)}") from None
    except smtplib.SMTPServerDisconnected:
        raise _fail("send", "the server closed the connection during the transfer") from None
    except smtplib.SMTPException as exc:
        raise _fail("send", str(exc)) from None
    except OSError as exc:
        raise _fail("send", describe_network_error(exc, mailbox.smtp_host or "", mailbox.smtp_port))
    finally:
        _close(conn)
    if refused:
        log.warning("mailbox %s: some recipients were refused: %s", mailbox.key, sorted(refused))


def check_smtp(mailbox: Mailbox) -> StepReport:
    """Connect, EHLO, STARTTLS (when set) and AUTH (when a username is set), then hang up."""
    steps: list[str] = []
    try:
        conn = open_smtp(mailbox, steps)
    except MailServerError as exc:
        return StepReport(ok=False, step=exc.step, error=exc.reason, steps=steps)
    details = {"esmtp_features": sorted(conn.esmtp_features)}
    _close(conn)
    return StepReport(ok=True, steps=steps, details=details)
