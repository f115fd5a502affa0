"""Write ordering beyond one store object (issue 17, what was left): wrappers, resize, failures.

* A wrapper names the store it forwards to (``forwards_to``); writes through it and straight
  to the inner store share the write queue's entries, so they lose nothing.
* A shrinking resize erases chunks through the write queue: a read-modify-write racing the
  erase neither brings the erased chunk back nor is lost after it.
* A write whose call raised is not visible afterwards, even when a batch of later writes
  started from it in memory; a whole write whose value a batch stored before the write
  failed (outside its store call) took effect and returns normally.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from dict_store import DictStore
from thread_runs import run_threads

import zarrio
from zarrio import aio
from zarrio.engine.write_queue import QUEUE, Batch, Update, WriteQueue, underlying
from zarrio.stores import LocalStore, MemoryStore, Store
from zarrio.testing import CountingStore, ForwardingStore, LatencyStore

ROUNDS = 50


@pytest.fixture(params=["memory", "local", "blocking"])
def inner_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    def make() -> Store:
        if request.param == "memory":
            return MemoryStore()
        if request.param == "local":
            return LocalStore(tmp_path / f"{uuid.uuid4().hex}.zarr")
        return DictStore()

    yield make
    assert len(QUEUE) == 0, "the write queue keeps entries of idle keys"


# ---------------------------------------------------------------- 1. wrappers
def test_underlying_follows_forwards_to_down_the_wrappers_and_stops_at_a_cycle() -> None:
    inner = MemoryStore()
    outer = LatencyStore(CountingStore(inner), 0.0)
    assert underlying(outer) is inner and underlying(inner) is inner
    mute = CountingStore(inner)
    mute.forwards_to = None  # a wrapper that changes keys or bytes: its own store
    assert underlying(mute) is mute
    loop_a, loop_b = ForwardingStore(inner), ForwardingStore(inner)
    loop_a.forwards_to, loop_b.forwards_to = loop_b, loop_a
    assert underlying(loop_a) in (loop_a, loop_b)  # ends, whatever it names


def test_a_wrapper_and_its_inner_store_share_the_queue_entry_of_a_key() -> None:
    queue = WriteQueue()
    inner = MemoryStore()
    direct = queue.add(inner, "c/0", "D", whole=False, loop=None)
    wrapped = queue.add(CountingStore(LatencyStore(inner, 0.0)), "c/0", "W", whole=False, loop=None)
    assert wrapped.entry is direct.entry and len(queue) == 1
    assert direct.waker.lead and not wrapped.waker.lead  # the wrapped write queues behind the direct one
    batch = queue.take(direct)
    assert batch.changes == ["D", "W"]
    queue.finish(batch, direct, None)
    assert len(queue) == 0


def test_16_threads_writing_through_a_wrapper_and_directly_lose_nothing(inner_store: Callable[[], Store]) -> None:
    writers, width = 16, 64
    inner = inner_store()
    direct = zarrio.create(inner, (ROUNDS, writers, width), "int32", chunks=(1, writers, width))
    wrapped = zarrio.open_array(CountingStore(inner))
    slow = zarrio.open_array(LatencyStore(inner, 0.0005))
    arrays = [direct, wrapped, slow]
    barrier = threading.Barrier(writers)

    def writer(w: int) -> None:
        z = arrays[w % 3]
        for rnd in range(ROUNDS):
            barrier.wait(timeout=10)
            z[rnd, w, :] = w + 1 + 1000 * rnd

    run_threads(writers, writer, timeout=60)
    want = (np.arange(writers)[None, :] + 1 + 1000 * np.arange(ROUNDS)[:, None]).astype("int32")
    got = direct[...]
    lost = int((got != want[:, :, None]).any(axis=2).sum())
    assert lost == 0, f"{lost} of {ROUNDS * writers} rows lost"


# ---------------------------------------------------------------- 2. resize
def race_a_shrink(store: Store, repeat: int, rows: int = 64, keep: int = 16, writers: int = 8) -> None:
    base = zarrio.create(store, (rows, 8), "int32", chunks=(4, 8), fill_value=0)
    base[...] = -1
    mine = [zarrio.open_array(store) for _ in range(writers)]  # each writer keeps the old shape
    resizer = zarrio.open_array(store)
    barrier = threading.Barrier(writers + 1)
    order = list(range(rows))
    random.Random(repeat).shuffle(order)

    def work(i: int) -> None:
        barrier.wait(timeout=10)
        if i == writers:
            resizer.resize(keep, 8)
            return
        for r in order:
            if r % 2 == 0 and (r // 2) % writers == i:
                mine[i][r, :] = i + 1

    run_threads(writers + 1, work, timeout=60)
    regrown = zarrio.open_array(store)
    assert regrown.shape == (keep, 8)
    regrown.resize(rows, 8)  # growing erases nothing: the erased chunks' keys show again
    got = regrown[...]
    r = np.arange(rows)
    owner = np.where(r % 2 == 0, (r // 2) % writers + 1, -1)[:, None]
    assert (got[:keep] == owner[:keep]).all(), f"repeat {repeat}: a write below the new shape was lost"
    tail = got[keep:]
    back = sorted(set(np.nonzero(tail == -1)[0] + keep))
    assert not back, f"repeat {repeat}: erased rows came back: {back}"
    assert ((tail == 0) | (tail == owner[keep:])).all()


@pytest.mark.parametrize("kind", ["memory", "local", "latency"])
def test_writes_racing_a_shrinking_resize_equal_some_serial_order(kind: str, tmp_path: Path) -> None:
    """Every chunk starts as -1s. Writers set the even rows (partial writes of 4-row chunks) while
    the array shrinks from 64 rows to 16. In any serial order an erased chunk holds only writes
    that came after its erase, over fill values: its odd rows, never written, are 0, never -1 (a
    write that read the chunk before the erase and stored after it brings -1s back). Rows below
    16 are never erased: no write there is lost."""
    for repeat in range(12):
        inner: Store = MemoryStore() if kind != "local" else LocalStore(tmp_path / f"r{repeat}.zarr")
        race_a_shrink(LatencyStore(inner, 0.001) if kind == "latency" else inner, repeat)
    assert len(QUEUE) == 0


def test_a_write_after_the_resize_returns_is_kept_and_starts_from_fill_values() -> None:
    store = MemoryStore()
    z = zarrio.create(store, (8, 4), "int32", chunks=(4, 4), fill_value=0)
    z[...] = -1
    stale = zarrio.open_array(store)  # still 8 rows
    z.resize(4, 4)
    stale[5, :] = 9  # after the erase: over fill values
    grown = zarrio.open_array(store)
    grown.resize(8, 4)
    assert (grown[4:] == np.array([[0] * 4, [9] * 4, [0] * 4, [0] * 4])).all(), grown[4:]


# ---------------------------------------------------------------- 3. failures
class TakenSignal:
    """Wraps ``QUEUE.take``: records each batch and sets ``event`` once one starts from a whole
    update in memory (``batch.base``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.event = threading.Event()
        self.batches: list[Batch] = []
        original = QUEUE.take

        def take(leader: Update) -> Batch:
            batch = original(leader)
            self.batches.append(batch)
            if batch.base is not None:
                self.event.set()
            return batch

        monkeypatch.setattr(QUEUE, "take", take)


class FailingSet(ForwardingStore):
    """The next chunk ``set`` after ``arm()`` waits until ``go`` is set, then raises OSError
    without storing."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.armed = False
        self.setting = threading.Event()
        self.go = threading.Event()

    async def set(self, key: str, value: bytes) -> None:
        if key.startswith("c/") and self.armed:
            self.armed = False
            self.setting.set()
            await asyncio.get_running_loop().run_in_executor(None, self.go.wait, 5)
            raise OSError("the disk is full")
        await self.inner.set(key, value)


def test_a_failed_whole_write_that_a_batch_started_from_is_not_stored_by_the_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    taken = TakenSignal(monkeypatch)

    async def main() -> None:
        store = FailingSet(MemoryStore())
        a = await aio.create(store, (4, 4), "int32", chunks=(4, 4))
        await a.setitem(..., 1)
        store.armed = True
        whole = asyncio.create_task(a.setitem(..., 5))  # its store call hangs, then fails
        assert await asyncio.to_thread(store.setting.wait, 5)
        store.go = taken.event  # fail once the partial write's batch has started from the whole one
        partial = asyncio.create_task(a.setitem((0, 0), 7))
        done = await asyncio.wait_for(asyncio.gather(whole, partial, return_exceptions=True), 10)
        assert isinstance(done[0], OSError) and done[1] is None, done
        assert any(b.base is not None for b in taken.batches), "the race did not happen"
        want = np.ones((4, 4), dtype="int32")
        want[0, 0] = 7
        assert ((await a.getitem(...)) == want).all(), await a.getitem(...)  # no 5: that write raised

    asyncio.run(main())
    assert len(QUEUE) == 0


class FailingDict(DictStore):
    """Blocking: the chunk ``set_sync`` after ``arm`` waits for ``go`` and raises."""

    def __init__(self) -> None:
        super().__init__()
        self.armed = False
        self.setting = threading.Event()
        self.go = threading.Event()

    def set_sync(self, key: str, value: bytes) -> None:
        if key.startswith("c/") and self.armed:
            self.armed = False
            self.setting.set()
            self.go.wait(5)
            raise OSError("the disk is full")
        super().set_sync(key, value)


def test_the_same_through_the_blocking_path_of_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    taken = TakenSignal(monkeypatch)
    store = FailingDict()
    z = zarrio.create(store, (4, 4), "int32", chunks=(4, 4))
    z[...] = 1
    store.armed, store.go = True, taken.event
    outcome: dict[str, BaseException | None] = {}

    def write(name: str, selection: Any, value: int) -> None:
        try:
            z[selection] = value
            outcome[name] = None
        except OSError as e:
            outcome[name] = e

    whole = threading.Thread(target=write, args=("whole", ..., 5))
    whole.start()
    assert store.setting.wait(5)
    partial = threading.Thread(target=write, args=("partial", (0, 0), 7))
    partial.start()
    whole.join(10)
    partial.join(10)
    assert isinstance(outcome["whole"], OSError) and outcome["partial"] is None, outcome
    assert any(b.base is not None for b in taken.batches), "the race did not happen"
    want = np.ones((4, 4), dtype="int32")
    want[0, 0] = 7
    assert (z[...] == want).all(), z[...]
    assert len(QUEUE) == 0


class LockFails(ForwardingStore):
    """``key_lock`` of the armed write waits until ``go`` is set, then raises (a lock file that
    cannot be opened); every other write locks nothing."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.armed = False
        self.locking = threading.Event()
        self.go = threading.Event()

    def key_lock(self, key: str) -> contextlib.AbstractContextManager[None] | None:
        if not self.armed:
            return None
        self.armed = False
        store = self

        class Failing:
            def __enter__(self) -> None:
                store.locking.set()
                store.go.wait(5)
                raise OSError("no lock file")

            def __exit__(self, *exc: object) -> None:
                pass

        return Failing()


def test_a_whole_write_failing_after_a_batch_stored_its_value_took_effect() -> None:
    async def main() -> None:
        store = LockFails(MemoryStore())
        a = await aio.create(store, (4, 4), "int32", chunks=(4, 4))
        await a.setitem(..., 1)
        store.armed = True
        whole = asyncio.create_task(a.setitem(..., 5))  # queued, then stuck taking its lock
        assert await asyncio.to_thread(store.locking.wait, 5)
        await asyncio.wait_for(a.setitem((0, 0), 7), 5)  # a batch over the whole write, stored
        store.go.set()
        await asyncio.wait_for(whole, 5)  # its value is stored: not an error
        want = np.full((4, 4), 5, dtype="int32")
        want[0, 0] = 7
        assert ((await a.getitem(...)) == want).all()

    asyncio.run(main())
    assert len(QUEUE) == 0


class Flaky(DictStore):
    """Every ``n``-th chunk ``set_sync`` raises without storing."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n
        self.calls = 0
        self.lock = threading.Lock()

    def set_sync(self, key: str, value: bytes) -> None:
        if key.startswith("c/"):
            with self.lock:
                self.calls += 1
                fail = self.calls % self.n == 0
            if fail:
                raise OSError(f"set {self.calls} failed")
        super().set_sync(key, value)


@pytest.mark.parametrize("through", ["threads", "coroutines"])
def test_with_a_store_failing_every_fifth_set_no_raised_write_is_visible(through: str) -> None:
    """8 writers, each 40 writes of unique values: whole-chunk writes and row writes mixed.
    Afterwards no element holds a value whose write raised, and each row holds the value of a
    write that returned (or the first value)."""
    writers, per = 8, 40
    store = Flaky(5)
    z = zarrio.create(store, (8, 16), "int32", chunks=(8, 16), fill_value=0)
    failed: set[int] = set()
    ok: set[int] = set()
    guard = threading.Lock()

    def one(value: int, whole: bool, row: int, setter: Callable[[Any, int], None]) -> None:
        try:
            setter(... if whole else (row, slice(None)), value)
        except OSError:
            with guard:
                failed.add(value)
            return
        with guard:
            ok.add(value)

    plans = [
        [(1 + w * 1000 + i, random.Random(w * 100 + i).random() < 0.3) for i in range(per)] for w in range(writers)
    ]
    if through == "threads":
        barrier = threading.Barrier(writers)

        def writer(w: int) -> None:
            barrier.wait(timeout=10)
            for value, whole in plans[w]:
                one(value, whole, w, z.__setitem__)

        run_threads(writers, writer, timeout=60)
    else:

        async def main() -> None:
            a = await aio.open_array(store)

            async def writer(w: int) -> None:
                for value, whole in plans[w]:
                    try:
                        await a.setitem(... if whole else (w, slice(None)), value)
                    except OSError:
                        failed.add(value)
                        continue
                    ok.add(value)

            await asyncio.wait_for(asyncio.gather(*(writer(w) for w in range(writers))), 60)

        asyncio.run(main())
    assert failed and ok, (len(failed), len(ok))  # both happened
    got = z[...]
    seen = set(np.unique(got).tolist())
    assert not (seen & failed), f"values of writes that raised are stored: {sorted(seen & failed)[:5]}"
    assert seen <= ok | {0}
    assert all(len(set(row.tolist())) == 1 for row in got), "a row mixes writes"
    assert len(QUEUE) == 0


@pytest.mark.parametrize(
    ("dtype", "fill", "other"),
    [
        ("uint8", 0, 1),
        (">i4", 7, 8),
        ("int64", -1, 2**40),
        ("bool", True, False),
        ("float64", float("nan"), 0.0),
        ("float64", -0.0, 0.0),
        ("float64", 0.0, -0.0),
        ("complex64", 1 + 2j, 1 - 2j),
        ("<U3", "", "x"),
        ("M8[s]", "NaT", "2020-01-01"),
    ],
)
def test_a_chunk_is_fill_only_when_every_element_has_the_fills_bits(dtype: str, fill: Any, other: Any) -> None:
    # the check that skips storing empty chunks; the kept key (per array and dtype) must decide as the fill does
    from zarrio.engine.fill_check import fill_key, is_fill

    dt = np.dtype(dtype)
    for key in (None, fill_key(fill, dt)):
        full = np.full((3, 4), fill, dtype=dt)
        assert is_fill(full, fill, key) and is_fill(full[:, ::2], fill, key)  # also a strided part of an array
        for flat in (0, 7):  # the first element decides at once; a later one needs the scan
            changed = full.copy()
            changed.flat[flat] = np.array(other, dtype=dt)
            assert not is_fill(changed, fill, key), (flat, changed)
    assert is_fill(np.zeros(0, dtype=dt), fill)
