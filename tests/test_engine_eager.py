"""The async paths that start tasks eagerly on Python 3.12+: shard-index fetches and the facade.

On 3.12 the engine starts a shard's index request inside the first reader's own step
(``asyncio.Task(..., eager_start=True)``) instead of after every other ready callback; 3.11
keeps ``ensure_future``. The suite's own interpreter is 3.11, so these checks run as a
script under the reference interpreter (3.12): concurrent tiles are correct and share one
index request per shard, a missing shard reads as fill values, a corrupt index is a typed
error (its checksum fails), and a failed index fetch is not cached (the next read asks again and succeeds).
"""

from __future__ import annotations

from collections.abc import Callable

SCRIPT = r"""
import asyncio
import sys

import numpy as np

import zarrio
import zarrio.aio
from zarrio.errors import ChecksumError, TransportError
from zarrio.stores import MemoryStore
from zarrio.testing.wrappers import ForwardingStore

assert sys.version_info >= (3, 12), sys.version_info


class Remote(ForwardingStore):
    # a memory store read the way remote stores are: not a BlockingStore, so no fast path, and
    # every call yields to the loop; counts index reads and fails the next `failures` of them
    def __init__(self):
        super().__init__(MemoryStore())
        self.index_reads = 0
        self.failures = 0

    async def get_suffix_with_size(self, key, length):
        await asyncio.sleep(0)
        self.index_reads += 1
        if self.failures:
            self.failures -= 1
            raise TransportError("injected index failure", key=key)
        return await super().get_suffix_with_size(key, length)

    async def get_ranges(self, key, ranges):
        await asyncio.sleep(0)
        return await super().get_ranges(key, ranges)


async def main():
    inner = Remote()
    data = np.arange(128 * 128, dtype="uint16").reshape(128, 128)
    a = await zarrio.aio.create(inner, (128, 128), "uint16", chunks=(8, 8), shards=(64, 64), fill_value=7)
    await a.setitem((slice(0, 128), slice(0, 64)), data[:, :64])  # the two right-hand shards stay missing

    r = await zarrio.aio.open(inner, mode="r")
    inner.index_reads = 0
    corners = [(y, x) for y in range(0, 128, 8) for x in range(0, 128, 8)]
    tiles = await asyncio.gather(*(r.getitem((slice(y, y + 8), slice(x, x + 8))) for y, x in corners))
    expected = data.copy()
    expected[:, 64:] = 7
    for (y, x), tile in zip(corners, tiles, strict=True):
        assert np.array_equal(tile, expected[y : y + 8, x : x + 8]), (y, x)
    # 4 shards, each index asked once while 256 readers wait on it, plus the
    # re-check after the data of the two present shards (no version pinning here)
    assert inner.index_reads == 4 + 2, inner.index_reads
    print("tiles ok")

    f = await zarrio.aio.open(inner, mode="r")
    inner.failures = 1
    try:
        await asyncio.gather(*(f.getitem((slice(0, 8), slice(x, x + 8))) for x in range(0, 64, 8)))
    except TransportError:
        pass
    else:
        raise AssertionError("an index fetch that failed must fail the reads that waited on it")
    again = await f.getitem((slice(0, 8), slice(0, 64)))
    assert np.array_equal(again, data[0:8, 0:64])
    print("failed index not cached")

    raw = bytearray(await inner.get("c/0/0"))
    raw[-12:-4] = b"\xff" * 8  # a byte range of the index changes: its crc32c no longer matches
    await inner.set("c/0/0", bytes(raw))
    c = await zarrio.aio.open(inner, mode="r")
    try:
        await c.getitem((slice(56, 64), slice(56, 64)))
    except ChecksumError:
        print("corrupt index is an error")
    else:
        raise AssertionError("a corrupt shard index must raise ChecksumError")


asyncio.run(main())
"""


def test_eager_index_fetch_on_python_312(run_ref: Callable[..., str]) -> None:
    out = run_ref(SCRIPT)
    assert "tiles ok" in out
    assert "failed index not cached" in out
    assert "corrupt index is an error" in out


FACADE_SCRIPT = r"""
import asyncio
import sys
import threading

import zarrio

assert sys.version_info >= (3, 12), sys.version_info


async def value(x):
    return x  # finishes inside its eager first step


async def later(x):
    await asyncio.sleep(0.01)
    return x


async def fails():
    raise KeyError("eager failure")


cleaned_up = threading.Event()


async def slow():
    try:
        await asyncio.sleep(30)
    finally:
        cleaned_up.set()


assert zarrio.run(value(1)) == 1
assert zarrio.run(later(2)) == 2
try:
    zarrio.run(fails())
except KeyError as e:
    assert "eager failure" in str(e)
else:
    raise AssertionError("the error must reach the caller")
try:
    zarrio.run(slow(), timeout=0.1)
except TimeoutError:
    assert cleaned_up.is_set()
else:
    raise AssertionError("timeout expected")
results = []
threads = [threading.Thread(target=lambda i=i: results.append(zarrio.run(later(i)))) for i in range(16)]
for t in threads:
    t.start()
for t in threads:
    t.join(30)
assert sorted(results) == list(range(16)), results
print("facade ok")
"""


def test_facade_on_python_312(run_ref: Callable[..., str]) -> None:
    """``zarrio.run`` starts tasks eagerly on 3.12: results, errors, timeouts and threads."""
    assert "facade ok" in run_ref(FACADE_SCRIPT)
