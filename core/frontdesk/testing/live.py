"""Fixtures for tests through a real server: ``live_server`` and a Playwright ``browser``.

``live_server`` serves the test's app (pages, API and Socket.IO) on a loopback port in a thread.
``browser`` drives the system's Chromium (Debian package ``chromium``) through Playwright; no
browser is ever downloaded. A missing Chromium fails the test with the command that installs it.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


@pytest.fixture
def live_server(app: Any) -> Iterator[str]:
    """The test's app served at ``http://127.0.0.1:<port>`` (threaded, WebSocket-capable)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


def chromium_path() -> str:
    explicit = os.environ.get("FRONTDESK_CHROMIUM")
    for candidate in ([explicit] if explicit else []) + list(CHROMIUM_CANDIDATES):
        path = shutil.which(candidate)
        if path:
            return path
    pytest.fail(
        "Chromium is not installed: run `bash scripts/install-system-deps.sh` "
        "(Debian package chromium) or set FRONTDESK_CHROMIUM to a Chromium binary",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless system Chromium driven by Playwright, shared by the session's tests."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is not installed: pip install -e '.[dev]'", pytrace=False)
    args = ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium refuses its sandbox as root
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=args)
        try:
            yield chromium
        finally:
            chromium.close()


class PageGuard:
    """Records what a page must never do: open dialogs, reach other origins, log CSP errors."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.dialogs: list[str] = []
        self.foreign_requests: list[str] = []
        self.console_errors: list[str] = []

    def watch(self, page: Any) -> Any:
        def on_dialog(dialog: Any) -> None:
            self.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        def on_request(request: Any) -> None:
            url = request.url
            if not (url.startswith(self.origin) or url.startswith(("data:", "blob:", "about:"))):
                self.foreign_requests.append(url)

        def on_console(message: Any) -> None:
            if message.type == "error":
                self.console_errors.append(message.text)

        page.on("dialog", on_dialog)
        page.on("request", on_request)
        page.on("console", on_console)
        return page

    def assert_clean(self) -> None:
        assert not self.dialogs, f"the page opened dialogs: {self.dialogs}"
        assert not self.foreign_requests, f"the page reached other origins: {self.foreign_requests}"
        csp = [m for m in self.console_errors if "Content Security Policy" in m]
        assert not csp, f"the page broke its Content-Security-Policy: {csp}"


@pytest.fixture
def new_page(browser: Any, live_server: str) -> Iterator[Any]:
    """``new_page(locale="en")`` opens a page in a fresh browser context watched by a guard.

    Every page is checked when the test ends: no dialogs (a script injected through data would
    open one), no request to another origin, no Content-Security-Policy violation.
    """
    contexts: list[Any] = []
    guards: list[PageGuard] = []

    def open_page(locale: str = "en", timezone: str = "UTC") -> Any:
        context = browser.new_context(locale=locale, timezone_id=timezone, base_url=live_server)
        context.set_default_timeout(15_000)
        contexts.append(context)
        guard = PageGuard(live_server)
        guards.append(guard)
        page = guard.watch(context.new_page())
        page.guard = guard
        return page

    try:
        yield open_page
        for guard in guards:
            guard.assert_clean()
    finally:
        for context in contexts:
            context.close()
