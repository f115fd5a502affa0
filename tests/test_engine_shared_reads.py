"""Concurrent reads of regions in the same chunk share one read and decode of it.

The worker that takes a shared chunk places it into every reader's output, so sharing
costs no extra memory.

Stores with blocking access (memory, local disk): readers that ask for a chunk before
its read has begun join that read; a reader that comes once it has begun gets a read of
its own (so a read issued after a write completed never sees the older data). Errors
reach every reader that shared the read; a missing chunk is fill values for all of them.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from typing import Any

import numpy as np
import pytest

import zarrio
from zarrio.errors import ChecksumError
from zarrio.stores import MemoryStore

ZSTD_CRC: list[dict[str, Any]] = [
    {"name": "bytes", "configuration": {"endian": "little"}},
    {"name": "zstd", "configuration": {"level": 1, "checksum": False}},
    {"name": "crc32c"},
]


class CountingMemoryStore(MemoryStore):
    """Counts the values the engine's blocking fast path opens or reads whole."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: Counter[str] = Counter()

    def open_reader_sync(self, key: str) -> Any:
        self.opened[key] += 1
        return super().open_reader_sync(key)

    def get_bounded_sync(self, key: str, limit: int, hint: int) -> Any:
        self.opened[key] += 1  # a plain chunk's whole value, read without an open reader
        return super().get_bounded_sync(key, limit, hint)


def quarters(y: int, x: int) -> list[tuple[slice, slice]]:
    """The four 8x8 windows of the 16x16 chunk at chunk coordinates (y, x)."""
    return [
        (slice(16 * y + dy, 16 * y + dy + 8), slice(16 * x + dx, 16 * x + dx + 8)) for dy in (0, 8) for dx in (0, 8)
    ]


@pytest.fixture
def stored() -> tuple[CountingMemoryStore, np.ndarray[Any, Any]]:
    store = CountingMemoryStore()
    data = np.arange(64 * 64, dtype="uint16").reshape(64, 64)
    z = zarrio.create(store, (64, 64), "uint16", chunks=(16, 16), codecs=ZSTD_CRC, fill_value=9)
    z[:, :32] = data[:, :32]  # chunks with x >= 2 stay missing
    return store, data


def test_concurrent_windows_of_one_chunk_read_it_once(stored: tuple[CountingMemoryStore, Any]) -> None:
    store, data = stored
    z = zarrio.open(store, mode="r")
    windows = quarters(0, 0) + quarters(1, 1) + quarters(0, 0)  # chunk (0, 0) asked for eight times

    async def read_all() -> list[Any]:
        return await asyncio.gather(*(z.aio.getitem(w) for w in windows))

    store.opened.clear()
    got = zarrio.run(read_all())
    for w, tile in zip(windows, got, strict=True):
        assert np.array_equal(tile, data[w])
    assert store.opened == {"c/0/0": 1, "c/1/1": 1}


def test_a_missing_chunk_is_fill_for_every_sharing_reader(stored: tuple[CountingMemoryStore, Any]) -> None:
    store, _ = stored
    z = zarrio.open(store, mode="r")

    async def read_all() -> list[Any]:
        return await asyncio.gather(*(z.aio.getitem(w) for w in quarters(0, 3)))

    for tile in zarrio.run(read_all()):
        assert tile.shape == (8, 8) and np.all(tile == 9)


def test_a_corrupt_chunk_fails_every_sharing_reader(stored: tuple[CountingMemoryStore, Any]) -> None:
    store, _ = stored
    raw = bytearray(zarrio.run(store.get("c/1/0")) or b"")
    raw[len(raw) // 2] ^= 0xFF
    zarrio.run(store.set("c/1/0", bytes(raw)))
    z = zarrio.open(store, mode="r")

    async def read_all() -> list[Any]:
        return await asyncio.gather(*(z.aio.getitem(w) for w in quarters(1, 0)), return_exceptions=True)

    outcomes = zarrio.run(read_all())
    assert all(isinstance(o, ChecksumError) for o in outcomes), outcomes


def test_a_read_already_begun_is_not_joined(stored: tuple[CountingMemoryStore, Any]) -> None:
    store, _ = stored
    engine = zarrio.open(store, mode="r").aio._engine
    from zarrio.indexing import plan

    first = [(engine.chunk_key(p.coords), p) for p in plan(quarters(0, 0)[0], engine.shape, engine.chunk_shape)]
    second = [(engine.chunk_key(p.coords), p) for p in plan(quarters(0, 0)[1], engine.shape, engine.chunk_shape)]
    out = np.empty((8, 8), dtype="uint16")
    (a,) = engine.shared_reads.join(out, first)
    (b,) = engine.shared_reads.join(out, second)
    assert a is b and len(a.targets) == 2  # neither has begun: one read serves both
    a.started = True  # a worker took it
    (c,) = engine.shared_reads.join(out, second)
    assert c is not a and len(c.targets) == 1  # a reader that comes later reads again


def test_a_read_taken_as_it_is_joined_serves_the_readers_before_it(stored: tuple[CountingMemoryStore, Any]) -> None:
    """``join(take=True)`` (a small blocking read in its caller's thread): the caller owns every entry
    at once; a reader that joined before waits for it and gets its part; one that comes later reads again."""
    store, data = stored
    engine = zarrio.open(store, mode="r").aio._engine
    from zarrio.indexing import plan

    windows = quarters(0, 0)[:2]
    wanted = [[(engine.chunk_key(p.coords), p) for p in plan(w, engine.shape, engine.chunk_shape)] for w in windows]
    outs = [np.zeros((8, 8), dtype="uint16"), np.zeros((8, 8), dtype="uint16")]
    (early,) = engine.shared_reads.join(outs[0], wanted[0])
    units = engine.units(plan(windows[1], engine.shape, engine.chunk_shape))
    taken = engine.shared_reads.join(outs[1], wanted[1], take=True)
    assert taken[0] is early and early.started and early.done is not None
    assert engine.shared_reads.join(outs[1], wanted[1])[0] is not early  # begun: a later reader reads again
    store.opened.clear()
    engine.read_units_job(engine.blocking, outs[1], units, taken, True)  # reads once, for both readers
    assert early.done.is_set() and store.opened == {"c/0/0": 1}
    assert not engine.shared_reads.take(early)  # the early reader's job finds it taken and only waits
    for out, w in zip(outs, windows, strict=True):
        assert np.array_equal(out, data[w])


def test_sequential_reads_see_each_write(stored: tuple[CountingMemoryStore, Any]) -> None:
    store, data = stored
    z = zarrio.open(store, mode="r+")
    for value in (1, 2, 3):
        z[0:8, 0:8] = value
        assert np.all(z[0:8, 0:8] == value)
        assert np.array_equal(z[8:16, 8:16], data[8:16, 8:16])


def test_a_reader_that_takes_its_chunks_does_not_wait_for_a_busy_table(
    stored: tuple[CountingMemoryStore, Any],
) -> None:
    """``join(take=True)`` while another thread holds the table: ``None`` at once (the caller reads
    on its own, so many threads of small reads never queue on this lock); the read is still right."""
    store, data = stored
    z = zarrio.open(store, mode="r")
    engine = z.aio._engine
    from zarrio.indexing import plan

    window = quarters(0, 0)[0]
    wanted = [(engine.chunk_key(p.coords), p) for p in plan(window, engine.shape, engine.chunk_shape)]
    out = np.zeros((8, 8), dtype="uint16")
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with engine.shared_reads._lock:
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        assert engine.shared_reads.join(out, wanted, take=True) is None
        assert np.array_equal(z[window], data[window])  # the read goes on without the table
    finally:
        release.set()
        holder.join(10)
    assert engine.shared_reads.join(out, wanted, take=True) is not None
