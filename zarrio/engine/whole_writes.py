"""A write of many whole inner chunks of a shard, taken and encoded a batch at a time (issue 18).

A shard write built each inner chunk on its own: a projection made, the chunk sliced out of the
caller's value, checked for fill values and encoded through the chain, some 10 µs of Python per
chunk of a few µs of compression. The whole inner chunks of a block
(:meth:`~zarrio.indexing.blocks.BlockMembers.whole_chunks`) are instead copied out of the value
with one assignment through a blocked view of it, and encoded one after the other by the
compressor (:meth:`~zarrio.codecs.BytesBytesCodec.encode_many`) when the chain is only ``bytes``
in the native order and that compressor; through the chain chunk by chunk otherwise. The
members left (edges, partly covered, at another offset) take the per-chunk path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..codecs import ChunkSpec, CodecChain
from ..indexing import ChunkProjection
from ..indexing.blocks import BlockMembers
from .placement import blocked_view, direct_codec

__all__ = ["encode_whole_chunks"]


def encode_whole_chunks(
    members: BlockMembers,
    value: np.ndarray[Any, Any],
    parts: list[Any],
    chain: CodecChain,
    spec: ChunkSpec,
    stores_nothing: Callable[[np.ndarray[Any, Any]], list[bool]],
) -> Sequence[tuple[int, ChunkProjection]]:
    """Encode into ``parts`` (by flat index; None: nothing stored) the members of a block that
    ``value`` covers whole, and return the members left to encode one by one."""
    if value.dtype != spec.dtype or value.dtype.hasobject or chain.array_array:
        return members
    whole = members.whole_chunks(spec.shape)
    if whole is None:
        return members
    picked, starts = whole
    size = np.array(spec.shape, dtype=np.intp)
    offsets = starts % size
    same = (offsets == offsets[0]).all(axis=1)  # at one offset: one blocked view holds them all
    picked, starts = picked[same], starts[same]
    chunks = np.ascontiguousarray(blocked_view(value, offsets[0], spec.shape)[tuple(((starts - offsets[0]) // size).T)])
    flats = np.array(members.flats(), dtype=np.intp)[picked].tolist()
    kept = [i for i, empty in enumerate(stores_nothing(chunks)) if not empty]
    direct = direct_codec(chain, spec)
    rows = [chunks[i] for i in kept]
    if direct is None:
        encoded = [row.tobytes() for row in rows]
    elif direct is False:
        encoded = [chain.encode(row, spec) for row in rows]
    else:
        encoded = direct.encode_many(rows)
    for flat in flats:
        parts[flat] = None
    for i, frame in zip(kept, encoded, strict=True):
        parts[flats[i]] = frame
    left = np.ones(len(members), dtype=bool)
    left[picked] = False
    return [members.member(i) for i in np.flatnonzero(left).tolist()]
