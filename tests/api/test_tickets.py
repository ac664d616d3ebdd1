"""Opening, reading and changing tickets through the API."""

from __future__ import annotations

from frontdesk.models import Event, Ticket
from frontdesk.plugins import hookimpl
from sqlalchemy import select

TICKETS = "/api/v1/tickets"


def test_the_benchmark_request_opens_a_ticket_for_a_new_customer(api_client, make_queue, db):
    make_queue(key="support")
    response = api_client.post(
        TICKETS,
        json={
            "subject": "Printer jams",
            "body_text": "Every third page",
            "customer": {"email": "ana@example.test", "name": "Ana"},
            "queue": "support",
        },
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"].endswith(f"{TICKETS}/{body['number']}")
    assert response.headers["ETag"] == f'"{body["version"]}"'
    assert body["customer"]["email"] == "ana@example.test"
    assert body["queue"]["key"] == "support"
    ticket = db.scalar(select(Ticket).where(Ticket.number == body["number"]))
    assert [m.body_text for m in ticket.messages] == ["Every third page"]
    assert ticket.channel == "api" and ticket.customer.name == "Ana"
    again = api_client.get(response.headers["Location"])
    assert again.status_code == 200 and again.get_json()["subject"] == "Printer jams"


def test_staff_set_every_field_on_create(api_client, make_queue, make_agent, customer, b64):
    agent = make_agent()
    make_queue(key="billing", members=[agent], custom_fields=[{"key": "plan", "type": "text"}])
    response = api_client.post(
        TICKETS,
        json={
            "subject": "Invoice",
            "body_html": "<p>Hello <script>x()</script><b>there</b></p>",
            "customer_id": customer.id,
            "queue": "billing",
            "priority": "high",
            "status": "open",
            "tags": ["Invoice", "vip"],
            "custom_fields": {"plan": "gold"},
            "assignee_id": agent.id,
            "language": "it",
            "attachments": [
                {"filename": "a.txt", "media_type": "text/plain", "content_base64": b64(b"hi")}
            ],
        },
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["priority"], body["status"], body["language"]) == ("high", "open", "it")
    assert body["tags"] == ["invoice", "vip"] and body["custom_fields"] == {"plan": "gold"}
    assert body["assignee"]["id"] == agent.id and body["customer"]["id"] == customer.id
    thread = api_client.get(f"{TICKETS}/{body['number']}/messages").get_json()["items"]
    assert "script" not in thread[0]["body_html"] and "<b>there</b>" in thread[0]["body_html"]
    assert thread[0]["attachments"][0]["filename"] == "a.txt"


def test_a_customer_always_opens_tickets_for_themselves(
    portal_client, customer, csrf, problem, snapshot
):
    response = portal_client.post(
        TICKETS, json={"subject": "Help", "body_text": "Please"}, headers=csrf
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["customer"]["id"] == customer.id
    before = snapshot()
    refused = portal_client.post(
        TICKETS,
        json={"subject": "x", "body_text": "y", "customer": {"email": "other@example.test"}},
        headers=csrf,
    )
    problem(refused, 422, "customer")
    assert snapshot() == before


def test_staff_must_say_whose_ticket_it_is(api_client, problem):
    problem(api_client.post(TICKETS, json={"subject": "x", "body_text": "y"}), 422, "customer")


def test_get_answers_not_modified_for_a_matching_etag(api_client, make_ticket):
    ticket = make_ticket()
    first = api_client.get(f"{TICKETS}/{ticket.number}")
    etag = first.headers["ETag"]
    assert etag == f'"{ticket.version}"'
    again = api_client.get(f"{TICKETS}/{ticket.number}", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_patch_with_the_current_version_changes_the_ticket(
    api_client, make_ticket, make_queue, agent
):
    queue = make_queue(key="tier2", members=[agent])
    ticket = make_ticket()
    response = api_client.patch(
        f"{TICKETS}/{ticket.number}",
        json={
            "subject": "Renamed",
            "priority": "urgent",
            "status": "pending",
            "queue": "tier2",
            "assignee_id": agent.id,
            "tags": ["a", "b"],
            "pending_until": "2030-01-01T09:00:00+01:00",
        },
        headers={"If-Match": f'"{ticket.version}"'},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["subject"] == "Renamed" and body["priority"] == "urgent"
    assert body["status"] == "pending" and body["status_category"] == "pending"
    assert body["queue"]["id"] == queue.id and body["assignee"]["id"] == agent.id
    assert body["pending_until"].startswith("2030-01-01T08:00:00")
    assert response.headers["ETag"] == f'"{body["version"]}"' and body["version"] > 1
    unassign = api_client.patch(f"{TICKETS}/{ticket.number}", json={"assignee_id": None})
    assert unassign.get_json()["assignee"] is None


def test_patch_with_a_stale_version_is_refused_and_changes_nothing(
    api_client, make_ticket, problem, snapshot
):
    ticket = make_ticket()
    number, stale = ticket.number, f'"{ticket.version}"'
    assert api_client.patch(f"{TICKETS}/{number}", json={"priority": "high"}).status_code == 200
    before = snapshot()
    response = api_client.patch(
        f"{TICKETS}/{number}", json={"subject": "Lost update"}, headers={"If-Match": stale}
    )
    body = problem(response, 412)
    assert "version" in body["detail"]
    assert snapshot() == before
    problem(api_client.patch(f"{TICKETS}/{number}", json={}, headers={"If-Match": "xyz"}), 412)


def test_a_status_change_a_plugin_refuses_changes_nothing(
    api_client, make_ticket, plugins, problem, snapshot
):
    class NoSolvingOnFriday:
        @hookimpl
        def status_transition_issues(self, ticket, old, new):
            return ["solving is frozen"] if new == "solved" else None

    plugins.register(NoSolvingOnFriday())
    ticket = make_ticket()
    before = snapshot()
    response = api_client.patch(
        f"{TICKETS}/{ticket.number}", json={"subject": "Also this", "status": "solved"}
    )
    assert problem(response, 409, "status")["errors"]["status"] == ["solving is frozen"]
    assert snapshot() == before


def test_custom_field_values_are_checked_against_the_queue(
    api_client, make_queue, make_ticket, problem, snapshot
):
    queue = make_queue(
        custom_fields=[
            {"key": "plan", "type": "choice", "choices": ["free", "gold"]},
            {"key": "seats", "type": "number"},
        ]
    )
    ticket = make_ticket(queue=queue)
    url = f"{TICKETS}/{ticket.number}"
    ok = api_client.patch(url, json={"custom_fields": {"plan": "gold", "seats": 3}})
    assert ok.get_json()["custom_fields"] == {"plan": "gold", "seats": 3}
    before = snapshot()
    bad = api_client.patch(url, json={"custom_fields": {"plan": "platinum", "colour": "red"}})
    problem(bad, 422, "custom_fields.plan", "custom_fields.colour")
    assert snapshot() == before


def test_customers_may_close_their_ticket_but_not_edit_it(
    portal_client, customer, make_ticket, csrf, problem, db
):
    ticket = make_ticket(customer=customer)
    url = f"{TICKETS}/{ticket.number}"
    problem(portal_client.patch(url, json={"priority": "urgent"}, headers=csrf), 403, "priority")
    problem(portal_client.patch(url, json={"status": "on_hold"}, headers=csrf), 403, "status")
    closed = portal_client.patch(url, json={"status": "closed"}, headers=csrf)
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    sources = db.scalars(
        select(Event.source).where(Event.ticket_id == ticket.id, Event.field == "status")
    )
    assert list(sources) == ["api"]
