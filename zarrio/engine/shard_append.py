"""Partial shard writes by appending, on stores that can append (``Store.appends``).

The leader of a key's batch of read-modify-writes (:mod:`.writes`) updates a
shard whose index is at its end without reading or writing all of it: it reads
the index (one suffix read), and the old bytes of the inner chunks its changes
cover only partly (one batch of ranges); it merges and encodes each changed inner
chunk once, and appends them and a new index to the shard
(:func:`zarrio.codecs.shard_update.appended_tail`). Unchanged inner chunks are
neither read, decoded nor written.

The append is conditional on the size the index was read at: a shard replaced
meanwhile (by another process; this process's writers are ordered by the write
queue) is read again, at most :data:`ATTEMPTS` times. A shard that is missing,
whose changes leave only missing inner chunks, or that would then hold more
garbage than :data:`~zarrio.codecs.shard_update.GARBAGE_LIMIT` allows, goes to
the full read-modify-write (which rewrites it compactly); so does a store whose
writes are compare-and-swaps (its versions, not sizes, guard the update).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import numpy as np

from ..codecs.shard_update import appended_tail
from ..codecs.sharding import MISSING_VALUE
from ..errors import CodecError, CorruptChunkError
from ..stores.base import RangeReader, Store
from ..stores.blocking import BlockingAccess
from .executor import run_in_pool, store_limiter
from .kernels import ChunkKernels
from .write_queue import Batch

__all__ = ["ATTEMPTS", "append_async", "append_blocking", "appendable"]

#: reads of a shard's index before the full read-modify-write takes over (it kept changing size)
ATTEMPTS = 4

Change = tuple[Any, np.ndarray[Any, Any]]
Wanted = list[tuple[int, tuple[int, int]]]


class _Moved(Exception):
    """The shard is no longer the size its index was read at."""


def appendable(k: ChunkKernels, store: Store) -> bool:
    """Whether partial writes of ``k``'s shards append on ``store``."""
    codec = k.sharding
    return codec is not None and codec.index_location == "end" and store.appends and not store.conditional_writes


def _index(k: ChunkKernels, key: str, cps: tuple[int, ...], raw: Any, size: int) -> np.ndarray[Any, Any]:
    assert k.sharding is not None
    try:
        return k.sharding.decode_index(raw, cps, shard_nbytes=size).reshape(-1, 2)
    except CodecError as e:
        raise e.with_key(key) from e.__cause__


def _wanted(k: ChunkKernels, key: str, index: np.ndarray[Any, Any], changes: Sequence[Change]) -> Wanted:
    """The stored inner chunks the batch needs the old bytes of: those it first covers partly."""
    seen: set[int] = set()
    wanted: Wanted = []
    for (_, _, members), _ in changes:
        for flat, proj in members:
            if flat in seen:
                continue
            seen.add(flat)
            offset, length = (int(x) for x in index[flat])
            if not proj.is_complete and offset != MISSING_VALUE:
                k.check_stored_size(length, key)
                wanted.append((flat, (offset, length)))
    return wanted


def _check_blob(flat: int, length: int, blob: Any, key: str) -> Any:
    if len(blob) != length:
        raise CorruptChunkError(f"inner chunk {flat} of the shard: expected {length} bytes, got {len(blob)}", key=key)
    return blob


def _tail(
    k: ChunkKernels,
    key: str,
    changes: Sequence[Change],
    cps: tuple[int, ...],
    index: np.ndarray[Any, Any],
    size: int,
    old: dict[int, Any],
) -> bytes | None:
    """Merge the changes in order (one decode of each partly covered old inner chunk, one encode
    of each changed one) and build what to append; None: the full read-modify-write instead."""
    assert k.sharding is not None
    inner, spec = k.sharding.inner, k.inner_spec
    parts: dict[int, Any] = {}
    for (_, _, members), value in changes:
        for flat, proj in members:
            base = parts[flat] if flat in parts else old.get(flat)
            parts[flat] = k.merge(base, proj, value, inner, spec, key)
    return appended_tail(k.sharding, cps, index, size, parts)


def append_blocking(
    k: ChunkKernels,
    access: BlockingAccess,
    key: str,
    batch: Batch,
    commit: Callable[[Batch, Callable[[], None]], None],
) -> bool:
    """Store ``batch`` by appending (blocking access; ``commit`` is the key's commit slot).
    False: nothing was stored, the caller does the full read-modify-write."""
    assert k.sharding is not None
    cps = k.shard_cps(batch.changes[0][0][0])
    nbytes = k.sharding.index_nbytes(cps)
    for _ in range(ATTEMPTS):
        reader: RangeReader | None = access.open_reader(key)
        if reader is None:
            return False
        try:  # one open version of the shard for its index and its inner chunks
            size = reader.size
            if size < nbytes:
                return False
            index = _index(k, key, cps, reader.read(size - nbytes, nbytes), size)
            wanted = _wanted(k, key, index, batch.changes)
            old = {flat: _check_blob(flat, n, reader.read(o, n), key) for flat, (o, n) in wanted}
        finally:
            reader.close()
        tail = _tail(k, key, batch.changes, cps, index, size, old)
        if tail is None:
            return False

        def store_it(data: bytes = tail, expected: int = size) -> None:
            if not access.append(key, data, expected):
                raise _Moved

        try:
            commit(batch, store_it)
        except _Moved:
            continue
        return True
    return False


async def append_async(
    k: ChunkKernels,
    store: Store,
    key: str,
    batch: Batch,
    commit: Callable[[Batch, Callable[[], Awaitable[bool]]], Awaitable[bool]],
) -> bool:
    """:func:`append_blocking` through the store's coroutines."""
    assert k.sharding is not None
    sem = store_limiter(store)
    cps = k.shard_cps(batch.changes[0][0][0])
    nbytes = k.sharding.index_nbytes(cps)
    for _ in range(ATTEMPTS):
        async with sem:
            found = await store.get_suffix_with_size(key, nbytes)
        if found is None or found[1] is None or found[1] < nbytes:
            return False  # missing, or a store that does not say the size the append is conditional on
        raw, size = found[0], found[1]
        index = _index(k, key, cps, raw, size)
        wanted = _wanted(k, key, index, batch.changes)
        old: dict[int, Any] = {}
        if wanted:
            async with sem:
                blobs = await store.get_ranges(key, [entry for _, entry in wanted])
            if blobs is None:
                return False
            old = {flat: _check_blob(flat, n, blob, key) for (flat, (_, n)), blob in zip(wanted, blobs, strict=True)}
        tail = await run_in_pool(_tail, k, key, batch.changes, cps, index, size, old)
        if tail is None:
            return False

        async def store_it(data: bytes = tail, expected: int = size) -> bool:
            async with sem:
                return await store.append(key, data, expected)

        if await commit(batch, store_it):
            return True
    return False
