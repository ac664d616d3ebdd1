"""Email channel: mailboxes polled over IMAP or fed by an MTA pipe, replies sent over SMTP."""

from __future__ import annotations

from typing import Any

from frontdesk.plugins import PluginInfo, hookimpl

from .i18n import _l
from .schemas import EmailPluginConfig

plugin_info = PluginInfo(label=_l("Email"), category="channel", config_schema=EmailPluginConfig)

from . import models  # noqa: E402,F401  (tables must be known before the one-name check)

# --- Mailboxes, IMAP polling, SMTP sending and notifications -----------------------------------
from . import mailboxes, notifications, outbound  # noqa: E402
from .imap import POLL_TASK  # noqa: E402


@hookimpl
def register_channels() -> list[Any]:
    return [outbound.EmailChannel]


@hookimpl
def register_blueprints(app: Any) -> list[Any]:
    return [mailboxes.blp, inbound_api.blueprint, views.bp]


@hookimpl
def nav_items(area: str, actor: Any) -> list[Any]:
    return views.nav_items(area, actor)


@hookimpl
def register_periodic_tasks() -> list[Any]:
    return [POLL_TASK, notifications.REMINDER_TASK]


@hookimpl
def ticket_created(ticket: Any, actor: Any) -> None:
    notifications.on_ticket_created(ticket)


@hookimpl
def ticket_status_changed(ticket: Any, old: str, new: str, actor: Any) -> None:
    notifications.on_status_changed(ticket, old, new, actor)


# --- Notices outside tickets (sign-in links, address checks) -----------------------------------
from . import notices  # noqa: E402


@hookimpl
def deliver_notice(recipient: Any, kind: str, subject: str, text: str, url: str | None) -> Any:
    return notices.deliver_notice(recipient, kind, subject, text, url)


# --- Inbound: parsing, screening, threading, the MTA pipe and the admin API ---------------------
from . import cli, inbound_api, screening, threading, views  # noqa: E402


@hookimpl
def inbound_message_screen(message: Any) -> Any:
    return screening.screen(message)


@hookimpl(tryfirst=True)
def inbound_message_thread(message: Any) -> Any:
    return threading.find_thread(message)


@hookimpl
def register_cli_commands() -> list[Any]:
    return [cli.email]
