"""Who sees what: agents see their teams' queues, customers their own (and shared) tickets."""

from __future__ import annotations

import pytest
from frontdesk.channels.base import IncomingAttachment
from frontdesk.services import add_note, reply
from frontdesk.testing.helpers import login

TICKETS = "/api/v1/tickets"


def listed(client, query: str = "") -> set[str]:
    response = client.get(f"{TICKETS}?limit=100&{query}")
    assert response.status_code == 200, response.get_json()
    return {t["number"] for t in response.get_json()["items"]}


def test_an_agent_sees_only_the_queues_of_their_teams(
    app, make_agent, make_queue, make_ticket, problem, csrf
):
    me, other = make_agent(), make_agent()
    mine, theirs = make_queue(members=[me]), make_queue(members=[other])
    visible = make_ticket(queue=mine)
    hidden = make_ticket(queue=theirs)
    assigned_to_me = make_ticket(queue=theirs, assignee=me)
    client = login(app.test_client(), me)
    assert listed(client) == {visible.number, assigned_to_me.number}
    assert listed(client, f"queue={theirs.key}") == {assigned_to_me.number}
    for url in (f"{TICKETS}/{hidden.number}", f"{TICKETS}/{hidden.number}/messages"):
        problem(client.get(url), 404)
    problem(
        client.patch(f"{TICKETS}/{hidden.number}", json={"priority": "high"}, headers=csrf), 404
    )
    problem(
        client.post(f"{TICKETS}/{hidden.number}/messages", json={"body_text": "hi"}, headers=csrf),
        404,
    )


def test_a_customer_never_sees_another_customers_ticket(
    portal_client, customer, make_ticket, make_agent, problem, csrf
):
    own = make_ticket(customer=customer)
    foreign = make_ticket(attachments=[IncomingAttachment(filename="secret.txt", data=b"secret")])
    assert listed(portal_client) == {own.number}
    assert listed(portal_client, f"customer={foreign.customer_id}") == set()
    problem(portal_client.get(f"{TICKETS}/{foreign.number}"), 404)
    problem(portal_client.get(f"{TICKETS}/{foreign.number}/messages"), 404)
    problem(
        portal_client.post(
            f"{TICKETS}/{foreign.number}/messages", json={"body_text": "hi"}, headers=csrf
        ),
        404,
    )
    attachment_id = foreign.messages[0].attachments[0].id
    problem(portal_client.get(f"/api/v1/attachments/{attachment_id}"), 404)


@pytest.mark.parametrize("shared", [True, False])
def test_organization_sharing_decides_whether_colleagues_see_tickets(
    app, make_organization, make_customer, make_ticket, shared
):
    org = make_organization(shared_tickets=shared)
    ana, bob = make_customer(organization=org), make_customer(organization=org)
    ticket = make_ticket(customer=ana)
    bob_client = login(app.test_client(), bob)
    assert listed(bob_client) == ({ticket.number} if shared else set())
    assert bob_client.get(f"{TICKETS}/{ticket.number}").status_code == (200 if shared else 404)


def test_customers_never_see_internal_notes_or_their_attachments(
    portal_client, customer, make_ticket, agent, agent_client, problem
):
    ticket = make_ticket(customer=customer)
    note = add_note(
        ticket,
        "internal only",
        agent,
        attachments=[IncomingAttachment(filename="n.txt", data=b"note file")],
    )
    reply(ticket, "public answer", agent)
    thread = portal_client.get(f"{TICKETS}/{ticket.number}/messages").get_json()["items"]
    assert [m["kind"] for m in thread] == ["customer", "agent"]
    assert all("internal only" not in m["body_text"] for m in thread)
    assert all("meta" not in m and "external_id" not in m for m in thread)
    problem(portal_client.get(f"/api/v1/attachments/{note.attachments[0].id}"), 404)
    staff_thread = agent_client.get(f"{TICKETS}/{ticket.number}/messages").get_json()["items"]
    assert [m["kind"] for m in staff_thread] == ["customer", "internal_note", "agent"]
    problem(portal_client.get(f"{TICKETS}/{ticket.number}/history"), 403)


def test_a_customer_sees_public_fields_only(
    portal_client, customer, make_queue, make_ticket, agent
):
    queue = make_queue(
        members=[agent],
        custom_fields=[
            {"key": "order", "type": "text"},
            {"key": "risk", "type": "text", "public": False},
        ],
    )
    ticket = make_ticket(
        customer=customer,
        queue=queue,
        assignee=agent,
        custom_fields={"order": "A1", "risk": "high"},
    )
    body = portal_client.get(f"{TICKETS}/{ticket.number}").get_json()
    assert body["custom_fields"] == {"order": "A1"}
    assert "plugin_data" not in body and "watcher_ids" not in body
    assert body["assignee"]["name"] == agent.name and "email" not in body["assignee"]
    queues = portal_client.get("/api/v1/queues").get_json()
    assert queues == [
        {
            "id": queue.id,
            "key": queue.key,
            "name": queue.name,
            "description": "",
            "custom_fields": [d for d in queue.custom_fields if d["key"] == "order"],
        }
    ]


def test_a_customer_replies_and_reopens_but_cannot_write_notes(
    portal_client, customer, make_ticket, agent, csrf, problem
):
    ticket = make_ticket(customer=customer)
    url = f"{TICKETS}/{ticket.number}/messages"
    problem(
        portal_client.post(url, json={"kind": "note", "body_text": "x"}, headers=csrf), 403, "kind"
    )
    response = portal_client.post(url, json={"body_text": "any news?"}, headers=csrf)
    assert response.status_code == 201 and response.get_json()["kind"] == "customer"
