"""Loading plugins into an app: built-ins, entry points, config, one-name rules, registries.

One ``pluggy.PluginManager`` per app lives in ``app.extensions["frontdesk"]``; what the
``register_*`` hooks returned lives in ``app.extensions["frontdesk.registry"]``. Nothing here is
global and nothing here touches the database.
"""

from __future__ import annotations

import importlib
import logging
import re
from dataclasses import dataclass, field
from importlib.metadata import Distribution, entry_points
from pathlib import Path
from typing import Any

import pluggy
from flask import Flask, current_app
from marshmallow import ValidationError

from frontdesk import hookspecs
from frontdesk.plugins import ENTRY_POINT_GROUP, PROJECT, NavItem, Permission, PluginInfo, Status

log = logging.getLogger(__name__)

BUILTIN_PLUGINS: tuple[str, ...] = (
    "frontdesk.builtins.core",
    "frontdesk.builtins.statuses",
    "frontdesk.builtins.routing",
    "frontdesk.builtins.sla",
    "frontdesk.builtins.ui",
    "frontdesk.builtins.live",
)

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
PROVIDER_HOOKS = {
    "channel": "register_channels",
    "routing": "register_routing_strategies",
    "sla": "register_sla_policies",
    "search": "register_search_backends",
    "crm": "register_crm_connectors",
}
BLUEPRINT_AREAS = ("", "/desk", "/admin", "/portal", "/<locale>/portal", "/api/v1")


class PluginError(RuntimeError):
    """A plugin cannot be loaded as configured; the message names the plugin."""


@dataclass
class LoadedPlugin:
    """A registered plugin and what is known about it."""

    name: str
    module: Any
    builtin: bool = False
    info: PluginInfo | None = None
    distribution: str | None = None
    version: str | None = None
    urls: dict[str, str] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return str(self.info.label) if self.info else self.name

    @property
    def category(self) -> str:
        if self.info:
            return self.info.category
        return "core" if self.builtin else "other"

    @property
    def package_root(self) -> str | None:
        mod_name = getattr(self.module, "__name__", None)
        return mod_name.split(".")[0] if isinstance(mod_name, str) else None


@dataclass
class Registry:
    """Everything the ``register_*`` hooks contributed, keyed and checked for duplicates."""

    plugins: dict[str, LoadedPlugin] = field(default_factory=dict)
    statuses: dict[str, Status] = field(default_factory=dict)
    permissions: dict[str, Permission] = field(default_factory=dict)
    providers: dict[str, dict[str, type]] = field(default_factory=dict)
    periodic_tasks: dict[str, Any] = field(default_factory=dict)
    cli_commands: list[Any] = field(default_factory=list)
    namespaces: list[Any] = field(default_factory=list)
    themes: list[Path] = field(default_factory=list)

    def status(self, key: str) -> Status:
        try:
            return self.statuses[key]
        except KeyError:
            raise LookupError(f"unknown status {key!r}") from None

    def statuses_in(self, category: str) -> list[Status]:
        return [s for s in self.statuses.values() if s.category == category]

    def provider(self, kind: str, key: str) -> type:
        try:
            return self.providers[kind][key]
        except KeyError:
            raise LookupError(f"no {kind} provider with key {key!r}") from None


def _distribution_facts(dist: Distribution | None) -> tuple[str | None, str | None, dict[str, str]]:
    if dist is None:
        return None, None, {}
    urls = {}
    for entry in dist.metadata.get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        urls[label.strip()] = url.strip()
    if home := dist.metadata.get("Home-page"):
        urls.setdefault("Homepage", home)
    return dist.metadata["Name"], dist.version, urls


def _installed_entry_points() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in found and found[ep.name].value != ep.value:
            raise PluginError(
                f"plugin {ep.name!r} is installed twice ({found[ep.name].value} and {ep.value})"
            )
        found[ep.name] = ep
    return found


def build_plugin_manager(app: Flask) -> tuple[pluggy.PluginManager, Registry]:
    """Register the built-ins and the configured installed plugins, then check and collect them."""
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    registry = Registry()
    for dotted in BUILTIN_PLUGINS:
        module = importlib.import_module(dotted)
        name = "builtin_" + dotted.rsplit(".", 1)[1]
        pm.register(module, name=name)
        registry.plugins[name] = LoadedPlugin(name=name, module=module, builtin=True)

    config = app.config
    if not config.get("SAFE_MODE"):
        for name, ep in _selected_entry_points(config).items():
            _register_entry_point(pm, registry, name, ep)

    for plugin in _in_dependency_order(registry):
        plugin.config = _validated_config(plugin, config.get("PLUGINS_CONFIG") or {})
    _check_pending(pm)
    check_table_names(registry)
    collect_registrations(pm, registry)
    return pm, registry


def _check_pending(pm: pluggy.PluginManager) -> None:
    """Fail on an implementation of a hook that does not exist (a misspelled name)."""
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) if exc.plugin is not None else "?"
        raise PluginError(f"plugin {name!r}: {exc}") from exc


def _selected_entry_points(config: Any) -> dict[str, Any]:
    installed = _installed_entry_points()
    wanted = config.get("PLUGINS")
    disabled = list(config.get("PLUGINS_DISABLED") or [])
    for name in list(wanted or []) + disabled:
        if name not in installed:
            known = ", ".join(sorted(installed)) or "none"
            raise PluginError(
                f"plugin {name!r} is named in the configuration but not installed "
                f"(installed: {known})"
            )
    names = list(wanted) if wanted is not None else sorted(installed)
    return {name: installed[name] for name in names if name not in disabled}


def _register_entry_point(
    pm: pluggy.PluginManager, registry: Registry, name: str, ep: Any
) -> None:
    if not NAME_RE.match(name) or "__" in name:
        raise PluginError(
            f"plugin {name!r}: entry-point names are lower-case identifiers without '__'"
        )
    try:
        module = ep.load()
    except Exception as exc:
        raise PluginError(f"plugin {name!r} failed to import ({ep.value}): {exc}") from exc
    info = getattr(module, "plugin_info", None)
    if info is not None and not isinstance(info, PluginInfo):
        raise PluginError(f"plugin {name!r}: plugin_info must be a frontdesk.plugins.PluginInfo")
    dist_name, version, urls = _distribution_facts(getattr(ep, "dist", None))
    try:
        pm.register(module, name=name)
    except ValueError as exc:
        raise PluginError(f"plugin {name!r}: {exc}") from exc
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {name!r}: {exc}") from exc
    registry.plugins[name] = LoadedPlugin(
        name=name, module=module, info=info, distribution=dist_name, version=version, urls=urls
    )


def register_extra_plugin(app: Flask, plugin: Any, name: str) -> LoadedPlugin:
    """Register ``plugin`` (an object or module) into a running app and re-collect registries.

    Used by the ``plugins`` test fixture; the plugin obeys the same rules as an installed one.
    """
    pm: pluggy.PluginManager = app.extensions["frontdesk"]
    registry: Registry = app.extensions["frontdesk.registry"]
    if name in registry.plugins:
        raise PluginError(f"plugin {name!r} is already registered")
    pm.register(plugin, name=name)
    info = getattr(plugin, "plugin_info", None)
    loaded = LoadedPlugin(name=name, module=plugin, info=info)
    registry.plugins[name] = loaded
    try:
        loaded.config = _validated_config(loaded, app.config.get("PLUGINS_CONFIG") or {})
        _check_pending(pm)
        fresh = Registry(plugins=registry.plugins)
        collect_registrations(pm, fresh)
    except Exception:
        pm.unregister(name=name)
        del registry.plugins[name]
        raise
    _replace_registry(registry, fresh)
    return loaded


def unregister_extra_plugin(app: Flask, name: str) -> None:
    pm: pluggy.PluginManager = app.extensions["frontdesk"]
    registry: Registry = app.extensions["frontdesk.registry"]
    pm.unregister(name=name)
    registry.plugins.pop(name, None)
    fresh = Registry(plugins=registry.plugins)
    collect_registrations(pm, fresh)
    _replace_registry(registry, fresh)


def _replace_registry(target: Registry, source: Registry) -> None:
    for attr in ("statuses", "permissions", "providers", "periodic_tasks", "cli_commands"):
        setattr(target, attr, getattr(source, attr))
    target.namespaces, target.themes = source.namespaces, source.themes


def _in_dependency_order(registry: Registry) -> list[LoadedPlugin]:
    """Plugins with every ``requires`` before the plugin; a missing requirement is an error."""
    ordered: list[LoadedPlugin] = []
    visiting: set[str] = set()

    def visit(plugin: LoadedPlugin) -> None:
        if plugin in ordered:
            return
        if plugin.name in visiting:
            raise PluginError(f"plugin {plugin.name!r}: circular 'requires'")
        visiting.add(plugin.name)
        for required in plugin.info.requires if plugin.info else ():
            if required not in registry.plugins:
                raise PluginError(
                    f"plugin {plugin.name!r} requires plugin {required!r}, which is not enabled"
                )
            visit(registry.plugins[required])
        visiting.discard(plugin.name)
        ordered.append(plugin)

    for plugin in registry.plugins.values():
        visit(plugin)
    return ordered


def plugins_in_dependency_order(app: Flask) -> list[LoadedPlugin]:
    return _in_dependency_order(app.extensions["frontdesk.registry"])


def _validated_config(plugin: LoadedPlugin, all_config: dict[str, Any]) -> dict[str, Any]:
    raw = all_config.get(plugin.name, {})
    schema_cls = plugin.info.config_schema if plugin.info else None
    if schema_cls is None:
        if raw:
            raise PluginError(
                f"plugin {plugin.name!r} takes no configuration, but PLUGINS_CONFIG"
                f"[{plugin.name!r}] sets {', '.join(sorted(raw))}"
            )
        return {}
    if not isinstance(raw, dict):
        raise PluginError(f"PLUGINS_CONFIG[{plugin.name!r}] must be a table, got {raw!r}")
    try:
        return schema_cls().load(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"PLUGINS_CONFIG[{plugin.name!r}].{key}: {' '.join(map(str, _flatten(msgs)))}"
            for key, msgs in sorted(exc.normalized_messages().items())
        )
        raise PluginError(f"plugin {plugin.name!r} has invalid configuration: {problems}") from exc


def _flatten(messages: Any) -> list[Any]:
    if isinstance(messages, dict):
        return [f"{k}: {' '.join(map(str, _flatten(v)))}" for k, v in messages.items()]
    if isinstance(messages, list):
        return [m for item in messages for m in _flatten(item)]
    return [messages]


def check_table_names(registry: Registry) -> None:
    """Every table a plugin's package maps must be named ``<plugin>__...`` (and core ones not)."""
    from frontdesk.db import Model

    roots = {
        plugin.package_root: plugin.name
        for plugin in registry.plugins.values()
        if not plugin.builtin and plugin.package_root and plugin.package_root != "frontdesk"
    }
    for mapper in Model.registry.mappers:
        cls = mapper.class_
        table = getattr(cls, "__tablename__", None)
        if not table:
            continue
        root = cls.__module__.split(".")[0]
        if root == "frontdesk":
            if "__" in table:
                raise PluginError(f"core table {table!r} must not contain '__'")
        elif root in roots and not table.startswith(roots[root] + "__"):
            raise PluginError(
                f"plugin {roots[root]!r}: table {table!r} must be named '{roots[root]}__...'"
            )


def collect_registrations(pm: pluggy.PluginManager, registry: Registry) -> None:
    """Call every ``register_*`` hook (except blueprints) and file the answers, checking names."""
    for plugin_name, items in _per_plugin(pm, "register_statuses"):
        for status in items:
            if not isinstance(status, Status):
                raise PluginError(f"plugin {plugin_name!r}: register_statuses returned {status!r}")
            if status.key in registry.statuses:
                raise PluginError(f"plugin {plugin_name!r}: status {status.key!r} is registered twice")
            registry.statuses[status.key] = status
    for plugin_name, items in _per_plugin(pm, "register_permissions"):
        for perm in items:
            builtin = registry.plugins[plugin_name].builtin
            if not builtin and not perm.name.startswith(plugin_name + "."):
                raise PluginError(
                    f"plugin {plugin_name!r}: permission {perm.name!r} must be named "
                    f"'{plugin_name}.<action>'"
                )
            if perm.name in registry.permissions:
                raise PluginError(f"plugin {plugin_name!r}: permission {perm.name!r} is registered twice")
            registry.permissions[perm.name] = perm
    for kind, hook_name in PROVIDER_HOOKS.items():
        bucket = registry.providers.setdefault(kind, {})
        for plugin_name, items in _per_plugin(pm, hook_name):
            for provider in items:
                key = getattr(provider, "key", "")
                if not key or not NAME_RE.match(key):
                    raise PluginError(
                        f"plugin {plugin_name!r}: {kind} provider {provider!r} needs a stable "
                        "lower-case 'key'"
                    )
                if key in bucket:
                    raise PluginError(
                        f"plugin {plugin_name!r}: {kind} provider key {key!r} is already "
                        f"registered by plugin {bucket[key].plugin_name!r}"
                    )
                provider.plugin_name = plugin_name
                bucket[key] = provider
    for plugin_name, items in _per_plugin(pm, "register_periodic_tasks"):
        for task in items:
            if task.name in registry.periodic_tasks:
                raise PluginError(f"plugin {plugin_name!r}: periodic task {task.name!r} is registered twice")
            registry.periodic_tasks[task.name] = task
    for plugin_name, items in _per_plugin(pm, "register_cli_commands"):
        for command in items:
            if command.name != plugin_name:
                raise PluginError(
                    f"plugin {plugin_name!r}: CLI command {command.name!r} must be named "
                    f"{plugin_name!r} (frontdesk {plugin_name} ...)"
                )
            registry.cli_commands.append(command)
    for plugin_name, items in _per_plugin(pm, "register_socketio_namespaces"):
        for namespace in items:
            if namespace.namespace != f"/{plugin_name}":
                raise PluginError(
                    f"plugin {plugin_name!r}: Socket.IO namespace {namespace.namespace!r} must "
                    f"be '/{plugin_name}'"
                )
            registry.namespaces.append(namespace)
    for _plugin_name, items in _per_plugin(pm, "register_themes"):
        registry.themes.extend(Path(p) for p in items)


def _per_plugin(pm: pluggy.PluginManager, hook_name: str, **kwargs: Any) -> list[tuple[str, list]]:
    """Call each implementation of a collecting hook on its own, so answers carry their plugin."""
    caller = getattr(pm.hook, hook_name)
    answers = []
    for impl in reversed(caller.get_hookimpls()):
        result = impl.function(*[kwargs[arg] for arg in impl.argnames])
        if result:
            answers.append((impl.plugin_name, list(result)))
    return answers


def register_blueprints(app: Flask, pm: pluggy.PluginManager) -> None:
    """Mount each plugin's blueprints, checking their names and URL prefixes."""
    for plugin_name, blueprints in _per_plugin(pm, "register_blueprints", app=app):
        builtin = app.extensions["frontdesk.registry"].plugins[plugin_name].builtin
        for bp in blueprints:
            if not builtin:
                check_blueprint(plugin_name, bp)
            app.register_blueprint(bp)


def check_blueprint(plugin_name: str, bp: Any) -> None:
    if bp.name != plugin_name and not bp.name.startswith(plugin_name + "_"):
        raise PluginError(
            f"plugin {plugin_name!r}: blueprint {bp.name!r} must be named {plugin_name!r} "
            f"(or '{plugin_name}_...')"
        )
    prefix = (bp.url_prefix or "").rstrip("/")
    allowed = [f"{area}/{plugin_name}" for area in BLUEPRINT_AREAS]
    if not any(prefix == a or prefix.startswith(a + "/") for a in allowed):
        raise PluginError(
            f"plugin {plugin_name!r}: blueprint {bp.name!r} has URL prefix {bp.url_prefix!r}; "
            f"use one of {', '.join(allowed)}"
        )
    template_folder = bp.template_folder
    if template_folder and bp.root_path:
        folder = Path(bp.root_path) / template_folder
        stray = [p.name for p in folder.iterdir() if p.name != plugin_name] if folder.is_dir() else []
        if stray:
            raise PluginError(
                f"plugin {plugin_name!r}: templates must live under templates/{plugin_name}/; "
                f"found {', '.join(sorted(stray))}"
            )


def get_pm(app: Flask | None = None) -> pluggy.PluginManager:
    return (app or current_app).extensions["frontdesk"]


def get_registry(app: Flask | None = None) -> Registry:
    return (app or current_app).extensions["frontdesk.registry"]


def hook() -> Any:
    """The current app's hook relay (``hook().select_queue(ticket=...)``)."""
    return current_app.extensions["frontdesk"].hook


def collect(results: Any) -> list[Any]:
    """Flatten the list-of-lists a non-firstresult hook returns, skipping ``None``."""
    out: list[Any] = []
    for item in results or ():
        if item is None:
            continue
        if isinstance(item, (list, tuple)):
            out.extend(i for i in item if i is not None)
        else:
            out.append(item)
    return out


def fire_event(hook_name: str, **kwargs: Any) -> None:
    """Call every implementation of an event hook, each isolated: a failure is logged, not raised."""
    caller = getattr(current_app.extensions["frontdesk"].hook, hook_name)
    for impl in reversed(caller.get_hookimpls()):
        try:
            impl.function(*[kwargs[arg] for arg in impl.argnames])
        except Exception:
            log.exception("plugin %r failed in event hook %s", impl.plugin_name, hook_name)


def nav_items(area: str, actor: Any) -> list[NavItem]:
    items = collect(hook().nav_items(area=area, actor=actor))
    return sorted(items, key=lambda item: (item.order, item.key))


def hooks_implemented(pm: pluggy.PluginManager, plugin: Any) -> list[str]:
    callers = pm.get_hookcallers(plugin) or []
    return sorted(c.name for c in callers)
