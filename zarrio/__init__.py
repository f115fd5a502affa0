"""zarrio: Zarr v3 arrays with async-first I/O and a thin synchronous facade.

The blocking API lives here; :mod:`zarrio.aio` has the same functions as
coroutines. A directory path string is accepted anywhere a store is.
"""

from __future__ import annotations

from typing import Any

from . import aio, errors, stores
from ._config import Config, config
from .engine.chunk_cache import CacheStats, cache_clear, cache_stats
from .errors import (
    ChecksumError,
    CodecError,
    MemberNotFoundError,
    MetadataError,
    NodeExistsError,
    NodeNotFoundError,
    ReadOnlyError,
    SelectionError,
    StoreError,
    ZarrioError,
)
from .portal import run
from .sync import Array, Group, StoreView
from .sync import api as api  # zarr-python's module name: zarr.api.asynchronous.open_array(...)
from .sync.api import (
    consolidate_metadata,
    create,
    create_array,
    create_group,
    delete_node,
    group,
    load,
    open,
    open_array,
    open_consolidated,
    open_group,
    save,
    save_array,
    save_group,
)
from .sync.creators import array, empty, full, ones, zeros
from .sync.like import empty_like, full_like, ones_like, open_like, zeros_like

__all__ = [
    "Array",
    "CacheStats",
    "ChecksumError",
    "CodecError",
    "Config",
    "Group",
    "MemberNotFoundError",
    "MetadataError",
    "NodeExistsError",
    "NodeNotFoundError",
    "ReadOnlyError",
    "SelectionError",
    "StoreError",
    "StoreView",
    "ZarrioError",
    "aio",
    "array",
    "cache_clear",
    "cache_stats",
    "config",
    "consolidate_metadata",
    "create",
    "create_array",
    "create_group",
    "delete_node",
    "empty",
    "empty_like",
    "errors",
    "from_dask",
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
    "run",
    "save",
    "save_array",
    "save_group",
    "stores",
    "to_dask",
    "zeros",
    "zeros_like",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # the dask helpers import dask: load them on first use only (pip install "zarrio[dask]")
    if name == "storage":  # zarr-python's name for the stores module: zarr.storage.LocalStore(...)
        return stores
    if name in ("to_dask", "from_dask"):
        from .integrations import dask as dask_helpers

        return getattr(dask_helpers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
