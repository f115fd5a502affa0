"""Blocking ``zeros_like``, ``ones_like``, ``empty_like``, ``full_like`` and ``open_like``
(twins of :mod:`zarrio.aio.like`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .. import aio
from .._arguments import Mode, StoreLike
from ..portal import run
from . import Array

__all__ = [
    "empty_like",
    "full_like",
    "ones_like",
    "open_like",
    "zeros_like",
]


def zeros_like(
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
) -> Array:
    """Like :func:`zeros`, with the shape, dtype and chunks of ``a`` (see :func:`zarrio.aio.zeros_like`)."""
    return Array(
        run(
            aio.zeros_like(
                a,
                store=store,
                shape=shape,
                dtype=dtype,
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
        )
    )


def ones_like(
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
) -> Array:
    """Like :func:`ones`, with the shape, dtype and chunks of ``a`` unless given (see :func:`zarrio.aio.ones_like`)."""
    return Array(
        run(
            aio.ones_like(
                a,
                store=store,
                shape=shape,
                dtype=dtype,
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
        )
    )


def empty_like(
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
) -> Array:
    """Like :func:`empty`, shaped like ``a`` (see :func:`zarrio.aio.empty_like`)."""
    return Array(
        run(
            aio.empty_like(
                a,
                store=store,
                shape=shape,
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
        )
    )


def full_like(
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
) -> Array:
    """Like :func:`full`, with the shape, dtype and chunks of ``a`` (see :func:`zarrio.aio.full_like`)."""
    return Array(
        run(
            aio.full_like(
                a,
                fill_value=fill_value,
                store=store,
                shape=shape,
                dtype=dtype,
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
        )
    )


def open_like(
    a: Any,
    path: str | None = None,
    *,
    store: StoreLike = None,
    mode: Mode = "a",
    storage_options: Mapping[str, Any] | None = None,
) -> Array:
    """Open (see :func:`zarrio.aio.open_like`)."""
    return Array(run(aio.open_like(a, path, store=store, mode=mode, storage_options=storage_options)))
