"""Choosing the regions a re-encoding copy reads and writes at once.

A block is a whole number of destination write units (shards, or chunks when
unsharded) along every axis, so every destination chunk is written whole and
never read back. Where memory allows, a block also spans whole source chunks
(the least common multiple of both grids), so each source chunk is decoded
once instead of once per destination unit it overlaps. Blocks then grow,
trailing axes first, until they hold about ``target_bytes`` or ``max_chunks``
destination chunks: fewer, larger requests, each still small enough for the
progress line to move steadily.

Chunks of varying sizes (a rectilinear grid, at either end) have no block shape:
:func:`plan_cuts` chooses, per axis, where blocks start and stop, among the
destination units' boundaries, by the same rules (aligned with the source
chunks' boundaries where affordable, then merged pairwise up to the limits).
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterator, Sequence

__all__ = ["cut_regions", "plan_block", "plan_cuts"]


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


def _bounds(sizes: Sequence[int]) -> list[int]:
    """``(3, 4, 2)`` -> ``[0, 3, 7, 9]``: where the chunks of one axis start, and the extent."""
    return [0, *itertools.accumulate(sizes)]


def _largest(cuts: Sequence[Sequence[int]]) -> list[int]:
    return [max((b - a for a, b in itertools.pairwise(axis)), default=0) for axis in cuts]


def _most_chunks(cuts: Sequence[Sequence[int]], inner: Sequence[Sequence[int]]) -> int:
    """The most destination chunks (boundaries ``inner``) one block of ``cuts`` holds."""
    count = 1
    for axis, bounds in zip(cuts, inner, strict=True):
        per = (bisect.bisect_left(bounds, b) - bisect.bisect_right(bounds, a) + 1 for a, b in itertools.pairwise(axis))
        count *= max(per, default=0)
    return count


def _halved(cuts: list[int]) -> list[int]:
    """Every other cut (the last one kept): consecutive blocks merged pairwise."""
    merged = cuts[::2]
    return merged if merged[-1] == cuts[-1] else [*merged, cuts[-1]]


def plan_cuts(
    unit_sizes: Sequence[Sequence[int]],
    source_sizes: Sequence[Sequence[int]],
    itemsize: int,
    target_bytes: int,
    *,
    chunk_sizes: Sequence[Sequence[int]] | None = None,
    max_chunks: int | None = None,
) -> tuple[tuple[int, ...], ...]:
    """Per axis, the boundaries of the copy blocks (first 0, last the extent), for grids given as
    in-bounds sizes per axis (dask's ``chunks`` form): ``unit_sizes`` the destination's write units,
    ``source_sizes`` the source's read chunks, ``chunk_sizes`` the destination chunks ``max_chunks``
    counts. Every cut is a unit boundary, so blocks are whole units, never smaller than one."""
    units = [_bounds(sizes) for sizes in unit_sizes]
    inner = [_bounds(sizes) for sizes in (chunk_sizes if chunk_sizes is not None else unit_sizes)]
    itemsize = max(itemsize, 1)
    cuts = [list(axis) for axis in units]

    def fits(trial: list[list[int]]) -> bool:
        return math.prod(_largest(trial)) * itemsize <= target_bytes

    for axis in reversed(range(len(cuts))):  # align with the source's boundaries where affordable
        source = set(_bounds(source_sizes[axis]))
        trial = [*cuts[:axis], [c for c in units[axis] if c in source], *cuts[axis + 1 :]]
        if fits(trial):
            cuts = trial
    for axis in reversed(range(len(cuts))):  # then merge blocks pairwise
        while len(cuts[axis]) > 2:
            trial = [*cuts[:axis], _halved(cuts[axis]), *cuts[axis + 1 :]]
            if not fits(trial) or (max_chunks is not None and _most_chunks(trial, inner) > max_chunks):
                break
            cuts = trial
    return tuple(tuple(axis) for axis in cuts)


def cut_regions(cuts: Sequence[Sequence[int]]) -> Iterator[tuple[slice, ...]]:
    """The blocks between consecutive cuts of every axis, in C order."""
    for spans in itertools.product(*(itertools.pairwise(axis) for axis in cuts)):
        yield tuple(slice(a, b) for a, b in spans)
