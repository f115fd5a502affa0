"""Hedged reads: a second identical request for a read that has stalled, whichever answers first wins.

A few percent of requests to a CDN or an object store take far longer than the
rest. Waiting them out makes the slowest tile of a page as slow as its worst
request; a second request for the same bytes usually answers in a normal time.
:func:`run_hedged` starts the read, and when it has shown no sign of progress
(connection slot taken, headers, body bytes) for :meth:`Hedger.delay` seconds
it starts a second one, returns the first that succeeds and cancels the other.

The extra load is bounded by a token bucket: every ordinary request earns
``share`` of a hedge (at most ``BANK_CAP`` banked), a hedge spends one, so over
any run hedges are at most ``share`` of the requests (plus what was banked).
No hedge is sent while the recent transient-failure rate is high (a failing
server is not asked twice as often) nor beyond ``max_outstanding`` at once.
Only reads are hedged; both requests are identical, including ``If-Match``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from ._stats import StatsRecorder

__all__ = ["Hedger", "Progress", "run_hedged"]

T = TypeVar("T")
#: hedges a store may bank while nothing stalls
BANK_CAP = 10.0
#: answers needed before the delay follows the measured percentiles
MIN_SAMPLES = 8
#: no hedging while more than this share of recent attempts failed transiently
STORM_FAILURE_RATE = 0.5


@dataclass
class Progress:
    """When an attempt last showed progress (loop time); ``None`` while it waits for a request slot."""

    last: float | None = None


class Hedger:
    """When to hedge and how many hedges a store may still send."""

    def __init__(
        self,
        stats: StatsRecorder,
        *,
        share: float,
        min_delay: float,
        initial_delay: float,
        multiplier: float = 3.0,
        max_outstanding: int = 8,
    ) -> None:
        self.stats = stats
        self.share = share
        self.min_delay = min_delay
        self.initial_delay = initial_delay
        self.multiplier = multiplier
        self.max_outstanding = max_outstanding
        self.outstanding = 0
        self._tokens = 0.0
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.share > 0

    def delay(self) -> float | None:
        """Seconds without progress after which a read is hedged: ``multiplier`` x the recent p95
        time to first byte, at least ``min_delay`` (``initial_delay`` before enough answers)."""
        if not self.enabled:
            return None
        quantiles = self.stats.ttfb_quantiles
        if quantiles is None or self.stats.samples < MIN_SAMPLES:
            return max(self.min_delay, self.initial_delay)
        return max(self.min_delay, self.multiplier * quantiles[1])

    def earn(self) -> None:
        """One ordinary request was sent: it earns ``share`` of a hedge."""
        if self.share > 0:
            with self._lock:
                self._tokens = min(BANK_CAP, self._tokens + self.share)

    def may_hedge(self) -> bool:
        """Whether a hedge can be sent now; spends one from the budget if so."""
        with self._lock:
            if self._tokens < 1.0 or self.outstanding >= self.max_outstanding:
                return False
            if self.stats.failure_rate > STORM_FAILURE_RATE:
                return False
            self._tokens -= 1.0
            self.outstanding += 1
        return True

    def finished(self) -> None:
        with self._lock:
            self.outstanding -= 1


async def run_hedged(attempt: Callable[[Progress], Awaitable[T]], hedger: Hedger) -> T:
    """``attempt(progress)``, hedged by a second identical call if it stalls (see the module docstring)."""
    delay = hedger.delay()
    if delay is None:
        return await attempt(Progress())
    loop = asyncio.get_running_loop()
    first_progress = Progress()
    first = asyncio.ensure_future(attempt(first_progress))
    tasks = [first]
    try:
        while True:  # each turn waits a real timeout (>= min_delay): no spinning
            last = first_progress.last
            wait = delay if last is None else last + delay - loop.time()
            if wait > 0:
                done, _ = await asyncio.wait(tasks, timeout=wait)
                if done:
                    return first.result()
                continue
            if not hedger.may_hedge():
                return await first
            break
        second = asyncio.ensure_future(attempt(Progress()))
        second.add_done_callback(lambda _: hedger.finished())
        tasks.append(second)
        hedger.stats.count("hedges")
        pending = set(tasks)
        failure: BaseException | None = None
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in (t for t in tasks if t in done):
                error = task.exception()
                if error is None:
                    if task is second:
                        hedger.stats.count("hedges_won")
                    return task.result()
                failure = failure or error
        assert failure is not None
        raise failure
    finally:
        unfinished = [task for task in tasks if not task.done()]
        for task in unfinished:
            task.cancel()
        if unfinished:
            await asyncio.gather(*unfinished, return_exceptions=True)
