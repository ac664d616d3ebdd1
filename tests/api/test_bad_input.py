"""Bad input gets a problem+json answer naming what is wrong, and the database stays as it was."""

from __future__ import annotations

import json

import pytest

TICKETS = "/api/v1/tickets"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def app_config():
    return {"MAX_JSON_BYTES": 4096, "MAX_ATTACHMENT_BYTES": 64}


@pytest.fixture
def ticket_body(make_queue):
    make_queue(key="support")
    return {
        "subject": "Printer",
        "body_text": "It jams",
        "customer": {"email": "ana@example.test", "name": "Ana"},
        "queue": "support",
    }


@pytest.fixture
def unchanged(snapshot, api_client):
    """Yields once the state is recorded; fails if the test changed the database."""
    api_client.get("/api/v1/me")  # the token's first use is recorded; do it before the snapshot
    before = snapshot()
    yield
    assert snapshot() == before


def test_routing_errors_are_problems(api_client, client, portal_client, problem):
    problem(api_client.get("/api/v1/nothing-here"), 404)
    problem(api_client.get(f"{TICKETS}/FD-999999"), 404)
    wrong_method = api_client.put(TICKETS, json={})
    problem(wrong_method, 405)
    assert "GET" in wrong_method.headers["Allow"]
    problem(client.get(TICKETS), 401)
    problem(portal_client.get("/api/v1/tags"), 403)


def test_a_page_outside_the_api_keeps_its_own_error_format(client):
    response = client.get("/definitely-not-a-page")
    assert response.status_code == 404 and response.mimetype != "application/problem+json"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"colour": "red"}, "colour"),
        ({"customer": {"email": "a@example.test", "phone": "1"}}, "customer.phone"),
        (
            {"attachments": [{"filename": "a", "content_base64": "", "size": 1}]},
            "attachments.0.size",
        ),
        ({"subject": 5}, "subject"),
        ({"subject": None}, "subject"),
        ({"assignee_id": "5"}, "assignee_id"),
        ({"assignee_id": True}, "assignee_id"),
        ({"assignee_id": 1.5}, "assignee_id"),
        ({"tags": "urgent"}, "tags"),
        ({"tags": [1]}, "tags.0"),
        ({"custom_fields": ["a"]}, "custom_fields"),
        ({"priority": "whenever"}, "priority"),
        ({"status": "sleeping"}, "status"),
        ({"queue": "nope"}, "queue"),
        ({"language": "English please"}, "language"),
        ({"subject": "x" * 600}, "subject"),
        ({"customer": {"email": "not-an-address"}}, "customer.email"),
        (
            {"attachments": [{"filename": "a", "content_base64": "%%%"}]},
            "attachments.0.content_base64",
        ),
        (
            {
                "attachments": [
                    {"filename": "a", "media_type": "text/html\nX: 1", "content_base64": ""}
                ]
            },
            "attachments.0.media_type",
        ),
    ],
)
def test_wrong_fields_and_types_are_named(
    api_client, ticket_body, problem, unchanged, change, field
):
    body = problem(api_client.post(TICKETS, json={**ticket_body, **change}), 422, field)
    if field == "colour":
        assert "colour" in body["detail"]


def test_a_body_that_is_not_an_object_is_refused(api_client, problem, unchanged):
    problem(api_client.post(TICKETS, json=["a list"]), 422)


@pytest.mark.parametrize(
    "raw, status, field",
    [
        (b'{"subject": "a", "subject": "b"}', 400, "subject"),
        (b'{"subject": "a", "custom_fields": {"plan": 1, "plan": 2}}', 400, "custom_fields.plan"),
        (b'{"subject": "caf\xe9"}', 400, None),
        (b'{"subject": "a",', 400, None),
        (b'{"subject": NaN}', 400, None),
        (b'{"subject": "a\\u0000b"}', 422, "subject"),
        (b'{"subject": "a", "custom_fields": {"k\\u0000": 1}}', 422, "custom_fields.k\\u0000"),
    ],
)
def test_malformed_json_is_refused(api_client, problem, unchanged, raw, status, field):
    response = api_client.post(TICKETS, data=raw, headers=JSON)
    problem(response, status, *([field] if field else []))


def test_a_nul_in_a_query_argument_is_refused(api_client, problem):
    problem(api_client.get(f"{TICKETS}?q=a%00b"), 422, "q")


@pytest.fixture
def existing_ticket(make_ticket):
    return make_ticket()


def test_a_body_over_the_json_limit_is_refused(
    api_client, ticket_body, existing_ticket, problem, unchanged
):
    big = {**ticket_body, "body_text": "x" * 5000}
    problem(api_client.post(TICKETS, json=big), 413)
    url = f"{TICKETS}/{existing_ticket.number}"
    problem(api_client.patch(url, data=json.dumps({"subject": "y" * 5000}), headers=JSON), 413)


def test_an_attachment_over_its_limit_is_refused(api_client, ticket_body, b64, problem, unchanged):
    body = {
        **ticket_body,
        "attachments": [{"filename": "big.bin", "content_base64": b64(b"x" * 65)}],
    }
    problem(api_client.post(TICKETS, json=body), 413, "attachments.0.content_base64")


def test_attachments_may_exceed_the_json_limit_up_to_their_own(api_client, ticket_body, b64, app):
    app.config["MAX_ATTACHMENT_BYTES"] = 8000
    body = {
        **ticket_body,
        "attachments": [{"filename": "a.bin", "content_base64": b64(b"x" * 6000)}],
    }
    assert api_client.post(TICKETS, json=body).status_code == 201


def test_only_json_is_accepted(api_client, ticket_body, problem, unchanged):
    problem(
        api_client.post(
            TICKETS, data="subject=x", content_type="application/x-www-form-urlencoded"
        ),
        415,
    )
    problem(api_client.post(TICKETS, data=json.dumps(ticket_body), content_type="text/plain"), 415)


def test_an_empty_body_names_the_required_fields(api_client, problem, unchanged):
    problem(api_client.post(TICKETS), 422, "subject")


def test_cookie_writes_need_the_csrf_header(portal_client, csrf, problem, snapshot):
    before = snapshot()
    body = {"subject": "Help", "body_text": "please"}
    problem(portal_client.post(TICKETS, json=body), 403)
    assert snapshot() == before
    assert portal_client.post(TICKETS, json=body, headers=csrf).status_code == 201


def test_an_unexpected_failure_is_a_problem_that_hides_the_details(app, api_client, problem):
    from flask import Blueprint
    from frontdesk.auth import access

    bp = Blueprint("crashy", __name__, url_prefix="/api/v1/crashy")

    @bp.get("/")
    @access("staff")
    def crash():
        raise RuntimeError("secret internals")

    app.register_blueprint(bp)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = api_client.get("/api/v1/crashy/")
    problem(response, 500)
    assert "secret" not in response.get_data(as_text=True)


def test_plugin_routes_under_the_api_get_the_same_csrf_defence(app, portal_client, csrf, problem):
    from flask import Blueprint
    from frontdesk.auth import access

    bp = Blueprint("gadget", __name__, url_prefix="/api/v1/gadget")

    @bp.post("/")
    @access("authenticated")
    def poke():
        return {"poked": True}

    app.register_blueprint(bp)
    problem(portal_client.post("/api/v1/gadget/", json={}), 403)
    assert portal_client.post("/api/v1/gadget/", json={}, headers=csrf).get_json() == {
        "poked": True
    }
