"""The async half of the engine: a read or write planned as units (stored objects),
each unit's I/O described by its codec's read plan, run by one of two drivers:

* stores with blocking access (memory, local disk): the units are split into a
  few batches per worker thread, and each batch's plans run, decode and place in
  one worker-thread call (:func:`~zarrio.engine.drivers.run_blocking`), no
  per-chunk hop;
* every other store (HTTP, zip, wrappers, custom stores): every unit's plan runs
  at once on the :class:`~zarrio.engine.drivers.AsyncDriver`, which batches their
  reads per key and loop iteration, and the fetched bytes go to the codec pool in
  batches as they arrive, so decoding overlaps fetching.

Writes are one merge-and-encode per unit whatever the store, through the process's
write queue (:mod:`.writes`): read-modify-writes of one object never lose an update.
"""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import numpy as np

from .._tasks import gather_typed
from ..codecs import CodecChain
from ..errors import CodecError, ObjectChangedError, ResourceLimitError, SelectionError
from ..indexing import IndexPlan, plan, selection_shape
from ..metadata.chunk_grids import ChunkGrid
from ..stores.base import Store
from ..stores.blocking import BlockingAccess, blocking_access
from .cached_reads import ArrayCache
from .drivers import AsyncDriver
from .executor import codec_workers, empty_output, run_in_pool, run_jobs_blocking, submit_to_pool
from .kernels import ChunkKernels, Parts, ShardMembers, Unit
from .placement import BLOCK_MEMBERS
from .small_reads import SmallReadGate
from .whole_chunks import read_whole_chunks
from .writes import erase_key_async, write_unit_async, write_units_blocking

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


#: below this many decoded bytes per (inner) chunk a read's or write's work is mostly Python,
#: which holds the GIL: one thread does it faster than several handing the GIL back and forth
#: at every system call (2000² uint8 in 10² chunks: 1.4 s on one codec thread, 3.4 s on two)
GIL_BOUND_CHUNK_BYTES = 32 * 1024
#: a batch of more chunks than this reads them on its own: sharing a chunk's read pays off for
#: the many small concurrent reads of few chunks (windows, tiles, one-element reads from many
#: threads), and its bookkeeping (an entry per chunk) is 6% of a whole read of 40,000 tiny chunks
SHARED_READ_MAX_CHUNKS = 256


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

    def __init__(self, fn: Callable[..., None], *args: Any) -> None:
        self._fn, self._args = fn, args  # each batch runs fn(*args, items)
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
            fut = submit_to_pool(self._fn, *self._args, items)
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
        cache_bytes: int | None = None,
        chunk_grid: ChunkGrid | None = None,
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
            chunk_grid=chunk_grid,
        )
        self.store = store
        self.driver = AsyncDriver(store, layouts_kept=index_cache_size)
        #: the store's blocking methods when it is a BlockingStore (asked once: a store keeps its class)
        self.blocking = blocking_access(store)
        #: the decoded-chunk cache as this array uses it (``cache_bytes``: None follows zarrio.config)
        self.cache = ArrayCache(self, store, self.driver.forget, cache_bytes)
        #: small blocking reads from many threads run one at a time while they are quick
        self.small_reads = SmallReadGate()
        #: stores that do not pin a value's version across reads get a shard's index checked again
        self._recheck = store.consistency == "mutable"
        #: the whole array fits the memory limit (so does any basic selection of it)
        self._array_fits = math.prod(shape) * dtype.itemsize <= max_read_bytes

    # ------------------------------------------------------------------ reads
    def _check_size(self, selection: Any, what: str) -> None:
        """Refuse, before any planning or allocation, work that would not fit the memory limit."""
        basic = type(selection) is tuple and all(type(x) is slice or type(x) is int for x in selection)
        if not (basic and self._array_fits):  # one slice or int per axis selects at most the whole array
            shape = selection_shape(selection, self.shape)
            nbytes = math.prod(shape) * self.dtype.itemsize
            if nbytes > self.max_read_bytes:
                raise ResourceLimitError(
                    f"a {what} of shape {shape} ({nbytes} bytes) exceeds the limit of {self.max_read_bytes} bytes "
                    "(max_read_bytes)"
                )
        largest = self._unit_peak_bytes
        if largest > self.max_read_bytes:
            raise ResourceLimitError(
                f"a chunk of shape {self._unit[1].shape} ({largest} bytes while decoding) exceeds the limit of "
                f"{self.max_read_bytes} bytes (max_read_bytes)"
            )

    def _plan_read(self, selection: Any) -> tuple[IndexPlan, np.ndarray[Any, Any]]:
        self._check_size(selection, "read")
        p = plan(selection, self.shape, self.plan_chunks)
        return p, empty_output(p.shape, self.dtype)

    @staticmethod
    def _result(p: IndexPlan, out: np.ndarray[Any, Any]) -> Any:
        # a NumPy scalar when every axis is an int, and for any read of a rank-0 array (as zarr-python)
        if len(p.shape) == 0 and (not p.dims or any(d.out_len is None for d in p.dims)):
            return out[()]
        return out

    def _blocking_read_jobs(
        self, p: IndexPlan, out: np.ndarray[Any, Any], access: BlockingAccess, *, alone: bool = False
    ) -> list[tuple[Callable[..., None], tuple[Any, ...]]]:
        """The jobs of a blocking-store read, each reading, decoding and placing a batch of units.

        ``alone``: a blocking caller's read (``read_blocking``), whose one job runs in its own thread.
        Such a read shares no chunk with other readers: it would never wait for one, and would serve
        none, as small reads from many threads pass the SmallReadGate one at a time."""
        cache = self.cache.active()
        one_job = self._unit[1].nbytes < GIL_BOUND_CHUNK_BYTES
        if cache is None and (
            (alone and (one_job or p.nchunks == 1))
            or (one_job and (self.sharding is not None or p.nchunks > SHARED_READ_MAX_CHUNKS))
        ):
            # one job over the units as they are planned (shards are never shared): what a unit needs
            # dies once it is placed, so the collector does not scan every chunk's projection again
            # and again (1 s reads of 40,000 tiny chunks spent a fifth of their time in it)
            if self.sharding is None and self.layout is None and p.nchunks >= BLOCK_MEMBERS:
                return [(read_whole_chunks, (self, access, out, p))]  # many chunks: a batch at a time
            return [(self.read_units_job, (access, out, self.iter_units(p), None))]
        units = self.units(p)
        batches = [units] if one_job else split_batches(units)
        if cache is not None:
            return [(cache.read_units_job, (access, out, batch)) for batch in batches]
        jobs: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
        for batch in batches:
            shared = None
            if self.sharding is None and len(batch) <= SHARED_READ_MAX_CHUNKS:
                shared = self.shared_reads.join(out, [(key, members[0][1]) for _, key, members in batch])
            jobs.append((self.read_units_job, (access, out, batch, shared)))
        return jobs

    async def read(self, selection: Any) -> Any:
        p, out = self._plan_read(selection)
        if p.nchunks:
            access = self.blocking
            if access is not None:
                await gather_typed(run_in_pool(fn, *args) for fn, args in self._blocking_read_jobs(p, out, access))
            else:
                # every unit's plan runs at once on the async driver; what they return is decoded
                # on the codec pool in batches as it arrives, so decoding overlaps fetching
                cache = self.cache.active()
                batcher = _Batcher(self.place_many if cache is None else cache.place_many, out)
                reads = [self._read_unit(key, members, batcher, cache) for _, key, members in self.units(p)]
                try:  # one unit (a tile inside one chunk or shard) is read in this coroutine, not through gather
                    await (reads[0] if len(reads) == 1 else gather_typed(reads))
                finally:
                    await batcher.finish()
        return self._result(p, out)

    def read_blocking(self, selection: Any) -> Any:
        """Read without an event loop (stores with blocking access only): small reads
        run in the calling thread, larger ones on the codec pool. Over chunks small enough
        that the work is all Python, the whole read (planning too) passes the array's
        SmallReadGate: one thread at a time reads faster than many handing the GIL around."""
        access = self.blocking
        if access is None:
            raise TypeError(f"{self.store!r} has no blocking access")
        if self._unit[1].nbytes < GIL_BOUND_CHUNK_BYTES:
            return self.small_reads.run(self._read_region_blocking, (selection, access))
        return self._read_region_blocking(selection, access)

    def _read_region_blocking(self, selection: Any, access: BlockingAccess) -> Any:
        p, out = self._plan_read(selection)
        if p.nchunks:
            run_jobs_blocking(self._blocking_read_jobs(p, out, access, alone=True))
        return self._result(p, out)

    async def _read_unit(self, key: str, members: ShardMembers, batcher: _Batcher, cache: ArrayCache | None) -> None:
        if cache is not None:
            batcher.add_many(await cache.read_unit(key, members, self._run_read_plan))
            return
        parts = await self._run_read_plan(key, members)
        batcher.add_many((None if parts is None else parts.get(flat), proj, key) for flat, proj in members)

    async def _run_read_plan(self, key: str, members: ShardMembers) -> Parts | None:
        """One unit's plan; a shard found replaced between its index and its data is read once more."""
        for attempt in (1, 2):
            try:
                result = await self.driver.run(key, self.read_plan(key, members, recheck=self._recheck))
                parts = self.parts_of(key, result)
            except ObjectChangedError as e:
                self.driver.forget(key)
                if attempt == 2:
                    e.key = e.key or key
                    raise
                continue
            except CodecError as e:
                self.driver.forget(key)
                raise e.with_key(key) from e.__cause__
            if parts is None:
                self.driver.forget(key)
            return parts
        raise AssertionError("unreachable")  # pragma: no cover

    # ----------------------------------------------------------------- writes
    def _plan_write(self, selection: Any, value: Any) -> tuple[IndexPlan, np.ndarray[Any, Any]]:
        self._check_size(selection, "write")
        p = plan(selection, self.shape, self.plan_chunks)
        arr = np.asarray(value, dtype=self.dtype) if self.dtype != object else _object_array(value)
        try:
            arr = np.broadcast_to(arr, p.shape)
        except ValueError as e:
            raise SelectionError(f"cannot assign a value of shape {arr.shape} to a selection of shape {p.shape}") from e
        return p, arr

    def _write_units(self, p: IndexPlan) -> list[Unit]:
        units = self.units(p)
        if self.sharding is not None:
            for _, key, _ in units:
                self.driver.forget(key)
        return units

    def _blocking_write_jobs(
        self, units: list[Unit], arr: np.ndarray[Any, Any], access: BlockingAccess
    ) -> list[tuple[Callable[..., None], tuple[Any, ...]]]:
        if self.sharding is not None and self._unit[1].nbytes < GIL_BOUND_CHUNK_BYTES:
            # shards of small inner chunks: encoding them is mostly Python, as reading them is, and
            # one thread does it faster than two handing the GIL over at every compression (2000²
            # uint8, 10² in 1000² shards: 0.90-1.33 -> 0.58-0.62 s). Unsharded chunks keep the pool:
            # each is a file created and renamed, system calls that run side by side (one thread
            # took 16.6-27.5 s for 40,000 such files where two took 8.3-15.1 s)
            return [(write_units_blocking, (self, self.store, access, arr, units))]
        per_worker = 1 if self.sharding is not None else 4
        batches = split_batches(units, per_worker)
        return [(write_units_blocking, (self, self.store, access, arr, batch)) for batch in batches]

    async def write(self, selection: Any, value: Any) -> None:
        p, arr = self._plan_write(selection, value)
        if not p.nchunks:
            return
        units = self._write_units(p)
        access = self.blocking
        if access is not None:
            await gather_typed(run_in_pool(fn, *args) for fn, args in self._blocking_write_jobs(units, arr, access))
        else:
            await gather_typed(write_unit_async(self, self.store, unit, arr) for unit in units)

    def write_blocking(self, selection: Any, value: Any) -> None:
        """Write without an event loop (stores with blocking access only)."""
        access = self.blocking
        if access is None:
            raise TypeError(f"{self.store!r} has no blocking access")
        p, arr = self._plan_write(selection, value)
        if p.nchunks:
            run_jobs_blocking(self._blocking_write_jobs(self._write_units(p), arr, access))

    # ------------------------------------------------------------------ misc
    async def erase_outside(self, new_shape: tuple[int, ...]) -> None:
        """Erase stored chunks that lie wholly outside ``new_shape`` (after a shrink); each erase is a
        whole write of the write queue, ordered with the chunk's other writes (writes.erase_key_async)."""
        old_grid = self.grid_shape_of(self.shape)
        new_grid = self.grid_shape_of(new_shape)
        if all(n >= o for n, o in zip(new_grid, old_grid, strict=True)):
            return

        async def erase(coords: tuple[int, ...]) -> None:
            await erase_key_async(self.store, self.chunk_key(coords))

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
