"""HttpStore at the tail (issue 19): hedged reads, adaptive timeouts, deadlines, multi-range requests
and the statistics behind them, against the fault-injecting server (tests/servers/faults.py)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
import pytest
from servers.faults import FaultServer
from servers.fixtures import fault_server_fixtures

from zarrio import aio
from zarrio.errors import DeadlineExceededError, ObjectChangedError, TransportError
from zarrio.stores._hedge import Hedger, Progress, run_watched
from zarrio.stores._stats import StatsRecorder
from zarrio.stores.http import HttpStore

#: wall-clock bounds: scripts/dev.py runs these after the other tests, one Python at a time
pytestmark = [pytest.mark.timeout(30), pytest.mark.timing]

VALUE = bytes(range(256)) * 40  # 10240 bytes
QUICK: dict[str, Any] = {"retries": 3, "backoff_initial": 0.005, "backoff_max": 0.02}
SPANS = [(0, 100), (3000, 50), (9000, 1000)]  # too far apart to coalesce: several ranges of one value


server_for_module, server = fault_server_fixtures(seed=19, files={"v": VALUE})


async def warmed(server: FaultServer, answers: int = 12, **options: Any) -> HttpStore:
    """A store that has seen ``answers`` quick answers: its hedge delay and timeouts follow them."""
    store = HttpStore(server.url, **{**QUICK, "coalesce_max_gap": 0, **options})
    for i in range(answers):
        assert await store.get_partial("v", i, 1) == VALUE[i : i + 1]
    server.reset()
    server.files = {"v": VALUE}
    return store


# ---------------------------------------------------------------- hedges
async def test_a_hedge_wins_over_a_stalled_request(server: FaultServer) -> None:
    store = await warmed(server, hedge_share=1.0)
    delay = store.stats().hedge_delay
    assert delay is not None and delay == pytest.approx(store.transport.hedger.min_delay, abs=0.05)
    server.add_fault("latency", "v", delay=3.0, first=1)  # the first request stalls, the hedge does not
    before = store.stats()  # a warm-up answer slower than the hedge delay may have been hedged
    started = time.monotonic()
    assert await store.get_partial("v", 100, 200) == VALUE[100:300]
    assert time.monotonic() - started < 2.0
    assert server.count("v") == 2
    assert [r.range for r in server.requests] == ["bytes=100-299"] * 2  # an identical second request
    stats = store.stats()
    assert (stats.hedges - before.hedges, stats.hedges_won - before.hedges_won, stats.retries - before.retries) == (
        1,
        1,
        0,
    )
    await store.close()


async def test_a_trickling_body_is_hedged_like_a_stall(server: FaultServer) -> None:
    """A body below min_throughput is no progress: it is hedged after the hedge delay (50 ms
    here), though a byte comes every 20 ms, which would reset a progress clock every time."""
    store = await warmed(server, hedge_share=1.0)
    server.add_fault("trickle", "v", delay=0.02, first=1)  # the first request trickles, the hedge does not
    before = store.stats()
    started = time.monotonic()
    assert await store.get_partial("v", 100, 200) == VALUE[100:300]
    assert time.monotonic() - started < 1.5
    stats = store.stats()
    assert (stats.hedges - before.hedges, stats.hedges_won - before.hedges_won, stats.retries - before.retries) == (
        1,
        1,
        0,
    )
    await store.close()


async def test_a_hedge_that_loses_is_cancelled(server: FaultServer) -> None:
    store = await warmed(server, hedge_share=1.0)
    server.add_fault("latency", "v", delay=0.4, first=1)  # the first answers late, but first
    server.add_fault("latency", "v", delay=5.0, skip=1, first=1)  # the hedge would answer later still
    before = store.stats()
    started = time.monotonic()
    assert await store.get_ranges("v", [(10, 10)]) == [VALUE[10:20]]
    assert time.monotonic() - started < 3.0
    stats = store.stats()
    assert (stats.hedges - before.hedges, stats.hedges_won - before.hedges_won) == (1, 0)
    assert store.transport.hedger.outstanding == 0  # the loser was cancelled and accounted for
    await store.close()


async def test_the_hedge_budget_bounds_the_hedges(server: FaultServer) -> None:
    store = await warmed(server, answers=20, hedge_share=0.05)  # 20 requests earned one hedge
    server.add_fault("latency", "v", delay=0.5, first=3)
    got = await asyncio.gather(*(store.get_partial("v", i * 10, 5) for i in range(3)))
    assert got == [VALUE[i * 10 : i * 10 + 5] for i in range(3)]
    stats = store.stats()
    assert stats.hedges == 1  # three stalls, one hedge: the budget was spent
    assert stats.hedges <= 0.05 * (20 + 3)
    await store.close()


async def test_a_hedge_goes_before_a_cut_when_the_watcher_wakes_past_both_bounds() -> None:
    # the loop is busy (here: the first attempt blocks it) until after both the hedge delay and the
    # inactivity bound: the watcher hedges, which keeps the first request, instead of cutting it off
    # for a retry (in H3 half the late answers were retried so, each a backoff and a new request later)
    stats = StatsRecorder()
    hedger = Hedger(stats, share=1.0, min_delay=0.05, initial_delay=0.1)  # hedge at 0.1 s, cut at 0.15 s
    for _ in range(4):
        hedger.earn()
    loop = asyncio.get_running_loop()
    sent: list[bool] = []

    async def attempt(progress: Progress) -> str:
        progress.mark(loop.time())
        sent.append(progress.hedge)
        if not progress.hedge:
            time.sleep(0.3)  # the loop is busy
            await asyncio.sleep(10)
        return "the hedge's answer"

    assert await run_watched(attempt, hedger, lambda: 0.15, "http://u") == "the hedge's answer"
    assert sent == [False, True]
    assert (stats.hedges, stats.hedges_won, hedger.outstanding) == (1, 1, 0)


async def test_queued_reads_earn_their_hedge_share_when_sent_not_when_queued(server: FaultServer) -> None:
    # ten reads queued at once behind one request slot: had they all earned at once, the bank would
    # be full before the first answer, and the reads still to come would earn nothing (issue 19, H3)
    store = HttpStore(server.url, **QUICK, max_concurrency=1, hedge_share=0.5)
    server.add_fault("latency", "v", delay=0.5, first=1)  # the first holds the slot; the hedge delay is 1 s
    reads = asyncio.gather(*(store.get_partial("v", i, 1) for i in range(10)))
    await asyncio.sleep(0.2)  # the first request is at the server (for 0.5 s), the nine others queued
    assert store.transport.hedger.banked <= 0.5  # one request sent, one half hedge earned
    assert await reads == [VALUE[i : i + 1] for i in range(10)]
    stats = store.stats()
    assert (stats.hedges, stats.retries, server.count("v")) == (0, 0, 10)
    assert store.transport.hedger.banked == pytest.approx(0.5 * 10)  # each earned its share when sent
    await store.close()


async def test_no_hedges_when_sharing_is_off_or_the_server_is_failing(server: FaultServer) -> None:
    off = await warmed(server, hedge_share=0.0)
    server.add_fault("latency", "v", delay=0.15, first=1)  # past the hedge delay, within the read timeout
    assert await off.get_partial("v", 0, 4) == VALUE[:4]
    assert off.stats().hedges == 0 and off.stats().hedge_delay is None
    server.reset()
    failing = await warmed(server, hedge_share=1.0)
    server.add_fault("status", "v", status=503, first=12)  # most recent attempts fail
    for _ in range(3):
        with pytest.raises(TransportError):
            await failing.get_partial("v", 0, 4)
    server.reset()
    server.files = {"v": VALUE}
    server.add_fault("latency", "v", delay=0.15, first=1)
    assert await failing.get_partial("v", 0, 4) == VALUE[:4]
    assert failing.stats().hedges == 0  # a failing server is not asked twice as often
    assert server.count("v") == 1
    await off.close()
    await failing.close()


async def test_a_hedge_answered_by_another_version_is_an_object_change(server: FaultServer) -> None:
    store = await warmed(server, hedge_share=1.0)
    assert await store.get_suffix("v", 8) == VALUE[-8:]  # pins the version
    server.files["v"] = b"Z" * len(VALUE)
    server.add_fault("latency", "v", delay=3.0, first=1)
    before = store.stats().hedges  # an earlier answer slower than the 50 ms hedge delay may have been hedged
    with pytest.raises(ObjectChangedError):
        await store.get_partial("v", 0, 4)
    assert store.stats().hedges - before == 1  # the stalled read was hedged, once
    assert all(r.headers.get("If-Match") for r in server.requests if r.path == "v")
    await store.close()


# ---------------------------------------------------------------- timeouts and deadlines
async def test_the_inactivity_timeout_adapts_to_the_latency_seen(server: FaultServer) -> None:
    store = await warmed(server, hedge_share=0.0)  # 10 s configured, far less measured
    adapted = store.stats().read_timeout
    assert store.transport.read_timeout_min <= adapted < 10.0
    server.add_fault("stall", "v", delay=8.0, first=1)  # half the body, then silence
    started = time.monotonic()
    assert await store.get("v") == VALUE
    assert time.monotonic() - started < adapted + 2.0  # cut off by the adapted timeout, then retried
    assert store.stats().retries == 1
    await store.close()


async def test_a_deadline_cancels_the_read_and_raises_a_typed_timeout(server: FaultServer) -> None:
    store = HttpStore(server.url, **QUICK, timeout=0.3, hedge_share=1.0)
    server.add_fault("latency", "v", delay=5.0)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(DeadlineExceededError) as caught:
        await store.get_ranges("v", SPANS)
    late = loop.time() - started - 0.3
    assert isinstance(caught.value, TimeoutError)
    assert caught.value.deadline == 0.3 and caught.value.key == "v"
    assert "timeout=0.3" in str(caught.value)
    assert -0.01 < late < 0.5, late  # ~ms on an idle machine; the bound allows a loaded one
    await asyncio.sleep(0)
    assert store.transport.on_loop().in_flight == 0  # nothing is left running behind the deadline
    await store.close()


def _served_array(server: FaultServer) -> np.ndarray:
    """A 64x64 int32 array of 16x16 chunks, served by ``server`` under ``a/``; returns its values."""
    import zarrio
    from zarrio.stores import MemoryStore

    values = np.arange(64 * 64, dtype="int32").reshape(64, 64)
    memory = MemoryStore()
    zarrio.create(memory, values.shape, values.dtype, chunks=(16, 16), path="a")[...] = values
    server.files.update({key: zarrio.run(memory.get(key)) or b"" for key in zarrio.run(memory.list(""))})
    return values


async def test_a_read_deadline_cancels_the_read_and_raises_a_typed_timeout(server: FaultServer) -> None:
    values = _served_array(server)
    store = HttpStore(server.url, **QUICK, timeout=None)
    a = await aio.open_array(store, path="a", mode="r")
    assert np.array_equal(await a.getitem(slice(0, 16), timeout=5.0), values[:16])  # in time: the values
    server.add_fault("latency", "a/c/*", delay=5.0)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(DeadlineExceededError) as caught:
        await a.getitem((slice(0, 40), slice(0, 40)), timeout=0.3)
    late = loop.time() - started - 0.3
    assert isinstance(caught.value, TimeoutError) and caught.value.deadline == 0.3
    assert "timeout=0.3" in str(caught.value)
    assert -0.01 < late < 0.15, late  # about 50 ms at most, with room for a loaded machine
    await asyncio.sleep(0)
    assert store.transport.on_loop().in_flight == 0  # every request of the read was cancelled
    server.reset()
    assert np.array_equal(await a.get_orthogonal_selection(([1, 3], [2, 4]), timeout=5.0), values[[1, 3]][:, [2, 4]])
    await store.close()


def test_a_sync_read_deadline_raises_the_same_error(server: FaultServer) -> None:
    import zarrio

    values = _served_array(server)
    z = zarrio.open_array(HttpStore(server.url, **QUICK, timeout=None), path="a", mode="r")
    assert np.array_equal(z.get_basic_selection((slice(0, 16), 3), timeout=5.0), values[:16, 3])
    server.add_fault("latency", "a/c/*", delay=5.0)
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError):
        z.get_basic_selection(..., timeout=0.3)
    assert time.monotonic() - started < 0.3 + 0.15


# ---------------------------------------------------------------- multi-range requests
async def test_multirange_requests_are_used_when_the_server_answers_them(server: FaultServer) -> None:
    store = HttpStore(server.url, **QUICK, coalesce_max_gap=0)
    assert await store.get_ranges("v", SPANS) == [VALUE[o : o + n] for o, n in SPANS]
    assert [r.range for r in server.requests] == ["bytes=0-99,3000-3049,9000-9999"]
    assert store.multirange_supported is True
    assert store.stats().multirange_requests == 1
    # a span past the end is shorter, one wholly past it empty, as with single ranges
    assert await store.get_ranges("v", [(0, 1), (10_200, 100), (20_000, 5)]) == [VALUE[:1], VALUE[10_200:], b""]
    await store.close()


@pytest.mark.parametrize("status", [200, 416, 400])
async def test_a_multirange_refusal_falls_back_and_is_remembered(server: FaultServer, status: int) -> None:
    server.add_fault("refuse_multirange", "v", status=status)
    store = HttpStore(server.url, **QUICK, coalesce_max_gap=0)
    expected = [VALUE[o : o + n] for o, n in SPANS]
    assert await store.get_ranges("v", SPANS) == expected
    assert store.multirange_supported is False
    assert server.count("v") == 1 + len(SPANS)
    assert store.stats().bytes_received < sum(n for _, n in SPANS) + 100  # a refused whole value is not read
    assert await store.get_ranges("v", SPANS) == expected
    assert server.count("v") == 1 + 2 * len(SPANS)  # no second attempt at multi-range
    stats = store.stats()
    assert (stats.multirange_requests, stats.multirange_fallbacks) == (0, 1)
    await store.close()


async def test_a_multipart_part_with_a_lying_content_range_is_an_error(server: FaultServer) -> None:
    server.add_fault("wrong_content_range", "v")  # the last part is shifted by a byte, and says so
    store = HttpStore(server.url, **QUICK, coalesce_max_gap=0)
    with pytest.raises(TransportError, match=r"Content-Range nobody asked for|no part for"):
        await store.get_ranges("v", SPANS)
    assert server.count("v") == 1  # a lie is not retried
    await store.close()


async def test_a_truncated_multipart_body_is_retried(server: FaultServer) -> None:
    server.add_fault("short_body", "v", first=1)
    store = HttpStore(server.url, **QUICK, coalesce_max_gap=0)
    assert await store.get_ranges("v", SPANS) == [VALUE[o : o + n] for o, n in SPANS]
    assert server.count("v") == 2 and store.stats().retries == 1
    await store.close()


async def test_stats_count_requests_bytes_and_latencies(server: FaultServer) -> None:
    store = HttpStore(server.url, **QUICK)
    assert store.stats().requests == 0 and store.stats().ttfb_p50 is None
    server.add_fault("status", "v", status=503, first=1)
    assert await store.get("v") == VALUE
    for i in range(5):
        assert await store.get_partial("v", i, 10) == VALUE[i : i + 10]
    stats = store.stats()
    assert (stats.requests, stats.retries, stats.transient_failures) == (7, 1, 1)
    assert stats.bytes_received >= len(VALUE) + 50
    assert stats.ttfb_p50 is not None and stats.latency_p99 is not None
    assert 0 < stats.ttfb_p50 <= stats.ttfb_p99 <= 5  # type: ignore[operator]
    assert "7 requests" in stats.summary() and stats.as_dict()["retries"] == 1
    store.reset_stats()
    assert store.stats().requests == 0
    await store.close()


# ---------------------------------------------------------------- ObjectStore (obstore) hedges too
async def test_object_store_hedges_a_stalled_ranged_get(server: FaultServer) -> None:
    pytest.importorskip("obstore", reason="ObjectStore needs the optional obstore package")
    from obstore.store import HTTPStore

    from zarrio.stores import ObjectStore

    backend = HTTPStore.from_url(server.url, client_options={"allow_http": True})
    store = ObjectStore(backend, read_only=True, hedge_share=1.0, coalesce_max_gap=0)
    for i in range(12):  # answers that teach it the usual time to first byte
        assert await store.get_partial("v", i, 1) == VALUE[i : i + 1]
    server.reset()
    server.files = {"v": VALUE}
    server.add_fault("latency", "v", delay=3.0, first=1)
    started = time.monotonic()
    assert await store.get_partial("v", 100, 200) == VALUE[100:300]
    assert time.monotonic() - started < 2.0
    stats = store.stats()
    assert (stats.hedges, stats.hedges_won) == (1, 1)
    ranged = [r for r in server.requests if r.range]
    assert len(ranged) == 2 and ranged[0].headers.get("If-Match") == ranged[1].headers.get("If-Match")
