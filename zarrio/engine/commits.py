"""The commit slot of a key: storing a value in sequence order, exactly once or not at all.

A *ticket* is what a commit stores: a whole update, or a leader's batch
(:mod:`.write_queue`). :func:`commit_blocking` and :func:`commit_async` take the
key's commit slot (one store call of the key at a time in the process), store
the ticket's value unless a later one was stored already, record it, and drop
the decoded-chunk cache entries of the key in every store the ticket was
written through. A batch whose base (the whole update it started from) failed
is not stored: its commit raises :class:`~.write_queue.BaseFailed`. A whole
write that fails outside its own store call (the key lock, an interrupt)
learns from :func:`failed_whole_blocking` whether a batch stored its value
first (then the write took effect and returns normally).

``key_lock`` and :func:`key_lock_async` hold a store's lock of a key against
other processes (``LocalStore(lock_chunks=True)``), or nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from ..stores.base import Store
from .chunk_cache import CHUNK_CACHE
from .write_queue import QUEUE, Batch, Update, Waker

__all__ = [
    "Ticket",
    "commit_async",
    "commit_blocking",
    "failed_whole_async",
    "failed_whole_blocking",
    "key_lock",
    "key_lock_async",
]


def key_lock(store: Store, key: str) -> contextlib.AbstractContextManager[None]:
    lock = store.key_lock(key)
    return contextlib.nullcontext() if lock is None else lock


Ticket = Update | Batch  # what a commit stores: a whole update, or a leader's batch


def forget(ticket: Ticket) -> None:
    """Stored (or maybe partly): what the decoded-chunk cache holds of the key is gone."""
    for store in ticket.stores:
        CHUNK_CACHE.wrote(store, ticket.entry.ident[1])


def slot_blocking(entry: Any) -> None:
    waker = Waker(None)
    if not QUEUE.slot_try(entry, waker):
        try:
            waker.wait_blocking()  # woken by the slot's holder leaving it: one store call bounds it
        except BaseException:
            QUEUE.slot_abandon(entry, waker)
            raise


def commit_blocking(ticket: Ticket, store_it: Callable[[], None]) -> None:
    """Store ``ticket``'s value under the key's commit slot unless a later one was stored."""
    slot_blocking(ticket.entry)
    try:
        if QUEUE.commit_begins(ticket):
            try:
                store_it()
            except BaseException:
                QUEUE.store_failed(ticket)
                raise
            finally:
                forget(ticket)
            QUEUE.committed(ticket)
    finally:
        QUEUE.slot_release(ticket.entry)


def failed_whole_blocking(update: Update, error: BaseException) -> None:
    """A whole write failed outside its store call: raise unless a batch stored its value first.
    An error waits for the commit slot (no batch is then half-stored); an interrupt does not."""
    if isinstance(error, Exception):
        slot_blocking(update.entry)
        try:
            if QUEUE.whole_failed(update):
                return
        finally:
            QUEUE.slot_release(update.entry)
    else:
        QUEUE.whole_failed(update)
    raise error


@contextlib.asynccontextmanager
async def key_lock_async(store: Store, key: str) -> AsyncIterator[None]:
    """``store.key_lock(key)``, entered and left in a worker thread (it may wait for another process)."""
    lock = store.key_lock(key)
    if lock is None:
        yield
        return
    loop = asyncio.get_running_loop()
    entering = loop.run_in_executor(None, lock.__enter__)
    try:
        await asyncio.shield(entering)
    except asyncio.CancelledError:
        entering.add_done_callback(lambda f: None if f.exception() else lock.__exit__(None, None, None))
        raise
    try:
        yield
    finally:
        await asyncio.shield(loop.run_in_executor(None, lock.__exit__, None, None, None))


async def slot_async(entry: Any) -> None:
    waker = Waker(asyncio.get_running_loop())
    if not QUEUE.slot_try(entry, waker):
        try:
            await waker.wait()  # woken by the slot's holder leaving it: one store call bounds it
        except BaseException:
            QUEUE.slot_abandon(entry, waker)
            raise


async def commit_async(ticket: Ticket, store_it: Callable[[], Awaitable[bool]]) -> bool:
    """Store ``ticket``'s value under the key's commit slot unless a later one was stored; False
    when ``store_it`` found a conflict (a conditional write refused)."""
    await slot_async(ticket.entry)
    try:
        if not QUEUE.commit_begins(ticket):
            return True
        try:
            if not await store_it():
                return False
        except BaseException:
            QUEUE.store_failed(ticket)
            raise
        finally:
            forget(ticket)
        QUEUE.committed(ticket)
        return True
    finally:
        QUEUE.slot_release(ticket.entry)


async def failed_whole_async(update: Update, error: BaseException) -> None:
    """:func:`failed_whole_blocking` on the event loop."""
    if isinstance(error, Exception):
        await slot_async(update.entry)
        try:
            if QUEUE.whole_failed(update):
                return  # a batch over it stored its value: the write took effect
        finally:
            QUEUE.slot_release(update.entry)
    else:
        QUEUE.whole_failed(update)
    raise error
