"""The decoded-chunk cache (zarrio/engine/chunk_cache.py): hits and misses, the byte bound and
LRU order, writes that drop entries (same array, another array object, sync and async, 16
threads), revalidation of ETag-pinned HTTP entries, request counts, and off by default."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from servers.faults import FaultServer
from servers.nginx import NginxServer

import zarrio
from zarrio.errors import ResourceLimitError
from zarrio.stores import HttpStore, LocalStore, MemoryStore
from zarrio.testing import CountingStore

pytestmark = pytest.mark.timeout(20)

CHUNK = (5, 5)  # 100 bytes of int32
DATA = np.arange(400, dtype="int32").reshape(20, 20)


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    zarrio.cache_clear()
    yield
    zarrio.cache_clear()


def stats() -> tuple[int, int]:
    s = zarrio.cache_stats()
    return s.hits, s.misses


def fetches(counting: CountingStore) -> int:
    return sum(counting.counts[m] for m in ("get", "get_partial", "get_ranges", "get_suffix", "get_suffix_with_size"))


def memory_array() -> tuple[MemoryStore, zarrio.Array]:
    store = MemoryStore()
    z = zarrio.create_array(store, shape=(20, 20), dtype="int32", chunks=CHUNK)
    z[...] = DATA
    return store, z


# ---------------------------------------------------------------- hits, misses, bound
def test_off_by_default_changes_nothing() -> None:
    store, _ = memory_array()
    counting = CountingStore(store)
    z = zarrio.open_array(counting)
    counting.reset()
    for _ in range(3):
        assert np.array_equal(z[0:5, 0:5], DATA[0:5, 0:5])
    assert fetches(counting) == 3  # every read fetches, as without a cache
    assert zarrio.cache_stats() == zarrio.CacheStats(0, 0, 0, 0, 0, 0, 0, 0)


def test_hits_and_misses_are_counted() -> None:
    store, _ = memory_array()
    z = zarrio.open_array(store, cache_bytes=10_000)
    assert np.array_equal(z[0:5, 0:5], DATA[0:5, 0:5])
    assert stats() == (0, 1)
    assert np.array_equal(z[1:4, 2:5], DATA[1:4, 2:5])
    assert stats() == (1, 1)
    assert np.array_equal(z[0:10, 0:10], DATA[0:10, 0:10])
    assert stats() == (2, 4)
    s = zarrio.cache_stats()
    assert (s.entries, s.nbytes, s.capacity) == (4, 400, 10_000)


@pytest.mark.parametrize("mode", ["w", "a"])
def test_an_array_created_by_open_carries_the_options_of_the_call(mode: str) -> None:
    """open_array creating the array (mode 'w', or 'a' with nothing there) gives it cache_bytes=,
    max_read_bytes= and strict= as it would give an array it opened."""
    store = MemoryStore()
    z = zarrio.open_array(
        store, mode=mode, shape=(20, 20), dtype="int32", chunks=CHUNK, cache_bytes=10_000, max_read_bytes=1_000
    )
    z[0:10] = DATA[0:10]  # 800 bytes each: within the limit
    z[10:20] = DATA[10:20]
    assert np.array_equal(z[0:5, 0:5], DATA[0:5, 0:5]) and np.array_equal(z[0:5, 0:5], DATA[0:5, 0:5])
    assert stats() == (1, 1)  # through the cache: the second read is a hit
    with pytest.raises(ResourceLimitError):
        z[...]  # 1,600 bytes: over this array's max_read_bytes
    strict = zarrio.open_array(MemoryStore(), mode=mode, shape=(4,), dtype="int32", strict=True)
    assert strict.aio.strict


def test_cache_bytes_zero_opts_out_and_the_config_opts_in() -> None:
    store, _ = memory_array()
    with zarrio.config.set({"cache.bytes": 10_000}):
        z = zarrio.open_array(store)
        z[0:5, 0:5]
        z[0:5, 0:5]
        assert stats() == (1, 1)
        off = zarrio.open_array(store, cache_bytes=0)
        off[0:5, 0:5]
        assert stats() == (1, 1)
    z[0:5, 0:5]  # the config is read when used: off again
    assert stats() == (1, 1)
    zarrio.open_array(store, cache_bytes=10_000)[0:5, 0:5]
    z[0:5, 0:5]  # another array's cache_bytes= does not turn it on for this one
    assert stats() == (2, 1)


def test_the_byte_bound_evicts_the_least_recently_used() -> None:
    store, _ = memory_array()
    z = zarrio.open_array(store, cache_bytes=300)  # three 100-byte chunks
    a, b, c, d = (
        (slice(0, 5), slice(0, 5)),
        (slice(0, 5), slice(5, 10)),
        (slice(5, 10), slice(0, 5)),
        (slice(5, 10), slice(5, 10)),
    )
    for region in (a, b, c):
        z[region]
    z[a]  # a is now the most recent, b the least
    assert stats() == (1, 3)
    z[d]  # evicts b
    s = zarrio.cache_stats()
    assert (s.evictions, s.entries, s.nbytes) == (1, 3, 300)
    z[a]
    assert stats() == (2, 4)
    z[b]  # evicted: fetched again
    assert stats() == (2, 5)
    for region, (ys, xs) in zip((a, b, c, d), (a, b, c, d), strict=True):
        assert np.array_equal(z[region], DATA[ys, xs])


def test_a_chunk_larger_than_the_bound_is_not_kept() -> None:
    store, _ = memory_array()
    z = zarrio.open_array(store, cache_bytes=50)
    z[0:5, 0:5]
    z[0:5, 0:5]
    assert stats() == (0, 2) and zarrio.cache_stats().entries == 0


def test_cached_chunks_are_never_handed_out() -> None:
    store, _ = memory_array()
    z = zarrio.open_array(store, cache_bytes=10_000)
    first = z[0:5, 0:5]
    first[...] = -7  # the reader's own copy
    assert np.array_equal(z[0:5, 0:5], DATA[0:5, 0:5])
    assert stats() == (1, 1)


def test_arrays_with_other_metadata_over_one_key_do_not_share() -> None:
    store = MemoryStore()
    a = zarrio.create_array(store, path="a", shape=(10,), dtype="int32", chunks=(10,), compressors=None)
    a[:] = np.arange(10, dtype="int32")
    raw = zarrio.run(store.get("a/c/0"))
    assert raw is not None
    b = zarrio.create_array(store, path="b", shape=(10,), dtype="float32", chunks=(10,), compressors=None)
    zarrio.run(store.set("b/c/0", raw))  # the same bytes under b's key
    ca = zarrio.open_array(store, path="a", cache_bytes=10_000)
    ca[:]
    # the same key and bytes read as another data type: a separate entry
    view = zarrio.open_array(store, path="b", cache_bytes=10_000)
    assert np.array_equal(view[:], np.arange(10, dtype="int32").view("float32"))
    assert b.dtype == np.dtype("float32")
    assert stats() == (0, 2)


# ---------------------------------------------------------------- writes never leave stale entries
def test_a_write_then_a_read_sees_the_write_same_and_other_array(tmp_path: Path) -> None:
    for store in (MemoryStore(), LocalStore(tmp_path / "d.zarr")):
        z = zarrio.create_array(store, shape=(20, 20), dtype="int32", chunks=CHUNK, overwrite=True)
        z[...] = DATA
        cached = zarrio.open_array(store, cache_bytes=10_000)
        other = zarrio.open_array(store, cache_bytes=10_000)
        assert cached[0, 0] == 0
        cached[0, 0] = 11  # a read-modify-write through the caching array
        assert cached[0, 0] == 11 and other[0, 0] == 11
        z[0:5, 0:5] = 22  # a whole-chunk write through an array without the cache
        assert cached[0, 0] == 22 and other[1, 1] == 22
        z[0, 1] = 33
        assert cached[0, 1] == 33


def test_resize_and_overwrite_drop_entries() -> None:
    store, _ = memory_array()
    cached = zarrio.open_array(store, cache_bytes=10_000)
    assert cached[19, 19] == 399
    cached.resize((10, 10))
    cached.resize((20, 20))
    assert cached[19, 19] == 0  # the erased chunk reads as the fill value
    zarrio.create_array(store, shape=(20, 20), dtype="int32", chunks=CHUNK, overwrite=True)
    again = zarrio.open_array(store, cache_bytes=10_000)
    assert again[0, 4] == 0 and cached[0, 4] == 0


def test_async_writes_then_reads_through_the_event_loop() -> None:
    store, _ = memory_array()
    counting = CountingStore(store)  # no blocking access: the async driver's path

    async def main() -> None:
        cached = await zarrio.aio.open_array(counting, cache_bytes=10_000)
        other = await zarrio.aio.open_array(counting, cache_bytes=10_000)
        assert np.array_equal(await cached.getitem((slice(0, 5), slice(0, 5))), DATA[0:5, 0:5])
        await cached.getitem((slice(0, 5), slice(0, 5)))
        assert stats() == (1, 1)
        gets = fetches(counting)
        await cached.getitem((slice(0, 5), slice(0, 5)))
        assert fetches(counting) == gets  # a hit fetches nothing
        await other.setitem((0, 0), -5)
        assert await cached.getitem((0, 0)) == -5

        async def writer(i: int) -> None:
            await other.setitem((i // 5, i % 5 + 5), 1000 + i)
            assert await cached.getitem((i // 5, i % 5 + 5)) == 1000 + i

        await asyncio.gather(*(writer(i) for i in range(25)))

    zarrio.run(main())


def test_sharded_arrays_cache_inner_chunks() -> None:
    store = CountingStore(MemoryStore())
    z = zarrio.create_array(store, shape=(20, 20), dtype="int32", chunks=CHUNK, shards=(10, 10))
    z[...] = DATA
    cached = zarrio.open_array(store, cache_bytes=10_000)
    assert np.array_equal(cached[0:10, 0:10], DATA[0:10, 0:10])
    assert np.array_equal(cached[2:7, 2:7], DATA[2:7, 2:7])
    assert stats() == (4, 4)
    z[0, 0] = -1  # rewrites the shard
    assert cached[0, 0] == -1 and cached[9, 9] == DATA[9, 9]


@pytest.mark.parametrize("blocking", [True, False], ids=["blocking", "event-loop"])
def test_16_threads_writing_and_reading_never_see_stale_data(blocking: bool) -> None:
    inner = MemoryStore()
    store: Any = inner if blocking else CountingStore(inner)
    zarrio.create_array(store, shape=(16, 100), dtype="int32", chunks=(16, 100))  # one shared chunk
    rounds = 20
    errors: list[str] = []
    barrier = threading.Barrier(16)

    def worker(row: int) -> None:
        mine = zarrio.open_array(store, cache_bytes=1 << 20)  # an array object per thread
        barrier.wait()
        for r in range(1, rounds + 1):
            mine[row, :] = r
            got = mine[row, :]
            if not np.all(got == r):
                errors.append(f"row {row} round {r}: read {got[:3]}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    final = zarrio.open_array(store, cache_bytes=1 << 20)[...]
    assert np.all(final == rounds)
    assert zarrio.cache_stats().hits + zarrio.cache_stats().misses >= 16 * rounds


# ---------------------------------------------------------------- HTTP: request counts and revalidation
def chunk_files() -> dict[str, bytes]:
    store = MemoryStore()
    z = zarrio.create_array(store, shape=(20, 20), dtype="int32", chunks=CHUNK)
    z[...] = DATA
    return {key: zarrio.run(store.get(key)) or b"" for key in zarrio.run(store.list())}


@pytest.fixture
def faults() -> Iterator[FaultServer]:
    with FaultServer(chunk_files()) as server:
        yield server


def chunk_requests(server: FaultServer) -> list[str | None]:
    return [r.range for r in server.requests if r.path == "c/0/0"]


def test_three_identical_http_reads_make_one_get(faults: FaultServer) -> None:
    z = zarrio.open_array(HttpStore(faults.url), cache_bytes=1 << 20)
    for _ in range(3):
        assert np.array_equal(z[0:5, 0:5], DATA[0:5, 0:5])
    ranges = chunk_requests(faults)
    # one ranged GET of the chunk, then a one-byte version check per cached read
    assert len(ranges) == 3 and ranges[0] != "bytes=0-0" and ranges[1:] == ["bytes=0-0", "bytes=0-0"]
    s = zarrio.cache_stats()
    assert (s.hits, s.misses, s.revalidations, s.stale) == (2, 1, 2, 0)


def test_without_revalidation_three_reads_are_one_request(faults: FaultServer) -> None:
    with zarrio.config.set({"cache.revalidate": False}):
        z = zarrio.open_array(HttpStore(faults.url), cache_bytes=1 << 20)
        for _ in range(3):
            assert np.array_equal(z[0:5, 0:5], DATA[0:5, 0:5])
    assert len(chunk_requests(faults)) == 1


def test_an_object_changed_behind_the_cache_is_read_again(faults: FaultServer) -> None:
    z = zarrio.open_array(HttpStore(faults.url), cache_bytes=1 << 20)
    assert z[0, 0] == 0
    store = MemoryStore()
    w = zarrio.create_array(store, shape=(20, 20), dtype="int32", chunks=CHUNK)
    w[...] = DATA + 1
    faults.files["c/0/0"] = zarrio.run(store.get("c/0/0")) or b""  # replaced by another writer
    assert np.array_equal(z[0:5, 0:5], DATA[0:5, 0:5] + 1)
    s = zarrio.cache_stats()
    assert (s.revalidations, s.stale) == (1, 1)
    assert np.array_equal(z[0:5, 0:5], DATA[0:5, 0:5] + 1)  # the new version is cached
    assert zarrio.cache_stats().hits == 1


def test_a_server_whose_etag_always_changes_is_never_trusted(faults: FaultServer) -> None:
    faults.add_fault("new_etag", "c/*")
    z = zarrio.open_array(HttpStore(faults.url), cache_bytes=1 << 20)
    for _ in range(3):
        assert np.array_equal(z[0:5, 0:5], DATA[0:5, 0:5])
    s = zarrio.cache_stats()
    # the first answer's version is found changed at once; later answers never vouch for their bytes
    assert (s.hits, s.misses, s.stale, s.entries) == (0, 3, 1, 0)


@pytest.fixture
def nginx_array(nginx: NginxServer, tmp_path: Path) -> tuple[str, Path]:
    name = f"cache-{tmp_path.name}.zarr"
    z = zarrio.create_array(str(nginx.root / name), shape=(20, 20), dtype="int32", chunks=CHUNK)
    z[...] = DATA
    return f"{nginx.url}/{name}", nginx.root / name


def test_nginx_three_reads_one_get_and_a_replaced_file_is_seen(
    nginx: NginxServer, nginx_array: tuple[str, Path]
) -> None:
    url, root = nginx_array
    z = zarrio.open_array(HttpStore(url), cache_bytes=1 << 20)
    mark = len(nginx.access_log())
    for _ in range(3):
        assert np.array_equal(z[0:5, 0:5], DATA[0:5, 0:5])
    log = [e for e in nginx.access_log()[mark:] if e.uri.endswith("/c/0/0")]
    assert [e.range for e in log][1:] == ["bytes=0-0", "bytes=0-0"] and log[0].range != "bytes=0-0"
    assert len(log) == 3
    # another writer replaces the chunk file (a new file: nginx's ETag is its mtime and size)
    writer = zarrio.open_array(str(root))
    writer[0:5, 0:5] = DATA[0:5, 0:5] * 2 + 12345
    assert np.array_equal(z[0:5, 0:5], DATA[0:5, 0:5] * 2 + 12345)
    assert zarrio.cache_stats().stale == 1


def test_sharded_http_reads_check_the_shard_once(nginx: NginxServer, tmp_path: Path) -> None:
    name = f"cache-sharded-{tmp_path.name}.zarr"
    w = zarrio.create_array(str(nginx.root / name), shape=(20, 20), dtype="int32", chunks=CHUNK, shards=(10, 10))
    w[...] = DATA
    z = zarrio.open_array(HttpStore(f"{nginx.url}/{name}"), cache_bytes=1 << 20)
    assert np.array_equal(z[0:10, 0:10], DATA[0:10, 0:10])
    mark = len(nginx.access_log())
    assert np.array_equal(z[0:10, 0:10], DATA[0:10, 0:10])
    assert [e.range for e in nginx.access_log()[mark:]] == ["bytes=0-0"]
    assert stats() == (4, 4)


def test_a_kept_chunk_holds_only_its_own_bytes(tmp_path: Path) -> None:
    """An uncompressed inner chunk decodes to a view of what was read: its whole shard. Kept as
    it is, a 4 KiB entry held the 1 MiB shard alive (the cache counts 4 KiB)."""
    import gc
    import tracemalloc

    z = zarrio.create_array(
        tmp_path, shape=(1024, 1024), chunks=(64, 64), shards=(1024, 1024), dtype="u1", compressors=None
    )
    z[...] = 3
    cached = zarrio.open_array(tmp_path, mode="r", cache_bytes=64 * 64)  # room for one chunk
    tracemalloc.start()
    try:
        assert (cached[...] == 3).all()  # every inner chunk: the whole shard in one read
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert zarrio.cache_stats().entries == 1
    assert held < 64 * 1024, f"{held} bytes held by a cache of one 4 KiB chunk"


@pytest.mark.parametrize("cached", [False, True])
def test_a_store_is_freed_when_its_user_lets_go(cached: bool) -> None:
    """The cache's write stamps (kept with the cache off too) and its entries held each store
    they were about: a MemoryStore and all its data lived on after its last user let go."""
    import gc
    import weakref

    store = MemoryStore()
    z = zarrio.create_array(store, shape=(40, 40), chunks=(10, 10), dtype="f8")
    z[...] = 1.5
    reader = zarrio.open_array(store, mode="r", cache_bytes=1 << 20 if cached else 0)
    assert (reader[...] == 1.5).all()
    assert zarrio.cache_stats().entries == (16 if cached else 0)
    gone = weakref.ref(store)
    del store, z, reader
    gc.collect()
    assert gone() is None, "the store outlived its arrays"
    assert zarrio.cache_stats().entries == 0  # its entries went with it
