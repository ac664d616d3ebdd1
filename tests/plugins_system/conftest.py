"""Fixtures that install throwaway plugin distributions (a package plus its .dist-info)."""

from __future__ import annotations

import importlib
import itertools
import sys
import textwrap
from pathlib import Path

import pytest

from frontdesk.testing.plugin import _base_config

_ids = itertools.count(1)


@pytest.fixture
def install_plugin(tmp_path, monkeypatch):
    """``install_plugin(name, code, version="1.2.3") -> module name``: a discoverable plugin."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    created = []

    def install(name: str, code: str, version: str = "1.2.3", files: dict | None = None) -> str:
        module = f"fdtest_{name}_{next(_ids)}"
        package = root / module
        package.mkdir()
        (package / "__init__.py").write_text(textwrap.dedent(code), encoding="utf-8")
        for rel, content in (files or {}).items():
            path = package / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(content), encoding="utf-8")
        dist = root / f"{module}-{version}.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {module}\nVersion: {version}\n"
            "Project-URL: Homepage, https://example.test/plugin\n",
            encoding="utf-8",
        )
        (dist / "entry_points.txt").write_text(
            f"[frontdesk.plugins]\n{name} = {module}\n", encoding="utf-8"
        )
        importlib.invalidate_caches()
        created.append(module)
        return module

    yield install
    for module in created:
        for key in [k for k in sys.modules if k == module or k.startswith(module + ".")]:
            del sys.modules[key]


@pytest.fixture
def build_app(frontdesk_database_url, tmp_path):
    """``build_app(**config)``: create an app (without pushing a context) with extra config."""
    from frontdesk import create_app

    apps = []

    def build(**config):
        base = _base_config(frontdesk_database_url, tmp_path)
        base.update(config)
        application = create_app(base, instance_path=tmp_path / "instance")
        apps.append(application)
        return application

    yield build
    for application in apps:
        application.extensions["frontdesk.db"].dispose()
