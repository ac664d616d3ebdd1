"""Actions on the agent ticket page: reply, note and @mentions, properties, relations, watching."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from frontdesk.models import Event, Message, Ticket, TicketLink
from frontdesk.plugins import hookimpl
from frontdesk.services import reply, update_ticket
from frontdesk.testing import login
from frontdesk.testing.helpers import post_form


@pytest.fixture
def notices(plugins: Any) -> list[dict[str, Any]]:
    """Every notice the app delivers during the test (a plugin that claims to send them)."""
    sent: list[dict[str, Any]] = []

    class Outbox:
        @hookimpl
        def deliver_notice(
            self, recipient: Any, kind: str, subject: str, text: str, url: Any
        ) -> bool:
            sent.append(
                {"to": recipient.email, "kind": kind, "subject": subject, "text": text, "url": url}
            )
            return True

    plugins.register(Outbox())
    return sent


def page(response: Any, status: int = 200) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[:3000]
    return response.get_data(as_text=True)


def fresh(db: Any, ticket: Ticket) -> Ticket:
    db.expire_all()
    return db.get(Ticket, ticket.id)


def url(ticket: Ticket, action: str = "") -> str:
    return f"/desk/tickets/{ticket.number}" + (f"/{action}" if action else "")


# --- Reply and note ------------------------------------------------------------------------------


def test_a_reply_adds_an_agent_message_and_a_history_event(
    agent_client: Any, agent: Any, make_ticket: Any, db: Any
) -> None:
    ticket = make_ticket()

    response = post_form(
        agent_client, url(ticket, "reply"),
        {"body": "We are on it.", "last_message_id": ticket.messages[0].id, "status": "pending"},
    )  # fmt: skip

    assert response.status_code == 302
    ticket = fresh(db, ticket)
    answer = ticket.messages[-1]
    assert (answer.kind, answer.body_text, answer.author_id) == ("agent", "We are on it.", agent.id)
    assert response.headers["Location"].endswith(f"{url(ticket)}#m{answer.id}")
    assert ticket.status == "pending"
    events = db.scalars(select(Event).where(Event.ticket_id == ticket.id)).all()
    assert any(
        e.action == "message" and e.field == "agent" and e.actor_id == agent.id for e in events
    )
    shown = page(agent_client.get(response.headers["Location"]))
    assert "Reply sent." in shown and "We are on it." in shown


def test_a_reply_with_several_files_keeps_them_all(
    agent_client: Any, make_ticket: Any, db: Any
) -> None:
    from io import BytesIO

    ticket = make_ticket()
    files = [(BytesIO(b"one"), "one.txt"), (BytesIO(b"%PDF-1.4"), "two.pdf")]

    response = post_form(agent_client, url(ticket, "reply"), {"body": "", "attachments": files})

    assert response.status_code == 302
    answer = fresh(db, ticket).messages[-1]
    assert [(a.filename, a.size) for a in answer.attachments] == [("one.txt", 3), ("two.pdf", 8)]


@pytest.mark.parametrize("app_config", [{"MAX_ATTACHMENT_BYTES": 1000}])
def test_an_oversized_upload_is_refused_and_the_text_kept(
    agent_client: Any, make_ticket: Any, db: Any
) -> None:
    from io import BytesIO

    ticket = make_ticket()
    typed = "Here is the <full> log you asked for."

    response = post_form(
        agent_client, url(ticket, "reply"),
        {"body": typed, "attachments": [(BytesIO(b"x" * 1001), "huge.log")]},
    )  # fmt: skip

    html = page(response, 413)
    assert "The file huge.log is larger than the limit of 1000 bytes." in html
    assert ">Here is the &lt;full&gt; log you asked for.</textarea>" in html
    assert len(fresh(db, ticket).messages) == 1


def test_a_reply_after_someone_else_answered_is_held_back_unless_sent_anyway(
    agent_client: Any, make_agent: Any, make_ticket: Any, db: Any
) -> None:
    ticket = make_ticket()
    seen = ticket.messages[0].id
    reply(ticket, "I already answered this one.", make_agent())

    held = post_form(
        agent_client, url(ticket, "reply"), {"body": "My answer", "last_message_id": seen}
    )

    html = page(held, 409)
    assert "A new message arrived on this ticket while you were writing." in html
    assert ">My answer</textarea>" in html and "I already answered this one." in html
    assert len(fresh(db, ticket).messages) == 2

    sent = post_form(
        agent_client, url(ticket, "reply"),
        {"body": "My answer", "last_message_id": seen, "send_anyway": "1"},
    )  # fmt: skip

    assert sent.status_code == 302
    assert fresh(db, ticket).messages[-1].body_text == "My answer"


def test_an_empty_reply_is_refused_with_a_message(agent_client: Any, make_ticket: Any) -> None:
    ticket = make_ticket()

    html = page(post_form(agent_client, url(ticket, "reply"), {"body": "   "}), 422)

    assert "Write a reply or attach a file." in html


def test_a_note_with_mentions_notifies_the_mentioned_agents_and_records_them(
    agent_client: Any, agent: Any, make_agent: Any, make_ticket: Any, notices: Any, db: Any
) -> None:
    ann = make_agent(email="ann.lee@example.test", name="Ann Lee", language="it")
    bob = make_agent(email="bob@example.test", name="Bob Stone")
    ticket = make_ticket()

    response = post_form(
        agent_client, url(ticket, "note"),
        {"body": 'Can @ann.lee and @"Bob Stone" check? Mail me at x@example.test, not @nobody.'},
    )  # fmt: skip

    assert response.status_code == 302
    ticket = fresh(db, ticket)
    note = ticket.messages[-1]
    assert note.kind == "internal_note"
    assert [m["id"] for m in note.meta["mentions"]] == [ann.id, bob.id]
    assert sorted(n["to"] for n in notices) == ["ann.lee@example.test", "bob@example.test"]
    assert {n["kind"] for n in notices} == {"mention"}
    assert all(n["url"].endswith(f"{url(ticket)}#m{note.id}") for n in notices)
    assert all(ticket.number in n["subject"] and "Can @ann.lee" in n["text"] for n in notices)
    event = db.scalar(
        select(Event).where(Event.ticket_id == ticket.id, Event.action == "mentioned")
    )
    assert event.new["users"] == [ann.id, bob.id] and event.actor_id == agent.id
    shown = page(agent_client.get(url(ticket)))
    assert "@nobody" in shown  # named as matching nobody
    assert "Mentioned: Ann Lee, Bob Stone" in shown


def test_only_active_agents_can_be_mentioned(
    agent_client: Any, make_agent: Any, make_customer: Any, make_ticket: Any, notices: Any
) -> None:
    from frontdesk.services import update_user

    gone = make_agent(email="gone@example.test")
    update_user(gone, is_active=False)
    make_customer(email="cust@example.test")
    ticket = make_ticket()

    post_form(agent_client, url(ticket, "note"), {"body": "@gone @cust please look"})

    assert notices == []


def test_a_note_that_nobody_could_deliver_says_so(
    agent_client: Any, make_agent: Any, make_ticket: Any
) -> None:
    make_agent(email="dana@example.test", name="Dana")
    ticket = make_ticket()

    response = post_form(agent_client, url(ticket, "note"), {"body": "@dana FYI"})

    assert "Could not send a notice to Dana." in page(
        agent_client.get(response.headers["Location"])
    )


# --- Properties ----------------------------------------------------------------------------------


def test_status_priority_queue_and_assignee_change_together(
    agent_client: Any, agent: Any, make_queue: Any, make_ticket: Any, db: Any
) -> None:
    queue = make_queue(members=[agent])
    ticket = make_ticket()

    response = post_form(
        agent_client, url(ticket, "update"),
        {"version": ticket.version, "status": "open", "priority": "urgent",
         "queue": queue.key, "assignee": agent.id},
    )  # fmt: skip

    assert response.status_code == 302
    ticket = fresh(db, ticket)
    assert (ticket.status, ticket.priority, ticket.queue_id, ticket.assignee_id) == (
        "open",
        "urgent",
        queue.id,
        agent.id,
    )


def test_a_stale_form_is_refused_and_keeps_what_was_chosen(
    agent_client: Any, make_agent: Any, make_ticket: Any, db: Any
) -> None:
    ticket = make_ticket()
    old_version = ticket.version
    update_ticket(ticket, {"priority": "high"}, make_agent())

    response = post_form(
        agent_client, url(ticket, "update"),
        {"version": old_version, "status": ticket.status, "priority": "low"},
    )  # fmt: skip

    html = page(response, 412)
    assert "changed by someone else meanwhile" in html
    assert '<option value="low" selected>' in html and "Currently: High" in html
    assert f'name="version" value="{fresh(db, ticket).version}"' in html
    assert fresh(db, ticket).priority == "high"


def test_custom_fields_are_checked_and_the_input_kept(
    agent_client: Any, agent: Any, make_queue: Any, make_ticket: Any, db: Any
) -> None:
    queue = make_queue(
        members=[agent],
        custom_fields=[
            {"key": "seats", "label": "Seats", "type": "number"},
            {"key": "renewal", "label": "Renewal", "type": "date"},
            {"key": "trial", "label": "Trial", "type": "boolean"},
        ],
    )
    ticket = make_ticket(queue=queue)
    form = {"version": ticket.version, "cf.seats": "twelve", "cf.renewal": "2025-02-30",
            "cf.trial.present": "1", "cf.trial": "1"}  # fmt: skip

    html = page(post_form(agent_client, url(ticket, "update"), form), 422)

    assert "Enter a number." in html and "Enter a date as YYYY-MM-DD." in html
    assert 'value="twelve"' in html and 'value="2025-02-30"' in html

    form.update({"cf.seats": "12", "cf.renewal": "2025-03-01"})
    assert post_form(agent_client, url(ticket, "update"), form).status_code == 302
    assert fresh(db, ticket).custom_fields == {"seats": 12, "renewal": "2025-03-01", "trial": True}


def test_tags_are_added_and_removed(agent_client: Any, make_ticket: Any, db: Any) -> None:
    ticket = make_ticket(tags=["old"])

    assert post_form(agent_client, url(ticket, "tags"), {"tags": "Billing, vip"}).status_code == 302
    assert fresh(db, ticket).tag_names == ["billing", "old", "vip"]
    assert post_form(agent_client, url(ticket, "tags/remove"), {"tag": "old"}).status_code == 302
    assert fresh(db, ticket).tag_names == ["billing", "vip"]


# --- Relations and watching ----------------------------------------------------------------------


def test_merge_moves_the_thread_into_the_other_ticket(
    agent_client: Any, make_ticket: Any, db: Any
) -> None:
    source, target = make_ticket(body_text="Duplicate report"), make_ticket()

    response = post_form(agent_client, url(source, "merge"), {"target": f" {target.number} "})

    assert response.status_code == 302 and response.headers["Location"].endswith(url(target))
    assert fresh(db, source).merged_into_id == target.id
    merged = page(agent_client.get(url(source)))
    assert f'merged into <a href="{url(target)}">{target.number}</a>' in merged
    assert "Duplicate report" in page(agent_client.get(url(target)))


def test_merge_into_an_unknown_ticket_keeps_the_number_typed(
    agent_client: Any, make_ticket: Any
) -> None:
    ticket = make_ticket()

    html = page(post_form(agent_client, url(ticket, "merge"), {"target": "FD-404404"}), 422)

    assert "There is no ticket FD-404404 that you can change." in html
    assert 'value="FD-404404"' in html


def test_split_moves_the_ticked_messages_into_a_new_ticket(
    agent_client: Any, agent: Any, make_ticket: Any, db: Any
) -> None:
    ticket = make_ticket(subject="Two problems")
    second = reply(ticket, "Also my scanner is broken.", ticket.customer)

    response = post_form(
        agent_client, url(ticket, "split"), {"message_ids": [second.id], "subject": "Scanner"}
    )

    assert response.status_code == 302
    new = db.scalar(select(Ticket).where(Ticket.subject == "Scanner"))
    assert response.headers["Location"].endswith(url(new))
    assert db.get(Message, second.id).ticket_id == new.id
    assert [m.id for m in fresh(db, ticket).messages] == [ticket.messages[0].id]


def test_split_of_every_message_is_refused(agent_client: Any, make_ticket: Any) -> None:
    ticket = make_ticket()

    html = page(
        post_form(agent_client, url(ticket, "split"), {"message_ids": [ticket.messages[0].id]}), 422
    )

    assert "Choose some messages of this ticket, but not all of them." in html


def test_links_are_added_and_removed(
    agent_client: Any, agent: Any, make_ticket: Any, db: Any
) -> None:
    ticket, other = make_ticket(), make_ticket()

    added = post_form(
        agent_client, url(ticket, "links"), {"target": other.number, "kind": "parent_of"}
    )

    assert added.status_code == 302
    link = db.scalar(select(TicketLink).where(TicketLink.source_id == ticket.id))
    assert (link.target_id, link.kind) == (other.id, "parent_of")
    assert "Child of" in page(agent_client.get(url(other)))  # the other side reads it backwards

    removed = post_form(agent_client, url(ticket, f"links/{link.id}/delete"))

    assert removed.status_code == 302
    db.expire_all()
    assert db.scalars(select(TicketLink)).all() == []


def test_watch_and_unwatch(agent_client: Any, agent: Any, make_ticket: Any, db: Any) -> None:
    ticket = make_ticket()

    assert post_form(agent_client, url(ticket, "watch")).status_code == 302
    assert [w.id for w in fresh(db, ticket).watchers] == [agent.id]
    assert post_form(agent_client, url(ticket, "unwatch")).status_code == 302
    assert fresh(db, ticket).watchers == []


# --- Who may act ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "data"),
    [("reply", {"body": "x"}), ("note", {"body": "x"}), ("update", {"priority": "low"}),
     ("tags", {"tags": "x"}), ("merge", {"target": "x"}), ("watch", {})],
)  # fmt: skip
def test_an_agent_of_another_team_cannot_act(
    app: Any, make_agent: Any, make_queue: Any, make_ticket: Any, action: str, data: dict, db: Any
) -> None:
    outsider = make_agent()
    make_queue(members=[outsider])
    ticket = make_ticket(queue=make_queue())

    response = post_form(login(app.test_client(), outsider), url(ticket, action), data)

    assert response.status_code == 404
    assert len(fresh(db, ticket).messages) == 1


def test_a_form_without_its_csrf_token_is_refused(
    agent_client: Any, make_ticket: Any, db: Any
) -> None:
    ticket = make_ticket()

    assert agent_client.post(url(ticket, "reply"), data={"body": "x"}).status_code == 400
    assert len(fresh(db, ticket).messages) == 1
