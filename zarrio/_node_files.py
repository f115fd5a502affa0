"""A node's metadata files in a store, in either format: ``zarr.json`` (Zarr v3), or ``.zarray`` /
``.zgroup``, ``.zattrs`` and a group's consolidated ``.zmetadata`` (Zarr v2).

Opening finds the format: zarr.json first (one read), then the v2 files, read at once.
"""

from __future__ import annotations

from typing import TypeAlias

from . import _paths
from ._tasks import gather_typed
from .metadata import ArrayMetadata, GroupMetadata, parse_metadata
from .metadata.v2_nodes import (
    V2_ARRAY_NAMES,
    V2_GROUP_NAMES,
    ZMETADATA,
    GroupMetadataV2,
    node_documents,
    parse_v2_node,
    zmetadata_bytes,
)
from .stores.base import Store

__all__ = ["erase_node_metadata", "read_node_files", "write_consolidated", "write_node_metadata"]

NodeMetadata: TypeAlias = ArrayMetadata | GroupMetadata


async def read_node_files(
    store: Store, path: str, zarr_format: int | None = None, *, consolidated: bool = False
) -> NodeMetadata | None:
    """The node at ``path`` (``None``: nothing there): its zarr.json, else (Zarr v2) its
    ``.zarray`` / ``.zgroup`` and ``.zattrs``, read at once. ``zarr_format`` looks for one format
    only; ``consolidated`` also reads a v2 group's ``.zmetadata`` in the same round trip."""
    if zarr_format != 2:
        raw = await store.get(_paths.meta_key(path))
        if raw is not None or zarr_format == 3:
            return None if raw is None else parse_metadata(raw, path)
    names = V2_GROUP_NAMES if consolidated else V2_ARRAY_NAMES
    prefix = _paths.prefix_of(path)
    raws = await gather_typed(store.get(prefix + name) for name in names)
    return parse_v2_node(dict(zip(names, raws, strict=True)), path)


async def write_node_metadata(store: Store, path: str, meta: NodeMetadata) -> None:
    """Store the metadata files of the node at ``path`` (zarr.json; v2: ``.zarray``/``.zgroup``, ``.zattrs``)."""
    prefix = _paths.prefix_of(path)
    await gather_typed(store.set(prefix + name, data) for name, data in node_documents(meta).items())


async def erase_node_metadata(store: Store, path: str, meta: NodeMetadata) -> None:
    """Erase the metadata files of the node at ``path`` (not its chunks or children)."""
    prefix = _paths.prefix_of(path)
    names = list(node_documents(meta)) + ([ZMETADATA] if isinstance(meta, GroupMetadataV2) else [])
    await gather_typed(store.erase(prefix + name) for name in names)


async def write_consolidated(store: Store, path: str, meta: GroupMetadata) -> None:
    """Store a group's consolidated metadata: inline in its zarr.json, or (v2) as ``.zmetadata``."""
    if not isinstance(meta, GroupMetadataV2):
        await store.set(_paths.meta_key(path), meta.to_bytes())
        return
    nodes = {} if meta.consolidated_metadata is None else meta.consolidated_metadata.metadata
    await store.set(_paths.prefix_of(path) + ZMETADATA, zmetadata_bytes(meta, nodes))
