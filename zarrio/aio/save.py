"""zarr-python's ``open_consolidated``, ``save``/``save_array``/``save_group``, ``load`` and
``group``, as coroutines.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import _paths
from .._arguments import Mode, StoreLike, resolve_store
from ..array import AsyncArray
from ..errors import MetadataError
from ..group import AsyncGroup
from . import create_array, create_group, open_group

__all__ = ["group", "load", "open_consolidated", "save", "save_array", "save_group"]


async def open_consolidated(
    store: StoreLike = None,
    *,
    path: str | None = None,
    mode: Mode = "a",
    storage_options: Mapping[str, Any] | None = None,
) -> AsyncGroup:
    """Open the group at ``path`` through its consolidated metadata; a group without any is a
    MetadataError (as zarr-python's ``open_consolidated`` refuses it)."""
    node = await open_group(store, path=path, mode=mode, storage_options=storage_options)
    if node.consolidated is None:
        raise MetadataError(
            f"group {node.name} holds no consolidated metadata: run zarrio.consolidate_metadata() on it, "
            "or open it with open_group()",
            field="consolidated_metadata",
        )
    return node


async def save_array(
    store: StoreLike,
    arr: Any,
    *,
    path: str | None = None,
    zarr_format: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> None:
    """Write the NumPy array ``arr`` as a new array at ``path`` (replacing what is there)."""
    await create_array(
        store, data=np.asarray(arr), path=path, overwrite=True, zarr_format=zarr_format,
        storage_options=storage_options,
    )  # fmt: skip


async def save_group(
    store: StoreLike,
    *args: Any,
    path: str | None = None,
    zarr_format: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
    arrays: Mapping[str, Any] | None = None,
) -> None:
    """Write arrays into a new group at ``path``: positional ones as ``arr_0``, ``arr_1``, ...,
    and ``arrays`` by name."""
    named = {f"arr_{i}": a for i, a in enumerate(args)} | dict(arrays or {})
    if not named:
        raise MetadataError("save_group() needs at least one array", field="arrays")
    st = resolve_store(store, storage_options=storage_options)
    root = _paths.normalize_path(path)
    await create_group(st, path=root, overwrite=True, zarr_format=zarr_format)
    for name, values in named.items():
        await create_array(st, data=np.asarray(values), path=_paths.child_path(root, name))


async def save(
    store: StoreLike,
    *args: Any,
    path: str | None = None,
    zarr_format: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
    arrays: Mapping[str, Any] | None = None,
) -> None:
    """One positional array: :func:`save_array`; several, or named ``arrays``: :func:`save_group`.

    zarr-python spells the named arrays as keyword arguments (``save(s, a, foo=b)``); zarrio takes
    them as ``arrays={"foo": b}`` so that its other keywords stay checkable."""
    if len(args) == 1 and not arrays:
        await save_array(store, args[0], path=path, zarr_format=zarr_format, storage_options=storage_options)
        return
    await save_group(store, *args, path=path, zarr_format=zarr_format, storage_options=storage_options, arrays=arrays)


async def load(store: StoreLike, path: str | None = None, *, storage_options: Mapping[str, Any] | None = None) -> Any:
    """The values at ``path``: a NumPy array for an array, a ``{name: NumPy array}`` dict of the
    arrays directly below a group (zarr-python refuses groups)."""
    from . import open

    node = await open(store, path=path, mode="r", storage_options=storage_options)
    if isinstance(node, AsyncArray):
        return await node.getitem(...)
    return {name: await child.getitem(...) for name, child in await node.members() if isinstance(child, AsyncArray)}


async def group(
    store: StoreLike = None,
    *,
    path: str | None = None,
    overwrite: bool = False,
    attributes: dict[str, Any] | None = None,
    zarr_format: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> AsyncGroup:
    """The group at ``path``: opened when it exists (``overwrite=True``: replaced), else created."""
    mode: Mode = "w" if overwrite else "a"
    return await open_group(
        store, path=path, mode=mode, attributes=attributes, zarr_format=zarr_format, storage_options=storage_options
    )
