"""Hostile HTML in every field people can fill renders as text and never runs.

The page guard of ``new_page`` fails the test on any dialog (``alert(1)`` ran), any request to
another origin (a tracking pixel or remote image loaded) and any CSP violation. On top, each
page is searched for what an injection would leave behind: inline scripts, event-handler
attributes, ``javascript:`` links, remote images.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from frontdesk.channels.base import IncomingAttachment
from frontdesk.services import add_message, add_tags, reply
from frontdesk.services.views import create_saved_view

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"
SVG = '"><svg onload=alert(1)>'
JS_LINK = "javascript:alert(1)"
EMAIL_HTML = (
    "<div><p>Hello, see <a href=\"javascript:alert(1)\">my invoice</a>.</p>"
    '<p><img src="http://example.invalid/p.png" width="1" height="1">'
    '<img src=x onerror="alert(1)"><svg onload="alert(1)"></svg></p>'
    "<p>The form said &lt;script&gt;alert(1)&lt;/script&gt; when I pressed send.</p>"
    "<script>alert(1)</script><style>body{display:none}</style></div>"
)


def assert_nothing_injected(page: Any) -> None:
    """What a successful injection leaves in the DOM: none of it may be there."""
    assert page.locator("script:not([src])").count() == 0, "an inline script is in the page"
    handlers = page.evaluate(
        """() => Array.from(document.querySelectorAll('*')).flatMap(el =>
               Array.from(el.attributes).filter(a => a.name.startsWith('on'))
                 .map(a => el.tagName + ' ' + a.name))"""
    )
    assert handlers == [], f"elements with event handlers: {handlers}"
    links = page.locator('a[href^="javascript:" i], [src^="javascript:" i]').count()
    assert links == 0, "a javascript: URL is in the page"
    remote = page.evaluate(
        """() => Array.from(document.querySelectorAll('img, iframe, object, embed, video, audio'))
               .map(el => el.getAttribute('src') || el.getAttribute('data') || '')
               .filter(src => /^(https?:)?\\/\\//i.test(src))"""
    )
    assert remote == [], f"remote resources in the page: {remote}"


def seed(make_agent, make_customer, make_queue, make_organization, make_ticket) -> dict[str, Any]:
    agent = make_agent(name="Ada Lovelace")
    other = make_agent(name=IMG)
    org = make_organization(name=SCRIPT, domains=["hostile.example"])
    fields = [
        {"key": "reference", "label": IMG, "type": "text"},
        {"key": "kind", "label": SCRIPT, "type": "choice", "choices": [SVG, "plain"]},
    ]
    queue = make_queue(key="hostile", name=SVG, members=[agent, other], custom_fields=fields)
    customer = make_customer(name=IMG, email="mallory@hostile.example", organization=org)
    ticket = make_ticket(
        subject=SCRIPT,
        body_text=f"Plain text with {SVG} and a link {JS_LINK} and {IMG}",
        customer=customer,
        queue=queue,
        tags=[IMG],
        custom_fields={"reference": SVG, "kind": SVG},
        attachments=[
            IncomingAttachment(
                filename=f"{IMG}.svg",
                data=b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
                media_type="image/svg+xml",
            )
        ],
    )
    # An HTML mail from the customer with a tracking pixel, handlers and a javascript: link.
    add_message(
        ticket,
        kind="customer",
        body_text="",
        body_html=EMAIL_HTML,
        author=customer,
        actor=customer,
        channel="email",
    )
    reply(ticket, f"Agent answer quoting {SCRIPT}", other)
    add_tags(ticket, [SVG], agent)
    create_saved_view(agent, name=SCRIPT, filters={}, sort="-updated_at")
    return {"agent": agent, "other": other, "customer": customer, "org": org, "ticket": ticket}


def test_hostile_values_render_as_text_in_the_desk(
    new_page, desk_sign_in, make_agent, make_customer, make_queue, make_organization, make_ticket
):
    data = seed(make_agent, make_customer, make_queue, make_organization, make_ticket)
    ticket, customer = data["ticket"], data["customer"]
    page = desk_sign_in(new_page(), data["agent"])

    # Queue view, through the saved view with the hostile name.
    page.goto("/desk/?view=all")
    row = page.locator("tr.ticket-row").first
    expect(row.locator(".subject a")).to_have_text(SCRIPT)
    expect(row.locator(".subject .tag")).to_have_text([SVG.lower(), IMG.lower()])  # by name
    expect(row.locator(".customer a")).to_have_text(IMG)
    expect(row.locator(".queue")).to_have_text(SVG)
    page.locator(".queue-views").get_by_role("link", name=SCRIPT, exact=True).click()
    expect(page.locator(".page-head h1")).to_have_text(SCRIPT)
    assert_nothing_injected(page)

    # Ticket page: header, thread, attachments, custom fields, tags, history.
    page.goto(f"/desk/tickets/{ticket.number}")
    expect(page.locator(".ticket-subject")).to_have_text(SCRIPT)
    expect(page.locator(".ticket-header .customer-link")).to_have_text(IMG)
    expect(page.locator(".ticket-header")).to_contain_text(SCRIPT)  # the organization
    thread = page.locator("#thread")
    first = thread.locator("article.message").first
    expect(first.locator(".body")).to_contain_text(f"Plain text with {SVG} and a link {JS_LINK}")
    expect(first.locator(".attachments a")).to_contain_text("onerror=alert(1)")
    mail = thread.locator("article.message").nth(1)
    expect(mail.locator(".body")).to_contain_text("see my invoice")
    expect(mail.locator(".body")).to_contain_text(f"The form said {SCRIPT} when I pressed send.")
    expect(mail.locator(".body a")).not_to_have_attribute("href", JS_LINK)
    answer = thread.locator("article.kind-agent")
    expect(answer.locator(".author")).to_have_text(IMG)
    expect(answer.locator(".body")).to_contain_text(f"Agent answer quoting {SCRIPT}")
    expect(page.locator("#cf-1")).to_have_value(SVG)
    expect(page.locator("label[for=cf-1]")).to_contain_text(IMG)
    expect(page.locator("#cf-2")).to_have_value(SVG)
    expect(page.locator("#ticket-queue option:checked")).to_have_text(SVG)
    expect(page.locator(".ticket-tags .tag-list")).to_contain_text(IMG.lower())
    expect(page.locator("#history")).to_contain_text(SVG.lower())
    assert_nothing_injected(page)

    # The hostile attachment is a download, never a page of ours.
    with page.expect_download() as download:
        first.locator(".attachments a").click()
    assert download.value.suggested_filename.endswith(".svg")
    expect(page.locator(".ticket-subject")).to_have_text(SCRIPT)  # still on the ticket page

    # Customer and organization pages.
    page.locator(".ticket-header .customer-link").click()
    expect(page.locator(".page-head h1")).to_have_text(IMG)
    expect(page.locator(".people-facts")).to_contain_text(SCRIPT)
    expect(page.locator("tr.ticket-row .subject a")).to_have_text(SCRIPT)
    assert_nothing_injected(page)
    page.locator(".people-facts a").filter(has_text=SCRIPT).click()
    expect(page.locator(".page-head h1")).to_have_text(SCRIPT)
    expect(page.locator(".people-members")).to_contain_text(IMG)
    assert_nothing_injected(page)


def test_a_hostile_agent_name_in_the_presence_line_is_text(
    new_page, desk_sign_in, make_agent, make_customer, make_queue, make_organization, make_ticket
):
    data = seed(make_agent, make_customer, make_queue, make_organization, make_ticket)
    url = f"/desk/tickets/{data['ticket'].number}"
    page = desk_sign_in(new_page(), data["agent"])
    intruder = desk_sign_in(new_page(), data["other"])
    page.goto(url)
    intruder.goto(url)
    expect(page.locator("#presence .presence-viewing")).to_contain_text(IMG)
    intruder.fill("#reply-body", "typing")
    expect(page.locator("#presence .presence-replying")).to_contain_text(IMG)
    assert_nothing_injected(page)


def test_hostile_values_render_as_text_in_the_portal(
    new_page,
    portal_sign_in,
    make_agent,
    make_customer,
    make_queue,
    make_organization,
    make_ticket,
):
    data = seed(make_agent, make_customer, make_queue, make_organization, make_ticket)
    ticket = data["ticket"]
    page = portal_sign_in(new_page(locale="it"), data["customer"], "it")

    expect(page.locator("table.portal-requests .subject a")).to_have_text(SCRIPT)
    assert_nothing_injected(page)

    page.goto(f"/it/portal/requests/{ticket.number}")
    expect(page.locator("h1")).to_have_text(SCRIPT)
    messages = page.locator(".portal-thread .message")
    expect(messages).to_have_count(3)
    expect(messages.nth(0).locator(".body")).to_contain_text(f"{SVG} and a link {JS_LINK}")
    expect(messages.nth(0).locator(".attachments a")).to_contain_text("onerror=alert(1)")
    expect(messages.nth(1).locator(".body")).to_contain_text(f"The form said {SCRIPT}")
    expect(messages.nth(2).locator(".author")).to_contain_text(IMG)
    expect(page.locator(".user-menu")).to_contain_text(IMG)
    assert_nothing_injected(page)

    with page.expect_download() as download:
        messages.nth(0).locator(".attachments a").click()
    assert download.value.suggested_filename.endswith(".svg")

    # The web form shows the queue's hostile field labels and choices as text.
    page.goto("/it/portal/webform/new")
    expect(page.locator("form[data-webform]")).to_contain_text(IMG)
    expect(page.locator("form[data-webform] option").filter(has_text=SVG)).to_have_count(1)
    assert_nothing_injected(page)
