"""Layout reads (a shard's index) shared by the plans that want them at once, and kept.

A plan marks a read ``cacheable`` when what it reads describes where the rest
lies. Concurrent plans asking for the same layout share one request, started
at once (when many tiles are planned in one loop iteration, their shards'
index requests go out while the rest are still being planned). The answer is
kept, most recently used first, while the store guarantees that the value
cannot change under it (``Store.consistency`` not ``"mutable"``) and this
process has not written the object since (:data:`~.chunk_cache.CHUNK_CACHE`'s
write stamps, through any array object). A read whose every asker was
cancelled is cancelled too: nothing is left running for nobody.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Any

from .._tasks import start_task
from ..codecs.plan import Read
from ..stores.base import Store
from .chunk_cache import CHUNK_CACHE

__all__ = ["SharedLayouts"]

Entry = tuple[str, Read]


class SharedLayouts:
    """The layout reads of one store's plans; see the module docstring."""

    def __init__(self, store: Store, fetch: Callable[[str, Read], Coroutine[Any, Any, Any]], kept: int) -> None:
        self.store = store
        self._fetch = fetch
        self._keep = store.consistency != "mutable"
        self._kept = kept
        #: each read shared (and maybe kept) with the write stamp taken when it began
        self._reads: OrderedDict[Entry, tuple[asyncio.Future[Any], int]] = OrderedDict()
        self._waiters: dict[asyncio.Future[Any], int] = {}

    async def read(self, key: str, read: Read) -> Any:
        """The answer to ``read`` of ``key``: shared, kept or fetched now."""
        entry = (key, read)
        fut, stamp = self._reads.get(entry, (None, 0))
        if fut is not None and fut.cancelled():  # given up by its last reader, not yet dropped
            fut = None
        elif fut is not None and CHUNK_CACHE.written_since(self.store, key, stamp):
            fut = None  # this process wrote the object since: read it again
        if read.followed_by and (fut is None or not fut.done()):
            self.store.expect_reads(read.followed_by)  # the plan's reads follow: the store may prepare
        if fut is None:
            fut = self._start(entry)
        else:
            self._reads.move_to_end(entry)
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
                    fut.cancel()  # every plan that wanted it was cancelled

    def forget(self, key: str) -> None:
        """Drop what is kept of ``key`` (after a write, or a read that found it changed)."""
        for entry in [entry for entry in self._reads if entry[0] == key]:
            del self._reads[entry]

    def _start(self, entry: Entry) -> asyncio.Future[Any]:
        stamp = CHUNK_CACHE.now()  # before the read begins
        fut = start_task(self._fetch_own(*entry) if self._keep else self._fetch(*entry))
        self._reads[entry] = (fut, stamp)
        fut.add_done_callback(lambda done: self._settled(entry, done))
        while len(self._reads) > self._kept:
            self._reads.popitem(last=False)
        return fut

    async def _fetch_own(self, key: str, read: Read) -> Any:
        """The answer as bytes of its own: a part of a multi-range or coalesced answer is a view
        of the whole response body, which a kept answer would hold alive."""
        answer = await self._fetch(key, read)
        if isinstance(answer, list):
            return [bytes(part) if isinstance(part, memoryview) else part for part in answer]
        if isinstance(answer, tuple) and isinstance(answer[0], memoryview):  # (suffix, size)
            return bytes(answer[0]), answer[1]
        return bytes(answer) if isinstance(answer, memoryview) else answer

    def _settled(self, entry: Entry, done: asyncio.Future[Any]) -> None:
        self._waiters.pop(done, None)
        failed = done.cancelled() or done.exception() is not None
        if (failed or not self._keep) and self._reads.get(entry, (None, 0))[0] is done:
            del self._reads[entry]
