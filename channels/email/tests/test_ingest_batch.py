"""Piped mail in groups: one commit per group, a failing message undone alone, reruns idempotent."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).parent))
from inbound_helpers import (  # noqa: E402,F401
    email_settings,
    json_lines,
    make_mail,
    no_acknowledgements,
    run_cli,
    ticket_count,
)

from frontdesk.db import get_db, in_transaction, session  # noqa: E402
from frontdesk.models import Event, Ticket, User  # noqa: E402
from frontdesk.plugins import hookimpl  # noqa: E402
from frontdesk_email import ingest as pipeline  # noqa: E402
from frontdesk_email.batch import Outcome, ingest_grouped  # noqa: E402
from frontdesk_email.ingest import TemporaryFailure  # noqa: E402
from frontdesk_email.models import InboundRecord  # noqa: E402

pytestmark = pytest.mark.usefixtures("no_acknowledgements")


def mail_files(tmp_path: Path, *subjects: str, **fields: Any) -> list[str]:
    names = []
    for index, subject in enumerate(subjects):
        path = tmp_path / f"{index:02d}-{subject}.eml"
        path.write_bytes(make_mail(subject=subject, **fields))
        names.append(str(path))
    return names


def many_mails(tmp_path: Path, count: int) -> list[str]:
    """``count`` files "mail 0", "mail 1", ... from as many senders (under the rate limit)."""
    names = []
    for n in range(count):
        path = tmp_path / f"many-{n:03d}.eml"
        path.write_bytes(make_mail(subject=f"mail {n}", sender=f"Person {n} <p{n}@example.com>"))
        names.append(str(path))
    return names


def committed(record_id: int) -> bool:
    """Whether another connection sees the record, i.e. whether its transaction committed."""
    with get_db().engine.connect() as other:
        query = text("SELECT count(*) FROM email__inbound WHERE id = :id")
        return other.execute(query, {"id": record_id}).scalar() == 1


class Published:
    """The ``publish`` callback: every group's outcomes, and whether each was committed then."""

    def __init__(self) -> None:
        self.groups: list[list[Outcome]] = []
        self.committed_when_published: list[bool] = []

    def __call__(self, outcomes: list[Outcome]) -> None:
        self.groups.append(outcomes)
        self.committed_when_published += [committed(o.record.id) for o in outcomes if o.record]

    @property
    def outcomes(self) -> list[Outcome]:
        return [o for group in self.groups for o in group]


@pytest.fixture
def created_events(plugins: Any) -> list[tuple[str, bool, bool]]:
    """(subject, inside a transaction, ticket committed) for every ``ticket_created`` fired."""
    fired: list[tuple[str, bool, bool]] = []

    class Watcher:
        @hookimpl
        def ticket_created(self, ticket: Any, actor: Any) -> None:
            with get_db().engine.connect() as other:
                query = text("SELECT count(*) FROM ticket WHERE id = :id")
                visible = other.execute(query, {"id": ticket.id}).scalar() == 1
            fired.append((ticket.subject, in_transaction(), visible))

    plugins.register(Watcher())
    return fired


def test_a_failing_message_is_undone_alone_and_still_gets_its_outcome(
    app, tmp_path, monkeypatch, created_events
):
    real = pipeline.receive_inbound

    def explodes_on_boom(message):
        outcome = real(message)  # the ticket is written, then the message fails
        if message.subject == "boom":
            raise RuntimeError("disk on fire")
        return outcome

    monkeypatch.setattr(pipeline, "receive_inbound", explodes_on_boom)
    files = mail_files(tmp_path, "one", "two", "boom", "four", "five")
    published = Published()
    ingest_grouped(files, None, published, size=2)

    assert [[o.name for o in group] for group in published.groups] == [
        files[0:2], files[2:4], files[4:5],
    ]  # fmt: skip
    assert all(published.committed_when_published) and len(published.committed_when_published) == 5
    outcomes = [(o.record.subject, o.record.outcome) for o in published.outcomes]
    assert outcomes == [
        ("one", "created"), ("two", "created"), ("boom", "rejected"),
        ("four", "created"), ("five", "created"),
    ]  # fmt: skip
    boom = published.outcomes[2].record
    assert (boom.reason, boom.ticket_id) == ("internal error: RuntimeError: disk on fire", None)
    assert sorted(session.scalars(select(Ticket.subject))) == ["five", "four", "one", "two"]
    assert session.scalar(select(func.count(Event.id)).where(Event.action == "created")) == 4
    # Fired once per kept ticket, after the commit that made it durable; never for "boom".
    assert created_events == [(s, False, True) for s in ("one", "two", "four", "five")]


def test_a_rerun_of_the_same_files_is_all_duplicates(app, tmp_path, created_events):
    files = mail_files(tmp_path, "one", "two", "three")
    first = Published()
    ingest_grouped(files, None, first, size=2)
    again = Published()
    ingest_grouped(files, None, again, size=2)

    assert [o.record.id for o in again.outcomes] == [o.record.id for o in first.outcomes]
    assert [o.seen_before for o in first.outcomes] == [False] * 3
    assert [o.seen_before for o in again.outcomes] == [True] * 3
    assert ticket_count() == 3 and len(created_events) == 3
    assert session.scalar(select(func.count(InboundRecord.id))) == 3


def test_the_same_file_twice_in_one_group_is_one_record(app, tmp_path):
    [name] = mail_files(tmp_path, "twice")
    published = Published()
    ingest_grouped([name, name], None, published)
    first, second = published.outcomes
    assert first.record.id == second.record.id and second.seen_before
    assert ticket_count() == 1


def test_a_failure_outside_the_ticket_write_undoes_that_message_only(
    app, tmp_path, monkeypatch, created_events
):
    real = pipeline.process

    def breaks_after_processing(record, reading, **kwargs):
        real(record, reading, **kwargs)  # record, ticket and event are all written
        if reading.message.subject == "bug":
            raise ValueError("a bug in the pipeline")

    monkeypatch.setattr(pipeline, "process", breaks_after_processing)
    files = mail_files(tmp_path, "one", "bug", "three")
    published = Published()
    ingest_grouped(files, None, published)

    bug = published.outcomes[1]
    assert (bug.record, bug.retry) == (None, True)
    assert bug.error == "internal error: ValueError: a bug in the pipeline"
    subjects = set(session.scalars(select(InboundRecord.subject)))
    assert subjects == {"one", "three"} and ticket_count() == 2
    assert [subject for subject, *_ in created_events] == ["one", "three"]


def test_an_unavailable_blob_store_ends_the_run_losing_only_the_open_group(
    app, tmp_path, monkeypatch
):
    real = pipeline.write_blob

    def disk_full_on_three(data):
        if b"Subject: three" in data:
            raise OSError(28, "No space left on device")
        return real(data)

    monkeypatch.setattr(pipeline, "write_blob", disk_full_on_three)
    files = mail_files(tmp_path, "one", "two", "three", "four")
    published = Published()
    with pytest.raises(TemporaryFailure, match="No space left"):
        ingest_grouped(files, None, published, size=2)

    committed_group, lost_group = published.groups
    assert [o.record.outcome for o in committed_group] == ["created", "created"]
    assert [(o.name, o.retry) for o in lost_group] == [(files[2], True)]
    assert lost_group[0].error.startswith("temporary failure, try again later: OSError")
    assert ticket_count() == 2

    monkeypatch.undo()
    rerun = Published()
    ingest_grouped(files, None, rerun, size=2)
    assert [o.seen_before for o in rerun.outcomes] == [True, True, False, False]
    assert ticket_count() == 4


def test_a_rejected_message_leaves_nothing_behind_in_its_group(app, tmp_path):
    app.config["MAX_ATTACHMENT_BYTES"] = 100
    big = tmp_path / "big.eml"
    big.write_bytes(
        make_mail(sender="New Person <new@example.net>", subject="big",
                  attachments=[("big.bin", b"y" * 500, "application/x-foo")])
    )  # fmt: skip
    files = [*mail_files(tmp_path, "before"), str(big), *mail_files(tmp_path, "after")]
    published = Published()
    ingest_grouped(files, None, published)

    assert [o.record.outcome for o in published.outcomes] == ["created", "rejected", "created"]
    assert "'big.bin' is 500 bytes; the limit is 100 bytes" in published.outcomes[1].record.reason
    # Not even the customer the rejected mail would have brought in.
    assert session.scalar(select(func.count(User.id)).where(User.email == "new@example.net")) == 0
    assert ticket_count() == 2


def test_the_cli_takes_a_batch_and_a_rerun_changes_nothing(app, tmp_path):
    good = mail_files(tmp_path, "alpha", "beta")
    bad = tmp_path / "bad.eml"
    bad.write_bytes(make_mail(subject="bad", sender="Someone <not-an-address>"))
    files = [good[0], str(bad), good[1]]

    result = run_cli(app, tmp_path, "email", "ingest", "--json", *files)
    assert result.returncode == 0, result.stderr.decode()
    rows = json_lines(result.stdout)
    assert [(r["file"], r["outcome"], r["seen_before"]) for r in rows] == [
        (files[0], "created", False), (files[1], "rejected", False), (files[2], "created", False),
    ]  # fmt: skip

    again = json_lines(run_cli(app, tmp_path, "email", "ingest", "--json", *files).stdout)
    assert [(r["id"], r["outcome"]) for r in again] == [(r["id"], r["outcome"]) for r in rows]
    assert all(r["seen_before"] for r in again) and ticket_count() == 2


def test_a_batch_is_stored_and_parsed_ahead_by_a_helper_process(app, tmp_path, monkeypatch):
    real = pipeline.store_and_read
    log = tmp_path / "stored-by.txt"

    def noting_the_process(raw):
        with log.open("a") as out:  # appends from either process land whole
            out.write(f"{os.getpid()}\n")
        return real(raw)

    monkeypatch.setattr(pipeline, "store_and_read", noting_the_process)
    files = many_mails(tmp_path, 40)
    published = Published()
    ingest_grouped(files, None, published, size=7)

    pids = log.read_text().split()
    assert len(pids) == 40 and set(pids) != {str(os.getpid())}
    assert [o.name for o in published.outcomes] == files  # in input order, group by group
    assert [o.record.subject for o in published.outcomes] == [f"mail {n}" for n in range(40)]
    assert ticket_count() == 40 and all(published.committed_when_published)


def test_the_helper_stores_attachments_ahead_within_the_limits(app, tmp_path, monkeypatch):
    from frontdesk.models import Attachment
    from frontdesk.services import read_blob
    from frontdesk_email import readahead

    app.config["MAX_ATTACHMENT_BYTES"] = 1000
    real = readahead.write_blob
    stored_by: dict[str, int] = {}
    main = os.getpid()
    log = tmp_path / "attachments-by.txt"

    def noting(data):
        with log.open("a") as out:
            out.write(f"{os.getpid()} {data[:6].decode()}\n")
        return real(data)

    monkeypatch.setattr(readahead, "write_blob", noting)
    files = many_mails(tmp_path, 3)
    for name, data in (("small", b"small-" * 10), ("large", b"large-" * 500)):
        path = tmp_path / f"{name}.eml"
        attachment = (f"{name}.bin", data, "application/x-foo")
        path.write_bytes(make_mail(subject=name, attachments=[attachment]))
        files.append(str(path))
    published = Published()
    ingest_grouped(files, None, published)

    for line in log.read_text().splitlines():
        pid, head = line.split()
        stored_by[head] = int(pid)
    assert list(stored_by) == ["small-"] and stored_by["small-"] != main  # not the large one
    small, large = published.outcomes[3:]
    assert small.record.outcome == "created" and large.record.outcome == "rejected"
    [row] = session.scalars(select(Attachment)).all()
    assert row.filename == "small.bin" and read_blob(row.sha256) == b"small-" * 10


def test_a_helper_that_dies_midway_costs_nothing(app, tmp_path, monkeypatch, caplog):
    real = pipeline.store_and_read
    main = os.getpid()

    def dies_on_mail_20(raw):
        if os.getpid() != main and b"Subject: mail 20\n" in raw:
            os._exit(9)  # as if killed: no cleanup, no answer
        return real(raw)

    monkeypatch.setattr(pipeline, "store_and_read", dies_on_mail_20)
    files = many_mails(tmp_path, 40)
    published = Published()
    ingest_grouped(files, None, published, size=10)

    assert "the read-ahead helper failed" in caplog.text
    outcomes = [(o.record.subject, o.record.outcome, o.seen_before) for o in published.outcomes]
    assert outcomes == [(f"mail {n}", "created", False) for n in range(40)]
    assert ticket_count() == 40
    assert session.scalar(select(func.count(InboundRecord.id))) == 40


def test_without_the_helper_the_outcomes_are_the_same(app, tmp_path):
    files = mail_files(tmp_path, "one", "two", "three")
    files.insert(1, str(tmp_path / "missing.eml"))
    published = Published()
    ingest_grouped(files, None, published, read_ahead=False)
    assert [(o.name, o.record and o.record.outcome, o.error) for o in published.outcomes] == [
        (files[0], "created", None),
        (files[1], None, f"cannot read: [Errno 2] No such file or directory: '{files[1]}'"),
        (files[2], "created", None), (files[3], "created", None),
    ]  # fmt: skip
