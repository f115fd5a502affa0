"""MkDocs hook: make the docs-test flags of code fences invisible to Markdown.

``tests/test_docs_examples.py`` skips a block whose info string carries
``no-run`` (```` ```python no-run needs the internet ````): the words after the
flag are the reason. Python-Markdown's fences do not accept free words after
the language, and would print such a block as text, so this hook drops the
flag and its reason before the page is rendered (the block is shown as a
normal Python block). Attribute lists such as ``title="x.py"`` are kept.
"""

from __future__ import annotations

import re
from typing import Any

NO_RUN_FENCE = re.compile(
    r"^(?P<head> {0,3}(?:`{3,}|~{3,})(?:python3?|py))(?P<rest>[ \t]+.*?(?<!\S)(?:no-run|norun|skip)(?!\S).*)$",
    re.MULTILINE | re.IGNORECASE,
)
ATTRIBUTE = re.compile(r"""\w+=(?:"[^"]*"|'[^']*'|\S+)""")


def _clean(match: re.Match[str]) -> str:
    attributes = ATTRIBUTE.findall(match["rest"])
    return " ".join([match["head"], *attributes])


def strip_test_flags(markdown: str) -> str:
    """The page with ``no-run`` flags (and their reasons) removed from fence lines."""
    return NO_RUN_FENCE.sub(_clean, markdown)


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    return strip_test_flags(markdown)
