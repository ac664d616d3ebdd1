"""The queue view: built-in views, filters, sorting, paging, saved views and what agents see."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from frontdesk.db import session
from frontdesk.models import SavedView
from frontdesk.plugins import hookimpl
from frontdesk.sla.base import SLAPolicy, SLATarget
from frontdesk.services import change_status
from frontdesk.testing.helpers import login, post_form

NUMBER = re.compile(r'class="ticket-link">([^<]+)</a>')


def numbers(response: Any) -> list[str]:
    """Ticket numbers listed on a page, in order."""
    return NUMBER.findall(response.get_data(as_text=True))


@pytest.fixture
def teams(agent: Any, make_agent: Any, make_queue: Any) -> dict[str, Any]:
    """Queue A worked by ``agent``, queue B by another agent."""
    other = make_agent()
    return {
        "a": make_queue(key="team-a", name="Team A", members=[agent]),
        "b": make_queue(key="team-b", name="Team B", members=[other]),
        "other": other,
    }


def test_agents_see_only_their_teams_tickets_in_every_view(
    agent_client: Any, teams: dict[str, Any], make_ticket: Any, agent: Any
) -> None:
    mine = make_ticket(queue=teams["a"], subject="Printer on fire", assignee=agent)
    ours = make_ticket(queue=teams["a"], subject="Toner low")
    theirs = make_ticket(queue=teams["b"], subject="Secret of team B")
    pending = make_ticket(queue=teams["b"], subject="Pending in B")
    change_status(pending, "pending", None)
    waiting = make_ticket(queue=teams["a"], subject="Waiting for reply")
    change_status(waiting, "on_hold", None)

    for view in ("mine", "unassigned", "pending", "all"):
        response = agent_client.get(f"/desk/?view={view}")
        assert response.status_code == 200
        listed = numbers(response)
        assert theirs.number not in listed and pending.number not in listed, view
    everything = [waiting.number, ours.number, mine.number]
    assert numbers(agent_client.get("/desk/?view=all")) == everything
    assert numbers(agent_client.get("/desk/?view=pending")) == [waiting.number]
    assert numbers(agent_client.get("/desk/?view=mine")) == [mine.number]
    assert numbers(agent_client.get("/desk/?view=unassigned")) == [ours.number]
    # Searching for the other team's ticket by number or subject finds nothing.
    for q in (theirs.number, "Secret"):
        assert numbers(agent_client.get("/desk/", query_string={"filter": "1", "q": q})) == []


def test_admins_see_every_queue(admin_client: Any, teams: dict[str, Any], make_ticket: Any) -> None:
    a = make_ticket(queue=teams["a"])
    b = make_ticket(queue=teams["b"])
    assert set(numbers(admin_client.get("/desk/tickets?view=all"))) == {a.number, b.number}


def test_customers_and_visitors_cannot_open_the_desk(portal_client: Any, client: Any) -> None:
    assert portal_client.get("/desk/").status_code == 403
    assert client.get("/desk/").status_code == 302  # to the sign-in page


def test_rows_show_the_ticket_facts(
    agent_client: Any, teams: dict[str, Any], make_ticket: Any, agent: Any
) -> None:
    ticket = make_ticket(
        queue=teams["a"],
        subject="Invoice missing",
        priority="urgent",
        assignee=agent,
        customer__name="Ada Lovelace",
    )
    html = agent_client.get("/desk/?view=all").get_data(as_text=True)
    row = html[html.index(f'data-ticket-id="{ticket.id}"') :]
    row = row[: row.index("</tr>")]
    assert f'href="/desk/tickets/{ticket.number}"' in row
    assert "Invoice missing" in row and "Ada Lovelace" in row
    assert 'class="badge cat-new"' in row and "New" in row
    assert "Urgent" in row and "Team A" in row and agent.name in row
    assert "<time datetime=" in row


def test_hostile_values_render_as_text(
    agent_client: Any, teams: dict[str, Any], make_ticket: Any
) -> None:
    make_ticket(
        queue=teams["a"],
        subject="<script>alert(1)</script>",
        tags=["<img src=x onerror=alert(2)>"],
        customer__name="<b onmouseover=alert(3)>Eve</b>",
    )
    response = agent_client.get("/desk/?view=all")
    html = response.get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "<b onmouseover" not in html and "&lt;b onmouseover=alert(3)&gt;Eve" in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_filters_narrow_the_list(
    agent_client: Any, teams: dict[str, Any], make_ticket: Any, make_customer: Any, agent: Any
) -> None:
    carol = make_customer(email="carol@acme.example")
    low = make_ticket(queue=teams["a"], priority="low", tags=["billing"], customer=carol)
    high = make_ticket(queue=teams["a"], priority="high", subject="Login broken", assignee=agent)
    solved = make_ticket(queue=teams["a"], subject="Done already")
    change_status(solved, "solved", None)

    def listed(**args: Any) -> list[str]:
        return sorted(numbers(agent_client.get("/desk/", query_string={"filter": "1", **args})))

    assert listed(status_category=["new"]) == sorted([low.number, high.number])
    assert listed(status_category=["solved", "closed"]) == [solved.number]
    assert listed(priority=["high", "urgent"]) == [high.number]
    assert listed(tag="Billing") == [low.number]
    assert listed(customer="CAROL@acme.example") == [low.number]
    assert listed(assignee="me") == [high.number]
    assert listed(assignee="none") == sorted([low.number, solved.number])
    assert listed(queue="team-a") == sorted([low.number, high.number, solved.number])
    assert listed(q="login") == [high.number]
    assert listed(q=high.number.lower()) == [high.number]
    assert listed(q="acme.example") == [low.number]


def test_sorting_by_priority_and_update_time(
    agent_client: Any, teams: dict[str, Any], make_ticket: Any
) -> None:
    start = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    urgent = make_ticket(queue=teams["a"], priority="urgent", created_at=start)
    low = make_ticket(queue=teams["a"], priority="low", created_at=start + timedelta(hours=1))
    normal = make_ticket(queue=teams["a"], created_at=start + timedelta(hours=2))

    def order(sort: str) -> list[str]:
        return numbers(agent_client.get("/desk/", query_string={"filter": "1", "sort": sort}))

    assert order("-priority") == [urgent.number, normal.number, low.number]
    assert order("priority") == [low.number, normal.number, urgent.number]
    assert order("-updated_at") == [normal.number, low.number, urgent.number]
    assert order("updated_at") == [urgent.number, low.number, normal.number]


def test_pages_of_25(agent_client: Any, teams: dict[str, Any], make_ticket: Any) -> None:
    start = datetime(2024, 5, 1, tzinfo=UTC)
    made = [
        make_ticket(queue=teams["a"], created_at=start + timedelta(minutes=i)).number
        for i in range(27)
    ]
    first = agent_client.get("/desk/?view=all")
    assert numbers(first) == list(reversed(made))[:25]
    next_url = re.search(r'href="([^"]+)" rel="next"', first.get_data(as_text=True)).group(1)
    second = agent_client.get(next_url.replace("&amp;", "&"))
    assert numbers(second) == list(reversed(made))[25:]
    assert 'rel="next"' not in second.get_data(as_text=True)
    assert 'rel="first"' in second.get_data(as_text=True)
    # A mangled cursor starts over instead of failing.
    assert numbers(agent_client.get("/desk/?view=all&cursor=garbage")) == numbers(first)


def test_bad_filters_are_shown_with_what_was_typed(
    agent_client: Any, teams: dict[str, Any]
) -> None:
    response = agent_client.get(
        "/desk/",
        query_string={
            "filter": "1",
            "priority": "extreme",
            "queue": "nope",
            "customer": "not an address",
            "q": "kept text",
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Unknown priority: extreme" in html and "Unknown queue: nope" in html
    assert "Enter the customer&#39;s email address." in html
    assert 'value="not an address"' in html and 'value="kept text"' in html


def test_unknown_view_is_not_found(agent_client: Any) -> None:
    assert agent_client.get("/desk/?view=nonsense").status_code == 404


# --- saved views ---------------------------------------------------------------------------


def test_personal_saved_view_is_only_its_owners(
    app: Any, agent_client: Any, teams: dict[str, Any], make_ticket: Any
) -> None:
    billing = make_ticket(queue=teams["a"], tags=["billing"], priority="high")
    make_ticket(queue=teams["a"], tags=["other"])
    response = post_form(
        agent_client,
        "/desk/views",
        {"name": "Billing <fires>", "tag": "billing", "priority": ["high"], "sort": "-priority"},
    )
    assert response.status_code == 303
    view = session.query(SavedView).one()
    assert view.owner_id is not None
    assert view.filters == {"tag": ["billing"], "priority": ["high"]}
    page = agent_client.get(response.headers["Location"])
    assert numbers(page) == [billing.number]
    assert "Billing &lt;fires&gt;" in page.get_data(as_text=True)

    colleague = login(app.test_client(), teams["other"])
    assert "Billing &lt;fires&gt;" not in colleague.get("/desk/").get_data(as_text=True)
    assert colleague.get(f"/desk/?view={view.id}").status_code == 404
    assert colleague.get(f"/desk/views/{view.id}/edit").status_code == 404
    assert post_form(colleague, f"/desk/views/{view.id}/delete").status_code == 404
    assert session.get(SavedView, view.id) is not None


def test_owner_edits_and_deletes_a_view(
    agent_client: Any, agent: Any, teams: dict[str, Any]
) -> None:
    post_form(agent_client, "/desk/views", {"name": "Mine", "status_category": ["open"]})
    view = session.query(SavedView).one()
    form = agent_client.get(f"/desk/views/{view.id}/edit")
    assert form.status_code == 200 and 'value="Mine"' in form.get_data(as_text=True)
    response = post_form(
        agent_client,
        f"/desk/views/{view.id}/edit",
        {"name": "Renamed", "status_category": ["pending"], "sort": "updated_at"},
    )
    assert response.status_code == 303
    session.expire_all()
    assert (view.name, view.filters, view.sort) == (
        "Renamed",
        {"status_category": ["pending"]},
        "updated_at",
    )
    assert post_form(agent_client, f"/desk/views/{view.id}/delete").status_code == 303
    session.expire_all()
    assert session.query(SavedView).count() == 0


def test_saving_a_view_with_bad_input_keeps_what_was_typed(
    agent_client: Any, teams: dict[str, Any]
) -> None:
    response = post_form(
        agent_client,
        "/desk/views",
        {"name": "  ", "queue": ["team-a"], "tag": "vip, <x>", "q": "refund", "sort": "sideways"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Give the view a name." in html
    assert "Choose one of the listed sort orders." in html
    assert 'value="vip, &lt;x&gt;"' in html and 'value="refund"' in html
    assert '<option value="team-a" selected>' in html
    assert session.query(SavedView).count() == 0


def test_only_admins_share_views(
    app: Any, agent_client: Any, admin_client: Any, teams: dict[str, Any], make_ticket: Any
) -> None:
    refused = post_form(agent_client, "/desk/views", {"name": "For all", "shared": "1"})
    assert refused.status_code == 403
    assert "You may not share views." in refused.get_data(as_text=True)
    assert session.query(SavedView).count() == 0

    ticket = make_ticket(queue=teams["a"], priority="urgent")
    make_ticket(queue=teams["b"], priority="urgent")
    shared = post_form(
        admin_client, "/desk/views", {"name": "Urgent", "priority": ["urgent"], "shared": "1"}
    )
    assert shared.status_code == 303
    view = session.query(SavedView).one()
    assert view.owner_id is None
    page = agent_client.get("/desk/")
    assert "Shared views" in page.get_data(as_text=True)
    # The shared view still shows each agent only the tickets they may see.
    assert numbers(agent_client.get(f"/desk/?view={view.id}")) == [ticket.number]
    # Agents use it but do not change it.
    assert agent_client.get(f"/desk/views/{view.id}/edit").status_code == 403
    assert post_form(agent_client, f"/desk/views/{view.id}/delete").status_code == 403


def test_a_plugin_can_grant_sharing(agent_client: Any, plugins: Any) -> None:
    class ShareGrant:
        @hookimpl
        def permission_check(self, actor: Any, permission: str, obj: Any) -> bool | None:
            return True if permission == "views.share" else None

    plugins.register(ShareGrant())
    response = post_form(agent_client, "/desk/views", {"name": "Team", "shared": "1"})
    assert response.status_code == 303
    assert session.query(SavedView).one().owner_id is None


# --- due times -----------------------------------------------------------------------------


class DueInHours(SLAPolicy):
    key = "due_test"
    label = "Due test"

    def targets(self, ticket: Any, calendar: Any) -> list[SLATarget]:
        hours = {"urgent": 1, "high": 3, "normal": 48}.get(ticket.priority)
        if hours is None:
            return []
        now = datetime.now(UTC)
        return [
            SLATarget("resolution", now + timedelta(hours=hours * 2)),
            SLATarget("first_response", now + timedelta(hours=hours)),
        ]


def test_breaching_soon_needs_due_times(
    agent_client: Any, teams: dict[str, Any], make_ticket: Any, plugins: Any
) -> None:
    make_ticket(queue=teams["a"])
    page = agent_client.get("/desk/").get_data(as_text=True)
    assert "Breaching soon" not in page and "Due soonest" not in page
    assert agent_client.get("/desk/?view=breaching").status_code == 404

    class Sla:
        @hookimpl
        def sla_policy_for(self, ticket: Any) -> SLAPolicy:
            return DueInHours({})

    plugins.register(Sla())
    high = make_ticket(queue=teams["a"], priority="high")
    urgent = make_ticket(queue=teams["a"], priority="urgent")
    later = make_ticket(queue=teams["a"], priority="normal")  # due in two days
    none = make_ticket(queue=teams["a"], priority="low")  # no due time
    response = agent_client.get("/desk/?view=breaching")
    assert response.status_code == 200
    assert numbers(response) == [urgent.number, high.number]
    by_due = agent_client.get("/desk/", query_string={"filter": "1", "sort": "due_at"})
    assert numbers(by_due)[:3] == [urgent.number, high.number, later.number]
    assert none.number in numbers(by_due)[3:]

    # Tickets keep their due times when the SLA plugin goes: the view stays while they exist.
    plugins.unregister_all()
    page = agent_client.get("/desk/").get_data(as_text=True)
    assert "Breaching soon" in page and "Due soonest" in page
    assert numbers(agent_client.get("/desk/?view=breaching")) == [urgent.number, high.number]
