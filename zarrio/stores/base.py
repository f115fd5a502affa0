"""The store contract: bytes in, bytes out, keyed by ``/``-separated strings.

A store knows nothing of metadata, codecs or arrays. Every method is a
coroutine. A missing key is ``None`` (or ``False`` from ``exists``), never an
exception. To write a store, subclass :class:`Store` and implement ``get``,
``set``, ``erase``, ``exists``, ``list`` and ``list_dir``; override
``get_partial`` / ``get_suffix`` / ``get_ranges`` where the backend can read
byte ranges. Stores with a blocking backend subclass
:class:`zarrio.stores.BlockingStore` instead.
"""

from __future__ import annotations

import asyncio
import builtins
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Literal, Protocol

from ..errors import ReadOnlyError, ResourceLimitError
from ._keys import validate_key, validate_prefix
from ._legacy_flags import LegacyConsistencyFlags
from ._ranges import ByteRange, coalesce_ranges
from ._versions import VersionPins

__all__ = [
    "ByteRange",
    "Consistency",
    "RangeReader",
    "Store",
    "coalesce_ranges",
    "validate_key",
    "validate_prefix",
]

#: see :attr:`Store.consistency`
Consistency = Literal["mutable", "versioned", "immutable"]


class RangeReader(Protocol):
    """One value opened for reading: every read sees the same version of it."""

    #: the value's length in bytes
    size: int

    def read(self, offset: int, length: int) -> bytes | memoryview:
        """``length`` bytes from ``offset`` (fewer at the end of the value)."""

    def close(self) -> None: ...


class Store(LegacyConsistencyFlags, ABC):
    """Abstract async key/value store.

    Capability flags (class or instance attributes):

    * ``read_only``: writes raise :class:`~zarrio.errors.ReadOnlyError`.
    * ``listable``: ``list``/``list_dir`` work (HTTP stores cannot list).
    * ``partial_reads``: ``get_partial``/``get_suffix`` read only the range
      (the defaults fetch the whole value and slice it).

    ``max_concurrency`` bounds the requests in flight on this store at once, shared
    by every caller (:func:`~zarrio.stores.limits.request_limiter`). A store that
    bounds its own requests (HttpStore: ``max_concurrency`` per event loop, hedges
    included) sets ``limits_requests = True`` and gets no limiter in front of it:
    each request waits in one queue.
    """

    read_only: bool = False
    #: the store bounds its own requests in flight; it gets no limiter in front of it (see above)
    limits_requests: bool = False
    listable: bool = True
    partial_reads: bool = False
    #: how values may change while the store is open, which says what a reader may keep:
    #: ``"mutable"`` (another writer may replace a value at any time: the engine reads a shard's
    #: index again after its inner chunks), ``"versioned"`` (ranged reads of one key stay on the
    #: version first read, or fail with ObjectChangedError: HTTP with ETags, object stores) or
    #: ``"immutable"`` (nothing changes while it is open: a zip archive opened for reading)
    consistency: Consistency = "mutable"

    max_concurrency: int = 64
    #: ``get_versioned`` / ``set_if`` work: a read-modify-write is a compare-and-swap across processes
    conditional_writes: bool = False
    #: ``append`` works: a partial shard write appends its new inner chunks and index
    appends: bool = False
    #: ranges closer than this many bytes are fetched as one request
    coalesce_max_gap: int = 4096
    #: a merged range never grows past this many bytes
    coalesce_max_size: int = 16 * 1024 * 1024

    # ------------------------------------------------------------ required
    @abstractmethod
    async def get(self, key: str) -> bytes | None:
        """The whole value under ``key``, or ``None`` when it is missing."""

    @abstractmethod
    async def set(self, key: str, value: bytes) -> None:
        """Store ``value`` under ``key`` (atomically where the backend allows)."""

    @abstractmethod
    async def erase(self, key: str) -> None:
        """Remove ``key``; removing a missing key is not an error."""

    @abstractmethod
    async def exists(self, key: str) -> bool:
        """Whether ``key`` holds a value."""

    @abstractmethod
    async def list(self, prefix: str = "") -> list[str]:
        """Every key that starts with ``prefix``, in no particular order."""

    @abstractmethod
    async def list_dir(self, prefix: str = "") -> tuple[builtins.list[str], builtins.list[str]]:
        """The direct children of ``prefix``: ``(keys, child_prefixes)``.

        ``prefix`` is ``""`` or ends with ``/``; both lists hold names relative
        to it (child prefixes without the trailing ``/``).
        """

    # ------------------------------------------------------------ optional
    async def get_partial(self, key: str, offset: int, length: int) -> bytes | None:
        """``length`` bytes of ``key`` from ``offset`` (fewer at the end of the value)."""
        value = await self.get(key)
        if value is None:
            return None
        return bytes(memoryview(value)[offset : offset + length])

    async def get_suffix(self, key: str, length: int) -> bytes | None:
        """The last ``length`` bytes of ``key`` (the whole value if shorter)."""
        value = await self.get(key)
        if value is None:
            return None
        return bytes(memoryview(value)[max(0, len(value) - length) :])

    async def get_bounded(self, key: str, limit: int) -> bytes | None:
        """The whole value under ``key``, refused with ResourceLimitError when it is larger
        than ``limit`` bytes: stores with ranged reads fetch at most ``limit + 1`` bytes to
        find out, so a huge object at a chunk key is never downloaded whole."""
        value = await (self.get_partial(key, 0, limit + 1) if self.partial_reads else self.get(key))
        if value is not None and len(value) > limit:
            raise ResourceLimitError(f"the value under {key!r} is larger than {limit} bytes (max_read_bytes)")
        return value

    async def get_suffix_with_size(self, key: str, length: int) -> tuple[bytes, int | None] | None:
        """``get_suffix`` plus the value's total size when the backend says it for free
        (HTTP's Content-Range); ``None`` size when it does not. Used to check shard indexes."""
        data = await self.get_suffix(key, length)
        return None if data is None else (data, None)

    async def get_ranges(self, key: str, ranges: Sequence[ByteRange]) -> builtins.list[bytes] | None:
        """Several ranges of one value, or ``None`` when the key is missing.

        The default coalesces nearby ranges (``coalesce_max_gap``,
        ``coalesce_max_size``) and fetches the merged ranges concurrently.
        A store without true ranged reads fetches the value once.
        """
        if not ranges:
            return [] if await self.exists(key) else None
        if not self.partial_reads:
            value = await self.get(key)
            if value is None:
                return None
            view = memoryview(value)
            return [bytes(view[o : o + n]) for o, n in ranges]
        merged = coalesce_ranges(ranges, max_gap=self.coalesce_max_gap, max_size=self.coalesce_max_size)
        parts = await asyncio.gather(*(self.get_partial(key, o, n) for (o, n), _ in merged))
        out: list[bytes] = [b""] * len(ranges)
        for ((start, _), members), data in zip(merged, parts, strict=True):
            if data is None:
                return None
            view = memoryview(data)
            for i in members:
                off, length = ranges[i]
                out[i] = bytes(view[off - start : off - start + length])
        return out

    async def erase_prefix(self, prefix: str) -> None:
        """Erase every key under ``prefix`` (concurrently)."""
        self.check_writable()
        keys = await self.list(prefix)
        await asyncio.gather(*(self.erase(k) for k in keys))

    # ------------------------------------------------------------ optional: writers in other processes
    async def get_versioned(self, key: str) -> tuple[bytes, str] | None:
        """The value under ``key`` and an opaque token of its version (an ETag), or ``None`` when
        missing; only where ``conditional_writes`` (the engine then pairs it with ``set_if``)."""
        raise NotImplementedError(f"{type(self).__name__} has no conditional writes")

    async def set_if(self, key: str, value: bytes, version: str | None) -> bool:
        """Store ``value`` only if ``key`` still holds ``version`` (``None``: only if ``key`` is
        missing), atomically; ``False`` when it does not. Only where ``conditional_writes``."""
        raise NotImplementedError(f"{type(self).__name__} has no conditional writes")

    async def append(self, key: str, data: bytes, expected_size: int) -> bool:
        """Make the value under ``key`` itself followed by ``data``, only if it is ``expected_size``
        bytes long now; ``False`` when it is not (or is missing). Atomic for readers: a reader sees
        the old value or the new one, never a mix. Only where ``appends`` (the engine then updates
        a few inner chunks of a shard by appending them and a new index: :mod:`zarrio.codecs.shard_update`)."""
        raise NotImplementedError(f"{type(self).__name__} cannot append")

    def key_lock(self, key: str) -> AbstractContextManager[None] | None:
        """A lock on ``key`` that excludes writers in other processes (entered and left in worker
        threads), or ``None`` (the default): the engine holds it around each read-modify-write and
        store of ``key``. Writers in this process are ordered by the engine, never by this lock."""
        return None

    # ------------------------------------------------------------ optional: what a cache may keep
    def seen_versions(self) -> VersionPins | None:
        """The version (ETag) each key's latest read came with (HttpStore, ObjectStore), else ``None``:
        the decoded-chunk cache labels what it keeps with it (``zarrio.engine.chunk_cache``)."""
        pins = getattr(self, "_versions", None)  # ObjectStore's pins: every ranged read's version
        return pins if isinstance(pins, VersionPins) else None

    async def current_version(self, key: str) -> str | None:
        """The version (an ETag) ``key`` holds now, asked for at less cost than reading it (a
        one-byte GET, a HEAD), or ``None`` (missing, or the store cannot tell)."""
        return None

    def expect_reads(self, count: int) -> None:
        """A hint: about ``count`` reads of this store will follow shortly.

        The engine gives it while a sharded read waits for shard indexes. A store
        with a setup cost per request stream may prepare meanwhile (``HttpStore``
        opens connections); the default does nothing. Must not block or raise.
        """

    async def close(self) -> None:
        """Release resources (sessions, file handles). Idempotent."""

    # ------------------------------------------------------------ helpers
    def check_writable(self) -> None:
        """Raise :class:`~zarrio.errors.ReadOnlyError` when the store is ``read_only``: what every
        writing method of an async store calls first (``BlockingStore`` calls it for you)."""
        if self.read_only:
            raise ReadOnlyError(f"{self!r} is read-only")

    _check_writable = check_writable  # the name custom stores used before it was public

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
