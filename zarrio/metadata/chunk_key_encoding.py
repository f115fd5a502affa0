"""Chunk key encodings: how chunk grid coordinates become store keys.

========  =========  ==============  =============
name      separator  coords (1, 2)   rank 0
========  =========  ==============  =============
default   ``/``      ``c/1/2``       ``c``
default   ``.``      ``c.1.2``       ``c``
v2        ``.``      ``1.2``         ``0``
v2        ``/``      ``1/2``         ``0``
========  =========  ==============  =============

The separator defaults to ``/`` for ``default`` and ``.`` for ``v2`` (also when
zarr.json gives the name without a configuration, as tensorstore writes it).
:meth:`ChunkKeyEncoding.to_json` always writes the configuration, as zarr-python does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from ..errors import MetadataError, UnsupportedError

__all__ = ["ChunkKeyEncoding", "parse_chunk_key_encoding"]

FIELD = "chunk_key_encoding"
_DEFAULT_SEPARATOR = {"default": "/", "v2": "."}


@dataclass(frozen=True)
class ChunkKeyEncoding:
    name: Literal["default", "v2"] = "default"
    separator: Literal["/", "."] = "/"

    def __post_init__(self) -> None:
        if self.name not in _DEFAULT_SEPARATOR:
            raise UnsupportedError(f"unknown chunk key encoding {self.name!r}", field=FIELD)
        if self.separator not in ("/", "."):
            raise MetadataError(f"separator must be '/' or '.', got {self.separator!r}", field=FIELD)

    def encode(self, coords: tuple[int, ...]) -> str:
        """The store key (relative to the array) of the chunk at grid position ``coords``."""
        if self.name == "default":
            return "c" + self.separator + self.separator.join(map(str, coords)) if coords else "c"
        return self.separator.join(map(str, coords)) if coords else "0"

    def key_function(self, prefix: str = "") -> Callable[[tuple[int, ...]], str]:
        """``prefix + encode(coords)`` as one call per key (the engine makes a key per chunk)."""
        sep = self.separator
        head = prefix + ("c" + sep if self.name == "default" else "")
        rank0 = prefix + ("c" if self.name == "default" else "0")
        join = sep.join

        def key(coords: tuple[int, ...]) -> str:
            return head + join(map(str, coords)) if coords else rank0

        return key

    def decode(self, key: str, ndim: int) -> tuple[int, ...] | None:
        """The grid coordinates of a chunk key, or ``None`` if ``key`` is not one of this array's chunk keys."""
        if self.name == "default":
            if key == "c":
                return () if ndim == 0 else None
            if not key.startswith("c" + self.separator):
                return None
            parts = key[2:].split(self.separator)
        else:
            if ndim == 0:
                return () if key == "0" else None
            parts = key.split(self.separator)
        if len(parts) != ndim or not all(_is_canonical_index(part) for part in parts):
            return None
        return tuple(int(part) for part in parts)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "configuration": {"separator": self.separator}}


def parse_chunk_key_encoding(obj: object) -> ChunkKeyEncoding:
    """From ``"default"``, ``"v2"``, a zarr.json object or a :class:`ChunkKeyEncoding`."""
    if isinstance(obj, ChunkKeyEncoding):
        return obj
    config: Mapping[str, Any] = {}
    if isinstance(obj, str):
        name = obj
    elif isinstance(obj, Mapping):
        raw_name = obj.get("name")
        config = obj.get("configuration", {})
        if not isinstance(raw_name, str):
            raise MetadataError(f"name must be a string, got {raw_name!r}", field=FIELD)
        name = raw_name
        if not isinstance(config, Mapping):
            raise MetadataError("configuration must be an object", field=FIELD)
    else:
        raise MetadataError(f"expected a string or an object, got {type(obj).__name__}", field=FIELD)
    if name not in _DEFAULT_SEPARATOR:
        raise UnsupportedError(f"unknown chunk key encoding {name!r}", field=FIELD)
    separator = config.get("separator", _DEFAULT_SEPARATOR[name])
    if separator not in ("/", "."):
        raise MetadataError(f"separator must be '/' or '.', got {separator!r}", field=FIELD)
    return _cached(name, separator)


def _is_canonical_index(text: str) -> bool:
    return text.isascii() and text.isdigit() and (text == "0" or not text.startswith("0"))


_INSTANCES: dict[tuple[str, str], ChunkKeyEncoding] = {}


def _cached(name: str, separator: str) -> ChunkKeyEncoding:
    key = (name, separator)
    found = _INSTANCES.get(key)
    if found is None:
        found = ChunkKeyEncoding(cast(Literal["default", "v2"], name), cast(Literal["/", "."], separator))
        _INSTANCES[key] = found
    return found
