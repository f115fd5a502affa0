"""The async half of the engine: planning a read or write, fetching concurrently,
and handing the chunk work to the codec pool.

Two paths, one result:

* stores with blocking access (memory, local disk): the selection's chunks
  are split into a few batches per worker thread, and each batch is read,
  decoded and placed in one worker-thread call — no per-chunk hop;
* every other store (HTTP, zip in write mode, wrappers, custom stores): every
  chunk (or shard index, then inner chunk ranges) is fetched concurrently,
  bounded by the store's request limiter, and the fetched bytes go to the
  codec pool in batches as they arrive, so decoding overlaps fetching.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

import numpy as np

from .._runtime import (
    codec_workers,
    empty_output,
    gather_typed,
    run_in_pool,
    run_jobs_blocking,
    start_task,
    store_limiter,
    submit_to_pool,
)
from ..codecs import CodecChain
from ..errors import CorruptChunkError, ObjectChangedError, ResourceLimitError, SelectionError
from ..indexing import ChunkProjection, IndexPlan, plan, selection_shape
from ..stores.base import BlockingAccess, Store
from .kernels import MISSING, ChunkKernels, Parts, ShardMembers

__all__ = ["DEFAULT_MAX_READ_BYTES", "ChunkEngine"]

T = TypeVar("T")


def default_max_read_bytes() -> int:
    """The default bound on one read's result (and one chunk): the machine's physical memory, at most 64 GiB."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        physical = 64 * 2**30
    return int(min(64 * 2**30, physical))


DEFAULT_MAX_READ_BYTES = default_max_read_bytes()


#: shard indexes up to this size are checked and parsed on the event loop, not the codec pool
INLINE_INDEX_BYTES = 64 * 1024


def split_batches(items: Sequence[T], per_worker: int = 4) -> list[Sequence[T]]:
    """Split work into a few batches per codec worker (fewer thread hops, balanced load)."""
    n = min(len(items), codec_workers() * per_worker)
    if n <= 1:
        return [items] if items else []
    size = math.ceil(len(items) / n)
    return [items[i : i + size] for i in range(0, len(items), size)]


class _Batcher:
    """Feeds fetched chunks to the codec pool in batches, keeping every worker busy.

    While a worker is free, pending items go out at once, a share of them per
    worker (a whole shard's inner chunks arrive together and are split between
    the workers); otherwise they accumulate and go out as workers free up.

    :meth:`finish` waits on a future that the batches' done callbacks resolve
    when the last batch is done: it never polls (since Python 3.12 awaiting
    futures that are already done does not yield to the loop, so a poll could
    spin before the callbacks that end it have run)."""

    def __init__(self, fn: Callable[[list[Any]], None]) -> None:
        self._fn = fn
        self._items: list[Any] = []
        self._running = 0
        self._limit = codec_workers()
        self._futures: list[asyncio.Future[None]] = []
        self._idle: asyncio.Future[None] | None = None

    def add(self, item: Any) -> None:
        self._items.append(item)
        self._dispatch()

    def add_many(self, items: Iterable[Any]) -> None:
        self._items.extend(items)
        self._dispatch()

    def _dispatch(self) -> None:
        while self._items and self._running < self._limit:
            share = math.ceil(len(self._items) / self._limit)
            items, self._items = self._items[:share], self._items[share:]
            self._running += 1
            # through the loop-wide queue: batches of many concurrent reads that are ready
            # in the same loop iteration share one thread hop
            fut = submit_to_pool(self._fn, items)
            fut.add_done_callback(self._done)
            self._futures.append(fut)

    def _done(self, _: asyncio.Future[None]) -> None:
        self._running -= 1
        self._dispatch()
        if self._running == 0 and self._idle is not None and not self._idle.done():
            self._idle.set_result(None)

    async def finish(self) -> None:
        """Wait until every item added so far has been placed; raise the first batch's error."""
        self._dispatch()
        if self._running:
            self._idle = asyncio.get_running_loop().create_future()
            await self._idle  # resolved by ``_done`` once nothing runs (and so nothing is pending)
        for f in self._futures:
            f.result()


_Request = tuple[list[tuple[int, int]], "np.ndarray[Any, Any] | None", "asyncio.Future[list[bytes] | None]"]


class _RangeRequests:
    """Merges the byte ranges that concurrent readers ask of one shard in the same
    loop iteration into one ``get_ranges`` call, which the store coalesces: two
    tiles whose inner chunks sit next to each other in a shard cost one request.

    A reader that passes the shard ``index`` its ranges came from asks for a
    re-check (stores without version pinning): after the data is read the index
    is read once more for the whole batch, and a reader whose index no longer
    matches gets ObjectChangedError instead of bytes of another version.
    """

    def __init__(self, store: Store, fetch_index: Callable[[str], Awaitable[np.ndarray[Any, Any] | None]]) -> None:
        self.store = store
        self.fetch_index = fetch_index
        self.pending: dict[str, list[_Request]] = {}
        self.running: set[asyncio.Task[None]] = set()

    async def get(
        self, key: str, ranges: list[tuple[int, int]], index: np.ndarray[Any, Any] | None = None
    ) -> list[bytes] | None:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[list[bytes] | None] = loop.create_future()
        waiting = self.pending.setdefault(key, [])
        waiting.append((ranges, index, fut))
        if len(waiting) == 1:
            loop.call_soon(self._start, key)
        return await fut

    def _start(self, key: str) -> None:
        task = asyncio.ensure_future(self._flush(key))
        self.running.add(task)  # the loop keeps only weak references to tasks
        task.add_done_callback(self.running.discard)

    async def _flush(self, key: str) -> None:
        requests = self.pending.pop(key, [])
        merged = sorted({r for ranges, _, _ in requests for r in ranges})
        try:
            async with store_limiter(self.store):
                blobs = await self.store.get_ranges(key, merged)
            fresh = None
            if blobs is not None and any(index is not None for _, index, _ in requests):
                fresh = await self.fetch_index(key)
        except BaseException as e:
            for _, _, fut in requests:
                if not fut.done():
                    fut.set_exception(e)
            return
        found = None if blobs is None else dict(zip(merged, blobs, strict=True))
        for ranges, index, fut in requests:
            if fut.done():
                continue
            if found is not None and index is not None and (fresh is None or not np.array_equal(fresh, index)):
                fut.set_exception(ObjectChangedError("the shard changed while it was being read", key=key))
                continue
            fut.set_result(None if found is None else [found[r] for r in ranges])


class ChunkEngine(ChunkKernels):
    """Reads and writes regions of one array through its store and codecs."""

    def __init__(
        self,
        store: Store,
        *,
        shape: tuple[int, ...],
        chunk_shape: tuple[int, ...],
        dtype: np.dtype[Any],
        fill_value: Any,
        chain: CodecChain,
        chunk_key: Callable[[tuple[int, ...]], str],
        write_empty_chunks: bool = False,
        strict: bool = False,
        max_read_bytes: int = DEFAULT_MAX_READ_BYTES,
        index_cache_size: int = 1024,
    ) -> None:
        super().__init__(
            shape=shape,
            chunk_shape=chunk_shape,
            dtype=dtype,
            fill_value=fill_value,
            chain=chain,
            chunk_key=chunk_key,
            write_empty_chunks=write_empty_chunks,
            strict=strict,
            max_read_bytes=max_read_bytes,
        )
        self.store = store
        self._index_cache: OrderedDict[str, asyncio.Future[np.ndarray[Any, Any] | None]] = OrderedDict()
        self._index_cache_size = index_cache_size
        self._ranges = _RangeRequests(store, self._fetch_index)

    def group_by_shard(self, projections: Iterable[ChunkProjection]) -> list[tuple[tuple[int, ...], ShardMembers]]:
        cps = self.chunks_per_shard
        groups: dict[tuple[int, ...], ShardMembers] = {}
        for proj in projections:
            shard = tuple(c // n for c, n in zip(proj.coords, cps, strict=True))
            local = tuple(c % n for c, n in zip(proj.coords, cps, strict=True))
            flat = int(np.ravel_multi_index(local, cps)) if cps else 0
            groups.setdefault(shard, []).append((flat, proj))
        return list(groups.items())

    # ------------------------------------------------------------------ reads
    def _check_size(self, selection: Any, what: str) -> None:
        """Refuse, before any planning or allocation, work that would not fit the memory limit."""
        shape = selection_shape(selection, self.shape)
        nbytes = math.prod(shape) * self.dtype.itemsize
        if nbytes > self.max_read_bytes:
            raise ResourceLimitError(
                f"a {what} of shape {shape} ({nbytes} bytes) exceeds the limit of {self.max_read_bytes} bytes "
                "(max_read_bytes)"
            )
        chain, unit = self._unit
        largest = chain.largest_nbytes(unit)
        if largest > self.max_read_bytes:
            raise ResourceLimitError(
                f"a chunk of shape {unit.shape} ({largest} bytes while decoding) exceeds the limit of "
                f"{self.max_read_bytes} bytes (max_read_bytes)"
            )

    def _plan_read(self, selection: Any) -> tuple[IndexPlan, np.ndarray[Any, Any]]:
        self._check_size(selection, "read")
        p = plan(selection, self.shape, self.read_chunk_shape)
        return p, empty_output(p.shape, self.dtype)

    @staticmethod
    def _result(p: IndexPlan, out: np.ndarray[Any, Any]) -> Any:
        if len(p.shape) == 0 and any(d.out_len is None for d in p.dims):
            return out[()]
        return out

    def _blocking_read_jobs(
        self, p: IndexPlan, out: np.ndarray[Any, Any], access: BlockingAccess
    ) -> list[tuple[Callable[..., None], tuple[Any, ...]]]:
        if self.sharding is None:
            return [(self.read_chunks_job, (access, out, b, self.share_reads(out, b))) for b in split_batches(list(p))]
        return [(self.read_shards_job, (access, out, b)) for b in split_batches(self.group_by_shard(p))]

    async def read(self, selection: Any) -> Any:
        p, out = self._plan_read(selection)
        if p.nchunks:
            access = self.store.blocking_access()
            if access is not None:
                await gather_typed(run_in_pool(fn, *args) for fn, args in self._blocking_read_jobs(p, out, access))
            elif self.sharding is None:
                await self._fetch_chunks(p, out)
            else:
                await self._fetch_shards(p, out)
        return self._result(p, out)

    def read_blocking(self, selection: Any) -> Any:
        """Read without an event loop (stores with blocking access only): small reads
        run in the calling thread, larger ones on the codec pool."""
        access = self.store.blocking_access()
        if access is None:
            raise TypeError(f"{self.store!r} has no blocking access")
        p, out = self._plan_read(selection)
        if p.nchunks:
            run_jobs_blocking(self._blocking_read_jobs(p, out, access))
        return self._result(p, out)

    async def _fetch_chunks(self, p: IndexPlan, out: np.ndarray[Any, Any]) -> None:
        batcher = _Batcher(lambda items: self.place_many(out, items))
        sem = store_limiter(self.store)
        store = self.store

        async def fetch(proj: ChunkProjection) -> None:
            key = self.chunk_key(proj.coords)
            async with sem:
                data = await store.get_bounded(key, self.max_read_bytes)
            if data is not None:
                self.check_stored_size(len(data), key)
            batcher.add((data, proj, key))

        try:
            await gather_typed(fetch(proj) for proj in p)
        finally:
            await batcher.finish()

    async def _fetch_shards(self, p: IndexPlan, out: np.ndarray[Any, Any]) -> None:
        batcher = _Batcher(lambda items: self.place_many(out, items))

        async def read_shard(shard: tuple[int, ...], members: ShardMembers) -> None:
            key = self.chunk_key(shard)
            wanted = sorted({flat for flat, _ in members})
            if len(wanted) == self.n_inner:
                parts = await self._fetch_whole_shard(key)
            else:
                self._announce_reads(key, wanted)
                parts = await self._fetch_inner_chunks(key, wanted)
            batcher.add_many((None if parts is None else parts.get(flat), proj, key) for flat, proj in members)

        try:
            await gather_typed(read_shard(s, m) for s, m in self.group_by_shard(p))
        finally:
            await batcher.finish()

    def _announce_reads(self, key: str, wanted: list[int]) -> None:
        """Before waiting for a shard's index, tell the store how many reads will follow
        it (one per run of adjacent inner chunks: those are usually adjacent bytes)."""
        cached = self._index_cache.get(key)
        if cached is not None and cached.done():
            return
        runs = 1 + sum(1 for before, after in itertools.pairwise(wanted) if after != before + 1)
        self.store.expect_reads(runs)

    async def _fetch_whole_shard(self, key: str) -> Parts | None:
        async with store_limiter(self.store):
            data = await self.store.get(key)
        return None if data is None else self.split_shard(data, key)

    async def _fetch_index(self, key: str) -> np.ndarray[Any, Any] | None:
        assert self.sharding is not None
        n = self.index_nbytes
        size: int | None = None
        async with store_limiter(self.store):
            if self.sharding.index_location == "start":
                data = await self.store.get_partial(key, 0, n)
            else:
                sized = await self.store.get_suffix_with_size(key, n)
                data, size = (None, None) if sized is None else sized
        if data is None:
            return None
        if len(data) != n:
            raise CorruptChunkError(f"shard index is truncated: {len(data)} of {n} bytes", key=key)
        if n <= INLINE_INDEX_BYTES:  # a checksum of a few KiB: cheaper here than a thread hop
            return self.parse_index(data, key, size)
        return await run_in_pool(self.parse_index, data, key, size)

    async def _shard_index(self, key: str) -> np.ndarray[Any, Any] | None:
        """The index of one shard. Concurrent callers share one request; immutable and
        version-pinning stores keep indexes in a bounded LRU."""
        fut = self._index_cache.get(key)
        if fut is not None:
            self._index_cache.move_to_end(key)
            return await asyncio.shield(fut)
        # started at once: when 256 tiles are planned in one loop iteration, their shards'
        # index requests go out while the rest are still being planned
        fut = start_task(self._fetch_index(key))
        self._index_cache[key] = fut
        # a cached index is safe where the shard cannot change (immutable) or where a change is
        # detected on the next ranged read (versioned reads: ETag / If-Match)
        keep = self.store.immutable or self.store.versioned_reads
        try:
            return await asyncio.shield(fut)
        except BaseException:
            self._index_cache.pop(key, None)
            raise
        finally:
            if not keep:
                self._index_cache.pop(key, None)
            while len(self._index_cache) > self._index_cache_size:
                self._index_cache.popitem(last=False)

    def invalidate_index(self, key: str) -> None:
        self._index_cache.pop(key, None)

    async def _fetch_inner_chunks(self, key: str, wanted: list[int]) -> Parts | None:
        """The wanted inner chunks of one shard, from the same version as its index:
        if the shard was replaced in between (``ObjectChangedError``), read it again once."""
        try:
            return await self._fetch_inner_chunks_once(key, wanted)
        except ObjectChangedError:
            self.invalidate_index(key)
            return await self._fetch_inner_chunks_once(key, wanted)

    async def _fetch_inner_chunks_once(self, key: str, wanted: list[int]) -> Parts | None:
        index = await self._shard_index(key)
        if index is None:
            return None
        present = [f for f in wanted if index[f, 0] != MISSING]
        ranges = [(int(index[f, 0]), int(index[f, 1])) for f in present]
        for _, length in ranges:
            self.check_stored_size(length, key)
        parts: Parts = dict.fromkeys(wanted)
        if not ranges:
            return parts
        # without version pinning, the index is read again after the data (once per batch)
        recheck = not (self.store.versioned_reads or self.store.immutable)
        blobs = await self._ranges.get(key, ranges, index if recheck else None)
        if blobs is None:
            self.invalidate_index(key)
            return None
        for f, (_, length), blob in zip(present, ranges, blobs, strict=True):
            if len(blob) != length:
                self.invalidate_index(key)
                raise CorruptChunkError(
                    f"inner chunk {f} of the shard: expected {length} bytes, got {len(blob)}", key=key
                )
            parts[f] = blob
        return parts

    # ----------------------------------------------------------------- writes
    def _plan_write(self, selection: Any, value: Any) -> tuple[IndexPlan, np.ndarray[Any, Any]]:
        self._check_size(selection, "write")
        p = plan(selection, self.shape, self.read_chunk_shape)
        arr = np.asarray(value, dtype=self.dtype) if self.dtype != object else _object_array(value)
        try:
            arr = np.broadcast_to(arr, p.shape)
        except ValueError as e:
            raise SelectionError(f"cannot assign a value of shape {arr.shape} to a selection of shape {p.shape}") from e
        return p, arr

    def _blocking_write_jobs(
        self, p: IndexPlan, arr: np.ndarray[Any, Any], access: BlockingAccess
    ) -> list[tuple[Callable[..., None], tuple[Any, ...]]]:
        if self.sharding is None:
            return [(self.write_chunks_job, (access, arr, b)) for b in split_batches(list(p))]
        shards = self.group_by_shard(p)
        for shard, _ in shards:
            self.invalidate_index(self.chunk_key(shard))
        return [(self.write_shards_job, (access, arr, b)) for b in split_batches(shards, 1)]

    async def write(self, selection: Any, value: Any) -> None:
        p, arr = self._plan_write(selection, value)
        if not p.nchunks:
            return
        access = self.store.blocking_access()
        if access is not None:
            await gather_typed(run_in_pool(fn, *args) for fn, args in self._blocking_write_jobs(p, arr, access))
        elif self.sharding is None:
            await gather_typed(self._write_chunk(proj, arr) for proj in p)
        else:
            shards = self.group_by_shard(p)
            for shard, _ in shards:
                self.invalidate_index(self.chunk_key(shard))
            await gather_typed(self._write_shard(s, m, arr) for s, m in shards)

    def write_blocking(self, selection: Any, value: Any) -> None:
        """Write without an event loop (stores with blocking access only)."""
        access = self.store.blocking_access()
        if access is None:
            raise TypeError(f"{self.store!r} has no blocking access")
        p, arr = self._plan_write(selection, value)
        if p.nchunks:
            run_jobs_blocking(self._blocking_write_jobs(p, arr, access))

    async def _write_chunk(self, proj: ChunkProjection, value: np.ndarray[Any, Any]) -> None:
        key = self.chunk_key(proj.coords)
        sem = store_limiter(self.store)
        old = None
        if not proj.is_complete:
            async with sem:
                old = await self.store.get(key)
        encoded = await run_in_pool(self.merge, old, proj, value, self.chain, self.spec, key)
        async with sem:
            if encoded is None:
                await self.store.erase(key)
            else:
                await self.store.set(key, encoded)

    async def _write_shard(self, shard: tuple[int, ...], members: ShardMembers, value: np.ndarray[Any, Any]) -> None:
        key = self.chunk_key(shard)
        old: Parts | None = None
        if self.shard_needs_old(shard, members):
            old = await self._fetch_whole_shard(key)
        encoded = await run_in_pool(self.build_shard, shard, members, value, old, key)
        async with store_limiter(self.store):
            if encoded is None:
                await self.store.erase(key)
            else:
                await self.store.set(key, encoded)

    # ------------------------------------------------------------------ misc
    async def erase_outside(self, new_shape: tuple[int, ...]) -> None:
        """Erase stored chunks that lie wholly outside ``new_shape`` (after a shrink)."""
        old_grid = [math.ceil(s / c) for s, c in zip(self.shape, self.chunk_shape, strict=True)]
        new_grid = [math.ceil(s / c) for s, c in zip(new_shape, self.chunk_shape, strict=True)]
        if all(n >= o for n, o in zip(new_grid, old_grid, strict=True)):
            return
        sem = store_limiter(self.store)

        async def erase(coords: tuple[int, ...]) -> None:
            async with sem:
                await self.store.erase(self.chunk_key(coords))

        doomed = (c for c in np.ndindex(*old_grid) if any(ci >= ni for ci, ni in zip(c, new_grid, strict=True)))
        await gather_typed(erase(tuple(int(x) for x in c)) for c in doomed)


def _object_array(value: Any) -> np.ndarray[Any, Any]:
    if isinstance(value, np.ndarray):
        return value.astype(object)
    if isinstance(value, (str, bytes)):
        out = np.empty((), dtype=object)
        out[()] = value
        return out
    return np.asarray(value, dtype=object)
