"""The async surface: the same functions as :mod:`zarrio`, as coroutines.

Use these inside your own event loop (a web service, a tile server)::

    a = await zarrio.aio.open(store, path="temperature")
    tile = await a.getitem((slice(0, 256), slice(0, 256)))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from . import _paths
from ._runtime import gather_typed
from .array import AsyncArray
from .creation import build_array_metadata
from .errors import InvalidKeyError, MetadataError, NodeNotFoundError, ReadOnlyError
from .group import AsyncGroup, consolidate, create_array_node, create_group_node, read_node_metadata
from .metadata import ArrayMetadata, ConsolidatedMetadata, GroupMetadata
from .stores import Store, as_store

__all__ = [
    "AsyncArray",
    "AsyncGroup",
    "consolidate_metadata",
    "create",
    "create_array",
    "create_group",
    "delete_node",
    "open",
    "open_array",
    "open_group",
]

Mode = Literal["r", "r+", "a", "w", "w-"]


def _read_only(mode: str) -> bool:
    if mode not in ("r", "r+", "a", "w", "w-"):
        raise ValueError(f"mode must be one of 'r', 'r+', 'a', 'w', 'w-', not {mode!r}")
    return mode == "r"


async def open(
    store: Any,
    *,
    path: str = "",
    mode: Mode = "a",
    use_consolidated: bool = True,
    write_empty_chunks: bool = False,
    strict: bool = False,
    max_read_bytes: int | None = None,
) -> AsyncArray | AsyncGroup:
    """Open the array or group at ``path`` (one store read).

    ``mode="r"`` opens read-only. ``use_consolidated=False`` ignores
    consolidated metadata held by a group. ``strict=True`` makes a missing
    chunk an error instead of reading as the fill value. ``max_read_bytes``
    bounds one read's result (and one chunk): larger requests raise
    ResourceLimitError before allocating (default: physical memory, at most 64 GiB).
    """
    st = as_store(store)
    path = _paths.normalize_path(path)
    read_only = _read_only(mode)
    meta = await read_node_metadata(st, path)
    if meta is None:
        raise NodeNotFoundError(path)
    options: dict[str, Any] = {
        "write_empty_chunks": write_empty_chunks,
        "strict": strict,
        "max_read_bytes": max_read_bytes,
    }
    if isinstance(meta, ArrayMetadata):
        return AsyncArray(st, path, meta, read_only=read_only, **options)
    return AsyncGroup(st, path, meta, read_only=read_only, use_consolidated=use_consolidated, node_options=options)


async def open_array(store: Any, *, path: str = "", mode: Mode = "a", **options: Any) -> AsyncArray:
    """Open the array at ``path``; a group there is a NodeNotFoundError."""
    node = await open(store, path=path, mode=mode, **options)
    if not isinstance(node, AsyncArray):
        raise NodeNotFoundError(node.path, f"the node at {node.path!r} is a group, not an array")
    return node


async def open_group(
    store: Any, *, path: str = "", mode: Mode = "a", use_consolidated: bool = True, **options: Any
) -> AsyncGroup:
    """Open the group at ``path``; in modes ``"a"``/``"w"`` a missing group is created."""
    st = as_store(store)
    try:
        node = await open(st, path=path, mode=mode, use_consolidated=use_consolidated, **options)
    except NodeNotFoundError:
        if mode in ("r", "r+"):
            raise
        return await create_group(st, path=path)
    if not isinstance(node, AsyncGroup):
        raise NodeNotFoundError(node.path, f"the node at {node.path!r} is an array, not a group")
    return node


async def create(
    store: Any,
    shape: int | Sequence[int] | None = None,
    dtype: Any = None,
    *,
    path: str = "",
    chunks: int | Sequence[int] | None = None,
    shards: int | Sequence[int] | None = None,
    codecs: Sequence[Any] | None = None,
    fill_value: Any = None,
    attributes: dict[str, Any] | None = None,
    dimension_names: Sequence[str | None] | None = None,
    chunk_key_encoding: Any = None,
    order: Literal["C", "F"] | None = None,
    write_empty_chunks: bool = False,
    overwrite: bool = False,
) -> AsyncArray:
    """Create an array at ``path`` (missing parent groups are created).

    ``codecs`` is the complete codec list (with its array-to-bytes codec, e.g.
    a ``sharding_indexed`` one) or only filters and compressors (a ``bytes``
    serializer is inserted; ``shards=`` wraps them in sharding). Codecs may be
    codec objects or their zarr.json objects. ``order`` is accepted for
    compatibility: arrays are always returned in C order.
    """
    if shape is None or dtype is None:
        raise MetadataError("create() needs a shape and a dtype", field="shape" if shape is None else "data_type")
    if order not in (None, "C", "F"):
        raise MetadataError(f"order must be 'C' or 'F', not {order!r}", field="order")
    st = as_store(store)
    path = _paths.normalize_path(path)
    meta = build_array_metadata(
        shape,
        dtype,
        chunks=chunks,
        shards=shards,
        codecs=codecs,
        fill_value=fill_value,
        attributes=attributes,
        dimension_names=dimension_names,
        chunk_key_encoding=chunk_key_encoding,
    )
    return await create_array_node(st, path, meta, overwrite=overwrite, write_empty_chunks=write_empty_chunks)


create_array = create


async def create_group(
    store: Any, *, path: str = "", attributes: dict[str, Any] | None = None, overwrite: bool = False
) -> AsyncGroup:
    """Create a group at ``path`` (missing parent groups are created)."""
    return await create_group_node(as_store(store), _paths.normalize_path(path), attributes, overwrite=overwrite)


async def consolidate_metadata(store: Any, path: str = "") -> AsyncGroup:
    """Inline every node's metadata below the group at ``path`` into its zarr.json
    (zarr-python's v3 inline form). A snapshot: re-run it after changing the hierarchy."""
    st = as_store(store)
    meta = await consolidate(st, path)
    return AsyncGroup(st, _paths.normalize_path(path), meta)


async def delete_node(store: Any, path: str) -> None:
    """Remove the node at ``path`` and everything below it.

    Ancestors holding consolidated metadata that lists the node are updated.
    """
    st = as_store(store)
    path = _paths.normalize_path(path)
    if not path:
        raise InvalidKeyError("the root group cannot be deleted; erase the store's contents instead", key="")
    if st.read_only:
        raise ReadOnlyError(f"{st!r} is read-only")
    if await read_node_metadata(st, path) is None:
        raise NodeNotFoundError(path)
    # the node's zarr.json goes first: an interrupted delete leaves orphan chunks, never a node
    # whose missing chunks would read as fill values
    await st.erase(_paths.meta_key(path))
    await st.erase_prefix(_paths.prefix_of(path))
    await _drop_from_consolidated(st, path)


async def _drop_from_consolidated(st: Store, path: str) -> None:
    ancestors = _paths.parent_paths(path)
    metas = await gather_typed(read_node_metadata(st, p) for p in ancestors)
    for anc, meta in zip(ancestors, metas, strict=True):
        if not isinstance(meta, GroupMetadata) or meta.consolidated_metadata is None:
            continue
        rel = path[len(anc) + 1 :] if anc else path
        entries = meta.consolidated_metadata.metadata
        kept = {k: v for k, v in entries.items() if k != rel and not k.startswith(rel + "/")}
        if len(kept) != len(entries):
            new = meta.update(consolidated_metadata=ConsolidatedMetadata(metadata=kept))
            await st.set(_paths.meta_key(anc), new.to_bytes())
