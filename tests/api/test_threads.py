"""Messages, attachments, history, merge, split, links and watchers through the API."""

from __future__ import annotations

from frontdesk.models import Message, Ticket
from sqlalchemy import select

TICKETS = "/api/v1/tickets"


def test_reply_and_note_with_an_attachment_then_download_it(api_client, make_ticket, b64, db):
    ticket = make_ticket()
    url = f"{TICKETS}/{ticket.number}/messages"
    reply = api_client.post(
        url,
        json={
            "body_text": "Try this",
            "attachments": [
                {
                    "filename": "../../etc/fix.html",
                    "media_type": "text/html",
                    "content_base64": b64(b"<script>1</script>"),
                }
            ],
        },
    )
    assert reply.status_code == 201, reply.get_json()
    assert reply.get_json()["kind"] == "agent"
    note = api_client.post(url, json={"kind": "note", "body_html": "<p>between <b>us</b></p>"})
    assert note.get_json()["kind"] == "internal_note" and note.get_json()["body_text"].strip()
    attachment = reply.get_json()["attachments"][0]
    assert attachment["filename"] == "fix.html" and attachment["size"] == 18
    download = api_client.get(attachment["url"])
    assert download.status_code == 200 and download.data == b"<script>1</script>"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    kinds = db.scalars(
        select(Message.kind).where(Message.ticket_id == ticket.id).order_by(Message.id)
    )
    assert list(kinds) == ["customer", "agent", "internal_note"]


def test_messages_and_history_are_paged_in_order(api_client, make_ticket, admin):
    ticket = make_ticket()
    for i in range(4):
        api_client.post(f"{TICKETS}/{ticket.number}/messages", json={"body_text": f"reply {i}"})
    page = api_client.get(f"{TICKETS}/{ticket.number}/messages?limit=2").get_json()
    rest = api_client.get(
        f"{TICKETS}/{ticket.number}/messages?limit=10&cursor={page['next_cursor']}"
    ).get_json()
    texts = [m["body_text"] for m in page["items"] + rest["items"]]
    assert texts[1:] == [f"reply {i}" for i in range(4)] and rest["next_cursor"] is None
    history = api_client.get(f"{TICKETS}/{ticket.number}/history?limit=100").get_json()["items"]
    assert history[0]["action"] == "created"
    messages = [e for e in history if e["action"] == "message"]
    assert len(messages) == 5 and messages[-1]["actor"]["id"] == admin.id
    assert messages[-1]["source"] == "api"


def test_merge_moves_the_thread_and_closes_the_source(api_client, make_ticket, problem, snapshot):
    source, target = make_ticket(), make_ticket()
    problem(api_client.post(f"{TICKETS}/{source.number}/merge", json={"into": "FD-0"}), 404, "into")
    response = api_client.post(f"{TICKETS}/{source.number}/merge", json={"into": target.number})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["number"] == target.number
    merged = api_client.get(f"{TICKETS}/{source.number}").get_json()
    assert merged["merged_into"] == target.number and merged["status_category"] == "closed"
    thread = api_client.get(f"{TICKETS}/{target.number}/messages").get_json()["items"]
    assert len(thread) == 2
    before = snapshot()
    again = api_client.post(f"{TICKETS}/{source.number}/merge", json={"into": target.number})
    problem(again, 409)
    assert snapshot() == before


def test_split_moves_messages_to_a_new_ticket(api_client, make_ticket, db, problem):
    ticket = make_ticket()
    first = api_client.post(
        f"{TICKETS}/{ticket.number}/messages", json={"body_text": "other issue"}
    )
    message_id = first.get_json()["id"]
    problem(
        api_client.post(f"{TICKETS}/{ticket.number}/split", json={"message_ids": [999999]}),
        422,
        "message_ids",
    )
    response = api_client.post(
        f"{TICKETS}/{ticket.number}/split", json={"message_ids": [message_id], "subject": "Other"}
    )
    assert response.status_code == 201, response.get_json()
    new = response.get_json()
    assert new["subject"] == "Other" and response.headers["Location"].endswith(new["number"])
    moved = db.scalar(select(Message).where(Message.id == message_id))
    assert db.get(Ticket, moved.ticket_id).number == new["number"]


def test_links_can_be_added_listed_and_removed(api_client, make_ticket, problem):
    a, b = make_ticket(), make_ticket()
    problem(
        api_client.post(f"{TICKETS}/{a.number}/links", json={"target": b.number, "kind": "cousin"}),
        422,
        "kind",
    )
    created = api_client.post(
        f"{TICKETS}/{a.number}/links", json={"target": b.number, "kind": "parent_of"}
    )
    assert created.status_code == 201, created.get_json()
    link = created.get_json()
    assert (link["source"], link["target"], link["kind"]) == (a.number, b.number, "parent_of")
    assert [x["id"] for x in api_client.get(f"{TICKETS}/{b.number}/links").get_json()] == [
        link["id"]
    ]
    assert api_client.delete(f"{TICKETS}/{a.number}/links/{link['id']}").status_code == 204
    assert api_client.get(f"{TICKETS}/{a.number}/links").get_json() == []
    problem(api_client.delete(f"{TICKETS}/{a.number}/links/{link['id']}"), 404)


def test_watchers_can_be_added_and_removed(api_client, make_ticket, make_customer, problem):
    ticket, watcher = make_ticket(), make_customer()
    added = api_client.post(f"{TICKETS}/{ticket.number}/watchers", json={"user_id": watcher.id})
    assert [w["id"] for w in added.get_json()] == [watcher.id]
    assert api_client.get(f"{TICKETS}/{ticket.number}").get_json()["watcher_ids"] == [watcher.id]
    problem(
        api_client.post(f"{TICKETS}/{ticket.number}/watchers", json={"user_id": 999999}),
        422,
        "user_id",
    )
    assert api_client.delete(f"{TICKETS}/{ticket.number}/watchers/{watcher.id}").status_code == 204
    problem(api_client.delete(f"{TICKETS}/{ticket.number}/watchers/{watcher.id}"), 404)
