"""Migrations: one Alembic environment shared by every source (the core, then each plugin).

Each source keeps its revisions in its own ``migrations/versions`` folder and its own version table
(``alembic_version_core``, ``alembic_version_<plugin>``), and only sees its own tables (core tables
have no ``__``; a plugin's are ``<plugin>__*``). Sources migrate core first, then plugins in
dependency order.
"""

from __future__ import annotations

import importlib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy.exc import SAWarning

from frontdesk.db import Model


class MigrationError(RuntimeError):
    """The database is not at the code's migration head; the message says what to run."""


@dataclass(frozen=True)
class MigrationSource:
    name: str
    directory: Path

    @property
    def version_table(self) -> str:
        return f"alembic_version_{self.name}"

    def owns_table(self, table: str) -> bool:
        if self.name == "core":
            return "__" not in table and not table.startswith("alembic_version")
        return table.startswith(f"{self.name}__")


CORE_DIR = Path(__file__).parent


def migration_sources(app: Flask) -> list[MigrationSource]:
    """The core, then every enabled plugin that ships ``migrations/``, in dependency order."""
    from frontdesk.pluginmanager import plugins_in_dependency_order

    found = [MigrationSource("core", CORE_DIR)]
    for plugin in plugins_in_dependency_order(app):
        if plugin.builtin:
            continue
        module_file = getattr(plugin.module, "__file__", None)
        if not module_file:
            continue
        directory = Path(module_file).parent / "migrations"
        if (directory / "env.py").exists():
            found.append(MigrationSource(plugin.name, directory))
    return found


def _source(app: Flask, name: str) -> MigrationSource:
    for source in migration_sources(app):
        if source.name == name:
            return source
    raise MigrationError(f"no migration source named {name!r}")


def alembic_config(source: MigrationSource, connection: Any = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(source.directory))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", str(source.directory / "versions"))
    cfg.attributes["frontdesk_source"] = source
    cfg.attributes["connection"] = connection
    return cfg


def heads(source: MigrationSource) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(source)).get_heads())


def current_revisions(app: Flask) -> dict[str, set[str]]:
    engine = app.extensions["frontdesk.db"].engine
    out = {}
    with engine.connect() as conn:
        for source in migration_sources(app):
            ctx = MigrationContext.configure(conn, opts={"version_table": source.version_table})
            out[source.name] = set(ctx.get_current_heads())
    return out


def status(app: Flask) -> list[tuple[MigrationSource, set[str], set[str]]]:
    """(source, current revisions, head revisions) for every source."""
    current = current_revisions(app)
    return [(s, current[s.name], heads(s)) for s in migration_sources(app)]


def check_database_current(app: Flask) -> None:
    """Refuse to run on a database behind (or ahead of) the code's migration heads."""
    behind = [
        f"{source.name} (at {', '.join(sorted(cur)) or 'nothing'}, head {', '.join(sorted(head))})"
        for source, cur, head in status(app)
        if cur != head
    ]
    if behind:
        raise MigrationError(
            "the database is not at the current schema for: "
            + "; ".join(behind)
            + ". Run `frontdesk db upgrade` first."
        )


def _run(app: Flask, source: MigrationSource, fn: Any, *args: Any, **kwargs: Any) -> None:
    engine = app.extensions["frontdesk.db"].engine
    with engine.begin() as conn:
        fn(alembic_config(source, conn), *args, **kwargs)


def upgrade(app: Flask, revision: str = "heads", only: str | None = None) -> None:
    """Migrate the core, then each plugin, to ``revision`` (``heads`` by default)."""
    for source in migration_sources(app):
        if only is None or source.name == only:
            _run(app, source, command.upgrade, revision)


def downgrade(app: Flask, source_name: str, revision: str) -> None:
    """Take one source back to ``revision`` (``base`` removes its tables)."""
    _run(app, _source(app, source_name), command.downgrade, revision)


def autogenerate_revision(
    app: Flask, source_name: str, message: str, rev_id: str | None = None
) -> Path:
    """Write the next revision of a source from its models' difference to the database."""
    import_plugin_models(app)
    source = _source(app, source_name)
    current = current_revisions(app)[source.name]
    if current != heads(source):
        raise MigrationError(f"{source.name} is not at its head; run `frontdesk db upgrade` first")
    if not schema_differences(app).get(source.name):
        raise MigrationError(f"the models of {source.name} match the database: nothing to write")
    if rev_id is None:
        count = len(list((source.directory / "versions").glob("*.py")))
        rev_id = f"{source.name}_{count + 1:04d}" if source.name != "core" else f"{count + 1:04d}"
    engine = app.extensions["frontdesk.db"].engine
    with engine.begin() as conn:
        script = command.revision(
            alembic_config(source, conn), message=message, autogenerate=True, rev_id=rev_id
        )
    return Path(script.path)  # type: ignore[union-attr]


def schema_differences(app: Flask) -> dict[str, list[Any]]:
    """What the models define that the migrated database lacks (or has extra), per source."""
    from alembic.autogenerate import compare_metadata

    engine = app.extensions["frontdesk.db"].engine
    out: dict[str, list[Any]] = {}
    with engine.connect() as conn:
        for source in migration_sources(app):
            ctx = MigrationContext.configure(
                conn,
                opts={
                    "include_object": include_object_for(source),
                    "compare_type": True,
                    "render_as_batch": conn.dialect.name == "sqlite",
                },
            )
            with warnings.catch_warnings():
                # SQLite cannot reflect expression indexes such as lower(email); they are
                # created by migrations and compared on PostgreSQL.
                warnings.filterwarnings("ignore", "Skipped unsupported reflection", SAWarning)
                diffs = compare_metadata(ctx, Model.metadata)
            if diffs:
                out[source.name] = diffs
    return out


def include_object_for(source: MigrationSource) -> Any:
    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if type_ == "table":
            return source.owns_table(name or "")
        table = getattr(obj, "table", None)
        return table is None or source.owns_table(table.name)

    return include_object


def import_plugin_models(app: Flask) -> None:
    """Import each plugin's ``models`` module so its tables are in ``Model.metadata``."""
    for plugin in app.extensions["frontdesk.registry"].plugins.values():
        name = getattr(plugin.module, "__name__", None)
        if not plugin.builtin and isinstance(name, str):
            try:
                importlib.import_module(f"{name}.models")
            except ModuleNotFoundError as exc:
                if exc.name != f"{name}.models":
                    raise
