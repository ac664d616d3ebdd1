"""Write requests of one process queue one at a time on SQLite, briefly, and never for reads.

Threads of a process share one interpreter lock: two write requests side by side finish no
sooner, and the one holding SQLite's write lock keeps losing the CPU to the other. On SQLite the
app lets one write request of a process run at a time; the wait is bounded, so a request that is
slow for another reason holds up the next one only briefly. PostgreSQL takes writers side by
side, and nothing queues there.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from frontdesk.auth import access
from frontdesk.db import _WriteLock
from frontdesk.web.security import csrf_exempt

WAIT = 10.0  # the longest any step of these tests waits for another thread


class Probe:
    """Views that report when they run; the first one stays inside until it is let go."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.first_inside = threading.Event()
        self.let_first_go = threading.Event()
        self.second_done = threading.Event()

    def first(self) -> str:
        self.log.append("first in")
        self.first_inside.set()
        self.let_first_go.wait(WAIT)
        self.log.append("first out")
        return "first"

    def second(self) -> str:
        self.log.append("second ran")
        return "second"


@pytest.fixture
def probe(app: Any) -> Probe:
    probe = Probe()
    for name, view in (("first", probe.first), ("second", probe.second)):
        routed = csrf_exempt(access("public")(lambda view=view: view()))
        app.add_url_rule(f"/_probe/{name}", f"probe_{name}", routed, methods=["GET", "POST"])
    return probe


@pytest.fixture
def in_thread(app: Any) -> Iterator[Callable[..., threading.Thread]]:
    started: list[threading.Thread] = []
    answers: dict[str, int] = {}

    def run(name: str, method: str, path: str, **kwargs: Any) -> threading.Thread:
        def call() -> None:
            answers[name] = app.test_client().open(path, method=method, **kwargs).status_code
            if name == "second":
                probe_done.set()

        probe_done = threading.Event()
        thread = threading.Thread(target=call, daemon=True)
        thread.done = probe_done  # type: ignore[attr-defined]
        thread.answers = answers  # type: ignore[attr-defined]
        started.append(thread)
        thread.start()
        return thread

    yield run
    for thread in started:
        thread.join(WAIT)


def test_a_write_request_waits_for_the_one_running(app, db, probe, in_thread, monkeypatch):
    monkeypatch.setattr(_WriteLock, "REQUEST_WAIT", WAIT)
    first = in_thread("first", "POST", "/_probe/first", data=b"a")
    assert probe.first_inside.wait(WAIT)
    second = in_thread("second", "POST", "/_probe/second", data=b"b")
    queued = not second.done.wait(0.5)  # type: ignore[attr-defined]
    probe.let_first_go.set()
    first.join(WAIT)
    second.join(WAIT)
    assert second.answers == {"first": 200, "second": 200}  # type: ignore[attr-defined]
    if db.bind.dialect.name == "sqlite":
        assert queued
        assert probe.log == ["first in", "first out", "second ran"]
    else:  # PostgreSQL: writers run side by side
        assert not queued
        assert probe.log == ["first in", "second ran", "first out"]


def test_a_slow_write_request_holds_the_next_one_up_only_briefly(
    app, probe, in_thread, monkeypatch
):
    monkeypatch.setattr(_WriteLock, "REQUEST_WAIT", 0.2)
    first = in_thread("first", "POST", "/_probe/first", data=b"a")
    assert probe.first_inside.wait(WAIT)
    started = time.monotonic()
    second = in_thread("second", "POST", "/_probe/second", data=b"b")
    assert second.done.wait(WAIT)  # type: ignore[attr-defined]
    assert time.monotonic() - started < WAIT
    assert probe.log == ["first in", "second ran"]  # the first is still inside
    probe.let_first_go.set()
    first.join(WAIT)
    assert second.answers == {"first": 200, "second": 200}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("GET", b""),  # a read
        ("POST", b"x" * (2 << 20)),  # a large upload: not read ahead, not queued
    ],
)
def test_reads_and_large_uploads_do_not_queue(app, probe, in_thread, monkeypatch, method, body):
    monkeypatch.setattr(_WriteLock, "REQUEST_WAIT", WAIT)
    app.config["MAX_CONTENT_LENGTH"] = 4 << 20
    first = in_thread("first", "POST", "/_probe/first", data=b"a")
    assert probe.first_inside.wait(WAIT)
    second = in_thread("second", method, "/_probe/second", data=body)
    ran_alongside = second.done.wait(WAIT)  # type: ignore[attr-defined]
    probe.let_first_go.set()
    first.join(WAIT)
    assert ran_alongside
    assert probe.log == ["first in", "second ran", "first out"]


def test_a_failing_write_request_leaves_the_queue(app, probe, in_thread, client, monkeypatch):
    monkeypatch.setattr(_WriteLock, "REQUEST_WAIT", WAIT)

    @access("public")
    @csrf_exempt
    def broken() -> str:
        raise RuntimeError("boom")

    app.add_url_rule("/_probe/broken", "probe_broken", broken, methods=["POST"])
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.post("/_probe/broken", data=b"x").status_code == 500
    second = in_thread("second", "POST", "/_probe/second", data=b"b")
    assert second.done.wait(1.0)  # type: ignore[attr-defined]  # not queued behind the failure
