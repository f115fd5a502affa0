"""Small blocking reads of one array, one thread at a time while they are quick.

A small read over a blocking store (a few small chunks from memory or a local disk) is Python
work that holds the GIL, broken by a few calls that release it: open, read and close of the
file, and the decompression. When many threads make such reads at once, each of those calls
hands the GIL to another thread and waits to get it back, and a thread holding any lock the
reads share stalls all the others. Measured with 16 threads making one-element reads of 20²
uint8 chunks on a local disk: 110-137 µs a read, against 40 µs with one thread. Run one at a
time, the same reads took 67-72 µs.

So the reads of an array pass :class:`SmallReadGate`, a lock, while they are quick. They are
not gated when the store is slow (a network file system): a read that waits on I/O, and not on
the GIL, loses by waiting behind another. The gate measures the reads it lets through; while
their typical time is above :data:`SLOW_READ` it stays open (reads run side by side) and lets
one read through it again every :data:`RECHECK` seconds, whose time alone decides again. No
read waits for the gate longer than :data:`LONGEST_WAIT`: it then runs without it (and the gate
opens), so a read whose store calls back into zarrio from another thread cannot deadlock here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["LONGEST_WAIT", "RECHECK", "SLOW_READ", "SmallReadGate"]

T = TypeVar("T")

#: a gated read this slow (typically) is waiting on I/O, not the GIL: reads then run side by side
SLOW_READ = 0.002
#: while open, the gate times one read again this often
RECHECK = 1.0
#: the longest a read waits for the gate
LONGEST_WAIT = 0.5
#: weight of the newest read in the typical time
_NEWEST = 0.2


class SmallReadGate:
    """Runs small blocking reads one at a time while they are quick (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()  # a store may read another zarrio array in the same thread
        self.typical = 0.0
        self.open_until = 0.0

    def run(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        """``fn(*args)``, through the gate unless it is open."""
        looking_again = bool(self.open_until)  # the gate was open: this read is a fresh look
        if looking_again and time.monotonic() < self.open_until:
            return fn(*args)
        if not self._lock.acquire(timeout=LONGEST_WAIT):
            self.open_until = time.monotonic() + RECHECK  # another read holds it this long: I/O-bound
            return fn(*args)
        try:
            started = time.perf_counter()
            result = fn(*args)
        finally:
            self._lock.release()
        took = time.perf_counter() - started
        fresh = looking_again or not self.typical
        typical = self.typical = took if fresh else self.typical + _NEWEST * (took - self.typical)
        self.open_until = time.monotonic() + RECHECK if typical > SLOW_READ else 0.0
        return result
