"""docs/email.md stays true: every setting with its default, every CLI option it shows."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from frontdesk_email.cli import email
from frontdesk_email.schemas import EmailPluginConfig

DOC = Path(__file__).resolve().parents[3] / "docs" / "email.md"


def documented_settings() -> dict[str, str]:
    rows = re.findall(r"^\| `([A-Z_]+)` \| ([^|]+) \|", DOC.read_text("utf-8"), re.M)
    return {key: default.strip() for key, default in rows}


def test_every_setting_is_documented_with_its_default() -> None:
    defaults = EmailPluginConfig().load({})
    documented = documented_settings()
    assert sorted(documented) == sorted(defaults)
    for key, value in defaults.items():
        shown = "unset" if value is None else f"`{json.dumps(value)}`"
        assert documented[key] == shown, f"{key}: the doc says {documented[key]}, the code {shown}"


def test_the_commands_and_options_shown_exist() -> None:
    text = DOC.read_text("utf-8")
    runner = CliRunner()
    for command, options in re.findall(r"frontdesk email (\w+)((?: --[a-z-]+)*)", text):
        result = runner.invoke(email, [command, "--help"])
        assert result.exit_code == 0, f"frontdesk email {command}: {result.output}"
        for option in options.split():
            assert option in result.output, f"frontdesk email {command} has no {option}"
