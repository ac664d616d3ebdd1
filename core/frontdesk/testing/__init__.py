"""Test support for Frontdesk and its plugins (public API).

Installed as a pytest plugin (entry point ``pytest11``): fixtures ``app``, ``db``, ``client``,
``agent_client``, ``admin_client``, ``portal_client``, ``api_client``, factories (``make_ticket``,
``make_agent``, ...), the ``plugins`` fixture, and provider contract suites in
``frontdesk.testing.contracts``; ``live_server`` and ``new_page`` (Playwright on the system's
Chromium) for browser tests; ``post_form`` posts a page form with its CSRF token.

The database comes from ``FRONTDESK_TEST_DATABASE_URL``: unset means a fresh SQLite file per run; a
PostgreSQL URL means a new database per run created on that server (and dropped afterwards).
"""

from __future__ import annotations

from frontdesk.testing.helpers import csrf_token, login, logout, post_form

__all__ = ["csrf_token", "login", "logout", "post_form"]
