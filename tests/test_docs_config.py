"""The operator docs stay true: every setting documented with its real default; the README's two
commands; links between docs that lead somewhere."""

from __future__ import annotations

import json
import re
from pathlib import Path

from frontdesk.config import DEFAULTS

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DOC = ROOT / "docs" / "configuration.md"
ROW = re.compile(r"^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|([^|]*)\|([^|]*)\|", re.MULTILINE)


def documented_settings() -> dict[str, tuple[str, str]]:
    """``{key: (type cell, default cell)}`` from the settings table of docs/configuration.md."""
    rows: dict[str, tuple[str, str]] = {}
    for match in ROW.finditer(CONFIG_DOC.read_text(encoding="utf-8")):
        key = match.group(1)
        assert key not in rows, f"{key} is documented twice in docs/configuration.md"
        rows[key] = (match.group(2).strip(), match.group(3).strip())
    return rows


def test_every_setting_is_documented() -> None:
    missing = sorted(set(DEFAULTS) - set(documented_settings()))
    assert not missing, f"add these settings to the table in docs/configuration.md: {missing}"


def test_every_documented_setting_exists() -> None:
    unknown = sorted(set(documented_settings()) - set(DEFAULTS))
    assert not unknown, f"docs/configuration.md documents settings that do not exist: {unknown}"


def test_documented_defaults_match_the_code() -> None:
    wrong = []
    for key, (_type, default) in documented_settings().items():
        if key not in DEFAULTS:
            continue
        value = DEFAULTS[key]
        if value is None:
            if not default.lower().startswith("unset"):
                wrong.append(f"{key}: has no default; the doc should say 'unset', not {default!r}")
            continue
        shown = re.match(r"`([^`]*)`", default)
        if shown is None or json.loads(shown.group(1)) != value:
            wrong.append(f"{key}: the default is {json.dumps(value)}, the doc says {default!r}")
    assert not wrong, "\n".join(wrong)


def test_readme_shows_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = "\n".join(re.findall(r"```[a-z]*\n(.*?)```", readme, re.DOTALL))
    commands = {line.strip() for line in blocks.splitlines() if line.strip().startswith("make ")}
    assert commands == {"make demo", "make test"}, commands


def test_links_between_docs_lead_somewhere() -> None:
    broken = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s#]+)(?:#[^)]*)?\)", text):
            if re.match(r"[a-z]+:", target):
                continue  # an absolute URL
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken, "links to missing files: " + ", ".join(broken)


def test_the_docs_index_lists_every_page() -> None:
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    pages = {p.name for p in (ROOT / "docs").glob("*.md")} - {"index.md"}
    unlisted = sorted(p for p in pages if f"]({p})" not in index)
    assert not unlisted, f"docs/index.md does not link: {unlisted}"
