"""Planning a copy: which nodes to create at the destination, with which layout.

Without layout options an array is copied verbatim: the same zarr.json and the
stored chunk objects byte for byte. With ``--chunks``/``--shards``/``--codecs``
it is re-encoded: the destination keeps the source's data type, fill value,
attributes, dimension names and chunk key encoding, and changes only the layout.
A Zarr v2 source becomes Zarr v3: verbatim, its chunks under the codecs and v2 chunk keys
that read them; re-encoded, with v3's default chunk keys; xarray's ``_ARRAY_DIMENSIONS``
attribute becomes ``dimension_names``.
A rectilinear chunk grid (chunks or shards of varying sizes) is kept by a verbatim copy and by
a re-encoding one that does not replace it; ``--chunks`` makes the chunks regular, ``--shards``
the shards (keeping varying shards takes inner chunks that divide every shard edge).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from .. import _paths, aio
from ..array import AsyncArray
from ..errors import NodeExistsError
from ..group import AsyncGroup, read_node_metadata
from ..metadata import GroupMetadata
from ..metadata.chunk_grids import ChunkGrid
from ..stores import Store
from .copy_options import LayoutOptions
from .target import Target
from .usage import UsageError

#: xarray's dimension names of a Zarr v2 array, a v3 copy's ``dimension_names``
DIMENSIONS_ATTRIBUTE = "_ARRAY_DIMENSIONS"

__all__ = ["ArrayCopy", "check_not_overlapping", "create_destination", "destination_layout"]


@dataclass(frozen=True)
class ArrayCopy:
    """One array to copy: ``verbatim`` copies stored objects, else data is re-encoded."""

    source: AsyncArray
    destination: AsyncArray
    verbatim: bool


def _overlaps(a: str, b: str) -> bool:
    return not a or not b or a == b or a.startswith(b + "/") or b.startswith(a + "/")


def check_not_overlapping(source: Target, destination: Target) -> None:
    """Refuse a copy whose destination is its source, or inside it (or around it)."""
    if source.is_url or destination.is_url:
        return
    if os.path.realpath(source.location) != os.path.realpath(destination.location):
        return
    if _overlaps(source.node, destination.node):
        raise UsageError(f"source {source} and destination {destination} overlap; copy to another node or store")


def _fits(shards: tuple[int, ...] | ChunkGrid, chunks: tuple[int, ...]) -> bool:
    """Whether ``chunks`` divide every shard edge (of a shard shape, or of a grid of varying shards)."""
    if isinstance(shards, tuple):
        return len(shards) == len(chunks) and all(s % c == 0 for s, c in zip(shards, chunks, strict=True))
    return shards.ndim == len(chunks) and all(
        edge % c == 0 for axis, c in enumerate(chunks) for edge in shards.distinct_edges(axis)
    )


def _edges(grid: ChunkGrid) -> str:
    return str([sorted(grid.distinct_edges(axis)) for axis in range(grid.ndim)])


def _inner_codecs(source: AsyncArray) -> list[dict[str, Any]]:
    """The source's codecs for one innermost chunk: sharding codecs (nested ones too) replaced by their contents."""
    codecs = list(source.codecs)
    while True:
        at = next((i for i, c in enumerate(codecs) if c.get("name") == "sharding_indexed"), None)
        if at is None:
            return codecs
        inner = list(codecs[at].get("configuration", {}).get("codecs", []))
        codecs = [*codecs[:at], *inner, *codecs[at + 1 :]]


def _rank_mismatch(option: str, extents: tuple[int, ...], source: AsyncArray) -> str:
    return f"{option} {list(extents)} has rank {len(extents)}, but array {source.name} has rank {source.ndim}"


def _source_chunks(source: AsyncArray, options: LayoutOptions) -> tuple[int, ...] | ChunkGrid:
    """The destination's (inner) chunks: ``--chunks``, else the source's (its grid when they vary)."""
    if options.chunks is not None:
        if len(options.chunks) != source.ndim:
            raise UsageError(_rank_mismatch("--chunks", options.chunks, source))
        return options.chunks
    if source.metadata.is_regular or _varying_shards(source) is not None:
        return source.chunks  # regular chunks, or the regular inner chunks of varying shards
    if options.shards is not None:
        raise UsageError(
            f"array {source.name} has chunks of varying sizes {_edges(source.metadata.chunk_grid)}: "
            "pass --chunks for the inner chunks of --shards"
        )
    return source.metadata.chunk_grid


def _varying_shards(source: AsyncArray) -> ChunkGrid | None:
    """The grid of a sharded array whose shards vary in size, else None."""
    if source.metadata.is_regular or not any(c.get("name") == "sharding_indexed" for c in source.codecs):
        return None
    return source.metadata.chunk_grid


def destination_layout(source: AsyncArray, options: LayoutOptions) -> dict[str, Any]:
    """``chunks``, ``shards`` and ``codecs`` arguments of :func:`zarrio.aio.create` for a re-encoded copy
    (a chunk grid object where the source's chunks or shards of varying sizes are kept)."""
    chunks = _source_chunks(source, options)
    shards: tuple[int, ...] | ChunkGrid | None
    if options.unshard or not isinstance(chunks, tuple):
        shards = None
    elif options.shards is not None:
        shards = options.shards
        if len(shards) != source.ndim:
            raise UsageError(_rank_mismatch("--shards", shards, source))
    else:
        shards = source.shards if source.metadata.is_regular else _varying_shards(source)
        if shards is not None and not _fits(shards, chunks):
            kept = list(shards) if isinstance(shards, tuple) else f"of varying sizes {_edges(shards)}"
            raise UsageError(
                f"array {source.name} has shards {kept}, which chunks {list(chunks)} do not divide: "
                "pass --shards (or --shards none)"
            )
    if isinstance(shards, tuple) and isinstance(chunks, tuple) and not _fits(shards, chunks):
        raise UsageError(f"shards {list(shards)} must be a multiple of chunks {list(chunks)} in every dimension")
    codecs = options.codecs if options.codecs is not None else _inner_codecs(source)
    return {"chunks": chunks, "shards": shards, "codecs": codecs}


async def _create_array(store: Store, path: str, source: AsyncArray, layout: dict[str, Any] | None) -> ArrayCopy:
    """Create the destination of ``source``: verbatim when ``layout`` is ``None``, else with that layout."""
    meta = source.metadata
    common: dict[str, Any] = {
        "path": path,
        "fill_value": meta.fill_value,
        "attributes": dict(meta.attributes),
        "dimension_names": meta.dimension_names,
        "chunk_key_encoding": meta.chunk_key_encoding,
    }
    if meta.zarr_format == 2:
        common.update(v2_to_v3(meta, reencoded=layout is not None))
    if layout is None:
        await aio.create(store, meta.shape, meta.data_type, chunks=meta.chunk_grid, codecs=list(meta.codecs), **common)
        if meta.zarr_format == 2:  # Zarr v2 -> v3: the v2 chunks under the codecs that read them
            return ArrayCopy(source, await AsyncArray.open(store, path), verbatim=True)
        # the exact source document (extension fields and all), so the stored chunks stay valid byte for byte
        await store.set(_paths.meta_key(path), meta.to_bytes())
        return ArrayCopy(source, AsyncArray(store, path, meta), verbatim=True)
    destination = await aio.create(store, meta.shape, meta.data_type, **layout, **common)
    return ArrayCopy(source, destination, verbatim=False)


def v2_to_v3(meta: Any, *, reencoded: bool) -> dict[str, Any]:
    """What a Zarr v3 copy of a v2 array changes: xarray's ``_ARRAY_DIMENSIONS`` attribute becomes
    ``dimension_names``; a re-encoded copy gets v3's default chunk keys (a verbatim one keeps the
    v2 keys, so the chunks are copied as they are)."""
    attributes = dict(meta.attributes)
    names = attributes.get(DIMENSIONS_ATTRIBUTE)
    changes: dict[str, Any] = {}
    if isinstance(names, list) and len(names) == len(meta.shape) and all(isinstance(n, str) for n in names):
        del attributes[DIMENSIONS_ATTRIBUTE]
        changes = {"attributes": attributes, "dimension_names": names}
    if reencoded:
        changes["chunk_key_encoding"] = "default"
    return changes


async def _source_nodes(source: AsyncArray | AsyncGroup) -> list[tuple[str, AsyncArray | GroupMetadata]]:
    """Every node to copy, parents first, keyed by path relative to the source."""
    if isinstance(source, AsyncArray):
        return [("", source)]
    nodes: list[tuple[str, AsyncArray | GroupMetadata]] = [("", source.metadata)]
    for rel, meta in (await source.walk()).items():
        if isinstance(meta, GroupMetadata):
            nodes.append((rel, meta))
        else:
            node = await source.getitem(rel)
            assert isinstance(node, AsyncArray)
            nodes.append((rel, node))
    return nodes


async def create_destination(
    source: AsyncArray | AsyncGroup, store: Store, target: Target, options: LayoutOptions, *, overwrite: bool
) -> list[ArrayCopy]:
    """Create the destination hierarchy (groups with their attributes, empty arrays); return the arrays to fill.

    Every array's new layout is checked before anything is written.
    """
    nodes = await _source_nodes(source)
    layouts = {
        rel: destination_layout(node, options) if options.changes_layout else None
        for rel, node in nodes
        if isinstance(node, AsyncArray)
    }
    root = target.node
    if await read_node_metadata(store, root) is not None:
        if not overwrite:
            raise NodeExistsError(root, f"{target} already exists (pass --overwrite to replace it)")
        await store.erase_prefix(_paths.prefix_of(root))
    copies: list[ArrayCopy] = []
    for rel, node in nodes:
        path = _paths.child_path(root, rel) if rel else root
        if isinstance(node, AsyncArray):
            copies.append(await _create_array(store, path, node, layouts[rel]))
        else:
            await aio.create_group(store, path=path, attributes=dict(node.attributes))
    return copies
