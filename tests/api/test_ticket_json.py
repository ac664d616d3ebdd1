"""The ticket endpoints build their JSON by hand; it must be exactly what ``TicketSchema`` dumps."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from frontdesk.api.schemas import TicketSchema
from frontdesk.db import transaction
from frontdesk.models import Ticket
from frontdesk.services import add_watcher, merge_tickets, update_ticket
from sqlalchemy import select, text

TICKETS = "/api/v1/tickets"
FIELDS = [
    {"key": "plan", "label": "Plan", "type": "text"},
    {"key": "risk", "label": "Risk", "type": "text", "public": False},
]


def schema_json(app, db, number: str, token: str) -> dict:
    """``TicketSchema``'s dump of the ticket as stored, for the viewer the token belongs to."""
    db.rollback()  # a fresh load, as a request would do
    ticket = db.scalar(select(Ticket).where(Ticket.number == number))
    with app.test_request_context(headers={"Authorization": f"Bearer {token}"}):
        return json.loads(app.json.dumps(TicketSchema().dump(ticket)))


@pytest.fixture
def tickets(make_ticket, make_queue, make_agent, make_customer, admin):
    """A ticket with every part filled in (and one merged into it), both the customer's."""
    agent = make_agent()
    queue = make_queue(key="support", members=[agent], custom_fields=FIELDS)
    customer = make_customer()
    ticket = make_ticket(
        queue=queue,
        customer=customer,
        assignee=agent,
        tags=["printer", "Hardware"],
        custom_fields={"plan": "pro", "risk": "high"},
    )
    for watcher in sorted([make_agent(), make_agent()], key=lambda u: u.id):
        add_watcher(ticket, watcher, admin)
    pending = datetime(2031, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    update_ticket(ticket, {"status": "pending", "pending_until": pending}, agent)
    with transaction():
        ticket.plugin_data = {"sla": {"policy": "gold", "targets": []}}
    merged = make_ticket(queue=queue, customer=customer, subject="Same printer again")
    merge_tickets(merged, ticket, admin)
    bare = make_ticket(customer=customer, subject="No queue, no agent")
    # A whole second: isoformat() leaves the fraction out, and the list must do the same.
    whole_second = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
    update_ticket(bare, {"queue": None, "status": "pending", "pending_until": whole_second}, admin)
    return customer, [ticket.number, merged.number, bare.number]


@pytest.mark.parametrize("viewer", ["admin", "customer"])
def test_list_and_read_match_the_schema(app, db, tickets, admin, make_api_token, viewer):
    customer, numbers = tickets
    token = make_api_token(admin if viewer == "admin" else customer)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    listed = client.get(f"{TICKETS}?limit=100", headers=headers).get_json()["items"]
    by_number = {item["number"]: item for item in listed}
    assert set(numbers) <= set(by_number)
    for number in numbers:
        expected = schema_json(app, db, number, token)
        assert by_number[number] == expected
        assert client.get(f"{TICKETS}/{number}", headers=headers).get_json() == expected
    first = by_number[numbers[0]]
    if viewer == "admin":
        assert first["custom_fields"] == {"plan": "pro", "risk": "high"}
        assert len(first["watcher_ids"]) == 2 and "email" in first["assignee"]
    else:  # the shapes differ by viewer, so both are compared
        assert first["custom_fields"] == {"plan": "pro"}
        assert "watcher_ids" not in first and "email" not in first["assignee"]
    assert by_number[numbers[1]]["merged_into"] == numbers[0]
    assert by_number[numbers[2]]["queue"] is None
    assert by_number[numbers[2]]["pending_until"] == "2031-05-06T07:08:09+00:00"


def test_a_created_ticket_answers_with_the_schema_json(app, db, api_client, make_queue):
    make_queue(key="support", custom_fields=FIELDS)
    response = api_client.post(
        TICKETS,
        json={
            "subject": "Printer jammed",
            "body_text": "It ate the invoice.",
            "customer": {"email": "ana@example.com", "name": "Ana"},
            "queue": "support",
            "tags": ["printer"],
            "custom_fields": {"plan": "basic"},
        },
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body == schema_json(app, db, body["number"], api_client.token)
    assert response.headers["ETag"] == f'"{body["version"]}"'


def test_timestamps_written_in_another_form_are_listed_like_the_schema(
    app, db, api_client, make_ticket
):
    # Rows written by other tools (an import, a database console) may lack the fraction.
    ticket = make_ticket(subject="Touched by hand")
    db.execute(
        text("UPDATE ticket SET updated_at = '2030-01-02 03:04:05' WHERE id = :id"),
        {"id": ticket.id},
    )
    db.commit()
    items = api_client.get(f"{TICKETS}?limit=100").get_json()["items"]
    listed = next(item for item in items if item["number"] == ticket.number)
    assert listed["updated_at"] == "2030-01-02T03:04:05+00:00"
    assert listed == schema_json(app, db, ticket.number, api_client.token)
