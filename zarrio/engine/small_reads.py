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
the GIL, loses by waiting behind another. The gate times the reads it lets through, and opens
(reads run side by side) once the fastest of the last :data:`WINDOW` of them took longer than
:data:`SLOW_READ`: a store that is slow is slow every time, while a quick read is slow only when
the machine took the core or another thread the GIL for a while, and one such read must not open
the gate (an average did: one 12 ms read in a run of 16 threads held it open, and every read ran
side by side, at twice the time, for the rest of the run). Open, it closes again after
:data:`RECHECK` seconds, and the next gated reads decide afresh. No read waits for the gate longer
than :data:`LONGEST_WAIT`: it then runs without it (and the gate opens), so a read whose store
calls back into zarrio from another thread cannot deadlock here.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["LONGEST_WAIT", "RECHECK", "SLOW_READ", "WINDOW", "SmallReadGate"]

T = TypeVar("T")

#: gated reads this slow (every one of a window) are waiting on I/O, not the GIL: reads then run side by side
SLOW_READ = 0.002
#: how many of the latest gated reads decide whether the store is slow
WINDOW = 8
#: while open, the gate closes again after this many seconds, and the next gated reads decide
RECHECK = 1.0
#: the longest a read waits for the gate
LONGEST_WAIT = 0.5


class SmallReadGate:
    """Runs small blocking reads one at a time while they are quick (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()  # a store may read another zarrio array in the same thread
        #: the times of the latest gated reads (changed only while holding the lock)
        self._recent: deque[float] = deque(maxlen=WINDOW)
        self._stale = False  # the gate was open: the times before are no guide
        self.open_until = 0.0

    @property
    def typical(self) -> float:
        """The fastest of the latest gated reads, in seconds (0.0 before the first)."""
        with self._lock:
            return min(self._recent, default=0.0)

    def run(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        """``fn(*args)``, through the gate unless it is open."""
        if self.open_until:
            if time.monotonic() < self.open_until:
                return fn(*args)
            self.open_until, self._stale = 0.0, True  # look again
        if not self._lock.acquire(timeout=LONGEST_WAIT):
            self.open_until = time.monotonic() + RECHECK  # another read holds it this long: I/O-bound
            return fn(*args)
        try:
            started = time.perf_counter()
            result = fn(*args)
            self._timed(time.perf_counter() - started)
        finally:
            self._lock.release()
        return result

    def _timed(self, took: float) -> None:
        """Note a gated read's time (with the lock held); open the gate when the store is slow."""
        recent = self._recent
        if self._stale:
            recent.clear()
            self._stale = False
        recent.append(took)
        if len(recent) == recent.maxlen and min(recent) > SLOW_READ:
            self.open_until = time.monotonic() + RECHECK
