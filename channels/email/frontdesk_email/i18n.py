"""The email plugin's gettext domain."""

from __future__ import annotations

from pathlib import Path

from frontdesk.i18n import make_gettext

_, _l = make_gettext("email", str(Path(__file__).parent / "translations"))
