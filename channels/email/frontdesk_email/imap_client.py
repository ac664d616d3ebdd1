"""Talking IMAP: connect, secure, log in and open folders, naming the step that failed."""

from __future__ import annotations

import base64
import imaplib

from .config import settings
from .connection import (
    MailServerError,
    StepReport,
    describe_network_error,
    server_text,
    tls_context,
)
from .models import Mailbox

PROTOCOL = "IMAP"


def fail(step: str, reason: str) -> MailServerError:
    """The error for an IMAP conversation that failed at ``step``."""
    return MailServerError(PROTOCOL, step, reason)


def folder_name(name: str) -> str:
    """``name`` in IMAP's modified UTF-7 (RFC 3501 §5.1.3), quoted for a command."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii")
            out.append("&" + data.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    encoded = "".join(out).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{encoded}"'


def open_imap(mailbox: Mailbox, steps: list[str] | None = None) -> imaplib.IMAP4:
    """Connect, secure and log in as ``mailbox`` says; raise naming the failed step."""
    passed = steps if steps is not None else []
    host, port = mailbox.imap_host, mailbox.imap_port
    if not host:
        raise fail("configuration", "the mailbox has no IMAP host")
    timeout = settings()["IMAP_TIMEOUT"]
    try:
        if mailbox.imap_tls == "ssl":
            conn = imaplib.IMAP4_SSL(host, port, ssl_context=tls_context(), timeout=timeout)
        else:
            conn = imaplib.IMAP4(host, port, timeout=timeout)
    except imaplib.IMAP4.error as exc:
        reason = f"{host}:{port} did not greet as an IMAP server: {server_text(exc)}"
        raise fail("connect", reason) from None
    except OSError as exc:
        raise fail("connect", describe_network_error(exc, host, port)) from None
    passed.append("connect")
    try:
        if mailbox.imap_tls == "starttls":
            _starttls(conn, host, port)
            passed.append("starttls")
        _login(conn, mailbox)
        passed.append("login")
    except BaseException:
        logout(conn)
        raise
    return conn


def _starttls(conn: imaplib.IMAP4, host: str, port: int) -> None:
    if "STARTTLS" not in conn.capabilities:
        raise fail("starttls", "the server does not offer STARTTLS (try TLS mode 'ssl')")
    try:
        conn.starttls(ssl_context=tls_context())
    except imaplib.IMAP4.error as exc:
        raise fail("starttls", f"the server refused STARTTLS: {server_text(exc)}") from None
    except OSError as exc:
        raise fail("starttls", describe_network_error(exc, host, port)) from None


def _login(conn: imaplib.IMAP4, mailbox: Mailbox) -> None:
    user, password = mailbox.imap_username or "", mailbox.imap_password or ""
    try:
        if user.isascii() and password.isascii():
            conn.login(user, password)
        else:  # LOGIN is ASCII-only; SASL PLAIN carries UTF-8
            token = f"\0{user}\0{password}".encode()
            conn.authenticate("PLAIN", lambda _challenge: token)
    except imaplib.IMAP4.error as exc:
        reason = f"the server refused the username or password: {server_text(exc)}"
        raise fail("login", reason) from None
    except OSError as exc:
        reason = describe_network_error(exc, mailbox.imap_host or "", mailbox.imap_port)
        raise fail("login", reason) from None


def logout(conn: imaplib.IMAP4) -> None:
    """Say goodbye, ignoring a connection that is already gone."""
    try:
        conn.logout()
    except (imaplib.IMAP4.error, OSError):
        pass


def command(conn: imaplib.IMAP4, step: str, *args: str) -> list:
    """Run a UID command; a NO/BAD answer or a broken connection becomes a ``MailServerError``."""
    try:
        typ, data = conn.uid(*args)
    except (imaplib.IMAP4.error, OSError) as exc:
        raise fail(step, f"{args[0]} failed: {server_text(exc)}") from None
    if typ != "OK":
        raise fail(step, f"{args[0]} refused: {server_text(data)}")
    return data


def select_folder(conn: imaplib.IMAP4, folder: str) -> tuple[int, int]:
    """Open ``folder`` read-write; return its UIDVALIDITY and message count."""
    try:
        typ, data = conn.select(folder_name(folder))
    except (imaplib.IMAP4.error, OSError) as exc:
        raise fail("select", f"folder {folder!r} cannot be opened: {server_text(exc)}") from None
    if typ != "OK":
        raise fail("select", f"folder {folder!r} cannot be opened: {server_text(data)}")
    _, values = conn.response("UIDVALIDITY")
    if not values or values[0] is None:
        raise fail("select", f"the server gave no UIDVALIDITY for {folder!r}")
    return int(values[0]), int(data[0] or 0)


def ensure_folder(conn: imaplib.IMAP4, folder: str) -> None:
    """Create ``folder`` unless it exists."""
    try:
        typ, data = conn.create(folder_name(folder))
    except (imaplib.IMAP4.error, OSError) as exc:
        raise fail("create folder", f"{folder!r}: {server_text(exc)}") from None
    if typ != "OK" and "ALREADYEXISTS" not in server_text(data).upper():
        # Servers without the ALREADYEXISTS code: trust the folder exists if it can be listed.
        typ, listed = conn.list('""', folder_name(folder))
        if typ != "OK" or not [item for item in listed if item]:
            raise fail("create folder", f"{folder!r} cannot be created: {server_text(data)}")


def check_imap(mailbox: Mailbox) -> StepReport:
    """Connect, STARTTLS (when set), log in and open the folder, then log out."""
    steps: list[str] = []
    try:
        conn = open_imap(mailbox, steps)
    except MailServerError as exc:
        return StepReport(ok=False, step=exc.step, error=exc.reason, steps=steps)
    try:
        uidvalidity, count = select_folder(conn, mailbox.imap_folder)
        steps.append("select")
    except MailServerError as exc:
        return StepReport(ok=False, step=exc.step, error=exc.reason, steps=steps)
    finally:
        logout(conn)
    return StepReport(ok=True, steps=steps, details={"uidvalidity": uidvalidity, "messages": count})


def capabilities(conn: imaplib.IMAP4) -> set[str]:
    """What the server offers now (asked again: the greeting's list may lack MOVE or UIDPLUS)."""
    try:
        typ, data = conn.capability()
    except (imaplib.IMAP4.error, OSError):
        return set(conn.capabilities)
    return set(server_text(data).upper().split()) if typ == "OK" else set(conn.capabilities)
