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


def test_a_blocking_callers_read_joins_no_shared_read(
    stored: tuple[CountingMemoryStore, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read in the caller's own thread (``z[...]`` over a blocking store) shares nothing: it
    would never wait for another reader, and small reads from many threads pass the array's gate
    one at a time, so no other blocking read would be pending to serve. Reads of one chunk and of
    several stay right, and the table is never touched."""
    store, data = stored
    z = zarrio.open(store, mode="r")
    engine = z.aio._engine
    joined: list[Any] = []
    original = engine.shared_reads.join
    monkeypatch.setattr(engine.shared_reads, "join", lambda *a, **k: joined.append(a) or original(*a, **k))
    expected = data.copy()
    expected[:, 32:] = 9  # chunks with x >= 2 are missing: fill
    for window in (quarters(1, 1)[2], (slice(4, 40), slice(10, 50)), (5, 7)):
        assert np.array_equal(z[window], expected[window])
    assert joined == []
    got = zarrio.run(z.aio.getitem(quarters(1, 1)[0]))  # the async read of the same chunk still joins
    assert np.array_equal(got, data[quarters(1, 1)[0]]) and len(joined) == 1


def test_sequential_reads_see_each_write(stored: tuple[CountingMemoryStore, Any]) -> None:
    store, data = stored
    z = zarrio.open(store, mode="r+")
    for value in (1, 2, 3):
        z[0:8, 0:8] = value
        assert np.all(z[0:8, 0:8] == value)
        assert np.array_equal(z[8:16, 8:16], data[8:16, 8:16])
