"""Themes: folders of templates and static files, chosen by ``THEME``, with parent fallback.

A theme is a folder holding ``theme.toml`` (``name``, ``label``, ``parent``), ``templates/`` and
``static/``. Built-in themes live in the project's ``themes/`` folder (inside the core wheel they
are ``frontdesk/themes``); plugins add folders through the ``register_themes`` hook.

Template lookup, highest first: the instance's ``templates/`` override folder, the active theme
and its parents, the plugins' template folders (each only for names under ``<plugin>/``), then
the core skeleton (``frontdesk/templates``). ``core:<name>`` loads the skeleton's version and
``<theme>:<name>`` starts at that theme, so an override can extend what it replaces.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader, TemplateNotFound

PACKAGE_DIR = Path(__file__).resolve().parent.parent
CORE_TEMPLATES = PACKAGE_DIR / "templates"
DEFAULT_THEME = "default"


class ThemeError(RuntimeError):
    """A theme folder is malformed, or the configured theme or a parent is missing."""


@dataclass(frozen=True)
class Theme:
    """One theme folder and what its ``theme.toml`` says."""

    name: str
    label: str
    parent: str | None
    path: Path
    builtin: bool = False

    @property
    def templates(self) -> Path:
        return self.path / "templates"

    @property
    def static(self) -> Path:
        return self.path / "static"


def builtin_theme_dirs() -> list[Path]:
    """The folder of built-in themes: packaged inside the wheel, else the source checkout's."""
    packaged = PACKAGE_DIR / "themes"
    checkout = PACKAGE_DIR.parent.parent / "themes"
    return [path for path in (packaged, checkout) if path.is_dir()][:1]


def read_theme(path: Path, *, builtin: bool = False) -> Theme:
    manifest = path / "theme.toml"
    try:
        data = tomllib.loads(manifest.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ThemeError(f"theme folder {path}: cannot read theme.toml: {exc}") from exc
    name = data.get("name")
    if not isinstance(name, str) or not name.isidentifier():
        raise ThemeError(f"theme folder {path}: theme.toml needs a `name` (letters, digits, _)")
    return Theme(
        name=name,
        label=str(data.get("label") or name),
        parent=data.get("parent") or None,
        path=path,
        builtin=builtin,
    )


def discover_themes(app: Flask) -> dict[str, Theme]:
    """Every theme the app can use: built-in ones, then the plugins' (a duplicate name fails)."""
    themes: dict[str, Theme] = {}
    found: list[tuple[Path, bool]] = []
    for root in builtin_theme_dirs():
        found += [(p, True) for p in sorted(root.iterdir()) if (p / "theme.toml").is_file()]
    found += [(Path(p), False) for p in app.extensions["frontdesk.registry"].themes]
    for path, builtin in found:
        theme = read_theme(path, builtin=builtin)
        if theme.name in themes:
            raise ThemeError(f"two themes are named {theme.name!r}: {themes[theme.name].path} and {path}")
        themes[theme.name] = theme
    return themes


def theme_chain(themes: dict[str, Theme], name: str) -> list[Theme]:
    """``name`` and its parents, nearest first."""
    chain: list[Theme] = []
    current: str | None = name
    while current is not None:
        theme = themes.get(current)
        if theme is None:
            wanted = "THEME" if not chain else f"the parent of theme {chain[-1].name!r}"
            raise ThemeError(f"{wanted} names theme {current!r}, which is not installed; "
                             f"installed: {', '.join(sorted(themes)) or 'none'}")
        if theme in chain:
            raise ThemeError(f"theme {name!r} has a parent loop through {current!r}")
        chain.append(theme)
        current = theme.parent
    return chain


class ThemeLoader(BaseLoader):
    """Jinja loader for the chain described in the module docstring."""

    def __init__(
        self,
        instance_dir: Path | None,
        chain: list[Theme],
        plugin_loaders: Callable[[], dict[str, BaseLoader]],
    ) -> None:
        self.instance = FileSystemLoader(str(instance_dir)) if instance_dir and instance_dir.is_dir() else None
        self.chain = chain
        self.themes = [FileSystemLoader(str(t.templates)) for t in chain if t.templates.is_dir()]
        self.by_theme = {t.name: i for i, t in enumerate(chain)}
        self.core = FileSystemLoader(str(CORE_TEMPLATES))
        self.plugin_loaders = plugin_loaders

    def _search(self, name: str) -> tuple[list[BaseLoader], str]:
        prefix, sep, rest = name.partition(":")
        if sep and prefix == "core":
            return [self.core], rest
        if sep and prefix in self.by_theme:
            return self._theme_and_below(self.by_theme[prefix], rest), rest
        head = [self.instance] if self.instance else []
        return head + self._theme_and_below(0, name), name

    def _theme_and_below(self, start: int, name: str) -> list[BaseLoader]:
        loaders: list[BaseLoader] = [
            FileSystemLoader(str(t.templates)) for t in self.chain[start:] if t.templates.is_dir()
        ]
        plugin = self.plugin_loaders().get(name.split("/", 1)[0]) if "/" in name else None
        if plugin is not None:
            loaders.append(plugin)
        loaders.append(self.core)
        return loaders

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        loaders, name = self._search(template)
        for loader in loaders:
            try:
                return loader.get_source(environment, name)
            except TemplateNotFound:
                continue
        raise TemplateNotFound(template)

    def list_templates(self) -> list[str]:
        names: set[str] = set()
        for loader in [self.instance, *self.themes, self.core]:
            if loader is not None:
                names.update(loader.list_templates())
        return sorted(names)


def init_themes(app: Flask) -> None:
    """Install the theme loader and the theme static route on ``app``."""
    themes = discover_themes(app)
    active = app.config.get("THEME") or DEFAULT_THEME
    chain = theme_chain(themes, active)
    app.extensions["frontdesk.themes"] = themes
    app.extensions["frontdesk.theme_chain"] = chain
    override = app.config.get("TEMPLATE_OVERRIDES_DIR")
    instance_dir = Path(override) if override else Path(app.instance_path) / "templates"

    cache: dict[str, BaseLoader] = {}

    def plugin_loaders() -> dict[str, BaseLoader]:
        # Built on first use: plugin blueprints are registered after the themes.
        if not cache:
            for plugin in app.extensions["frontdesk.registry"].plugins:
                owned = [
                    bp.jinja_loader
                    for name, bp in app.blueprints.items()
                    if (name == plugin or name.startswith(plugin + "_")) and bp.jinja_loader
                ]
                if owned:
                    cache[plugin] = ChoiceLoader(owned)
        return cache

    app.jinja_env.loader = ThemeLoader(instance_dir, chain, plugin_loaders)


def theme_static_file(app: Flask, filename: str) -> tuple[Path, str] | None:
    """The folder and file name that serve ``filename`` through the active theme chain.

    ``@<theme>/<file>`` starts the lookup at that theme, so a child theme's style sheet can
    ``@import`` its parent's (``@import "@default/theme.css"``) instead of copying it.
    """
    if filename.startswith("/") or ".." in Path(filename).parts:
        return None
    chain = app.extensions["frontdesk.theme_chain"]
    if filename.startswith("@"):
        name, _, filename = filename[1:].partition("/")
        themes = app.extensions["frontdesk.themes"]
        if name not in themes:
            return None
        chain = theme_chain(themes, name)
    for theme in chain:
        candidate = theme.static / filename
        if candidate.is_file():
            return theme.static, filename
    return None


def describe_themes(app: Flask) -> list[dict[str, Any]]:
    """Installed themes for the admin page: name, label, parent, where, whether active."""
    active = app.extensions["frontdesk.theme_chain"][0].name
    return [
        {
            "name": t.name,
            "label": t.label,
            "parent": t.parent,
            "path": os.fspath(t.path),
            "builtin": t.builtin,
            "active": t.name == active,
        }
        for t in sorted(app.extensions["frontdesk.themes"].values(), key=lambda t: t.name)
    ]
