"""ObjectStore's ranged GETs: hedged when they stall (``_hedge``), counted for ``stats()``.

obstore drops a request's Rust future when its Python awaitable is cancelled, so
the losing request of a hedged pair stops transferring. obstore keeps its own
timeouts and retries; only the hedging delay here adapts to the measured time to
first byte. obstore's client has no request limit of zarrio's: hedges come on top
of ``max_concurrency``, at most an eighth of it at once.
"""

from __future__ import annotations

import asyncio
import math
from typing import TYPE_CHECKING, Any

import obstore

from ._hedge import Hedger, Progress, run_watched
from ._stats import StatsRecorder, TransportStats

if TYPE_CHECKING:
    from obstore import GetOptions

__all__ = ["HedgedGets"]


class HedgedGets:
    def __init__(self, max_concurrency: int, share: float, min_delay: float = 0.05) -> None:
        self.stats = StatsRecorder()
        self.hedger = Hedger(
            self.stats,
            share=share,
            min_delay=min_delay,
            initial_delay=1.0,
            max_outstanding=max(1, max_concurrency // 8),
        )

    async def get(self, backend: Any, key: str, options: GetOptions, location: str) -> tuple[Any, bytes]:
        """One GET's result (its ``meta``) and body; hedged by an identical GET if it stalls."""

        async def attempt(progress: Progress) -> tuple[Any, bytes]:
            loop = asyncio.get_running_loop()
            started = loop.time()
            progress.mark(started)
            self.stats.count("requests")
            result = await obstore.get_async(backend, key, options=options)
            progress.mark(loop.time())
            ttfb = loop.time() - started
            data = bytes(await result.bytes_async())
            self.stats.answered(ttfb, loop.time() - started, len(data))
            return result, data

        self.hedger.earn()
        return await run_watched(attempt, self.hedger, _never, location)

    def snapshot(self) -> TransportStats:
        return self.stats.snapshot(math.inf, self.hedger.delay())


def _never() -> float:
    return math.inf
