"""TARGET arguments: ``PATH``, ``FILE.zip`` or ``http(s)://URL``, with an optional ``::node/path``.

A target names a store location and a node inside it. Opening a target for
reading gives a read-only store; opening it for writing gives a writable one
(a ``.zip`` target is rewritten when the store is closed).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from .. import _paths
from ..errors import ReadOnlyError, StoreError
from ..stores import LocalStore, Store, ZipStore, as_store

__all__ = ["Target", "close_store", "parse_target"]

NODE_SEPARATOR = "::"


@dataclass(frozen=True)
class Target:
    """Where a node lives: a store ``location`` and a ``node`` path inside it ("" is the root)."""

    location: str
    node: str = ""

    @property
    def is_url(self) -> bool:
        return self.location.lower().startswith(("http://", "https://"))

    @property
    def is_zip(self) -> bool:
        return not self.is_url and self.location.lower().endswith(".zip")

    def __str__(self) -> str:
        return f"{self.location}{NODE_SEPARATOR}{self.node}" if self.node else self.location

    def open_store(self, mode: Literal["r", "w"] = "r") -> Store:
        """The store at ``location``: read-only for ``mode="r"``, writable for ``mode="w"``."""
        if mode == "r":
            return self._open_for_reading()
        return self._open_for_writing()

    def _open_for_reading(self) -> Store:
        if self.is_url:
            return as_store(self.location)
        if not os.path.exists(self.location):
            raise StoreError("no such file or directory", location=self.location)
        if self.is_zip or os.path.isfile(self.location):
            return ZipStore(self.location, mode="r")
        return LocalStore(self.location, read_only=True)

    def _open_for_writing(self) -> Store:
        if self.is_url:
            raise ReadOnlyError(f"cannot write to {self.location}: HTTP stores are read-only")
        if self.is_zip:
            return ZipStore(self.location, mode="a" if os.path.exists(self.location) else "w")
        if os.path.isfile(self.location):
            raise StoreError("expected a directory or a .zip file, found another file", location=self.location)
        return LocalStore(self.location)


def _split_index(text: str) -> int:
    """Where the ``::`` separating location and node is, or -1 (an IPv6 host ``[::1]`` is not one)."""
    start = 0
    if text.lower().startswith(("http://", "https://")):
        host_end = text.find("]")
        if text.find("[") != -1 and host_end != -1:
            start = host_end
    return text.find(NODE_SEPARATOR, start)


def parse_target(text: str) -> Target:
    """Split ``LOCATION[::NODE]``; the node path is validated (no '..', no empty segments)."""
    index = _split_index(text)
    if index == -1:
        location, node = text, ""
    else:
        location, node = text[:index], text[index + len(NODE_SEPARATOR) :]
    if not location:
        raise StoreError(f"target {text!r} names no store location")
    return Target(location=location, node=_paths.normalize_path(node))


async def close_store(store: Store) -> None:
    """Close a store; a zip archive being written is written now (in a worker thread)."""
    if isinstance(store, ZipStore):
        await store.aclose()
    else:
        await store.close()
