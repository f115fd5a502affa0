"""Run zarrio's store conformance suite on the custom stores of docs/custom-stores.md.

The page's blocks titled ``dict_store.py``, ``sqlite_store.py`` and
``test_my_stores.py`` (```` ```python title="..." ````) are executed here, in
order, in one namespace; the ``StoreSuite`` subclasses they define become
this module's test classes, so pytest runs them exactly as a user would.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_docs_examples import fenced_blocks

from zarrio.testing import StoreSuite

PAGE = Path(__file__).resolve().parent.parent / "docs" / "custom-stores.md"
TITLED_FILES = ("dict_store.py", "sqlite_store.py", "test_my_stores.py")


def titled_blocks(text: str) -> dict[str, tuple[int, str]]:
    """``{title: (fence line, code)}`` for the python blocks with a ``title="..."`` attribute."""
    found: dict[str, tuple[int, str]] = {}
    for block in fenced_blocks(text):
        title = block.attributes.get("title")
        if block.language == "python" and title:
            found[title] = (block.fence_line, block.body)
    return found


def load_page_suites() -> dict[str, type[StoreSuite]]:
    blocks = titled_blocks(PAGE.read_text(encoding="utf-8"))
    missing = [title for title in TITLED_FILES if title not in blocks]
    if missing:
        raise AssertionError(f"{PAGE.name} lost its blocks titled {missing}")
    namespace: dict[str, object] = {"__name__": "docs_custom_stores"}
    for title in TITLED_FILES:
        fence_line, code = blocks[title]
        exec(compile("\n" * fence_line + code, str(PAGE), "exec"), namespace)
    return {
        name: value
        for name, value in namespace.items()
        if isinstance(value, type) and issubclass(value, StoreSuite) and name.startswith("Test")
    }


PAGE_SUITES = load_page_suites()
globals().update(PAGE_SUITES)


def test_the_page_defines_the_three_suites() -> None:
    assert sorted(PAGE_SUITES) == ["TestDictStore", "TestReadOnlySQLiteStore", "TestSQLiteStore"]


@pytest.mark.parametrize("title", TITLED_FILES)
def test_titled_blocks_are_extracted(title: str) -> None:
    fence_line, code = titled_blocks(PAGE.read_text(encoding="utf-8"))[title]
    assert fence_line > 0 and code.strip()
