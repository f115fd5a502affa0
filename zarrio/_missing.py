"""The error for a node that is not there, naming the store and what the location holds instead.

``no array or group at 'x' in file:///data/data.zarr`` -- and when Zarr v2
metadata (``.zarray``, ``.zgroup``, ``.zmetadata``) sits there, the message
says so (a node looked for as Zarr v3 only, ``zarr_format=3``).
"""

from __future__ import annotations

from . import _paths
from .errors import MemberNotFoundError, NodeNotFoundError, StoreError
from .stores import store_location
from .stores.base import Store

__all__ = ["V2_METADATA_KEYS", "missing_node"]

V2_METADATA_KEYS = (".zarray", ".zgroup", ".zmetadata")


async def _v2_keys_at(store: Store, path: str) -> list[str]:
    prefix = _paths.prefix_of(path)
    found = []
    for name in V2_METADATA_KEYS:
        try:
            if await store.exists(prefix + name):
                found.append(name)
        except StoreError:  # a store that cannot answer: no hint, the not-found error stands
            return []
    return found


async def missing_node(store: Store, path: str, *, member: bool = False, probe: bool = True) -> NodeNotFoundError:
    """The NodeNotFoundError for ``path`` in ``store`` (a MemberNotFoundError, also a KeyError,
    when ``member``: a ``group[name]`` lookup). ``probe=False`` skips the v2 check (no store reads,
    for lookups served from consolidated metadata)."""
    location = store_location(store)
    message = f"no array or group at {path!r} in {location}"
    v2 = await _v2_keys_at(store, path) if probe else []
    if v2:
        message += (
            f"; it holds Zarr v2 metadata ({', '.join(v2)}): open it with zarr_format=2 "
            "(or without zarr_format=, which finds either format)"
        )
    cls = MemberNotFoundError if member else NodeNotFoundError
    return cls(path, message, location=location)
