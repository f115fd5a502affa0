"""One request limiter per request (issue 14), in the store layer (``zarrio.stores.limits``): the
store calls of stores that do not bound their own wait in it, and HttpStore gets none, whose transport holds ``max_concurrency``
(hedges included); each HTTP request waits in that one queue."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest
from servers.faults import FaultServer

import zarrio
from zarrio import aio
from zarrio.stores import MemoryStore, Store, limits
from zarrio.stores.http import HttpStore
from zarrio.testing import ForwardingStore


def _serve(server: FaultServer) -> np.ndarray[Any, Any]:
    values = np.arange(64 * 64, dtype="int32").reshape(64, 64)
    memory = MemoryStore()
    zarrio.create(memory, values.shape, values.dtype, chunks=(8, 8), path="a")[...] = values
    server.files = {key: zarrio.run(memory.get(key)) or b"" for key in zarrio.run(memory.list(""))}
    return values


def _limiters_of(store: Store) -> int:
    per_loop = limits._limiters.get(store)
    return 0 if per_loop is None else len(per_loop)


@pytest.mark.parametrize("limit", [1, 3])
async def test_an_http_read_waits_in_the_stores_limiter_only(limit: int) -> None:
    with FaultServer() as server:
        values = _serve(server)
        server.add_fault("latency", "a/c/*", delay=0.02)
        store = HttpStore(server.url, max_concurrency=limit)
        try:
            a = await aio.open_array(store, path="a", mode="r")
            got = await asyncio.gather(*(a.getitem((slice(i, i + 8), slice(None))) for i in range(0, 64, 8)))
        finally:
            await store.close()
    assert np.array_equal(np.concatenate(got), values)
    assert server.max_in_flight == limit  # 64 chunks, never more than max_concurrency at once
    assert isinstance(limits.request_limiter(store), limits.NoLimit)
    assert _limiters_of(store) == 0  # no limiter in front of its own


async def test_the_engine_bounds_a_store_that_does_not_limit_itself() -> None:
    class Counting(ForwardingStore):
        def __init__(self, inner: Store) -> None:
            super().__init__(inner)
            self.max_concurrency = 2
            self.now = self.most = 0

        async def _counted(self, call: Any) -> Any:
            self.now += 1
            self.most = max(self.most, self.now)
            try:
                await asyncio.sleep(0.005)
                return await call
            finally:
                self.now -= 1

        async def get(self, key: str) -> bytes | None:
            return await self._counted(super().get(key))

        async def get_partial(self, key: str, offset: int, length: int) -> bytes | None:
            return await self._counted(super().get_partial(key, offset, length))

        async def get_ranges(self, key: str, ranges: Any) -> list[bytes] | None:
            return await self._counted(super().get_ranges(key, ranges))

    memory = MemoryStore()
    values = np.arange(32 * 32, dtype="int32").reshape(32, 32)
    zarrio.create(memory, values.shape, values.dtype, chunks=(4, 4))[...] = values
    store = Counting(memory)
    a = await aio.open_array(store, mode="r")
    assert np.array_equal(await a.getitem(...), values)
    assert store.most == 2
    assert _limiters_of(store) == 1
