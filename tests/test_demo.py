"""The demo data (``frontdesk demo load``), the front page and the health check."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from frontdesk import create_app
from frontdesk.cli import main
from frontdesk.db import session
from frontdesk.demo import DEMO_PASSWORD, load_demo
from frontdesk.migrations import upgrade
from frontdesk.models import Event, Message, Organization, Queue, Ticket, TicketLink, User
from frontdesk.services import Conflict, authenticate
from frontdesk.testing.database import empty_all_tables

FAST_PASSWORDS = '{"time_cost": 1, "memory_cost": 1024, "parallelism": 1}'

# What each language's text must contain: its own script or a few of its commonest words.
LANGUAGE_MARKERS = {
    "en": re.compile(r"\b(the|and|you|to)\b", re.IGNORECASE),
    "it": re.compile(r"\b(il|di|che|per|non|grazie)\b", re.IGNORECASE),
    "ro": re.compile(r"[ăâîșț]", re.IGNORECASE),
    "ru": re.compile(r"[а-яё]", re.IGNORECASE),
    "fa": re.compile(r"[\u0600-\u06ff]"),
}


def run_cli(instance: Path, database_url: str, *args: str) -> Any:
    env = {
        "FRONTDESK_DATABASE_URL": database_url,
        "FRONTDESK_SECRET_KEY": "demo-test-secret",
        "FRONTDESK_PASSWORD_HASH_PARAMS": FAST_PASSWORDS,
        "FRONTDESK_REDIS_URL": None,
        "FRONTDESK_JOBS_BACKEND": None,
        "REDIS_URL": None,
    }
    return CliRunner().invoke(main, ["--instance", str(instance), *args], env=env)


def snapshot() -> list[tuple[Any, ...]]:
    """The demo's content without its dates (which follow the day it is loaded)."""
    rows = session.scalars(select(Ticket).order_by(Ticket.number))
    return [
        (
            t.number,
            t.subject,
            t.status,
            t.priority,
            t.customer.email if t.customer else None,
            t.assignee.email if t.assignee else None,
            tuple(t.tag_names),
            tuple((m.kind, m.body_text) for m in t.messages),
        )
        for t in rows
    ]


@pytest.fixture(scope="class")
def demo(  # one load per class: it takes a few seconds
    frontdesk_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    instance = tmp_path_factory.mktemp("demo-instance")
    result = run_cli(instance, frontdesk_database_url, "demo", "load")
    app = create_app(
        {
            "SECRET_KEY": "demo-test-secret",
            "DATABASE_URL": frontdesk_database_url,
            "TESTING": True,
            "REDIS_URL": None,
            "JOBS_BACKEND": "inprocess",
            "PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
        },
        instance_path=instance,
    )
    ctx = app.app_context()
    ctx.push()
    try:
        yield {"app": app, "result": result, "instance": instance, "url": frontdesk_database_url}
    finally:
        app.extensions["frontdesk.db"].Session.remove()
        ctx.pop()
        empty_all_tables(app.extensions["frontdesk.db"].engine)
        app.extensions["frontdesk.db"].dispose()


class TestDemoData:
    """One demo load through the command, checked from every side."""

    @pytest.fixture
    def tickets(self, demo: dict[str, Any]) -> list[Ticket]:
        return list(session.scalars(select(Ticket).order_by(Ticket.id)))

    def test_the_command_reports_logins_and_where_to_go(self, demo: dict[str, Any]) -> None:
        result = demo["result"]
        assert result.exit_code == 0, result.output
        assert "200 tickets" in result.output
        assert DEMO_PASSWORD in result.output
        assert "admin@frontdesk.example" in result.output
        assert "emily.clarke@example.com" in result.output
        assert "http://127.0.0.1:5000" in result.output

    def test_loading_again_says_so_and_changes_nothing(self, demo: dict[str, Any]) -> None:
        events_before = session.scalar(select(func.max(Event.id)))
        again = run_cli(demo["instance"], demo["url"], "demo", "load")
        assert again.exit_code == 0, again.output
        assert "already loaded" in again.output
        assert "admin@frontdesk.example" in again.output  # the logins are shown again
        session.expire_all()
        assert session.scalar(select(func.count()).select_from(Ticket)) == 200
        assert session.scalar(select(func.max(Event.id))) == events_before

    def test_teams_staff_organizations_and_customers(self, demo: dict[str, Any]) -> None:
        queues = list(session.scalars(select(Queue)))
        assert len(queues) == 4
        assert all(q.members for q in queues)
        with_fields = [q for q in queues if q.custom_fields]
        assert [q.key for q in with_fields] == ["technical"]
        users = list(session.scalars(select(User)))
        roles = Counter(u.role for u in users)
        assert roles["admin"] == 1 and roles["agent"] == 6 and roles["customer"] == 40
        customers = [u for u in users if u.role == "customer"]
        languages = Counter(u.language for u in customers)
        assert set(languages) == {"en", "it", "ro", "ru", "fa"}
        assert min(languages.values()) >= 6
        assert any(re.search(r"[а-я]", u.name, re.I) for u in customers)
        assert any(re.search(r"[\u0600-\u06ff]", u.name) for u in customers)
        organizations = list(session.scalars(select(Organization)))
        assert len(organizations) == 4
        assert [o.name for o in organizations if o.shared_tickets] == ["Northwind Trading Ltd"]
        assert all(o.members for o in organizations)

    def test_tickets_cover_every_language_status_and_queue(self, tickets: list[Ticket]) -> None:
        assert len(tickets) == 200
        by_language = Counter(t.language for t in tickets)
        assert set(by_language) == {"en", "it", "ro", "ru", "fa"}
        assert min(by_language.values()) >= 20
        categories = Counter(t.status_category for t in tickets)
        assert set(categories) == {"new", "open", "pending", "solved", "closed"}
        assert min(categories.values()) >= 20
        statuses = Counter(t.status for t in tickets)
        assert statuses["merged"] >= 3 and statuses["on_hold"] >= 3
        assert set(Counter(t.priority for t in tickets)) == {"low", "normal", "high", "urgent"}
        assert len({t.queue_id for t in tickets}) == 4
        assert sum(1 for t in tickets if t.tags) >= 190
        technical = [t for t in tickets if t.queue.key == "technical"]
        assert technical and all(t.custom_fields.get("product") for t in technical)

    def test_text_is_written_in_the_ticket_language(self, tickets: list[Ticket]) -> None:
        for ticket in tickets:
            if ticket.merged_into_id is None:
                opening = ticket.messages[0].body_text
                marker = LANGUAGE_MARKERS[ticket.language]
                assert marker.search(ticket.subject + " " + opening), (ticket.number, opening)

    def test_every_ticket_has_a_thread(self, tickets: list[Ticket]) -> None:
        kinds = Counter()
        for ticket in tickets:
            if ticket.status == "merged":
                assert ticket.merged_into_id is not None and not ticket.messages
                continue
            assert ticket.messages, ticket.number
            assert ticket.messages[0].kind == "customer"
            kinds.update(m.kind for m in ticket.messages)
            if ticket.status_category in ("open", "pending", "solved", "closed"):
                assert any(m.kind == "agent" for m in ticket.messages), ticket.number
                assert ticket.assignee is not None and ticket.first_response_at is not None
        assert kinds["customer"] > 200 and kinds["agent"] > 150 and kinds["internal_note"] > 30

    def test_merges_and_links(self, tickets: list[Ticket]) -> None:
        merged = [t for t in tickets if t.status == "merged"]
        for source in merged:
            target = session.get(Ticket, source.merged_into_id)
            assert target.customer_id == source.customer_id
            assert len([m for m in target.messages if m.kind == "customer"]) >= 2
        kinds = Counter(link.kind for link in session.scalars(select(TicketLink)))
        assert kinds["duplicate_of"] == len(merged)
        assert kinds["related"] >= 3

    def test_history_is_spread_over_two_months(self, tickets: list[Ticket]) -> None:
        now = datetime.now(UTC)
        created = [t.created_at for t in tickets]
        assert min(created) >= now - timedelta(days=61)
        assert min(created) <= now - timedelta(days=45)
        assert max(created) <= now
        assert len({t.updated_at.date() for t in tickets}) >= 30
        for ticket in tickets:
            times = [m.created_at for m in ticket.messages]
            assert times == sorted(times) and all(ticket.created_at <= t for t in times)
            assert ticket.updated_at <= now
            if ticket.status_category == "closed" and ticket.status != "merged":
                assert ticket.created_at <= ticket.solved_at <= ticket.closed_at <= now
        # history rows carry the moment of the change, not the moment of loading
        events = list(session.scalars(select(Event)))
        assert sum(1 for e in events if e.created_at < now - timedelta(days=7)) > len(events) / 2

    def test_demo_logins_work(self, demo: dict[str, Any]) -> None:
        admin = authenticate("admin@frontdesk.example", DEMO_PASSWORD)
        assert admin is not None and admin.role == "admin"
        agents = session.scalars(select(User).where(User.role == "agent")).all()
        for agent in agents:
            assert authenticate(agent.email, DEMO_PASSWORD) is not None, agent.email
        customer = authenticate("emily.clarke@example.com", DEMO_PASSWORD)
        assert customer is not None and customer.role == "customer"
        # the portal can be tried in every language: one customer of each can sign in
        can_sign_in = [
            c.language
            for c in session.scalars(select(User).where(User.role == "customer"))
            if authenticate(c.email, DEMO_PASSWORD) is not None
        ]
        assert sorted(can_sign_in) == sorted(["en", "it", "ro", "ru", "fa"])
        assert authenticate("admin@frontdesk.example", "wrong-password") is None

    def test_the_same_seed_gives_the_same_data(self, demo: dict[str, Any], tmp_path: Path) -> None:
        expected = snapshot()
        other = create_app(
            {
                "SECRET_KEY": "x",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'again.db'}",
                "CHECK_MIGRATIONS": False,
                "REDIS_URL": None,
                "JOBS_BACKEND": "inprocess",
                "PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
            },
            instance_path=tmp_path,
        )
        try:
            with other.app_context():
                upgrade(other)
                load_demo()
                assert snapshot() == expected
        finally:
            other.extensions["frontdesk.db"].dispose()


def test_a_database_with_tickets_is_left_alone(app: Any, make_ticket: Any) -> None:
    make_ticket()
    users = session.scalar(select(func.count()).select_from(User))
    result = load_demo()
    assert not result.loaded
    assert "already has 1 tickets" in result.reason
    assert session.scalar(select(func.count()).select_from(Ticket)) == 1
    assert session.scalar(select(func.count()).select_from(User)) == users


def row_counts() -> dict[str, int]:
    models = (User, Queue, Organization, Ticket, Message, Event)
    return {m.__name__: session.scalar(select(func.count()).select_from(m)) or 0 for m in models}


def test_a_failed_load_leaves_nothing_behind(app: Any, make_queue: Any) -> None:
    make_queue(key="billing")  # the demo's billing queue cannot be created next to it
    before = row_counts()
    with pytest.raises(Conflict):
        load_demo()
    session.rollback()
    assert row_counts() == before


def test_the_front_page_is_public_and_leads_to_portal_desk_and_api(client: Any) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "/api/v1/openapi.json" in page and "/api/v1/tickets" in page and "/healthz" in page
    assert 'href="/portal' in page and 'href="/desk/' in page
    # Everything it loads comes from this site, and its policy forbids inline script.
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp


def test_the_front_page_turns_right_to_left_for_persian(client: Any) -> None:
    page = client.get("/", headers={"Accept-Language": "fa"}).get_data(as_text=True)
    assert '<html lang="fa" dir="rtl">' in page


def test_health_check_reports_a_current_database(client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "migrations": "current"}
    assert response.headers["Cache-Control"] == "no-store"


def test_health_check_fails_on_an_unmigrated_database(tmp_path: Path) -> None:
    app = create_app(
        {
            "SECRET_KEY": "x",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
            "CHECK_MIGRATIONS": False,
            "REDIS_URL": None,
            "JOBS_BACKEND": "inprocess",
        },
        instance_path=tmp_path,
    )
    try:
        response = app.test_client().get("/healthz")
        assert response.status_code == 503
        body = response.get_json()
        assert body["status"] == "failing" and body["migrations"] == "behind"
        assert "core" in body["behind"]
    finally:
        app.extensions["frontdesk.db"].dispose()


def test_health_check_fails_when_the_database_is_unreachable(tmp_path: Path) -> None:
    unreachable = "postgresql+psycopg://nobody:secret-pw@127.0.0.1:1/none"
    app = create_app(
        {
            "SECRET_KEY": "x",
            "DATABASE_URL": unreachable,
            "CHECK_MIGRATIONS": False,
            "REDIS_URL": None,
            "JOBS_BACKEND": "inprocess",
        },
        instance_path=tmp_path,
    )
    try:
        response = app.test_client().get("/healthz")
        assert response.status_code == 503
        assert response.get_json()["database"] == "unreachable"
        assert "secret-pw" not in response.get_data(as_text=True)
    finally:
        app.extensions["frontdesk.db"].dispose()


def test_the_demo_clock_moves_only_inside_its_block() -> None:
    from frontdesk.db import clock_at, utcnow

    past = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    with clock_at(past):
        assert utcnow() == past
    assert utcnow() > past + timedelta(days=365)
    with pytest.raises(ValueError):
        with clock_at(datetime(2024, 3, 1)):  # a naive time would be stored wrongly
            pass
