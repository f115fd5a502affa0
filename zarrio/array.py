"""AsyncArray: one Zarr v3 array in a store, read and written with coroutines."""

from __future__ import annotations

import math
from collections.abc import Coroutine, Mapping
from typing import Any

import numpy as np

from . import _paths
from ._missing import missing_node
from ._node_files import read_node_files, write_node_metadata
from ._tasks import within_deadline
from .array_selection import SelectionMethods
from .codecs import ChunkSpec, CodecChain
from .engine import DEFAULT_MAX_READ_BYTES, ChunkEngine
from .errors import MetadataError, NodeNotFoundError, ReadOnlyError, SelectionError, VaryingChunksError
from .metadata import ArrayMetadata, GroupMetadata
from .metadata._checks import relocate
from .metadata.chunk_grids import AxisChunks, RegularChunkGrid
from .metadata.v2_nodes import METADATA_NAMES
from .stores.base import Store

__all__ = ["AsyncArray"]


class AsyncArray(SelectionMethods, _paths.NamedNode):
    """An array node. Construct with :func:`zarrio.aio.open` / :func:`zarrio.aio.create`.

    ``getitem``/``setitem`` take NumPy-style selections read as zarr-python reads them
    (``[[1, 3], [2, 4]]`` is two points); ``oindex``, ``vindex``, ``blocks`` and the
    ``get_*_selection`` coroutines name a form (:mod:`zarrio.array_selection`).
    """

    def __init__(
        self,
        store: Store,
        path: str,
        metadata: ArrayMetadata,
        *,
        read_only: bool = False,
        write_empty_chunks: bool = False,
        strict: bool = False,
        max_read_bytes: int | None = None,
        cache_bytes: int | None = None,
    ) -> None:
        self.store = store
        self.path = path
        self.metadata = metadata
        self.read_only = read_only or bool(getattr(store, "read_only", False))
        self.write_empty_chunks = write_empty_chunks
        self.strict = strict
        #: the largest read result (and chunk) this array will allocate; None: the machine's memory, at most 64 GiB
        self.max_read_bytes = max_read_bytes
        #: whether reads go through the decoded-chunk cache: None as ``zarrio.config``'s ``cache.bytes``
        #: says, 0 never, N > 0 always (the process's cache then holds at least N bytes)
        self.cache_bytes = cache_bytes
        self._engine = self._make_engine(metadata)

    def _make_engine(self, metadata: ArrayMetadata) -> ChunkEngine:
        dtype = metadata.data_type.numpy_dtype
        grid = metadata.chunk_grid
        chunk_shape = grid.largest_chunk_shape
        spec = ChunkSpec(chunk_shape, dtype, metadata.fill_value)
        try:
            chain = CodecChain.from_json(list(metadata.codecs), spec)
        except MetadataError as e:
            raise relocate(e, self.path) from e
        prefix = _paths.prefix_of(self.path)
        return ChunkEngine(
            self.store,
            shape=tuple(metadata.shape),
            chunk_shape=chunk_shape,
            dtype=dtype,
            fill_value=metadata.fill_value,
            chain=chain,
            chunk_key=metadata.chunk_key_encoding.key_function(prefix),
            write_empty_chunks=self.write_empty_chunks,
            strict=self.strict,
            max_read_bytes=self.max_read_bytes if self.max_read_bytes is not None else DEFAULT_MAX_READ_BYTES,
            chunk_grid=grid,
            cache_bytes=self.cache_bytes,
        )

    # ------------------------------------------------------------ opening
    @classmethod
    async def open(cls, store: Store, path: str = "", **options: Any) -> AsyncArray:
        """Open the array at ``path``: one store read (its zarr.json; Zarr v2: a second, of its
        ``.zarray`` and ``.zattrs``); ``zarr_format=`` looks for one format only."""
        path = _paths.normalize_path(path)
        meta = await read_node_files(store, path, options.pop("zarr_format", None))
        if meta is None:
            raise await missing_node(store, path)
        if isinstance(meta, GroupMetadata):
            raise NodeNotFoundError(path, f"the node at {path!r} is a group, not an array")
        return cls(store, path, meta, **options)

    # ------------------------------------------------------------ properties
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.metadata.shape)

    @property
    def ndim(self) -> int:
        return len(self.metadata.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.metadata.data_type.numpy_dtype

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    @property
    def chunks(self) -> tuple[int, ...]:
        """The chunk shape reads are made of: the inner chunks of a sharded array. An array whose
        (unsharded) chunks vary has none: :class:`~zarrio.errors.VaryingChunksError`, as zarr-python
        refuses it; see :attr:`read_chunk_sizes`."""
        if self._engine.layout is not None and self._engine.sharding is None:
            raise VaryingChunksError(
                f"array {self.name} has chunks of varying sizes (a rectilinear chunk grid): use read_chunk_sizes",
                field="chunk_grid",
            )
        return self._engine.read_chunk_shape

    @property
    def shards(self) -> tuple[int, ...] | None:
        """The shard shape of a sharded array, else ``None`` (for shards of varying sizes a
        :class:`~zarrio.errors.VaryingChunksError`, as zarr-python refuses it; see :attr:`write_chunk_sizes`)."""
        return tuple(self.metadata.chunk_shape) if self._engine.sharding is not None else None

    @property
    def read_chunk_sizes(self) -> tuple[tuple[int, ...], ...]:
        """Per axis, the in-bounds size of each chunk reads are made of (the inner chunks of a
        sharded array): dask's ``chunks`` form, defined for every chunk grid."""
        if self._engine.sharding is None:
            return self.write_chunk_sizes
        return RegularChunkGrid(self._engine.read_chunk_shape).chunk_sizes(self.shape)

    @property
    def write_chunk_sizes(self) -> tuple[tuple[int, ...], ...]:
        """Per axis, the in-bounds size of each stored object (chunk, or shard)."""
        return self.metadata.chunk_grid.chunk_sizes(self.shape)

    @property
    def fill_value(self) -> Any:
        return self.metadata.fill_value

    @property
    def attrs(self) -> dict[str, Any]:
        return dict(self.metadata.attributes)

    @property
    def dimension_names(self) -> tuple[str | None, ...] | None:
        dn = self.metadata.dimension_names
        return tuple(dn) if dn is not None else None

    @property
    def codecs(self) -> list[dict[str, Any]]:
        return self._engine.chain.to_json()

    def __repr__(self) -> str:
        return f"<AsyncArray {self.name} shape={self.shape} dtype={self.dtype}>"

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as configuration (store, path, metadata, options), never the engine."""
        from functools import partial

        rebuild = partial(
            AsyncArray,
            read_only=self.read_only,
            write_empty_chunks=self.write_empty_chunks,
            strict=self.strict,
            max_read_bytes=self.max_read_bytes,
            cache_bytes=self.cache_bytes,
        )
        return (rebuild, (self.store, self.path, self.metadata))

    # ------------------------------------------------------------ data
    async def getitem(self, selection: Any = ..., *, timeout: float | None = None) -> Any:
        """Read a selection as zarr-python reads ``z[selection]`` (see :mod:`zarrio.indexing.forms`);
        returns a NumPy array (a NumPy scalar when every axis is an int). ``timeout``: seconds
        after which the read is cancelled and :class:`~zarrio.errors.DeadlineExceededError` raised."""
        read = self._engine.read(self.resolve("auto", selection))  # select("auto", ...) without its coroutine
        return await (read if timeout is None else within_deadline(read, timeout))

    async def setitem(self, selection: Any, value: Any) -> None:
        """Write ``value`` (broadcast to the selection) into the selection, read as ``getitem`` reads it."""
        await self.assign("auto", selection, value)

    @property
    def blocking_engine(self) -> ChunkEngine | None:
        """The chunk engine when the store is a :class:`~zarrio.stores.blocking.BlockingStore`
        (memory, local files, a user's blocking store), else ``None``. Its ``read_blocking`` and
        ``write_blocking`` run without an event loop; the blocking facade calls them directly."""
        return self._engine if self._engine.blocking is not None else None

    # the engine behind every indexing form (array_selection.SelectionMethods)
    @property
    def block_shape(self) -> tuple[AxisChunks, ...]:
        if self._engine.layout is not None:
            return self._engine.layout.axes
        return tuple(self.metadata.chunk_shape)

    def _read(self, selection: Any) -> Coroutine[Any, Any, Any]:
        return self._engine.read(selection)

    async def _write(self, selection: Any, value: Any) -> None:
        self.check_writable()
        await self._engine.write(selection, value)

    # ------------------------------------------------------------ metadata changes
    def check_writable(self) -> None:
        """Raise :class:`~zarrio.errors.ReadOnlyError` when the array was opened read-only."""
        if self.read_only:
            raise ReadOnlyError(f"array {self.name} is read-only")

    async def _save_metadata(self, metadata: ArrayMetadata) -> None:
        await write_node_metadata(self.store, self.path, metadata)
        self.metadata = metadata
        self._engine = self._make_engine(metadata)

    async def update_attributes(self, new: Mapping[str, Any]) -> dict[str, Any]:
        """Merge ``new`` into the attributes and store them; returns the attributes."""
        self.check_writable()
        attrs = {**self.metadata.attributes, **dict(new)}
        await self._save_metadata(self.metadata.update(attributes=attrs))
        return attrs

    async def set_attributes(self, attrs: Mapping[str, Any]) -> None:
        """Replace the attributes with ``attrs``."""
        self.check_writable()
        await self._save_metadata(self.metadata.update(attributes=dict(attrs)))

    async def resize(self, *shape: int | tuple[int, ...]) -> None:
        """Change the shape; chunks wholly outside a smaller shape are erased."""
        self.check_writable()
        new = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], tuple) else tuple(shape)
        new_shape = tuple(int(s) for s in new)  # type: ignore[arg-type]
        if len(new_shape) != self.ndim or any(s < 0 for s in new_shape):
            raise MetadataError(f"cannot resize an array of rank {self.ndim} to {new_shape}", field="shape")
        await self._engine.erase_outside(new_shape)
        await self._save_metadata(self.metadata.update(shape=new_shape))

    async def append(self, data: Any, axis: int = 0) -> tuple[int, ...]:
        """Grow along ``axis`` and write ``data`` into the new region; returns the new shape."""
        self.check_writable()
        arr = np.asarray(data, dtype=self.dtype if self.dtype != object else object)
        if arr.ndim != self.ndim:
            raise SelectionError(f"cannot append data of rank {arr.ndim} to an array of rank {self.ndim}")
        axis = axis % self.ndim
        for i, (a, b) in enumerate(zip(arr.shape, self.shape, strict=True)):
            if i != axis and a != b:
                raise SelectionError(
                    f"appended data has shape {arr.shape}; it must match {self.shape} except on axis {axis}"
                )
        old = self.shape
        new_shape = tuple(s + arr.shape[axis] if i == axis else s for i, s in enumerate(old))
        await self._save_metadata(self.metadata.update(shape=new_shape))
        region = tuple(slice(old[axis], new_shape[axis]) if i == axis else slice(None) for i in range(self.ndim))
        await self._engine.write(region, arr)
        return new_shape

    async def nchunks_stored(self) -> int:
        """How many chunk (or shard) objects the store holds for this array (needs a listable store)."""
        prefix = _paths.prefix_of(self.path)
        keys = await self.store.list(prefix)
        own = {prefix + name for name in METADATA_NAMES}
        nested = {k.rpartition("/")[0] for k in keys if k.rpartition("/")[2] in METADATA_NAMES and k not in own}
        return sum(1 for k in keys if k not in own and not any(k.startswith(n + "/") for n in nested))
