"""How one array reads through the decoded-chunk cache (:mod:`.chunk_cache`, where the rules are):
one call on each read path of the engine, :meth:`ArrayCache.read_unit` on the async driver's and
:meth:`ArrayCache.read_units_job` on the blocking one's, and the placing of what they return."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import cached_property
from typing import Any

import numpy as np

from .._config import config
from ..codecs.sharding import PartialShard, Parts
from ..errors import CodecError
from ..indexing import ChunkProjection
from ..stores.base import Store
from ..stores.blocking import BlockingAccess
from .chunk_cache import CHUNK_CACHE, Entry, EntryKey, store_ident
from .executor import store_limiter
from .kernels import ChunkKernels, ShardMembers, Unit

__all__ = ["ArrayCache"]


class _Hit:
    __slots__ = ("chunk",)

    def __init__(self, chunk: np.ndarray[Any, Any]) -> None:
        self.chunk = chunk


class _Miss:
    """Fetched bytes to decode, keep (if still current) and place."""

    __slots__ = ("data", "ek", "stamp", "version")

    def __init__(self, data: Any, ek: EntryKey, version: str | None, stamp: int) -> None:
        self.data, self.ek, self.version, self.stamp = data, ek, version, stamp


Item = tuple[Any, ChunkProjection, str]
_UNKNOWN = object()  # a version label the read cannot vouch for: not kept


class ArrayCache:
    """What one array's engine asks of :data:`CHUNK_CACHE`: one call per read path
    (:meth:`read_unit` on the async driver's, :meth:`read_units_job` on the blocking one's)."""

    def __init__(
        self, kernels: ChunkKernels, store: Store, forget: Callable[[str], None], cache_bytes: int | None
    ) -> None:
        self.k = kernels
        self.store = store
        self.forget = forget
        self.cache_bytes = cache_bytes
        if cache_bytes:
            CHUNK_CACHE.ask(cache_bytes)

    @cached_property
    def decoding(self) -> tuple[str, str, tuple[int, ...], str]:
        """What decoding the entries depend on (worked out on first use: an open that never reads
        through the cache does not pay for it)."""
        k = self.k
        return (repr(k.chain.to_json()), k.dtype.str, k.chunk_shape, repr(k.fill_value))

    @cached_property
    def ident(self) -> Any:
        return store_ident(self.store)

    def active(self) -> ArrayCache | None:
        """Self when this array reads through the cache now (``cache_bytes=``, else ``cache.bytes``)."""
        if self.cache_bytes is None:
            return self if int(config.get("cache.bytes")) > 0 else None  # not another array's cache_bytes=
        return self if self.cache_bytes > 0 else None

    def _revalidating(self) -> bool:
        return (
            self.store.consistency != "immutable"
            and self.store.seen_versions() is not None
            and bool(config.get("cache.revalidate"))
        )

    def _ek(self, key: str, flat: int) -> EntryKey:
        return (self.ident, key, self.decoding, flat)

    def _found(self, key: str, members: ShardMembers) -> dict[int, Entry]:
        found = {}
        for flat, _ in members:
            entry = CHUNK_CACHE.get(self._ek(key, flat))
            if entry is not None:
                found[flat] = entry
        return found

    def _split(self, key: str, members: ShardMembers, found: dict[int, Entry]) -> tuple[list[Item], ShardMembers]:
        hits = [(_Hit(found[flat].chunk), proj, key) for flat, proj in members if flat in found]
        CHUNK_CACHE.count("hits", len(hits))
        missing = [(flat, proj) for flat, proj in members if flat not in found]
        CHUNK_CACHE.count("misses", len(missing))
        return hits, missing

    def _misses(self, key: str, parts: Parts | None, missing: ShardMembers, version: Any, stamp: int) -> list[Item]:
        items: list[Item] = []
        for flat, proj in missing:
            data = None if parts is None else parts.get(flat)
            if data is None or version is _UNKNOWN or isinstance(data, PartialShard):
                items.append((data, proj, key))  # placed as without the cache (a partial shard: not the chunk)
            else:
                items.append((_Miss(data, self._ek(key, flat), version, stamp), proj, key))
        return items

    # ------------------------------------------------------------ the async driver's path
    async def read_unit(
        self, key: str, members: ShardMembers, fetch: Callable[[str, ShardMembers], Awaitable[Parts | None]]
    ) -> list[Item]:
        """The items of one stored object for :meth:`place_many`: its cached chunks, and (read by
        ``fetch``) the rest; a revalidating store is asked for the object's version first."""
        found = self._found(key, members)
        revalidating = self._revalidating()
        if found and revalidating:
            CHUNK_CACHE.count("revalidations")
            async with store_limiter(self.store):
                current = await self.store.current_version(key)
            if current is None or any(entry.version != current for entry in found.values()):
                CHUNK_CACHE.count("stale")
                CHUNK_CACHE.drop(self.store, key)
                self.forget(key)  # a kept shard index is of the old version too
                found = {}
        hits, missing = self._split(key, members, found)
        if not missing:
            return hits
        stamp = CHUNK_CACHE.now()
        pins = self.store.seen_versions() if revalidating else None
        before = None if pins is None else pins.snapshot(key)
        parts = await fetch(key, missing)
        version: Any = None
        if pins is not None and before is not None:
            version = _label(pins.snapshot(key), before) if self.store.seen_versions() is pins else _UNKNOWN
        return hits + self._misses(key, parts, missing, version, stamp)

    # ------------------------------------------------------------ the blocking path (memory, local files)
    def read_units_job(self, access: BlockingAccess, out: np.ndarray[Any, Any], units: Sequence[Unit]) -> None:
        """Read (what is not cached), decode and place a batch of units on a worker thread; the
        stores with blocking access are trusted (see the module docstring)."""
        for _, key, members in units:
            hits, missing = self._split(key, members, self._found(key, members))
            self.place_many(out, hits)
            if missing:
                stamp = CHUNK_CACHE.now()
                parts = self.k._read_blocking(access, key, missing)
                self.place_many(out, self._misses(key, parts, missing, None, stamp))

    # ------------------------------------------------------------ placing (codec workers)
    def place_many(self, out: np.ndarray[Any, Any], items: Sequence[Item]) -> None:
        k = self.k
        for data, proj, key in items:
            if isinstance(data, _Hit):
                out[proj.out_index()] = data.chunk[proj.chunk_index()]
            elif isinstance(data, _Miss):
                chain, spec = k.layout.unit(proj.coords) if k._varying_units else k._unit  # type: ignore[union-attr]
                try:
                    chunk = chain.decode(data.data, spec)
                except CodecError as e:
                    raise e.with_key(key) from e.__cause__
                chunk = _detached(chunk)
                if chunk.flags.writeable:
                    chunk.flags.writeable = False  # readers get copies; nobody writes the kept chunk
                CHUNK_CACHE.put(data.ek, Entry(chunk, data.version), data.stamp, self.store)
                out[proj.out_index()] = chunk[proj.chunk_index()]
            else:
                k.place(out, data, proj, key)


def _detached(chunk: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """``chunk``, or a copy of it when it views a larger buffer (an uncompressed inner chunk views
    its whole shard, or a multi-range answer): the cache counts a chunk's own bytes, so a kept
    chunk must hold no others alive."""
    owner: Any = chunk
    while isinstance(owner, np.ndarray) and owner.base is not None:
        owner = owner.base
    if isinstance(owner, memoryview):
        owner = owner.obj
    try:
        held = memoryview(owner).nbytes
    except (TypeError, ValueError, BufferError):  # no buffer to share (objects, StringDType): nothing larger held
        return chunk
    return chunk.copy() if held > chunk.nbytes else chunk


def _label(after: tuple[str | None, int], before: tuple[str | None, int]) -> Any:
    """The version a fetch's bytes are of, from the key's seen version before and after it: unchanged,
    or set once from nothing (by the fetch itself); else (another answer came meanwhile) unknown."""
    etag, changes = after
    if etag is None:
        return _UNKNOWN
    if after == before or (before[0] is None and changes == before[1] + 1):
        return etag
    return _UNKNOWN
