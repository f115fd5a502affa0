"""Watched reads: a stalled request is hedged by a second identical one, or cut off, by measured bounds.

A few percent of requests to a CDN or an object store take far longer than the
rest. Waiting them out makes the slowest tile of a page as slow as its worst
request. :func:`run_watched` runs one request in a task and watches its
progress (request slot taken, headers, body bytes):

* after :meth:`Hedger.delay` seconds without progress (3x the recent p95 time
  to first byte, at least ``min_delay``) it starts a second identical request,
  if the budget allows; the first of the two to succeed wins, the other is
  cancelled;
* after ``inactivity()`` seconds without progress of any of them (counted from
  the hedge, once one is sent) it cancels them and raises a :class:`Retryable`
  failure (the caller retries). The hedge is tried first even when both bounds
  passed at once (a busy loop woke the watcher late, or the bounds fell as
  answers came in): a hedge keeps the first request, a retry throws it away.

Both bounds are read again at every wake-up (at least every ``WAKE_EVERY``
seconds), so they follow the latencies measured meanwhile; a wake-up that comes
late because the event loop itself was busy does not count against the server.

The extra load is bounded by a token bucket: every ordinary request earns
``share`` of a hedge (at most ``BANK_CAP`` banked) when it is sent (takes its
request slot, not when it is queued: a thousand reads queued at once must not
fill the bank once and then earn nothing while they run), a hedge spends one,
so over any run hedges are at most ``share`` of the requests (plus what was
banked).
No hedge is sent while the recent transient-failure rate is high (a failing
server is not asked twice as often) nor beyond ``max_outstanding`` at once.
Only reads are hedged; both requests are identical, including ``If-Match``.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..errors import TransportError
from ._retry import Retryable
from ._stats import StatsRecorder

__all__ = ["Hedger", "Progress", "run_watched"]

T = TypeVar("T")
#: hedges a store may bank while nothing stalls
BANK_CAP = 10.0
#: answers needed before the delay follows the measured percentiles
MIN_SAMPLES = 4
#: no hedging while more than this share of recent attempts failed transiently
STORM_FAILURE_RATE = 0.5
#: the watcher looks again at least this often (bounds follow new measurements)
WAKE_EVERY = 0.25
#: a wake-up later than this (the loop was busy) is not held against the server
LOOP_LAG_FORGIVEN = 0.02


@dataclass
class Progress:
    """When an attempt last showed progress (loop time); ``None`` while it waits for a request slot."""

    last: float | None = None
    #: a retry or a hedge: it takes the next free request slot before every ordinary request
    urgent: bool = False
    #: the second request of a hedged read (it earns no hedge budget)
    hedge: bool = False
    #: resolved when the attempt takes its request slot
    started: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    def mark(self, now: float) -> None:
        self.last = now
        if not self.started.done():
            self.started.set_result(None)


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
        """Seconds without progress after which a read is hedged (``None``: hedging is off)."""
        if not self.enabled:
            return None
        quantiles = self.stats.ttfb_quantiles
        if quantiles is None or self.stats.samples < MIN_SAMPLES:
            return max(self.min_delay, self.initial_delay)
        return max(self.min_delay, self.multiplier * quantiles[1])

    @property
    def banked(self) -> float:
        """The hedges the budget holds now (a fraction: ``share`` per request sent)."""
        return self._tokens

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


async def run_watched(
    attempt: Callable[[Progress], Coroutine[Any, Any, T]],
    hedger: Hedger | None,
    inactivity: Callable[[], float],
    url: str,
    urgent: bool = False,
) -> T:
    """``attempt(progress)``, hedged (when ``hedger``) and cut off by ``inactivity()`` (see the module docstring)."""
    if (hedger is None or not hedger.enabled) and math.isinf(inactivity()):
        return await attempt(Progress(urgent=urgent))  # nothing to watch for
    loop = asyncio.get_running_loop()
    first = Progress(urgent=urgent)
    running: list[tuple[asyncio.Future[T], Progress]] = [(asyncio.ensure_future(attempt(first)), first)]
    hedge: asyncio.Future[T] | None = None
    may_still_hedge = hedger is not None and hedger.enabled
    failure: BaseException | None = None
    forgiven = 0.0
    hedge_sent: float | None = None
    try:
        while True:
            for task, progress in list(running):  # the first success wins; a failure waits for the other
                if task.done():
                    if task.exception() is None:
                        if task is hedge and hedger is not None:
                            hedger.stats.count("hedges_won")
                        return task.result()
                    failure = failure or task.exception()
                    running.remove((task, progress))
            if not running:
                assert failure is not None
                raise failure
            tasks = [task for task, _ in running]
            lasts = [progress.last for _, progress in running if progress.last is not None]
            if not lasts:  # still waiting for a request slot: no clock runs yet
                waiting: list[asyncio.Future[Any]] = [*tasks, *(progress.started for _, progress in running)]
                await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                continue
            if hedge_sent is not None:  # a hedge gets a whole inactivity window, slot or not yet
                lasts.append(hedge_sent)
            now = loop.time()
            last = max(lasts) + forgiven
            stall_at = last + inactivity()
            hedge_delay = hedger.delay() if may_still_hedge and hedger is not None else None
            hedge_at = last + hedge_delay if hedge_delay is not None else stall_at
            if now >= hedge_at and may_still_hedge:
                # before any cut: a hedge keeps the first attempt running (when both bounds passed
                # while the loop was busy, or the bounds fell as answers came in, it is still tried)
                may_still_hedge = False
                if hedger is not None and hedger.may_hedge():
                    second = Progress(urgent=True, hedge=True)
                    hedge = asyncio.ensure_future(attempt(second))
                    hedge.add_done_callback(lambda _: hedger.finished())
                    running.append((hedge, second))
                    hedger.stats.count("hedges")
                    hedge_sent = now
                continue
            if now >= stall_at:
                silent = now - max(lasts)
                error = TransportError(f"no data for {silent:.2f} s (the adaptive read timeout)", location=url)
                raise Retryable(error)
            wake = min(stall_at, hedge_at, now + WAKE_EVERY)
            await asyncio.wait(tasks, timeout=wake - now, return_when=asyncio.FIRST_COMPLETED)
            lag = loop.time() - wake
            if lag > LOOP_LAG_FORGIVEN:  # the loop was busy elsewhere: not the server's silence
                forgiven += lag
    finally:
        for task, _ in running:  # a loser's failure is not news: it is retrieved here, not logged
            if task.done() and not task.cancelled():
                task.exception()
        unfinished = [task for task, _ in running if not task.done()]
        for task in unfinished:
            task.cancel()
        if unfinished:
            await asyncio.gather(*unfinished, return_exceptions=True)
