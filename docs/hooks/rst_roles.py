"""Griffe extension for the docs build: render zarrio's reST-flavoured docstrings as Markdown.

The library's docstrings are plain text with a few reStructuredText habits:
``:class:`~zarrio.errors.FacadeError``` roles, paragraphs ending in ``::``
before an indented example, and simple ``====`` tables. mkdocstrings renders
docstrings as Markdown, so this extension rewrites those three habits when the
package is loaded (the library files stay as they are):

* a role becomes inline code (``~`` keeps only the last dotted name);
* a trailing ``::`` becomes ``:`` (a lone ``::`` line disappears); the indented
  block after it is already a Markdown code block;
* a simple table becomes a Markdown table (continuation rows, whose first
  cell is empty, are joined onto the row above).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|exc|data|obj|const):`(~?)([^`]+)`")
BORDER = re.compile(r"^\s*=+(\s+=+)+\s*$")


def _role_to_code(match: re.Match[str]) -> str:
    shortened, target = match.group(1), match.group(2)
    return f"`{target.rsplit('.', 1)[-1] if shortened else target}`"


def _literal_markers(text: str) -> str:
    lines = []
    for line in text.split("\n"):
        if line.strip() == "::":
            lines.append("")
        elif line.rstrip().endswith("::"):
            lines.append(line.rstrip()[:-1])
        else:
            lines.append(line)
    return "\n".join(lines)


def _column_starts(border: str) -> list[int]:
    return [m.start() for m in re.finditer(r"=+", border)]


def _cells(line: str, starts: list[int]) -> list[str]:
    bounds = [*starts[1:], None]
    return [line[start:end].strip() for start, end in zip(starts, bounds, strict=True)]


def _table_to_markdown(rows: list[str], starts: list[int]) -> list[str]:
    """rows: the table's lines between and around its borders (borders removed, header first)."""
    parsed: list[list[str]] = []
    for line in rows:
        if not line.strip():
            continue
        cells = _cells(line, starts)
        if parsed and not cells[0] and any(cells):
            parsed[-1] = [f"{a} {b}".strip() for a, b in zip(parsed[-1], cells, strict=True)]
        else:
            parsed.append(cells)
    if not parsed:
        return []
    out = ["| " + " | ".join(parsed[0]) + " |", "|" + "---|" * len(starts)]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in parsed[1:]]
    return out


def _simple_tables(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        if not BORDER.match(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        starts = _column_starts(lines[i])
        borders = [i]
        j = i + 1
        while j < len(lines) and len(borders) < 3:
            if BORDER.match(lines[j]):
                borders.append(j)
            elif not lines[j].strip():
                break
            j += 1
        if len(borders) < 3:  # not a table with a header: leave it alone
            out.append(lines[i])
            i += 1
            continue
        header = lines[borders[0] + 1 : borders[1]]
        body = lines[borders[1] + 1 : borders[2]]
        out += ["", *_table_to_markdown(header + body, starts), ""]
        i = borders[2] + 1
    return "\n".join(out)


def markdown_docstring(text: str) -> str:
    """The Markdown rendering of one reST-flavoured docstring."""
    return _simple_tables(_literal_markers(ROLE.sub(_role_to_code, text)))


class RstToMarkdown(griffe.Extension):
    """Rewrite every docstring of the loaded package once it is loaded."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        seen: set[int] = set()
        stack: list[griffe.Object] = [pkg]
        while stack:
            obj = stack.pop()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if obj.docstring is not None:
                obj.docstring.value = markdown_docstring(obj.docstring.value)
            stack += [m for m in obj.members.values() if not m.is_alias]  # type: ignore[misc]
