"""A poll stopped at any point loses nothing and duplicates nothing when it runs again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from frontdesk.db import session
from frontdesk.models import Message, Ticket

from frontdesk_email import imap, ingest
from frontdesk_email.imap import poll_mailbox
from frontdesk_email.models import InboundRecord


class Killed(BaseException):
    """Stands for the process dying: nothing in the poller may catch it."""


def _count(model: Any, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def _fill(imap_account: Any, raw_mail: Any, count: int) -> list[int]:
    return [
        imap_account.append(raw_mail(subject=f"Request {n}", sender=f"c{n}@customer.test"))
        for n in range(count)
    ]


def _assert_each_message_once(imap_account: Any, mailbox: Any, uids: list[int]) -> None:
    session.expire_all()
    assert _count(Ticket) == len(uids)
    assert _count(Message) == len(uids)
    recorded = sorted(session.scalars(select(InboundRecord.imap_uid)))
    assert recorded == sorted(uids)  # one record per UID
    assert _count(InboundRecord, InboundRecord.outcome == "pending") == 0
    assert all("\\Seen" in imap_account.flags()[uid] for uid in uids)
    session.refresh(mailbox)
    assert mailbox.last_uid == max(uids)


def test_dying_after_the_commit_but_before_flagging(
    mailbox: Any, imap_account: Any, raw_mail: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    uids = _fill(imap_account, raw_mail, 3)

    def die(*args: Any) -> None:
        raise Killed()

    monkeypatch.setattr(imap, "_finish", die)
    with pytest.raises(Killed):
        poll_mailbox(mailbox)
    assert _count(Ticket) == 3
    assert not any("\\Seen" in flags for flags in imap_account.flags().values())
    assert mailbox.last_uid == 0

    monkeypatch.undo()
    result = poll_mailbox(mailbox)

    assert result.outcomes == {"recorded earlier": 3}
    _assert_each_message_once(imap_account, mailbox, uids)


def test_dying_after_flagging_but_before_saving_the_last_uid(
    mailbox: Any, imap_account: Any, raw_mail: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    uids = _fill(imap_account, raw_mail, 3)
    real = imap.command

    def command_then_die(conn: Any, step: str, *args: str) -> list:
        data = real(conn, step, *args)
        if args[0] == "STORE":
            raise Killed()
        return data

    monkeypatch.setattr(imap, "command", command_then_die)
    with pytest.raises(Killed):
        poll_mailbox(mailbox)
    assert all("\\Seen" in imap_account.flags()[uid] for uid in uids)
    assert mailbox.last_uid == 0

    monkeypatch.undo()
    assert poll_mailbox(mailbox).outcomes == {"recorded earlier": 3}
    _assert_each_message_once(imap_account, mailbox, uids)


def test_dying_in_the_middle_of_an_ingest(
    mailbox: Any, imap_account: Any, raw_mail: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    uids = _fill(imap_account, raw_mail, 3)
    real = ingest.process
    calls = []

    def process_or_die(record: Any, reading: Any, **kwargs: Any) -> None:
        calls.append(record.id)
        if len(calls) == 2:
            raise Killed()  # the raw bytes and a pending record are committed; nothing else
        real(record, reading, **kwargs)

    monkeypatch.setattr(ingest, "process", process_or_die)
    with pytest.raises(Killed):
        poll_mailbox(mailbox)
    session.rollback()
    assert _count(InboundRecord, InboundRecord.outcome == "pending") == 1
    assert _count(Ticket) == 1

    monkeypatch.undo()
    result = poll_mailbox(mailbox)

    assert result.outcomes["created"] == 2
    _assert_each_message_once(imap_account, mailbox, uids)


CHILD = """
import json, os, sys, time
from frontdesk import create_app
from frontdesk.db import session
import frontdesk_email.ingest as ingest
from frontdesk_email.imap import poll_mailbox
from frontdesk_email.models import Mailbox

config = json.loads(os.environ["CHILD_CONFIG"])
app = create_app(config, instance_path=os.environ["CHILD_INSTANCE"])
real = ingest.ingest_raw

def slow_ingest(*args, **kwargs):
    record = real(*args, **kwargs)
    time.sleep(0.3)  # a slow worker, so that the kill lands in the middle of the poll
    return record

ingest.ingest_raw = slow_ingest
with app.app_context():
    poll_mailbox(session.get(Mailbox, int(sys.argv[1])))
print("finished")
"""


def test_a_worker_killed_mid_poll_resumes_exactly(
    app: Any,
    frontdesk_database_url: str,
    mailbox: Any,
    imap_account: Any,
    raw_mail: Any,
    tmp_path: Path,
) -> None:
    uids = _fill(imap_account, raw_mail, 8)
    script = tmp_path / "poll_child.py"
    script.write_text(CHILD)
    config = {
        "SECRET_KEY": app.config["SECRET_KEY"],
        "DATABASE_URL": frontdesk_database_url,
        "ATTACHMENT_DIR": app.config["ATTACHMENT_DIR"],
        "CHECK_MIGRATIONS": False,
        "JOBS_BACKEND": "inprocess",
        "JOBS_EAGER": False,
        "REDIS_URL": None,
        "PLUGINS": None,
    }
    env = {
        **os.environ,
        "CHILD_CONFIG": json.dumps(config),
        "CHILD_INSTANCE": str(tmp_path / "child-instance"),
    }
    child = subprocess.Popen(
        [sys.executable, str(script), str(mailbox.id)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and child.poll() is None:
            done = _count(InboundRecord, InboundRecord.outcome != "pending")
            session.commit()
            if done >= 3:
                break
            time.sleep(0.05)
        assert child.poll() is None, "the poll ended before it could be killed:\n" + (
            child.stdout.read().decode(errors="replace")
        )
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(30)
        child.stdout.close()
    session.expire_all()
    assert 3 <= _count(InboundRecord) < len(uids)  # it really died half-way

    session.refresh(mailbox)
    poll_mailbox(mailbox)

    _assert_each_message_once(imap_account, mailbox, uids)
