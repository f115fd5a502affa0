"""The two drivers that run read plans (:mod:`zarrio.codecs.plan`) against a store.

* :class:`AsyncDriver` runs many plans at once on the event loop. Every partial
  read the plans yield for one key in the same loop iteration is answered by one
  store call per kind (:mod:`.read_batches`: their byte ranges merge into one
  ``get_ranges``, which the store coalesces). A whole-value read has nothing to
  merge with and goes out at once from the plan's own task. Layout reads (a
  shard's index) are shared by concurrent plans and kept (:mod:`.layout_reads`).
* :func:`run_blocking` runs one plan inside a worker thread through a store's
  blocking access (memory, local disk): a plan that wants the whole value (a
  plain chunk) gets it in one bounded read (three system calls for a small
  local file); one that reads ranges (a shard's index, then its inner chunks)
  gets them from one open version of the value.

Neither knows what the plan is about: a plain chunk and a shard differ only in
the plan the codec hands them.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

from ..codecs.plan import Plan, Read, Runnable, single
from ..errors import ResourceLimitError
from ..stores.base import RangeReader, Store
from ..stores.blocking import BlockingAccess
from .executor import run_in_pool, store_limiter
from .layout_reads import SharedLayouts
from .read_batches import ReadBatches

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


def run_blocking(runnable: Runnable[T], access: BlockingAccess, key: str, hint: int) -> T:
    """Run a plan about the value under ``key`` to its result (``hint``: the value's likely
    largest size, see ``BlockingStore.get_bounded_sync``). A whole-value read asked first needs
    no open reader; any other read opens one, and every later read is answered from it."""
    if runnable.__class__ is Read:
        read: Read = runnable
        if read.kind == "whole":  # a plain chunk: one bounded read, no generator to step
            whole: T = access.get_bounded(key, read.length, hint)  # type: ignore[assignment]
            return whole
        runnable = single(read)
    plan: Plan[T] = runnable  # type: ignore[assignment]
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
        self._limits_itself = bool(getattr(store, "limits_requests", False))
        self.layouts = SharedLayouts(store, self._fetch, layouts_kept)
        self.batches = ReadBatches(self._fetch)
        self.forget = self.layouts.forget

    async def run(self, key: str, runnable: Runnable[T]) -> T:
        """Run a plan about the value under ``key`` to its result."""
        if runnable.__class__ is Read:
            read: Read = runnable
            if read.kind == "whole":  # a plain chunk: nothing to merge it with, read in this task
                whole: T = await self._fetch(key, read)
                return whole
            runnable = single(read)
        plan: Plan[T] = runnable  # type: ignore[assignment]
        try:
            finished, value = _step(plan, None)
            while not finished:
                if value.cacheable:
                    answer = await self.layouts.read(key, value)
                elif value.kind == "whole":  # nothing to merge it with: read in the plan's own task
                    answer = await self._fetch(key, value)
                else:
                    answer = await self.batches.read(key, value)
                if _nbytes(answer) > INLINE_STEP_BYTES:
                    finished, value = await run_in_pool(_step, plan, answer)
                else:
                    finished, value = _step(plan, answer)
        finally:
            plan.close()
        result: T = value
        return result

    def _fetch(self, key: str, read: Read) -> Coroutine[Any, Any, Any]:
        """The store call that answers ``read``, to await, in the store's request limiter (a store
        that limits its own requests, as HttpStore, is called directly: it waits in its own only)."""
        if self._limits_itself:
            return self._ask(key, read)
        return self._ask_limited(key, read)

    async def _ask_limited(self, key: str, read: Read) -> Any:
        async with store_limiter(self.store):
            return await self._ask(key, read)

    def _ask(self, key: str, read: Read) -> Coroutine[Any, Any, Any]:
        store = self.store
        if read.kind == "whole":
            if read.fetch_bounded:
                return store.get_bounded(key, read.length)
            return self._get_whole(key, read.length)
        if read.kind == "range":
            return store.get_partial(key, read.offset, read.length)
        if read.kind == "suffix":
            return store.get_suffix_with_size(key, read.length)
        return store.get_ranges(key, list(read.ranges))

    async def _get_whole(self, key: str, limit: int) -> bytes | None:
        data = await self.store.get(key)
        if data is not None and len(data) > limit:
            raise ResourceLimitError(f"the value under {key!r} is larger than {limit} bytes (max_read_bytes)")
        return data
