"""What one lock costs threads that take turns under the GIL (issue 18, row P1), with no zarrio in it.

    python -m benchmarks.gil_handoff            # 16,000 operations per thread count, about 10 s

Each operation is some pure-Python work (a loop of ``--work`` additions, about 30 µs by default,
the Python of a zarrio one-element read) inside a ``threading.Lock``, as zarrio's SmallReadGate
runs small reads. With one thread the lock is free; with two or more, the thread that releases
it wakes a waiter on the other core, which takes the lock and then waits for the GIL until the
releaser blocks on the lock again: two wake-ups per operation, paid whatever the work does. The
printed times per operation are that cost on this machine and this Python, the floor under any
scheme that runs Python from many threads one at a time. Every loop is bounded: a fixed number of
operations, split between the threads.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable

OPERATIONS = 16_000


def _work(n: int) -> int:
    total = 0
    for i in range(n):
        total += i
    return total


def timed_threads(bodies: list[Callable[[], None]], operations: int) -> float:
    """Microseconds per operation of ``operations`` in all, made by one thread per body, all
    started at once (behind a barrier) and timed until the last has finished."""
    start = threading.Barrier(len(bodies) + 1)

    def run(body: Callable[[], None]) -> None:
        start.wait(timeout=60)
        body()

    workers = [threading.Thread(target=run, args=(body,)) for body in bodies]
    for w in workers:
        w.start()
    start.wait(timeout=60)
    began = time.perf_counter()
    for w in workers:
        w.join()
    return (time.perf_counter() - began) / operations * 1e6


def per_operation(threads: int, work: int, operations: int = OPERATIONS) -> float:
    """Microseconds per operation with ``threads`` threads taking turns through one lock."""
    lock = threading.Lock()
    per_thread = operations // threads

    def worker() -> None:
        for _ in range(per_thread):
            with lock:
                _work(work)

    return timed_threads([worker] * threads, per_thread * threads)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=int, default=1000, help="additions per operation (default 1000)")
    parser.add_argument("--threads", default="1,2,4,16", help="thread counts, comma-separated")
    args = parser.parse_args(argv)
    counts = [int(t) for t in args.threads.split(",")]
    per_operation(1, args.work, 2000)  # warm up
    version = ".".join(map(str, sys.version_info[:3]))
    results = {t: min(per_operation(t, args.work) for _ in range(2)) for t in counts}
    cells = ", ".join(f"{t} thread{'s' if t > 1 else ''} {us:.1f} µs" for t, us in results.items())
    print(f"Python {version}, {args.work} additions per operation under one lock: {cells}")


if __name__ == "__main__":
    main()
