"""zarr-python's ``zeros_like``, ``ones_like``, ``empty_like``, ``full_like`` and ``open_like``,
as coroutines: the shape, dtype, chunks (and fill value) of an existing array, unless given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._arguments import Mode, StoreLike
from ..array import AsyncArray
from ..metadata import DataType
from . import create_array, open_array

__all__ = ["empty_like", "full_like", "ones_like", "open_like", "zeros_like"]


def _like(a: Any, shape: Any, dtype: Any, chunks: Any) -> tuple[Any, Any, Any]:
    """The shape, dtype and chunks of ``a`` where not given."""
    shape = tuple(a.shape) if shape is None else shape
    if dtype is None:  # a zarrio array's own data type (complex_bfloat16 is a pair in NumPy: a struct there)
        data_type = getattr(getattr(a, "metadata", None), "data_type", None)
        dtype = data_type if isinstance(data_type, DataType) else np.dtype(a.dtype)
    if chunks is None:
        chunks = getattr(a, "chunks", None) if not isinstance(a, np.ndarray) else None
    return shape, dtype, chunks


def _like_fill(a: Any) -> Any:
    return getattr(a, "fill_value", None) if not isinstance(a, np.ndarray) else None


async def zeros_like(
    a: Any,
    *,
    store: StoreLike = None,
    shape: int | Sequence[int] | None = None,
    dtype: Any = None,
    name: str | None = None,
    path: str | None = None,
    chunks: Any = None,
    shards: int | Sequence[int] | None = None,
    filters: Any = "auto",
    compressors: Any = "auto",
    serializer: Any = "auto",
    codecs: Sequence[Any] | None = None,
    attributes: dict[str, Any] | None = None,
    dimension_names: Sequence[str | None] | None = None,
    chunk_key_encoding: Any = None,
    zarr_format: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    config: Mapping[str, Any] | None = None,
    write_empty_chunks: bool | None = None,
) -> AsyncArray:
    """Like :func:`zeros`, with the shape, dtype and chunks of ``a`` (a zarrio or NumPy array) unless given."""
    shape, dtype, chunks = _like(a, shape, dtype, chunks)
    return await create_array(
        store,
        shape,
        dtype,
        fill_value=0,
        name=name,
        path=path,
        chunks=chunks,
        shards=shards,
        filters=filters,
        compressors=compressors,
        serializer=serializer,
        codecs=codecs,
        attributes=attributes,
        dimension_names=dimension_names,
        chunk_key_encoding=chunk_key_encoding,
        zarr_format=zarr_format,
        storage_options=storage_options,
        overwrite=overwrite,
        config=config,
        write_empty_chunks=write_empty_chunks,
    )


async def ones_like(
    a: Any,
    *,
    store: StoreLike = None,
    shape: int | Sequence[int] | None = None,
    dtype: Any = None,
    name: str | None = None,
    path: str | None = None,
    chunks: Any = None,
    shards: int | Sequence[int] | None = None,
    filters: Any = "auto",
    compressors: Any = "auto",
    serializer: Any = "auto",
    codecs: Sequence[Any] | None = None,
    attributes: dict[str, Any] | None = None,
    dimension_names: Sequence[str | None] | None = None,
    chunk_key_encoding: Any = None,
    zarr_format: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    config: Mapping[str, Any] | None = None,
    write_empty_chunks: bool | None = None,
) -> AsyncArray:
    """Like :func:`ones`, with the shape, dtype and chunks of ``a`` unless given."""
    shape, dtype, chunks = _like(a, shape, dtype, chunks)
    return await create_array(
        store,
        shape,
        dtype,
        fill_value=1,
        name=name,
        path=path,
        chunks=chunks,
        shards=shards,
        filters=filters,
        compressors=compressors,
        serializer=serializer,
        codecs=codecs,
        attributes=attributes,
        dimension_names=dimension_names,
        chunk_key_encoding=chunk_key_encoding,
        zarr_format=zarr_format,
        storage_options=storage_options,
        overwrite=overwrite,
        config=config,
        write_empty_chunks=write_empty_chunks,
    )


async def empty_like(
    a: Any,
    *,
    store: StoreLike = None,
    shape: int | Sequence[int] | None = None,
    dtype: Any = None,
    fill_value: Any = None,
    name: str | None = None,
    path: str | None = None,
    chunks: Any = None,
    shards: int | Sequence[int] | None = None,
    filters: Any = "auto",
    compressors: Any = "auto",
    serializer: Any = "auto",
    codecs: Sequence[Any] | None = None,
    attributes: dict[str, Any] | None = None,
    dimension_names: Sequence[str | None] | None = None,
    chunk_key_encoding: Any = None,
    zarr_format: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    config: Mapping[str, Any] | None = None,
    write_empty_chunks: bool | None = None,
) -> AsyncArray:
    """Like :func:`empty`, with the shape, dtype, chunks and fill value of ``a`` unless given."""
    shape, dtype, chunks = _like(a, shape, dtype, chunks)
    fill_value = _like_fill(a) if fill_value is None else fill_value
    return await create_array(
        store,
        shape,
        dtype,
        fill_value=fill_value,
        name=name,
        path=path,
        chunks=chunks,
        shards=shards,
        filters=filters,
        compressors=compressors,
        serializer=serializer,
        codecs=codecs,
        attributes=attributes,
        dimension_names=dimension_names,
        chunk_key_encoding=chunk_key_encoding,
        zarr_format=zarr_format,
        storage_options=storage_options,
        overwrite=overwrite,
        config=config,
        write_empty_chunks=write_empty_chunks,
    )


async def full_like(
    a: Any,
    *,
    fill_value: Any = None,
    store: StoreLike = None,
    shape: int | Sequence[int] | None = None,
    dtype: Any = None,
    name: str | None = None,
    path: str | None = None,
    chunks: Any = None,
    shards: int | Sequence[int] | None = None,
    filters: Any = "auto",
    compressors: Any = "auto",
    serializer: Any = "auto",
    codecs: Sequence[Any] | None = None,
    attributes: dict[str, Any] | None = None,
    dimension_names: Sequence[str | None] | None = None,
    chunk_key_encoding: Any = None,
    zarr_format: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    config: Mapping[str, Any] | None = None,
    write_empty_chunks: bool | None = None,
) -> AsyncArray:
    """Like :func:`full`, with the shape, dtype and chunks of ``a`` (and its fill value) unless given."""
    shape, dtype, chunks = _like(a, shape, dtype, chunks)
    fill_value = _like_fill(a) if fill_value is None else fill_value
    return await create_array(
        store,
        shape,
        dtype,
        fill_value=fill_value,
        name=name,
        path=path,
        chunks=chunks,
        shards=shards,
        filters=filters,
        compressors=compressors,
        serializer=serializer,
        codecs=codecs,
        attributes=attributes,
        dimension_names=dimension_names,
        chunk_key_encoding=chunk_key_encoding,
        zarr_format=zarr_format,
        storage_options=storage_options,
        overwrite=overwrite,
        config=config,
        write_empty_chunks=write_empty_chunks,
    )


async def open_like(
    a: Any,
    path: str | None = None,
    *,
    store: StoreLike = None,
    mode: Mode = "a",
    storage_options: Mapping[str, Any] | None = None,
) -> AsyncArray:
    """Open (or, in modes ``"a"``/``"w"``/``"w-"``, create) an array at ``path`` shaped, typed and
    chunked like ``a``."""
    shape, dtype, chunks = _like(a, None, None, None)
    return await open_array(
        store, path=path, mode=mode, storage_options=storage_options, shape=shape, dtype=dtype, chunks=chunks,
        fill_value=_like_fill(a),
    )  # fmt: skip
