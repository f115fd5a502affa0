"""Watched reads: a stalled request is hedged by a second identical one, or cut off, by measured bounds.

A few percent of requests to a CDN or an object store take far longer than the
rest. Waiting them out makes the slowest tile of a page as slow as its worst
request. :func:`run_watched` runs one request in the caller's task and watches
its progress (request slot taken, headers, body bytes) with a timer:

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
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ..errors import TransportError
from ._retry import Retryable
from ._stats import StatsRecorder

__all__ = ["Hedger", "Progress", "run_watched"]

T = TypeVar("T")
#: hedges a store may bank while nothing stalls
BANK_CAP = 10.0
#: no hedging while more than this share of recent attempts failed transiently
STORM_FAILURE_RATE = 0.5
#: the watcher looks again at least this often (bounds follow new measurements)
WAKE_EVERY = 0.25
#: a wake-up later than this (the loop was busy) is not held against the server
LOOP_LAG_FORGIVEN = 0.02


@dataclass(slots=True)
class Progress:
    """When an attempt last showed progress (loop time); ``None`` while it waits for a request slot."""

    last: float | None = None
    #: a retry or a hedge: it takes the next free request slot before every ordinary request
    urgent: bool = False
    #: the second request of a hedged read (it earns no hedge budget)
    hedge: bool = False
    #: called once, when the attempt takes its request slot (the watcher's clock starts then)
    on_start: Callable[[], None] | None = None

    def mark(self, now: float) -> None:
        first = self.last is None
        self.last = now
        if first and self.on_start is not None:
            self.on_start()


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
        quantiles = self.stats.ttfb_quantiles  # None until a few answers were seen
        if quantiles is None:
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


def run_watched(
    attempt: Callable[[Progress], Coroutine[Any, Any, T]],
    hedger: Hedger | None,
    inactivity: Callable[[], float],
    url: str,
    urgent: bool = False,
) -> Coroutine[Any, Any, T]:
    """``attempt(progress)``, hedged (when ``hedger``) and cut off by ``inactivity()`` (see the module docstring).

    A plain function that returns the coroutine to await: a read adds no coroutine of its own
    to the attempt's, and an unwatched read (no hedging, no inactivity bound) is the attempt itself.
    """
    if (hedger is None or not hedger.enabled) and math.isinf(inactivity()):
        return attempt(Progress(urgent=urgent))  # nothing to watch for
    return _Watch(attempt, hedger, inactivity, url).run(urgent)


class _Watch(Generic[T]):
    """One watched read. The first attempt runs in the caller's task, watched by a timer: no task
    and no wait per request while nothing stalls. When the timer finds no progress for the hedge
    delay it starts the hedge in a task of its own; a hedge that answers first, or a stall, ends
    the first attempt by cancelling the caller's task, which tells that cancellation from any
    other by ``verdict`` and ``Task.uncancel``."""

    __slots__ = (
        "attempt", "cancelled_caller", "first", "first_running", "forgiven", "hedge", "hedge_sent", "hedger",
        "inactivity", "loop", "may_still_hedge", "second", "silent", "task", "timer", "url", "verdict", "wake_at",
    )  # fmt: skip

    def __init__(
        self,
        attempt: Callable[[Progress], Coroutine[Any, Any, T]],
        hedger: Hedger | None,
        inactivity: Callable[[], float],
        url: str,
    ) -> None:
        self.attempt, self.hedger, self.inactivity, self.url = attempt, hedger, inactivity, url
        self.first = Progress()
        self.first_running = False
        self.second: Progress | None = None
        self.hedge: asyncio.Task[T] | None = None
        self.hedge_sent: float | None = None
        self.may_still_hedge = hedger is not None and hedger.enabled
        self.forgiven = 0.0
        self.timer: asyncio.TimerHandle | None = None
        self.wake_at = 0.0
        #: why the watcher ended the first attempt: "hedge" (the hedge answered), "stall" (nothing came)
        self.verdict: str | None = None
        self.cancelled_caller = False  # the watcher cancelled the caller's task (undone once seen)
        self.silent = 0.0

    async def run(self, urgent: bool) -> T:
        # the loop and the task that runs this coroutine (not the one that made it) are looked up here
        self.loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        self.task = task
        first = self.first
        first.urgent, first.on_start = urgent, self._check
        self.first_running = True
        failure: BaseException | None = None
        try:
            try:
                result = await self.attempt(first)
            except asyncio.CancelledError:
                if not self._undo_cancel():
                    raise  # not (only) the watcher's doing
            except Exception as error:  # the first attempt failed: a running hedge may still answer
                self._undo_cancel()  # (the watcher's cancel, when it came, was turned into this error)
                failure = error
            else:
                self._undo_cancel()  # the attempt finished in spite of the watcher's cancel
                return result
            finally:
                self.first_running = False
            return await self._after_first(failure)
        finally:
            self._stop_watching()
            if self.hedge is not None:  # rare: only a hedged read has a second attempt to settle
                await self._settle_hedge(self.hedge)

    def _undo_cancel(self) -> bool:
        """Take back the watcher's cancel of the caller's task, if it made one: whether no other is pending."""
        if not self.cancelled_caller:
            return False
        self.cancelled_caller = False
        return self.task.uncancel() == 0

    async def _after_first(self, failure: BaseException | None) -> T:
        """The first attempt ended without an answer: the hedge answers, or the read fails."""
        hedge = self.hedge
        if hedge is not None and self.verdict != "stall":
            if not hedge.done():
                await asyncio.wait([hedge])  # a stall of the hedge cancels it (verdict "stall")
            if not hedge.cancelled() and hedge.exception() is None:
                assert self.hedger is not None
                self.hedger.stats.count("hedges_won")
                return hedge.result()
            if failure is None and not hedge.cancelled():
                failure = hedge.exception()
        if self.verdict == "stall":
            error = TransportError(f"no data for {self.silent:.2f} s (the adaptive read timeout)", location=self.url)
            raise Retryable(error)
        assert failure is not None
        raise failure

    def _check(self) -> None:
        """Look at the attempts' progress: hedge, cut off, or look again later."""
        if self.timer is not None:  # called early (an attempt took its slot): one timer at a time
            self.timer.cancel()
            self.timer = None
        now = self.loop.time()
        if self.wake_at and now - self.wake_at > LOOP_LAG_FORGIVEN:  # the loop was busy elsewhere
            self.forgiven += now - self.wake_at
        self.wake_at = 0.0
        if self.verdict is not None or not (self.first_running or self._hedge_running()):
            return
        watched = [self.first] if self.first_running else []
        if self.second is not None and self._hedge_running():
            watched.append(self.second)
        lasts = [progress.last for progress in watched if progress.last is not None]
        if not lasts:
            return  # still waiting for a request slot: no clock runs yet (``on_start`` calls again)
        if self.hedge_sent is not None:  # a hedge gets a whole inactivity window, slot or not yet
            lasts.append(self.hedge_sent)
        last = max(lasts)
        stall_at = last + self.forgiven + self.inactivity()
        hedger = self.hedger
        hedge_delay = hedger.delay() if self.may_still_hedge and hedger is not None else None
        hedge_at = last + hedge_delay if hedge_delay is not None else stall_at
        if now >= hedge_at and self.may_still_hedge and hedger is not None:
            # before any cut: a hedge keeps the first attempt running (when both bounds passed
            # while the loop was busy, or the bounds fell as answers came in, it is still tried)
            self.may_still_hedge = False
            if self.first_running and hedger.may_hedge():
                self._start_hedge(hedger, now)
            self._check()
            return
        if now >= stall_at:
            self.verdict, self.silent = "stall", now - max(lasts)
            if self.hedge is not None and not self.hedge.done():
                self.hedge.cancel()
            if self.first_running:
                self._cancel_caller()
            return
        self.wake_at = min(stall_at, hedge_at, now + WAKE_EVERY)
        self.timer = self.loop.call_at(self.wake_at, self._check)

    def _hedge_running(self) -> bool:
        return self.hedge is not None and not self.hedge.done()

    def _start_hedge(self, hedger: Hedger, now: float) -> None:
        self.second = Progress(urgent=True, hedge=True, on_start=self._check)
        hedge = self.hedge = asyncio.ensure_future(self.attempt(self.second))
        hedge.add_done_callback(self._hedge_done)
        hedger.stats.count("hedges")
        self.hedge_sent = now

    def _hedge_done(self, hedge: asyncio.Future[T]) -> None:
        assert self.hedger is not None
        self.hedger.finished()
        if hedge.cancelled() or hedge.exception() is not None:
            return  # the first attempt, still watched, goes on alone
        if self.first_running and self.verdict is None:
            self.verdict = "hedge"  # the first of the two to succeed wins
            self._cancel_caller()

    def _cancel_caller(self) -> None:
        self.cancelled_caller = True
        self.task.cancel()

    def _stop_watching(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.first.on_start = None

    @staticmethod
    async def _settle_hedge(hedge: asyncio.Task[T]) -> None:
        """A hedge still running is cancelled and waited for; a loser's failure is retrieved."""
        if not hedge.done():
            hedge.cancel()
            await asyncio.gather(hedge, return_exceptions=True)
        elif not hedge.cancelled():
            hedge.exception()  # a loser's failure is not news: retrieved here, not logged
