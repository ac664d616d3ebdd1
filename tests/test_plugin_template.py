"""The plugin template: each kind generates a plugin that installs, is discovered, migrates, builds
and passes its own tests against the current core; and docs/plugins.md describes what exists.

Each generated plugin is installed into a new virtual environment that sees this project's
environment through a ``.pth`` file, so nothing is ever installed into the project's own venv.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import re
import shlex
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution, version
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import click
import copier
import pytest
from babel.messages.pofile import read_po
from sqlalchemy import create_engine, inspect

from frontdesk.testing.database import ENV as TEST_DATABASE_ENV
from frontdesk.testing.database import run_database

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "plugin_template"
PROJECT_SITE = Path(sysconfig.get_paths()["purelib"])
CLI = "import sys; from frontdesk.cli import run; sys.exit(run())"

KINDS = {
    # kind: (answers, category, table, hooks the plugin must implement)
    "channel": (
        {"name": "tpl_sms", "label": "Acme SMS · Доставка", "description": "Texts in and out."},
        "channel",
        "tpl_sms__delivery",
        {"register_channels", "register_permissions", "register_blueprints",
         "ticket_sidebar_panels"},
    ),
    "crm": (
        {"name": "tpl_crm", "label": "Acme CRM", "author": "Acme Ltd"},
        "crm",
        "tpl_crm__contact_link",
        {"register_crm_connectors", "ticket_created", "register_permissions",
         "register_blueprints", "ticket_sidebar_panels"},
    ),
    "generic": (
        {"name": "tpl_notes", "label": "Ticket notes"},
        "other",
        "tpl_notes__ticket_stamp",
        {"ticket_created", "register_permissions", "register_blueprints",
         "ticket_sidebar_panels"},
    ),
}


@dataclass
class GeneratedPlugin:
    kind: str
    name: str
    project: Path
    venv: Path
    tmp: Path

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def env(self, **extra: str) -> dict[str, str]:
        """A clean environment: no variable of the caller's instance leaks into the commands."""
        env = {
            "PATH": f"{self.venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": os.environ.get("HOME", str(self.tmp)),
            "LANG": "C.UTF-8",
            "FRONTDESK_INSTANCE_PATH": str(self.tmp / "instance"),
        }
        if os.environ.get(TEST_DATABASE_ENV):
            env[TEST_DATABASE_ENV] = os.environ[TEST_DATABASE_ENV]
        env.update(extra)
        return env

    def run(self, *args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [str(self.python), *args],
            cwd=cwd or self.tmp,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert result.returncode == 0, (
            f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
        return result

    def frontdesk(self, *args: str, **env: str) -> str:
        """Run the ``frontdesk`` command with only this plugin enabled (besides the built-ins), so
        the checks are about it alone; naming it in ``PLUGINS`` also fails unless it is installed.
        """
        env.setdefault("FRONTDESK_PLUGINS", json.dumps([self.name]))
        return self.run("-c", CLI, *args, **env).stdout


def project_site_listing() -> list[str]:
    return sorted(os.listdir(PROJECT_SITE))


def make_venv(path: Path) -> Path:
    """A new venv whose ``.pth`` adds this project's site-packages (and its own .pth files)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    python = path / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    assert Path(site).resolve() != PROJECT_SITE.resolve()
    (Path(site) / "frontdesk_project.pth").write_text(
        f"import site; site.addsitedir({str(PROJECT_SITE)!r})\n", encoding="utf-8"
    )
    return path


@pytest.fixture(scope="module", params=sorted(KINDS))
def plugin(request, tmp_path_factory) -> GeneratedPlugin:
    """A plugin of each kind, generated with copier and installed (editable) into a new venv."""
    if tuple(int(part) for part in version("setuptools").split(".")[:2]) < (70, 1):
        pytest.fail("building plugins needs setuptools>=70.1 in the project venv: `make install`")
    kind = request.param
    answers, _category, _table, _hooks = KINDS[kind]
    name = answers["name"]
    try:
        distribution(f"frontdesk-{name.replace('_', '-')}")
        pytest.fail(f"frontdesk-{name} is installed in the project venv; it must not be")
    except PackageNotFoundError:
        pass
    tmp = tmp_path_factory.mktemp(f"template-{kind}")
    project = tmp / f"frontdesk-{name}"
    copier.run_copy(
        str(TEMPLATE), project, data={**answers, "kind": kind}, defaults=True, quiet=True
    )
    generated = GeneratedPlugin(kind, name, project, make_venv(tmp / "venv"), tmp)
    before = project_site_listing()
    generated.run(
        "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-index",
        "--no-deps", "--no-build-isolation", "--editable", str(project),
    )
    assert project_site_listing() == before, "the install touched the project's venv"
    generated.frontdesk("init")  # the instance folder and its secret key, as an operator starts
    return generated


def test_the_generated_layout_uses_the_plugin_name_everywhere(plugin):
    package = plugin.project / f"frontdesk_{plugin.name}"
    pyproject = (plugin.project / "pyproject.toml").read_text(encoding="utf-8")
    assert f'name = "frontdesk-{plugin.name.replace("_", "-")}"' in pyproject
    assert f'{plugin.name} = "frontdesk_{plugin.name}"' in pyproject
    assert (package / "templates" / plugin.name / "panel.html").is_file()
    catalogs = package.glob(f"translations/*/LC_MESSAGES/{plugin.name}.po")
    assert sorted(p.parent.parent.name for p in catalogs) == ["en", "fa", "it", "ro", "ru"]
    env_py = (package / "migrations" / "env.py").read_text(encoding="utf-8")
    assert "run_migrations()" in env_py
    assert (package / "migrations" / "versions" / "0001_initial.py").is_file()


PUBLIC_API = ("plugins", "channels.base", "routing.base", "sla.base", "kb.base", "crm.base",
              "models", "services", "i18n", "ui", "jobs", "realtime", "db", "testing")


def test_the_generated_code_imports_only_the_public_api(plugin):
    allowed = {f"frontdesk.{module}" for module in PUBLIC_API}
    for path in plugin.project.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            )
            for name in (n for n in names if n.split(".")[0] == "frontdesk"):
                assert any(name == a or name.startswith(a + ".") for a in allowed), (
                    f"{path.relative_to(plugin.project)} imports the private module {name}"
                )


def test_the_installed_plugin_is_discovered_with_its_version_category_and_hooks(plugin):
    _answers, category, _table, hooks = KINDS[plugin.kind]
    rows = {row["name"]: row for row in json.loads(plugin.frontdesk("plugins", "list", "--json"))}
    assert sorted(n for n, row in rows.items() if not row["builtin"]) == [plugin.name]
    row = rows[plugin.name]
    assert (row["version"], row["category"]) == ("0.1.0", category)
    assert hooks <= set(row["hooks"]), f"hooks: {row['hooks']}"
    assert row["distribution"] == f"frontdesk-{plugin.name.replace('_', '-')}"


def test_its_migration_creates_its_table_and_downgrades_cleanly(plugin):
    _answers, _category, table, _hooks = KINDS[plugin.kind]
    with run_database(plugin.tmp) as url:
        engine = create_engine(url)
        try:
            output = plugin.frontdesk("db", "upgrade", FRONTDESK_DATABASE_URL=url)
            assert f"{plugin.name}: {plugin.name}_0001" in output
            plugin.frontdesk("db", "check", FRONTDESK_DATABASE_URL=url)
            assert inspect(engine).has_table(table)
            plugin.frontdesk("db", "downgrade", plugin.name, "base", FRONTDESK_DATABASE_URL=url)
            assert not inspect(engine).has_table(table)
            assert inspect(engine).has_table("ticket"), "the core's tables stay"
        finally:
            engine.dispose()


def test_a_bad_configuration_value_stops_the_cli_naming_the_key(plugin):
    bad = {"channel": {"sender": ""}, "crm": {"timeout": 0}, "generic": {"queues": "vip"}}
    key = next(iter(bad[plugin.kind]))
    result = subprocess.run(
        [str(plugin.python), "-c", CLI, "plugins", "list"],
        env=plugin.env(
            FRONTDESK_PLUGINS=json.dumps([plugin.name]),
            FRONTDESK_PLUGINS_CONFIG=json.dumps({plugin.name: bad[plugin.kind]}),
        ),
        cwd=plugin.tmp, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode != 0
    assert f"PLUGINS_CONFIG['{plugin.name}'].{key}" in result.stderr


def test_the_generated_tests_pass_against_the_current_core(plugin):
    before = project_site_listing()
    result = plugin.run("-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=plugin.project)
    assert " passed" in result.stdout and " failed" not in result.stdout, result.stdout
    assert project_site_listing() == before


def test_a_release_wheel_carries_migrations_templates_and_compiled_catalogs(plugin):
    package = f"frontdesk_{plugin.name}"
    # The release steps of the generated README: compile the catalogs, then build.
    plugin.run(
        "-m", "babel.messages.frontend", "compile", "-d", f"{package}/translations",
        "-D", plugin.name, cwd=plugin.project,
    )
    plugin.run(
        "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-index", "--no-deps",
        "--no-build-isolation", "--wheel-dir", str(plugin.tmp / "dist"), str(plugin.project),
    )
    (wheel,) = (plugin.tmp / "dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        f"{package}/migrations/env.py",
        f"{package}/migrations/versions/0001_initial.py",
        f"{package}/templates/{plugin.name}/panel.html",
        f"{package}/translations/{plugin.name}.pot",
        *(f"{package}/translations/{loc}/LC_MESSAGES/{plugin.name}.{ext}"
          for loc in ("en", "it", "ro", "ru", "fa") for ext in ("po", "mo")),
    ):
        assert expected in names, f"{expected} is missing from {wheel.name}"
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert f"[frontdesk.plugins]\n{plugin.name} = {package}" in text
    assert not any(n.startswith("tests/") for n in names), "tests do not belong in the wheel"


@pytest.mark.parametrize(
    ("answers", "complaint"),
    [
        ({"name": "Acme-SMS"}, "lower-case"),
        ({"name": "acme__sms"}, "no '__'"),
        ({"name": "db"}, "used by the core"),
        ({"name": "a" * 25}, "2-24"),
        ({"name": "acme", "label": 'Say "hi"'}, "avoid quotes"),
        ({"name": "acme", "kind": "fax"}, "Invalid choice"),
    ],
)
def test_the_template_refuses_answers_that_would_break_the_plugin(answers, complaint, tmp_path):
    with pytest.raises(ValueError, match=complaint):
        copier.run_copy(str(TEMPLATE), tmp_path / "out", data=answers, defaults=True, quiet=True)
    assert not (tmp_path / "out" / "pyproject.toml").exists()


# --- docs/plugins.md stays true ---------------------------------------------------------------

DOC = ROOT / "docs" / "plugins.md"


def console_lines(prefix: str) -> list[list[str]]:
    """The commands starting with ``prefix`` in the doc's console blocks, split like a shell."""
    blocks = re.findall(r"```console\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    return [shlex.split(line) for b in blocks for line in b.splitlines() if line.startswith(prefix)]


@pytest.fixture(scope="module")
def documented_project(tmp_path_factory) -> Path:
    """The channel plugin generated with the documented non-interactive copier command."""
    (command,) = [c for c in console_lines(".venv/bin/copier") if "--defaults" in c]
    target = tmp_path_factory.mktemp("documented") / "frontdesk-acme-sms"
    args = [str(Path(sys.executable).parent / "copier"), *command[1:-1], str(target)]
    subprocess.run(args, cwd=ROOT, check=True, capture_output=True, timeout=300)
    return target


def test_the_documented_layout_is_what_the_template_generates(documented_project):
    text = DOC.read_text(encoding="utf-8")
    tree = re.search(r"For `name=acme_sms`, `kind=channel`:\n\n```\n(.*?)```", text, re.S).group(1)
    root = documented_project
    generated = [p.relative_to(root).as_posix() for p in root.rglob("*")]
    for line in tree.splitlines()[1:]:
        for name in (f for f in re.split(r"\s{2,}", line.strip()) if " " not in f and "<" not in f):
            path = name.rstrip("/")
            assert any(g == path or g.endswith("/" + path) for g in generated), (
                f"docs/plugins.md shows {name}, which the template does not generate"
            )


def test_the_documented_translation_commands_work(documented_project):
    pybabel = Path(sys.executable).parent / "pybabel"
    assert pybabel.exists(), f"{pybabel} is missing: run `make install`"
    pot = documented_project / "frontdesk_acme_sms" / "translations" / "acme_sms.pot"
    shipped = {m.id for m in read_po(pot.open("rb")) if m.id}
    for command in console_lines("pybabel"):
        subprocess.run([str(pybabel), *command[1:]], cwd=documented_project, check=True,
                       capture_output=True, timeout=300)
    assert {m.id for m in read_po(pot.open("rb")) if m.id} == shipped, "the .pot is not in step"
    assert list(documented_project.glob("frontdesk_acme_sms/translations/*/LC_MESSAGES/*.mo"))


def test_the_documented_frontdesk_commands_and_options_exist():
    from frontdesk.cli import main

    text = DOC.read_text(encoding="utf-8")
    commands = [c for c in console_lines("frontdesk ")]
    commands += [shlex.split(c) for c in re.findall(r"`(frontdesk [a-z][^`]*)`", text)]
    assert commands
    ctx = click.Context(main)
    for words in commands:
        group: Any = main
        for word in words[1:]:
            if word.startswith("-"):
                options = {opt for param in group.params for opt in param.opts}
                assert word in options, f"`{' '.join(words)}`: {word} is not an option"
            elif isinstance(group, click.Group):
                group = group.get_command(ctx, word)
                assert group is not None, f"`{' '.join(words)}`: no command {word!r}"


def test_the_documented_hooks_suites_fixtures_and_modules_exist():
    from frontdesk import hookspecs
    from frontdesk.testing import contracts
    from frontdesk.testing import plugin as fixtures

    text = DOC.read_text(encoding="utf-8")
    hooks_section = text.split("## 4.")[1].split("## 5.")[0]
    for line in (ln for ln in hooks_section.splitlines() if ln.startswith("- **")):
        for name in re.findall(r"`(\w+)`", line):
            assert hasattr(hookspecs, name), f"docs/plugins.md names a missing hook {name}"
    for suite, needs in re.findall(r"^\| `(\w+Contract)` \| (.*) \|$", text, re.M):
        doc = getattr(contracts, suite).__doc__
        for fixture in re.findall(r"`(\w+)`", needs.split("(")[0] + needs):
            if fixture != "InboundMessage" and fixture != "tmp_path":
                assert f"``{fixture}``" in doc, f"{suite} does not document the fixture {fixture}"
    fixture_section = text.split("## 9.")[1].split("```")[0]
    for name in re.findall(r"`(\w+)`", fixture_section):
        if not name.startswith(("FRONTDESK", "frontdesk")):
            assert hasattr(fixtures, name), f"docs/plugins.md names a missing fixture {name}"
    for dotted in re.findall(r"`(frontdesk\.[a-z_.]+)`", text):
        module, _, attribute = dotted.rpartition(".")
        try:
            importlib.import_module(dotted)
        except ModuleNotFoundError:
            assert hasattr(importlib.import_module(module), attribute), f"{dotted} does not exist"
    for link in re.findall(r"\]\(([\w.]+\.md)", text):
        assert (DOC.parent / link).exists(), f"docs/plugins.md links to a missing {link}"


def test_the_documented_configuration_error_is_what_the_core_says(app, plugins):
    from marshmallow import Schema, fields, validate

    from frontdesk.plugins import PluginInfo

    class AcmeSmsConfig(Schema):  # the template's channel schema
        sender = fields.String(load_default="Frontdesk", validate=validate.Length(min=1, max=64))

    documented = re.search(r"for example `(plugin 'acme_sms' has invalid [^`]*)`",
                           " ".join(DOC.read_text(encoding="utf-8").split())).group(1)
    app.config["PLUGINS_CONFIG"] = {"acme_sms": {"sender": ""}}
    plugin = SimpleNamespace(plugin_info=PluginInfo(label="Acme SMS", config_schema=AcmeSmsConfig))
    with pytest.raises(RuntimeError) as error:
        plugins.register(plugin, name="acme_sms")
    assert str(error.value) == documented
