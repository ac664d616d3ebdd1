"""The core's release wheel works on its own: themes and catalogs travel inside it.

The built-in themes and the core catalogs live at the top of the repository; ``setup.py`` copies
them into the wheel as ``frontdesk/themes`` and ``frontdesk/translations``. An operator who
installs the wheel (no checkout anywhere) must still get a styled, translated portal.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ("en", "it", "ro", "ru", "fa")

# Runs with only the unpacked wheel on the path for ``frontdesk`` (no checkout beside it).
PROBE = textwrap.dedent(
    """
    import sys
    import frontdesk
    from frontdesk import create_app
    from frontdesk.cli import main

    assert frontdesk.__file__.startswith(sys.argv[1]), frontdesk.__file__
    for command in (["init"], ["db", "upgrade"]):  # what the operator's guide says to run
        main(command, standalone_mode=False)
    app = create_app()
    client = app.test_client()
    page = client.get("/fa/portal/signin")
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    assert 'dir="rtl"' in html
    print(html)
    css = client.get("/static/themes/theme.css")
    assert css.status_code == 200, css.status_code
    dark = client.get("/static/themes/@dark/theme.css")
    assert dark.status_code == 200, dark.status_code
    """
)


def _build_wheel(tmp_path: Path) -> Path:
    """Build the core wheel from a copy of what a release checkout holds."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("core", "themes", "translations"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    args = [
        sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check",
        "--no-index", "--no-deps", "--no-build-isolation",
        "--wheel-dir", str(tmp_path / "dist"), str(source),
    ]  # fmt: skip
    subprocess.run(args, check=True, capture_output=True, timeout=300)
    (wheel,) = (tmp_path / "dist").glob("frontdesk-*.whl")
    return wheel


def test_the_wheel_carries_the_built_in_themes_and_every_compiled_catalog(tmp_path):
    names = set(zipfile.ZipFile(_build_wheel(tmp_path)).namelist())
    expected = [
        "frontdesk/themes/default/theme.toml",
        "frontdesk/themes/default/static/theme.css",
        "frontdesk/themes/dark/theme.toml",
        "frontdesk/templates/base.html",
        *(f"frontdesk/translations/{loc}/LC_MESSAGES/messages.mo" for loc in LOCALES),
    ]
    for name in expected:
        assert name in names, f"{name} is missing from the wheel"
    assert not any("__pycache__" in name for name in names)


def test_an_installed_wheel_serves_the_persian_portal_in_its_theme(tmp_path):
    unpacked = tmp_path / "site"
    zipfile.ZipFile(_build_wheel(tmp_path)).extractall(unpacked)
    instance = tmp_path / "instance"
    env = {
        **os.environ,
        "PYTHONPATH": str(unpacked),
        "FRONTDESK_INSTANCE_PATH": str(instance),
        "FRONTDESK_DATABASE_URL": f"sqlite:///{instance / 'frontdesk.db'}",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(unpacked)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    # The Persian catalog came from the wheel: the sign-in button is not the English one.
    assert "Sign in" not in result.stdout
    assert "ورود" in result.stdout
