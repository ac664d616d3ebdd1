"""live.js in Chromium: two agents on one ticket see each other, and a reply that arrives while
one of them writes shows a warning without touching what was typed.

Drives Debian's Chromium through Playwright (never a downloaded browser) against the app served
on loopback, with the desk's real pages.
"""

from __future__ import annotations

from typing import Any

import pytest

from frontdesk.services import change_status, reply
from frontdesk.testing.plugin import DEFAULT_PASSWORD

WAIT_MS = 10_000  # an upper bound for each wait, never a timing claim


@pytest.fixture
def base_url(live_server: str) -> str:
    """The app served on loopback; ``browser`` is the shared system Chromium (frontdesk.testing)."""
    return live_server


def open_as(browser: Any, base_url: str, user: Any, path: str) -> tuple[Any, list[str]]:
    """A page of a fresh browser profile signed in as ``user``; also its console errors."""
    page = browser.new_context().new_page()
    errors: list[str] = []

    def console(msg: Any) -> None:
        # The browser asks for /favicon.ico on its own; the site has none (not this test's topic).
        if msg.type == "error" and not msg.location.get("url", "").endswith("/favicon.ico"):
            errors.append(f"{msg.location.get('url')}: {msg.text}")

    page.on("console", console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base_url}/signin")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(lambda url: "/signin" not in url)
    page.goto(f"{base_url}{path}")
    return page, errors


def test_agents_see_each_other_and_a_new_reply_warns_the_writer(
    browser: Any, base_url: str, make_agent: Any, make_queue: Any, make_ticket: Any
) -> None:
    ann, bob = make_agent(name="Ann Agent"), make_agent(name="Bob Agent")
    ticket = make_ticket(queue=make_queue(members=[ann, bob]))
    path = f"/desk/tickets/{ticket.number}"
    ann_page, ann_errors = open_as(browser, base_url, ann, path)
    bob_page, bob_errors = open_as(browser, base_url, bob, path)

    ann_page.wait_for_selector("#presence:has-text('Bob Agent')", timeout=WAIT_MS)
    # The page's Content-Security-Policy lets the client upgrade from polling to a WebSocket.
    ann_page.wait_for_function(
        "() => window.frontdesk.live.socket.io.engine.transport.name === 'websocket'",
        timeout=WAIT_MS,
    )
    bob_page.wait_for_selector("#presence:has-text('Ann Agent')", timeout=WAIT_MS)
    assert "Ann Agent" not in ann_page.inner_text("#presence")  # nobody is told about themselves

    bob_page.fill("#reply-form textarea[name=body]", "Working on it")
    bob_page.dispatch_event("#reply-form textarea[name=body]", "input")
    ann_page.wait_for_selector(
        "#presence :text('Writing a reply: Bob Agent')", timeout=WAIT_MS
    )

    ann_page.fill("#reply-form textarea[name=body]", "My draft answer")
    ann_page.dispatch_event("#reply-form textarea[name=body]", "input")
    reply(ticket, "Bob was faster", bob)
    warning = ann_page.wait_for_selector("[data-live-notice=reply]", timeout=WAIT_MS)
    assert "A new message arrived while you were writing" in warning.inner_text()
    # Nothing was sent, reloaded or cleared for her: her draft is where she left it.
    assert ann_page.input_value("#reply-form textarea[name=body]") == "My draft answer"
    assert ann_page.url.endswith(path)
    assert not ann_page.query_selector("#reply-form input[name=send_anyway]:checked")

    bob_page.close()  # Bob leaves: Ann's page stops showing him
    ann_page.wait_for_function(
        "() => !document.getElementById('presence').textContent.includes('Bob Agent')",
        timeout=WAIT_MS,
    )
    assert ann_errors == [] and bob_errors == []


def test_the_queue_view_marks_changed_rows(
    browser: Any, base_url: str, make_agent: Any, make_queue: Any, make_ticket: Any
) -> None:
    ann = make_agent(name="Ann Agent")
    queue = make_queue(members=[ann])
    ticket = make_ticket(queue=queue, subject="Printer on fire")
    page, errors = open_as(browser, base_url, ann, "/desk/tickets?view=all")
    row = f"tr[data-ticket-id='{ticket.id}']"
    page.wait_for_selector(row, timeout=WAIT_MS)
    # Connected is not enough: a change made before the server put the page in the queue's
    # rooms would reach nobody.
    page.wait_for_function("() => window.frontdesk.live && window.frontdesk.live.watching")

    change_status(ticket, "pending", ann)
    page.wait_for_selector(f"{row}.live-changed", timeout=WAIT_MS)
    notice = page.wait_for_selector("[data-live-notice=queue]", timeout=WAIT_MS)
    assert "1 ticket changed since this list was loaded." in notice.inner_text()
    assert errors == []
