"""zarr-python's convenience creators, as coroutines: ``zeros``, ``ones``, ``empty``, ``full``
and ``array`` (the ``*_like`` family is in :mod:`zarrio.aio.like`, ``save``/``load``/``group`` in
:mod:`zarrio.aio.save`). Each takes the array arguments of :func:`zarrio.aio.create_array`; a store of ``None``
is a fresh in-memory store, as in zarr-python. :mod:`zarrio.aio` re-exports them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._arguments import StoreLike
from ..array import AsyncArray
from . import create_array

__all__ = ["array", "empty", "full", "ones", "zeros"]


async def _values_of(data: Any) -> np.ndarray[Any, Any]:
    """NumPy values of ``data`` (a zarrio array, sync or async, is read whole)."""
    node = getattr(data, "aio", data)
    if isinstance(node, AsyncArray):
        return np.asarray(await node.getitem(...))
    return np.asarray(data)


async def zeros(
    shape: int | Sequence[int],
    *,
    store: StoreLike = None,
    dtype: Any = "float64",
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
    """A new array of ``shape`` that reads as zeros (nothing is written; store ``None``: in memory)."""
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


async def ones(
    shape: int | Sequence[int],
    *,
    store: StoreLike = None,
    dtype: Any = "float64",
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
    """A new array of ``shape`` that reads as ones (the fill value; nothing is written)."""
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


async def empty(
    shape: int | Sequence[int],
    *,
    store: StoreLike = None,
    dtype: Any = "float64",
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
    """A new array of ``shape`` with nothing written (it reads as its fill value, 0 by default)."""
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


async def full(
    shape: int | Sequence[int],
    fill_value: Any,
    *,
    store: StoreLike = None,
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
    """A new array of ``shape`` that reads as ``fill_value`` (dtype: that of ``fill_value`` unless given)."""
    dtype = np.asarray(fill_value).dtype if dtype is None else dtype
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


async def array(
    data: Any,
    *,
    store: StoreLike = None,
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
    """A new array holding ``data`` (its shape, and its dtype unless given)."""
    values = await _values_of(data)
    return await create_array(
        store,
        data=values,
        dtype=dtype,
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
