"""Where 16 threads lose against one at the SmallReadGate: each gated read timed by its place in
its holder's turn (issue 18, row P1).

    .venv-ref/bin/python -m benchmarks.profiles.gate_positions             # 2,000 reads a thread, 2 rounds
    .venv-ref/bin/python -m benchmarks.profiles.gate_positions 2000 2 pin  # the process on one CPU

Reads P1's array (the 20²-chunk copy of the 2000² uint8 image, from its local directory; ``python
-m benchmarks --only P1`` prepares it) with one-element reads from 1 and then 16 threads, in
alternating rounds. Every gated read is timed (what runs inside the gate), with its thread, so
the run splits into turns: the reads one thread made in a row. Printed per case: microseconds a
read in all; inside the gate; between two reads of one thread (the caller's code outside the
gate); at a handover (from one thread's last read to the next thread's first); and the median
time of a turn's 1st, 2nd, 3rd, ... read. ``pin`` runs the whole process on its first allowed
CPU (``os.sched_setaffinity``; every reader thread inherits it). Every loop is bounded: a fixed
number of reads, split between the threads.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from benchmarks.profiles.gate_turns import micros_per_read, p1_arrays
from zarrio.engine.small_reads import SmallReadGate

T = TypeVar("T")

#: the places in a turn reported one by one; later reads are pooled in two groups
SINGLE_PLACES = 5


class TimedGate(SmallReadGate):
    """The gate, noting (thread, start, end) of every read it runs inside it."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[tuple[int, float, float]] = []

    def run(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        def timed(*inner: Any) -> T:
            began = time.perf_counter()
            result = fn(*inner)
            self.reads.append((threading.get_ident(), began, time.perf_counter()))
            return result

        return super().run(timed, args)


def _place_group(place: int) -> str:
    if place < SINGLE_PLACES:
        return str(place + 1)
    return f"{SINGLE_PLACES + 1}-20" if place < 20 else "21+"


def summary(reads: list[tuple[int, float, float]], per_read: float) -> str:
    """The line printed for one case (see the module docstring)."""
    reads = sorted(reads, key=lambda read: read[1])
    n = len(reads)
    inside = sum(end - began for _, began, end in reads) / n
    same = handover = 0.0
    handovers = 0
    places: dict[str, list[float]] = {}
    place = 0
    for i, (thread, began, end) in enumerate(reads):
        if i:
            gap = began - reads[i - 1][2]
            if reads[i - 1][0] == thread:
                same, place = same + gap, place + 1
            else:
                handover, handovers, place = handover + gap, handovers + 1, 0
        places.setdefault(_place_group(place), []).append(end - began)
    each = handover / handovers * 1e6 if handovers else 0.0
    by_place = ", ".join(f"{k}: {statistics.median(v) * 1e6:.0f}" for k, v in places.items())
    return (
        f"{per_read:6.1f} µs a read; inside {inside * 1e6:5.1f}, between own reads {same / n * 1e6:4.1f}, "
        f"at handovers {handover / n * 1e6:4.1f} ({handovers} of {each:.0f} µs)\n"
        f"    median µs by place in a turn: {by_place}"
    )


def main(reads: int, rounds: int, pin: bool) -> None:
    if pin:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    array = p1_arrays()["local"]
    for round_ in range(rounds):
        for threads in (1, 16):
            gate = TimedGate()
            array.aio._engine.small_reads = gate
            per_read = micros_per_read(array, threads, reads, round_)
            pinned = " (pinned)" if pin else ""
            print(f"round {round_ + 1}, {threads:2d} threads{pinned}: {summary(gate.reads, per_read)}")


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 2000,
        int(sys.argv[2]) if len(sys.argv) > 2 else 2,
        len(sys.argv) > 3 and sys.argv[3] == "pin",
    )
