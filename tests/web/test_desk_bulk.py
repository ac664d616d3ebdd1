"""Bulk actions of the queue view: each ticket on its own, refusals reported, hidden ones kept."""

from __future__ import annotations

from typing import Any

import pytest

from frontdesk.db import session
from frontdesk.models import Message, Ticket
from frontdesk.plugins import hookimpl
from frontdesk.services import change_status
from frontdesk.testing.helpers import post_form


@pytest.fixture
def teams(agent: Any, make_agent: Any, make_queue: Any) -> dict[str, Any]:
    other = make_agent(name="Bob Other")
    return {
        "a": make_queue(key="bulk-a", name="Bulk A", members=[agent]),
        "b": make_queue(key="bulk-b", name="Bulk B", members=[other]),
        "other": other,
    }


def bulk(client: Any, tickets: list[Any], follow: bool = True, **fields: Any) -> Any:
    data = {"ticket": [str(t.id) for t in tickets], "next": "/desk/?view=all", **fields}
    return post_form(client, "/desk/tickets/bulk", data, follow_redirects=follow)


def fresh(ticket: Ticket) -> Ticket:
    session.expire_all()
    return session.get(Ticket, ticket.id)


def test_assign_status_priority_and_tags(
    agent_client: Any, agent: Any, teams: dict[str, Any], make_ticket: Any
) -> None:
    one, two = make_ticket(queue=teams["a"]), make_ticket(queue=teams["a"])
    untouched = make_ticket(queue=teams["a"])

    response = bulk(agent_client, [one, two], action="assign", assignee="me")
    assert response.status_code == 200
    assert "2 tickets changed." in response.get_data(as_text=True)
    assert fresh(one).assignee_id == agent.id and fresh(two).assignee_id == agent.id
    assert fresh(untouched).assignee_id is None

    bulk(agent_client, [one, two], action="status", status="on_hold")
    assert fresh(one).status == "on_hold" and fresh(two).status_category == "pending"

    bulk(agent_client, [one], action="priority", priority="urgent")
    assert fresh(one).priority == "urgent" and fresh(two).priority == "normal"

    bulk(agent_client, [one, two], action="add_tags", tags="VIP, billing")
    assert fresh(one).tag_names == ["billing", "vip"] and fresh(two).tag_names == ["billing", "vip"]
    bulk(agent_client, [two], action="remove_tags", tags="vip")
    assert fresh(two).tag_names == ["billing"] and fresh(one).tag_names == ["billing", "vip"]

    bulk(agent_client, [one], action="assign", assignee="none")
    assert fresh(one).assignee_id is None


def test_merge_into_one_of_the_selected(
    agent_client: Any, teams: dict[str, Any], make_ticket: Any
) -> None:
    keep = make_ticket(queue=teams["a"], tags=["keep"])
    dup1 = make_ticket(queue=teams["a"], tags=["dup"])
    dup2 = make_ticket(queue=teams["a"])
    response = bulk(agent_client, [keep, dup1, dup2], action="merge", merge_into=keep.number)
    assert "2 tickets changed." in response.get_data(as_text=True)
    for dup in (dup1, dup2):
        assert fresh(dup).merged_into_id == keep.id and fresh(dup).status == "merged"
    assert session.query(Message).filter_by(ticket_id=keep.id).count() == 3
    assert fresh(keep).tag_names == ["dup", "keep"]


def test_merge_target_must_be_selected(
    agent_client: Any, teams: dict[str, Any], make_ticket: Any
) -> None:
    one, two = make_ticket(queue=teams["a"]), make_ticket(queue=teams["a"])
    outsider = make_ticket(queue=teams["a"])
    response = bulk(agent_client, [one, two], action="merge", merge_into=outsider.number)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Type the number of one of the selected tickets." in html
    assert f'value="{outsider.number}"' in html  # what was typed stays
    assert f'name="ticket" value="{one.id}" id="t-{one.id}" aria-label' in html
    assert html.count(" checked>") >= 2  # the selection stays
    assert fresh(one).merged_into_id is None and fresh(two).merged_into_id is None


def test_tickets_of_other_teams_are_never_touched(
    agent_client: Any, teams: dict[str, Any], make_ticket: Any
) -> None:
    ours = make_ticket(queue=teams["a"])
    theirs = make_ticket(queue=teams["b"], subject="Other team's secret")
    for fields in (
        {"action": "priority", "priority": "urgent"},
        {"action": "assign", "assignee": "me"},
        {"action": "status", "status": "closed"},
        {"action": "add_tags", "tags": "pwned"},
    ):
        response = bulk(agent_client, [ours, theirs], **fields)
        html = response.get_data(as_text=True)
        assert "1 ticket changed." in html and "1 ticket was not found." in html
        assert theirs.number not in html and "secret" not in html
    after = fresh(theirs)
    assert (after.priority, after.assignee_id, after.status, after.tag_names) == (
        "normal",
        None,
        "new",
        [],
    )
    # Nor merged into, or out of.
    bulk(agent_client, [ours, theirs], action="merge", merge_into=theirs.number)
    bulk(agent_client, [ours, theirs], action="merge", merge_into=ours.number)
    assert fresh(theirs).merged_into_id is None
    assert session.query(Message).filter_by(ticket_id=theirs.id).count() == 1


def test_refusals_are_reported_and_the_others_applied(
    agent_client: Any, teams: dict[str, Any], make_ticket: Any, plugins: Any
) -> None:
    locked = make_ticket(queue=teams["a"], subject="Locked")
    frozen = make_ticket(queue=teams["a"], subject="Frozen")
    fine = make_ticket(queue=teams["a"])

    class Rules:
        @hookimpl
        def permission_check(self, actor: Any, permission: str, obj: Any) -> bool | None:
            if isinstance(obj, Ticket) and obj.id == locked.id and permission == "tickets.edit":
                return False
            return None

        @hookimpl
        def status_transition_issues(self, ticket: Any, old: str, new: str, actor: Any) -> list:
            return ["<b>frozen</b> by policy"] if ticket.id == frozen.id else []

    plugins.register(Rules())
    response = bulk(agent_client, [locked, frozen, fine], action="status", status="solved")
    html = response.get_data(as_text=True)
    assert "1 ticket changed." in html
    assert f"{locked.number}: you may not change it" in html
    assert f"{frozen.number}: the status change was refused: &lt;b&gt;frozen&lt;/b&gt;" in html
    assert fresh(fine).status == "solved"
    assert fresh(locked).status == "new" and fresh(frozen).status == "new"


def test_tickets_changed_meanwhile_are_refused(
    agent_client: Any, teams: dict[str, Any], make_ticket: Any
) -> None:
    stale = make_ticket(queue=teams["a"])
    current = make_ticket(queue=teams["a"])
    seen = {f"v{stale.id}": str(stale.version), f"v{current.id}": str(current.version)}
    change_status(stale, "open", None)  # someone else changes it after the page was shown
    response = bulk(agent_client, [stale, current], action="priority", priority="high", **seen)
    html = response.get_data(as_text=True)
    assert f"{stale.number}: it was changed by someone else meanwhile" in html
    assert fresh(stale).priority == "normal" and fresh(current).priority == "high"


def test_bad_input_re_renders_the_queue(
    agent_client: Any, teams: dict[str, Any], make_ticket: Any
) -> None:
    ticket = make_ticket(queue=teams["a"])
    nothing = post_form(agent_client, "/desk/tickets/bulk", {"action": "priority"})
    assert nothing.status_code == 422
    assert "Select one or more tickets." in nothing.get_data(as_text=True)

    no_action = bulk(agent_client, [ticket], follow=False, action="")
    assert no_action.status_code == 422
    assert "Choose an action." in no_action.get_data(as_text=True)

    bad_tags = bulk(agent_client, [ticket], follow=False, action="add_tags", tags=" , ")
    assert bad_tags.status_code == 422
    assert "Type one or more tags" in bad_tags.get_data(as_text=True)

    bad_status = bulk(agent_client, [ticket], follow=False, action="status", status="nope")
    assert bad_status.status_code == 422
    assert fresh(ticket).status == "new" and fresh(ticket).tag_names == []


def test_hostile_tags_render_as_text(
    agent_client: Any, teams: dict[str, Any], make_ticket: Any
) -> None:
    ticket = make_ticket(queue=teams["a"])
    response = bulk(agent_client, [ticket], action="add_tags", tags="<script>alert(1)</script>")
    html = response.get_data(as_text=True)
    assert fresh(ticket).tag_names == ["<script>alert(1)</script>"]
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_next_url_stays_on_this_site(
    agent_client: Any, teams: dict[str, Any], make_ticket: Any
) -> None:
    ticket = make_ticket(queue=teams["a"])
    response = post_form(
        agent_client,
        "/desk/tickets/bulk",
        {"ticket": [str(ticket.id)], "action": "priority", "priority": "low",
         "next": "https://evil.example/"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/desk/")
