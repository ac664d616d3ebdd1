"""Customers in Persian and Italian: sign in, send a request, read the answer, never the note."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from frontdesk.db import session
from frontdesk.models import Ticket
from frontdesk.services import add_note, reply

CASES = [
    # locale, customer's name, subject, message (the customer writes in their language)
    ("fa", "مریم حسینی", "چاپگر روشن نمی‌شود", "از دیروز چاپگر دفتر روشن نمی‌شود."),
    ("it", "Giulia Rossi", "La stampante non si accende", "Da ieri la stampante non si accende."),
]


@pytest.mark.parametrize(("locale", "name", "subject", "message"), CASES, ids=["fa", "it"])
def test_customer_sends_a_request_and_reads_the_answer_but_never_the_note(
    new_page, portal_sign_in, make_customer, make_agent, make_queue, locale, name, subject, message
):
    agent = make_agent(name="Alice Morgan")
    make_queue(key="general", name="General", members=[agent])
    customer = make_customer(name=name, language=locale)
    page = portal_sign_in(new_page(locale=locale), customer, locale)
    html = page.locator("html")
    expect(html).to_have_attribute("lang", locale)
    expect(html).to_have_attribute("dir", "rtl" if locale == "fa" else "ltr")

    # The request list leads to the web form's "new request" page, in the same language.
    page.locator(".page-actions a.button.primary").click()
    expect(page).to_have_url(re.compile(rf"/{locale}/portal/webform/new$"))
    expect(html).to_have_attribute("lang", locale)
    page.fill("#f-subject", subject)
    page.fill("#f-message", message)
    page.locator("form[data-webform] button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/{locale}/portal/requests/[^/?#]+"))
    expect(page.locator("h1")).to_have_text(subject)

    ticket = session.scalar(select(Ticket).where(Ticket.customer_id == customer.id))
    assert ticket is not None and ticket.subject == subject
    assert page.url.endswith(f"/{locale}/portal/requests/{ticket.number}")
    expect(page.locator(".portal-thread .message.kind-customer")).to_contain_text(message)

    # The agent answers and leaves a note for colleagues (through the services, as the desk does).
    answer = f"Reply for {locale}: the technician comes tomorrow at 10."
    secret = f"INTERNAL {locale}: customer owes us two invoices, do not tell them yet."
    reply(ticket, answer, agent)
    add_note(ticket, secret, agent)

    page.reload()
    thread = page.locator(".portal-thread")
    expect(thread.locator(".message.kind-agent")).to_contain_text(answer)
    expect(thread.locator(".message.kind-agent .author")).to_contain_text("Alice Morgan")
    expect(thread.locator(".message")).to_have_count(2)
    assert secret not in page.content()
    assert "INTERNAL" not in page.locator("body").inner_text()

    # The request list shows it too; the note is nowhere there either.
    page.goto(f"/{locale}/portal/requests")
    expect(page.locator("table.portal-requests tbody tr")).to_have_count(1)
    expect(page.locator("table.portal-requests .subject")).to_have_text(subject)
    assert secret not in page.content()


def test_persian_portal_reads_right_to_left(new_page, portal_sign_in, make_customer, make_ticket):
    customer = make_customer(name="علی رضایی", language="fa")
    ticket = make_ticket(subject="درخواست بازپرداخت", customer=customer)
    page = portal_sign_in(new_page(locale="fa", timezone="Asia/Tehran"), customer, "fa")
    page.goto(f"/fa/portal/requests/{ticket.number}")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    width = page.viewport_size["width"]

    # The layout mirrors: the brand starts on the right, the text of the thread runs from it.
    brand = page.locator(".portal-bar .brand").bounding_box()
    assert brand is not None and brand["x"] + brand["width"] / 2 > width / 2, brand
    direction = page.locator(".portal-page").evaluate("el => getComputedStyle(el).direction")
    assert direction == "rtl"

    # The same page in Italian reads left to right, brand on the left.
    page.goto(f"/it/portal/requests/{ticket.number}")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    brand = page.locator(".portal-bar .brand").bounding_box()
    assert brand is not None and brand["x"] + brand["width"] / 2 < width / 2, brand
