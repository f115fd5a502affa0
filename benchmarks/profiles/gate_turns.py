"""A/B of the SmallReadGate against a plain lock, threads making one-element reads (issue 18, P1).

    .venv-ref/bin/python -m benchmarks.profiles.gate_turns            # 2,000 reads per thread, 3 rounds
    .venv-ref/bin/python -m benchmarks.profiles.gate_turns 500 5      # reads per thread, rounds

Reads P1's array (the 20²-chunk copy of the 2000² uint8 image, ``python -m benchmarks --only P1``
prepares it) from its local directory and from a MemoryStore holding the same bytes, with 1, 4
and 16 threads. Each round runs every case once with zarrio's gate and once with ``LockGate``, a
lock around each small read (the gate before its turns), in an order shuffled per round, so the
comparison holds on a machine whose speed drifts. Printed: the median and best microseconds per
read of each. Every loop is bounded: a fixed number of reads, split between the threads.
"""

from __future__ import annotations

import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

import zarrio
from benchmarks.config import DEFAULT_DATA_DIR
from benchmarks.gil_handoff import timed_threads
from zarrio.engine.small_reads import LONGEST_WAIT, SmallReadGate
from zarrio.stores import MemoryStore

T = TypeVar("T")


class LockGate(SmallReadGate):
    """The gate before its turns: each small read inside one lock, timed as the gate times it."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.RLock()

    def run(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        if not self._lock.acquire(timeout=LONGEST_WAIT):
            return fn(*args)
        try:
            started = time.perf_counter()
            result = fn(*args)
            self._timed(time.perf_counter() - started)
        finally:
            self._lock.release()
        return result


def p1_arrays() -> dict[str, Any]:
    """P1's array by store: ``local`` (its directory) and ``memory`` (a MemoryStore of the same bytes)."""
    found = sorted(Path(DEFAULT_DATA_DIR).glob("full-*/tiny_c20.zarr"))
    if not found:
        raise SystemExit("no benchmark data: run `python -m benchmarks --only P1` once first")
    root = found[-1]
    memory = MemoryStore()
    for path in root.rglob("*"):
        if path.is_file():
            zarrio.run(memory.set(path.relative_to(root).as_posix(), path.read_bytes()))
    return {"local": zarrio.open_array(str(root), mode="r"), "memory": zarrio.open_array(memory, mode="r")}


def micros_per_read(array: Any, threads: int, reads: int, seed: int) -> float:
    """Microseconds per read with ``threads`` threads making ``reads`` one-element reads each."""
    points = np.random.default_rng(seed).integers(0, array.shape[0], (threads, reads, 2)).tolist()

    def reader(mine: list[list[int]]) -> Callable[[], None]:
        def read_all() -> None:
            for y, x in mine:
                array[y : y + 1, x : x + 1]

        return read_all

    return timed_threads([reader(points[t]) for t in range(threads)], threads * reads)


def main(reads: int, rounds: int) -> None:
    arrays = p1_arrays()
    cases = [(store, threads, gate) for store in arrays for threads in (1, 4, 16) for gate in ("gate", "lock")]
    times: dict[tuple[str, int, str], list[float]] = {case: [] for case in cases}
    for round_ in range(rounds):
        order = list(cases)
        random.Random(round_).shuffle(order)
        for store, threads, gate in order:
            engine = arrays[store].aio._engine
            engine.small_reads = SmallReadGate() if gate == "gate" else LockGate()
            times[(store, threads, gate)].append(micros_per_read(arrays[store], threads, reads, round_))
    for (store, threads, gate), got in times.items():
        median, best = statistics.median(got), min(got)
        print(f"{store:6s} {threads:2d} threads, {gate}: median {median:6.1f}  best {best:6.1f} µs a read")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000, int(sys.argv[2]) if len(sys.argv) > 2 else 3)
