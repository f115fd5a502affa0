"""Store wrappers for tests and benchmarks (no pytest needed): :class:`ForwardingStore` forwards
every call to another store, :class:`CountingStore` counts calls and bytes per method,
:class:`LatencyStore` adds a delay to every call."""

from __future__ import annotations

import asyncio
import builtins
from collections import Counter
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TypeVar

from ..stores._versions import VersionPins
from ..stores.base import ByteRange, Store

__all__ = ["CountingStore", "ForwardingStore", "LatencyStore", "close_store"]

_T = TypeVar("_T")


async def close_store(store: Store) -> None:
    """Close ``store``: ``await store.aclose()`` when it has one, else ``await store.close()``."""
    aclose = getattr(store, "aclose", None)
    if aclose is not None:
        await aclose()
    else:
        await store.close()


# ---------------------------------------------------------------- wrappers
class ForwardingStore(Store):
    """A store that forwards every call to ``inner``; subclass it to observe calls.

    The capability flags (``read_only``, ``listable``, ``partial_reads``,
    ``max_concurrency`` and the coalescing limits) are copied from ``inner``.
    Override :meth:`before` (awaited before each call) and :meth:`after`
    (sees each result).

    ``forwards_to`` names ``inner`` as the store that holds this store's values
    (same keys, same bytes): the engine's write queue orders writes through the
    wrapper with writes straight to ``inner`` (docs/reliability.md, "Concurrent
    writers"). A subclass that changes keys or bytes sets it to None.
    """

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.forwards_to: Store | None = inner
        self.read_only = inner.read_only
        self.listable = inner.listable
        self.partial_reads = inner.partial_reads
        self.max_concurrency = inner.max_concurrency
        self.coalesce_max_gap = inner.coalesce_max_gap
        self.coalesce_max_size = inner.coalesce_max_size
        self.consistency = inner.consistency
        self.conditional_writes = inner.conditional_writes
        self.appends = inner.appends

    async def before(self, method: str, key: str | None) -> None:
        """Called before ``method`` is forwarded."""

    def after(self, method: str, result: _T) -> _T:
        """Sees the result of ``method``; returns it."""
        return result

    async def get(self, key: str) -> bytes | None:
        await self.before("get", key)
        return self.after("get", await self.inner.get(key))

    async def get_partial(self, key: str, offset: int, length: int) -> bytes | None:
        await self.before("get_partial", key)
        return self.after("get_partial", await self.inner.get_partial(key, offset, length))

    async def get_suffix(self, key: str, length: int) -> bytes | None:
        await self.before("get_suffix", key)
        return self.after("get_suffix", await self.inner.get_suffix(key, length))

    async def get_suffix_with_size(self, key: str, length: int) -> tuple[bytes, int | None] | None:
        if type(self).get_suffix is not ForwardingStore.get_suffix:
            return await super().get_suffix_with_size(key, length)  # honour a subclass's own get_suffix
        await self.before("get_suffix", key)
        return self.after("get_suffix", await self.inner.get_suffix_with_size(key, length))

    async def get_ranges(self, key: str, ranges: Sequence[ByteRange]) -> builtins.list[bytes] | None:
        await self.before("get_ranges", key)
        return self.after("get_ranges", await self.inner.get_ranges(key, ranges))

    async def set(self, key: str, value: bytes) -> None:
        await self.before("set", key)
        await self.inner.set(key, value)

    async def erase(self, key: str) -> None:
        await self.before("erase", key)
        await self.inner.erase(key)

    async def erase_prefix(self, prefix: str) -> None:
        await self.before("erase_prefix", prefix)
        await self.inner.erase_prefix(prefix)

    async def exists(self, key: str) -> bool:
        await self.before("exists", key)
        return self.after("exists", await self.inner.exists(key))

    async def list(self, prefix: str = "") -> builtins.list[str]:
        await self.before("list", prefix)
        return self.after("list", await self.inner.list(prefix))

    async def list_dir(self, prefix: str = "") -> tuple[builtins.list[str], builtins.list[str]]:
        await self.before("list_dir", prefix)
        return self.after("list_dir", await self.inner.list_dir(prefix))

    def expect_reads(self, count: int) -> None:
        self.inner.expect_reads(count)

    async def get_versioned(self, key: str) -> tuple[bytes, str] | None:
        await self.before("get_versioned", key)
        return self.after("get_versioned", await self.inner.get_versioned(key))

    async def set_if(self, key: str, value: bytes, version: str | None) -> bool:
        await self.before("set_if", key)
        return self.after("set_if", await self.inner.set_if(key, value, version))

    def key_lock(self, key: str) -> AbstractContextManager[None] | None:
        return self.inner.key_lock(key)

    async def append(self, key: str, data: bytes, expected_size: int) -> bool:
        await self.before("append", key)
        return self.after("append", await self.inner.append(key, data, expected_size))

    def seen_versions(self) -> VersionPins | None:
        return self.inner.seen_versions()

    async def current_version(self, key: str) -> str | None:
        await self.before("current_version", key)
        return self.after("current_version", await self.inner.current_version(key))

    async def close(self) -> None:
        await self.before("close", None)
        await close_store(self.inner)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.inner!r})"


class CountingStore(ForwardingStore):
    """Counts calls per method (``.counts``), bytes read and bytes written.

    ``counts["get_ranges"]`` counts ``get_ranges`` calls made on this wrapper,
    not the requests the inner store makes to serve them.
    """

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.counts: Counter[str] = Counter()
        self.bytes_read = 0
        self.bytes_written = 0

    def reset(self) -> None:
        """Zero every counter."""
        self.counts.clear()
        self.bytes_read = 0
        self.bytes_written = 0

    async def before(self, method: str, key: str | None) -> None:
        self.counts[method] += 1

    def after(self, method: str, result: _T) -> _T:
        if isinstance(result, tuple) and result and isinstance(result[0], bytes):  # get_suffix_with_size
            self.bytes_read += len(result[0])
        elif isinstance(result, bytes):
            self.bytes_read += len(result)
        elif method == "get_ranges" and isinstance(result, builtins.list):
            self.bytes_read += sum(len(part) for part in result)
        return result

    async def set(self, key: str, value: bytes) -> None:
        await super().set(key, value)
        self.bytes_written += len(value)

    async def append(self, key: str, data: bytes, expected_size: int) -> bool:
        appended = await super().append(key, data, expected_size)
        self.bytes_written += len(data) if appended else 0
        return appended


class LatencyStore(ForwardingStore):
    """Adds ``await asyncio.sleep(delay_s)`` before every call (a slow network, simulated)."""

    def __init__(self, inner: Store, delay_s: float) -> None:
        super().__init__(inner)
        self.delay_s = delay_s

    async def before(self, method: str, key: str | None) -> None:
        await asyncio.sleep(self.delay_s)

    def __repr__(self) -> str:
        return f"LatencyStore({self.inner!r}, delay_s={self.delay_s})"
