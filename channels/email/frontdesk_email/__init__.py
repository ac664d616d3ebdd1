"""Email channel: mailboxes polled over IMAP or fed by an MTA pipe, replies sent over SMTP."""

from __future__ import annotations

from frontdesk.plugins import PluginInfo

from .i18n import _l

plugin_info = PluginInfo(label=_l("Email"), category="channel")

from . import models  # noqa: E402,F401  (tables must be known before the one-name check)
