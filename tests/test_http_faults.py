"""HttpStore against our fault-injecting server: correct bytes or a typed error, never wrong bytes, never a hang."""

from __future__ import annotations

import asyncio
import gc
import pickle
import threading
import time
from typing import Any

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from servers.faults import FaultServer
from servers.fixtures import fault_server_fixtures

from zarrio.errors import HttpStatusError, ListingNotSupportedError, ObjectChangedError, ReadOnlyError, TransportError
from zarrio.stores.http import HttpStore

pytestmark = pytest.mark.timeout(30)

VALUE = bytes(range(256)) * 40  # 10240 bytes
FAST_RETRIES: dict[str, Any] = {"retries": 3, "backoff_initial": 0.005, "backoff_max": 0.02, "read_timeout": 5.0}


server_for_module, server = fault_server_fixtures(seed=1234, files={"data/v": VALUE, "data/empty": b""})


def make_store(server: FaultServer, **options: Any) -> HttpStore:
    return HttpStore(server.url + "/data", **{**FAST_RETRIES, **options})


# ---------------------------------------------------------------- retried statuses
@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
async def test_transient_status_is_retried(server: FaultServer, status: int) -> None:
    server.add_fault("status", "data/v", first=2, status=status)
    store = make_store(server)
    assert await store.get("data/v".removeprefix("data/")) == VALUE
    assert server.count("data/v") == 3


async def test_persistent_503_gives_up_after_the_retry_budget(server: FaultServer) -> None:
    server.add_fault("status", "data/v", status=503)
    store = make_store(server, retries=4)
    with pytest.raises(HttpStatusError) as caught:
        await store.get_partial("v", 0, 10)
    assert caught.value.status == 503
    assert caught.value.key == "v"
    assert server.url in str(caught.value)
    assert "5 attempts" in str(caught.value)
    assert server.count("data/v") == 5


@pytest.mark.parametrize("status", [400, 401, 405, 418])
async def test_other_statuses_fail_at_once(server: FaultServer, status: int) -> None:
    server.add_fault("status", "data/v", status=status)
    store = make_store(server)
    with pytest.raises(HttpStatusError) as caught:
        await store.get("v")
    assert caught.value.status == status
    assert server.count("data/v") == 1


async def test_retry_after_is_honoured(server: FaultServer) -> None:
    server.add_fault("status", "data/v", first=1, status=503, retry_after="1")
    store = make_store(server, backoff_max=0.01)
    started = time.monotonic()
    assert await store.get("v") == VALUE
    assert time.monotonic() - started >= 0.95
    assert server.count("data/v") == 2


async def test_retry_after_is_capped_by_the_retry_deadline(server: FaultServer) -> None:
    server.add_fault("status", "data/v", first=1, status=429, retry_after="3600")
    # The deadline leaves room for a slow first answer on a loaded machine (3 suites at once): 0.3 s did not.
    store = make_store(server, retry_deadline=2.0)
    started = time.monotonic()
    assert await store.get("v") == VALUE
    assert time.monotonic() - started < 10  # bounded by the deadline, not by the hour asked for
    assert server.count("data/v") == 2


async def test_random_faults_with_a_seed_never_give_wrong_bytes(server: FaultServer) -> None:
    server.add_fault("status", "data/v", probability=0.3, status=503)
    server.add_fault("truncate", "data/v", probability=0.2)
    store = make_store(server, retries=8)
    reads = [store.get_partial("v", i * 97, 300) for i in range(30)]
    assert await asyncio.gather(*reads) == [VALUE[i * 97 : i * 97 + 300] for i in range(30)]
    assert server.count("data/v") <= 30 * 9


# ---------------------------------------------------------------- broken bodies and connections
@pytest.mark.parametrize("fault", ["reset", "truncate"])
async def test_broken_body_is_retried(server: FaultServer, fault: str) -> None:
    server.add_fault(fault, "data/v", first=2)
    store = make_store(server)
    assert await store.get("v") == VALUE
    assert await store.get_partial("v", 100, 5000) == VALUE[100:5100]
    assert server.count("data/v") == 4


@pytest.mark.parametrize("fault", ["reset", "truncate"])
async def test_persistent_broken_body_is_a_transport_error(server: FaultServer, fault: str) -> None:
    server.add_fault(fault, "data/v")
    store = make_store(server, retries=2)
    with pytest.raises(TransportError) as caught:
        await store.get_partial("v", 0, 8000)
    assert not isinstance(caught.value, HttpStatusError)
    assert server.url in str(caught.value)
    assert server.count("data/v") == 3


async def test_trickle_hits_the_read_timeout_fast(server: FaultServer) -> None:
    server.add_fault("trickle", "data/v", delay=2.0)
    store = make_store(server, retries=1, read_timeout=0.2)
    started = time.monotonic()
    # aiohttp's sock_read timeout and the store's own inactivity watchdog both stand at 0.2 s here:
    # whichever notices first ends the attempt, and either says it was the read timeout
    with pytest.raises(TransportError, match=r"Timeout|no data for 0\.2\d s \(the adaptive read timeout\)"):
        await store.get("v")
    assert time.monotonic() - started < 5
    assert server.count("data/v") == 2


async def test_total_timeout_is_a_deadline_for_the_whole_operation(server: FaultServer) -> None:
    server.add_fault("latency", "data/v", delay=5.0)
    store = make_store(server, total_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(TransportError, match="total_timeout"):
        await store.get("v")
    assert time.monotonic() - started < 3


async def test_connection_refused_is_retried_then_a_transport_error() -> None:
    with FaultServer() as gone:
        url = gone.url
    store = HttpStore(url, **{**FAST_RETRIES, "retries": 2})
    with pytest.raises(TransportError) as caught:
        await store.get("x")
    assert "3 attempts" in str(caught.value)
    await store.close()


# ---------------------------------------------------------------- range validation
async def test_ignored_range_is_sliced_and_remembered(server: FaultServer) -> None:
    server.add_fault("ignore_range", "data/v")
    store = make_store(server)
    assert await store.get_partial("v", 1000, 50) == VALUE[1000:1050]
    assert store.ranges_ignored
    assert await store.get_suffix("v", 77) == VALUE[-77:]
    assert await store.get_ranges("v", [(0, 3), (9000, 10)]) == [VALUE[:3], VALUE[9000:9010]]
    assert await store.exists("v") and not await store.exists("nope")
    sent = [(r.method, r.range) for r in server.requests]
    assert sent[0] == ("GET", "bytes=1000-1049")
    # whole gets once the server was seen ignoring Range, and HEAD for existence
    assert sent[1:] == [("GET", None), ("GET", None), ("HEAD", None), ("HEAD", None)]


async def test_whole_value_answer_to_a_covering_range_is_not_range_ignoring(server: FaultServer) -> None:
    server.files["data/small"] = b"abc"
    server.add_fault("ignore_range", "data/small")
    store = make_store(server)
    assert await store.get_suffix("small", 10) == b"abc"
    assert await store.get_partial("small", 0, 3) == b"abc"
    assert not store.ranges_ignored


async def test_wrong_content_range_is_an_error_not_wrong_bytes(server: FaultServer) -> None:
    server.add_fault("wrong_content_range", "data/v")
    store = make_store(server)
    with pytest.raises(TransportError, match="Content-Range"):
        await store.get_partial("v", 10, 20)
    with pytest.raises(TransportError, match="Content-Range"):
        await store.get_suffix("v", 20)
    with pytest.raises(TransportError, match="Content-Range"):
        await store.get_ranges("v", [(0, 10), (5000, 10)])


async def test_short_ranged_body_is_retried_then_an_error(server: FaultServer) -> None:
    server.add_fault("short_body", "data/v", first=1)
    store = make_store(server)
    assert await store.get_partial("v", 100, 1000) == VALUE[100:1100]
    assert server.count("data/v") == 2
    server.add_fault("short_body", "data/v")
    with pytest.raises(TransportError, match="short body"):
        await store.get_suffix("v", 1000)
    assert server.count("data/v") == 2 + 4


async def test_a_value_changing_during_a_batched_read_is_an_error(server: FaultServer) -> None:
    server.add_fault("new_etag", "data/v")
    store = make_store(server, coalesce_max_gap=0)
    assert await store.get_ranges("v", [(0, 10)]) == [VALUE[:10]]  # one request: nothing to compare
    with pytest.raises(TransportError, match="changed"):
        await store.get_ranges("v", [(0, 10), (5000, 10)])


async def test_unsatisfiable_ranges(server: FaultServer) -> None:
    store = make_store(server)
    assert await store.get_partial("v", len(VALUE), 10) == b""
    assert await store.get_partial("v", len(VALUE) + 5, 10) == b""
    assert await store.get_suffix("empty", 10) == b""
    assert await store.get_partial("empty", 0, 10) == b""
    assert await store.exists("empty")
    assert [r.range for r in server.requests] == [
        "bytes=10240-10249",
        "bytes=10245-10254",
        "bytes=-10",
        "bytes=0-9",
        "bytes=0-0",
    ]


# ---------------------------------------------------------------- missing keys
async def test_404_and_403_mean_missing(server: FaultServer) -> None:
    store = make_store(server)
    server.add_fault("missing", "data/v")
    assert await store.get("v") is None
    assert await store.get_partial("v", 0, 4) is None
    assert await store.get_ranges("v", [(0, 4), (100, 4)]) is None
    assert await store.exists("v") is False
    server.reset()
    server.add_fault("status", "data/v", status=403)
    assert await store.get_suffix("v", 4) is None
    assert server.count("data/v") == 1


async def test_missing_metadata_answers_are_cached(server: FaultServer) -> None:
    store = make_store(server)
    assert await store.get("a/zarr.json") is None
    assert await store.exists("a/zarr.json") is False
    assert await store.get("a/chunk") is None
    assert await store.get("a/chunk") is None
    assert server.count("data/a/zarr.json") == 1
    assert server.count("data/a/chunk") == 2  # only metadata probes are remembered
    server.files["data/a/zarr.json"] = b"{}"
    assert await store.get("a/zarr.json") is None
    store.clear_cache()
    assert await store.get("a/zarr.json") == b"{}"


# ---------------------------------------------------------------- batching, limits, sessions
async def test_get_ranges_coalesces_nearby_ranges(server: FaultServer) -> None:
    ranges = [(i * 500, 100) for i in range(20)]
    expected = [VALUE[o : o + n] for o, n in ranges]
    assert await make_store(server).get_ranges("v", ranges) == expected
    assert server.count("data/v") == 1
    assert server.bytes_sent["data/v"] == 19 * 500 + 100  # one span from the first byte to the last
    server.reset()
    assert await make_store(server, coalesce_max_gap=0, multirange=False).get_ranges("v", ranges) == expected
    assert server.count("data/v") == 20
    server.reset()
    assert await make_store(server, coalesce_max_size=2600, multirange=False).get_ranges("v", ranges) == expected
    assert server.count("data/v") == 4


async def test_concurrency_limit_holds(server: FaultServer) -> None:
    server.add_fault("latency", "data/*", delay=0.05)
    server.files.update({f"data/k{i}": bytes([i]) * 10 for i in range(24)})
    store = make_store(server, max_concurrency=4)
    values = await asyncio.gather(*(store.get(f"k{i}") for i in range(24)))
    assert values == [bytes([i]) * 10 for i in range(24)]
    assert 2 <= server.max_in_flight <= 4


def test_same_store_from_two_event_loops(server: FaultServer) -> None:
    store = make_store(server)
    assert asyncio.run(store.get("v")) == VALUE
    assert asyncio.run(store.get_partial("v", 3, 4)) == VALUE[3:7]

    async def on_a_new_loop_and_close() -> bytes | None:
        async with store:
            return await store.get_suffix("v", 5)

    assert asyncio.run(on_a_new_loop_and_close()) == VALUE[-5:]


async def test_connections_are_kept_alive(server: FaultServer) -> None:
    store = make_store(server, preconnect=0)  # the one connection of sequential requests, nothing opened beside it
    for i in range(10):
        assert await store.get_partial("v", i, 1) == VALUE[i : i + 1]
    assert await store.get("nope") is None  # a 404 answer leaves the connection reusable too
    assert await store.get("v") == VALUE
    assert len({record.peer for record in server.requests}) == 1


def test_one_store_used_from_two_threads_at_once(server: FaultServer) -> None:
    server.add_fault("latency", "data/*", delay=0.02)
    store = make_store(server, max_concurrency=3)
    results: dict[int, list[bytes | None]] = {}

    def reader(n: int) -> None:
        async def read_many() -> list[bytes | None]:
            return await asyncio.gather(*(store.get_partial("v", n * 100 + i, 10) for i in range(12)))

        results[n] = asyncio.run(read_many())

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    for n in range(2):
        assert results[n] == [VALUE[n * 100 + i : n * 100 + i + 10] for i in range(12)]
    assert server.max_in_flight <= 2 * 3  # one limiter per event loop


def test_sessions_close_with_their_loop(server: FaultServer) -> None:
    store = make_store(server)
    sessions = []

    async def read() -> bytes | None:
        sessions.append(await store._session())
        return await store.get_partial("v", 0, 1)

    for _ in range(3):
        assert asyncio.run(read()) == VALUE[:1]
    assert len({id(s) for s in sessions}) == 3  # one per loop, never bound to a finished loop
    assert all(s.closed for s in sessions)  # asyncio.run's shutdown closed each one


async def test_stores_on_one_loop_share_a_session(server: FaultServer) -> None:
    first, second = make_store(server), make_store(server)
    assert await first.get("v") == VALUE
    assert await second.get("v") == VALUE
    assert await first._session() is await second._session()
    # a dropped store leaves nothing behind to warn about: the session belongs to the loop
    del first
    gc.collect()
    assert await second.get_partial("v", 0, 2) == VALUE[:2]


async def test_a_users_session_is_used_and_left_open(server: FaultServer) -> None:
    async with aiohttp.ClientSession(headers={"X-Mine": "yes"}) as session:
        store = HttpStore(server.url + "/data", session=session)
        assert await store.get("v") == VALUE
        await store.close()
        assert not session.closed
        assert await store.get_partial("v", 0, 2) == VALUE[:2]
    assert all(r.headers.get("X-Mine") == "yes" for r in server.requests)


async def test_headers_and_params_are_sent(server: FaultServer) -> None:
    store = HttpStore(server.url + "/data?sig=abc%2F1", headers={"Authorization": "Bearer t0k"}, params={"v": "2"})
    assert await store.get("v") == VALUE
    assert await store.get_partial("v", 1, 1) == VALUE[1:2]
    assert await store.exists("v")
    assert len(server.requests) == 3
    for record in server.requests:
        assert record.headers["Authorization"] == "Bearer t0k"
        assert record.query == {"sig": "abc/1", "v": "2"}
        assert record.path == "data/v"


async def test_odd_keys_are_quoted_per_segment(server: FaultServer) -> None:
    keys = ["a b/c#d", "p%/50%25", "ü/€", "q?/x?y=1&z", "plus+/~t"]
    for key in keys:
        server.files["data/" + key] = key.encode()
    store = make_store(server)
    assert [await store.get(key) for key in keys] == [key.encode() for key in keys]
    assert [r.query for r in server.requests] == [{}] * len(keys)


def test_pickles_as_its_configuration(server: FaultServer) -> None:
    store = make_store(server, headers={"X-A": "1"}, max_concurrency=7)
    assert asyncio.run(store.get_partial("v", 0, 4)) == VALUE[:4]
    clone = pickle.loads(pickle.dumps(store))
    assert isinstance(clone, HttpStore)
    assert (clone.url, clone.max_concurrency, clone.headers) == (store.url, 7, store.headers)
    assert clone.retry_policy == store.retry_policy
    assert asyncio.run(clone.get_suffix("v", 4)) == VALUE[-4:]


async def test_precondition_failure_says_the_object_changed(server: FaultServer) -> None:
    store = make_store(server, headers={"If-Match": '"not-the-etag"'})
    with pytest.raises(ObjectChangedError, match="changed"):
        await store.get_partial("v", 0, 4)


async def test_ranged_reads_stay_on_the_version_first_read(server: FaultServer) -> None:
    store = make_store(server)
    first = await store.get_suffix("v", 8)  # e.g. a shard index: pins the version
    assert first == VALUE[-8:]
    server.files["data/v"] = b"Z" * len(VALUE)  # the object is replaced on the server
    with pytest.raises(ObjectChangedError):
        await store.get_partial("v", 0, 4)  # an inner chunk of the old version cannot be had
    assert await store.get_partial("v", 0, 4) == b"ZZZZ"  # the next read pins the new version
    sent = [r for r in server.requests if r.path.endswith("/v")]
    assert "If-Match" in sent[1].headers


async def test_cannot_list_or_write(server: FaultServer) -> None:
    store = make_store(server)
    with pytest.raises(ListingNotSupportedError, match="consolidated metadata"):
        await store.list()
    with pytest.raises(ListingNotSupportedError):
        await store.list_dir("a/")
    with pytest.raises(ReadOnlyError):
        await store.set("v", b"x")
    with pytest.raises(ReadOnlyError):
        await store.erase("v")
    assert server.count() == 0


# ---------------------------------------------------------------- property: right bytes or a typed error
@settings(max_examples=40, deadline=None)
@given(
    ranges=st.lists(st.tuples(st.integers(0, 11_000), st.integers(0, 3000)), min_size=1, max_size=8),
    fault=st.sampled_from(["reset", "truncate", "ignore_range", "wrong_content_range", "short_body", "status"]),
    probability=st.sampled_from([0.0, 0.3, 1.0]),
    gap=st.sampled_from([0, 1024, 1 << 20]),
)
def test_any_faults_give_right_bytes_or_a_typed_error(
    server_for_module: FaultServer, ranges: list[tuple[int, int]], fault: str, probability: float, gap: int
) -> None:
    server = server_for_module
    server.reset()
    server.files = {"data/v": VALUE}
    server.add_fault(fault, "data/v", probability=probability)
    store = make_store(server, retries=2, coalesce_max_gap=gap)

    async def read() -> tuple[list[bytes] | None, list[bytes | None]]:
        batched = await store.get_ranges("v", ranges)
        single = [await store.get_partial("v", offset, length) for offset, length in ranges[:2]]
        return batched, single

    try:
        batched, single = asyncio.run(read())
    except TransportError:
        assert probability > 0 and fault != "ignore_range"
        return
    assert batched == [VALUE[o : o + n] for o, n in ranges]
    assert single == [VALUE[o : o + n] for o, n in ranges[:2]]
