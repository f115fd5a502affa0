"""What an array or group is, as facts: the ``info`` / ``info_complete()`` of the nodes and the
``zarrio info`` command share them. ``complete=True`` adds what the store holds (chunks stored,
bytes stored, ratio), which costs a listing."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import _paths
from .array import AsyncArray
from .codecs import ArrayArrayCodec, ArrayBytesCodec, Codec, ShardingCodec, codec_from_json
from .errors import ListingNotSupportedError, VaryingChunksError
from .group import AsyncGroup
from .metadata.v2_nodes import node_documents
from .stored import stored_stats
from .stores import store_location

__all__ = ["NodeInfo", "array_facts", "codec_parts", "group_facts", "info_html", "stored_bytes"]


async def array_facts(array: AsyncArray, *, complete: bool = True) -> dict[str, Any]:
    """The array's facts (``complete``: with the stored chunks and bytes, a store listing)."""
    meta = array.metadata
    facts: dict[str, Any] = {
        "node_type": "array",
        "zarr_format": meta.zarr_format,
        "path": array.name,
        "store": store_location(array.store),
        "read_only": array.read_only,
        "shape": list(array.shape),
        "data_type": meta.data_type.to_json(),
        "dtype": str(array.dtype),
        **_grid_facts(array),
        "chunk_key_encoding": meta.chunk_key_encoding.to_json(),
        "codecs": array.codecs,
        "fill_value": meta.data_type.fill_to_json(meta.fill_value),
        "dimension_names": list(array.dimension_names) if array.dimension_names is not None else None,
        "attributes": array.attrs,
        "nbytes": array.nbytes,
        "nchunks": meta.nchunks,
    }
    if complete:
        stats = await stored_stats(array.store, array)
        stored_bytes = stats.nbytes if stats is not None else None
        ratio = array.nbytes / stored_bytes if stored_bytes else None
        facts["nchunks_stored"] = stats.nchunks if stats is not None else None
        facts["stored_bytes"] = stored_bytes
        facts["compression_ratio"] = round(ratio, 4) if ratio is not None else None
    return facts


def _grid_facts(array: AsyncArray) -> dict[str, Any]:
    """``chunks`` and ``shards``: shapes, or for sizes that vary (a rectilinear grid) the sizes per axis."""
    if array.metadata.is_regular:
        return {"chunks": list(array.chunks), "shards": list(array.shards) if array.shards is not None else None}
    sizes = [list(axis) for axis in array.write_chunk_sizes]
    try:
        inner = list(array.chunks)  # shards of varying sizes hold regular inner chunks
    except VaryingChunksError:
        return {"chunks": sizes, "shards": None}
    return {"chunks": inner, "shards": sizes}


async def group_facts(group: AsyncGroup) -> dict[str, Any]:
    """The group's facts; ``arrays``/``groups`` are ``None`` when the store cannot list and nothing is consolidated."""
    try:
        members: list[tuple[str, AsyncArray | AsyncGroup]] | None = await group.members()
    except ListingNotSupportedError:
        members = None
    return {
        "node_type": "group",
        "zarr_format": group.metadata.zarr_format,
        "path": group.name,
        "store": store_location(group.store),
        "read_only": group.read_only,
        "attributes": group.attrs,
        "consolidated_metadata": group.metadata.consolidated_metadata is not None,
        "arrays": None if members is None else [name for name, node in members if isinstance(node, AsyncArray)],
        "groups": None if members is None else [name for name, node in members if isinstance(node, AsyncGroup)],
    }


_LABELS = {
    "node_type": "Type",
    "zarr_format": "Zarr format",
    "path": "Name",
    "store": "Store",
    "read_only": "Read-only",
    "shape": "Shape",
    "dtype": "Data type",
    "chunks": "Chunk shape",
    "shards": "Shard shape",
    "codecs": "Codecs",
    "fill_value": "Fill value",
    "dimension_names": "Dimensions",
    "nbytes": "No. bytes",
    "nchunks": "No. chunks",
    "nchunks_stored": "Chunks Initialized",
    "stored_bytes": "No. bytes stored",
    "compression_ratio": "Storage ratio",
    "consolidated_metadata": "Consolidated",
    "arrays": "Arrays",
    "groups": "Groups",
    "attributes": "Attributes",
}


@dataclass(frozen=True)
class NodeInfo:
    """``array.info`` / ``group.info``: prints as a table (like zarr-python's); ``facts`` holds the values."""

    facts: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.facts[key]

    def __str__(self) -> str:
        shown = {k: v for k, v in self.facts.items() if k in _LABELS}
        width = max(len(_LABELS[k]) for k in shown)
        return "\n".join(f"{_LABELS[k]:<{width}} : {_text(v)}" for k, v in shown.items())

    __repr__ = __str__


def _text(value: Any) -> str:
    if isinstance(value, list) and value and all(isinstance(v, int) for v in value):
        return "(" + ", ".join(str(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, str):
        return value.capitalize() if value in ("array", "group") else value
    return str(value)


def info_html(facts: dict[str, Any]) -> str:
    """The facts as an HTML table (notebooks' ``_repr_html_``)."""
    rows = "".join(
        f"<tr><th style='text-align:left'>{html.escape(_LABELS[k])}</th><td>{html.escape(_text(v))}</td></tr>"
        for k, v in facts.items()
        if k in _LABELS
    )
    return f"<table class='zarrio-info'>{rows}</table>"


def codec_parts(codecs: Sequence[Any]) -> tuple[tuple[Codec, ...], Codec | None, tuple[Codec, ...]]:
    """zarr-python's ``(filters, serializer, compressors)`` of a codec list; for a sharded array,
    those of its inner chunks (as zarr-python reports them)."""
    items = [codec_from_json(c) for c in codecs]
    if len(items) == 1 and isinstance(items[0], ShardingCodec):
        items = list(items[0].codecs)
    filters = tuple(c for c in items if isinstance(c, ArrayArrayCodec))
    serializer = next((c for c in items if isinstance(c, ArrayBytesCodec)), None)
    after = items.index(serializer) + 1 if serializer is not None else 0
    return filters, serializer, tuple(items[after:])


async def stored_bytes(array: AsyncArray) -> int:
    """Bytes stored for ``array``: its chunks (shards) and its zarr.json; a store that cannot tell
    chunk sizes (HTTP) is a ListingNotSupportedError."""
    stats = await stored_stats(array.store, array)
    if stats is None or stats.nbytes is None:
        raise ListingNotSupportedError(
            f"{array.store!r} cannot list keys or report their sizes, so the bytes stored are unknown"
        )
    prefix = _paths.prefix_of(array.path)
    metas = [await array.store.get(prefix + name) for name in node_documents(array.metadata)]
    return stats.nbytes + sum(len(meta) for meta in metas if meta is not None)
