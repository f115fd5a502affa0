"""Request slots with a fast lane: at most ``n`` holders at once, like a semaphore, but a waiter
asking ``urgent=True`` (a retry, a hedge) is served before every ordinary waiter.

A retry or a hedge is sent because a request failed or stalled; queued behind hundreds of
ordinary requests it would arrive long after the read it was meant to rescue. It still takes one
of the ``n`` slots, so it counts against ``max_concurrency``. Waiters are futures resolved by
``release``: nothing polls.
"""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType

__all__ = ["Slots"]


class Slots:
    """``n`` slots; ``async with slots.held(urgent=...)``."""

    def __init__(self, n: int) -> None:
        if n < 1:
            raise ValueError(f"at least one slot is needed, got {n}")
        self._free = n
        self._ordinary: deque[asyncio.Future[None]] = deque()
        self._urgent: deque[asyncio.Future[None]] = deque()

    @property
    def free(self) -> int:
        return self._free

    def waiting(self) -> int:
        return sum(not f.done() for f in self._ordinary) + sum(not f.done() for f in self._urgent)

    async def acquire(self, urgent: bool = False) -> None:
        if self._free > 0 and not self._ordinary and not self._urgent:
            self._free -= 1
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        (self._urgent if urgent else self._ordinary).append(fut)
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():  # handed a slot just as it was cancelled: pass it on
                self.release()
            raise

    def release(self) -> None:
        """Hand the slot to the first live urgent waiter, else the first ordinary one, else free it."""
        for queue in (self._urgent, self._ordinary):
            while queue:
                fut = queue.popleft()
                if not fut.done():
                    fut.set_result(None)
                    return
        self._free += 1

    def held(self, urgent: bool = False) -> _Held:
        return _Held(self, urgent)


class _Held:
    __slots__ = ("_slots", "_urgent")

    def __init__(self, slots: Slots, urgent: bool) -> None:
        self._slots, self._urgent = slots, urgent

    async def __aenter__(self) -> None:
        await self._slots.acquire(self._urgent)

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._slots.release()
