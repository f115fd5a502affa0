"""Parse NumPy-style selection text such as ``"[0:10, ::2]"`` without ``eval``.

Grammar (whitespace is free; the outer brackets are optional)::

    selection := item ("," item)* [","]  |  ""
    item      := "..." | int | slice | "[" int ("," int)* "]"
    slice     := [int] ":" [int] [":" [int]]

An empty selection selects everything. Integer lists select those indices
along one axis, applied orthogonally (``zarrio get`` reads them with ``oindex``).
"""

from __future__ import annotations

import re
from typing import Any

from .usage import UsageError

__all__ = ["SelectionSyntaxError", "parse_selection"]

_INT = re.compile(r"[+-]?\d+")


class SelectionSyntaxError(UsageError):
    """The selection text is not valid; the message says where."""


def _parse_int(text: str, whole: str) -> int:
    stripped = text.strip()
    if not _INT.fullmatch(stripped):
        raise SelectionSyntaxError(f"expected an integer, got {stripped!r} in selection {whole!r}")
    return int(stripped)


def _parse_optional_int(text: str, whole: str) -> int | None:
    return None if not text.strip() else _parse_int(text, whole)


def _parse_slice(text: str, whole: str) -> slice:
    parts = text.split(":")
    if len(parts) > 3:
        raise SelectionSyntaxError(f"a slice has at most two ':', got {text.strip()!r} in selection {whole!r}")
    start, stop, step = (_parse_optional_int(p, whole) for p in (*parts, "", "")[:3])
    if step == 0:
        raise SelectionSyntaxError(f"slice step cannot be zero in selection {whole!r}")
    return slice(start, stop, step)


def _parse_int_list(text: str, whole: str) -> list[int]:
    inner = text.strip()[1:-1]
    if not inner.strip():
        raise SelectionSyntaxError(f"an index list cannot be empty in selection {whole!r}")
    return [_parse_int(p, whole) for p in inner.split(",")]


def _split_items(body: str, whole: str) -> list[str]:
    """Split on commas that are not inside an index list."""
    items: list[str] = []
    depth = 0
    current: list[str] = []
    for char in body:
        if char == "[":
            depth += 1
            if depth > 1:
                raise SelectionSyntaxError(f"index lists cannot nest, in selection {whole!r}")
        elif char == "]":
            depth -= 1
            if depth < 0:
                raise SelectionSyntaxError(f"unbalanced ']' in selection {whole!r}")
        if char == "," and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    if depth != 0:
        raise SelectionSyntaxError(f"unbalanced '[' in selection {whole!r}")
    items.append("".join(current))
    return items


def _strip_outer_brackets(text: str) -> str:
    if not (text.startswith("[") and text.endswith("]")):
        return text
    depth = 0
    for position, char in enumerate(text):
        depth += char == "["
        depth -= char == "]"
        if depth == 0 and position < len(text) - 1:
            return text  # "[0, 1], :" — the first bracket closes early: an index list, not a wrapper
    return text[1:-1]


def _parse_item(item: str, whole: str) -> Any:
    text = item.strip()
    if not text:
        raise SelectionSyntaxError(f"empty index between commas in selection {whole!r}")
    if text == "...":
        return Ellipsis
    if text.startswith("["):
        if not text.endswith("]"):
            raise SelectionSyntaxError(f"unexpected text after an index list: {text!r} in selection {whole!r}")
        return _parse_int_list(text, whole)
    if ":" in text:
        return _parse_slice(text, whole)
    return _parse_int(text, whole)


def parse_selection(text: str) -> tuple[Any, ...]:
    """The selection tuple for ``text``; ``""`` and ``"..."`` select everything."""
    body = _strip_outer_brackets(text.strip()).strip()
    if not body:
        return (Ellipsis,)
    items = _split_items(body, text)
    if len(items) > 1 and not items[-1].strip():
        items.pop()  # a trailing comma, as in "(0,)"
    selection = tuple(_parse_item(item, text) for item in items)
    if sum(1 for s in selection if s is Ellipsis) > 1:
        raise SelectionSyntaxError(f"a selection may hold at most one '...', got {text!r}")
    return selection
