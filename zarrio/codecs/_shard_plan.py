"""The read plan of ``sharding_indexed`` (see :mod:`zarrio.codecs.plan`), nested sharding included.

A read of some inner chunks of one shard asks for the index, then the wanted inner
chunks' byte ranges in one read. When the inner chunks are shards themselves (their
chain is a sharding codec alone) and the selection wants only some of an inner
shard's inner chunks, that inner shard is read through its own plan instead, run
:func:`~zarrio.codecs.plan.within` the outer shard and :func:`~zarrio.codecs.plan.gather`-ed
with the others: one read of the inner indexes, then one read of everything's data.
What such a plan returns for the inner shard is its encoded bytes re-assembled from
the inner chunks it fetched (the others missing), which the inner chain decodes as
any shard; only the fetched inner chunks are wanted, so the fill value standing for
the others is never placed.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ..errors import CorruptChunkError, ObjectChangedError
from ._shard_index import MISSING, Parts, ShardIndex
from .base import Buffer
from .plan import Plan, Read, gather, within

__all__ = ["Nested", "PartialShard", "Pick", "nested_wants", "shard_plan"]


class PartialShard(bytes):
    """An inner shard re-assembled from the inner chunks a read fetched (the others missing):
    it decodes as any shard, but is not the stored inner chunk, so what it decodes to holds the
    fill value where the read did not look, and must not be kept as that chunk (decoded-chunk cache)."""


class Pick(Protocol):
    """What a read wants of one inner chunk (a projection): per dimension an int, a slice or an
    int array (arrays taken per dimension, so points may over-select), or all of it."""

    @property
    def chunk_selection(self) -> tuple[Any, ...]: ...

    @property
    def is_complete(self) -> bool:
        """Whether every element of the inner chunk inside the array is wanted."""


@dataclass(frozen=True, slots=True)
class Nested:
    """The inner shards a read wants only part of: their codec, its inner-chunk counts, and per
    wanted inner shard (flat index) the sorted flat indexes of its inner chunks wanted."""

    codec: ShardIndex
    cps: tuple[int, ...]
    wants: Mapping[int, list[int]]


def touched(selection: Sequence[Any], chunk_shape: Sequence[int], block_shape: Sequence[int]) -> set[int]:
    """The flat (C order) indexes of the ``block_shape`` blocks of a ``chunk_shape`` chunk that
    ``selection`` touches."""
    counts = [n // b for n, b in zip(chunk_shape, block_shape, strict=True)]
    axes = [
        np.unique(np.asarray(np.arange(n)[sel]).ravel() // b)
        for sel, n, b in zip(selection, chunk_shape, block_shape, strict=True)
    ]
    if not axes:
        return {0}
    strides = [math.prod(counts[i + 1 :]) for i in range(len(counts))]
    flat = sum(grid * stride for grid, stride in zip(np.ix_(*axes), strides, strict=True))
    return {int(value) for value in np.ravel(flat)}


def nested_wants(
    codec: ShardIndex, inner_shape: tuple[int, ...], block_shape: tuple[int, ...], picks: Sequence[tuple[int, Pick]]
) -> Nested:
    """``Nested`` for inner shards of ``inner_shape`` (blocks of ``block_shape``, under ``codec``)
    picked by ``picks`` (flat index, pick); inner shards wanted whole are left out."""
    cps = tuple(n // b for n, b in zip(inner_shape, block_shape, strict=True))
    wants: dict[int, set[int]] = {}
    total = math.prod(cps)
    for flat, pick in picks:
        blocks = set(range(total)) if pick.is_complete else touched(pick.chunk_selection, inner_shape, block_shape)
        wants.setdefault(flat, set()).update(blocks)
    return Nested(codec, cps, {flat: sorted(blocks) for flat, blocks in wants.items() if len(blocks) < total})


def _runs(flat: Sequence[int]) -> int:
    """How many runs of adjacent numbers ``flat`` (sorted) holds: about the requests its ranges need."""
    if len(flat) < 2:
        return len(flat)
    return 1 + sum(1 for before, after in itertools.pairwise(flat) if after != before + 1)


def _ranges_plan(ranges: tuple[tuple[int, int], ...]) -> Plan[list[Buffer] | None]:
    """The plan of reading ``ranges`` of the shard (the inner chunks read whole, beside nested ones)."""
    blobs: list[Buffer] | None = yield Read.of_ranges(ranges)
    return blobs


def shard_plan(
    codec: ShardIndex,
    cps: tuple[int, ...],
    wanted: Sequence[int],
    *,
    limit: int,
    check_part: Callable[[int], None],
    recheck: bool,
    size: int | None = None,
    nested: Nested | None = None,
) -> Plan[Parts | None]:
    """The plan of :meth:`~zarrio.codecs.ShardingCodec.read_plan`, for a shard of ``size`` bytes when known."""
    deep_wants: Mapping[int, list[int]] = nested.wants if nested is not None else {}
    if len(wanted) == math.prod(cps) and not deep_wants:
        shard = yield Read.whole(limit, fetch_bounded=False)  # one plain read of the shard
        return None if shard is None else dict(enumerate(codec.split_shard(shard, cps)))
    index_read = codec.index_read(cps, size=size, followed_by=_runs(wanted))
    found = yield index_read
    if found is None:
        return None
    raw, size = (found[0], found[1]) if index_read.kind == "suffix" else (found, size)
    index = codec.decode_index(raw, cps, shard_nbytes=size).reshape(-1, 2)
    parts: Parts = dict.fromkeys(wanted)
    present = [flat for flat in wanted if index[flat, 0] != MISSING]
    if not present:
        return parts
    entries = {flat: (int(index[flat, 0]), int(index[flat, 1])) for flat in present}
    for _, length in entries.values():
        check_part(length)
    direct = [flat for flat in present if flat not in deep_wants]
    if nested is None or len(direct) == len(present):
        blobs = yield Read.of_ranges(tuple(entries[flat] for flat in direct))
        if blobs is None:
            return None  # the shard went away after its index was read
        _take(codec, parts, zip(direct, blobs, strict=True), entries)
    else:
        deep = [flat for flat in present if flat in deep_wants]
        inner = nested.codec
        plans: list[Plan[Any]] = [_ranges_plan(tuple(entries[flat] for flat in direct))] if direct else []
        for flat in deep:
            offset, length = entries[flat]
            inner_plan = shard_plan(
                inner, nested.cps, deep_wants[flat], limit=limit, check_part=check_part, recheck=recheck, size=length
            )
            plans.append(within(inner_plan, offset, length))
        results = yield from gather(plans)
        if results is None or any(result is None for result in results):
            return None  # the shard went away after its index was read
        if direct:
            _take(codec, parts, zip(direct, results.pop(0), strict=True), entries)
        for flat, inner_parts in zip(deep, results, strict=True):
            pieces = [inner_parts.get(number) for number in range(math.prod(nested.cps))]
            parts[flat] = PartialShard(inner.encode_shard(pieces, nested.cps) or inner.encode_empty(nested.cps))
    if recheck:
        again = yield Read(index_read.kind, index_read.offset, index_read.length)  # fresh, never cached
        raw_again = None if again is None else (again[0] if index_read.kind == "suffix" else again)
        if raw_again is None or bytes(raw_again) != bytes(raw):
            raise ObjectChangedError("the shard changed while it was being read")
    return parts


def _take(
    codec: ShardIndex, parts: Parts, blobs: Iterable[tuple[int, Buffer]], entries: Mapping[int, tuple[int, int]]
) -> None:
    """Put the fetched inner chunks into ``parts``, each checked to be as long as its index entry says."""
    for flat, blob in blobs:
        blob_nbytes = memoryview(blob).nbytes
        length = entries[flat][1]
        if blob_nbytes != length:
            raise CorruptChunkError(
                f"inner chunk {flat} of the shard: expected {length} bytes, got {blob_nbytes}", codec=codec.name
            )
        parts[flat] = blob
