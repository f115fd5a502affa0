"""zarrio: Zarr v3 arrays with async-first I/O and a thin synchronous facade.

The blocking API lives here; :mod:`zarrio.aio` has the same functions as
coroutines. A directory path string is accepted anywhere a store is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import aio, errors, stores
from .errors import (
    ChecksumError,
    CodecError,
    MetadataError,
    NodeExistsError,
    NodeNotFoundError,
    ReadOnlyError,
    SelectionError,
    StoreError,
    ZarrioError,
)
from .portal import run
from .sync import Array, Group, StoreView, wrap

__all__ = [
    "Array",
    "ChecksumError",
    "CodecError",
    "Group",
    "MetadataError",
    "NodeExistsError",
    "NodeNotFoundError",
    "ReadOnlyError",
    "SelectionError",
    "StoreError",
    "StoreView",
    "ZarrioError",
    "aio",
    "consolidate_metadata",
    "create",
    "create_array",
    "create_group",
    "delete_node",
    "errors",
    "from_dask",
    "open",
    "open_array",
    "open_group",
    "run",
    "stores",
    "to_dask",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # the dask helpers import dask: load them on first use only (pip install "zarrio[dask]")
    if name in ("to_dask", "from_dask"):
        from . import dask as dask_helpers

        return getattr(dask_helpers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open(store: Any, *, path: str = "", mode: aio.Mode = "a", **options: Any) -> Array | Group:
    """Open the array or group at ``path`` (see :func:`zarrio.aio.open`)."""
    return wrap(run(aio.open(store, path=path, mode=mode, **options)))


def open_array(store: Any, *, path: str = "", mode: aio.Mode = "a", **options: Any) -> Array:
    return Array(run(aio.open_array(store, path=path, mode=mode, **options)))


def open_group(store: Any, *, path: str = "", mode: aio.Mode = "a", **options: Any) -> Group:
    return Group(run(aio.open_group(store, path=path, mode=mode, **options)))


def create(
    store: Any,
    shape: int | Sequence[int] | None = None,
    dtype: Any = None,
    **kwargs: Any,
) -> Array:
    """Create an array (see :func:`zarrio.aio.create` for every argument)."""
    return Array(run(aio.create(store, shape, dtype, **kwargs)))


create_array = create


def create_group(
    store: Any, *, path: str = "", attributes: dict[str, Any] | None = None, overwrite: bool = False
) -> Group:
    """Create a group at ``path``; missing parents are created."""
    return Group(run(aio.create_group(store, path=path, attributes=attributes, overwrite=overwrite)))


def consolidate_metadata(store: Any, path: str = "") -> Group:
    """Inline the hierarchy's metadata into the group's zarr.json (a snapshot)."""
    return Group(run(aio.consolidate_metadata(store, path)))


def delete_node(store: Any, path: str) -> None:
    """Remove the node at ``path`` and everything below it."""
    run(aio.delete_node(store, path))
