"""Choosing the regions a re-encoding copy reads and writes at once.

A block is a whole number of destination write units (shards, or chunks when
unsharded) along every axis, so every destination chunk is written whole and
never read back. Where memory allows, a block also spans whole source chunks
(the least common multiple of both grids), so each source chunk is decoded
once instead of once per destination unit it overlaps. Blocks then grow,
trailing axes first, until they hold about ``target_bytes`` or ``max_chunks``
destination chunks: fewer, larger requests, each still small enough for the
progress line to move steadily.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["plan_block"]


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def _block_bytes(block: Sequence[int], shape: Sequence[int], itemsize: int) -> int:
    return math.prod(min(b, s) for b, s in zip(block, shape, strict=True)) * itemsize


def _chunks_in(block: Sequence[int], shape: Sequence[int], chunks: Sequence[int]) -> int:
    return math.prod(-(-min(b, s) // c) for b, s, c in zip(block, shape, chunks, strict=True))


def plan_block(
    shape: Sequence[int],
    unit: Sequence[int],
    source_chunks: Sequence[int],
    itemsize: int,
    target_bytes: int,
    *,
    chunks: Sequence[int] | None = None,
    max_chunks: int | None = None,
) -> tuple[int, ...]:
    """The block shape for copying an array of ``shape``; never smaller than ``unit``.

    ``chunks`` is the destination's chunk shape (inner chunks when sharded) that
    ``max_chunks`` counts; growing a block beyond source alignment stops at either limit.
    """
    inner = tuple(chunks) if chunks is not None else tuple(unit)
    itemsize = max(itemsize, 1)
    block = list(unit)
    limits = [max(_round_up(s, u), u) for s, u in zip(shape, unit, strict=True)]
    for axis in reversed(range(len(block))):  # align with the source grid where affordable
        aligned = min(math.lcm(unit[axis], source_chunks[axis]), limits[axis])
        trial = [*block[:axis], aligned, *block[axis + 1 :]]
        if aligned % unit[axis] == 0 and _block_bytes(trial, shape, itemsize) <= target_bytes:
            block = trial
    for axis in reversed(range(len(block))):  # then grow by whole blocks
        while block[axis] < limits[axis]:
            trial = [*block[:axis], min(block[axis] * 2, limits[axis]), *block[axis + 1 :]]
            if trial[axis] % unit[axis] or _block_bytes(trial, shape, itemsize) > target_bytes:
                break
            if max_chunks is not None and _chunks_in(trial, shape, inner) > max_chunks:
                break
            block = trial
    return tuple(block)
