"""Node paths inside a store: ``""`` is the root, ``"a/b"`` a nested node."""

from __future__ import annotations

from .errors import InvalidKeyError

__all__ = ["NamedNode", "child_path", "meta_key", "normalize_path", "parent_paths", "prefix_of"]


def normalize_path(path: str | None) -> str:
    """Strip surrounding slashes and refuse '..', '.', empty segments and backslashes."""
    if path is None:
        return ""
    if not isinstance(path, str):
        raise InvalidKeyError(f"node paths are str, not {type(path).__name__}", key=repr(path))
    stripped = path.strip("/")
    if not stripped:
        return ""
    if "\\" in stripped or "\x00" in stripped:
        raise InvalidKeyError("node paths may not contain backslashes or NUL", key=path)
    for seg in stripped.split("/"):
        if seg in ("", ".", ".."):
            raise InvalidKeyError("node paths may not have empty, '.' or '..' segments", key=path)
    return stripped


def prefix_of(path: str) -> str:
    """The key prefix of a node's contents: ``""`` for the root, else ``"path/"``."""
    return f"{path}/" if path else ""


def meta_key(path: str) -> str:
    """The key of a node's zarr.json."""
    return f"{prefix_of(path)}zarr.json"


def child_path(parent: str, name: str) -> str:
    return normalize_path(f"{parent}/{name}" if parent else name)


def parent_paths(path: str) -> list[str]:
    """Every ancestor of ``path``, root first (``"a/b/c"`` -> ``["", "a", "a/b"]``)."""
    if not path:
        return []
    parts = path.split("/")
    return [""] + ["/".join(parts[:i]) for i in range(1, len(parts))]


class NamedNode:
    """The names of a node at ``path``: ``name`` (``"/a/b"``) and ``basename`` (``"b"``)."""

    path: str

    @property
    def name(self) -> str:
        return "/" + self.path

    @property
    def basename(self) -> str:
        return self.path.rsplit("/", 1)[-1]
