"""docs/performance.md's trace of one read names real modules and functions: a rename that
leaves the page behind fails here."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
SECTION = "### Following one read"
#: words in backquotes that are not names to look up
NOT_NAMES = {"BlockingStore", "z[...]", "zarrio/indexing"}


def _rows() -> list[tuple[str, list[str]]]:
    text = PAGE.read_text()
    start = text.index(SECTION)
    end = text.find("\n#", start + len(SECTION))
    rows = []
    for line in text[start : end if end > 0 else None].splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[1].startswith("`zarrio/"):
            rows.append((cells[1].strip("`"), re.findall(r"`([^`]+)`", cells[2])))
    assert len(rows) >= 7, rows
    return rows


def _modules() -> list[str]:
    """Every module the trace names: a row's own and those named in its cells."""
    return sorted({module for module, _ in _rows()} | {c for _, cells in _rows() for c in cells if c.endswith(".py")})


def _lookup(path: str, dotted: str) -> bool:
    target: object = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    for part in dotted.split("."):
        if not hasattr(target, part):
            return False
        target = getattr(target, part)
    return True


@pytest.mark.parametrize("row", _rows(), ids=lambda row: row[0])
def test_every_name_of_the_trace_exists(row: tuple[str, list[str]]) -> None:
    """Each name of a row is found in the row's module, or in another module the trace names."""
    module, cells = row
    names = [c for c in cells if re.fullmatch(r"[A-Za-z_]\w*(\.\w+)*", c) and c not in NOT_NAMES]
    assert names, row
    for dotted in names:
        if dotted.startswith("ClientSession"):
            continue  # aiohttp's, not ours
        homes = [module, *(m for m in _modules() if m != module)]
        assert any(_lookup(home, dotted) for home in homes), f"{dotted} (row {module}) is in none of {homes}"
