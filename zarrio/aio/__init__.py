"""The async surface: the same functions as :mod:`zarrio`, as coroutines.

Use these inside your own event loop (a web service, a tile server)::

    a = await zarrio.aio.open(store, path="temperature")
    tile = await a.getitem((slice(0, 256), slice(0, 256)))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from .. import _paths
from .._missing import missing_node
from .._tasks import gather_typed
from ..array import AsyncArray
from ..creation import build_array_metadata, codecs_from_parts
from ..creation_v2 import build_array_metadata_v2
from ..errors import InvalidKeyError, MetadataError, NodeNotFoundError, ReadOnlyError
from ..group import (
    AsyncGroup,
    consolidate,
    create_array_node,
    create_group_node,
    erase_node_data,
    erase_node_metadata,
    read_node_metadata,
    write_consolidated,
)
from ..metadata import ArrayMetadata, ConsolidatedMetadata, GroupMetadata
from ..stores import Store, store_location

__all__ = [
    "AsyncArray",
    "AsyncGroup",
    "array",
    "consolidate_metadata",
    "create",
    "create_array",
    "create_group",
    "delete_node",
    "empty",
    "empty_like",
    "full",
    "full_like",
    "group",
    "load",
    "ones",
    "ones_like",
    "open",
    "open_array",
    "open_consolidated",
    "open_group",
    "open_like",
    "save",
    "save_array",
    "save_group",
    "zeros",
    "zeros_like",
]

from .._arguments import (  # the shared argument rules, re-exported for the api modules
    ArrayConfig,
    Mode,
    StoreLike,
    _array_options,
    _check_format,
    _effective_mode,
    resolve_store,
)


async def open(
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
) -> AsyncArray | AsyncGroup:
    """Open the array or group at ``path`` (one store read), by zarr-python's modes:

    ``"r"`` read-only, must exist; ``"r+"`` read/write, must exist; ``"a"``
    read/write, created when missing; ``"w"`` created, replacing what is at
    ``path``; ``"w-"`` created, NodeExistsError when something is there. What is
    created is an array when ``shape`` is given, else a group.

    ``use_consolidated=False`` ignores consolidated metadata held by a group.
    ``strict=True`` makes a missing chunk an error instead of reading as the fill
    value. ``max_read_bytes`` bounds one read's result (and one chunk): larger
    requests raise ResourceLimitError before allocating (default: physical
    memory, at most 64 GiB).
    """
    _check_format(zarr_format)
    st = resolve_store(store, mode=mode, storage_options=storage_options)
    mode = _effective_mode(st, mode)
    array_args: dict[str, Any] = {
        "write_empty_chunks": write_empty_chunks,
        "strict": strict,
        "max_read_bytes": max_read_bytes,
        "cache_bytes": cache_bytes,
        "config": config,
    }
    if shape is not None:
        return await open_array(
            st, path=path, mode=mode, shape=shape, dtype=dtype, chunks=chunks, shards=shards, filters=filters,
            compressors=compressors, serializer=serializer, codecs=codecs, fill_value=fill_value,
            attributes=attributes, dimension_names=dimension_names, chunk_key_encoding=chunk_key_encoding,
            zarr_format=zarr_format, **array_args,
        )  # fmt: skip
    norm, fmt = _paths.normalize_path(path), zarr_format
    if mode in ("w", "w-"):
        return await create_group(st, path=norm, attributes=attributes, overwrite=mode == "w", zarr_format=fmt)
    meta = await read_node_metadata(st, norm, zarr_format, consolidated=use_consolidated is not False)
    if meta is None:
        if mode in ("r", "r+"):
            raise await missing_node(st, norm)
        return await create_group(st, path=norm, attributes=attributes, zarr_format=zarr_format)
    options: dict[str, Any] = {
        "write_empty_chunks": _array_options(write_empty_chunks, config),
        "strict": strict,
        "max_read_bytes": max_read_bytes,
        "cache_bytes": cache_bytes,
    }
    read_only = mode == "r"
    if isinstance(meta, ArrayMetadata):
        return AsyncArray(st, norm, meta, read_only=read_only, **options)
    return AsyncGroup(
        st, norm, meta, read_only=read_only, use_consolidated=use_consolidated is not False, node_options=options
    )


async def open_array(
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
) -> AsyncArray:
    """Open the array at ``path`` (a group there is a NodeNotFoundError). In modes ``"a"``,
    ``"w"`` and ``"w-"`` it is created from ``shape``, ``dtype``, ... when missing (``"w"``:
    always, replacing what is there; ``"w-"``: NodeExistsError when something is there)."""
    _check_format(zarr_format)
    st = resolve_store(store, mode=mode, storage_options=storage_options)
    mode = _effective_mode(st, mode)
    norm = _paths.normalize_path(path)
    creating = {
        "chunks": chunks, "shards": shards, "filters": filters, "compressors": compressors,
        "serializer": serializer, "codecs": codecs, "fill_value": fill_value, "attributes": attributes,
        "dimension_names": dimension_names, "chunk_key_encoding": chunk_key_encoding,
        "write_empty_chunks": write_empty_chunks, "config": config, "zarr_format": zarr_format,
    }  # fmt: skip
    meta = None if mode in ("w", "w-") else await read_node_metadata(st, norm, zarr_format)
    if meta is None:  # created here: what is returned carries this call's options, as an opened array does
        if mode in ("r", "r+"):
            raise await missing_node(st, norm)
        if shape is None and mode in ("w", "w-"):
            raise MetadataError(f"open_array(mode={mode!r}) creates an array: pass shape= and dtype=", field="shape")
        if shape is None:
            error = await missing_node(st, norm)
            raise NodeNotFoundError(norm, f"{error}; pass shape= and dtype= to create it", location=error.location)
        meta = (await create_array(st, shape, dtype, path=norm, overwrite=mode == "w", **creating)).metadata
    if not isinstance(meta, ArrayMetadata):
        raise NodeNotFoundError(norm, f"the node at {norm!r} is a group, not an array", location=store_location(st))
    return AsyncArray(
        st,
        norm,
        meta,
        read_only=mode == "r",
        write_empty_chunks=_array_options(write_empty_chunks, config),
        strict=strict,
        max_read_bytes=max_read_bytes,
        cache_bytes=cache_bytes,
    )


async def open_group(
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
) -> AsyncGroup:
    """Open the group at ``path``; in modes ``"a"`` a missing group is created, ``"w"`` replaces
    what is there, ``"w-"`` refuses an existing node (NodeExistsError)."""
    _check_format(zarr_format)
    st = resolve_store(store, mode=mode, storage_options=storage_options)
    mode = _effective_mode(st, mode)
    node = await open(
        st,
        path=path,
        mode=mode,
        use_consolidated=use_consolidated,
        zarr_format=zarr_format,
        attributes=attributes,
        write_empty_chunks=write_empty_chunks,
        strict=strict,
        max_read_bytes=max_read_bytes,
    )
    if not isinstance(node, AsyncGroup):
        raise NodeNotFoundError(
            node.path, f"the node at {node.path!r} is an array, not a group", location=store_location(st)
        )
    return node


async def create_array(
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
) -> AsyncArray:
    """Create an array at ``path`` (or zarr-python's ``name=``; missing parent groups are created).

    The codecs are zarr-python's ``filters=``, ``serializer=`` and ``compressors=``
    (``"auto"``: the defaults; ``None``: none) or zarrio's one ``codecs=`` list:
    the complete pipeline (with its array-to-bytes codec, e.g. a ``sharding_indexed``
    one) or only filters and compressors (the serializer is inserted). ``shards=``
    wraps them in sharding. Codecs may be codec objects or their zarr.json dicts.
    ``data=`` gives the shape, dtype and the values (written unless ``write_data=False``).
    ``order``: a Zarr v2 array's stored chunk order (``zarr_format=2``; a v3 array
    ignores it, as arrays are always returned in C order).
    """
    _check_format(zarr_format)
    if name is not None and path is not None and _paths.normalize_path(name) != _paths.normalize_path(path):
        raise MetadataError(f"name={name!r} and path={path!r} disagree; pass one of them", field="name")
    values = None
    if data is not None:
        values = data if isinstance(data, np.ndarray) else np.asarray(data)
        shape = values.shape if shape is None else shape
        dtype = values.dtype if dtype is None else dtype
    if shape is None or dtype is None:
        raise MetadataError(
            "create_array() needs a shape and a dtype (or data=)", field="shape" if shape is None else "data_type"
        )
    if order not in (None, "C", "F"):
        raise MetadataError(f"order must be 'C' or 'F', not {order!r}", field="order")
    parts = None if zarr_format == 2 else codecs_from_parts(filters, serializer, compressors)
    if codecs is not None and parts is not None:
        raise MetadataError("pass codecs= or filters=/serializer=/compressors=, not both", field="codecs")
    st = resolve_store(store, storage_options=storage_options)
    norm = _paths.normalize_path(name if name is not None else path)
    v2 = zarr_format == 2
    meta = (build_array_metadata_v2 if v2 else build_array_metadata)(
        shape,
        dtype,
        chunks=None if isinstance(chunks, str) and chunks == "auto" else chunks,
        shards=shards,
        codecs=codecs if codecs is not None or v2 else parts,
        **({"filters": filters, "compressors": compressors, "serializer": serializer, "order": order} if v2 else {}),
        fill_value=fill_value,
        attributes=attributes,
        dimension_names=dimension_names,
        chunk_key_encoding=chunk_key_encoding,
    )
    array = await create_array_node(
        st, norm, meta, overwrite=overwrite, write_empty_chunks=_array_options(write_empty_chunks, config)
    )
    if values is not None and write_data:
        await array.setitem(..., values)
    return array


#: zarrio's first spelling: ``create(store, shape, dtype, path=..., codecs=...)``
create = create_array


async def create_group(
    store: StoreLike,
    *,
    path: str | None = None,
    attributes: dict[str, Any] | None = None,
    overwrite: bool = False,
    zarr_format: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> AsyncGroup:
    """Create a group at ``path`` (missing parent groups are created)."""
    _check_format(zarr_format)
    st = resolve_store(store, storage_options=storage_options)
    norm = _paths.normalize_path(path)
    return await create_group_node(st, norm, attributes, overwrite=overwrite, zarr_format=zarr_format)


async def consolidate_metadata(
    store: StoreLike, path: str | None = None, *, storage_options: Mapping[str, Any] | None = None
) -> AsyncGroup:
    """Inline every node's metadata below the group at ``path`` into its zarr.json
    (zarr-python's v3 inline form). A snapshot: re-run it after changing the hierarchy."""
    st = resolve_store(store, storage_options=storage_options)
    norm = _paths.normalize_path(path)
    meta = await consolidate(st, norm)
    return AsyncGroup(st, norm, meta)


async def delete_node(store: StoreLike, path: str, *, storage_options: Mapping[str, Any] | None = None) -> None:
    """Remove the node at ``path`` and everything below it.

    Ancestors holding consolidated metadata that lists the node are updated.
    """
    st = resolve_store(store, storage_options=storage_options)
    path = _paths.normalize_path(path)
    if not path:
        raise InvalidKeyError("the root group cannot be deleted; erase the store's contents instead", key="")
    if st.read_only:
        raise ReadOnlyError(f"{st!r} is read-only")
    meta = await read_node_metadata(st, path)
    if meta is None:
        raise await missing_node(st, path)
    # the node's metadata goes first: an interrupted delete leaves orphan chunks, never a node
    # whose missing chunks would read as fill values
    await erase_node_metadata(st, path, meta)
    await erase_node_data(st, path)
    await _drop_from_consolidated(st, path)


async def _drop_from_consolidated(st: Store, path: str) -> None:
    ancestors = _paths.parent_paths(path)
    metas = await gather_typed(read_node_metadata(st, p, consolidated=True) for p in ancestors)
    for anc, meta in zip(ancestors, metas, strict=True):
        if not isinstance(meta, GroupMetadata) or meta.consolidated_metadata is None:
            continue
        rel = path[len(anc) + 1 :] if anc else path
        entries = meta.consolidated_metadata.metadata
        kept = {k: v for k, v in entries.items() if k != rel and not k.startswith(rel + "/")}
        if len(kept) != len(entries):
            new = meta.update(consolidated_metadata=ConsolidatedMetadata(metadata=kept))
            await write_consolidated(st, anc, new)


# zarr-python's convenience functions (they build on the ones above, hence imported last)
from .creators import array, empty, full, ones, zeros  # noqa: E402
from .like import empty_like, full_like, ones_like, open_like, zeros_like  # noqa: E402
from .save import group, load, open_consolidated, save, save_array, save_group  # noqa: E402
