"""Customer and organization pages, and finding customers."""

from __future__ import annotations

import re
from typing import Any

import pytest

NUMBER = re.compile(r'class="ticket-link">([^<]+)</a>')


def numbers(response: Any) -> list[str]:
    return NUMBER.findall(response.get_data(as_text=True))


@pytest.fixture
def acme(make_organization: Any, make_customer: Any) -> dict[str, Any]:
    org = make_organization(
        name="Acme <Corp>", domains=["acme.example"], notes="Pays late.\nCall first."
    )
    return {
        "org": org,
        "ann": make_customer(email="ann@acme.example", name="Ann <i>Admin</i>"),
        "ben": make_customer(email="ben@acme.example", name="Ben Builder"),
    }


@pytest.fixture
def teams(agent: Any, make_agent: Any, make_queue: Any) -> dict[str, Any]:
    return {
        "a": make_queue(key="people-a", members=[agent]),
        "b": make_queue(key="people-b", members=[make_agent()]),
    }


def test_customer_page_lists_the_tickets_the_agent_may_see(
    agent_client: Any, admin_client: Any, acme: dict[str, Any], teams: Any, make_ticket: Any
) -> None:
    ann = acme["ann"]
    seen = make_ticket(customer=ann, queue=teams["a"], subject="Seen by agent")
    hidden = make_ticket(customer=ann, queue=teams["b"], subject="Only for team B")
    make_ticket(customer=acme["ben"], queue=teams["a"])

    response = agent_client.get(f"/desk/customers/{ann.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "ann@acme.example" in html and "Ann &lt;i&gt;Admin&lt;/i&gt;" in html
    assert f'href="/desk/organizations/{acme["org"].id}"' in html
    assert numbers(response) == [seen.number]
    assert "Only for team B" not in html
    assert set(numbers(admin_client.get(f"/desk/customers/{ann.id}"))) == {
        seen.number,
        hidden.number,
    }


def test_organization_page_shows_facts_people_and_visible_tickets(
    agent_client: Any, acme: dict[str, Any], teams: Any, make_ticket: Any, make_customer: Any
) -> None:
    org = acme["org"]
    ann_ticket = make_ticket(customer=acme["ann"], queue=teams["a"])
    ben_ticket = make_ticket(customer=acme["ben"], queue=teams["a"])
    make_ticket(customer=acme["ben"], queue=teams["b"], subject="Team B only")
    make_ticket(customer=make_customer(email="zed@elsewhere.example"), queue=teams["a"])

    response = agent_client.get(f"/desk/organizations/{org.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Acme &lt;Corp&gt;" in html and "acme.example" in html and "Pays late." in html
    assert "Ben Builder" in html and "Ann &lt;i&gt;Admin&lt;/i&gt;" in html
    assert sorted(numbers(response)) == sorted([ann_ticket.number, ben_ticket.number])
    assert "Team B only" not in html


def test_missing_people_are_not_found(agent_client: Any) -> None:
    assert agent_client.get("/desk/customers/999999").status_code == 404
    assert agent_client.get("/desk/organizations/999999").status_code == 404


def test_search_finds_customers_and_organizations(
    agent_client: Any, acme: dict[str, Any], make_customer: Any, agent: Any
) -> None:
    make_customer(email="other@example.test", name="Someone Else")
    response = agent_client.get("/desk/customers?q=ACME")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'href="/desk/customers/{acme["ann"].id}"' in html
    assert f'href="/desk/customers/{acme["ben"].id}"' in html
    assert f'href="/desk/organizations/{acme["org"].id}"' in html
    assert "Someone Else" not in html
    by_name = agent_client.get("/desk/customers?q=builder").get_data(as_text=True)
    assert "Ben Builder" in by_name and "ann@acme.example" not in by_name
    # Agents are not customers.
    assert "Nobody matches." in agent_client.get(f"/desk/customers?q={agent.email}").get_data(
        as_text=True
    )
    # Wildcards are plain characters.
    assert "Ben Builder" not in agent_client.get("/desk/customers?q=%25").get_data(as_text=True)


def test_search_with_bad_input_keeps_it(agent_client: Any) -> None:
    response = agent_client.get("/desk/customers", query_string={"q": "<x>" * 100})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "At most 200 characters." in html
    assert 'value="' + "&lt;x&gt;" * 100 + '"' in html


def test_people_pages_are_for_staff(portal_client: Any, customer: Any) -> None:
    assert portal_client.get("/desk/customers?q=a").status_code == 403
    assert portal_client.get(f"/desk/customers/{customer.id}").status_code == 403
