"""An agent's day in a real browser: sign in, save a view, open a ticket, answer, note, resolve."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def test_agent_finds_a_ticket_through_a_saved_view_and_works_it(
    new_page, desk_sign_in, make_agent, make_queue, make_ticket
):
    agent = make_agent(name="Ada Lovelace")
    queue = make_queue(key="hardware-desk", name="Hardware", members=[agent])
    ticket = make_ticket(
        subject="The printer is on fire", queue=queue, tags=["printer"], customer__name="Grace"
    )
    make_ticket(subject="A question about invoices", queue=queue)

    page = desk_sign_in(new_page(), agent)

    # Filter the queue by tag, then keep the filter as a personal view.
    page.goto("/desk/?view=all")
    page.locator("details.more-filters > summary").click()
    page.fill("#f-tag", "printer")
    page.locator(".queue-filters .search-row button[type=submit]").click()
    rows = page.locator("table[data-queue-table] tbody tr.ticket-row")
    expect(rows).to_have_count(1)
    page.locator("details.save-view > summary").click()
    page.fill("#save-name", "Printers")
    page.locator("details.save-view button[type=submit]").click()
    expect(page.locator(".flash-success")).to_be_visible()

    # Later: from another view, the saved one in the sidebar finds the ticket again.
    page.goto("/desk/?view=all")
    expect(rows).to_have_count(2)
    page.locator(".queue-views").get_by_role("link", name="Printers", exact=True).click()
    expect(page).to_have_url(re.compile(r"[?&]view=\d+"))
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".subject")).to_contain_text("The printer is on fire")

    rows.first.locator(".subject a").click()
    expect(page).to_have_url(re.compile(rf"/desk/tickets/{ticket.number}$"))
    expect(page.locator("h1 .ticket-number")).to_have_text(ticket.number)

    # Keyboard: n opens the note editor, Esc leaves it, r goes to the reply editor.
    page.locator("body").press("n")
    expect(page.locator("#note-body")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#note-body")).not_to_be_focused()
    page.keyboard.press("r")
    expect(page.locator("#reply-body")).to_be_focused()
    expect(page.locator("#note-form")).to_be_hidden()

    # Reply: shown in the thread as the agent's public message.
    page.keyboard.type("We are sending a technician with an extinguisher.")
    page.locator("#reply-form button[type=submit]").click()
    reply = page.locator("#thread article.message.kind-agent")
    expect(reply).to_have_count(1)
    expect(reply).to_contain_text("We are sending a technician with an extinguisher.")
    expect(reply.locator(".author")).to_have_text("Ada Lovelace")

    # Internal note: in the thread, styled unlike the reply.
    page.locator('#composer [data-tab="note"]').click()
    expect(page.locator("#note-body")).to_be_focused()
    page.fill("#note-body", "Customer keeps paper next to the heater.")
    page.locator("#note-form button[type=submit]").click()
    note = page.locator("#thread article.message.kind-internal")
    expect(note).to_have_count(1)
    expect(note).to_contain_text("Customer keeps paper next to the heater.")
    expect(note).to_have_attribute("data-kind", "internal_note")
    note_look = note.evaluate("el => getComputedStyle(el).backgroundColor")
    reply_look = reply.evaluate("el => getComputedStyle(el).backgroundColor")
    assert note_look != reply_look, "an internal note must not look like a reply"

    # Status: the badge in the ticket's header follows the change.
    badge = page.locator(".ticket-header .ticket-facts .badge")
    expect(badge).to_have_class(re.compile(r"\bcat-new\b"))
    page.locator("#ticket-status").select_option("pending")
    page.locator("#properties-form button[type=submit]").click()
    expect(badge).to_have_class(re.compile(r"\bcat-pending\b"))
    expect(page.locator("#ticket-status")).to_have_value("pending")

    # The queue's "Pending" view now lists it.
    page.goto("/desk/?view=pending")
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".status .badge")).to_have_class(re.compile(r"\bcat-pending\b"))


def test_keyboard_shortcuts_on_the_queue_open_the_selected_ticket(
    new_page, desk_sign_in, make_agent, make_queue, make_ticket
):
    agent = make_agent()
    queue = make_queue(members=[agent])
    make_ticket(subject="Older request", queue=queue)
    newer = make_ticket(subject="Newer request", queue=queue)
    page = desk_sign_in(new_page(), agent)
    page.goto("/desk/?view=all")
    expect(page.locator("tr.ticket-row")).to_have_count(2)

    page.locator("body").press("/")
    expect(page.locator("#queue-search")).to_be_focused()
    page.locator(".page-head h1").click()  # leave the search field: letters type there
    page.keyboard.press("j")
    page.keyboard.press("o")
    expect(page).to_have_url(re.compile(rf"/desk/tickets/{newer.number}$"))
