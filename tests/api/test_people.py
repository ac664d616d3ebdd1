"""Customers, agents, organizations and queues through the API."""

from __future__ import annotations

import pytest
from frontdesk.testing.helpers import login
from frontdesk.testing.plugin import ApiClient


def walk(client, url: str) -> list[dict]:
    items, cursor = [], None
    while True:
        page = client.get(url + (f"&cursor={cursor}" if cursor else "")).get_json()
        items += page["items"]
        if not (cursor := page["next_cursor"]):
            return items


def test_customers_are_created_found_and_changed(api_client, make_organization, problem, snapshot):
    org = make_organization(name="Acme")
    created = api_client.post(
        "/api/v1/customers",
        json={
            "email": "Zoe@Example.test",
            "name": "Zoe",
            "organization_id": org.id,
            "timezone": "Europe/Rome",
            "language": "it",
        },
    )
    assert created.status_code == 201, created.get_json()
    zoe = created.get_json()
    assert zoe["email"] == "Zoe@example.test" and zoe["organization_id"] == org.id
    assert api_client.get(created.headers["Location"]).get_json()["name"] == "Zoe"
    for i in range(3):
        api_client.post("/api/v1/customers", json={"email": f"c{i}@example.test", "name": f"C{i}"})
    assert [c["name"] for c in walk(api_client, "/api/v1/customers?limit=2")] == [
        "Zoe",
        "C0",
        "C1",
        "C2",
    ]
    assert [c["name"] for c in walk(api_client, "/api/v1/customers?q=zoe")] == ["Zoe"]
    changed = api_client.patch(f"/api/v1/customers/{zoe['id']}", json={"vip": True, "name": "Zoë"})
    assert changed.get_json()["vip"] is True and changed.get_json()["name"] == "Zoë"
    before = snapshot()
    problem(api_client.post("/api/v1/customers", json={"email": "zoe@example.test"}), 409, "email")
    problem(
        api_client.patch(f"/api/v1/customers/{zoe['id']}", json={"timezone": "Mars/Base"}),
        422,
        "timezone",
    )
    problem(api_client.patch(f"/api/v1/customers/{zoe['id']}", json={"vip": "yes"}), 422, "vip")
    problem(
        api_client.patch(f"/api/v1/customers/{zoe['id']}", json={"organization_id": 999999}),
        422,
        "organization_id",
    )
    assert snapshot() == before


def test_agents_are_managed_by_admins_only(app, api_client, agent, make_queue, problem, csrf):
    queue = make_queue(key="support")
    created = api_client.post(
        "/api/v1/agents",
        json={
            "email": "new@example.test",
            "name": "New",
            "password": "long enough pass",
            "queues": ["support"],
        },
    )
    assert created.status_code == 201, created.get_json()
    new = created.get_json()
    assert new["role"] == "agent" and [q["key"] for q in new["queues"]] == ["support"]
    agent_client = login(app.test_client(), agent)
    problem(
        agent_client.post("/api/v1/agents", json={"email": "x@example.test"}, headers=csrf), 403
    )
    assert {a["id"] for a in agent_client.get("/api/v1/agents").get_json()["items"]} >= {
        agent.id,
        new["id"],
    }
    changed = api_client.patch(
        f"/api/v1/agents/{new['id']}", json={"role": "admin", "queues": [], "is_active": False}
    )
    assert changed.get_json()["role"] == "admin" and changed.get_json()["queues"] == []
    assert not changed.get_json()["is_active"]
    problem(api_client.get(f"/api/v1/agents/{queue.id + 10_000}"), 404)


def test_a_deactivated_agent_cannot_use_their_token(
    app, api_client, make_agent, make_api_token, problem
):
    agent = make_agent()
    client = ApiClient(app.test_client(), make_api_token(agent))
    assert client.get("/api/v1/me").status_code == 200
    api_client.patch(f"/api/v1/agents/{agent.id}", json={"is_active": False})
    problem(client.get("/api/v1/me"), 401)


def test_organizations(api_client, problem, snapshot):
    created = api_client.post(
        "/api/v1/organizations", json={"name": "Acme", "domains": ["Acme.test"]}
    )
    assert created.status_code == 201
    org = created.get_json()
    assert org["domains"] == ["acme.test"] and org["shared_tickets"] is False
    changed = api_client.patch(
        f"/api/v1/organizations/{org['id']}", json={"shared_tickets": True, "notes": "VIP"}
    )
    assert changed.get_json()["shared_tickets"] is True
    api_client.post("/api/v1/organizations", json={"name": "Other"})
    before = snapshot()
    problem(
        api_client.patch(f"/api/v1/organizations/{org['id']}", json={"name": "Other"}), 409, "name"
    )
    problem(api_client.post("/api/v1/organizations", json={"name": ""}), 422, "name")
    assert snapshot() == before


def test_queues_with_custom_field_definitions(api_client, agent, problem, snapshot):
    created = api_client.post(
        "/api/v1/queues",
        json={
            "key": "billing",
            "name": "Billing",
            "member_ids": [agent.id],
            "routing": "manual",
            "custom_fields": [
                {"key": "plan", "type": "choice", "choices": ["free", "gold"], "required": True}
            ],
        },
    )
    assert created.status_code == 201, created.get_json()
    queue = created.get_json()
    assert queue["member_ids"] == [agent.id] and queue["custom_fields"][0]["required"] is True
    before = snapshot()
    duplicate = [{"key": "a"}, {"key": "a"}]
    problem(
        api_client.patch("/api/v1/queues/billing", json={"custom_fields": duplicate}),
        422,
        "custom_fields.1",
    )
    problem(
        api_client.patch(
            "/api/v1/queues/billing", json={"custom_fields": [{"key": "a", "type": "colour"}]}
        ),
        422,
        "custom_fields.0.type",
    )
    problem(
        api_client.patch(
            "/api/v1/queues/billing", json={"custom_fields": [{"key": "a", "type": "choice"}]}
        ),
        422,
        "custom_fields.0",
    )
    problem(
        api_client.patch("/api/v1/queues/billing", json={"routing": "telepathy"}), 422, "routing"
    )
    problem(
        api_client.patch("/api/v1/queues/billing", json={"member_ids": [999999]}),
        422,
        "member_ids.0",
    )
    problem(api_client.post("/api/v1/queues", json={"key": "billing", "name": "Again"}), 409, "key")
    problem(api_client.post("/api/v1/queues", json={"key": "Bad Key!", "name": "x"}), 422, "key")
    assert snapshot() == before
    renamed = api_client.patch("/api/v1/queues/billing", json={"name": "Money", "member_ids": []})
    assert renamed.get_json()["name"] == "Money" and renamed.get_json()["member_ids"] == []


def test_agents_cannot_manage_queues(agent_client, csrf, problem):
    problem(agent_client.post("/api/v1/queues", json={"key": "x", "name": "X"}, headers=csrf), 403)
    assert agent_client.get("/api/v1/queues").status_code == 200


def test_tags_statuses_and_plugins(api_client, make_ticket):
    make_ticket(tags=["printer", "vip"])
    make_ticket(tags=["printer"])
    assert api_client.get("/api/v1/tags").get_json() == [
        {"name": "printer", "count": 2},
        {"name": "vip", "count": 1},
    ]
    assert api_client.get("/api/v1/tags?q=vi").get_json() == [{"name": "vip", "count": 1}]
    statuses = api_client.get("/api/v1/statuses").get_json()
    assert {
        "key": "pending",
        "label": "Waiting for customer",
        "category": "pending",
        "order": 30,
    } in statuses
    plugins = {p["name"]: p for p in api_client.get("/api/v1/plugins").get_json()}
    assert "register_statuses" in plugins["builtin_statuses"]["hooks"]
    assert plugins["builtin_statuses"]["version"] == "builtin"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/customers",
        "/api/v1/organizations",
        "/api/v1/agents",
        "/api/v1/tags",
        "/api/v1/plugins",
    ],
)
def test_customers_cannot_see_the_directory(portal_client, problem, path):
    problem(portal_client.get(path), 403)
