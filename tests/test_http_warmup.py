"""Connection warm-up: while a sharded read waits for shard indexes, HttpStore opens the
connections its inner-chunk reads will need, so no read waits for a handshake afterwards; and
beside a store's first request (an array's metadata) it opens ``preconnect`` connections.

Every store here that is not about ``preconnect`` is made with ``preconnect=0``, so that the
connections counted are the warm-up's own."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import numpy as np
import pytest
from servers.faults import FaultServer
from servers.fixtures import fault_server_fixtures

import zarrio
from zarrio.errors import StoreError
from zarrio.stores import HttpStore, MemoryStore
from zarrio.testing import ForwardingStore

pytestmark = pytest.mark.timeout(60)

VALUE = bytes(range(256)) * 64
LATENCY = 0.3  # long enough that the warm-up finishes while the index read waits


server_for_module, server = fault_server_fixtures(seed=11, files={"v": VALUE})


async def connections_reach(server: FaultServer, n: int, within: float = 5.0) -> int:
    """Wait (bounded) until the server has accepted ``n`` connections; the count reached."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while server.connections < n and loop.time() < deadline:
        await asyncio.sleep(0.01)
    return server.connections


async def test_announced_reads_find_their_connections_open(server: FaultServer) -> None:
    server.add_fault("latency", "v", delay=LATENCY)  # the six reads overlap: six connections at once
    store = HttpStore(server.url, multirange=False, preconnect=0)
    store.expect_reads(6)
    assert await connections_reach(server, 6) == 6
    assert server.count() == 0  # connections only: the warm-up sends no request
    got = await asyncio.gather(*(store.get_partial("v", 100 * i, 10) for i in range(6)))
    assert got == [VALUE[100 * i : 100 * i + 10] for i in range(6)]
    assert server.count() == 6
    assert server.connections == 6  # every read used a connection opened ahead of it
    assert len({r.peer for r in server.requests}) == 6
    await store.close()


async def test_the_warm_up_stays_within_max_concurrency_counting_requests_in_flight(server: FaultServer) -> None:
    server.add_fault("latency", "v", delay=LATENCY)
    store = HttpStore(server.url, max_concurrency=5, multirange=False, preconnect=0)
    busy = [asyncio.ensure_future(store.get_partial("v", 0, 10)) for _ in range(2)]
    await asyncio.sleep(0.05)  # both requests hold a connection
    store.expect_reads(100)
    assert await connections_reach(server, 5) == 5
    await asyncio.sleep(0.1)
    assert server.connections == 5  # 2 in flight + 3 warmed, not 100
    await asyncio.gather(*busy)
    await store.close()


async def test_idle_connections_count_towards_the_warm_up(server: FaultServer) -> None:
    store = HttpStore(server.url, multirange=False, preconnect=0)
    await asyncio.gather(*(store.get_partial("v", 0, 10) for _ in range(3)))  # some connections, now idle
    opened = server.connections
    store.expect_reads(opened)
    await asyncio.sleep(0.2)
    assert server.connections == opened  # the idle ones were enough
    store.expect_reads(opened + 2)
    assert await connections_reach(server, opened + 2) == opened + 2
    await store.close()


async def test_no_warm_up_with_a_session_of_your_own(server: FaultServer) -> None:
    async with aiohttp.ClientSession() as session:
        store = HttpStore(server.url, session=session, multirange=False, preconnect=4)
        store.expect_reads(4)
        await asyncio.sleep(0.2)
        assert server.connections == 0
        assert await store.get_partial("v", 0, 4) == VALUE[:4]
        await asyncio.sleep(0.2)
        assert server.connections == 1  # the one request's, none opened beside it


async def test_connections_are_opened_beside_the_first_request(server: FaultServer) -> None:
    server.add_fault("latency", "v", delay=LATENCY)
    store = HttpStore(server.url, preconnect=4)
    first = asyncio.ensure_future(store.get_partial("v", 0, 10))
    assert await connections_reach(server, 5) == 5  # opened while the first request waits
    assert not first.done()
    assert await first == VALUE[:10]
    assert server.count() == 1  # connections only: no request was sent for them
    got = await asyncio.gather(*(store.get_partial("v", 100 * i, 10) for i in range(5)))
    assert got == [VALUE[100 * i : 100 * i + 10] for i in range(5)]
    assert server.connections == 5  # the five concurrent reads found them open
    assert sorted(r.connections_open_before for r in server.requests[1:]) == [5] * 5
    await store.close()


async def test_connections_are_opened_once_per_loop_and_within_max_concurrency(server: FaultServer) -> None:
    store = HttpStore(server.url, preconnect=16, max_concurrency=3)
    assert await store.get_partial("v", 0, 10) == VALUE[:10]
    assert await connections_reach(server, 3) == 3  # the request's and two more, not sixteen
    for _ in range(3):
        assert await store.get_partial("v", 0, 10) == VALUE[:10]
    await asyncio.sleep(0.2)
    assert server.connections == 3  # later requests open none
    await store.close()


async def test_preconnect_zero_opens_none(server: FaultServer) -> None:
    store = HttpStore(server.url, preconnect=0)
    assert await store.get_partial("v", 0, 10) == VALUE[:10]
    await asyncio.sleep(0.2)
    assert server.connections == 1
    with pytest.raises(StoreError, match="preconnect"):
        HttpStore(server.url, preconnect=-1)
    await store.close()


def test_expect_reads_outside_an_event_loop_does_nothing(server: FaultServer) -> None:
    HttpStore(server.url, multirange=False, preconnect=0).expect_reads(4)
    assert server.connections == 0


async def test_no_warm_up_while_multirange_requests_may_be_used(server: FaultServer) -> None:
    store = HttpStore(server.url, preconnect=0)  # multi-range: the reads after an index are one request
    store.expect_reads(4)
    await asyncio.sleep(0.2)
    assert server.connections == 0
    store.multirange_supported = False  # as once the server refused one
    store.expect_reads(4)
    assert await connections_reach(server, 4) == 4
    await store.close()


def test_inner_chunk_reads_of_a_sharded_array_arrive_on_connections_opened_during_the_index_read() -> None:
    source = MemoryStore()
    z = zarrio.create(source, (64, 64), "int32", chunks=(8, 8), shards=(64, 64))
    data = np.arange(64 * 64, dtype="int32").reshape(64, 64)
    z[...] = data
    tiles = [(slice(y, y + 8), slice(x, x + 8)) for y, x in [(0, 0), (16, 16), (32, 32), (48, 48), (8, 40)]]
    with FaultServer(seed=5) as server:
        server.files = dict(source._values)

        async def read() -> list[Any]:
            # one request per inner chunk (no multi-range): the reads the warm-up prepares for
            a = await zarrio.aio.open(
                HttpStore(server.url, coalesce_max_gap=0, multirange=False, preconnect=0), mode="r"
            )
            server.reset()
            server.files = dict(source._values)
            server.add_fault("latency", "c/*", delay=LATENCY)
            return await asyncio.gather(*(a.getitem(t) for t in tiles))

        got = zarrio.run(read())
        requests = list(server.requests)
        connections = server.connections
    for tile, window in zip(got, tiles, strict=True):
        assert np.array_equal(tile, data[window])
    index_reads = [r for r in requests if r.range is not None and r.range.startswith("bytes=-")]
    data_reads = [r for r in requests if r not in index_reads]
    assert len(index_reads) == 1 and len(data_reads) == len(tiles)  # no adjacent inner chunks: one read each
    # the open's connection (accepted before reset(), so not counted) carries the index read; the
    # other four were opened while it waited: every inner-chunk read found them open, none came later
    assert [r.connections_open_before for r in data_reads] == [len(tiles) - 1] * len(tiles)
    assert connections == len(tiles) - 1
    assert len({r.peer for r in data_reads}) == len(tiles)


class Announcements(ForwardingStore):
    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.counts: list[int] = []

    def expect_reads(self, count: int) -> None:
        self.counts.append(count)
        super().expect_reads(count)


def test_the_engine_announces_one_read_per_run_of_adjacent_inner_chunks() -> None:
    source = MemoryStore()
    z = zarrio.create(source, (64, 64), "uint8", chunks=(8, 8), shards=(64, 64))
    z[...] = 7
    store = Announcements(source)
    a = zarrio.open(store, mode="r")
    # inner chunks 0, 1, 2 (one run) and 8 (the next row of chunks): two runs
    assert (a[0:8, 0:24] == 7).all()
    assert (a[8:16, 0:8] == 7).all()
    assert store.counts == [1, 1]
    store.counts.clear()
    assert (a[0:16, 0:16] == 7).all()  # chunks 0, 1, 8, 9
    assert store.counts == [2]
    store.counts.clear()
    assert (a[...] == 7).all()  # the whole shard is one read of its own: nothing waits for an index
    assert store.counts == []
