"""How HttpStore groups the ranges of one value (issue 19): within one multi-range request a gap
costs its bytes and saves nothing, so only small gaps are fetched; asked for one by one, a span is
a round trip, so the wide ``coalesce_max_gap`` applies (after a refusal, and past the part limit)."""

from __future__ import annotations

from typing import Any

from servers.faults import FaultServer
from servers.fixtures import fault_server_fixtures

from zarrio.stores import _multipart as mp
from zarrio.stores.http import HttpStore

VALUE = bytes(range(251)) * 4000  # about 1 MB, no period of a power of two
QUICK: dict[str, Any] = {"retries": 3, "backoff_initial": 0.005, "backoff_max": 0.02}
#: three ranges 8 KB apart: farther than multirange_max_gap (4 KiB), nearer than coalesce_max_gap (64 KiB)
RANGES = [(0, 100), (8_100, 100), (16_200, 100)]


server_for_module, server = fault_server_fixtures(seed=19, files={"v": VALUE})


def expected(ranges: list[tuple[int, int]]) -> list[bytes]:
    return [VALUE[o : o + n] for o, n in ranges]


async def test_a_multirange_request_does_not_fetch_the_gaps(server: FaultServer) -> None:
    store = HttpStore(server.url, **QUICK)
    assert await store.get_ranges("v", RANGES) == expected(RANGES)
    assert [r.range for r in server.requests] == ["bytes=0-99,8100-8199,16200-16299"]
    assert store.stats().bytes_received < 3 * 100 + 3 * 200  # three parts and their headers, no gap bytes
    await store.close()


async def test_small_gaps_are_still_fetched_in_a_multirange_request(server: FaultServer) -> None:
    store = HttpStore(server.url, **QUICK)
    ranges = [(0, 100), (1_100, 100), (50_000, 100)]  # a 1 KB gap (merged), then a 49 KB one (not)
    assert await store.get_ranges("v", ranges) == expected(ranges)
    assert [r.range for r in server.requests] == ["bytes=0-1199,50000-50099"]
    await store.close()


async def test_the_wide_gap_applies_where_multirange_is_off(server: FaultServer) -> None:
    store = HttpStore(server.url, **QUICK, multirange=False)
    assert await store.get_ranges("v", RANGES) == expected(RANGES)
    assert [r.range for r in server.requests] == ["bytes=0-16299"]  # one request, gaps and all
    await store.close()


async def test_a_refusal_regroups_the_spans_by_the_wide_gap(server: FaultServer) -> None:
    server.add_fault("refuse_multirange", "v", status=200)
    store = HttpStore(server.url, **QUICK)
    assert await store.get_ranges("v", RANGES) == expected(RANGES)
    assert store.multirange_supported is False
    # the refused multi-range request, then one request for all three (not one each)
    assert [r.range for r in server.requests] == ["bytes=0-99,8100-8199,16200-16299", "bytes=0-16299"]
    assert await store.get_ranges("v", RANGES) == expected(RANGES)
    assert server.count("v") == 3
    await store.close()


async def test_the_wide_gap_applies_when_the_narrow_one_needs_more_requests(server: FaultServer) -> None:
    store = HttpStore(server.url, **QUICK)
    ranges = [(i * 5_000, 10) for i in range(mp.MAX_RANGES + 50)]  # 5 KB gaps: 150 parts, two requests
    assert await store.get_ranges("v", ranges) == expected(ranges)
    assert [r.range for r in server.requests] == [f"bytes=0-{ranges[-1][0] + 9}"]  # one merged range
    await store.close()


async def test_ranges_past_the_end_after_a_refusal(server: FaultServer) -> None:
    server.add_fault("refuse_multirange", "v", status=200)
    store = HttpStore(server.url, **QUICK)
    size = len(VALUE)
    ranges = [(size - 9_000, 100), (size - 50, 100), (size + 10, 5)]
    assert await store.get_ranges("v", ranges) == [VALUE[size - 9_000 : size - 8_900], VALUE[size - 50 :], b""]
    await store.close()
