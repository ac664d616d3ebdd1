"""Test support for Frontdesk and its plugins (public API).

Installed as a pytest plugin (entry point ``pytest11``): fixtures ``app``, ``db``, ``client``,
``agent_client``, ``admin_client``, ``portal_client``, ``api_client``, factories (``make_ticket``,
``make_agent``, ...), the ``plugins`` fixture, and provider contract suites in
``frontdesk.testing.contracts``.

The database comes from ``FRONTDESK_TEST_DATABASE_URL``: unset means a fresh SQLite file per run; a
PostgreSQL URL means a new database per run created on that server (and dropped afterwards).
"""

from __future__ import annotations

from frontdesk.testing.helpers import login, logout

__all__ = ["login", "logout"]
