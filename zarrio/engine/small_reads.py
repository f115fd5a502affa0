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

The gate is not a plain lock, which wakes a waiter each time it is released and then lets
whichever thread asks first have it. A thread reading in a loop got it back again and again
while the others waited, or gave it up at every read: a wake-up on the other core, and a thread
that then waits for the GIL. Here the holder keeps its turn: a thread that leaves the gate may
take it again at once while the waiters sleep. The first waiter watches the turn: once it has
waited :data:`TURN` seconds, the holder hands the gate to it as it leaves, and should the holder
not come back, the waiter takes the free gate. A holder that does not read in a loop (it came
back later than :data:`QUICK_RETURN`) wakes the first waiter as it leaves. Measured with 16
threads making one-element reads of 20² uint8 chunks, 2,000 reads each, runs of the two
alternating: 97-98 µs a read through a lock, 76-79 µs through this gate on a local disk; 71-72
against 55-62 µs from memory.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["LONGEST_WAIT", "QUICK_RETURN", "RECHECK", "SLOW_READ", "TURN", "WINDOW", "SmallReadGate"]

T = TypeVar("T")

#: gated reads this slow (every one of a window) are waiting on I/O, not the GIL: reads then run side by side
SLOW_READ = 0.002
#: how many of the latest gated reads decide whether the store is slow
WINDOW = 8
#: while open, the gate closes again after this many seconds, and the next gated reads decide
RECHECK = 1.0
#: the longest a read waits for the gate
LONGEST_WAIT = 0.5
#: the longest the holder keeps the gate (taking it again as it leaves) while another thread waits
TURN = 0.005
#: a gate taken again this soon after it was left is read from in a loop: its holder comes straight
#: back, so a waiter is not woken when it is left (only when the turn is over)
QUICK_RETURN = 100e-6


class _Waiter:
    """A thread waiting for the gate, asleep on ``wake`` until it is handed the gate or roused."""

    __slots__ = ("due", "granted", "roused", "wake")

    def __init__(self) -> None:
        self.wake = threading.Lock()
        self.wake.acquire()
        self.granted = False  # handed the gate: it holds it now
        self.roused = False  # woken to look again (first in line now): ``wake`` released, not yet taken
        self.due = False  # its watch ran out with the gate held: the holder hands it over on leaving

    def rouse(self) -> None:
        """Wake the waiter to look again (with the gate's mutex held)."""
        if not self.roused and not self.granted:
            self.roused = True
            self.wake.release()

    def grant(self) -> None:
        """Hand the waiter the gate, and wake it unless it was roused already (with the mutex held)."""
        self.granted = True
        if not self.roused:
            self.wake.release()


class SmallReadGate:
    """Runs small blocking reads one at a time while they are quick (see the module docstring)."""

    def __init__(self) -> None:
        self._held = threading.Lock()  # held while a gated read runs (handed over with it)
        self._owner: int | None = None  # the thread running it: a store may read again in it
        self._mutex = threading.Lock()  # guards the waiters, for a few bytecodes at a time
        self._waiters: deque[_Waiter] = deque()
        self._turn_began = 0.0  # see TURN: when the first waiter began waiting, or the last handover
        self._left_at = 0.0  # when the gate was last left
        self._quick_return = False  # see QUICK_RETURN: whether the holder took it that soon after
        #: the times of the latest gated reads (changed only while holding the gate)
        self._recent: deque[float] = deque(maxlen=WINDOW)
        self._stale = False  # the gate was open: the times before are no guide
        self.open_until = 0.0

    @property
    def typical(self) -> float:
        """The fastest of the latest gated reads, in seconds (0.0 before the first)."""
        return min(list(self._recent), default=0.0)

    def run(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        """``fn(*args)``, through the gate unless it is open."""
        if self.open_until:
            if time.monotonic() < self.open_until:
                return fn(*args)
            self.open_until, self._stale = 0.0, True  # look again
        me = threading.get_ident()
        if self._owner == me:  # a read inside a gated read, in its thread: it holds the gate already
            return fn(*args)
        if not self._held.acquire(blocking=False) and not self._wait():
            self.open_until = time.monotonic() + RECHECK  # another read holds it this long: I/O-bound
            return fn(*args)
        self._owner = me
        try:
            started = time.perf_counter()
            self._quick_return = started - self._left_at < QUICK_RETURN
            result = fn(*args)
            self._timed(time.perf_counter() - started)
        finally:
            self._owner = None
            self._leave()
        return result

    def _wait(self) -> bool:
        """Sleep until this thread holds the gate (True), or LONGEST_WAIT passed (False). The first
        waiter in line watches the holder's turn: it wakes when the turn is over and takes the gate
        if it is free (a holder that left for good), else the holder hands it over as it leaves."""
        deadline = time.monotonic() + LONGEST_WAIT
        waiter = _Waiter()
        with self._mutex:
            if not self._waiters:
                self._turn_began = time.perf_counter()
            self._waiters.append(waiter)  # queued before trying again: a holder leaving now sees it
            if self._held.acquire(blocking=False):
                self._waiters.remove(waiter)
                return True
        while True:
            with self._mutex:
                if waiter.granted:  # handed the gate since it last looked
                    return True
                watching = self._waiters[0] is waiter and not waiter.due
                turn_left = self._turn_began + TURN - time.perf_counter()
            remaining = deadline - time.monotonic()
            timeout = min(remaining, turn_left) if watching else remaining
            woken = timeout > 0 and waiter.wake.acquire(timeout=timeout)
            with self._mutex:
                if waiter.granted:  # handed the gate (perhaps as the wait ran out)
                    return True
                if waiter.roused:  # first in line now: look again
                    if not woken:
                        waiter.wake.acquire()  # released as the wait ran out: take it, to sleep on it again
                    waiter.roused = False
                    continue
                if self._held.acquire(blocking=False):  # the turn is over and the gate is free
                    self._waiters.remove(waiter)
                    self._turn_began = time.perf_counter()
                    self._rouse_first()
                    return True
                if time.monotonic() >= deadline:
                    self._waiters.remove(waiter)
                    self._rouse_first()
                    return False
                waiter.due = True  # the turn is over: the holder hands the gate over as it leaves

    def _leave(self) -> None:
        """Leave the gate: hand it to the first waiter once the turn is over, else free it, and wake
        the first waiter to take it unless the holder is reading in a loop (then the waiter takes
        it when the turn is over, should the holder not come back for it after all)."""
        self._left_at = time.perf_counter()
        if not self._waiters:
            self._held.release()
            if self._waiters:  # queued meanwhile, as the gate was freed: it may not have seen that
                with self._mutex:
                    self._rouse_first()
            return
        with self._mutex:
            first = self._waiters[0] if self._waiters else None
            if first is not None and (first.due or time.perf_counter() - self._turn_began > TURN):
                self._waiters.popleft()
                first.grant()  # the gate stays held: it is the waiter's now
                self._turn_began = time.perf_counter()
                self._rouse_first()
                return
            self._held.release()
            if not self._quick_return:
                self._rouse_first()

    def _rouse_first(self) -> None:
        """Wake the first waiter, new in that place, to watch the turn (with the mutex held)."""
        if self._waiters:
            self._waiters[0].rouse()

    def _timed(self, took: float) -> None:
        """Note a gated read's time (with the gate held); open the gate when the store is slow."""
        recent = self._recent
        if self._stale:
            recent.clear()
            self._stale = False
        recent.append(took)
        if len(recent) == recent.maxlen and min(recent) > SLOW_READ:
            self.open_until = time.monotonic() + RECHECK
