"""Talking to mail servers: TLS contexts, and errors that say which step failed and why."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field
from typing import Any


class MailServerError(Exception):
    """A mail server conversation failed at ``step`` (connect, starttls, login, select, ...).

    The message never contains a password: it is built from the server's answer and the
    address we dialled.
    """

    def __init__(self, protocol: str, step: str, reason: str) -> None:
        super().__init__(f"{protocol} {step} failed: {reason}")
        self.protocol = protocol
        self.step = step
        self.reason = reason


@dataclass
class StepReport:
    """The outcome of a connection test for one protocol, for the admin API."""

    ok: bool
    step: str | None = None
    error: str | None = None
    steps: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "failed_step": self.step,
            "error": self.error,
            "steps_passed": list(self.steps),
            "details": dict(self.details),
        }


def tls_context() -> ssl.SSLContext:
    """A verifying TLS context with the system's trust store (``SSL_CERT_FILE`` is honoured)."""
    return ssl.create_default_context()


def describe_network_error(exc: BaseException, host: str, port: int) -> str:
    """A plain-language reason for a failure to reach ``host:port``."""
    where = f"{host}:{port}"
    if isinstance(exc, socket.gaierror):
        return f"the host name {host!r} cannot be resolved ({exc.strerror or exc})"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {where} (nothing listens on that port)"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return f"no answer from {where} in time"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"the TLS certificate of {where} is not trusted: {exc.verify_message or exc}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake with {where} failed: {exc.reason or exc}"
    if isinstance(exc, ConnectionResetError):
        return f"{where} closed the connection"
    if isinstance(exc, OSError):
        return f"cannot reach {where}: {exc.strerror or exc}"
    return f"{type(exc).__name__}: {exc}"


def server_text(value: Any) -> str:
    """A server's reply (bytes, list of bytes, or an exception's args) as readable text."""
    if isinstance(value, BaseException):
        value = value.args[0] if len(value.args) == 1 else value.args or str(value)
    if isinstance(value, (list, tuple)):
        return " ".join(server_text(v) for v in value if v is not None)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").strip()
    return str(value).strip()
