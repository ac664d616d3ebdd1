"""The sign-in page in a real browser: it renders, keeps its CSP, and a wrong password says so."""

from __future__ import annotations


def test_wrong_password_is_reported_in_the_visitors_language(new_page, agent):
    page = new_page(locale="it")
    page.goto("/signin")
    page.fill("input[name=email]", agent.email)
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert page.locator(".form-error").is_visible()
    assert page.locator("html").get_attribute("lang") == "it"
