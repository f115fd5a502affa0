"""Many writers, no lost update (issue 17, items 1 and 2).

Writers share chunks: every round, each writer sets its own row of one chunk (a partial
write, so a read-modify-write). 50 rounds are 50 repeats of the race; afterwards every row
must hold what its writer wrote. Writers are 16 threads through the blocking API, 64
coroutines in one ``asyncio.gather``, threads with an event loop each (the write queue
must hold across loops) and 4 processes (LocalStore with ``lock_chunks=True``, and an
ObjectStore on moto's S3 server, where a read-modify-write is a compare-and-swap).

The stores: MemoryStore, LocalStore, ZipStore in write mode, a user's BlockingStore and an
HTTP-backed ObjectStore (moto on 127.0.0.1). Before the write queue, these lost 19-65% of
the rows.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from concurrent_workers import row_value, write_rows
from dict_store import DictStore
from thread_runs import run_threads

import zarrio
from zarrio import aio
from zarrio.engine import writes
from zarrio.engine.write_queue import QUEUE, Waker, WriteQueue
from zarrio.errors import CodecError, WriteConflictError
from zarrio.stores import LocalStore, MemoryStore, Store, ZipStore
from zarrio.testing import ForwardingStore

ROUNDS = 50
CREDENTIALS = {"access_key_id": "testing", "secret_access_key": "testing", "region": "us-east-1"}
BUCKET = "zarrio-writers"


# ---------------------------------------------------------------- moto's S3 server
class S3:
    def __init__(self) -> None:
        import boto3  # type: ignore[import-untyped]
        from moto.s3.responses import S3Response
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        # moto checks If-Match / If-None-Match and then stores, in two steps that concurrent
        # requests can interleave; S3 does both atomically. One lock makes moto's puts atomic.
        self._original_put = S3Response.put_object
        put_lock = threading.Lock()

        def atomic_put(response: Any) -> Any:
            with put_lock:
                return self._original_put(response)

        S3Response.put_object = atomic_put  # type: ignore[method-assign]
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=CREDENTIALS["access_key_id"],
            aws_secret_access_key=CREDENTIALS["secret_access_key"],
            region_name=CREDENTIALS["region"],
        ).create_bucket(Bucket=BUCKET)

    def spec(self) -> dict[str, Any]:
        return {
            "kind": "s3",
            "bucket": BUCKET,
            "prefix": f"t-{uuid.uuid4().hex}",
            "endpoint": self.endpoint,
            "credentials": CREDENTIALS,
            "path": "a",
        }

    def store(self) -> Store:
        from concurrent_workers import make_store

        return make_store(self.spec())

    def stop(self) -> None:
        from moto.s3.responses import S3Response

        self.server.stop()
        S3Response.put_object = self._original_put  # type: ignore[method-assign]


@pytest.fixture(scope="module")
def s3() -> Iterator[S3]:
    pytest.importorskip("obstore")
    pytest.importorskip("moto.server")
    server = S3()
    yield server
    server.stop()


STORES = ["memory", "local", "zip", "blocking", "s3"]


@pytest.fixture(params=STORES)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    kind = request.param
    opened: list[ZipStore] = []

    def make() -> Store:
        if kind == "memory":
            return MemoryStore()
        if kind == "local":
            return LocalStore(tmp_path / f"{uuid.uuid4().hex}.zarr")
        if kind == "zip":
            opened.append(ZipStore(tmp_path / f"{uuid.uuid4().hex}.zip", mode="w"))
            return opened[-1]
        if kind == "blocking":
            return DictStore()
        server: S3 = request.getfixturevalue("s3")
        return server.store()

    yield make
    for store in opened:
        store.close()
    assert len(QUEUE) == 0, "the write queue keeps entries of idle keys"


def expected(writers: int, width: int) -> np.ndarray[Any, Any]:
    rows = np.array([[row_value(w, r) for w in range(writers)] for r in range(ROUNDS)], dtype="int32")
    return np.repeat(rows[:, :, None], width, axis=2)


def lost_rows(got: np.ndarray[Any, Any], writers: int, width: int) -> int:
    return int((got != expected(writers, width)).any(axis=2).sum())


# ---------------------------------------------------------------- within a process
def test_16_threads_writing_rows_of_shared_chunks_lose_nothing(make_store: Callable[[], Store]) -> None:
    writers, width = 16, 100
    z = zarrio.create(make_store(), (ROUNDS, writers, width), "int32", chunks=(1, writers, width))
    barrier = threading.Barrier(writers)

    def writer(w: int) -> None:
        for rnd in range(ROUNDS):
            barrier.wait(timeout=10)
            z[rnd, w, :] = row_value(w, rnd)

    run_threads(writers, writer, timeout=20)
    assert lost_rows(z[...], writers, width) == 0


def test_64_coroutines_writing_rows_of_shared_chunks_lose_nothing(make_store: Callable[[], Store]) -> None:
    writers, width = 64, 8

    async def main() -> np.ndarray[Any, Any]:
        a = await aio.create(make_store(), (ROUNDS, writers, width), "int32", chunks=(1, writers, width))
        for rnd in range(ROUNDS):
            await asyncio.gather(*(a.setitem((rnd, w, slice(None)), row_value(w, rnd)) for w in range(writers)))
        result: np.ndarray[Any, Any] = await a.getitem(...)
        return result

    assert lost_rows(asyncio.run(main()), writers, width) == 0


@pytest.mark.parametrize("kind", ["memory", "local", "blocking"])
def test_threads_each_running_its_own_event_loop_lose_nothing(kind: str, tmp_path: Path) -> None:
    """The write queue is one per process, not per loop: 8 loops writing one chunk at once."""
    writers, width = 8, 16
    store = {"memory": MemoryStore, "blocking": DictStore}.get(kind, lambda: LocalStore(tmp_path / "x.zarr"))()
    z = zarrio.create(store, (ROUNDS, writers, width), "int32", chunks=(1, writers, width))
    barrier = threading.Barrier(writers)

    def writer(w: int) -> None:
        async def rounds() -> None:
            a = await aio.open_array(store)
            for rnd in range(ROUNDS):
                barrier.wait(timeout=10)  # blocks this thread's own loop only
                await a.setitem((rnd, w, slice(None)), row_value(w, rnd))

        asyncio.run(rounds())

    run_threads(writers, writer, timeout=20)
    assert lost_rows(z[...], writers, width) == 0
    assert len(QUEUE) == 0


@pytest.mark.parametrize("kind", ["memory", "local"])
def test_16_threads_writing_parts_of_shared_shards_lose_nothing(kind: str, tmp_path: Path) -> None:
    writers, width = 16, 16
    store = MemoryStore() if kind == "memory" else LocalStore(tmp_path / "s.zarr")
    z = zarrio.create(store, (ROUNDS, writers, width), "int32", chunks=(1, 4, width), shards=(1, writers, width))
    barrier = threading.Barrier(writers)

    def writer(w: int) -> None:
        for rnd in range(ROUNDS):
            barrier.wait(timeout=10)
            z[rnd, w, :] = row_value(w, rnd)

    run_threads(writers, writer, timeout=20)
    assert lost_rows(z[...], writers, width) == 0


@pytest.mark.parametrize("kind", ["memory", "local", "blocking"])
def test_whole_chunk_writes_racing_read_modify_writes_are_never_lost(kind: str, tmp_path: Path) -> None:
    """12 threads set rows, 4 overwrite the whole chunk with -1, every round: whatever the order,
    no row may be left at the fill value 0 (a whole write undone by an older read-modify-write)."""
    rows, whole_writers, width = 12, 4, 16
    store = {"memory": MemoryStore, "blocking": DictStore}.get(kind, lambda: LocalStore(tmp_path / "w.zarr"))()
    z = zarrio.create(store, (ROUNDS, rows, width), "int32", chunks=(1, rows, width))
    barrier = threading.Barrier(rows + whole_writers)

    def writer(w: int) -> None:
        for rnd in range(ROUNDS):
            barrier.wait(timeout=10)
            if w < rows:
                z[rnd, w, :] = row_value(w, rnd)
            else:
                z[rnd] = -1

    run_threads(rows + whole_writers, writer, timeout=20)
    got = z[...]
    assert not (got == 0).any(), "a whole write was undone"
    legal = (got == -1) | (got == expected(rows, width))
    assert legal.all(), "a row mixes writes"


# ---------------------------------------------------------------- ordering, errors, cancellation
class GatedStore(ForwardingStore):
    """Holds every chunk ``get``, with the value it read, until ``release`` is set (a
    read-modify-write stuck in its read)."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.reading = asyncio.Event()
        self.release = asyncio.Event()
        self.calls: list[str] = []

    async def get(self, key: str) -> bytes | None:
        value = await self.inner.get(key)
        if key.startswith("c/"):
            self.calls.append("get")
            self.reading.set()
            await self.release.wait()
        return value

    async def set(self, key: str, value: bytes) -> None:
        if key.startswith("c/"):
            self.calls.append("set")
        await self.inner.set(key, value)


def test_a_whole_chunk_write_does_not_wait_for_a_read_modify_write_and_is_not_undone_by_it() -> None:
    async def main() -> None:
        store = GatedStore(MemoryStore())
        a = await aio.create(store, (4, 4), "int32", chunks=(4, 4))
        await a.setitem(..., 1)
        partial = asyncio.create_task(a.setitem((0, 0), 7))  # reads the chunk first: held in its get
        await asyncio.wait_for(store.reading.wait(), 5)
        await asyncio.wait_for(a.setitem(..., 5), 5)  # a whole write finishes while the RMW is stuck
        store.release.set()
        await asyncio.wait_for(partial, 5)  # the older RMW (over the value of before) finishes last...
        got = await a.getitem(...)
        assert (got == 5).all(), got  # ...and does not undo the newer whole write

    asyncio.run(main())
    assert len(QUEUE) == 0


def test_writes_queued_behind_a_read_modify_write_are_merged_into_one_read_and_one_write() -> None:
    async def main() -> None:
        store = GatedStore(MemoryStore())
        a = await aio.create(store, (8, 8), "int32", chunks=(8, 8))
        await a.setitem(..., 1)
        first = asyncio.create_task(a.setitem((0, slice(None)), 2))
        await asyncio.wait_for(store.reading.wait(), 5)
        calls = store.calls
        calls.clear()
        calls.append("get")  # the first writer's, under way
        rest = [asyncio.create_task(a.setitem((row, slice(None)), row + 2)) for row in range(1, 8)]
        await asyncio.sleep(0.05)
        store.release.set()
        await asyncio.wait_for(asyncio.gather(first, *rest), 5)
        assert calls.count("get") == 2 and calls.count("set") == 2, calls  # the first RMW, then one for all 7
        got = await a.getitem(...)
        assert (got == np.arange(2, 10)[:, None]).all(), got

    asyncio.run(main())


def test_an_error_in_a_merged_read_modify_write_reaches_every_writer(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "c.zarr")
    z = zarrio.create(
        store,
        (16, 16),
        "int32",
        chunks=(16, 16),
        codecs=[{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
    )
    z[...] = 1
    path = tmp_path / "c.zarr" / "c" / "0" / "0"
    raw = bytearray(path.read_bytes())
    raw[5] ^= 0xFF
    path.write_bytes(bytes(raw))
    failures: list[BaseException] = []
    barrier = threading.Barrier(8)

    def writer(w: int) -> None:
        barrier.wait(timeout=10)
        try:
            z[w, :] = 2
        except CodecError as e:
            failures.append(e)

    run_threads(8, writer, timeout=20)
    assert len(failures) == 8
    assert path.read_bytes() == bytes(raw)  # a failed RMW leaves the old chunk
    assert len(QUEUE) == 0


def test_a_cancelled_writer_neither_blocks_the_others_nor_leaves_an_entry() -> None:
    async def main() -> None:
        store = GatedStore(MemoryStore())
        a = await aio.create(store, (4, 4), "int32", chunks=(4, 4))
        leader = asyncio.create_task(a.setitem((0, 0), 1))
        await asyncio.wait_for(store.reading.wait(), 5)
        waiting = [asyncio.create_task(a.setitem((i, 0), i + 1)) for i in range(1, 4)]
        await asyncio.sleep(0.01)
        waiting[0].cancel()  # queued behind the leader: its change is dropped
        leader.cancel()  # the leader, stuck in its read: the queued writes pass to the next writer
        store.release.set()
        done = await asyncio.wait_for(asyncio.gather(leader, *waiting, return_exceptions=True), 5)
        assert isinstance(done[0], asyncio.CancelledError) and isinstance(done[1], asyncio.CancelledError)
        got = await a.getitem((slice(None), 0))
        assert list(got) == [0, 0, 3, 4], got

    asyncio.run(main())
    assert len(QUEUE) == 0


def test_a_stored_whole_write_is_no_base_for_writes_after_a_later_read_modify_write() -> None:
    """A whole write whose writer is slow to leave the queue after storing must not become the base
    of a later batch: the batch stored after it would be dropped. The queue alone, step by step."""
    queue = WriteQueue()
    whole = queue.add("s", "k", "W", whole=True, loop=None)
    assert queue.slot_try(whole.entry, Waker(None)) and queue.commit_begins(whole)
    queue.committed(whole)
    queue.slot_release(whole.entry)  # stored, but still queued (its writer has not called whole_done)
    first = queue.add("s", "k", "P1", whole=False, loop=None)
    assert first.waker.lead
    batch = queue.take(first)
    assert batch.changes == ["P1"] and batch.needs_read  # W is in the store already: read it
    queue.committed(batch)
    second = queue.add("s", "k", "P2", whole=False, loop=None)
    queue.finish(batch, first, None)
    assert second.waker.lead
    later = queue.take(second)
    assert later.changes == ["P2"] and later.needs_read  # not W + P2: that would drop P1
    queue.finish(later, second, None)
    queue.whole_done(whole)
    assert len(queue) == 0


def test_a_queued_whole_write_not_stored_yet_is_the_base_of_the_writes_after_it() -> None:
    queue = WriteQueue()
    whole = queue.add("s", "k", "W", whole=True, loop=None)  # encoded, about to be stored
    partial = queue.add("s", "k", "P", whole=False, loop=None)
    batch = queue.take(partial)
    assert batch.changes == ["W", "P"] and not batch.needs_read  # no read of a value without W
    queue.finish(batch, partial, None)
    queue.whole_done(whole)
    assert len(queue) == 0


# ---------------------------------------------------------------- compare-and-swap
class RefusingStore(ForwardingStore):
    """Conditional writes that another writer always beats."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.conditional_writes = True

    async def get_versioned(self, key: str) -> tuple[bytes, str] | None:
        value = await self.inner.get(key)
        return None if value is None else (value, "v1")

    async def set_if(self, key: str, value: bytes, version: str | None) -> bool:
        return False


def test_a_compare_and_swap_that_keeps_failing_is_a_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writes, "CAS_ATTEMPTS", 3)
    inner = MemoryStore()
    zarrio.create(inner, (4, 4), "int32", chunks=(4, 4))[...] = 1
    z = zarrio.open_array(RefusingStore(inner))
    with pytest.raises(WriteConflictError) as caught:
        z[0, 0] = 9
    assert caught.value.attempts == 3 and caught.value.key == "c/0/0"
    assert (zarrio.open_array(inner)[...] == 1).all()  # nothing of it was stored
    assert len(QUEUE) == 0


def test_object_store_compare_and_swap_refuses_a_stale_version(s3: S3) -> None:
    async def main() -> None:
        store = s3.store()
        assert await store.set_if("k", b"one", None)  # create-only
        assert not await store.set_if("k", b"two", None)
        found = await store.get_versioned("k")
        assert found is not None and found[0] == b"one"
        assert await store.set_if("k", b"three", found[1])
        assert not await store.set_if("k", b"four", found[1])  # stale: replaced meanwhile
        await store.erase("k")
        assert not await store.set_if("k", b"five", found[1])  # gone meanwhile
        assert await store.get("k") is None

    asyncio.run(main())


# ---------------------------------------------------------------- across processes
def run_processes(spec: dict[str, Any], writers: int = 4) -> None:
    context = multiprocessing.get_context("spawn")  # obstore's runtime does not survive fork
    barrier = context.Barrier(writers)
    children = [context.Process(target=write_rows, args=(spec, w, barrier)) for w in range(writers)]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=60)
    assert [child.exitcode for child in children] == [0] * writers


@pytest.mark.timeout(60)
def test_4_processes_on_a_local_store_with_chunk_locks_lose_nothing(tmp_path: Path) -> None:
    writers, width = 4, 32
    spec = {"kind": "local", "root": str(tmp_path / "p.zarr"), "lock": True, "path": "a"}
    zarrio.create(spec["root"], (ROUNDS, writers, width), "int32", path="a", chunks=(1, writers, width))
    run_processes(spec, writers)
    z = zarrio.open_array(spec["root"], path="a")
    assert lost_rows(z[...], writers, width) == 0
    assert (tmp_path / "p.zarr" / ".zarrio-tmp-locks").is_dir()
    keys = asyncio.run(LocalStore(spec["root"]).list(""))
    assert keys and not [k for k in keys if ".zarrio" in k]  # lock files are never listed


@pytest.mark.timeout(60)
def test_4_processes_on_an_object_store_lose_nothing(s3: S3) -> None:
    writers, width = 4, 32
    spec = s3.spec()
    from concurrent_workers import make_store

    store = make_store(spec)
    zarrio.create(store, (ROUNDS, writers, width), "int32", path="a", chunks=(1, writers, width))
    run_processes(spec, writers)
    assert lost_rows(zarrio.open_array(store, path="a")[...], writers, width) == 0


def test_local_store_chunk_locks_pickle_and_show() -> None:
    import pickle

    store = LocalStore("/tmp/x.zarr", lock_chunks=True)
    assert "lock_chunks=True" in repr(store)
    assert pickle.loads(pickle.dumps(store)).lock_chunks
    assert LocalStore("/tmp/x.zarr").key_lock("c/0") is None
