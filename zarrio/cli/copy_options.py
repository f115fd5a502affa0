"""Parsing ``cp``'s layout options: ``--chunks``, ``--shards`` and ``--codecs``.

``--chunks 100,100`` and ``--shards 1000,1000`` are comma-separated extents
(``--shards none`` removes sharding). ``--codecs`` is either a JSON codec list
(zarr.json objects) or a comma-separated shorthand of filters and compressors:

    none               no compression (only the bytes serializer)
    zstd[:LEVEL]       zstd, e.g. zstd:5
    gzip[:LEVEL]       gzip, e.g. gzip:6
    blosc[:CNAME[:CLEVEL[:SHUFFLE]]]   e.g. blosc:lz4:5:shuffle
    crc32c             a checksum (put it last)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .usage import UsageError

__all__ = ["LayoutOptions", "parse_codecs_option", "parse_extents_option"]


@dataclass(frozen=True)
class LayoutOptions:
    """What ``cp`` changes: ``None`` keeps the source's choice."""

    chunks: tuple[int, ...] | None = None
    shards: tuple[int, ...] | None = None
    unshard: bool = False
    codecs: list[dict[str, Any]] | None = None

    @property
    def changes_layout(self) -> bool:
        return self.chunks is not None or self.shards is not None or self.unshard or self.codecs is not None


def parse_extents_option(text: str, option: str) -> tuple[int, ...]:
    """``"100, 100"`` -> ``(100, 100)``; every extent a positive integer."""
    parts = [p.strip() for p in text.strip().strip("()[]").split(",")]
    if parts and not parts[-1]:
        parts.pop()
    try:
        extents = tuple(int(p) for p in parts)
    except ValueError:
        raise UsageError(f"{option} expects comma-separated positive integers, got {text!r}") from None
    if not extents or any(e < 1 for e in extents):
        raise UsageError(f"{option} expects comma-separated positive integers, got {text!r}")
    return extents


def _int_field(value: str, codec: str, field: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"--codecs: {codec} {field} must be an integer, got {value!r}") from None


def _shorthand_codec(text: str) -> list[dict[str, Any]]:
    name, *params = [p.strip() for p in text.split(":")]
    if name == "none" and not params:
        return []
    if name == "crc32c" and not params:
        return [{"name": "crc32c"}]
    if name in ("zstd", "gzip") and len(params) <= 1:
        config: dict[str, Any] = {"level": _int_field(params[0], name, "level")} if params else {}
        if name == "zstd":
            config.setdefault("level", 0)
            config["checksum"] = False
        return [{"name": name, "configuration": config}]
    if name == "blosc" and len(params) <= 3:
        config = {}
        for field, value in zip(("cname", "clevel", "shuffle"), params, strict=False):
            config[field] = _int_field(value, name, field) if field == "clevel" else value
        return [{"name": "blosc", "configuration": config}]
    raise UsageError(
        f"--codecs: cannot understand {text!r}; use none, zstd[:LEVEL], gzip[:LEVEL], "
        "blosc[:CNAME[:CLEVEL[:SHUFFLE]]], crc32c, or a JSON list of codecs"
    )


def parse_codecs_option(text: str) -> list[dict[str, Any]]:
    """The codec list for ``--codecs``: a JSON list, or the shorthand described above."""
    stripped = text.strip()
    if stripped.startswith(("[", "{")):
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError as e:
            raise UsageError(f"--codecs: invalid JSON ({e.msg} at character {e.pos})") from None
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(c, dict | str) for c in items):
            raise UsageError('--codecs: a JSON codec list holds objects like {"name": "zstd"}')
        return [c if isinstance(c, dict) else {"name": c} for c in items]
    if not stripped:
        raise UsageError("--codecs needs a value (use 'none' for no compression)")
    codecs: list[dict[str, Any]] = []
    for part in stripped.split(","):
        codecs.extend(_shorthand_codec(part))
    return codecs
