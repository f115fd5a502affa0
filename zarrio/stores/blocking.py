"""Stores over a blocking backend: write plain methods, get an async store.

Subclass :class:`BlockingStore` and implement these ordinary (blocking)
methods; each async :class:`~zarrio.stores.base.Store` method runs its twin in
a worker thread, one hop per call:

==========================================  ==========================================
you implement (blocking)                    you get (async)
==========================================  ==========================================
``get_sync(key) -> bytes | None``           ``get``
``set_sync(key, value) -> None``            ``set``
``erase_sync(key) -> None``                 ``erase`` (must be idempotent)
``exists_sync(key) -> bool``                ``exists``
``list_sync(prefix) -> list[str]``          ``list``
``list_dir_sync(prefix) -> (keys, dirs)``   ``list_dir``
optional:
``get_partial_sync(key, offset, length)``   ``get_partial``
``get_suffix_sync(key, length)``            ``get_suffix``
``get_ranges_sync(key, ranges)``            ``get_ranges`` (default: ``get_partial_sync``
                                            per range when ``partial_reads``, else one
                                            ``get_sync`` sliced)
``erase_prefix_sync(prefix)``               ``erase_prefix`` (default: list, then erase)
``append_sync(key, data, expected_size)``   ``append`` (with ``appends = True``)
``open_reader_sync(key)``                   the engine's fast path (default: ``get_sync``
                                            wrapped in a reader)
``get_bounded_sync(key, limit, hint)``      the fast path's whole-chunk read (default:
                                            ``get_sync``, checked against ``limit``)
``close_sync()``                            ``close``
==========================================  ==========================================

**The fast path.** The engine reads, decodes and places the chunks of a read
(or encodes and writes them) in one worker-thread call per batch, calling your
methods directly, and the blocking facade (``z[...]``) runs a small read in the
calling thread with no event loop at all. ``open_reader_sync`` hands it one
version of a value for all the ranged reads of a shard (its index, then its
inner chunks); override it when your backend can read ranges of one open
version without loading the whole value (LocalStore opens the file once).
Set ``inline_calls = True`` when every method returns at once without blocking
(a dict in memory): the async methods then call them on the event loop instead
of hopping to a thread. MemoryStore and LocalStore are BlockingStores; a
wrapper around one (counting, added latency) is a plain Store and goes through
the coroutines.

The async side validates every key (:func:`~zarrio.stores.base.validate_key`)
and refuses writes on a ``read_only`` store before your method is called, so
your methods only ever see clean keys. Set ``partial_reads = True`` on your
class when ``get_partial_sync``/``get_suffix_sync`` read only the range.
Your methods may be called from several threads at once.

Example::

    class DictStore(BlockingStore):
        def __init__(self) -> None:
            self.values: dict[str, bytes] = {}
        def get_sync(self, key): return self.values.get(key)
        def set_sync(self, key, value): self.values[key] = value
        def erase_sync(self, key): self.values.pop(key, None)
        def exists_sync(self, key): return key in self.values
        def list_sync(self, prefix): return [k for k in self.values if k.startswith(prefix)]
        def list_dir_sync(self, prefix): ...
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import ClassVar, Protocol, TypeVar

from ..errors import ResourceLimitError
from .base import ByteRange, RangeReader, Store, validate_key, validate_prefix

__all__ = ["BlockingAccess", "BlockingStore", "BytesReader", "blocking_access"]

_T = TypeVar("_T")


class BytesReader:
    """A :class:`~zarrio.stores.base.RangeReader` over one value held in memory."""

    def __init__(self, value: bytes) -> None:
        self._view = memoryview(value)
        self.size = len(value)

    def read(self, offset: int, length: int) -> memoryview:
        return self._view[offset : offset + length]

    def close(self) -> None:
        self._view.release()


class BlockingStore(Store):
    """Base class for stores whose backend is blocking; see the module docstring."""

    #: the blocking methods return at once (memory): the async ones call them inline, with no thread hop
    inline_calls: ClassVar[bool] = False

    # ------------------------------------------------------------ to implement
    @abstractmethod
    def get_sync(self, key: str) -> bytes | None:
        """The whole value under ``key``, or ``None``."""

    @abstractmethod
    def set_sync(self, key: str, value: bytes) -> None:
        """Store ``value`` under ``key``."""

    @abstractmethod
    def erase_sync(self, key: str) -> None:
        """Remove ``key``; a missing key is not an error."""

    @abstractmethod
    def exists_sync(self, key: str) -> bool:
        """Whether ``key`` holds a value."""

    @abstractmethod
    def list_sync(self, prefix: str) -> list[str]:
        """Every key starting with ``prefix``."""

    @abstractmethod
    def list_dir_sync(self, prefix: str) -> tuple[list[str], list[str]]:
        """``(keys, child_prefixes)`` directly under ``prefix`` ("" or ending in ``/``)."""

    # ------------------------------------------------------------ optional
    def get_partial_sync(self, key: str, offset: int, length: int) -> bytes | None:
        """``length`` bytes from ``offset``; the default slices ``get_sync``."""
        value = self.get_sync(key)
        return None if value is None else bytes(value[offset : offset + length])

    def get_suffix_sync(self, key: str, length: int) -> bytes | None:
        """The last ``length`` bytes; the default slices ``get_sync``."""
        value = self.get_sync(key)
        return None if value is None else bytes(value[max(0, len(value) - length) :])

    def get_ranges_sync(self, key: str, ranges: Sequence[ByteRange]) -> list[bytes] | None:
        """Several ranges of one value, in one worker-thread hop."""
        if self.partial_reads:
            out: list[bytes] = []
            for offset, length in ranges:
                part = self.get_partial_sync(key, offset, length)
                if part is None:
                    return None
                out.append(part)
            if not ranges and not self.exists_sync(key):
                return None
            return out
        value = self.get_sync(key)
        if value is None:
            return None
        return [bytes(value[offset : offset + length]) for offset, length in ranges]

    def erase_prefix_sync(self, prefix: str) -> None:
        """Erase every key under ``prefix``; the default lists, then erases each key."""
        for key in self.list_sync(prefix):
            self.erase_sync(key)

    def open_reader_sync(self, key: str) -> RangeReader | None:
        """``key``'s value opened for ranged reads of one version, or ``None`` when missing;
        the default reads the whole value with ``get_sync``."""
        value = self.get_sync(key)
        return None if value is None else BytesReader(value)

    def get_bounded_sync(self, key: str, limit: int, hint: int) -> bytes | None:
        """The whole value under ``key``, or ``None``; ResourceLimitError when it is larger than
        ``limit`` bytes. ``hint``: the size the value most likely has at most (a chunk's largest
        encoded size), which a backend may read in one call before it asks for the size."""
        value = self.get_sync(key)
        if value is not None and len(value) > limit:
            raise ResourceLimitError(f"a stored object of {len(value)} bytes exceeds the limit of {limit} bytes")
        return value

    def close_sync(self) -> None:
        """Release resources; idempotent. The default does nothing."""

    def write_batch_sync(self) -> contextlib.AbstractContextManager[None]:
        """A context around a batch of ``set_sync`` calls made by one thread (the engine's write of
        many chunks): a store may finish work there once per batch that it would otherwise finish
        once per write, as long as every write is done when the context exits. ``LocalStore(fsync=True)``
        syncs each directory it renamed files into once, at the exit. The default does nothing."""
        return contextlib.nullcontext()

    def append_sync(self, key: str, data: bytes, expected_size: int) -> bool:
        """:meth:`~zarrio.stores.base.Store.append`, blocking; only where ``appends``."""
        raise NotImplementedError(f"{type(self).__name__} cannot append")

    # ------------------------------------------------------------ async side
    async def _hop(self, fn: Callable[[], _T]) -> _T:
        if self.inline_calls:
            return fn()
        return await asyncio.get_running_loop().run_in_executor(None, fn)

    async def get(self, key: str) -> bytes | None:
        validate_key(key)
        return await self._hop(lambda: self.get_sync(key))

    async def get_partial(self, key: str, offset: int, length: int) -> bytes | None:
        validate_key(key)
        return await self._hop(lambda: self.get_partial_sync(key, offset, length))

    async def get_suffix(self, key: str, length: int) -> bytes | None:
        validate_key(key)
        return await self._hop(lambda: self.get_suffix_sync(key, length))

    async def get_ranges(self, key: str, ranges: Sequence[ByteRange]) -> builtins.list[bytes] | None:
        validate_key(key)
        wanted = builtins.list(ranges)
        return await self._hop(lambda: self.get_ranges_sync(key, wanted))

    async def set(self, key: str, value: bytes) -> None:
        validate_key(key)
        self.check_writable()
        data = value if isinstance(value, bytes) else bytes(value)
        await self._hop(lambda: self.set_sync(key, data))

    async def erase(self, key: str) -> None:
        validate_key(key)
        self.check_writable()
        await self._hop(lambda: self.erase_sync(key))

    async def erase_prefix(self, prefix: str) -> None:
        validate_prefix(prefix)
        self.check_writable()
        await self._hop(lambda: self.erase_prefix_sync(prefix))

    async def exists(self, key: str) -> bool:
        validate_key(key)
        return await self._hop(lambda: self.exists_sync(key))

    async def list(self, prefix: str = "") -> builtins.list[str]:
        validate_prefix(prefix)
        return await self._hop(lambda: self.list_sync(prefix))

    async def list_dir(self, prefix: str = "") -> tuple[builtins.list[str], builtins.list[str]]:
        directory = _directory_prefix(prefix)
        return await self._hop(lambda: self.list_dir_sync(directory))

    async def close(self) -> None:
        await self._hop(self.close_sync)

    async def append(self, key: str, data: bytes, expected_size: int) -> bool:
        validate_key(key)
        self.check_writable()
        return await self._hop(lambda: self.append_sync(key, data, expected_size))


class BlockingAccess(Protocol):
    """What the engine's fast path (and a group's walk) calls, from worker threads or the caller's thread."""

    def get(self, key: str) -> bytes | None: ...

    def list_dir(self, prefix: str) -> tuple[list[str], list[str]]: ...

    async def call(self, fn: Callable[[], _T]) -> _T:
        """``fn()`` in a worker thread (inline for a store whose calls return at once)."""

    def open_reader(self, key: str) -> RangeReader | None: ...

    def get_bounded(self, key: str, limit: int, hint: int) -> bytes | None: ...

    def set(self, key: str, value: bytes) -> None: ...

    def erase(self, key: str) -> None: ...

    def append(self, key: str, data: bytes, expected_size: int) -> bool: ...

    def write_batch(self) -> contextlib.AbstractContextManager[None]: ...


class _Access:
    """A BlockingStore's methods for the engine, with the checks its async methods make."""

    __slots__ = ("_store",)

    def __init__(self, store: BlockingStore) -> None:
        self._store = store

    def get(self, key: str) -> bytes | None:
        return self._store.get_sync(validate_key(key))

    def list_dir(self, prefix: str) -> tuple[list[str], list[str]]:
        return self._store.list_dir_sync(_directory_prefix(prefix))

    async def call(self, fn: Callable[[], _T]) -> _T:
        return await self._store._hop(fn)

    def open_reader(self, key: str) -> RangeReader | None:
        return self._store.open_reader_sync(validate_key(key))

    def get_bounded(self, key: str, limit: int, hint: int) -> bytes | None:
        return self._store.get_bounded_sync(validate_key(key), limit, hint)

    def set(self, key: str, value: bytes) -> None:
        validate_key(key)
        self._store.check_writable()
        self._store.set_sync(key, value)

    def erase(self, key: str) -> None:
        validate_key(key)
        self._store.check_writable()
        self._store.erase_sync(key)

    def append(self, key: str, data: bytes, expected_size: int) -> bool:
        validate_key(key)
        self._store.check_writable()
        return self._store.append_sync(key, data, expected_size)

    def write_batch(self) -> contextlib.AbstractContextManager[None]:
        return self._store.write_batch_sync()


def _directory_prefix(prefix: str) -> str:
    """A validated listing prefix as ``list_dir_sync`` takes it: ``""`` or ending in ``/``."""
    validate_prefix(prefix)
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


def blocking_access(store: Store) -> BlockingAccess | None:
    """The engine's fast path into ``store``: its blocking methods when it is a
    :class:`BlockingStore`, else ``None`` (every operation goes through the coroutines)."""
    return _Access(store) if isinstance(store, BlockingStore) else None
