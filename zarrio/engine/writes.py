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

Failures are exact (:mod:`.write_queue`): a write whose call raised is not
visible afterwards. A batch whose base (a whole write it started from in
memory) failed is taken again without it (:class:`~.write_queue.BaseFailed`,
at most once per whole write queued before it); a whole write that fails
outside its own store call, after a batch over it was stored, returns normally.
Erases (a shrinking resize, :func:`erase_key_async`) are whole writes with no
value, ordered like the others.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import CodecError, WriteConflictError
from ..stores.base import Store
from ..stores.blocking import BlockingAccess
from .commits import commit_async, commit_blocking, failed_whole_async, failed_whole_blocking, key_lock, key_lock_async
from .executor import run_in_pool, store_limiter
from .kernels import ChunkKernels, Unit
from .shard_append import append_async, append_blocking, appendable
from .write_queue import QUEUE, BaseFailed, Batch, Update

__all__ = ["CAS_ATTEMPTS", "encode_changes", "erase_key_async", "write_unit_async", "write_units_blocking"]

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
    return None if k.stores_nothing(chunk) else chain.encode(chunk, spec)


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
    """Build, encode and store a batch of units, one at a time (a worker thread or the caller's),
    inside the store's write batch (``BlockingStore.write_batch_sync``)."""
    with access.write_batch():
        _write_units(k, store, access, value, units)


def _write_units(
    k: ChunkKernels, store: Store, access: BlockingAccess, value: np.ndarray[Any, Any], units: Sequence[Unit]
) -> None:
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
        with key_lock(store, key):
            commit_blocking(update, lambda: _store_blocking(access, key, encoded))
    except BaseException as e:
        if not update.failed:  # not its store call: the key lock, an interrupt
            failed_whole_blocking(update, e)
        else:
            raise
    finally:
        QUEUE.whole_done(update)


def _lead_blocking(k: ChunkKernels, store: Store, access: BlockingAccess, update: Update, key: str) -> None:
    batch: Batch | None = None
    try:
        batch = QUEUE.take(update)
        while batch.changes:
            try:
                with key_lock(store, key):
                    _store_batch_blocking(k, store, access, key, batch)
                break
            except BaseFailed:
                batch = QUEUE.rebase(batch)  # its base failed: again from what is left
    except BaseException as e:
        QUEUE.finish(batch, update, e)
        raise
    QUEUE.finish(batch, update, None)


def _store_batch_blocking(k: ChunkKernels, store: Store, access: BlockingAccess, key: str, batch: Batch) -> None:
    appended = batch.needs_read and appendable(k, store)  # shard_append.py: the new parts at the end
    if not (appended and append_blocking(k, access, key, batch, commit_blocking)):
        old = _read_old_blocking(k, access, key) if batch.needs_read else None
        encoded = encode_changes(k, key, old, batch.changes)
        commit_blocking(batch, lambda: _store_blocking(access, key, encoded))


# ---------------------------------------------------------------- every other store (the event loop)
async def _write_whole_async(store: Store, key: str, change: Any, encoded: bytes | None) -> None:
    """A whole write (``change`` None: an erase) stored in sequence order; see :func:`failed_whole_blocking`."""
    sem = store_limiter(store)

    async def store_it() -> bool:
        async with sem:
            if encoded is None:
                await store.erase(key)
            else:
                await store.set(key, encoded)
        return True

    update = QUEUE.add(store, key, change, whole=True, loop=asyncio.get_running_loop())
    try:
        async with key_lock_async(store, key):
            await commit_async(update, store_it)
    except BaseException as e:
        if update.failed:  # its own store call
            raise
        await failed_whole_async(update, e)  # the key lock, a cancellation
    finally:
        QUEUE.whole_done(update)


async def erase_key_async(store: Store, key: str) -> None:
    """Erase ``key`` as a whole write ordered with the key's other writes (a shrinking resize):
    an older read-modify-write does not bring it back, a newer one starts from fill values."""
    await _write_whole_async(store, key, None, None)


async def write_unit_async(k: ChunkKernels, store: Store, unit: Unit, value: np.ndarray[Any, Any]) -> None:
    coords, key, members = unit
    loop = asyncio.get_running_loop()
    if not k.needs_old(coords, members):
        encoded = await run_in_pool(k.encode_unit, unit, value, None)
        await _write_whole_async(store, key, (unit, value), encoded)
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
        while batch.changes:
            try:
                async with key_lock_async(store, key):
                    await _store_batch_async(k, store, key, batch)
                break
            except BaseFailed:
                batch = QUEUE.rebase(batch)  # its base failed: again from what is left
        stored = True
    except asyncio.CancelledError:
        if not stored:
            QUEUE.requeue(batch, update)
            raise
    except BaseException as e:
        QUEUE.finish(batch, update, e)
        raise
    QUEUE.finish(batch, update, None)


async def _store_batch_async(k: ChunkKernels, store: Store, key: str, batch: Batch) -> None:
    if store.conditional_writes:
        await _swap(k, store, key, batch)
    elif batch.needs_read and appendable(k, store):  # shard_append.py: the new parts at the end
        if not await append_async(k, store, key, batch, commit_async):
            await _rewrite(k, store, key, batch)
    else:
        await _rewrite(k, store, key, batch)


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

    await commit_async(batch, store_it)


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

        if await commit_async(batch, swap):
            return
        # another process wrote in between: back off a little (more each time), read again
        await asyncio.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 6)))
    raise WriteConflictError(
        f"{key!r} kept changing: {CAS_ATTEMPTS} conditional writes were refused", key=key, attempts=CAS_ATTEMPTS
    )
