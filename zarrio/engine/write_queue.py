"""Per-object write ordering in one process: no lost update, whoever the writers are.

Every write of a stored object (a chunk, or a shard) registers an :class:`Update`
under ``(store, key)`` in one process-wide :class:`WriteQueue`, whatever thread,
event loop or blocking caller it comes from (a ``threading.Lock`` guards the
table; waiters are woken by a :class:`Waker`: a ``threading.Event`` for a
blocked thread, a future resolved with ``call_soon_threadsafe`` for a task on
any loop). Two kinds of update:

* a **partial** update needs the stored value (a read-modify-write). One writer
  per key at a time is its *leader*: it takes every partial update queued for the
  key (:meth:`WriteQueue.take`), so they apply in order to one read, one decode
  and one encode, stores the result and wakes their writers; then leadership
  passes to the next queued writer, if any (:meth:`WriteQueue.finish`). No writer
  holds one key while waiting for another, so nothing can deadlock.
* a **whole** update (it covers every stored element) never waits for a
  read-modify-write: its writer encodes it at once. It stays queued until it is
  stored, so a leader that takes partial updates queued after it starts from it
  in memory instead of reading a value that may not hold it yet.

Stores are ordered by sequence number (given when an update is queued): a value
is stored under the key's *commit slot* (held only for the store call) and only
when no later update was stored before it (:meth:`WriteQueue.commit_begins`), so
a read-modify-write that finishes after a later whole write does not undo it.
An entry lives while updates of its key are queued or stored, so the table holds
only keys being written (it is bounded by the writes in flight).

**Which store**: entries are keyed by the store the value ends up in. A store
that forwards every call to another store, with the same key and the same bytes
(a wrapper: :class:`zarrio.testing.ForwardingStore` and its subclasses, a
user's logging or metrics wrapper), names it in its ``forwards_to`` attribute;
the queue follows ``forwards_to`` down to the store that holds the values
(:func:`underlying`), so writes through a wrapper and straight to the store it
wraps are ordered against each other. A wrapper that changes keys or bytes
(a prefix, encryption) must leave ``forwards_to`` unset (None).

**Failures**: a write whose call raised is not visible afterwards. A batch may
start from a queued whole update in memory (above); if that update then fails
(its store raised, or its writer gave up before storing it), the batch is not
stored as it was: its commit raises :class:`BaseFailed` and the leader takes
the batch again from what is left (:meth:`WriteQueue.rebase`), applying the
partial updates the failed one would have overwritten. A whole update whose
value a batch stored before the update's own failure has succeeded: its value
is stored (:meth:`WriteQueue.whole_failed` tells its writer). An erase is a
whole update with no value (``change`` None): the batches after it start from
fill values.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import threading
from collections import deque
from typing import Any

from .chunk_cache import store_ident

__all__ = ["QUEUE", "BaseFailed", "Batch", "Update", "Waker", "WriteQueue", "underlying"]

PENDING, TAKEN, FINISHED = 0, 1, 2

#: wrappers followed by :func:`underlying` at most (a cycle of wrappers ends there)
MAX_FORWARDS = 32


class BaseFailed(Exception):
    """Raised by a batch's commit: the whole update it started from failed; take it again."""


def underlying(store: Any) -> Any:
    """The store that holds ``store``'s values: ``forwards_to`` followed down the wrappers."""
    for _ in range(MAX_FORWARDS):
        inner = getattr(store, "forwards_to", None)
        if inner is None or inner is store:
            break
        store = inner
    return store


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class Waker:
    """Wakes one waiting writer: a thread (``loop`` None) or a task on ``loop``; set under the table lock."""

    __slots__ = ("error", "event", "future", "lead", "loop", "woken")

    def __init__(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self.loop = loop
        self.event = threading.Event() if loop is None else None
        self.future: asyncio.Future[None] | None = None if loop is None else loop.create_future()
        self.woken = False
        self.lead = False
        self.error: BaseException | None = None

    def wake(self, *, lead: bool = False, error: BaseException | None = None) -> None:
        self.woken, self.lead, self.error = True, lead, error
        if self.event is not None:
            self.event.set()
            return
        assert self.loop is not None and self.future is not None
        with contextlib.suppress(RuntimeError):  # a closed loop: its task is gone with it
            self.loop.call_soon_threadsafe(_resolve, self.future)

    def wait_blocking(self) -> None:
        assert self.event is not None
        self.event.wait()  # set by ``wake``: the leader's progress bounds it

    async def wait(self) -> None:
        assert self.future is not None
        await self.future


class Update:
    """One writer's change to one stored object; ``change`` is the engine's (unit, value), None for
    an erase. ``store`` is the store it was written through; a whole update is ``failed`` once it
    can no longer be stored, ``carried`` once its value (its own or a batch's over it) was stored."""

    __slots__ = ("carried", "change", "entry", "failed", "seq", "state", "store", "waker", "whole")
    base: Update | None = None  # a commit ticket, as a Batch: an update starts from no other

    def __init__(
        self, entry: _Entry, seq: int, change: Any, whole: bool, loop: asyncio.AbstractEventLoop | None, store: Any
    ):
        self.entry = entry
        self.seq = seq
        self.change = change
        self.whole = whole
        self.state = PENDING
        self.waker = Waker(loop)
        self.store = store
        self.failed = False
        self.carried = False

    @property
    def stores(self) -> list[Any]:
        """The stores whose decoded-chunk cache entries of this key a commit drops."""
        return [self.entry.owner] if self.store is self.entry.owner else [self.entry.owner, self.store]


class Batch:
    """What a leader applies: ``changes`` in order (a queued whole update, ``base``, first when one
    is the base, then ``needs_read`` is False), stored with sequence number ``seq``."""

    __slots__ = ("base", "changes", "entry", "members", "needs_read", "seq")
    whole = False

    def __init__(
        self, entry: _Entry, members: list[Update], changes: list[Any], needs_read: bool, seq: int, base: Update | None
    ):
        self.entry = entry
        self.members = members
        self.changes = changes
        self.needs_read = needs_read
        self.seq = seq
        self.base = base

    @property
    def stores(self) -> list[Any]:
        found = {id(s): s for u in [*self.members, *([self.base] if self.base else [])] for s in u.stores}
        return list(found.values())


class _Entry:
    __slots__ = ("committed", "ident", "last_whole", "leading", "log", "owner", "slot_held", "slot_waiters")

    def __init__(self, ident: tuple[Any, str], owner: Any) -> None:
        self.ident = ident
        self.owner = owner  # keeps an id()-keyed store alive while its entry exists
        self.log: list[Update] = []  # queued partial updates and whole updates not stored yet, by seq
        self.leading = False
        self.committed = 0  # seq of the newest value stored
        self.last_whole = 0  # seq of the newest whole update stored
        self.slot_held = False
        self.slot_waiters: deque[Waker] = deque()


class WriteQueue:
    """The process-wide table of keys being written; see the module docstring."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[Any, str], _Entry] = {}
        self._seq = itertools.count(1)

    def __len__(self) -> int:
        return len(self._entries)

    def reset(self) -> None:
        """After ``fork``: the parent's writers do not exist in the child."""
        self._lock = threading.Lock()
        self._entries = {}

    # ------------------------------------------------------------ queueing
    def add(self, store: Any, key: str, change: Any, *, whole: bool, loop: asyncio.AbstractEventLoop | None) -> Update:
        """Queue a change; a partial update that finds no leader leads at once (``waker.lead``)."""
        owner = underlying(store)
        ident = (store_ident(owner), key)  # the entry holds ``owner``: its id is not reused meanwhile
        with self._lock:
            entry = self._entries.get(ident)
            if entry is None:
                entry = self._entries[ident] = _Entry(ident, owner)
            update = Update(entry, next(self._seq), change, whole, loop, store)
            entry.log.append(update)
            if not whole and not entry.leading:
                entry.leading = True
                update.waker.lead = True
        return update

    def take(self, leader: Update) -> Batch:
        """The leader's batch: every queued partial update, after the newest whole one before them."""
        entry = leader.entry
        with self._lock:
            pending = [u for u in entry.log if not u.whole and u.state == PENDING]
            # older than a stored whole update: already overwritten
            live = [u for u in pending if u.seq > entry.last_whole]
            for u in pending:
                if u.seq <= entry.last_whole:
                    self._finish_one(u, leader, None)
            if not live:
                return Batch(entry, [], [], False, 0, None)
            for u in live:
                u.state = TAKEN
            return self._based(entry, live)

    def rebase(self, batch: Batch) -> Batch:
        """``batch`` again, its failed base left out (after :class:`BaseFailed`)."""
        with self._lock:
            return self._based(batch.entry, batch.members)

    def _based(self, entry: _Entry, live: list[Update]) -> Batch:
        top = live[-1].seq
        # a whole update not yet stored (nor overtaken by a stored value) is the base, in memory;
        # once anything as new was stored, the store holds it (or what replaced it): read that
        bases = [u for u in entry.log if u.whole and not u.failed and entry.committed < u.seq < top]
        base = bases[-1] if bases else None
        after = base.seq if base is not None else entry.last_whole  # older changes were overwritten
        applied = [u.change for u in live if u.seq > after]
        changes = ([base.change] if base is not None and base.change is not None else []) + applied
        return Batch(entry, live, changes, base is None, top, base)

    def finish(self, batch: Batch | None, leader: Update, error: BaseException | None) -> None:
        """The leader is done: wake the batch's writers, pass leadership on."""
        entry = leader.entry
        with self._lock:
            for u in batch.members if batch is not None else []:
                self._finish_one(u, leader, error)
            self._finish_one(leader, leader, error)
            self._hand_off(entry)
            self._drop_if_idle(entry)

    def requeue(self, batch: Batch | None, leader: Update) -> None:
        """The leader was cancelled before storing: its batch goes back to the queue (the leader's
        own change is dropped) and leadership passes on."""
        entry = leader.entry
        with self._lock:
            for u in batch.members if batch is not None else []:
                if u.state == TAKEN:
                    u.state = PENDING
            if leader.state != FINISHED:
                leader.state = FINISHED
                entry.log.remove(leader)
            self._hand_off(entry)
            self._drop_if_idle(entry)

    def abandon(self, update: Update) -> None:
        """A writer stopped waiting (cancelled, interrupted): a change not taken yet is dropped;
        leadership handed to it passes on."""
        entry = update.entry
        with self._lock:
            if update.state != PENDING:
                return  # taken (a leader applies it) or finished
            update.state = FINISHED
            entry.log.remove(update)
            if update.waker.lead:
                self._hand_off(entry)
            self._drop_if_idle(entry)

    def whole_failed(self, update: Update) -> bool:
        """A whole update's writer failed outside the store call: True when its value was stored
        anyway (a batch over it was), so the write took effect; else it is marked failed."""
        with self._lock:
            if update.carried:
                return True
            update.failed = True
            return False

    def whole_done(self, update: Update) -> None:
        """A whole update was stored (or skipped, or failed): it leaves the queue."""
        with self._lock:
            if update.state != FINISHED:
                update.state = FINISHED
                update.entry.log.remove(update)
            self._drop_if_idle(update.entry)

    def _finish_one(self, u: Update, leader: Update, error: BaseException | None) -> None:
        if u.state == FINISHED:
            return
        u.state = FINISHED
        u.entry.log.remove(u)
        if u is not leader:
            u.waker.wake(error=error)

    def _hand_off(self, entry: _Entry) -> None:
        nxt = next((u for u in entry.log if not u.whole and u.state == PENDING), None)
        entry.leading = nxt is not None
        if nxt is not None:
            nxt.waker.wake(lead=True)

    def _drop_if_idle(self, entry: _Entry) -> None:
        idle = not entry.log and not entry.leading and not entry.slot_held and not entry.slot_waiters
        if idle and self._entries.get(entry.ident) is entry:
            del self._entries[entry.ident]

    # ------------------------------------------------------------ the commit slot
    def slot_try(self, entry: _Entry, waker: Waker) -> bool:
        """Take the key's commit slot now (True), or queue ``waker`` for it (False)."""
        with self._lock:
            if not entry.slot_held:
                entry.slot_held = True
                return True
            entry.slot_waiters.append(waker)
            return False

    def slot_release(self, entry: _Entry) -> None:
        with self._lock:
            self._pass_slot(entry)
            self._drop_if_idle(entry)

    def slot_abandon(self, entry: _Entry, waker: Waker) -> None:
        """A writer stopped waiting for the slot; if it was handed the slot meanwhile, pass it on."""
        with self._lock:
            if waker in entry.slot_waiters:
                entry.slot_waiters.remove(waker)
            elif waker.woken:
                self._pass_slot(entry)
            self._drop_if_idle(entry)

    def _pass_slot(self, entry: _Entry) -> None:
        if entry.slot_waiters:
            entry.slot_waiters.popleft().wake()  # the slot stays held: it changes hands
        else:
            entry.slot_held = False

    def commit_begins(self, ticket: Update | Batch) -> bool:
        """With the slot held: whether the value of ``ticket`` (a whole update or a batch) is still
        to be stored (no later one was); :class:`BaseFailed` when the batch's base failed."""
        with self._lock:
            if ticket.base is not None and ticket.base.failed:
                raise BaseFailed
            return ticket.entry.committed < ticket.seq

    def committed(self, ticket: Update | Batch) -> None:
        """With the slot held: ``ticket``'s value was stored."""
        entry = ticket.entry
        with self._lock:
            entry.committed = max(entry.committed, ticket.seq)
            if ticket.whole:
                entry.last_whole = max(entry.last_whole, ticket.seq)
            for u in [ticket] if isinstance(ticket, Update) else [ticket.base] if ticket.base else []:
                u.carried = True

    def store_failed(self, ticket: Update | Batch) -> None:
        """With the slot held: storing ``ticket``'s value raised; a whole update is failed (no batch
        stored over it: that would have stored it first, or skipped it)."""
        if isinstance(ticket, Update):
            with self._lock:
                ticket.failed = True


#: the one table of the process
QUEUE = WriteQueue()

if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=QUEUE.reset)
