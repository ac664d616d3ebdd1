"""First-party plugins import only the public plugin API (DESIGN §5)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = {
    "frontdesk",
    "frontdesk.plugins",
    "frontdesk.hookspecs",
    "frontdesk.models",
    "frontdesk.services",
    "frontdesk.i18n",
    "frontdesk.ui",
    "frontdesk.jobs",
    "frontdesk.realtime",
    "frontdesk.db",
    "frontdesk.testing",
    "frontdesk.channels.base",
    "frontdesk.routing.base",
    "frontdesk.sla.base",
    "frontdesk.kb.base",
    "frontdesk.crm.base",
}


def private_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            if (name == "frontdesk" or name.startswith("frontdesk.")) and name not in PUBLIC:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in PUBLIC:
            for alias in node.names:  # a public module's private names are not public either
                if alias.name.startswith("_"):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {alias.name}")
    return found


def first_party_plugin_files() -> list[Path]:
    files = []
    for folder in ("plugins", "channels", "plugin_template"):
        files.extend(p for p in (ROOT / folder).rglob("*.py") if ".venv" not in p.parts)
    return files


def test_first_party_plugins_use_only_the_public_api():
    problems = [line for path in first_party_plugin_files() for line in private_imports(path)]
    assert not problems, "private core imports in plugins:\n" + "\n".join(problems)


def test_every_public_module_imports():
    for name in sorted(PUBLIC):
        importlib.import_module(name)


def test_the_checker_catches_a_private_import(tmp_path, monkeypatch):
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    bad = tmp_path / "bad.py"
    bad.write_text("from frontdesk.pluginmanager import hook\nfrom frontdesk.services import reply\n")
    assert private_imports(bad) == ["bad.py:1 imports frontdesk.pluginmanager"]
