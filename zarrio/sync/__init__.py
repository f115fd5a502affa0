"""Blocking twins of AsyncArray, AsyncGroup and Store: one line per method,
each running its async twin on the background loop (:mod:`zarrio.portal`)."""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

import numpy as np

from .. import _paths
from ..aio import delete_node
from ..array import AsyncArray
from ..codecs import Codec
from ..errors import NodeExistsError, NodeNotFoundError
from ..group import AsyncGroup
from ..node_info import NodeInfo, array_facts, codec_parts, group_facts, info_html, stored_bytes
from ..portal import run
from ..stored import chunks_in_grid, chunks_initialized
from ..stores import store_location
from ..stores.base import ByteRange, Store
from .group_creators import GroupCreators
from .selection import SyncSelectionMethods

__all__ = ["Array", "Attributes", "Group", "StoreView", "wrap"]


class StoreView:
    """A blocking view of a store: ``g.store.exists("a/zarr.json")`` returns a bool.

    ``.store`` is the underlying async store.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, key: str) -> bytes | None:
        return run(self.store.get(key))

    def get_partial(self, key: str, offset: int, length: int) -> bytes | None:
        return run(self.store.get_partial(key, offset, length))

    def get_suffix(self, key: str, length: int) -> bytes | None:
        return run(self.store.get_suffix(key, length))

    def get_ranges(self, key: str, ranges: builtins.list[ByteRange]) -> builtins.list[bytes] | None:
        return run(self.store.get_ranges(key, ranges))

    def set(self, key: str, value: bytes) -> None:
        run(self.store.set(key, value))

    def erase(self, key: str) -> None:
        run(self.store.erase(key))

    def erase_prefix(self, prefix: str) -> None:
        run(self.store.erase_prefix(prefix))

    def exists(self, key: str) -> bool:
        return run(self.store.exists(key))

    def list(self, prefix: str = "") -> builtins.list[str]:
        return run(self.store.list(prefix))

    def list_dir(self, prefix: str = "") -> tuple[builtins.list[str], builtins.list[str]]:
        return run(self.store.list_dir(prefix))

    def __repr__(self) -> str:
        return f"StoreView({self.store!r})"


class Attributes(MutableMapping[str, Any]):
    """A node's attributes; assignments and deletions are written at once."""

    def __init__(self, node: AsyncArray | AsyncGroup) -> None:
        self._node = node

    def __getitem__(self, key: str) -> Any:
        return self._node.metadata.attributes[key]

    def __setitem__(self, key: str, value: Any) -> None:
        run(self._node.update_attributes({key: value}))

    def __delitem__(self, key: str) -> None:
        attrs = dict(self._node.metadata.attributes)
        del attrs[key]
        run(self._node.set_attributes(attrs))

    def __iter__(self) -> Iterator[str]:
        return iter(dict(self._node.metadata.attributes))

    def __len__(self) -> int:
        return len(self._node.metadata.attributes)

    def update(self, *args: Any, **kwargs: Any) -> None:  # one write, not one per key
        run(self._node.update_attributes(dict(*args, **kwargs)))

    def asdict(self) -> dict[str, Any]:
        return dict(self._node.metadata.attributes)

    def __repr__(self) -> str:
        return repr(self.asdict())


class Array(SyncSelectionMethods):
    """A blocking array: ``z[0:512, :]`` reads, ``z[...] = x`` writes; ``z[[1, 3], [2, 4]]`` is
    two points as in NumPy, ``z.oindex``, ``z.vindex`` and ``z.blocks`` name the other forms.

    Thread-safe: any number of threads may read and write at once.
    ``.aio`` is the underlying :class:`~zarrio.array.AsyncArray`.
    """

    def __init__(self, aio: AsyncArray) -> None:
        self.aio = aio

    def __getitem__(self, selection: Any) -> Any:
        return self.select("auto", selection)

    def __setitem__(self, selection: Any, value: Any) -> None:
        self.assign("auto", selection, value)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray[Any, Any]:
        data = np.asarray(self[...])
        return data.astype(dtype) if dtype is not None else data

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a rank-0 array")
        return int(self.shape[0])

    def __repr__(self) -> str:
        return f"<zarrio.Array {_where(self.aio)} shape={self.shape} dtype={self.dtype}>"

    def _repr_html_(self) -> str:
        return info_html(run(array_facts(self.aio, complete=False)))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Array, (self.aio,))

    def resize(self, *shape: Any) -> None:
        run(self.aio.resize(*shape))

    def append(self, data: Any, axis: int = 0) -> tuple[int, ...]:
        return run(self.aio.append(data, axis=axis))

    def nchunks_stored(self) -> int:
        return run(self.aio.nchunks_stored())

    @property
    def nchunks(self) -> int:
        """Chunks in the grid, as zarr-python counts them: inner chunks of a sharded array."""
        return chunks_in_grid(self.aio)

    @property
    def nchunks_initialized(self) -> int:
        """Chunks holding data (a listing; for a sharded array, inner chunks from the shard indexes)."""
        return run(chunks_initialized(self.aio))

    def nbytes_stored(self) -> int:
        """Bytes the store holds for this array: its chunks (or shards) and its zarr.json."""
        return run(stored_bytes(self.aio))

    @property
    def info(self) -> NodeInfo:
        """What the array is (no store reads); :meth:`info_complete` adds what it holds."""
        return NodeInfo(run(array_facts(self.aio, complete=False)))

    def info_complete(self) -> NodeInfo:
        """:attr:`info` plus the chunks and bytes stored (a store listing)."""
        return NodeInfo(run(array_facts(self.aio, complete=True)))

    @property
    def filters(self) -> tuple[Codec, ...]:
        return codec_parts(self.aio.metadata.codecs)[0]

    @property
    def serializer(self) -> Codec | None:
        return codec_parts(self.aio.metadata.codecs)[1]

    @property
    def compressors(self) -> tuple[Codec, ...]:
        return codec_parts(self.aio.metadata.codecs)[2]

    def update_attributes(self, new: Mapping[str, Any]) -> Array:
        """Merge ``new`` into the attributes (one write); returns the array, as zarr-python."""
        run(self.aio.update_attributes(new))
        return self

    @property
    def attrs(self) -> Attributes:
        return Attributes(self.aio)

    @property
    def store(self) -> StoreView:
        return StoreView(self.aio.store)

    # plain attributes of the async twin
    shape = property(lambda self: self.aio.shape)
    ndim = property(lambda self: self.aio.ndim)
    size = property(lambda self: self.aio.size)
    dtype = property(lambda self: self.aio.dtype)
    nbytes = property(lambda self: self.aio.nbytes)
    chunks = property(lambda self: self.aio.chunks)
    shards = property(lambda self: self.aio.shards)
    read_chunk_sizes = property(lambda self: self.aio.read_chunk_sizes)
    write_chunk_sizes = property(lambda self: self.aio.write_chunk_sizes)
    fill_value = property(lambda self: self.aio.fill_value)
    dimension_names = property(lambda self: self.aio.dimension_names)
    codecs = property(lambda self: self.aio.codecs)
    metadata = property(lambda self: self.aio.metadata)
    path = property(lambda self: self.aio.path)
    name = property(lambda self: self.aio.name)
    basename = property(lambda self: self.aio.basename)
    read_only = property(lambda self: self.aio.read_only)


class Group(GroupCreators):
    """A blocking group: ``g["a/b"]``, ``g.members()``, ``g.tree()``.

    ``.aio`` is the underlying :class:`~zarrio.group.AsyncGroup`.
    """

    def __init__(self, aio: AsyncGroup) -> None:
        self.aio = aio

    def __getitem__(self, name: str) -> Array | Group:
        """The member ``name``; a missing one is a MemberNotFoundError (a KeyError and a FileNotFoundError)."""
        return wrap(run(self.aio.getitem(name)))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and run(self.aio.contains(name))

    def __iter__(self) -> Iterator[str]:
        return iter([name for name, _ in self.members()])

    def __len__(self) -> int:
        return len(self.members())

    def __delitem__(self, name: str) -> None:
        """Delete the member ``name`` and everything below it."""
        self.aio.check_writable()
        run(delete_node(self.aio.store, _paths.child_path(self.aio.path, _paths.normalize_path(name))))

    def keys(self) -> list[str]:
        return [name for name, _ in self.members()]

    def members(self) -> list[tuple[str, Array | Group]]:
        return [(name, wrap(node)) for name, node in run(self.aio.members())]

    def arrays(self) -> list[tuple[str, Array]]:
        return [(name, node) for name, node in self.members() if isinstance(node, Array)]

    def groups(self) -> list[tuple[str, Group]]:
        return [(name, node) for name, node in self.members() if isinstance(node, Group)]

    def array_keys(self) -> list[str]:
        return run(self.aio.array_keys())

    def group_keys(self) -> list[str]:
        return run(self.aio.group_keys())

    def tree(self) -> str:
        return run(self.aio.tree())

    def create_group(self, name: str, *, attributes: dict[str, Any] | None = None, overwrite: bool = False) -> Group:
        return Group(run(self.aio.create_group(name, attributes=attributes, overwrite=overwrite)))

    def require_group(self, name: str, *, attributes: dict[str, Any] | None = None) -> Group:
        """The group ``name``, created when missing; an array there is a NodeExistsError."""
        try:
            node = self[name]
        except NodeNotFoundError:
            return self.create_group(name, attributes=attributes)
        if not isinstance(node, Group):
            raise NodeExistsError(node.path, f"an array, not a group, exists at {node.path!r}")
        return node

    @property
    def info(self) -> NodeInfo:
        """What the group is and holds (its members: a listing, or its consolidated metadata)."""
        return NodeInfo(run(group_facts(self.aio)))

    def _repr_html_(self) -> str:
        return info_html(run(group_facts(self.aio)))

    @property
    def attrs(self) -> Attributes:
        return Attributes(self.aio)

    @property
    def store(self) -> StoreView:
        return StoreView(self.aio.store)

    def __repr__(self) -> str:
        return f"<zarrio.Group {_where(self.aio)}>"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Group, (self.aio,))

    metadata = property(lambda self: self.aio.metadata)
    path = property(lambda self: self.aio.path)
    name = property(lambda self: self.aio.name)
    basename = property(lambda self: self.aio.basename)
    read_only = property(lambda self: self.aio.read_only)


def _where(node: AsyncArray | AsyncGroup) -> str:
    """``file:///abs/data.zarr/x``: the store's location and the node's path."""
    base = store_location(node.store).rstrip("/")
    return f"{base}/{node.path}" if node.path else base


def wrap(node: AsyncArray | AsyncGroup) -> Array | Group:
    """The blocking twin of an async node."""
    return Array(node) if isinstance(node, AsyncArray) else Group(node)
