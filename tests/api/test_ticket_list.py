"""Listing tickets: filters, sorts, keyset pages, and a query that stays flat as tickets grow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from frontdesk.services import update_ticket
from sqlalchemy import event

TICKETS = "/api/v1/tickets"


def walk(client, query: str) -> list[dict]:
    """Every item of a paged list, following ``next_cursor`` to the end."""
    items, cursor = [], None
    for _ in range(100):
        url = f"{TICKETS}?{query}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url)
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination did not end")


@pytest.mark.parametrize(
    "sort",
    ["updated_at", "-updated_at", "created_at", "-created_at", "priority", "-priority", "number"],
)
def test_walking_every_page_returns_each_ticket_once_even_with_equal_timestamps(
    api_client, make_ticket, sort
):
    same = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    priorities = ["low", "normal", "high", "urgent"]
    tickets = [make_ticket(created_at=same, priority=priorities[i % 4]) for i in range(7)]
    tickets += [make_ticket(created_at=same + timedelta(seconds=i)) for i in range(3)]
    items = walk(api_client, f"sort={sort}&limit=3")
    numbers = [t["number"] for t in items]
    assert sorted(numbers) == sorted(t.number for t in tickets)
    assert len(set(numbers)) == len(numbers)
    field = sort.lstrip("-")
    if field in ("updated_at", "created_at"):
        keys = [(t[field], t["id"]) for t in items]
    elif field == "priority":
        keys = [(priorities.index(t["priority"]), t["id"]) for t in items]
    else:
        keys = [(t["id"],) for t in items]
    assert keys == sorted(keys, reverse=sort.startswith("-"))


def test_filters_match_the_agent_views(
    api_client, make_ticket, make_queue, make_agent, make_customer, make_organization, admin
):
    agent = make_agent()
    support, billing = make_queue(key="support"), make_queue(key="billing")
    org = make_organization(name="Acme")
    ana = make_customer(email="ana@acme.test", organization=org)
    a = make_ticket(queue=support, customer=ana, subject="Printer on fire", tags=["hardware"])
    b = make_ticket(queue=support, priority="urgent", assignee=agent, subject="Login broken")
    c = make_ticket(queue=billing, tags=["hardware", "vip"], assignee=admin)
    d = make_ticket(queue=billing)
    update_ticket(c, {"status": "pending"}, admin)
    update_ticket(d, {"status": "solved"}, admin)

    def numbers(query: str) -> set[str]:
        return {t["number"] for t in walk(api_client, query)}

    assert numbers("queue=support") == {a.number, b.number}
    assert numbers("queue=support,billing&status_category=new") == {a.number, b.number}
    assert numbers("queue=billing&status_category=new") == set()
    assert numbers("status=pending") == {c.number}
    assert numbers("status_category=pending,solved") == {c.number, d.number}
    assert numbers(f"assignee={agent.id}") == {b.number}
    assert numbers("assignee=me") == {c.number}
    assert numbers("assignee=none") == {a.number, d.number}
    assert numbers("priority=urgent") == {b.number}
    assert numbers("tag=hardware") == {a.number, c.number}
    assert numbers("tag=hardware,vip") == {c.number}
    assert numbers(f"customer={ana.id}") == numbers("customer=ANA@acme.test") == {a.number}
    assert numbers(f"organization={org.id}") == {a.number}
    assert numbers("q=printer") == numbers(f"q={a.number}") == {a.number}
    assert numbers("q=100%25") == set()


def test_updated_range_filters(api_client, make_ticket, admin):
    old = make_ticket(created_at=datetime(2025, 1, 1, tzinfo=UTC))
    new = make_ticket(created_at=datetime(2026, 1, 1, tzinfo=UTC))
    update_ticket(new, {"subject": "touched"}, admin)  # updated now
    after = walk(api_client, "updated_after=2025-06-01T00:00:00Z")
    assert [t["number"] for t in after] == [new.number]
    before = walk(api_client, "updated_before=2025-06-01T00:00:00%2B00:00")
    assert [t["number"] for t in before] == [old.number]


@pytest.mark.parametrize(
    "query, field",
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("sort=subject", "sort"),
        ("status_category=sleeping", "status_category.0"),
        ("status=sleeping", "status"),
        ("queue=nope", "queue"),
        ("assignee=someone", "assignee"),
        ("customer=nobody", "customer"),
        ("updated_after=yesterday", "updated_after"),
        ("cursor=bm90LWEtY3Vyc29y", "cursor"),
        ("stauts=open", "stauts"),
    ],
)
def test_bad_list_arguments_are_named(api_client, problem, query, field):
    problem(api_client.get(f"{TICKETS}?{query}"), 422, field)


def test_a_cursor_only_continues_the_sort_it_was_made_for(api_client, make_ticket, problem):
    for _ in range(3):
        make_ticket()
    cursor = api_client.get(f"{TICKETS}?sort=number&limit=1").get_json()["next_cursor"]
    assert cursor
    problem(api_client.get(f"{TICKETS}?sort=-updated_at&cursor={cursor}"), 422, "cursor")


def test_the_list_uses_a_fixed_number_of_queries(
    app, api_client, make_ticket, make_queue, make_agent
):
    """No query per ticket: listing 2 or 12 tickets costs the same number of statements."""
    queue = make_queue(key="support")
    engine = app.extensions["frontdesk.db"].engine

    def statements_for_list() -> int:
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            response = api_client.get(f"{TICKETS}?queue=support&limit=25")
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert response.status_code == 200
        assert not any("count(" in s.lower() for s in seen)
        return len([s for s in seen if s.lstrip().upper().startswith("SELECT")])

    def add(n: int) -> None:
        for i in range(n):
            make_ticket(queue=queue, assignee=make_agent(), tags=[f"t{i}", "x"])

    add(2)
    statements_for_list()  # the token's first use is recorded once; measure after it
    few = statements_for_list()
    add(10)
    assert statements_for_list() == few


def _captured_list_query(app, client, url: str) -> tuple[str, object]:
    engine = app.extensions["frontdesk.db"].engine
    seen = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("SELECT ticket.id") and "ORDER BY" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len(seen) == 1
    return seen[0]


def _plan(app, statement: str, parameters: object) -> str:
    engine = app.extensions["frontdesk.db"].engine
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            return "\n".join(str(row[-1]) for row in rows)
        # Tiny test tables make a sequential scan cheapest; forbid it to see what the index offers.
        conn.exec_driver_sql("SET enable_seqscan = off")
        conn.exec_driver_sql("SET enable_bitmapscan = off")
        rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters).all()
        return "\n".join(row[0] for row in rows)


@pytest.mark.parametrize("viewer", ["admin", "agent"])
def test_the_queue_view_reads_the_queue_index_in_order(
    app, make_ticket, make_queue, make_agent, make_api_token, admin, viewer
):
    """Filter and order come from ix_ticket_queue_cat_updated: no sort, no scan of the table."""
    from frontdesk.testing.plugin import ApiClient

    agent = make_agent()
    queue = make_queue(key="support", members=[agent])
    tickets = [make_ticket(queue=queue) for _ in range(4)]
    for ticket in tickets:
        update_ticket(ticket, {"status": "open"}, admin)
    client = ApiClient(app.test_client(), make_api_token(admin if viewer == "admin" else agent))
    first = client.get(f"{TICKETS}?queue=support&status_category=open&sort=-updated_at&limit=2")
    cursor = first.get_json()["next_cursor"]
    assert cursor
    url = f"{TICKETS}?queue=support&status_category=open&sort=-updated_at&limit=2&cursor={cursor}"
    statement, parameters = _captured_list_query(app, client, url)
    plan = _plan(app, statement, parameters)
    assert "ix_ticket_queue_cat_updated" in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan
    if app.extensions["frontdesk.db"].dialect == "postgresql":
        index_lines = [line for line in plan.splitlines() if "Index Cond" in line]
        assert any("ROW(" in line or "updated_at" in line for line in index_lines), plan
