"""Benchmark: the agent desk's queue view and ticket page at 100,000 tickets.

A fresh SQLite instance is migrated and bulk-loaded with 100,000 tickets (``_lib/loader.py``);
one ticket gets a thread of 50 messages (customer messages, agent replies, internal notes). The
app runs under gunicorn (2 gthread workers) beside a bare Flask page (a 25-row Jinja table,
``_lib/page_baseline.py``) under the same settings, and wrk loads, in interleaved rounds:

    GET /desk/                      the queue view (25 rows), signed in as an agent of the queue
    GET /desk/tickets/<number>      the ticket page with 50 messages

Budget (issue #3): p50 of each page at most 10x the bare Flask page's p50 in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
from pathlib import Path

from _lib import report, wrk
from _lib.client import expect
from _lib.instances import app_context, migrate, sqlite_instance
from _lib.loader import QUEUES, load_tickets
from _lib.procs import BENCH_DIR, REPO, BenchError, clean_env, gunicorn, stop_children_on_sigterm

TARGET_VS_FLASK = 10.0
THREAD_LENGTH = 50


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=2)
    return parser.parse_args()


def prepare(instance) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """An agent of the first queue signed in (its session cookie), and a 50-message ticket."""
    from flask import current_app
    from sqlalchemy import select

    from frontdesk.auth import session_epoch
    from frontdesk.db import session
    from frontdesk.models import Queue, Ticket
    from frontdesk.services import add_note, create_user, reply
    from frontdesk.services.messages import add_message

    with app_context(instance) as app:
        queue = session.scalar(select(Queue).where(Queue.key == QUEUES[0][0]))
        agent = create_user(email="bench-desk@example.com", name="Desk Bench", role="agent", queues=[queue])
        ticket = session.scalar(
            select(Ticket).where(Ticket.queue_id == queue.id).order_by(Ticket.id.desc()).limit(1)
        )
        for i in range(THREAD_LENGTH - 1):
            if i % 3 == 0:
                reply(ticket, f"Reply {i}: try this.\n\n> quoted\n", agent, body_html=f"<p>Reply {i}: <b>try</b> this.</p>")
            elif i % 3 == 1:
                add_note(ticket, f"Note {i} for @desk", agent)
            else:
                add_message(
                    ticket, kind="customer", body_text=f"Customer answer {i}", author=ticket.customer, actor=ticket.customer
                )
        session.commit()
        serializer = current_app.session_interface.get_signing_serializer(app)
        cookie = serializer.dumps({"user_id": agent.id, "auth_epoch": session_epoch(agent)})
        return f"session={cookie}", ticket.number


def run(server, path: str, headers: dict[str, str], args: argparse.Namespace, duration: float):  # type: ignore[no-untyped-def]
    result = wrk.run(server.base_url + path, duration=duration, connections=args.connections, headers=headers)
    if result.failed:
        raise BenchError(f"{server.name} {path}: {result.non_2xx} non-2xx answers; log:\n{server.log_tail()}")
    return result


def main() -> int:
    args = parse_args()
    stop_children_on_sigterm()
    report.header("web_pages: agent queue view and ticket page (latency, lower is better)")
    wrk.wrk_path()
    with tempfile.TemporaryDirectory(prefix="frontdesk-bench-") as tmp_name:
        tmp = Path(tmp_name)
        instance = sqlite_instance(tmp)
        migrate(instance)
        stats = load_tickets(instance, args.tickets, progress=report.note)
        report.note(f"loaded {args.tickets:,} tickets in {stats.seconds:.0f} s")
        cookie, number = prepare(instance)
        headers = {"Cookie": cookie}
        with contextlib.ExitStack() as stack:
            flask = stack.enter_context(
                gunicorn("bare-flask-page", "_lib.page_baseline:page_app", chdir=BENCH_DIR, env=clean_env(), log_dir=tmp)
            )
            desk = stack.enter_context(
                gunicorn("frontdesk-desk", "wsgi:app", chdir=REPO, env=instance.env, log_dir=tmp)
            )
            targets = {
                "bare Flask page": (flask, "/page", {}),
                "queue view (25 rows)": (desk, "/desk/", headers),
                f"ticket page ({THREAD_LENGTH} messages)": (desk, f"/desk/tickets/{number}", headers),
            }
            for name, (server, path, hdrs) in targets.items():
                expect(server.base_url, "GET", path, 200, name, headers=hdrs)
                run(server, path, hdrs, args, args.warmup)
            runs: dict[str, list] = {name: [] for name in targets}
            for round_no in range(1, args.rounds + 1):
                report.note(f"round {round_no}/{args.rounds}")
                for name, (server, path, hdrs) in targets.items():
                    runs[name].append(run(server, path, hdrs, args, args.duration))
        results = {name: wrk.combine(r) for name, r in runs.items()}
    base = results["bare Flask page"]
    report.table(
        ["page", "p50 ms", "p99 ms", "req/s", "p50 vs bare Flask"],
        [
            [name, f"{r.p50:.2f}", f"{r.latency_ms.get(99, float('nan')):.2f}", f"{r.rps:.0f}",
             f"{r.p50 / base.p50:.1f}x"]
            for name, r in results.items()
        ],
    )
    ok = True
    for name, r in results.items():
        if name != "bare Flask page":
            ratio = r.p50 / base.p50
            ok &= report.budget(f"{name} p50 vs bare Flask", ratio, f"<= {TARGET_VS_FLASK:.0f}x", ratio <= TARGET_VS_FLASK, "x")
    report.load_average()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
