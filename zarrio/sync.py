"""Blocking twins of AsyncArray, AsyncGroup and Store: one line per method,
each running its async twin on the background loop (:mod:`zarrio.portal`)."""

from __future__ import annotations

import builtins
from collections.abc import Iterator, MutableMapping
from typing import Any

import numpy as np

from .array import AsyncArray
from .group import AsyncGroup
from .portal import check_not_portal_thread, run
from .stores.base import ByteRange, Store

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


class Array:
    """A blocking array: ``z[0:512, :]`` reads, ``z[...] = x`` writes.

    Thread-safe: any number of threads may read and write at once.
    ``.aio`` is the underlying :class:`~zarrio.array.AsyncArray`.
    """

    def __init__(self, aio: AsyncArray) -> None:
        self.aio = aio

    def __getitem__(self, selection: Any) -> Any:
        if self.aio.supports_blocking:
            check_not_portal_thread()
            return self.aio.getitem_blocking(selection)
        return run(self.aio.getitem(selection))

    def __setitem__(self, selection: Any, value: Any) -> None:
        if self.aio.supports_blocking:
            check_not_portal_thread()
            self.aio.setitem_blocking(selection, value)
            return
        run(self.aio.setitem(selection, value))

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray[Any, Any]:
        data = np.asarray(self[...])
        return data.astype(dtype) if dtype is not None else data

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a rank-0 array")
        return int(self.shape[0])

    def __repr__(self) -> str:
        return f"<zarrio.Array {self.aio.name} shape={self.shape} dtype={self.dtype}>"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Array, (self.aio,))

    def get_orthogonal_selection(self, selection: Any) -> Any:
        return self[selection]

    def set_orthogonal_selection(self, selection: Any, value: Any) -> None:
        self[selection] = value

    def resize(self, *shape: Any) -> None:
        run(self.aio.resize(*shape))

    def append(self, data: Any, axis: int = 0) -> tuple[int, ...]:
        return run(self.aio.append(data, axis=axis))

    def nchunks_stored(self) -> int:
        return run(self.aio.nchunks_stored())

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
    fill_value = property(lambda self: self.aio.fill_value)
    dimension_names = property(lambda self: self.aio.dimension_names)
    codecs = property(lambda self: self.aio.codecs)
    metadata = property(lambda self: self.aio.metadata)
    path = property(lambda self: self.aio.path)
    name = property(lambda self: self.aio.name)
    basename = property(lambda self: self.aio.basename)
    read_only = property(lambda self: self.aio.read_only)


class Group:
    """A blocking group: ``g["a/b"]``, ``g.members()``, ``g.tree()``.

    ``.aio`` is the underlying :class:`~zarrio.group.AsyncGroup`.
    """

    def __init__(self, aio: AsyncGroup) -> None:
        self.aio = aio

    def __getitem__(self, name: str) -> Array | Group:
        return wrap(run(self.aio.getitem(name)))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and run(self.aio.contains(name))

    def __iter__(self) -> Iterator[str]:
        return iter([name for name, _ in self.members()])

    def members(self) -> list[tuple[str, Array | Group]]:
        return [(name, wrap(node)) for name, node in run(self.aio.members())]

    def array_keys(self) -> list[str]:
        return run(self.aio.array_keys())

    def group_keys(self) -> list[str]:
        return run(self.aio.group_keys())

    def tree(self) -> str:
        return run(self.aio.tree())

    def create_array(self, name: str, **kwargs: Any) -> Array:
        return Array(run(self.aio.create_array(name, **kwargs)))

    def create_group(self, name: str, **kwargs: Any) -> Group:
        return Group(run(self.aio.create_group(name, **kwargs)))

    @property
    def attrs(self) -> Attributes:
        return Attributes(self.aio)

    @property
    def store(self) -> StoreView:
        return StoreView(self.aio.store)

    def __repr__(self) -> str:
        return f"<zarrio.Group {self.aio.name}>"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Group, (self.aio,))

    metadata = property(lambda self: self.aio.metadata)
    path = property(lambda self: self.aio.path)
    name = property(lambda self: self.aio.name)
    basename = property(lambda self: self.aio.basename)
    read_only = property(lambda self: self.aio.read_only)


def wrap(node: AsyncArray | AsyncGroup) -> Array | Group:
    """The blocking twin of an async node."""
    return Array(node) if isinstance(node, AsyncArray) else Group(node)
