"""Build hook: the wheel carries the built-in themes and the core's catalogs.

They live at the top of the repository (``themes/``, ``translations/``), where theme and
translation authors look for them; an installed ``frontdesk`` finds them as
``frontdesk/themes`` and ``frontdesk/translations`` (see ``frontdesk.web.theming`` and
``frontdesk.i18n``). An editable install reads them from the checkout instead.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED_FOLDERS = ("themes", "translations")


class BuildWithThemesAndCatalogs(build_py):
    """``build_py`` that also copies the shipped top-level folders into the package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for name in SHIPPED_FOLDERS:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(
                    source,
                    Path(self.build_lib) / "frontdesk" / name,
                    dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
                )


setup(cmdclass={"build_py": BuildWithThemesAndCatalogs})
