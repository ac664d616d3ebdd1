"""Benchmark: inbound mail through the piped entry (in-process and the CLI) and through IMAP.

Generates N messages (default 10,000; a third are replies to earlier ones, about one in eight
carries an attachment) and takes them in on a fresh, migrated instance each time, with
threading, dedupe and screening on (the defaults):

- ``ingest_raw`` called in a loop in one process (what a batch importer or the poller does);
- ``frontdesk email ingest FILE...`` with every file in one invocation (the piped entry);
- Dovecot over IMAP, polled by ``poll_mailbox`` (reusing the test servers in
  ``channels/email/tests/servers.py``).

Each run happens in its own child process, so the peak RSS reported is that process's own (the
CLI's includes its read-ahead helper: ``wait4`` reports the largest of the two, and the CPU time
of both). Budget: at least 300 messages/s through the piped entry (the CLI) on SQLite; the
in-process run (one transaction per message, as the IMAP poller commits) is a figure.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from _lib import report
from _lib.instances import Instance, migrate, postgres_database, sqlite_instance
from _lib.procs import REPO, VENV_BIN, BenchError, clean_env, stop_children_on_sigterm

TARGET_PER_SECOND = 300.0
SERVERS = REPO / "channels" / "email" / "tests" / "servers.py"
WORDS = (
    "printer invoice account password login error screen order delivery refund network "
    "laptop phone update urgent please help broken slow again office monday contract"
).split()


def generate(folder: Path, count: int, seed: int = 7) -> list[Path]:
    """Write ``count`` messages as ``.eml`` files; a third reply to earlier ones."""
    rng = random.Random(seed)
    senders = [f"customer{n}@example{n % 50}.com" for n in range(max(count // 5, 1))]
    sent: list[tuple[str, str, str]] = []  # (sender, subject, message id)
    paths = []
    for index in range(count):
        mail = EmailMessage()
        if sent and rng.random() < 1 / 3:
            sender, subject, parent = rng.choice(sent)
            mail["Subject"] = f"Re: {subject}"
            mail["In-Reply-To"] = parent
            mail["References"] = parent
        else:
            sender = rng.choice(senders)
            subject = " ".join(rng.choice(WORDS) for _ in range(5)).capitalize()
            mail["Subject"] = subject
        message_id = make_msgid(domain="bench.example.com")
        mail["From"] = f"Customer <{sender}>"
        mail["To"] = "support@bench.example.org"
        mail["Date"] = format_datetime(datetime.now(UTC))
        mail["Message-ID"] = message_id
        body = "\n".join(" ".join(rng.choice(WORDS) for _ in range(12)) for _ in range(8))
        mail.set_content(f"Hello,\n\n{body}\n\nThanks\n")
        if rng.random() < 1 / 8:
            mail.add_attachment(
                rng.randbytes(20_000),
                maintype="application",
                subtype="octet-stream",
                filename=f"log-{index}.bin",
            )
        path = folder / f"{index:06d}.eml"
        path.write_bytes(mail.as_bytes())
        paths.append(path)
        sent.append((sender, subject, message_id))
    return paths


# --- child processes: each measures its own work and peak memory ---------------------------------


def child_inprocess(instance: Instance, mails: Path) -> dict[str, Any]:
    from frontdesk.db import session
    from frontdesk_email.ingest import ingest_raw

    from _lib.instances import app_context

    paths = sorted(mails.glob("*.eml"))
    outcomes: dict[str, int] = {}
    with app_context(instance):
        mailbox = _bench_mailbox()
        started, cpu = time.perf_counter(), time.process_time()
        for path in paths:
            record = ingest_raw(
                path.read_bytes(), mailbox=session.get(type(mailbox), mailbox.id), source="pipe"
            )
            outcomes[record.outcome] = outcomes.get(record.outcome, 0) + 1
            session.expunge_all()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"messages": len(paths), "seconds": seconds, "cpu_seconds": cpu, "outcomes": outcomes}


def child_imap(instance: Instance, mails: Path) -> dict[str, Any]:
    from frontdesk.db import session, transaction
    from frontdesk_email.imap import poll_mailbox

    from _lib.instances import app_context

    servers = _load_servers()
    tls = servers.TlsFiles.create(Path(tempfile.mkdtemp(prefix="bench-tls-")))
    os.environ["SSL_CERT_FILE"] = str(tls.cert)
    dovecot = servers.DovecotServer(tls).start()
    try:
        account = dovecot.add_account()
        paths = sorted(mails.glob("*.eml"))
        conn = account.connect()
        appended = time.perf_counter()
        for path in paths:
            typ, data = conn.append('"INBOX"', None, None, path.read_bytes())
            if typ != "OK":
                raise BenchError(f"IMAP APPEND failed: {data!r}")
        conn.logout()
        append_seconds = time.perf_counter() - appended
        outcomes: dict[str, int] = {}
        with app_context(instance):
            mailbox = _bench_mailbox()
            with transaction():
                mailbox.imap_host, mailbox.imap_port = servers.HOST, account.port
                mailbox.imap_tls, mailbox.imap_username = "none", account.user
                mailbox.imap_password = account.password
            started, cpu = time.perf_counter(), time.process_time()
            while True:
                result = poll_mailbox(session.get(type(mailbox), mailbox.id))
                for what, n in result.outcomes.items():
                    outcomes[what] = outcomes.get(what, 0) + n
                if not result.fetched:
                    break
                session.expunge_all()
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        dovecot.stop()
    return {
        "messages": len(paths),
        "seconds": seconds,
        "cpu_seconds": cpu,
        "outcomes": outcomes,
        "append_seconds": append_seconds,
    }


def _bench_mailbox() -> Any:
    from frontdesk.db import session, transaction
    from frontdesk_email.models import Mailbox
    from sqlalchemy import select

    mailbox = session.scalar(select(Mailbox).where(Mailbox.key == "bench"))
    if mailbox is None:
        with transaction():
            mailbox = Mailbox(
                key="bench",
                name="Bench",
                from_address="support@bench.example.org",
                smtp_host="127.0.0.1",
                smtp_port=9,
                smtp_tls="none",
            )
            session.add(mailbox)
    return mailbox


def _load_servers() -> Any:
    if not SERVERS.exists():
        raise BenchError(f"the IMAP run needs the mail test servers at {SERVERS}; it is missing")
    spec = importlib.util.spec_from_file_location("frontdesk_email_bench_servers", SERVERS)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# --- the parent: prepare instances, run children, print figures ---------------------------------


def run_child(mode: str, instance: Instance, mails: Path) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        mode,
        "--instance",
        str(instance.path),
        "--database-url",
        instance.database_url,
        "--mails",
        str(mails),
    ]
    env = {**instance.env, "FRONTDESK_SECRET_KEY": instance.secret_key}
    return _measured(cmd, env, json_from_stdout=True)


def run_cli(instance: Instance, paths: list[Path]) -> dict[str, Any]:
    """``frontdesk email ingest --json`` with every file at once (a batch through the pipe)."""
    from frontdesk_email import ingest  # noqa: F401  (fail early when the plugin is missing)

    cmd = [
        str(VENV_BIN / "frontdesk"),
        "email",
        "ingest",
        "--mailbox",
        "bench",
        "--json",
        *map(str, paths),
    ]
    with _app(instance):
        _bench_mailbox()
    started = time.perf_counter()
    result = _measured(cmd, instance.env, json_from_stdout=False)
    result["seconds"] = time.perf_counter() - started
    outcomes: dict[str, int] = {}
    for line in result.pop("stdout").splitlines():
        outcome = json.loads(line)["outcome"]
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    result.update(messages=len(paths), outcomes=outcomes)
    return result


def _app(instance: Instance) -> Any:
    from _lib.instances import app_context

    return app_context(instance)


def _measured(cmd: list[str], env: dict[str, str], *, json_from_stdout: bool) -> dict[str, Any]:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, env=clean_env(env), stdout=out, stderr=err, cwd=REPO)
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode(errors="replace")
    if proc.returncode != 0:
        raise BenchError(f"{' '.join(cmd[:4])} ... exited {proc.returncode}:\n{stderr[-2000:]}")
    result = json.loads(stdout.strip().splitlines()[-1]) if json_from_stdout else {"stdout": stdout}
    result["peak_rss_mib"] = usage.ru_maxrss / 1024  # KiB on Linux
    result.setdefault("cpu_seconds", usage.ru_utime + usage.ru_stime)  # the whole process
    return result


def fresh_instance(parent: Path, name: str, database_url: str | None = None) -> Instance:
    instance = sqlite_instance(parent, name)
    if database_url:
        instance = Instance(instance.path, database_url, instance.secret_key)
    migrate(instance)
    return instance


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="messages per run")
    parser.add_argument("--skip-imap", action="store_true", help="leave out the IMAP run")
    parser.add_argument("--postgres", action="store_true", help="also run in-process on PostgreSQL")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--instance", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--mails", help=argparse.SUPPRESS)
    return parser.parse_args()


def child_main(args: argparse.Namespace) -> int:
    secret = os.environ["FRONTDESK_SECRET_KEY"]
    instance = Instance(Path(args.instance), args.database_url, secret)
    work = {"inprocess": child_inprocess, "imap": child_imap}[args.child]
    result = work(instance, Path(args.mails))
    print(json.dumps(result))
    return 0


def planned_runs(args: argparse.Namespace, tmp: Path, mails: Path, paths: list[Path]) -> list:
    """(name, database, callable) for every run this invocation asked for."""
    runs = [
        ("ingest_raw in-process", "sqlite",
         lambda: run_child("inprocess", fresh_instance(tmp, "inprocess"), mails)),
        ("frontdesk email ingest FILE...", "sqlite",
         lambda: run_cli(fresh_instance(tmp, "cli"), paths)),
    ]  # fmt: skip
    if args.postgres:
        runs.append(("ingest_raw in-process", "postgresql", lambda: on_postgres(tmp, mails)))
    if not args.skip_imap:
        runs.append(("IMAP poll (Dovecot)", "sqlite",
                     lambda: run_child("imap", fresh_instance(tmp, "imap"), mails)))  # fmt: skip
    return runs


def on_postgres(tmp: Path, mails: Path) -> dict[str, Any]:
    with postgres_database("bench_mail") as url:
        return run_child("inprocess", fresh_instance(tmp, "pg", url), mails)


def main() -> int:
    args = parse_args()
    if args.child:
        return child_main(args)
    stop_children_on_sigterm()
    report.header(f"email ingest: {args.count} generated messages per run")
    rows: list[tuple[object, ...]] = []
    piped: dict[str, float | None] = {}
    with tempfile.TemporaryDirectory(prefix="frontdesk-bench-mail-") as tmp:
        mails = Path(tmp) / "mails"
        mails.mkdir()
        paths = generate(mails, args.count)
        size = sum(p.stat().st_size for p in paths) / 1024 / 1024
        report.note(f"generated {len(paths)} messages ({size:.1f} MiB)")
        for name, database, run in planned_runs(args, Path(tmp), mails, paths):
            report.note(f"running {name} on {database}")
            is_piped = database == "sqlite" and name.startswith("frontdesk email ingest")
            try:
                result = run()
            except BenchError as exc:
                failure = f"not measured: {exc}".splitlines()[0]
                rows.append((name, database, "-", "-", "-", "-", failure))
                if is_piped:
                    piped[name] = None
                continue
            rate = result["messages"] / result["seconds"]
            if is_piped:
                piped[name] = rate
            outcomes = ", ".join(f"{k} {v}" for k, v in sorted(result["outcomes"].items()))
            per_cpu = result["messages"] / result["cpu_seconds"]
            rows.append(
                (
                    name,
                    database,
                    round(result["seconds"], 1),
                    round(rate, 1),
                    round(per_cpu, 1),
                    round(result["peak_rss_mib"], 1),
                    outcomes,
                )
            )
            if "append_seconds" in result:
                report.extra(
                    "IMAP APPEND of the messages (setup, not timed)",
                    f"{result['append_seconds']:.1f} s",
                )
    report.table(
        ["run", "database", "seconds", "msg/s", "msg/CPU-s", "peak RSS MiB", "outcomes"], rows
    )
    report.load_average()
    ok = True
    for name, rate in piped.items():
        ok &= report.budget(
            f"{name} on SQLite",
            rate,
            f">= {TARGET_PER_SECOND:.0f} msg/s",
            rate is not None and rate >= TARGET_PER_SECOND,
            " msg/s",
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
