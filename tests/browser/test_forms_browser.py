"""Forms in a real browser: bad input comes back marked and kept; big files are stopped early.

A missing or wrong field re-renders the form with the field's error and everything typed; a file
over the size limit is reported before anything is sent (by the page's script, and by the server
when scripts are off), and the text stays in the editor.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from frontdesk.testing.live import PageGuard

LIMIT = 2048  # bytes per attachment in these tests: a "large" file stays small
TOO_BIG = {"name": "scan.pdf", "mimeType": "application/pdf", "buffer": b"%" * (LIMIT + 1)}
SMALL = {"name": "note.txt", "mimeType": "text/plain", "buffer": b"fine"}


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"MAX_ATTACHMENT_BYTES": LIMIT}


def posts_of(page: Any) -> list[str]:
    """The URLs ``page`` POSTs to from now on."""
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if request.method == "POST" else 0)
    return sent


def click_and_settle(page: Any, selector: str) -> None:
    """Click, then give a submission the browser would start a moment to show up."""
    page.locator(selector).click()
    page.wait_for_timeout(500)


def test_new_request_without_subject_comes_back_with_the_message_kept(
    new_page, portal_sign_in, make_customer, make_queue
):
    make_queue(key="general", name="General")
    customer = make_customer(language="it")
    page = portal_sign_in(new_page(locale="it"), customer, "it")
    page.goto("/it/portal/webform/new")
    message = "La fattura di marzo è arrivata due volte.\nPotete controllare?"
    page.fill("#f-message", message)
    page.locator("form[data-webform] button[type=submit]").click()

    expect(page.locator("#e-subject")).to_be_visible()
    expect(page.locator("#f-subject")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-message")).to_have_value(message)
    expect(page.locator("#f-message")).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("html")).to_have_attribute("lang", "it")

    # Completed, it goes through and lands on the new request.
    page.fill("#f-subject", "Fattura doppia")
    page.locator("form[data-webform] button[type=submit]").click()
    expect(page.locator(".portal-thread .message.kind-customer")).to_contain_text("Potete")


def test_anonymous_request_with_a_wrong_email_keeps_everything_typed(new_page, make_queue):
    make_queue(key="general", name="General")
    page = new_page(locale="fa")
    page.goto("/fa/portal/webform/new")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.fill("#f-name", "رضا کریمی")
    page.fill("#f-email", "not-an-address")
    page.fill("#f-subject", "سؤال درباره صورتحساب")
    page.fill("#f-message", "صورتحساب ماه گذشته دو بار آمده است.")
    page.locator("form[data-webform] button[type=submit]").click()

    expect(page.locator("#e-email")).to_be_visible()
    expect(page.locator("#f-email")).to_have_value("not-an-address")
    expect(page.locator("#f-name")).to_have_value("رضا کریمی")
    expect(page.locator("#f-subject")).to_have_value("سؤال درباره صورتحساب")
    expect(page.locator("#f-message")).to_have_value("صورتحساب ماه گذشته دو بار آمده است.")
    expect(page.locator("html")).to_have_attribute("lang", "fa")


def test_portal_reply_with_an_oversized_file_is_stopped_and_keeps_the_text(
    new_page, portal_sign_in, make_customer, make_ticket
):
    customer = make_customer(language="it")
    ticket = make_ticket(subject="Scansione", customer=customer)
    page = portal_sign_in(new_page(locale="it"), customer, "it")
    url = f"/it/portal/requests/{ticket.number}"
    page.goto(url)
    thread = page.locator(".portal-thread .message")
    expect(thread).to_have_count(1)

    # Empty: the server asks for a message.
    page.locator("#reply button[type=submit]").click()
    expect(page.locator("#e-body")).to_be_visible()
    expect(page.locator("#f-body")).to_have_attribute("aria-invalid", "true")

    # Too large: said at once, nothing sent, the text stays.
    page.fill("#f-body", "Ecco la scansione del documento.")
    page.set_input_files("#f-attachments", TOO_BIG)
    problem = page.locator("#reply [data-upload-error]")
    expect(problem).to_be_visible()
    expect(problem).not_to_be_empty()
    expect(page.locator("#f-attachments")).to_have_attribute("aria-invalid", "true")
    sent = posts_of(page)
    click_and_settle(page, "#reply button[type=submit]")
    assert sent == [], "the form was sent with a file over the limit"
    expect(problem).to_be_visible()
    expect(page.locator("#f-body")).to_have_value("Ecco la scansione del documento.")
    expect(thread).to_have_count(1)

    # A smaller file instead: sent with the kept text.
    page.set_input_files("#f-attachments", SMALL)
    expect(problem).to_be_hidden()
    page.locator("#reply button[type=submit]").click()
    expect(thread).to_have_count(2)
    expect(thread.last).to_contain_text("Ecco la scansione del documento.")
    expect(thread.last.locator(".attachments a")).to_have_text("note.txt")


def test_desk_reply_with_an_oversized_file_is_stopped_and_keeps_the_text(
    new_page, desk_sign_in, make_agent, make_queue, make_ticket
):
    agent = make_agent()
    ticket = make_ticket(subject="Scan", queue=make_queue(members=[agent]))
    page = desk_sign_in(new_page(), agent)
    page.goto(f"/desk/tickets/{ticket.number}")
    thread = page.locator("#thread article.message")
    expect(thread).to_have_count(1)

    # Empty: refused by the server with a message at the editor.
    page.locator("#reply-form button[type=submit]").click()
    expect(page.locator("#reply-error")).to_be_visible()
    expect(page.locator("#reply-body")).to_have_attribute("aria-invalid", "true")

    page.fill("#reply-body", "Here is the scan you asked for.")
    page.set_input_files("#reply-files", TOO_BIG)
    problem = page.locator("#reply-attach-list li.error")
    expect(problem).to_contain_text("scan.pdf")
    expect(page.locator("#reply-attach-list li.too-large")).to_have_count(1)
    sent = posts_of(page)
    click_and_settle(page, "#reply-form button[type=submit]")
    assert sent == [], "the reply was sent with a file over the limit"
    expect(page.locator("#reply-body")).to_have_value("Here is the scan you asked for.")
    expect(thread).to_have_count(1)

    # Removing the file from the list clears the problem; the reply then goes out.
    page.locator("#reply-attach-list li.too-large button.remove").click()
    expect(problem).to_have_count(0)
    page.locator("#reply-form button[type=submit]").click()
    expect(thread).to_have_count(2)
    expect(thread.last).to_contain_text("Here is the scan you asked for.")


def test_desk_custom_field_with_a_wrong_value_is_marked_and_kept(
    new_page, desk_sign_in, make_agent, make_queue, make_ticket
):
    agent = make_agent()
    fields = [{"key": "seats", "label": "Seats", "type": "number"}]
    ticket = make_ticket(queue=make_queue(members=[agent], custom_fields=fields))
    page = desk_sign_in(new_page(), agent)
    page.goto(f"/desk/tickets/{ticket.number}")
    page.fill("#cf-1", "twelve")
    page.locator("#ticket-priority").select_option("high")
    page.locator("#properties-form button[type=submit]").click()

    field = page.locator(".custom-field.has-error")
    expect(field).to_have_count(1)
    expect(field.locator(".error")).not_to_be_empty()
    expect(page.locator("#cf-1")).to_have_value("twelve")
    expect(page.locator("#ticket-priority")).to_have_value("high")  # the other choice is kept
    page.fill("#cf-1", "12")
    page.locator("#properties-form button[type=submit]").click()
    expect(page.locator(".custom-field.has-error")).to_have_count(0)
    expect(page.locator("#cf-1")).to_have_value("12")
    expect(page.locator(".ticket-facts .prio-high")).to_be_visible()


def test_without_javascript_the_server_refuses_an_oversized_file_and_keeps_the_text(
    browser, live_server, desk_sign_in, make_agent, make_queue, make_ticket
):
    agent = make_agent()
    ticket = make_ticket(subject="No script", queue=make_queue(members=[agent]))
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    guard = PageGuard(live_server)
    try:
        page = guard.watch(context.new_page())
        desk_sign_in(page, agent)
        page.goto(f"/desk/tickets/{ticket.number}")
        page.fill("#reply-body", "Sent from a browser without scripts.")
        page.set_input_files("#reply-files", TOO_BIG)
        page.locator("#reply-form button[type=submit]").click()
        expect(page.locator("#reply-error")).to_contain_text("scan.pdf")
        expect(page.locator("#reply-body")).to_have_value("Sent from a browser without scripts.")
        expect(page.locator("#thread article.message")).to_have_count(1)
        guard.assert_clean()
    finally:
        context.close()
