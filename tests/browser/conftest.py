"""Helpers for the browser tests: sign in through the real forms, as a person would."""

from __future__ import annotations

from typing import Any

import pytest

from frontdesk.testing.plugin import DEFAULT_PASSWORD


@pytest.fixture
def desk_sign_in() -> Any:
    """``desk_sign_in(page, user)``: sign in through ``/signin`` and wait for the desk."""

    def sign_in(page: Any, user: Any, password: str = DEFAULT_PASSWORD) -> Any:
        page.goto("/signin")
        page.fill("input[name=email]", user.email)
        page.fill("input[name=password]", password)
        page.click("form button[type=submit]")
        page.wait_for_url("**/desk/**")
        return page

    return sign_in


@pytest.fixture
def portal_sign_in() -> Any:
    """``portal_sign_in(page, user, locale)``: sign in through the portal's own form."""

    def sign_in(page: Any, user: Any, locale: str, password: str = DEFAULT_PASSWORD) -> Any:
        page.goto(f"/{locale}/portal/signin")
        page.fill("input[name=email]", user.email)
        page.fill("input[name=password]", password)
        page.click(".portal-form form button[type=submit]")
        page.wait_for_url(f"**/{locale}/portal/requests**")
        return page

    return sign_in
