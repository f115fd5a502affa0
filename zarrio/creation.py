"""Turning ``create(...)`` arguments into array metadata.

Accepts what users write (numpy dtypes, Python fill values, codec objects)
and what ``zarr.json`` holds (data_type JSON, fill value JSON, codec JSON),
and produces the exact codec list and chunk grid to store.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, cast

from ._config import config
from .codecs import ArrayArrayCodec, ArrayBytesCodec, Codec, ShardingCodec, codec_from_json
from .errors import MetadataError
from .metadata import ArrayMetadata, DataType, create_array_metadata, parse_data_type
from .metadata.chunk_grids import ChunkGrid, RegularChunkGrid, chunk_grid_from_user, is_rectilinear_spec
from .metadata.defaults import DEFAULT_COMPRESSOR, default_serializer

__all__ = ["build_array_metadata", "codecs_from_parts", "default_chunks", "default_compressors"]

#: default chunks aim at about this many bytes
TARGET_CHUNK_BYTES = 1 << 20


def default_chunks(shape: Sequence[int], itemsize: int) -> tuple[int, ...]:
    """Chunks for an array created without ``chunks``: about 1 MiB, halving the largest dimension."""
    chunks = [max(1, s) for s in shape]
    while math.prod(chunks) * max(itemsize, 1) > TARGET_CHUNK_BYTES and max(chunks) > 1:
        i = chunks.index(max(chunks))
        chunks[i] = math.ceil(chunks[i] / 2)
    return tuple(chunks)


def _as_shape(value: int | Sequence[int], name: str) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,)
    try:
        out = tuple(int(v) for v in value)
    except (TypeError, ValueError) as e:
        raise MetadataError(f"{name} must be an int or a sequence of ints, not {value!r}", field=name) from e
    return out


def _default_serializer(dtype: DataType) -> ArrayBytesCodec:
    return codec_from_json(default_serializer(dtype))  # type: ignore[return-value]


def default_compressors() -> list[Any]:
    """The compressors of an array created without any: ``zarrio.config``'s ``array.compressors``,
    else zstd level 0 (zarr-python's default)."""
    configured = config.get("array.compressors")
    if configured is None:
        return [codec_from_json(DEFAULT_COMPRESSOR)]
    return list(_as_list(configured))


def _as_list(value: Any) -> Sequence[Any]:
    """One codec, a JSON dict or a sequence of them, as a sequence."""
    if value is None:
        return []
    if isinstance(value, Mapping | Codec | str):
        return [value]
    return list(value)


def codecs_from_parts(filters: Any = "auto", serializer: Any = "auto", compressors: Any = "auto") -> list[Any] | None:
    """zarr-python's ``filters=``/``serializer=``/``compressors=`` as one codec list (``None``: every
    part left at ``"auto"``, so the defaults apply). ``None`` for a part means none of it; the
    serializer, when ``"auto"``, is filled in from the data type."""
    if all(isinstance(p, str) and p == "auto" for p in (filters, serializer, compressors)):
        return None
    out: list[Any] = [] if filters is None or filters == "auto" else list(_as_list(filters))
    if not (isinstance(serializer, str) and serializer == "auto") and serializer is not None:
        out.append(serializer)
    out.extend(
        default_compressors() if isinstance(compressors, str) and compressors == "auto" else _as_list(compressors)
    )
    return out


def _complete_codecs(codecs: Sequence[Any] | None, dtype: DataType) -> list[Codec]:
    """Build codec objects; insert the array-to-bytes codec when only filters and compressors were given."""
    items = [codec_from_json(c) for c in (codecs if codecs is not None else default_compressors())]
    if any(isinstance(c, ArrayBytesCodec) for c in items):
        return items
    n_filters = sum(isinstance(c, ArrayArrayCodec) for c in items)
    return [*items[:n_filters], _default_serializer(dtype), *items[n_filters:]]


def build_array_metadata(
    shape: int | Sequence[int],
    dtype: Any,
    *,
    chunks: int | Sequence[int] | Sequence[int | Sequence[int]] | ChunkGrid | None = None,
    shards: int | Sequence[int] | Sequence[int | Sequence[int]] | ChunkGrid | None = None,
    codecs: Sequence[Any] | None = None,
    fill_value: Any = None,
    attributes: dict[str, Any] | None = None,
    dimension_names: Sequence[str | None] | None = None,
    chunk_key_encoding: Any = None,
) -> ArrayMetadata:
    """The metadata of a new array, from user-friendly arguments.

    ``chunks`` (or ``shards``) with a sequence of edges on some axis, ``[[10, 20, 5], [8, 8]]``
    (an int among them: a regular axis), or a :class:`~zarrio.metadata.chunk_grids.RectilinearChunkGrid`,
    make a rectilinear chunk grid; explicit edges must sum to the extent. Varying shards take
    regular inner ``chunks`` that divide every shard edge."""
    shape_t = _as_shape(shape, "shape")
    data_type = parse_data_type(dtype)
    itemsize = data_type.numpy_dtype.itemsize if not data_type.is_variable_length else 16
    items = _complete_codecs(codecs, data_type)
    if is_rectilinear_spec(chunks):
        if shards is not None:
            raise MetadataError(
                "chunks of varying sizes cannot be sharded: inner chunks are regular (give varying shards instead)",
                field="chunks",
            )
        varying = chunk_grid_from_user(chunks, shape_t)
        return _metadata(
            shape_t, data_type, varying, items, fill_value, attributes, dimension_names, chunk_key_encoding
        )
    if isinstance(chunks, RegularChunkGrid):
        chunks = chunks.chunk_shape
    regular = cast("int | Sequence[int] | None", chunks)
    chunk_t = _as_shape(regular, "chunks") if regular is not None else default_chunks(shape_t, itemsize)
    grid: tuple[int, ...] | ChunkGrid = chunk_t
    if is_rectilinear_spec(shards):
        grid = chunk_grid_from_user(shards, shape_t)
        for axis, inner in enumerate(chunk_t):
            odd = sorted(edge for edge in grid.distinct_edges(axis) if edge % inner)
            if odd:
                raise MetadataError(
                    f"shard edge {odd[0]} on axis {axis} is not a multiple of the chunk size {inner}", field="shards"
                )
        items = [ShardingCodec(chunk_shape=chunk_t, codecs=items)]
    elif shards is not None:
        shard_t = _as_shape(cast("int | Sequence[int]", shards), "shards")
        if len(shard_t) != len(chunk_t) or any(s % c for s, c in zip(shard_t, chunk_t, strict=True)):
            raise MetadataError(
                f"shards {shard_t} must be a multiple of chunks {chunk_t} in every dimension", field="shards"
            )
        items = [ShardingCodec(chunk_shape=chunk_t, codecs=items)]
        grid = shard_t
    return _metadata(shape_t, data_type, grid, items, fill_value, attributes, dimension_names, chunk_key_encoding)


def _metadata(
    shape: tuple[int, ...],
    data_type: DataType,
    grid: tuple[int, ...] | ChunkGrid,
    items: Sequence[Codec],
    fill_value: Any,
    attributes: dict[str, Any] | None,
    dimension_names: Sequence[str | None] | None,
    chunk_key_encoding: Any,
) -> ArrayMetadata:
    return create_array_metadata(
        shape=shape,
        dtype=data_type,
        chunks=grid,
        fill_value=fill_value,
        codecs=[c.to_json() for c in items],
        attributes=attributes,
        dimension_names=dimension_names,
        chunk_key_encoding=chunk_key_encoding if chunk_key_encoding is not None else "default",
    )
