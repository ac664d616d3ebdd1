"""A signed-in customer's request becomes a ticket at once, with its queue and custom fields."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from frontdesk.models import Ticket
from frontdesk.testing import post_form

BILLING_FIELDS = [
    {"key": "order", "label": "Order number", "type": "number", "required": True},
    {"key": "plan", "label": "Plan", "type": "choice", "choices": ["basic", "pro"]},
    {"key": "renewal", "label": "Renewal", "type": "date"},
    {"key": "urgent", "label": "Urgent", "type": "boolean"},
    {"key": "risk", "label": "Risk score", "type": "text", "public": False},
]


def ticket_count(db) -> int:
    return db.scalar(select(func.count()).select_from(Ticket))


def test_the_request_opens_a_ticket_and_the_customer_lands_on_it(
    portal_client, customer, make_queue, submit, db
):
    billing = make_queue(key="billing", name="Billing", custom_fields=BILLING_FIELDS)
    make_queue(key="hardware", name="Hardware")
    page = portal_client.get("/en/portal/webform/new").get_data(as_text=True)
    assert customer.email in page
    assert 'name="email"' not in page, "a signed-in customer is not asked for an address"
    assert "Order number" in page and "Risk score" not in page, "agent-only fields are not asked"

    response = submit(
        portal_client,
        {
            "queue": "billing",
            "subject": "Invoice is wrong",
            "message": "I was charged twice.",
            "cf.billing.order": "1042",
            "cf.billing.plan": "pro",
            "cf.billing.renewal": "2027-01-31",
            "cf.billing.urgent": "1",
            "attachments": [(io.BytesIO(b"%PDF-1.4 invoice"), "invoice.pdf", "application/pdf")],
        },
    )

    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    ticket = db.scalars(select(Ticket)).one()
    assert response.headers["Location"] == f"/en/portal/requests/{ticket.number}"
    assert ticket.channel == "webform"
    assert ticket.customer_id == customer.id
    assert ticket.queue_id == billing.id
    assert ticket.language == "en"
    assert ticket.custom_fields == {
        "order": 1042,
        "plan": "pro",
        "renewal": "2027-01-31",
        "urgent": True,
    }
    first = ticket.messages[0]
    assert first.kind == "customer" and first.body_text == "I was charged twice."
    assert [(a.filename, a.size) for a in first.attachments] == [("invoice.pdf", 16)]
    shown = portal_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Invoice is wrong" in shown


def test_sending_the_same_form_twice_opens_one_ticket(portal_client, submit, form_token, db):
    url = "/en/portal/webform/new"
    data = {
        "form_token": form_token(portal_client, url),
        "subject": "Once",
        "message": "Only once.",
    }
    first = post_form(portal_client, url, data)
    again = post_form(portal_client, url, data)
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert ticket_count(db) == 1


def test_a_missing_required_field_comes_back_with_what_was_typed(
    portal_client, make_queue, submit, db
):
    make_queue(key="billing", name="Billing", custom_fields=BILLING_FIELDS)
    response = submit(
        portal_client,
        {
            "queue": "billing",
            "subject": "Refund",
            "message": "Please refund me.",
            "cf.billing.plan": "pro",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This field is required." in page
    assert 'value="Refund"' in page and "Please refund me." in page
    assert '<option value="pro" selected>' in page
    assert ticket_count(db) == 0


def test_wrongly_typed_custom_fields_are_named(portal_client, make_queue, submit, db):
    make_queue(key="billing", name="Billing", custom_fields=BILLING_FIELDS)
    response = submit(
        portal_client,
        {
            "queue": "billing",
            "subject": "Refund",
            "message": "Please.",
            "cf.billing.order": "forty-two",
            "cf.billing.renewal": "31/01/2027",
            "cf.billing.plan": "platinum",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter a number." in page
    assert "Enter a date as YYYY-MM-DD." in page
    assert "Choose one of the offered values." in page
    assert 'value="forty-two"' in page
    assert ticket_count(db) == 0


@pytest.mark.parametrize(
    "app_config", [{"PLUGINS_CONFIG": {"webform": {"queues": ["billing", "support"]}}}]
)
def test_only_the_configured_queues_are_offered(portal_client, make_queue, submit, db):
    make_queue(key="sales", name="Sales")
    make_queue(key="billing", name="Billing")
    make_queue(key="support", name="Support")
    page = portal_client.get("/en/portal/webform/new").get_data(as_text=True)
    assert 'value="billing"' in page and 'value="support"' in page
    assert 'value="sales"' not in page

    refused = submit(portal_client, {"queue": "sales", "subject": "Hi", "message": "Buy."})
    assert refused.status_code == 422
    assert "Please choose what your request is about." in refused.get_data(as_text=True)
    assert ticket_count(db) == 0


def test_a_single_queue_needs_no_choice(portal_client, make_queue, submit, db):
    only = make_queue(key="helpdesk", name="Helpdesk")
    page = portal_client.get("/en/portal/webform/new").get_data(as_text=True)
    assert 'name="queue"' not in page
    response = submit(portal_client, {"subject": "Hello", "message": "A question."})
    assert response.status_code == 302
    assert db.scalars(select(Ticket)).one().queue_id == only.id


@pytest.mark.parametrize("locale", ["it", "fa"])
def test_the_form_works_in_every_portal_language(portal_client, submit, db, locale):
    response = submit(portal_client, {"subject": "Ciao", "message": "Una domanda."}, locale=locale)
    assert response.status_code == 302
    ticket = db.scalars(select(Ticket)).one()
    assert response.headers["Location"] == f"/{locale}/portal/requests/{ticket.number}"
    assert ticket.language == locale


def test_an_unknown_language_is_no_page(client):
    assert client.get("/xx/portal/webform/new").status_code == 404


def test_the_session_csrf_token_is_still_required(portal_client, form_token, db):
    url = "/en/portal/webform/new"
    data = {"form_token": form_token(portal_client, url), "subject": "Hi", "message": "There."}
    assert portal_client.post(url, data=data).status_code == 400
    assert ticket_count(db) == 0


@pytest.mark.parametrize("locale", ["it", "fa"])
def test_the_page_speaks_the_portal_s_language(client, locale):
    def brand(path: str) -> str:
        page = client.get(path).get_data(as_text=True)
        return page.split('class="brand"', 1)[1].split("</a>", 1)[0]

    assert brand(f"/{locale}/portal/webform/new") == brand(f"/{locale}/portal/")
    assert brand(f"/{locale}/portal/webform/new") != brand("/en/portal/webform/new")
