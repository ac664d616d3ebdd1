"""Admin forms: queues and teams, agents, custom fields; errors keep the input; CSRF is required."""

from __future__ import annotations

from typing import Any

import pytest
from frontdesk.models import Queue, User
from frontdesk.testing import login
from frontdesk.testing.helpers import post_form
from frontdesk.testing.plugin import DEFAULT_PASSWORD
from sqlalchemy import select


def queue(db: Any, key: str) -> Queue | None:
    db.expire_all()
    return db.scalar(select(Queue).where(Queue.key == key))


def page(response: Any, status: int = 200) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


# --- Queues and teams ---------------------------------------------------------------------------


def test_an_admin_creates_a_queue_with_its_team(
    admin_client: Any, make_agent: Any, db: Any
) -> None:
    ann, bob = make_agent(name="Ann"), make_agent(name="Bob")

    response = post_form(
        admin_client,
        "/admin/queues/new",
        {"key": "billing", "name": "Billing", "email": "billing@example.test", "members": [ann.id]},
    )

    assert response.status_code == 302 and response.headers["Location"] == "/admin/queues"
    created = queue(db, "billing")
    assert created.name == "Billing" and created.email == "billing@example.test"
    assert [u.id for u in created.members] == [ann.id]
    listing = page(admin_client.get("/admin/queues"))
    assert "Queue Billing created." in listing and "1 member" in listing
    assert bob.name in page(admin_client.get("/admin/queues/billing"))


def test_editing_a_queue_changes_its_team_and_can_deactivate_it(
    admin_client: Any, make_agent: Any, make_queue: Any, db: Any
) -> None:
    ann, bob = make_agent(), make_agent()
    make_queue(key="sales", name="Sales", members=[ann])

    form = page(admin_client.get("/admin/queues/sales"))
    assert f'value="{ann.id}" checked' in form and f'value="{bob.id}" checked' not in form

    response = post_form(
        admin_client, "/admin/queues/sales", {"name": "Sales EU", "members": [bob.id]}
    )

    assert response.status_code == 302
    changed = queue(db, "sales")
    assert changed.name == "Sales EU" and not changed.is_active
    assert [u.id for u in changed.members] == [bob.id]
    assert "Inactive" in page(admin_client.get("/admin/queues"))


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"key": "taken", "name": "Again"}, "key", "This is already in use."),
        ({"key": "Bad Key", "name": "Typed name"}, "key", "Use lower-case letters"),
        ({"key": "fine", "name": ""}, "name", "This field is required."),
        ({"key": "fine", "name": "N", "email": "not-an-address"}, "email", "not a valid email"),
        ({"key": "fine", "name": "N", "routing": "nobody"}, "routing", "Choose one of the listed"),
    ],
)
def test_a_wrong_queue_form_comes_back_with_the_error_and_the_input(
    admin_client: Any, make_queue: Any, db: Any, data: dict[str, str], field: str, message: str
) -> None:
    make_queue(key="taken", name="Taken")

    body = page(post_form(admin_client, "/admin/queues/new", data), 422)

    assert f'id="e-{field}"' in body and message in body
    for value in data.values():
        assert f'value="{value}"' in body or value in ("nobody",)
    assert queue(db, "fine") is None and queue(db, "bad key") is None


def test_forms_without_the_csrf_token_are_refused(admin_client: Any, db: Any) -> None:
    response = admin_client.post("/admin/queues/new", data={"key": "sneaky", "name": "Sneaky"})

    assert response.status_code == 400
    assert queue(db, "sneaky") is None


def test_hostile_names_render_as_text(admin_client: Any, make_agent: Any, make_queue: Any) -> None:
    evil = '<img src=x onerror="alert(1)">'
    agent = make_agent(name=evil)
    make_queue(key="evil", name=evil, members=[agent])

    for url in (
        "/admin/queues",
        "/admin/queues/evil",
        "/admin/agents",
        f"/admin/agents/{agent.id}",
    ):
        body = page(admin_client.get(url))
        assert evil not in body
        assert "&lt;img src=x onerror=" in body


# --- Agents -------------------------------------------------------------------------------------


def test_an_admin_adds_an_agent_who_can_then_sign_in(
    app: Any, admin_client: Any, make_queue: Any, db: Any
) -> None:
    support = make_queue(key="support", name="Support")

    response = post_form(
        admin_client,
        "/admin/agents/new",
        {
            "email": "rosa@example.test",
            "name": "Rosa",
            "role": "agent",
            "language": "it",
            "password": "a long enough password",
            "queues": [support.id],
        },
    )

    assert response.status_code == 302 and response.headers["Location"] == "/admin/agents"
    db.expire_all()
    rosa = db.scalar(select(User).where(User.email == "rosa@example.test"))
    assert (rosa.role, rosa.language, [q.key for q in rosa.queues]) == ("agent", "it", ["support"])
    listing = page(admin_client.get("/admin/agents"))
    assert "Rosa" in listing and "Support" in listing
    signin = post_form(
        app.test_client(),
        "/signin",
        {"email": "rosa@example.test", "password": "a long enough password"},
    )
    assert signin.status_code == 302


def test_an_agent_form_with_a_taken_email_keeps_what_was_typed(
    admin_client: Any, agent: Any, db: Any
) -> None:
    body = page(
        post_form(
            admin_client,
            "/admin/agents/new",
            {"email": agent.email, "name": "Typed Name", "role": "admin", "language": "fa"},
        ),
        422,
    )

    assert "This is already in use." in body
    assert 'value="Typed Name"' in body
    assert '<option value="admin" selected>' in body and '<option value="fa" selected>' in body
    assert db.scalar(select(User).where(User.name == "Typed Name")) is None


def test_an_admin_changes_an_agents_role_and_teams(
    admin_client: Any, agent: Any, make_queue: Any, db: Any
) -> None:
    tier2 = make_queue(key="tier2")

    response = post_form(
        admin_client,
        f"/admin/agents/{agent.id}",
        {"email": agent.email, "name": "Renamed", "role": "admin", "queues": [tier2.id]},
    )

    assert response.status_code == 302
    db.expire_all()
    changed = db.get(User, agent.id)
    assert (changed.name, changed.role, [q.key for q in changed.queues]) == (
        "Renamed",
        "admin",
        ["tier2"],
    )


def test_a_deactivated_agent_can_no_longer_sign_in_or_use_the_desk(
    app: Any, admin_client: Any, agent: Any, db: Any
) -> None:
    agent_session = login(app.test_client(), agent)
    assert agent_session.get("/api/v1/statuses").status_code == 200

    response = post_form(admin_client, f"/admin/agents/{agent.id}/active", {"active": "0"})

    assert response.status_code == 302
    db.expire_all()
    assert db.get(User, agent.id).is_active is False
    assert "Deactivated" in page(admin_client.get("/admin/agents"))
    refused = post_form(
        app.test_client(), "/signin", {"email": agent.email, "password": DEFAULT_PASSWORD}
    )
    assert refused.status_code == 401
    assert agent_session.get("/api/v1/statuses").status_code in (401, 403)

    post_form(admin_client, f"/admin/agents/{agent.id}/active", {"active": "1"})
    db.expire_all()
    assert db.get(User, agent.id).is_active is True


def test_an_admin_cannot_lock_themselves_out(admin_client: Any, admin: Any, db: Any) -> None:
    deactivate = post_form(admin_client, f"/admin/agents/{admin.id}/active", {"active": "0"})
    assert deactivate.status_code == 302
    assert "You cannot deactivate your own account." in page(admin_client.get("/admin/agents"))

    demote = post_form(
        admin_client, f"/admin/agents/{admin.id}", {"email": admin.email, "role": "agent"}
    )
    assert "You cannot take away your own administrator role." in page(demote, 422)
    db.expire_all()
    assert db.get(User, admin.id).is_active and db.get(User, admin.id).role == "admin"


def test_customers_are_not_staff_pages(admin_client: Any, customer: Any) -> None:
    assert admin_client.get(f"/admin/agents/{customer.id}").status_code == 404


# --- Custom fields ------------------------------------------------------------------------------


def test_an_admin_adds_edits_and_removes_a_queue_field(
    admin_client: Any, make_queue: Any, db: Any
) -> None:
    make_queue(key="hardware", name="Hardware")
    url = "/admin/queues/hardware/fields"

    added = post_form(
        admin_client,
        url,
        {
            "key": "model",
            "label": "Model",
            "type": "choice",
            "choices": "X1\nX2\n\nX1",
            "required": "1",
            "public": "1",
        },
    )

    assert added.status_code == 302
    assert queue(db, "hardware").custom_fields == [
        {
            "key": "model",
            "label": "Model",
            "type": "choice",
            "required": True,
            "choices": ["X1", "X2"],
            "public": True,
        }
    ]
    assert "Model" in page(admin_client.get("/admin/fields"))

    edited = post_form(
        admin_client, f"{url}/model", {"label": "Printer model", "type": "text", "choices": "X1"}
    )

    assert edited.status_code == 302
    assert queue(db, "hardware").custom_fields == [
        {
            "key": "model",
            "label": "Printer model",
            "type": "text",
            "required": False,
            "choices": [],
            "public": False,
        }
    ]

    assert post_form(admin_client, f"{url}/model/delete").status_code == 302
    assert queue(db, "hardware").custom_fields == []
    assert "This queue has no custom fields yet." in page(admin_client.get(url))


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"key": "size", "label": "Size", "type": "choice", "choices": ""}, "choices"),
        ({"key": "Size!", "label": "Size", "type": "text"}, "key"),
        ({"key": "size", "label": "Size", "type": "colour"}, "type"),
        ({"key": "serial", "label": "Size", "type": "text"}, "key"),
    ],
)
def test_a_wrong_field_definition_is_refused_keeping_the_input(
    admin_client: Any, make_queue: Any, db: Any, data: dict[str, str], field: str
) -> None:
    before = [{"key": "serial", "label": "Serial", "type": "text"}]
    make_queue(key="hardware", custom_fields=before)

    body = page(post_form(admin_client, "/admin/queues/hardware/fields", data), 422)

    assert f'id="e-{field}"' in body and 'value="Size"' in body
    assert [d["key"] for d in queue(db, "hardware").custom_fields] == ["serial"]


def test_an_unknown_queue_or_field_is_not_found(admin_client: Any, make_queue: Any) -> None:
    make_queue(key="hardware")
    assert admin_client.get("/admin/queues/nope").status_code == 404
    assert admin_client.get("/admin/queues/nope/fields").status_code == 404
    assert admin_client.get("/admin/queues/hardware/fields/nope").status_code == 404
