"""The two drivers that run read plans (:mod:`zarrio.codecs.plan`) against a store.

* :class:`AsyncDriver` runs many plans at once on the event loop. Every partial
  read the plans yield for one key in the same loop iteration is answered by one
  store call per kind: all their byte ranges merge into one ``get_ranges`` (which
  the store coalesces), identical reads share one request. A whole-value read
  has nothing to merge with and goes out at once from the plan's own task. Layout reads (a shard's
  index) are shared by concurrent plans and kept while the store guarantees the
  value cannot change under them (``Store.consistency`` not ``"mutable"``).
* :func:`run_blocking` runs one plan inside a worker thread through a store's
  blocking access (memory, local disk): a plan that wants the whole value (a
  plain chunk) gets it in one bounded read (three system calls for a small
  local file); one that reads ranges (a shard's index, then its inner chunks)
  gets them from one open version of the value.

Neither knows what the plan is about: a plain chunk and a shard differ only in
the plan the codec hands them.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any, TypeVar

from .._tasks import start_task
from ..codecs.plan import Plan, Read
from ..errors import ResourceLimitError
from ..stores.base import RangeReader, Store
from ..stores.blocking import BlockingAccess
from .chunk_cache import CHUNK_CACHE
from .executor import run_in_pool, store_limiter

__all__ = ["AsyncDriver", "run_blocking"]

T = TypeVar("T")

#: a plan's next step runs on the codec pool when the answer it gets is larger (a big index to check)
INLINE_STEP_BYTES = 64 * 1024


def _step(plan: Plan[Any], answer: Any) -> tuple[bool, Any]:
    """Send ``answer`` to ``plan``: ``(False, next read)`` or ``(True, result)``."""
    try:
        return False, plan.send(answer)
    except StopIteration as done:
        return True, done.value


def _nbytes(answer: Any) -> int:
    if isinstance(answer, bytes | bytearray | memoryview):
        return len(answer)
    if isinstance(answer, tuple) and answer:  # (suffix, size)
        return _nbytes(answer[0])
    return 0


def run_blocking(plan: Plan[T], access: BlockingAccess, key: str, hint: int) -> T:
    """Run ``plan`` about the value under ``key`` to its result (``hint``: the value's likely
    largest size, see ``BlockingStore.get_bounded_sync``). A whole-value read asked first needs
    no open reader; any other read opens one, and every later read is answered from it."""
    finished, value = _step(plan, None)
    if finished:
        return value  # type: ignore[no-any-return]
    if value.kind == "whole":
        finished, value = _step(plan, access.get_bounded(key, value.length, hint))
        if finished:
            return value  # type: ignore[no-any-return]
    reader = access.open_reader(key)
    try:
        while not finished:
            finished, value = _step(plan, _answer_from(reader, value))
    finally:
        if reader is not None:
            reader.close()
    result: T = value
    return result


def _answer_from(reader: RangeReader | None, read: Read) -> Any:
    if reader is None:
        return None
    size = reader.size
    if read.kind == "whole":
        if size > read.length:
            raise ResourceLimitError(f"a stored object of {size} bytes exceeds the limit of {read.length} bytes")
        return reader.read(0, size)
    if read.kind == "range":
        return reader.read(read.offset, read.length)
    if read.kind == "suffix":
        start = max(0, size - read.length)
        return reader.read(start, size - start), size
    return [reader.read(offset, length) for offset, length in read.ranges]


class AsyncDriver:
    """Runs read plans against one async store; see the module docstring."""

    def __init__(self, store: Store, *, layouts_kept: int = 1024) -> None:
        self.store = store
        self._keep_layouts = store.consistency != "mutable"
        #: layout reads shared and kept, each with the write stamp taken when it began
        self._layouts: OrderedDict[tuple[str, Read], tuple[asyncio.Future[Any], int]] = OrderedDict()
        self._layouts_kept = layouts_kept
        self._waiters: dict[asyncio.Future[Any], int] = {}
        self._pending: dict[str, _Batch] = {}

    async def run(self, key: str, plan: Plan[T]) -> T:
        """Run ``plan`` about the value under ``key`` to its result."""
        try:
            finished, value = _step(plan, None)
            while not finished:
                if value.cacheable:
                    answer = await self._layout(key, value)
                elif value.kind == "whole":  # nothing to merge it with: read in the plan's own task
                    answer = await self._fetch(key, value)
                else:
                    answer = await self._batched(key, value)
                if _nbytes(answer) > INLINE_STEP_BYTES:
                    finished, value = await run_in_pool(_step, plan, answer)
                else:
                    finished, value = _step(plan, answer)
        finally:
            plan.close()
        result: T = value
        return result

    def forget(self, key: str) -> None:
        """Drop what is kept of ``key``'s layout (after a write, or a read that found it changed)."""
        for entry in [entry for entry in self._layouts if entry[0] == key]:
            del self._layouts[entry]

    # ------------------------------------------------------------ layout reads: shared, maybe kept
    async def _layout(self, key: str, read: Read) -> Any:
        entry = (key, read)
        fut, stamp = self._layouts.get(entry, (None, 0))
        if fut is not None and fut.cancelled():  # given up by its last reader, not yet dropped
            fut = None
        elif fut is not None and CHUNK_CACHE.written_since(self.store, key, stamp):
            fut = None  # this process wrote the object since (through any array object): read it again
        if read.followed_by and (fut is None or not fut.done()):
            # this plan's reads follow once the layout is known: the store may prepare meanwhile
            self.store.expect_reads(read.followed_by)
        if fut is None:
            # started at once: when many tiles are planned in one loop iteration, their
            # shards' index requests go out while the rest are still being planned
            stamp = CHUNK_CACHE.now()
            fut = start_task(self._fetch(key, read))
            self._layouts[entry] = (fut, stamp)
            fut.add_done_callback(lambda done: self._settled(entry, done))
            while len(self._layouts) > self._layouts_kept:
                self._layouts.popitem(last=False)
        else:
            self._layouts.move_to_end(entry)
        if fut.done():
            return fut.result()
        self._waiters[fut] = self._waiters.get(fut, 0) + 1
        try:
            return await asyncio.shield(fut)
        finally:
            left = self._waiters.get(fut)
            if left is not None:  # not settled yet
                self._waiters[fut] = left - 1
                if left == 1 and not fut.done():
                    fut.cancel()  # every plan that wanted it was cancelled: nothing is left running for it

    def _settled(self, entry: tuple[str, Read], done: asyncio.Future[Any]) -> None:
        self._waiters.pop(done, None)
        failed = done.cancelled() or done.exception() is not None
        if (failed or not self._keep_layouts) and self._layouts.get(entry, (None, 0))[0] is done:
            del self._layouts[entry]

    # ------------------------------------------------------------ other reads: batched per loop iteration
    def _batched(self, key: str, read: Read) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        batch = self._pending.get(key)
        if batch is None:
            batch = self._pending[key] = _Batch()
            loop.call_soon(self._start_flush, key)
        return batch.add(loop, read)

    def _start_flush(self, key: str) -> None:
        batch = self._pending.pop(key)
        if not all(fut.done() for _, fut in batch.requests):  # else every asker was cancelled meanwhile
            batch.task = start_task(self._flush(key, batch.requests))

    async def _flush(self, key: str, queue: list[tuple[Read, asyncio.Future[Any]]]) -> None:
        ranged = [(read, fut) for read, fut in queue if read.kind == "ranges"]
        alike: dict[Read, list[asyncio.Future[Any]]] = {}
        for read, fut in queue:
            if read.kind != "ranges":
                alike.setdefault(read, []).append(fut)
        jobs = [self._answer_alike(key, read, futs) for read, futs in alike.items()]
        if ranged:
            jobs.append(self._answer_ranges(key, ranged))
        if len(jobs) == 1:
            await jobs[0]
        else:
            await asyncio.gather(*jobs)

    async def _answer_alike(self, key: str, read: Read, futs: list[asyncio.Future[Any]]) -> None:
        try:
            answer = await self._fetch(key, read)
        except BaseException as e:
            _fail(futs, e)
            return
        for fut in futs:
            if not fut.done():
                fut.set_result(answer)

    async def _answer_ranges(self, key: str, requests: list[tuple[Read, asyncio.Future[Any]]]) -> None:
        merged = tuple(sorted({r for read, _ in requests for r in read.ranges}))
        futs = [fut for _, fut in requests]
        try:
            blobs = await self._fetch(key, Read.of_ranges(merged))
        except BaseException as e:
            _fail(futs, e)
            return
        found = None if blobs is None else dict(zip(merged, blobs, strict=True))
        for read, fut in requests:
            if not fut.done():
                fut.set_result(None if found is None else [found[r] for r in read.ranges])

    async def _fetch(self, key: str, read: Read) -> Any:
        store = self.store
        async with store_limiter(store):
            if read.kind == "whole":
                if read.fetch_bounded:
                    return await store.get_bounded(key, read.length)
                data = await store.get(key)
                if data is not None and len(data) > read.length:
                    raise ResourceLimitError(
                        f"the value under {key!r} is larger than {read.length} bytes (max_read_bytes)"
                    )
                return data
            if read.kind == "range":
                return await store.get_partial(key, read.offset, read.length)
            if read.kind == "suffix":
                return await store.get_suffix_with_size(key, read.length)
            return await store.get_ranges(key, list(read.ranges))


class _Batch:
    """The reads of one key asked in one loop iteration, answered by one flush task. The task
    is cancelled once every plan waiting on it was cancelled, so nothing outlives its readers."""

    __slots__ = ("requests", "task")

    def __init__(self) -> None:
        self.requests: list[tuple[Read, asyncio.Future[Any]]] = []
        self.task: asyncio.Task[None] | None = None

    def add(self, loop: asyncio.AbstractEventLoop, read: Read) -> asyncio.Future[Any]:
        fut: asyncio.Future[Any] = loop.create_future()
        fut.add_done_callback(self._waiter_done)
        self.requests.append((read, fut))
        return fut

    def _waiter_done(self, _: asyncio.Future[Any]) -> None:
        task = self.task
        if task is not None and not task.done() and all(fut.done() for _, fut in self.requests):
            task.cancel()


def _fail(futs: list[asyncio.Future[Any]], error: BaseException) -> None:
    for fut in futs:
        if not fut.done():
            fut.set_exception(error)
