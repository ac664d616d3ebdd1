"""Print what a benchmark measured: a compact table and one line per budget."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Sequence


def header(title: str) -> None:
    """The script's title and the machine it ran on (figures only compare on one machine)."""
    print(f"== {title}")
    print(
        f"   {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}, {platform.system()} {platform.release()}, "
        f"load average {os.getloadavg()[0]:.1f} at start"
    )
    sys.stdout.flush()


def load_average() -> None:
    """Say how busy the machine was while measuring (other work there skews every figure)."""
    one, five, _ = os.getloadavg()
    print(f"   load average at the end: {one:.1f} (1 min), {five:.1f} (5 min)", flush=True)


def note(text: str) -> None:
    """A progress line (flushed, so a long run shows where it is)."""
    print(f"   .. {text}", flush=True)


def table(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print ``rows`` under ``columns``, each column as wide as its widest cell."""
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [max([len(col)] + [len(r[i]) for r in cells]) for i, col in enumerate(columns)]
    print("   " + "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    print("   " + "  ".join("-" * w for w in widths))
    for row in cells:
        aligned = (
            c.rjust(w) if _numeric(c) else c.ljust(w) for c, w in zip(row, widths, strict=True)
        )
        print("   " + "  ".join(aligned))
    if not cells:
        print("   (nothing measured)")
    sys.stdout.flush()


def budget(name: str, value: float | None, target: str, ok: bool | None, unit: str = "") -> bool:
    """Print ``budget <name> : <value> (target ...) OK/MISSED``; return whether it was met.

    ``value`` None means it could not be measured, which counts as missed.
    """
    shown = "not measured" if value is None else f"{value:.2f}{unit}"
    verdict = "OK" if ok and value is not None else "MISSED"
    print(f"budget {name} : {shown} (target {target}) {verdict}", flush=True)
    return verdict == "OK"


def extra(name: str, value: str) -> None:
    """A figure worth reporting that has no target."""
    print(f"figure {name} : {value}", flush=True)


def _fmt(cell: object) -> str:
    if isinstance(cell, float):
        return f"{cell:,.2f}" if cell < 100 else f"{cell:,.0f}"
    return str(cell)


def _numeric(cell: str) -> bool:
    return cell.replace(",", "").replace(".", "").replace("x", "").strip().isdigit()
