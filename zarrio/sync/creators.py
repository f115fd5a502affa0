"""Blocking ``zeros``, ``ones``, ``empty``, ``full`` and ``array`` (twins of :mod:`zarrio.aio.creators`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .. import aio
from .._arguments import StoreLike
from ..portal import run
from . import Array

__all__ = [
    "array",
    "empty",
    "full",
    "ones",
    "zeros",
]


def zeros(
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
) -> Array:
    """A new array of ``shape`` that reads as zeros (see :func:`zarrio.aio.zeros`)."""
    return Array(
        run(
            aio.zeros(
                shape,
                store=store,
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


def ones(
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
) -> Array:
    """A new array of ``shape`` that reads as ones (see :func:`zarrio.aio.ones`)."""
    return Array(
        run(
            aio.ones(
                shape,
                store=store,
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


def empty(
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
) -> Array:
    """A new array of ``shape`` with nothing written (see :func:`zarrio.aio.empty`)."""
    return Array(
        run(
            aio.empty(
                shape,
                store=store,
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


def full(
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
) -> Array:
    """A new array of ``shape`` that reads as ``fill_value`` (see :func:`zarrio.aio.full`)."""
    return Array(
        run(
            aio.full(
                shape,
                fill_value,
                store=store,
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


def array(
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
) -> Array:
    """A new array holding ``data`` (see :func:`zarrio.aio.array`)."""
    return Array(
        run(
            aio.array(
                data,
                store=store,
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
