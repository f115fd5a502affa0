"""AsyncGroup: a group node, its children, and consolidated metadata.

A group opened from a ``zarr.json`` that holds consolidated metadata answers
``members()``, ``tree()`` and child lookups (``g["a/b"]``) from memory, with
zero store reads. Consolidated metadata is a snapshot: nodes created after
:func:`consolidate` are not seen through it until it is re-run (or the group
is opened with ``use_consolidated=False``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

from . import _paths
from ._missing import missing_node
from ._node_files import erase_node_metadata, read_node_files, write_consolidated, write_node_metadata
from ._node_walk import walk as walk_nodes
from ._tasks import gather_typed
from .array import AsyncArray
from .engine.chunk_cache import CHUNK_CACHE
from .engine.executor import store_limiter
from .errors import ListingNotSupportedError, NodeExistsError, NodeNotFoundError, ReadOnlyError
from .metadata import ArrayMetadata, ConsolidatedMetadata, GroupMetadata
from .metadata.v2_nodes import GroupMetadataV2
from .stores.base import Store

__all__ = [
    "AsyncGroup",
    "Node",
    "consolidate",
    "erase_node_data",
    "erase_node_metadata",
    "read_node_metadata",
    "write_consolidated",
    "write_node_metadata",
]

Node: TypeAlias = "AsyncArray | AsyncGroup"
NodeMetadata: TypeAlias = ArrayMetadata | GroupMetadata


async def read_node_metadata(
    store: Store, path: str, zarr_format: int | None = None, *, consolidated: bool = False
) -> NodeMetadata | None:
    """:func:`zarrio._node_files.read_node_files` under the store's request limiter."""
    async with store_limiter(store):
        return await read_node_files(store, path, zarr_format, consolidated=consolidated)


class AsyncGroup(_paths.NamedNode):
    """A group node. Construct with :func:`zarrio.aio.open` / :func:`zarrio.aio.create_group`."""

    def __init__(
        self,
        store: Store,
        path: str,
        metadata: GroupMetadata,
        *,
        read_only: bool = False,
        use_consolidated: bool = True,
        consolidated: Mapping[str, NodeMetadata] | None = None,
        node_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.store = store
        self.path = path
        self.metadata = metadata
        self.read_only = read_only or bool(getattr(store, "read_only", False))
        self.node_options = dict(node_options or {})
        if consolidated is None and use_consolidated and metadata.consolidated_metadata is not None:
            consolidated = metadata.consolidated_metadata.metadata
        #: relative path -> metadata of every node below, when served from consolidated metadata
        self.consolidated: dict[str, NodeMetadata] | None = dict(consolidated) if consolidated is not None else None

    @property
    def attrs(self) -> dict[str, Any]:
        return dict(self.metadata.attributes)

    def __repr__(self) -> str:
        return f"<AsyncGroup {self.name}>"

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as configuration (store, path, metadata, options)."""
        from functools import partial

        rebuild = partial(
            AsyncGroup,
            read_only=self.read_only,
            use_consolidated=self.consolidated is not None,
            consolidated=self.consolidated,
            node_options=self.node_options,
        )
        return (rebuild, (self.store, self.path, self.metadata))

    # ------------------------------------------------------------ children
    def _make_node(self, rel: str, meta: NodeMetadata) -> AsyncArray | AsyncGroup:
        path = _paths.child_path(self.path, rel)
        if isinstance(meta, ArrayMetadata):
            return AsyncArray(self.store, path, meta, read_only=self.read_only, **self.node_options)
        sub: dict[str, NodeMetadata] | None = None
        if self.consolidated is not None:
            head = rel + "/"
            sub = {k[len(head) :]: v for k, v in self.consolidated.items() if k.startswith(head)}
        return AsyncGroup(
            self.store, path, meta, read_only=self.read_only, consolidated=sub, node_options=self.node_options
        )

    async def getitem(self, name: str) -> AsyncArray | AsyncGroup:
        """The child (or deeper descendant, ``"a/b"``) called ``name``."""
        rel = _paths.normalize_path(name)
        if not rel:
            return self
        if self.consolidated is not None:
            meta = self.consolidated.get(rel)
            if meta is None:
                raise await missing_node(self.store, _paths.child_path(self.path, rel), member=True, probe=False)
            return self._make_node(rel, meta)
        found = await read_node_metadata(self.store, _paths.child_path(self.path, rel), self.metadata.zarr_format)
        if found is None:
            raise await missing_node(self.store, _paths.child_path(self.path, rel), member=True)
        return self._make_node(rel, found)

    async def contains(self, name: str) -> bool:
        try:
            await self.getitem(name)
        except NodeNotFoundError:
            return False
        return True

    def _check_listable(self) -> None:
        if not getattr(self.store, "listable", True):
            raise ListingNotSupportedError(
                f"{self.store!r} cannot list keys, so browsing group {self.name} needs consolidated metadata: "
                "run zarrio.consolidate_metadata() on the hierarchy (direct opens by path always work)",
            )

    async def _child_metadata(self) -> list[tuple[str, NodeMetadata]]:
        """``(name, metadata)`` for every direct child, sorted by name (no node is built)."""
        if self.consolidated is not None:
            return sorted(((n, m) for n, m in self.consolidated.items() if "/" not in n), key=lambda item: item[0])
        self._check_listable()
        return list((await walk_nodes(self.store, self.path, self.metadata.zarr_format, depth=1)).items())

    async def members(self) -> list[tuple[str, AsyncArray | AsyncGroup]]:
        """``(name, node)`` for every direct child, sorted by name."""
        return [(n, self._make_node(n, m)) for n, m in await self._child_metadata()]

    async def array_keys(self) -> list[str]:
        return [n for n, node in await self.members() if isinstance(node, AsyncArray)]

    async def group_keys(self) -> list[str]:
        return [n for n, node in await self.members() if isinstance(node, AsyncGroup)]

    async def walk(self) -> dict[str, NodeMetadata]:
        """Every node below this group, keyed by relative path, sorted (read level by level:
        :mod:`zarrio._node_walk`; no array's node is built)."""
        if self.consolidated is not None:
            return dict(sorted(self.consolidated.items()))
        self._check_listable()
        return dict(sorted((await walk_nodes(self.store, self.path, self.metadata.zarr_format)).items()))

    async def tree(self) -> str:
        """The hierarchy below this group as indented text, with shapes and data types."""
        nodes = await self.walk()
        lines = [self.name]
        for rel, meta in nodes.items():
            depth = rel.count("/")
            label = rel.rsplit("/", 1)[-1]
            if isinstance(meta, ArrayMetadata):
                dt = meta.data_type.to_json()
                dt_s = dt if isinstance(dt, str) else dt.get("name", str(dt))
                lines.append(f"{'  ' * (depth + 1)}{label} {tuple(meta.shape)} {dt_s}")
            else:
                lines.append(f"{'  ' * (depth + 1)}{label}/")
        return "\n".join(lines)

    # ------------------------------------------------------------ changes
    async def create_array(self, name: str, **kwargs: Any) -> AsyncArray:
        """Create an array below this group (see :func:`zarrio.aio.create`)."""
        from .creation import build_array_metadata
        from .creation_v2 import build_array_metadata_v2

        write_empty_chunks = bool(kwargs.pop("write_empty_chunks", False))
        overwrite = bool(kwargs.pop("overwrite", False))
        build = build_array_metadata_v2 if self.metadata.zarr_format == 2 else build_array_metadata
        meta = build(kwargs.pop("shape"), kwargs.pop("dtype"), **kwargs)
        path = _paths.child_path(self.path, name)
        return await create_array_node(
            self.store, path, meta, overwrite=overwrite, write_empty_chunks=write_empty_chunks
        )

    async def create_group(self, name: str, **kwargs: Any) -> AsyncGroup:
        """Create a group below this group (see :func:`zarrio.aio.create_group`)."""
        path = _paths.child_path(self.path, name)
        return await create_group_node(
            self.store,
            path,
            kwargs.get("attributes"),
            overwrite=bool(kwargs.get("overwrite")),
            zarr_format=self.metadata.zarr_format,
        )

    def check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyError(f"group {self.name} is read-only")

    async def update_attributes(self, new: Mapping[str, Any]) -> dict[str, Any]:
        self.check_writable()
        attrs = {**self.metadata.attributes, **dict(new)}
        self.metadata = self.metadata.update(attributes=attrs)
        await write_node_metadata(self.store, self.path, self.metadata)
        return attrs

    async def set_attributes(self, attrs: Mapping[str, Any]) -> None:
        self.check_writable()
        self.metadata = self.metadata.update(attributes=dict(attrs))
        await write_node_metadata(self.store, self.path, self.metadata)


async def consolidate(store: Store, path: str = "") -> GroupMetadata:
    """Inline the metadata of every node below the group at ``path`` into its zarr.json
    (a v2 group: write its ``.zmetadata``). Reads run concurrently, level by level.
    Returns the new group metadata.
    """
    path = _paths.normalize_path(path)
    meta = await read_node_metadata(store, path)
    if meta is None:
        raise await missing_node(store, path)
    if not isinstance(meta, GroupMetadata):
        raise NodeNotFoundError(path, f"consolidate_metadata needs a group; {path!r} is an array")
    group = AsyncGroup(store, path, meta, use_consolidated=False)
    nodes = await group.walk()
    inline: dict[str, NodeMetadata] = {}
    for rel, m in nodes.items():
        if isinstance(m, GroupMetadata) and not isinstance(m, GroupMetadataV2):
            m = m.update(consolidated_metadata=ConsolidatedMetadata(metadata={}))
        inline[rel] = m
    new = meta.update(consolidated_metadata=ConsolidatedMetadata(metadata=inline))
    await write_consolidated(store, path, new)
    return new


# ---------------------------------------------------------------- creating nodes
async def erase_node_data(st: Store, path: str) -> None:
    """Erase every key under the node at ``path``, and what the decoded-chunk cache holds of them."""
    prefix = _paths.prefix_of(path)
    await st.erase_prefix(prefix)
    CHUNK_CACHE.wrote_prefix(st, prefix)


async def _prepare_node(st: Store, path: str, overwrite: bool, zarr_format: int = 3) -> None:
    """Refuse or clear an existing node at ``path``; create missing parent groups."""
    if st.read_only:
        raise ReadOnlyError(f"{st!r} is read-only")
    parents = _paths.parent_paths(path)
    metas = await gather_typed(read_node_metadata(st, p) for p in [*parents, path])
    existing = metas[-1]
    if existing is not None:
        if not overwrite:
            raise NodeExistsError(path)
        await erase_node_data(st, path)
    missing = []
    for p, m in zip(parents, metas[:-1], strict=True):
        if isinstance(m, ArrayMetadata):
            raise NodeExistsError(p, f"cannot create a node below {p!r}: it is an array")
        if m is None:
            missing.append(p)
    parent = GroupMetadataV2() if zarr_format == 2 else GroupMetadata()
    await gather_typed(write_node_metadata(st, p, parent) for p in missing)


async def create_array_node(
    st: Store, path: str, meta: ArrayMetadata, *, overwrite: bool = False, write_empty_chunks: bool = False
) -> AsyncArray:
    """Write a new array's zarr.json at ``path`` (parents created), after validating its codecs."""
    array = AsyncArray(st, path, meta, write_empty_chunks=write_empty_chunks)  # validates codecs before writing
    # store the codecs with their chunk-dependent settings filled in (blosc's typesize, ...)
    array.metadata = meta = meta.update(codecs=tuple(array.codecs))
    await _prepare_node(st, path, overwrite, meta.zarr_format)
    await write_node_metadata(st, path, meta)
    return array


async def create_group_node(
    st: Store,
    path: str,
    attributes: Mapping[str, Any] | None = None,
    *,
    overwrite: bool = False,
    zarr_format: int | None = None,
) -> AsyncGroup:
    """Write a new group's zarr.json (``zarr_format=2``: ``.zgroup``, ``.zattrs``) at ``path`` (parents created)."""
    await _prepare_node(st, path, overwrite, zarr_format or 3)
    meta = (GroupMetadataV2 if zarr_format == 2 else GroupMetadata)(attributes=dict(attributes or {}))
    await write_node_metadata(st, path, meta)
    return AsyncGroup(st, path, meta)
