"""The rules the open and create functions share for their arguments: what a store argument
becomes, what a mode means for a store, ``zarr_format=``, and zarr-python's array ``config=``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal, TypeAlias

from ._config import config as settings
from .errors import MetadataError, UnsupportedError
from .stores import MemoryStore, Store, as_store

__all__ = ["ArrayConfig", "Mode", "StoreLike", "resolve_store"]

Mode = Literal["r", "r+", "a", "w", "w-"]
#: what a store argument may be: a Store, a path, or a URL (``None``: a fresh MemoryStore)
StoreLike: TypeAlias = "Store | str | os.PathLike[str] | None"
#: zarr-python's ``config=`` of an array: ``{"write_empty_chunks": ..., "order": ...}``
ArrayConfig: TypeAlias = Mapping[str, Any]


def _check_mode(mode: str) -> bool:
    """Whether ``mode`` opens read-only; an unknown mode is a MetadataError."""
    if mode not in ("r", "r+", "a", "w", "w-"):
        raise MetadataError(f"mode must be one of 'r', 'r+', 'a', 'w', 'w-', not {mode!r}", field="mode")
    return mode == "r"


def resolve_store(store: StoreLike, *, mode: str = "a", storage_options: Mapping[str, Any] | None = None) -> Store:
    """The store for a store argument (``None``: a fresh MemoryStore, as in zarr-python)."""
    if store is None:
        if storage_options:
            raise MetadataError("storage_options need a store URL", field="storage_options")
        return MemoryStore()
    return as_store(store, read_only=_check_mode(mode), storage_options=storage_options)


def _effective_mode(store: Store, mode: Mode) -> Mode:
    """Mode ``"a"`` on a read-only store (HTTP, a zip being read) is ``"r"``, as in zarr-python:
    a missing node is then a NodeNotFoundError, not a failed attempt to create it."""
    return "r" if mode == "a" and store.read_only else mode


def _check_format(zarr_format: int | None) -> None:
    if zarr_format not in (None, 2, 3):
        raise UnsupportedError(
            f"zarr_format={zarr_format!r}: zarrio reads and writes Zarr v2 and v3", field="zarr_format"
        )


def _array_options(write_empty_chunks: bool | None, config: ArrayConfig | None) -> bool:
    """The effective write_empty_chunks, from the argument, zarr-python's ``config=`` and zarrio.config."""
    extra = dict(config or {})
    unknown = set(extra) - {"write_empty_chunks", "order"}
    if unknown:
        raise MetadataError(f"unknown array config keys {sorted(unknown)}", field="config")
    if write_empty_chunks is None:
        write_empty_chunks = extra.get("write_empty_chunks")
    if write_empty_chunks is None:
        write_empty_chunks = settings.get("array.write_empty_chunks")
    return bool(write_empty_chunks)
