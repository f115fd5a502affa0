"""The partial reads of one key asked in one loop iteration, answered by one store call per kind.

Plans run as separate tasks; what they yield in the same iteration of the
event loop is gathered per key and flushed by one task scheduled with
``call_soon``: all byte ranges merge into one ``get_ranges`` (which the store
coalesces into few requests), and identical reads of another kind share one
call. The flush task is cancelled once every plan waiting on it was
cancelled, so nothing outlives its readers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from .._tasks import start_task
from ..codecs.plan import Read

__all__ = ["ReadBatches"]

Waiting = list[tuple[Read, asyncio.Future[Any]]]


class ReadBatches:
    """Gathers one store's partial reads per key and loop iteration; see the module docstring."""

    def __init__(self, fetch: Callable[[str, Read], Coroutine[Any, Any, Any]]) -> None:
        self._fetch = fetch
        self._pending: dict[str, _Batch] = {}

    def read(self, key: str, read: Read) -> asyncio.Future[Any]:
        """The answer to ``read`` of ``key``, from the batch of this loop iteration."""
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

    async def _flush(self, key: str, queue: Waiting) -> None:
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

    async def _answer_ranges(self, key: str, requests: Waiting) -> None:
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


class _Batch:
    __slots__ = ("requests", "task")

    def __init__(self) -> None:
        self.requests: Waiting = []
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
