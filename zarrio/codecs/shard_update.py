"""Updating a few inner chunks of a stored shard without rewriting it: the appended form.

A shard whose index is at the end (``index_location="end"``, the default) can be
updated by *appending*: the newly encoded inner chunks go after the stored bytes,
followed by a new index that points at them (and, for every inner chunk left
alone, at its old bytes, untouched). The old index and the replaced inner chunks
stay in the value as **garbage**: bytes no index entry points at. Every Zarr
reader reads such a shard (the index says where each inner chunk is; nothing
requires the entries to cover the value), and a later full rewrite reclaims the
garbage (:func:`compact_shard`, the ``zarrio compact`` command).

Pure and synchronous, like every codec: the engine reads the index and the old
bytes of the inner chunks a write covers only partly, calls :func:`appended_tail`,
and hands the result to a store that can append (:meth:`zarrio.stores.Store.append`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .base import Buffer
from .sharding import MISSING, ShardingCodec

__all__ = ["GARBAGE_LIMIT", "appended_tail", "compact_shard", "garbage_nbytes", "live_nbytes"]

#: an update whose shard would then hold more garbage than this fraction of its live bytes is a
#: full (compact) rewrite instead of an append: the space a shard takes stays under twice its size
GARBAGE_LIMIT = 1.0


def live_nbytes(codec: ShardingCodec, index: np.ndarray[Any, Any], chunks_per_shard: Sequence[int]) -> int:
    """The bytes of a shard the index points at, plus the index itself: the compact size."""
    pairs = index.reshape(-1, 2)
    present = pairs[:, 0] != MISSING
    return int(pairs[present, 1].sum()) + codec.index_nbytes(chunks_per_shard)


def garbage_nbytes(
    codec: ShardingCodec, index: np.ndarray[Any, Any], chunks_per_shard: Sequence[int], shard_nbytes: int
) -> int:
    """The bytes of a stored shard of ``shard_nbytes`` that no index entry points at."""
    return shard_nbytes - live_nbytes(codec, index, chunks_per_shard)


def appended_tail(
    codec: ShardingCodec,
    chunks_per_shard: Sequence[int],
    index: np.ndarray[Any, Any],
    shard_nbytes: int,
    parts: Mapping[int, Buffer | None],
) -> bytes | None:
    """What to append to a stored shard of ``shard_nbytes`` (its decoded ``index``) so that the
    inner chunks ``parts`` (flat C-order index -> new encoded bytes, None: now missing) replace
    theirs: the new inner chunks, then the new index. None when an append is the wrong tool:
    every inner chunk would be missing (the shard is erased instead), or the shard would hold
    more garbage than :data:`GARBAGE_LIMIT` allows (rewrite it compactly instead)."""
    if codec.index_location != "end":
        raise ValueError("only a shard with its index at the end can be appended to")
    cps = tuple(chunks_per_shard)
    new_index = np.array(index, dtype=np.uint64, copy=True).reshape(-1, 2)
    position = shard_nbytes
    pieces: list[Buffer] = []
    for flat in sorted(parts):
        part = parts[flat]
        if part is None:
            new_index[flat] = (MISSING, MISSING)
            continue
        size = memoryview(part).nbytes
        new_index[flat] = (position, size)
        position += size
        pieces.append(part)
    if bool((new_index[:, 0] == MISSING).all()):
        return None
    index_nbytes = codec.index_nbytes(cps)
    total = position + index_nbytes
    live = live_nbytes(codec, new_index, cps)
    if total - live > GARBAGE_LIMIT * live:
        return None
    index_bytes = codec._index_chain(cps).encode(new_index.reshape(*cps, 2))
    return b"".join([*pieces, index_bytes])


def compact_shard(codec: ShardingCodec, data: Buffer, chunks_per_shard: Sequence[int]) -> bytes | None:
    """``data`` with its garbage dropped: the inner chunks' encoded bytes as they are, in C order,
    and a new index (None when every inner chunk is missing). Nothing is decoded."""
    return codec.encode_shard(codec.split_shard(data, chunks_per_shard), chunks_per_shard)
