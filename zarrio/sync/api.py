"""The blocking API: every function of :mod:`zarrio.aio`, run on the background loop.

Each function spells out the same parameters as its async twin (checked by
tests/test_api_parity.py), so ``help()``, IDEs and ``mypy --strict`` see them.
:mod:`zarrio` re-exports them all; the creators (``zeros``, ...) are in
:mod:`zarrio.sync.creators` and the ``*_like`` family in :mod:`zarrio.sync.like`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from .. import aio
from .._arguments import ArrayConfig, Mode, StoreLike
from ..portal import run
from . import Array, Group, wrap

__all__ = [
    "consolidate_metadata",
    "create",
    "create_array",
    "create_group",
    "delete_node",
    "group",
    "load",
    "open",
    "open_array",
    "open_consolidated",
    "open_group",
    "save",
    "save_array",
    "save_group",
]


def open(
    store: StoreLike = None,
    *,
    path: str | None = None,
    mode: Mode = "a",
    storage_options: Mapping[str, Any] | None = None,
    zarr_format: int | None = None,
    use_consolidated: bool | None = True,
    write_empty_chunks: bool | None = None,
    strict: bool = False,
    max_read_bytes: int | None = None,
    cache_bytes: int | None = None,
    config: ArrayConfig | None = None,
    shape: int | Sequence[int] | None = None,
    dtype: Any = None,
    chunks: Any = None,
    shards: int | Sequence[int] | None = None,
    filters: Any = "auto",
    compressors: Any = "auto",
    serializer: Any = "auto",
    codecs: Sequence[Any] | None = None,
    fill_value: Any = None,
    attributes: dict[str, Any] | None = None,
    dimension_names: Sequence[str | None] | None = None,
    chunk_key_encoding: Any = None,
) -> Array | Group:
    """Open the array or group at ``path`` by zarr-python's modes (see :func:`zarrio.aio.open`).
    ``cache_bytes``: read through the process's decoded-chunk cache (see docs/performance.md)."""
    return wrap(
        run(
            aio.open(
                store,
                path=path,
                mode=mode,
                storage_options=storage_options,
                zarr_format=zarr_format,
                use_consolidated=use_consolidated,
                write_empty_chunks=write_empty_chunks,
                strict=strict,
                max_read_bytes=max_read_bytes,
                cache_bytes=cache_bytes,
                config=config,
                shape=shape,
                dtype=dtype,
                chunks=chunks,
                shards=shards,
                filters=filters,
                compressors=compressors,
                serializer=serializer,
                codecs=codecs,
                fill_value=fill_value,
                attributes=attributes,
                dimension_names=dimension_names,
                chunk_key_encoding=chunk_key_encoding,
            )
        )
    )


def open_array(
    store: StoreLike = None,
    *,
    path: str | None = None,
    mode: Mode = "a",
    storage_options: Mapping[str, Any] | None = None,
    zarr_format: int | None = None,
    write_empty_chunks: bool | None = None,
    strict: bool = False,
    max_read_bytes: int | None = None,
    cache_bytes: int | None = None,
    config: ArrayConfig | None = None,
    shape: int | Sequence[int] | None = None,
    dtype: Any = None,
    chunks: Any = None,
    shards: int | Sequence[int] | None = None,
    filters: Any = "auto",
    compressors: Any = "auto",
    serializer: Any = "auto",
    codecs: Sequence[Any] | None = None,
    fill_value: Any = None,
    attributes: dict[str, Any] | None = None,
    dimension_names: Sequence[str | None] | None = None,
    chunk_key_encoding: Any = None,
) -> Array:
    """Open (or, by mode, create) the array at ``path`` (see :func:`zarrio.aio.open_array`)."""
    return Array(
        run(
            aio.open_array(
                store,
                path=path,
                mode=mode,
                storage_options=storage_options,
                zarr_format=zarr_format,
                write_empty_chunks=write_empty_chunks,
                strict=strict,
                max_read_bytes=max_read_bytes,
                cache_bytes=cache_bytes,
                config=config,
                shape=shape,
                dtype=dtype,
                chunks=chunks,
                shards=shards,
                filters=filters,
                compressors=compressors,
                serializer=serializer,
                codecs=codecs,
                fill_value=fill_value,
                attributes=attributes,
                dimension_names=dimension_names,
                chunk_key_encoding=chunk_key_encoding,
            )
        )
    )


def open_group(
    store: StoreLike = None,
    *,
    path: str | None = None,
    mode: Mode = "a",
    storage_options: Mapping[str, Any] | None = None,
    zarr_format: int | None = None,
    use_consolidated: bool | None = True,
    attributes: dict[str, Any] | None = None,
    write_empty_chunks: bool | None = None,
    strict: bool = False,
    max_read_bytes: int | None = None,
) -> Group:
    """Open (or, by mode, create) the group at ``path`` (see :func:`zarrio.aio.open_group`)."""
    return Group(
        run(
            aio.open_group(
                store,
                path=path,
                mode=mode,
                storage_options=storage_options,
                zarr_format=zarr_format,
                use_consolidated=use_consolidated,
                attributes=attributes,
                write_empty_chunks=write_empty_chunks,
                strict=strict,
                max_read_bytes=max_read_bytes,
            )
        )
    )


def create_array(
    store: StoreLike,
    shape: int | Sequence[int] | None = None,
    dtype: Any = None,
    *,
    name: str | None = None,
    path: str | None = None,
    data: Any = None,
    chunks: Any = None,
    shards: int | Sequence[int] | None = None,
    filters: Any = "auto",
    compressors: Any = "auto",
    serializer: Any = "auto",
    codecs: Sequence[Any] | None = None,
    fill_value: Any = None,
    order: Literal["C", "F"] | None = None,
    zarr_format: int | None = None,
    attributes: dict[str, Any] | None = None,
    dimension_names: Sequence[str | None] | None = None,
    chunk_key_encoding: Any = None,
    storage_options: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    config: ArrayConfig | None = None,
    write_data: bool = True,
    write_empty_chunks: bool | None = None,
) -> Array:
    """Create an array at ``path`` (or ``name=``) (see :func:`zarrio.aio.create_array`)."""
    return Array(
        run(
            aio.create_array(
                store,
                shape,
                dtype,
                name=name,
                path=path,
                data=data,
                chunks=chunks,
                shards=shards,
                filters=filters,
                compressors=compressors,
                serializer=serializer,
                codecs=codecs,
                fill_value=fill_value,
                order=order,
                zarr_format=zarr_format,
                attributes=attributes,
                dimension_names=dimension_names,
                chunk_key_encoding=chunk_key_encoding,
                storage_options=storage_options,
                overwrite=overwrite,
                config=config,
                write_data=write_data,
                write_empty_chunks=write_empty_chunks,
            )
        )
    )


def create_group(
    store: StoreLike,
    *,
    path: str | None = None,
    attributes: dict[str, Any] | None = None,
    overwrite: bool = False,
    zarr_format: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> Group:
    """Create a group at ``path``; missing parents are created (see :func:`zarrio.aio.create_group`)."""
    return Group(
        run(
            aio.create_group(
                store,
                path=path,
                attributes=attributes,
                overwrite=overwrite,
                zarr_format=zarr_format,
                storage_options=storage_options,
            )
        )
    )


def consolidate_metadata(
    store: StoreLike, path: str | None = None, *, storage_options: Mapping[str, Any] | None = None
) -> Group:
    """Inline the metadata below the group into its zarr.json (see :func:`zarrio.aio.consolidate_metadata`)."""
    return Group(run(aio.consolidate_metadata(store, path, storage_options=storage_options)))


def delete_node(store: StoreLike, path: str, *, storage_options: Mapping[str, Any] | None = None) -> None:
    """Remove the node at ``path`` and everything below it (see :func:`zarrio.aio.delete_node`)."""
    run(aio.delete_node(store, path, storage_options=storage_options))


def open_consolidated(
    store: StoreLike = None,
    *,
    path: str | None = None,
    mode: Mode = "a",
    storage_options: Mapping[str, Any] | None = None,
) -> Group:
    """Open the group at ``path`` through its consolidated metadata (see :func:`zarrio.aio.open_consolidated`)."""
    return Group(run(aio.open_consolidated(store, path=path, mode=mode, storage_options=storage_options)))


def save_array(
    store: StoreLike,
    arr: Any,
    *,
    path: str | None = None,
    zarr_format: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> None:
    """Write the NumPy array ``arr`` as a new array at ``path`` (see :func:`zarrio.aio.save_array`)."""
    run(aio.save_array(store, arr, path=path, zarr_format=zarr_format, storage_options=storage_options))


def save_group(
    store: StoreLike,
    *args: Any,
    path: str | None = None,
    zarr_format: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
    arrays: Mapping[str, Any] | None = None,
) -> None:
    """Write arrays into a new group at ``path`` (see :func:`zarrio.aio.save_group`)."""
    run(
        aio.save_group(store, *args, path=path, zarr_format=zarr_format, storage_options=storage_options, arrays=arrays)
    )


def save(
    store: StoreLike,
    *args: Any,
    path: str | None = None,
    zarr_format: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
    arrays: Mapping[str, Any] | None = None,
) -> None:
    """Save one array, or several as a group (see :func:`zarrio.aio.save`)."""
    run(aio.save(store, *args, path=path, zarr_format=zarr_format, storage_options=storage_options, arrays=arrays))


def load(store: StoreLike, path: str | None = None, *, storage_options: Mapping[str, Any] | None = None) -> Any:
    """The values at ``path``: a NumPy array, or a dict of a group's arrays (see :func:`zarrio.aio.load`)."""
    return run(aio.load(store, path, storage_options=storage_options))


def group(
    store: StoreLike = None,
    *,
    path: str | None = None,
    overwrite: bool = False,
    attributes: dict[str, Any] | None = None,
    zarr_format: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> Group:
    """The group at ``path``: opened when it exists (see :func:`zarrio.aio.group`)."""
    return Group(
        run(
            aio.group(
                store,
                path=path,
                overwrite=overwrite,
                attributes=attributes,
                zarr_format=zarr_format,
                storage_options=storage_options,
            )
        )
    )


#: zarrio's first spelling: ``create(store, shape, dtype, path=..., codecs=...)``
create = create_array

#: zarr-python's module names: ``zarr.api.asynchronous.open_array(...)`` is :func:`zarrio.aio.open_array`
asynchronous = aio
