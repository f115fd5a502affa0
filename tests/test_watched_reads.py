"""The watcher of one read (``zarrio.stores._hedge``) without a server: the first attempt runs in
the caller's task, so a hedge that wins or a stall ends it by cancelling that task. These tests
pin that such a cancel is never mistaken for the caller's own, and never leaks out of the read."""

from __future__ import annotations

import asyncio

import pytest

from zarrio.errors import TransportError
from zarrio.stores._hedge import Hedger, Progress, run_watched
from zarrio.stores._retry import Retryable
from zarrio.stores._stats import StatsRecorder

pytestmark = pytest.mark.asyncio


def eager_hedger(stats: StatsRecorder) -> Hedger:
    """Hedges after 50 ms without progress, with a budget of four hedges."""
    hedger = Hedger(stats, share=1.0, min_delay=0.05, initial_delay=0.05)
    for _ in range(4):
        hedger.earn()
    return hedger


def current_cancels() -> int:
    task = asyncio.current_task()
    assert task is not None
    return task.cancelling()


async def test_a_winning_hedge_cancels_the_first_attempt_and_leaves_the_caller_uncancelled() -> None:
    stats = StatsRecorder()
    hedger = eager_hedger(stats)
    loop = asyncio.get_running_loop()
    first_cancelled = asyncio.Event()

    async def attempt(progress: Progress) -> str:
        progress.mark(loop.time())
        if progress.hedge:
            return "hedge"
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            first_cancelled.set()
            raise
        return "first"

    assert await run_watched(attempt, hedger, lambda: 5.0, "http://u") == "hedge"
    assert first_cancelled.is_set()
    assert current_cancels() == 0  # the watcher's cancel was taken back
    assert (stats.hedges, stats.hedges_won, hedger.outstanding) == (1, 1, 0)
    await asyncio.sleep(0)  # and no cancel is pending: this sleep is not interrupted


async def test_a_first_attempt_that_wins_cancels_the_hedge_and_waits_for_it() -> None:
    stats = StatsRecorder()
    hedger = eager_hedger(stats)
    loop = asyncio.get_running_loop()
    hedge_ended = asyncio.Event()

    async def attempt(progress: Progress) -> str:
        progress.mark(loop.time())
        if progress.hedge:
            try:
                await asyncio.sleep(10)
            finally:
                hedge_ended.set()
        await asyncio.sleep(0.12)  # silent past the hedge delay, then answers
        return "first"

    assert await run_watched(attempt, hedger, lambda: 5.0, "http://u") == "first"
    assert hedge_ended.is_set()  # cancelled and finished before the read returned
    assert (stats.hedges, stats.hedges_won, hedger.outstanding) == (1, 0, 0)


async def test_a_failed_first_attempt_leaves_the_answer_to_a_running_hedge() -> None:
    stats = StatsRecorder()
    hedger = eager_hedger(stats)
    loop = asyncio.get_running_loop()

    async def attempt(progress: Progress) -> str:
        progress.mark(loop.time())
        if progress.hedge:
            await asyncio.sleep(0.05)
            return "hedge"
        await asyncio.sleep(0.08)  # hedged at 0.05 s, fails at 0.08 s
        raise Retryable(TransportError("connection reset"))

    assert await run_watched(attempt, hedger, lambda: 5.0, "http://u") == "hedge"
    assert stats.hedges_won == 1


async def test_a_stall_is_a_retryable_failure_and_leaves_the_caller_uncancelled() -> None:
    loop = asyncio.get_running_loop()

    async def attempt(progress: Progress) -> str:
        progress.mark(loop.time())
        await asyncio.sleep(10)
        return "never"

    started = loop.time()
    with pytest.raises(Retryable) as caught:
        await run_watched(attempt, None, lambda: 0.1, "http://u")
    assert loop.time() - started < 1.0
    assert "no data for" in str(caught.value.error)
    assert current_cancels() == 0


async def test_the_callers_own_cancel_goes_through_and_cancels_the_hedge() -> None:
    stats = StatsRecorder()
    hedger = eager_hedger(stats)
    loop = asyncio.get_running_loop()
    hedge_started, hedge_ended = asyncio.Event(), asyncio.Event()

    async def attempt(progress: Progress) -> str:
        progress.mark(loop.time())
        if progress.hedge:
            hedge_started.set()
            try:
                await asyncio.sleep(10)
            finally:
                hedge_ended.set()
        await asyncio.sleep(10)
        return "never"

    read = asyncio.ensure_future(run_watched(attempt, hedger, lambda: 5.0, "http://u"))
    await asyncio.wait_for(hedge_started.wait(), 5)
    read.cancel()
    with pytest.raises(asyncio.CancelledError):
        await read
    assert hedge_ended.is_set()
    assert hedger.outstanding == 0


async def test_a_deadline_around_a_watched_read_is_still_a_timeout() -> None:
    # the caller's deadline cancels the same task the watcher cancels: each cancel is told apart
    stats = StatsRecorder()
    hedger = eager_hedger(stats)
    loop = asyncio.get_running_loop()

    async def attempt(progress: Progress) -> str:
        progress.mark(loop.time())
        await asyncio.sleep(10)  # the first and the hedge both stall
        return "never"

    started = loop.time()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await run_watched(attempt, hedger, lambda: 5.0, "http://u")
    assert loop.time() - started < 1.0
    assert current_cancels() == 0
    assert stats.hedges == 1


async def test_the_clock_starts_when_the_attempt_takes_its_slot() -> None:
    # an attempt queued for a request slot longer than the inactivity bound is not cut off
    loop = asyncio.get_running_loop()

    async def attempt(progress: Progress) -> str:
        await asyncio.sleep(0.3)  # waiting for a slot: no progress marked yet
        progress.mark(loop.time())
        await asyncio.sleep(0.05)
        return "answer"

    assert await run_watched(attempt, None, lambda: 0.1, "http://u") == "answer"
