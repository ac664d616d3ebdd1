"""Real mail servers for the tests: Dovecot (IMAP) and aiosmtpd (SMTP), on loopback ports.

Dovecot runs from a temporary configuration (passwd-file users, Maildir storage, plaintext login
allowed on loopback, STARTTLS and implicit TLS with a throw-away certificate). aiosmtpd runs
three listeners (plain, STARTTLS, implicit TLS) that require AUTH and record every message.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

INSTALL_HINT = "run `bash scripts/install-system-deps.sh` (as root) to install it"
HOST = "127.0.0.1"
ACCOUNT_POOL = 1000


class MissingComponent(RuntimeError):
    """A program the mail tests need is not installed."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float, alive: Any = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise RuntimeError(f"the server exited before listening on {HOST}:{port}")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {HOST}:{port} after {timeout} s")


@dataclass(frozen=True)
class TlsFiles:
    """A self-signed certificate for 127.0.0.1; clients trust it through ``SSL_CERT_FILE``."""

    cert: Path
    key: Path

    @classmethod
    def create(cls, folder: Path) -> TlsFiles:
        openssl = shutil.which("openssl")
        if openssl is None:
            raise MissingComponent(f"the mail tests need the openssl program: {INSTALL_HINT}")
        cert, key = folder / "cert.pem", folder / "key.pem"
        subprocess.run(
            [
                openssl,
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-keyout",
                str(key),
                "-out",
                str(cert),
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
            ],
            check=True,
            capture_output=True,
        )
        os.chmod(key, 0o644)  # Dovecot reads it as root, but a rootless Dovecot needs it too
        return cls(cert, key)

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


# --- IMAP ----------------------------------------------------------------------------------


@dataclass
class ImapAccount:
    """One mail user on the test Dovecot, with helpers that act as the outside world."""

    user: str
    password: str
    port: int
    ssl_port: int

    def connect(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(HOST, self.port, timeout=30)
        conn.login(self.user, self.password)
        return conn

    def append(self, raw: bytes, folder: str = "INBOX", flags: str = "") -> int:
        """Deliver ``raw`` into ``folder`` (IMAP APPEND); return its UID."""
        conn = self.connect()
        try:
            typ, data = conn.append(f'"{folder}"', f"({flags})" if flags else None, None, raw)
            assert typ == "OK", data
            match = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
            assert match, f"no APPENDUID in {data!r}"
            return int(match.group(1))
        finally:
            conn.logout()

    def uids(self, folder: str = "INBOX", criteria: str = "ALL") -> list[int]:
        conn = self.connect()
        try:
            conn.select(f'"{folder}"', readonly=True)
            _, data = conn.uid("SEARCH", None, criteria)
            return [int(t) for t in (data[0] or b"").split()]
        finally:
            conn.logout()

    def flags(self, folder: str = "INBOX") -> dict[int, set[str]]:
        """``{uid: {flags}}`` of every message in ``folder``."""
        conn = self.connect()
        try:
            conn.select(f'"{folder}"', readonly=True)
            _, data = conn.uid("FETCH", "1:*", "(FLAGS)")
            out: dict[int, set[str]] = {}
            for item in data:
                if not item:
                    continue
                match = re.search(rb"UID (\d+) FLAGS \(([^)]*)\)|FLAGS \(([^)]*)\) UID (\d+)", item)
                if match:
                    uid = int(match.group(1) or match.group(4))
                    flags = (match.group(2) or match.group(3) or b"").decode()
                    out[uid] = set(flags.split())
            return out
        finally:
            conn.logout()

    def uidvalidity(self, folder: str = "INBOX") -> int:
        conn = self.connect()
        try:
            conn.select(f'"{folder}"', readonly=True)
            return int(conn.response("UIDVALIDITY")[1][0])
        finally:
            conn.logout()

    def recreate(self, folder: str) -> None:
        """Delete ``folder`` and create it again: it gets a new UIDVALIDITY and UIDs from 1."""
        conn = self.connect()
        try:
            conn.delete(f'"{folder}"')
            typ, data = conn.create(f'"{folder}"')
            assert typ == "OK", data
        finally:
            conn.logout()

    def create(self, folder: str) -> None:
        conn = self.connect()
        try:
            conn.create(f'"{folder}"')
        finally:
            conn.logout()


class DovecotServer:
    """A Dovecot instance from a temporary configuration; ``add_account`` adds mail users."""

    def __init__(self, tls: TlsFiles) -> None:
        self.tls = tls
        self.root = Path(tempfile.mkdtemp(prefix="frontdesk-dovecot-"))
        self.root.chmod(0o755)  # Dovecot's unprivileged processes must reach the mail folders
        self.users = self.root / "users"
        self.port = free_port()
        self.ssl_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def start(self) -> DovecotServer:
        binary = shutil.which("dovecot") or (
            "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
        )
        if binary is None:
            raise MissingComponent(f"the mail tests need Dovecot (dovecot-imapd): {INSTALL_HINT}")
        self._write_pool()
        (self.root / "mail").mkdir()
        config = self.root / "dovecot.conf"
        config.write_text(self._config())
        if os.geteuid() == 0:
            owner = pwd.getpwnam("dovecot")
            os.chown(self.root / "mail", owner.pw_uid, owner.pw_gid)
        log = (self.root / "dovecot.out").open("wb")
        self.process = subprocess.Popen(
            [binary, "-F", "-c", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
        try:
            for port in (self.port, self.ssl_port):
                wait_for_port(port, 30, alive=lambda: self.process.poll() is None)
        except RuntimeError as exc:
            self.stop()
            raise RuntimeError(f"Dovecot did not start: {exc}\n{self.log_tail()}") from None
        return self

    def _config(self) -> str:
        root = self.root
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("dovecot"), pwd.getpwnam("dovenull")
            except KeyError:
                raise MissingComponent(
                    f"the users 'dovecot' and 'dovenull' are missing: {INSTALL_HINT}"
                ) from None
            users = "default_login_user = dovenull\ndefault_internal_user = dovecot\n"
            mail_owner = "uid=dovecot gid=dovecot"
            chroot = ""
        else:  # a rootless Dovecot runs every process as the current user
            me = pwd.getpwuid(os.geteuid()).pw_name
            users = f"default_login_user = {me}\ndefault_internal_user = {me}\n"
            mail_owner = f"uid={os.geteuid()} gid={os.getegid()}"
            chroot = "  chroot =\n"
        return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = {HOST}
ssl = yes
ssl_cert = <{self.tls.cert}
ssl_key = <{self.tls.key}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
{users}first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.users}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {self.users}
  default_fields = {mail_owner} home={root}/mail/%u
}}
service imap-login {{
{chroot}  inet_listener imap {{
    address = {HOST}
    port = {self.port}
  }}
  inet_listener imaps {{
    address = {HOST}
    port = {self.ssl_port}
    ssl = yes
  }}
}}
service anvil {{
{chroot}}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""

    def _write_pool(self) -> None:
        # Dovecot notices a changed passwd-file by its mtime, in whole seconds: accounts added
        # one by one within a second would go unseen. So a pool is written before it starts.
        self.pool = [(f"user{n:04d}", secrets.token_urlsafe(12)) for n in range(ACCOUNT_POOL)]
        self.users.write_text("".join(f"{u}:{{PLAIN}}{p}::::::\n" for u, p in self.pool))

    def add_account(self) -> ImapAccount:
        """A mail account nobody used yet (its mailbox is empty)."""
        with self._lock:
            if not self.pool:
                raise RuntimeError(f"all {ACCOUNT_POOL} test mail accounts are used up")
            user, password = self.pool.pop(0)
        return ImapAccount(user, password, self.port, self.ssl_port)

    def log_tail(self, lines: int = 30) -> str:
        text = ""
        for name in ("dovecot.out", "dovecot.log"):
            path = self.root / name
            if path.exists():
                text += path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)


# --- SMTP ----------------------------------------------------------------------------------


@dataclass
class ReceivedMail:
    """One message the SMTP server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    login: str | None
    listener: str

    def parsed(self) -> EmailMessage:
        return BytesParser(policy=policy.default).parsebytes(self.data)  # type: ignore[return-value]


@dataclass
class RecordingHandler:
    """aiosmtpd handler that keeps every message it is given."""

    listener: str
    outbox: list[ReceivedMail] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        auth = getattr(session, "auth_data", None)
        login = getattr(auth, "login", None)
        if isinstance(login, bytes):
            login = login.decode()
        self.outbox.append(
            ReceivedMail(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.original_content or envelope.content,
                login,
                self.listener,
            )
        )
        return "250 OK message accepted"


class SmtpServers:
    """Three aiosmtpd listeners (plain, STARTTLS, implicit TLS) sharing one outbox and login."""

    def __init__(
        self, tls: TlsFiles, user: str = "frontdesk", password: str = "smtp-secret"
    ) -> None:
        self.tls = tls
        self.user = user
        self.password = password
        self.outbox: list[ReceivedMail] = []
        self.controllers: dict[str, Any] = {}

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.user
            and auth_data.password.decode() == self.password
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    def start(self) -> SmtpServers:
        try:
            from aiosmtpd.controller import Controller
        except ImportError:
            raise MissingComponent(
                "the mail tests need aiosmtpd: install the dev extra (pip install -e '.[dev]')"
            ) from None
        context = self.tls.server_context()
        variants = {
            "plain": {"auth_require_tls": False},
            "starttls": {"tls_context": context, "require_starttls": True},
            # aiosmtpd only knows about STARTTLS: on an implicit-TLS port it must be told that
            # AUTH may be offered.
            "ssl": {"ssl_context": context, "auth_require_tls": False},
        }
        for name, options in variants.items():
            handler = RecordingHandler(name, self.outbox)
            port = free_port()
            controller = Controller(
                handler,
                hostname=HOST,
                port=port,
                authenticator=self._authenticate,
                auth_required=True,
                **options,
            )
            controller.start()
            self.controllers[name] = controller
        return self

    def port(self, variant: str = "plain") -> int:
        return self.controllers[variant].port

    def stop(self) -> None:
        for controller in self.controllers.values():
            controller.stop()
        self.controllers.clear()
