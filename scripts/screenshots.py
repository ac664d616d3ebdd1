"""Take the documentation's screenshots from a throwaway demo instance.

Builds a temporary instance (SQLite, migrated, demo data loaded), serves it on a loopback port
in a thread, and drives the system Chromium through Playwright (no browser is downloaded):

    docs/screenshots/agent-ticket.png   an agent's ticket page: thread with replies and a note
    docs/screenshots/desk-queue.png     the agent's queue view
    docs/screenshots/portal-fa.png      a Persian customer's request in the portal (right to left)

Usage: ``.venv/bin/python scripts/screenshots.py [--out docs/screenshots]``. Set
``FRONTDESK_CHROMIUM`` to use another Chromium binary than ``chromium`` on the PATH.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import case, func, select

ROOT = Path(__file__).resolve().parent.parent
VIEWPORT = {"width": 1280, "height": 800}
AGENT_EMAIL = "alice@frontdesk.example"  # English, teams general and sales
PERSIAN_CUSTOMER = "maryam.hosseini@example.com"


def chromium() -> str:
    for candidate in (os.environ.get("FRONTDESK_CHROMIUM"), "chromium", "chromium-browser"):
        path = shutil.which(candidate) if candidate else None
        if path:
            return path
    sys.exit("Chromium is missing: run `bash scripts/install-system-deps.sh` (Debian: chromium)")


def build_instance(folder: Path) -> Any:
    """A migrated SQLite instance in ``folder`` with the demo loaded; returns the app."""
    from frontdesk import create_app
    from frontdesk.demo import load_demo
    from frontdesk.migrations import upgrade

    config = {
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": f"sqlite:///{folder / 'frontdesk.db'}",
        "ATTACHMENT_DIR": str(folder / "attachments"),
        "CHECK_MIGRATIONS": False,  # the database is created right below
        "JOBS_EAGER": True,  # no worker threads: notices are written at once
        "REDIS_URL": None,
        "PLUGINS_DISABLED": ["email"],  # no mailbox here: its notices would only log failures
    }
    app = create_app(config, instance_path=folder / "instance")
    with app.app_context():
        upgrade(app)
        result = load_demo()
        print(f"demo loaded: {result.tickets} tickets", file=sys.stderr)
    return app


@contextmanager
def serve(app: Any) -> Iterator[str]:
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


def pick_tickets(app: Any) -> tuple[str, str]:
    """A ticket of the agent's teams with a short thread holding a note; a Persian request."""
    from frontdesk.db import session
    from frontdesk.models import Message, Queue, Ticket, User

    with app.app_context():
        counts = (
            select(
                Message.ticket_id,
                func.count().label("total"),
                func.sum(case((Message.kind == "internal_note", 1), else_=0)).label("notes"),
                func.sum(case((Message.kind == "agent", 1), else_=0)).label("replies"),
                func.sum(func.length(Message.body_text)).label("length"),
            )
            .group_by(Message.ticket_id)
            .subquery()
        )
        # Short enough that the whole thread, note included, fits the window; English first.
        agent_ticket = session.scalar(
            select(Ticket.number)
            .join(counts, counts.c.ticket_id == Ticket.id)
            .join(Queue, Queue.id == Ticket.queue_id)
            .join(User, User.id == Ticket.customer_id)
            .where(
                Queue.key.in_(("general", "sales")),
                Ticket.status_category == "open",
                Ticket.merged_into_id.is_(None),
                counts.c.notes >= 1,
                counts.c.replies >= 1,
                counts.c.total.between(3, 4),
            )
            .order_by(User.language != "en", counts.c.length, Ticket.id)
            .limit(1)
        )
        persian_ticket = session.scalar(
            select(Ticket.number)
            .join(User, User.id == Ticket.customer_id)
            .join(counts, counts.c.ticket_id == Ticket.id)
            .where(
                User.email == PERSIAN_CUSTOMER,
                Ticket.merged_into_id.is_(None),
                counts.c.replies >= 1,
            )
            .order_by(counts.c.total.desc(), Ticket.updated_at.desc())
            .limit(1)
        )
        app.extensions["frontdesk.db"].Session.remove()
    if agent_ticket is None or persian_ticket is None:
        sys.exit("the demo data has no ticket fit for the screenshots")
    return agent_ticket, persian_ticket


def sign_in(page: Any, path: str, email: str, password: str, landing: str) -> None:
    page.goto(path)
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_url(landing)


def take(browser: Any, base: str, out: Path, agent_ticket: str, persian_ticket: str) -> None:
    from frontdesk.demo import DEMO_PASSWORD

    agent = browser.new_context(
        base_url=base, viewport=VIEWPORT, locale="en-GB", timezone_id="Europe/London"
    )
    page = agent.new_page()
    sign_in(page, "/signin", AGENT_EMAIL, DEMO_PASSWORD, "**/desk/**")
    page.goto("/desk/?view=all")
    page.wait_for_selector("tr.ticket-row")
    page.screenshot(path=str(out / "desk-queue.png"))
    page.goto(f"/desk/tickets/{agent_ticket}")
    note = page.wait_for_selector("#thread article.kind-internal")
    box = note.bounding_box()
    if box and box["y"] + box["height"] > VIEWPORT["height"]:  # show the note, whatever it costs
        page.mouse.wheel(0, box["y"] + box["height"] - VIEWPORT["height"] + 16)
        page.wait_for_function("window.scrollY > 0")
    page.screenshot(path=str(out / "agent-ticket.png"))
    agent.close()

    customer = browser.new_context(
        base_url=base, viewport=VIEWPORT, locale="fa-IR", timezone_id="Asia/Tehran"
    )
    page = customer.new_page()
    sign_in(page, "/fa/portal/signin", PERSIAN_CUSTOMER, DEMO_PASSWORD, "**/fa/portal/requests**")
    page.goto(f"/fa/portal/requests/{persian_ticket}")
    page.wait_for_selector(".portal-thread .kind-agent")
    page.screenshot(path=str(out / "portal-fa.png"))
    customer.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="frontdesk-screens-") as tmp:
        app = build_instance(Path(tmp))
        agent_ticket, persian_ticket = pick_tickets(app)
        launch_args = ["--no-sandbox"] if os.geteuid() == 0 else []  # no sandbox as root
        with serve(app) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium(), headless=True, args=launch_args
            )
            try:
                take(browser, base, args.out, agent_ticket, persian_ticket)
            finally:
                browser.close()
        app.extensions["frontdesk.db"].dispose()
    for name in ("agent-ticket.png", "desk-queue.png", "portal-fa.png"):
        print(args.out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
