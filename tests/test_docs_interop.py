"""Run docs/interop.md in order, each block under the interpreter it is written for.

The page's zarrio blocks run here in-process; its blocks flagged
``no-run reference`` (zarr-python 3.4.2 / tensorstore, which need Python 3.12)
run under the reference interpreter; blocks flagged ``no-run after-reference``
(zarrio reading what those wrote) run in-process after them. Every block runs
in one temporary directory, so each reads the files the earlier ones wrote.
(``tests/test_docs_examples.py`` runs only the zarrio blocks, and skips the
others with their reason.)
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

PAGE = Path(__file__).resolve().parent.parent / "docs" / "interop.md"


def page_blocks() -> list[tuple[str, int, str]]:
    """``(runner, fence line, code)`` for every python block: runner is "zarrio" or "reference"."""
    blocks = []
    for block in fenced_blocks(PAGE.read_text(encoding="utf-8")):
        if block.language != "python":
            continue
        flags = [flag.rstrip(":").lower() for flag in block.flags]
        runner = "reference" if "no-run" in flags and "reference" in flags else "zarrio"
        blocks.append((runner, block.fence_line, block.body))
    return blocks


def test_page_has_blocks_for_every_runner() -> None:
    runners = [runner for runner, _, _ in page_blocks()]
    assert runners.count("reference") >= 3 and runners.count("zarrio") >= 2
    assert runners[-1] == "zarrio", "the page should end with zarrio reading what the others wrote"


def test_interop_page_runs_in_order(
    run_ref: Callable[..., str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__main__"}
    for runner, fence_line, code in page_blocks():
        if runner == "reference":
            run_ref(code, cwd=tmp_path)
            continue
        compiled = compile("\n" * fence_line + code, str(PAGE), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        if compiled.co_flags & inspect.CO_COROUTINE:
            asyncio.run(eval(compiled, namespace))
        else:
            exec(compiled, namespace)
