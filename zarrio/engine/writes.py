"""Writing stored objects through the process's write queue (:mod:`.write_queue`).

Each unit (a chunk, or a shard) a write touches is written on its own:

* a unit the write covers wholly is encoded at once and stored, in sequence
  order (a read-modify-write that finishes later does not undo it);
* a unit it covers partly is a queued change: the key's leader applies every
  change queued for the key to one read and one decode, encodes once and stores
  (:func:`encode_changes`).

Across processes, where the store offers it (:mod:`zarrio.stores.base`): a store
with ``conditional_writes`` makes the read-modify-write a compare-and-swap
(``get_versioned`` then ``set_if``, retried on conflict, at most
:data:`CAS_ATTEMPTS` times, then :class:`~zarrio.errors.WriteConflictError`); a
store with ``key_lock(key)`` (``LocalStore(lock_chunks=True)``) holds that lock
around the read, the encode and the store of a unit.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import numpy as np

from ..errors import CodecError, WriteConflictError
from ..stores.base import Store
from ..stores.blocking import BlockingAccess
from .chunk_cache import CHUNK_CACHE
from .executor import run_in_pool, store_limiter
from .kernels import ChunkKernels, Unit, is_fill
from .shard_append import append_async, append_blocking, appendable
from .write_queue import QUEUE, Batch, Update, Waker

__all__ = ["CAS_ATTEMPTS", "encode_changes", "write_unit_async", "write_units_blocking"]

#: compare-and-swap attempts of one read-modify-write before WriteConflictError
CAS_ATTEMPTS = 16

Change = tuple[Unit, np.ndarray[Any, Any]]


def encode_changes(k: ChunkKernels, key: str, old: Any, changes: Sequence[Change], keep: bool = False) -> bytes | None:
    """The new stored value after ``changes`` in order over ``old`` (one decode, one encode);
    None when only fill values remain, unless ``keep`` (a conditional write cannot erase)."""
    if len(changes) == 1:
        unit, value = changes[0]
        encoded = k.encode_unit(unit, value, old)
    elif k.sharding is None:
        encoded = _merge_chunk(k, key, old, changes)
    else:
        encoded = _merge_shard(k, key, old, changes)
    if encoded is None and keep:
        chain, spec = k.chunk_codec(changes[0][0][0]) if k.sharding is None else (k.chain, k.spec)
        return chain.encode(np.full(spec.shape, k.fill_value, dtype=spec.dtype), spec)
    return encoded


def _merge_chunk(k: ChunkKernels, key: str, old: Any, changes: Sequence[Change]) -> bytes | None:
    chunk: np.ndarray[Any, Any] | None = None
    chain, spec = k.chunk_codec(changes[0][0][0])
    for (_, _, members), value in changes:
        proj = members[0][1]
        if proj.is_complete:
            chunk = np.full(spec.shape, k.fill_value, dtype=spec.dtype)
        elif chunk is None:
            if old is None:
                chunk = np.full(spec.shape, k.fill_value, dtype=spec.dtype)
            else:
                try:
                    decoded = chain.decode(old, spec)
                except CodecError as e:
                    raise e.with_key(key) from e.__cause__
                chunk = np.array(decoded, dtype=spec.dtype, copy=True, order="C")
        chunk[proj.chunk_index()] = value[proj.out_index()]
    assert chunk is not None
    if not k.write_empty_chunks and is_fill(chunk, k.fill_value):
        return None
    return chain.encode(chunk, spec)


def _merge_shard(k: ChunkKernels, key: str, old: Any, changes: Sequence[Change]) -> bytes | None:
    assert k.sharding is not None
    inner, spec = k.sharding.inner, k.inner_spec
    cps = k.shard_cps(changes[0][0][0])
    parts: list[Any] = [None] * math.prod(cps)
    if old is not None:
        try:  # kept inner chunks: views of the old shard, copied once by encode_shard
            parts = list(k.sharding.split_shard(old, cps))
        except CodecError as e:
            raise e.with_key(key) from e.__cause__
    for (coords, _, members), value in changes:
        if not k.needs_old(coords, members):
            parts = [None] * math.prod(cps)
        for flat, proj in members:
            parts[flat] = k.merge(parts[flat], proj, value, inner, spec, key)
    return k.sharding.encode_shard(parts, cps)


# ---------------------------------------------------------------- blocking stores (worker threads)
def _key_lock(store: Store, key: str) -> contextlib.AbstractContextManager[None]:
    lock = store.key_lock(key)
    return contextlib.nullcontext() if lock is None else lock


def _commit_blocking(entry: Any, seq: int, whole: bool, store_it: Callable[[], None]) -> None:
    waker = Waker(None)
    if not QUEUE.slot_try(entry, waker):
        try:
            waker.wait_blocking()
        except BaseException:
            QUEUE.slot_abandon(entry, waker)
            raise
    try:
        if QUEUE.commit_begins(entry, seq):
            try:
                store_it()
            finally:  # stored (or maybe partly): what the decoded-chunk cache holds of it is gone
                CHUNK_CACHE.wrote(entry.owner, entry.ident[1])
            QUEUE.committed(entry, seq, whole=whole)
    finally:
        QUEUE.slot_release(entry)


def _read_old_blocking(k: ChunkKernels, access: BlockingAccess, key: str) -> Any:
    reader = access.open_reader(key)
    if reader is None:
        return None
    try:
        if reader.size > k.max_read_bytes:
            k.check_stored_size(reader.size, key)
        return reader.read(0, reader.size)
    finally:
        reader.close()


def _store_blocking(access: BlockingAccess, key: str, encoded: bytes | None) -> None:
    if encoded is None:
        access.erase(key)
    else:
        access.set(key, encoded)


def write_units_blocking(
    k: ChunkKernels, store: Store, access: BlockingAccess, value: np.ndarray[Any, Any], units: Sequence[Unit]
) -> None:
    """Build, encode and store a batch of units, one at a time (a worker thread or the caller's)."""
    for unit in units:
        coords, key, members = unit
        if not k.needs_old(coords, members):
            _write_whole_blocking(store, access, key, (unit, value), k.encode_unit(unit, value, None))
            continue
        update = QUEUE.add(store, key, (unit, value), whole=False, loop=None)
        if not update.waker.lead:
            try:
                update.waker.wait_blocking()
            except BaseException:
                QUEUE.abandon(update)
                raise
            if not update.waker.lead:  # applied by another writer
                if update.waker.error is not None:
                    raise update.waker.error
                continue
        _lead_blocking(k, store, access, update, key)


def _write_whole_blocking(
    store: Store, access: BlockingAccess, key: str, change: Change, encoded: bytes | None
) -> None:
    update = QUEUE.add(store, key, change, whole=True, loop=None)
    try:
        with _key_lock(store, key):
            _commit_blocking(update.entry, update.seq, True, lambda: _store_blocking(access, key, encoded))
    finally:
        QUEUE.whole_done(update)


def _lead_blocking(k: ChunkKernels, store: Store, access: BlockingAccess, update: Update, key: str) -> None:
    batch: Batch | None = None
    try:
        batch = QUEUE.take(update)
        if batch.members:
            with _key_lock(store, key):
                appended = batch.needs_read and appendable(k, store)  # shard_append.py: the new parts at the end
                if not (appended and append_blocking(k, access, key, batch, _commit_blocking)):
                    old = _read_old_blocking(k, access, key) if batch.needs_read else None
                    encoded = encode_changes(k, key, old, batch.changes)
                    _commit_blocking(batch.entry, batch.seq, False, lambda: _store_blocking(access, key, encoded))
    except BaseException as e:
        QUEUE.finish(batch, update, e)
        raise
    QUEUE.finish(batch, update, None)


# ---------------------------------------------------------------- every other store (the event loop)
@contextlib.asynccontextmanager
async def _key_lock_async(store: Store, key: str) -> AsyncIterator[None]:
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


async def _commit_async(entry: Any, seq: int, whole: bool, store_it: Callable[[], Awaitable[bool]]) -> bool:
    """Store a value of ``seq`` under the key's commit slot unless a later one was stored; False
    when ``store_it`` found a conflict (a conditional write refused)."""
    waker = Waker(asyncio.get_running_loop())
    if not QUEUE.slot_try(entry, waker):
        try:
            await waker.wait()
        except BaseException:
            QUEUE.slot_abandon(entry, waker)
            raise
    try:
        if not QUEUE.commit_begins(entry, seq):
            return True
        try:
            if not await store_it():
                return False
        finally:  # stored (or maybe partly): what the decoded-chunk cache holds of it is gone
            CHUNK_CACHE.wrote(entry.owner, entry.ident[1])
        QUEUE.committed(entry, seq, whole=whole)
        return True
    finally:
        QUEUE.slot_release(entry)


async def write_unit_async(k: ChunkKernels, store: Store, unit: Unit, value: np.ndarray[Any, Any]) -> None:
    coords, key, members = unit
    sem = store_limiter(store)

    async def store_it(encoded: bytes | None) -> bool:
        async with sem:
            if encoded is None:
                await store.erase(key)
            else:
                await store.set(key, encoded)
        return True

    loop = asyncio.get_running_loop()
    if not k.needs_old(coords, members):
        encoded = await run_in_pool(k.encode_unit, unit, value, None)
        update = QUEUE.add(store, key, (unit, value), whole=True, loop=loop)
        try:
            async with _key_lock_async(store, key):
                await _commit_async(update.entry, update.seq, True, lambda: store_it(encoded))
        finally:
            QUEUE.whole_done(update)
        return
    update = QUEUE.add(store, key, (unit, value), whole=False, loop=loop)
    if not update.waker.lead:
        try:
            await update.waker.wait()
        except BaseException:
            QUEUE.abandon(update)
            raise
        if not update.waker.lead:  # applied by another writer
            if update.waker.error is not None:
                raise update.waker.error
            return
    batch: Batch | None = None
    stored = False
    try:
        batch = QUEUE.take(update)
        if batch.members:
            async with _key_lock_async(store, key):
                if store.conditional_writes:
                    await _swap(k, store, key, batch)
                elif batch.needs_read and appendable(k, store):  # shard_append.py: the new parts at the end
                    if not await append_async(k, store, key, batch, _commit_async):
                        await _rewrite(k, store, key, batch)
                else:
                    await _rewrite(k, store, key, batch)
        stored = True
    except asyncio.CancelledError:
        if not stored:
            QUEUE.requeue(batch, update)
            raise
    except BaseException as e:
        QUEUE.finish(batch, update, e)
        raise
    QUEUE.finish(batch, update, None)


async def _rewrite(k: ChunkKernels, store: Store, key: str, batch: Batch) -> None:
    """The batch as a plain read-modify-write: read the whole value, merge, store it whole."""
    sem = store_limiter(store)
    old = None
    if batch.needs_read:
        async with sem:
            old = await store.get(key)
    encoded = await run_in_pool(encode_changes, k, key, old, batch.changes)

    async def store_it() -> bool:
        async with sem:
            if encoded is None:
                await store.erase(key)
            else:
                await store.set(key, encoded)
        return True

    await _commit_async(batch.entry, batch.seq, False, store_it)


async def _swap(k: ChunkKernels, store: Store, key: str, batch: Batch) -> None:
    """The batch as a compare-and-swap: read the value and its version, write only over that version."""
    sem = store_limiter(store)
    for attempt in range(CAS_ATTEMPTS):
        async with sem:
            found = await store.get_versioned(key)
        old, version = (None, None) if found is None else found
        encoded = await run_in_pool(encode_changes, k, key, old if batch.needs_read else None, batch.changes, True)
        assert encoded is not None

        async def swap(data: bytes = encoded, expected: str | None = version) -> bool:
            async with sem:
                return await store.set_if(key, data, expected)

        if await _commit_async(batch.entry, batch.seq, False, swap):
            return
        # another process wrote in between: back off a little (more each time), read again
        await asyncio.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 6)))
    raise WriteConflictError(
        f"{key!r} kept changing: {CAS_ATTEMPTS} conditional writes were refused", key=key, attempts=CAS_ATTEMPTS
    )
