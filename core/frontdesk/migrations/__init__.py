"""Migrations: one Alembic environment shared by every source (the core, then each plugin).

Each source keeps its revisions in its own ``migrations/versions`` folder and its own version table
(``alembic_version_core``, ``alembic_version_<plugin>``), and only sees its own tables (core tables
have no ``__``; a plugin's are ``<plugin>__*``). Sources migrate core first, then plugins in
dependency order.

Starting an app only compares each version table with its source's heads; that check reads the
revision files as text (:func:`heads`) and the version tables with plain SQL, so Alembic (and
Mako and Pygments behind it) is imported only by the commands that migrate or compare schemas.
"""

from __future__ import annotations

import ast
import importlib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask
from sqlalchemy import column, inspect, select, table
from sqlalchemy.exc import SAWarning

from frontdesk.db import Model

if TYPE_CHECKING:
    from alembic.config import Config


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
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(source.directory))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", str(source.directory / "versions"))
    cfg.attributes["frontdesk_source"] = source
    cfg.attributes["connection"] = connection
    return cfg


def alembic_heads(source: MigrationSource) -> set[str]:
    """The heads of ``source`` as Alembic computes them (imports every revision file)."""
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config(source)).get_heads())


class _NotStatic(ValueError):
    """A revision file whose ``revision``/``down_revision`` is not a plain literal."""


def _revision_ids(path: Path) -> tuple[str, tuple[str, ...]]:
    """``revision`` and the ``down_revision`` ids assigned at the top level of a revision file."""
    found: dict[str, Any] = {}
    for node in ast.parse(path.read_bytes(), filename=str(path)).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            try:
                found[target.id] = ast.literal_eval(value)
            except ValueError:
                raise _NotStatic(f"{path}: {target.id} is not a literal") from None
    revision, down = found.get("revision"), found.get("down_revision")
    if not isinstance(revision, str):
        raise _NotStatic(f"{path}: no literal revision id")
    downs = (down,) if isinstance(down, str) else tuple(down or ())
    if not all(isinstance(d, str) for d in downs):
        raise _NotStatic(f"{path}: down_revision is not a string, a tuple of them or None")
    return revision, downs


def heads(source: MigrationSource) -> set[str]:
    """The revisions of ``source`` that no other revision builds on, read without importing them.

    Alembic's rules for which files are revisions apply: ``*.py`` directly in ``versions/``,
    except ``__init__.py`` and editor lock files. A file that assigns its ids in a way only
    running it would reveal is left to Alembic.
    """
    versions = source.directory / "versions"
    revisions: set[str] = set()
    parents: set[str] = set()
    try:
        for path in sorted(versions.iterdir()) if versions.is_dir() else ():
            if not path.name.endswith(".py") or path.name.startswith((".#", "__init__")):
                continue
            if path.is_file():
                revision, downs = _revision_ids(path)
                revisions.add(revision)
                parents.update(downs)
    except (_NotStatic, SyntaxError):
        return alembic_heads(source)  # which reports a broken file in its own words
    return revisions - parents


def current_revisions(app: Flask) -> dict[str, set[str]]:
    """The revisions recorded in each source's version table (empty where it has none yet)."""
    engine = app.extensions["frontdesk.db"].engine
    out = {}
    with engine.connect() as conn:
        inspector = inspect(conn)
        for source in migration_sources(app):
            out[source.name] = set()
            if inspector.has_table(source.version_table):
                query = select(column("version_num")).select_from(table(source.version_table))
                out[source.name] = set(conn.scalars(query))
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
    from alembic import command

    for source in migration_sources(app):
        if only is None or source.name == only:
            _run(app, source, command.upgrade, revision)


def downgrade(app: Flask, source_name: str, revision: str) -> None:
    """Take one source back to ``revision`` (``base`` removes its tables)."""
    from alembic import command

    _run(app, _source(app, source_name), command.downgrade, revision)


def autogenerate_revision(
    app: Flask, source_name: str, message: str, rev_id: str | None = None
) -> Path:
    """Write the next revision of a source from its models' difference to the database."""
    from alembic import command

    import_plugin_models(app)
    source = _source(app, source_name)
    current = current_revisions(app)[source.name]
    if current != alembic_heads(source):
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
    from alembic.runtime.migration import MigrationContext

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
