"""Run the docs pages that show zarr-python and tensorstore code, each block under its own interpreter.

Blocks flagged ``no-run reference`` (zarr-python 3.4.2 / tensorstore, which
need Python 3.12) run under the reference interpreter; the other python blocks
(zarrio) run in-process, in page order. ``tests/test_docs_examples.py`` runs
only the zarrio blocks and skips the others with their reason.

* docs/interop.md: every block runs in one directory, so zarrio reads what
  zarr-python and tensorstore wrote, and the other way round;
* docs/migrating.md: side-by-side snippets doing the same thing; the
  zarr-python ones run in a directory of their own, so each side works on its
  own files.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
from collections.abc import Callable
from pathlib import Path

import pytest
from test_docs_examples import fenced_blocks

pytestmark = pytest.mark.interop

DOCS = Path(__file__).resolve().parent.parent / "docs"
#: page -> whether the reference blocks share the zarrio blocks' directory
PAGES = {"interop.md": True, "migrating.md": False}


def page_blocks(page: Path) -> list[tuple[str, int, str]]:
    """``(runner, fence line, code)`` for every python block: runner is "zarrio" or "reference"."""
    blocks = []
    for block in fenced_blocks(page.read_text(encoding="utf-8")):
        if block.language != "python":
            continue
        flags = [flag.rstrip(":").lower() for flag in block.flags]
        runner = "reference" if "no-run" in flags and "reference" in flags else "zarrio"
        blocks.append((runner, block.fence_line, block.body))
    return blocks


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_has_blocks_for_both_runners(name: str) -> None:
    runners = [runner for runner, _, _ in page_blocks(DOCS / name)]
    assert runners.count("reference") >= 3 and runners.count("zarrio") >= 2


def test_interop_page_ends_with_zarrio_reading_what_the_others_wrote() -> None:
    assert page_blocks(DOCS / "interop.md")[-1][0] == "zarrio"


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_runs_in_order(
    name: str, run_ref: Callable[..., str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = DOCS / name
    reference_dir = tmp_path if PAGES[name] else tmp_path / "reference"
    reference_dir.mkdir(exist_ok=True)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__main__"}
    for runner, fence_line, code in page_blocks(page):
        if runner == "reference":
            run_ref(code, cwd=reference_dir)
            continue
        compiled = compile("\n" * fence_line + code, str(page), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        if compiled.co_flags & inspect.CO_COROUTINE:
            asyncio.run(eval(compiled, namespace))
        else:
            exec(compiled, namespace)
