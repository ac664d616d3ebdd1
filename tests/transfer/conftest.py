"""Fixtures for the import/export tests: the CLI bound to the test app, a populated helpdesk."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from frontdesk.channels.base import IncomingAttachment
from frontdesk.cli import main
from frontdesk.cli.context import AppContextHolder
from frontdesk.db import get_db, transaction
from frontdesk.services import (
    add_note,
    add_watcher,
    assign,
    change_status,
    link_tickets,
    merge_tickets,
    reply,
    split_ticket,
    update_ticket,
)
from frontdesk.testing.database import empty_all_tables

PNG = bytes.fromhex("89504e470d0a1a0a") + bytes(range(256)) * 4


@pytest.fixture
def png() -> bytes:
    """The bytes of the attachment on the ``helpdesk`` fixture's first ticket."""
    return PNG


@pytest.fixture
def cli(app: Any) -> Callable[..., Result]:
    """``cli("import", "-", input=b"...")``: run the ``frontdesk`` command on the test's app."""

    def run(*args: str, input: bytes | str | None = None) -> Result:
        holder = AppContextHolder()
        holder._app = app
        return CliRunner().invoke(main, list(args), obj=holder, input=input)

    return run


@pytest.fixture
def export_lines(cli: Callable[..., Result]) -> Callable[..., list[dict[str, Any]]]:
    """Export through the CLI and return the records (header first)."""

    def run(*args: str) -> list[dict[str, Any]]:
        result = cli("export", *args)
        assert result.exit_code == 0, (result.stderr, result.exception)
        return [json.loads(line) for line in result.stdout_bytes.decode().splitlines()]

    return run


@pytest.fixture
def fresh_database(app: Any, tmp_path: Path) -> Callable[[], None]:
    """Empty every table and point attachments at an empty folder: a brand-new instance."""
    counter = iter(range(1, 100))

    def wipe() -> None:
        get_db().remove()
        empty_all_tables(get_db().engine)
        app.config["ATTACHMENT_DIR"] = str(tmp_path / f"attachments-fresh-{next(counter)}")

    return wipe


def _jsonl(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


@pytest.fixture
def jsonl() -> Callable[[list[dict[str, Any]]], bytes]:
    """Records as the bytes of a JSON Lines file."""
    return _jsonl


@pytest.fixture
def helpdesk(
    make_organization: Any,
    make_customer: Any,
    make_agent: Any,
    make_queue: Any,
    make_ticket: Any,
) -> dict[str, Any]:
    """A small but complete helpdesk: every kind of record and relation the format carries."""
    acme = make_organization(name="Acme Ltd", domains=["acme.test"], shared_tickets=True)
    make_organization(name="Globex", notes="prospect")
    alice = make_customer(email="alice@acme.test", name="Alice Ó'Brien", language="it")
    bob = make_customer(email="bob@example.test", name="Бob", vip=True)
    agent = make_agent(email="agent@helpdesk.test", name="Agent Smith")
    lead = make_agent(email="lead@helpdesk.test", name="Team Lead")
    billing = make_queue(
        key="billing",
        name="Billing",
        members=[agent, lead],
        custom_fields=[
            {"key": "invoice", "label": "Invoice", "type": "text"},
            {"key": "amount", "type": "number"},
            {"key": "plan", "type": "choice", "choices": ["basic", "pro"]},
        ],
    )
    support = make_queue(key="support", name="Support", members=[agent])

    first = make_ticket(
        subject="Invoice wrong ✓",
        body_text="The total is off",
        body_html="<p>The <b>total</b> is off<script>x()</script></p>",
        customer=alice,
        queue=billing,
        tags=["Billing", "urgent-ish"],
        custom_fields={"invoice": "INV-7", "amount": 12.5, "plan": "pro"},
        channel="email",
        external_id="<m1@acme.test>",
        attachments=[IncomingAttachment("scan.png", PNG, "image/png")],
        created_at=datetime(2015, 3, 4, 5, 6, 7, 123456, tzinfo=UTC),
    )
    assign(first, agent, lead)
    reply(first, "We are on it", agent)
    add_note(first, "Looks like a rounding bug", lead)
    add_watcher(first, lead, agent)
    change_status(first, "pending", agent)
    with transaction():
        first.plugin_data = {"sla": {"policy": "none"}, "crm_demo": {"id": 42}}
    second = make_ticket(subject="Second", body_text="Hello", customer=bob, queue=support)
    reply(second, "Thanks, a follow-up", bob)
    third = make_ticket(
        subject="Duplicate", body_text="Same as second", customer=bob, queue=support
    )
    merge_tickets(third, second, agent)
    link_tickets(first, second, "related", agent)
    split_off = split_ticket(second, [second.messages[1].id], agent, subject="Split part")
    update_ticket(second, {"priority": "high", "tags": ["vip"]}, agent)
    return {
        "org": acme,
        "alice": alice,
        "bob": bob,
        "agent": agent,
        "lead": lead,
        "billing": billing,
        "support": support,
        "tickets": [first, second, third, split_off],
    }
