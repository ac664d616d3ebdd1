"""Two agents on one ticket, each in their own browser: presence and collision warnings, live."""

from __future__ import annotations

from playwright.sync_api import expect


def test_two_agents_see_each_other_and_the_others_reply_without_reload(
    new_page, desk_sign_in, make_agent, make_queue, make_ticket
):
    ada = make_agent(name="Ada Lovelace")
    bob = make_agent(name="Bob Dylan")
    queue = make_queue(members=[ada, bob])
    ticket = make_ticket(subject="Both of us are on this", queue=queue)
    url = f"/desk/tickets/{ticket.number}"

    page_a = desk_sign_in(new_page(), ada)
    page_b = desk_sign_in(new_page(), bob)
    page_a.goto(url)
    page_b.goto(url)
    loaded_a = page_a.evaluate("() => performance.timeOrigin")

    # Each page names the other agent (and not its own), without a reload.
    expect(page_a.locator("#presence")).to_contain_text("Bob Dylan")
    expect(page_b.locator("#presence")).to_contain_text("Ada Lovelace")
    expect(page_a.locator("#presence")).not_to_contain_text("Ada Lovelace")

    # Ada starts writing: Bob sees that she is writing a reply.
    page_a.fill("#reply-body", "I think the answer is")
    expect(page_b.locator("#presence .presence-replying")).to_contain_text("Ada Lovelace")

    # Bob answers first: Ada, still writing, is warned at once and keeps her text.
    page_b.fill("#reply-body", "Fixed it, closing.")
    page_b.locator("#reply-form button[type=submit]").click()
    expect(page_b.locator("#thread article.kind-agent")).to_contain_text("Fixed it, closing.")
    warning = page_a.locator("[data-live-notice].live-warning")
    expect(warning).to_be_visible()
    expect(page_a.locator("#reply-body")).to_have_value("I think the answer is")
    assert page_a.evaluate("() => performance.timeOrigin") == loaded_a, "the page reloaded"

    # Sending anyway is refused once (the server knows Ada did not see Bob's reply) and the
    # page then offers to send anyway, with her text kept.
    page_a.locator("#reply-form button[type=submit]").click()
    expect(page_a.locator("#reply-error")).to_be_visible()
    expect(page_a.locator("#reply-body")).to_have_value("I think the answer is")
    expect(page_a.locator("#thread article.kind-agent")).to_contain_text("Fixed it, closing.")

    # Bob leaves: Ada's presence line forgets him.
    page_b.close()
    expect(page_a.locator("#presence")).not_to_contain_text("Bob Dylan")
