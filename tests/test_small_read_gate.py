"""SmallReadGate (zarrio.engine.small_reads): small blocking reads of an array run one at a time
while they are quick, side by side once they are slow, and never wait for the gate unbounded."""

from __future__ import annotations

import itertools
import os
import threading
import time
from typing import Any

import numpy as np
from thread_runs import run_threads

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

    def many(_: int) -> None:
        for _ in range(50):
            gate.run(read, ())

    run_threads(4, many, timeout=10)
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

    def reader(t: int) -> None:
        for y, x in points[t].tolist():
            assert z[y, x] == data[y, x]
            assert np.array_equal(z[y : y + 3, x : x + 3], data[y : y + 3, x : x + 3])

    run_threads(len(points), reader, timeout=60)
    assert z.aio._engine.small_reads.typical > 0  # the reads went through the gate


def _spin(seconds: float) -> None:
    """Pure-Python work that holds the GIL for about ``seconds``, as a quick small read does."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def _reading_threads(gate: SmallReadGate, threads: int, reads: int, read: Any) -> list[list[float]]:
    """Run ``reads`` gated calls of ``read(thread)`` from each of ``threads`` threads at once (joined
    with a bound); each thread's list holds the times it entered its reads."""
    entered: list[list[float]] = [[] for _ in range(threads)]
    start = threading.Barrier(threads)

    def reader(t: int) -> None:
        start.wait(timeout=10)
        for _ in range(reads):
            gate.run(lambda: (entered[t].append(time.perf_counter()), read(t)), ())

    run_threads(threads, reader, timeout=60)
    return entered


def _quick_read(t: int) -> None:
    """A quick small read: Python work around a system call that lets the GIL go (as a file read)."""
    _spin(25e-6)
    os.stat(".")
    _spin(25e-6)


def test_the_holder_keeps_its_turn_instead_of_handing_over_every_read(monkeypatch: Any) -> None:
    # a plain lock wakes a waiter as it is released, which takes it on the other core while the
    # releaser still holds the GIL: a handover at nearly every read (hundreds here); the gate lets
    # its holder go on, and hands over once the first waiter has waited a turn
    monkeypatch.setattr(small_reads, "TURN", 0.01)
    monkeypatch.setattr(small_reads, "SLOW_READ", 60.0)
    gate = SmallReadGate()
    entered = _reading_threads(gate, 2, 400, _quick_read)
    order = sorted((at, t) for t, times in enumerate(entered) for at in times)
    switches = sum(1 for (_, a), (_, b) in itertools.pairwise(order) if a != b)
    assert 1 <= switches < 100
    assert gate.open_until == 0.0  # no read waited anywhere near LONGEST_WAIT
    assert not gate._waiters and not gate._held.locked()


def test_threads_reading_in_loops_all_get_turns(monkeypatch: Any) -> None:
    monkeypatch.setattr(small_reads, "TURN", 0.002)
    monkeypatch.setattr(small_reads, "SLOW_READ", 60.0)
    gate = SmallReadGate()
    inside, most = [0], [0]

    def read(t: int) -> None:
        inside[0] += 1
        most[0] = max(most[0], inside[0])
        _spin(100e-6)
        inside[0] -= 1

    entered = _reading_threads(gate, 4, 300, read)  # 30 ms of reads per thread
    assert most[0] == 1  # one at a time
    # no thread kept the gate until it was done: every thread began before any had finished
    assert max(times[0] for times in entered) < min(times[-1] for times in entered)
    assert gate.open_until == 0.0


def _wait_behind(gate: SmallReadGate, holder: Any, inside: threading.Event) -> float:
    """Seconds a read waits for the gate once ``holder``, run in a thread, has set ``inside``."""
    thread = threading.Thread(target=holder)
    thread.start()
    assert inside.wait(10)
    started = time.monotonic()
    gate.run(lambda: None, ())
    waited = time.monotonic() - started
    thread.join(10)
    assert not thread.is_alive()
    return waited


def test_a_gate_left_for_good_goes_to_its_waiter_at_once(monkeypatch: Any) -> None:
    monkeypatch.setattr(small_reads, "TURN", 10.0)  # a waiter that waited for the turn would wait 10 s
    gate = SmallReadGate()
    inside = threading.Event()
    waited = _wait_behind(gate, lambda: gate.run(lambda: (inside.set(), time.sleep(0.02)), ()), inside)
    assert waited < 1.0
    assert gate.open_until == 0.0


def test_a_holder_that_stops_reading_in_a_loop_lets_its_waiter_in_after_a_turn(monkeypatch: Any) -> None:
    monkeypatch.setattr(small_reads, "TURN", 0.05)
    monkeypatch.setattr(small_reads, "SLOW_READ", 60.0)
    gate = SmallReadGate()
    looping = threading.Event()

    def loop() -> None:
        for i in range(200):
            gate.run(lambda i=i: (looping.set() if i == 100 else None, _spin(20e-6)), ())
        # then away for good, holding no gate

    waited = _wait_behind(gate, loop, looping)
    assert waited < 0.4  # about a turn, not LONGEST_WAIT
    assert gate.open_until == 0.0


def test_waits_that_run_out_leave_the_gate_consistent(monkeypatch: Any) -> None:
    # waits far shorter than the reads: many run out, racing handovers and wake-ups
    monkeypatch.setattr(small_reads, "LONGEST_WAIT", 0.002)
    monkeypatch.setattr(small_reads, "TURN", 0.001)
    monkeypatch.setattr(small_reads, "RECHECK", 0.0)  # the gate closes again at once
    gate = SmallReadGate()
    _reading_threads(gate, 12, 150, lambda t: time.sleep(0.0003 * (t % 3)))
    assert not gate._waiters and not gate._held.locked()
    assert gate.run(lambda: 5, ()) == 5
