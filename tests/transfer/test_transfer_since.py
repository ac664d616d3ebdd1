"""``frontdesk export --since``: recent tickets and only the people and queues they refer to."""

from __future__ import annotations

from datetime import UTC, datetime

from frontdesk.db import transaction
from frontdesk.services import add_watcher, assign, reply


def test_since_exports_recent_tickets_with_what_they_refer_to(
    make_ticket, make_customer, make_agent, make_queue, make_organization, export_lines
):
    old_org = make_organization(name="Old Org", domains=["old.test"])
    new_org = make_organization(name="New Org", domains=["new.test"])
    old_customer = make_customer(email="old@old.test")
    new_customer = make_customer(email="new@new.test")
    member = make_agent(email="member@helpdesk.test")
    helper = make_agent(email="helper@helpdesk.test")
    watcher = make_agent(email="watcher@helpdesk.test")
    make_agent(email="idle@helpdesk.test")
    recent_queue = make_queue(key="recent", members=[member])
    make_queue(key="archive")
    old = make_ticket(subject="Old", customer=old_customer)
    recent = make_ticket(subject="Recent", customer=new_customer, queue=recent_queue)
    assign(recent, helper, None)
    assign(recent, None, None)  # helper is now only in the history
    reply(recent, "Answer", member)
    add_watcher(recent, watcher, member)
    with transaction():
        old.updated_at = datetime(2019, 12, 31, 23, 59, tzinfo=UTC)
        recent.updated_at = datetime(2020, 1, 1, tzinfo=UTC)

    records = export_lines("--since", "2020-01-01")

    assert records[0]["since"] == "2020-01-01T00:00:00+00:00"
    by_type: dict[str, list[str]] = {}
    for record in records[1:]:
        key = record.get("number") or record.get("email") or record.get("key") or record["name"]
        by_type.setdefault(record["type"], []).append(key)
    assert by_type == {
        "organization": [new_org.name],
        "user": [
            "new@new.test",
            "member@helpdesk.test",
            "helper@helpdesk.test",
            "watcher@helpdesk.test",
        ],
        "queue": ["recent"],
        "ticket": [recent.number],
    }
    assert old_org.name not in str(records)


def test_since_accepts_a_datetime_with_offset_and_rejects_nonsense(make_ticket, export_lines, cli):
    ticket = make_ticket()
    with transaction():
        ticket.updated_at = datetime(2021, 6, 1, 10, 0, tzinfo=UTC)
    assert len(export_lines("--since", "2021-06-01T11:30:00+02:00")) > 1  # 09:30 UTC
    assert [r["type"] for r in export_lines("--since", "2021-06-01T10:00:01")] == ["header"]

    result = cli("export", "--since", "last tuesday")
    assert result.exit_code == 2
    assert "--since" in result.stderr and "not a date" in result.stderr


def test_a_since_dump_imports_into_the_instance_it_updates(
    make_ticket, export_lines, fresh_database, cli, jsonl, db
):
    old = make_ticket(subject="Old")
    make_ticket(subject="Recent")
    with transaction():
        old.updated_at = datetime(2010, 1, 1, tzinfo=UTC)
    full = jsonl(export_lines())
    recent = jsonl(export_lines("--since", "2020-01-01"))
    fresh_database()
    assert cli("import", "-", input=full).exit_code == 0

    result = cli("import", "-", input=recent)
    assert result.exit_code == 0, result.stderr
    assert "tickets:       0 created, 0 updated, 1 unchanged, 0 failed" in result.stderr
