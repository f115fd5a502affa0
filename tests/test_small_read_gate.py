"""SmallReadGate (zarrio.engine.small_reads): small blocking reads of an array run one at a time
while they are quick, side by side once they are slow, and never wait for the gate unbounded."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

import zarrio
from zarrio.engine import small_reads
from zarrio.engine.small_reads import LONGEST_WAIT, SLOW_READ, SmallReadGate
from zarrio.stores import MemoryStore


def test_quick_reads_run_one_at_a_time(monkeypatch: Any) -> None:
    # "quick" by the gate's bound, whatever the machine's load does to a 0.2 ms sleep
    monkeypatch.setattr(small_reads, "SLOW_READ", 60.0)
    monkeypatch.setattr(small_reads, "LONGEST_WAIT", 60.0)
    gate = SmallReadGate()
    inside, most = [0], [0]
    lock = threading.Lock()

    def read() -> None:
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.0002)  # releases the GIL, as a file read does
        with lock:
            inside[0] -= 1

    def many() -> None:
        for _ in range(50):
            gate.run(read, ())

    threads = [threading.Thread(target=many) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert most[0] == 1
    assert gate.open_until == 0.0


def test_slow_reads_open_the_gate_and_then_run_side_by_side(monkeypatch: Any) -> None:
    monkeypatch.setattr(small_reads, "WINDOW", 3)
    gate = SmallReadGate()
    for _ in range(3):  # reads that wait on I/O, every one of the window
        assert gate.open_until == 0.0
        gate.run(time.sleep, (SLOW_READ * 3,))
    assert gate.open_until > time.monotonic()
    second_in = threading.Event()

    def first() -> None:
        assert second_in.wait(LONGEST_WAIT / 2), "the second read was held back by an open gate"

    t = threading.Thread(target=gate.run, args=(first, ()))
    t.start()
    time.sleep(0.02)
    gate.run(second_in.set, ())
    t.join(10)
    assert not t.is_alive()


def test_one_slow_read_among_quick_ones_keeps_the_gate_closed(monkeypatch: Any) -> None:
    """A quick read is slow only when the machine or another thread held it up: an average of the
    reads' times let one such read open the gate (for every read, for a second at a time)."""
    monkeypatch.setattr(small_reads, "SLOW_READ", 0.02)  # a no-op read stays under it on a loaded machine
    gate = SmallReadGate()
    for i in range(3 * small_reads.WINDOW):
        gate.run(time.sleep, (0.15,) if i % small_reads.WINDOW == 3 else (0,))
        assert gate.open_until == 0.0, f"read {i} opened the gate"
    assert gate.typical < 0.02


def test_the_gate_looks_again_after_a_while(monkeypatch: Any) -> None:
    monkeypatch.setattr(small_reads, "RECHECK", 0.05)
    monkeypatch.setattr(small_reads, "SLOW_READ", 0.05)  # a no-op read stays under it on a loaded machine
    monkeypatch.setattr(small_reads, "WINDOW", 2)
    gate = SmallReadGate()
    gate.run(time.sleep, (0.15,))
    gate.run(time.sleep, (0.15,))
    assert gate.open_until > time.monotonic()
    time.sleep(0.06)
    gate.run(lambda: None, ())  # the gate closed again: this read went through it, and is quick
    assert gate.open_until == 0.0
    assert gate.typical < 0.05  # the slow reads before the gate opened are no longer counted
    gate.run(time.sleep, (0.15,))  # one slow read of a fresh window opens nothing
    assert gate.open_until == 0.0


def test_no_read_waits_for_the_gate_longer_than_the_bound() -> None:
    # a read whose store waits for another thread's read of the same array (a store calling back
    # into zarrio from another thread) must not deadlock on the gate
    gate = SmallReadGate()
    other_done = threading.Event()
    waited: list[float] = []

    def holder() -> None:
        assert other_done.wait(LONGEST_WAIT * 4), "the other read never got through"

    def other() -> None:
        started = time.monotonic()
        gate.run(other_done.set, ())
        waited.append(time.monotonic() - started)

    t = threading.Thread(target=gate.run, args=(holder, ()))
    t.start()
    time.sleep(0.02)
    other()
    t.join(10)
    assert not t.is_alive()
    assert LONGEST_WAIT * 0.9 <= waited[0] < LONGEST_WAIT * 4
    assert gate.open_until > time.monotonic()  # such reads are slow: the gate stays open a while


def test_a_read_may_read_again_through_the_gate_in_its_own_thread() -> None:
    gate = SmallReadGate()
    assert gate.run(lambda: gate.run(lambda: 7, ()), ()) == 7


def test_threads_reading_small_chunks_get_their_values() -> None:
    store = MemoryStore()
    data = np.arange(200 * 200, dtype="uint16").reshape(200, 200)
    z = zarrio.create(store, (200, 200), "uint16", chunks=(10, 10))
    z[...] = data
    rng = np.random.default_rng(5)
    points = rng.integers(0, 200, size=(8, 300, 2))
    errors: list[BaseException] = []

    def reader(mine: Any) -> None:
        try:
            for y, x in mine.tolist():
                assert z[y, x] == data[y, x]
                assert np.array_equal(z[y : y + 3, x : x + 3], data[y : y + 3, x : x + 3])
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=reader, args=(p,)) for p in points]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert z.aio._engine.small_reads.typical > 0  # the reads went through the gate
