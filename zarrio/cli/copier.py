"""Moving an array's data: concurrent, in bounded memory, reporting progress.

A re-encoded copy walks blocks of whole destination write units (shards, or
chunks when unsharded; see :mod:`.blocks`): each block is read from the source
as one region and written whole, so no destination chunk is ever read back and
rewritten. ``jobs`` blocks are in flight at once, fewer when blocks are large:
about ``memory_budget`` bytes of decoded data are held at a time (a block is
never smaller than one unit, and a unit larger than the budget runs alone).

Chunks of varying sizes (a rectilinear grid, at the source or the destination) are copied
in blocks cut at the destination units' edges (:func:`.blocks.plan_cuts`), aligned with the
source's edges where memory allows.

A verbatim copy moves the stored chunk objects byte for byte, ``jobs`` at a time.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import math
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _paths
from ..array import AsyncArray
from ..errors import ZarrioError
from .blocks import cut_regions, plan_block, plan_cuts
from .copy_plan import ArrayCopy
from .progress import Progress
from .stats import grid_chunk_keys, listed_chunk_keys

__all__ = ["CopyJob", "chunk_count", "plan_jobs", "run_jobs", "unit_regions"]

Region = tuple[slice, ...]

#: a re-encoding copy reads and writes blocks of about this many bytes (less when memory is tight)
BLOCK_BYTES = 16 << 20
#: ... and, beyond alignment with the source chunks, of at most this many destination chunks
BLOCK_CHUNKS = 4096


def unit_regions(shape: tuple[int, ...], unit: tuple[int, ...]) -> Iterator[Region]:
    """The regions of a regular grid of ``unit``-shaped cells over ``shape``, clipped to it, in C order."""
    ranges = [range(0, extent, step) for extent, step in zip(shape, unit, strict=True)]
    for starts in itertools.product(*ranges):
        yield tuple(slice(s, min(s + u, e)) for s, u, e in zip(starts, unit, shape, strict=True))


def chunk_count(extents: tuple[int, ...], chunks: tuple[int, ...]) -> int:
    """How many ``chunks``-shaped chunks cover a region of ``extents``."""
    return math.prod(-(-e // c) for e, c in zip(extents, chunks, strict=True))


def _region_extents(region: Region) -> tuple[int, ...]:
    return tuple(s.stop - s.start for s in region)


async def _run_workers(count: int, worker: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run ``count`` workers; on a failure cancel the rest and raise that one error (no ExceptionGroup)."""
    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(count):
                group.create_task(worker())
    except BaseExceptionGroup as failures:
        errors = [e for e in _flatten(failures) if not isinstance(e, asyncio.CancelledError)]
        first = next((e for e in errors if isinstance(e, ZarrioError)), errors[0] if errors else failures)
        raise first from None


def _flatten(group: BaseExceptionGroup[Any]) -> list[BaseException]:
    out: list[BaseException] = []
    for e in group.exceptions:
        out.extend(_flatten(e) if isinstance(e, BaseExceptionGroup) else [e])
    return out


def _parallelism(bytes_per_job: int, jobs: int, memory_budget: int) -> int:
    return max(1, min(jobs, memory_budget // max(bytes_per_job, 1)))


@dataclass(frozen=True)
class CopyJob:
    """One array's work: the stored ``keys`` to move (verbatim) or ``None`` (re-encode), and its size."""

    copy: ArrayCopy
    keys: list[str] | None
    chunks: int
    nbytes: int | None


def _regular(array: AsyncArray) -> bool:
    return array.metadata.is_regular


def _read_chunks_in(array: AsyncArray, region: Region) -> int:
    """How many of ``array``'s read chunks (inner chunks when sharded) ``region`` overlaps."""
    if _regular(array):
        return chunk_count(_region_extents(region), array.chunks)
    count = 1
    for sizes, span in zip(array.read_chunk_sizes, region, strict=True):
        bounds = [0, *itertools.accumulate(sizes)]
        count *= bisect.bisect_left(bounds, span.stop) - bisect.bisect_right(bounds, span.start) + 1
    return count


def _largest_read_chunk(array: AsyncArray) -> tuple[int, ...]:
    return tuple(max(sizes, default=0) for sizes in array.read_chunk_sizes)


def _blocks(source: AsyncArray, destination: AsyncArray, target: int) -> tuple[Iterator[Region], tuple[int, ...]]:
    """The regions a re-encoding copy moves at once, and the largest one's extents."""
    itemsize = max(source.dtype.itemsize, 1)
    if _regular(source) and _regular(destination):
        unit = tuple(destination.metadata.chunk_shape)
        block = plan_block(
            source.shape, unit, source.chunks, itemsize, target, chunks=destination.chunks, max_chunks=BLOCK_CHUNKS
        )
        return unit_regions(source.shape, block), tuple(min(b, s) for b, s in zip(block, source.shape, strict=True))
    cuts = plan_cuts(
        destination.write_chunk_sizes,
        source.read_chunk_sizes,
        itemsize,
        target,
        chunk_sizes=destination.read_chunk_sizes,
        max_chunks=BLOCK_CHUNKS,
    )
    largest = tuple(max((b - a for a, b in itertools.pairwise(axis)), default=0) for axis in cuts)
    return cut_regions(cuts), largest


async def _reencode(job: CopyJob, progress: Progress, jobs: int, memory_budget: int) -> None:
    source, destination = job.copy.source, job.copy.destination
    itemsize = max(source.dtype.itemsize, 1)
    meta = destination.metadata
    unit = meta.chunk_shape if meta.is_regular else tuple(max(s, default=1) for s in destination.write_chunk_sizes)
    target = max(math.prod(unit) * itemsize, min(memory_budget // jobs, BLOCK_BYTES))
    regions, block = _blocks(source, destination, target)
    block_bytes = math.prod(block) * itemsize
    # a block in flight holds its data, and at least one decoded source chunk on its way into it
    source_chunk_bytes = math.prod(_largest_read_chunk(source)) * itemsize

    async def worker() -> None:
        for region in regions:  # one shared iterator: each region is taken by exactly one worker
            selection: Any = region if region else ...  # a rank-0 array's only region is ()
            data = await source.getitem(selection)
            await destination.setitem(selection, data)
            progress.advance(int(np.asarray(data).nbytes), _read_chunks_in(destination, region))

    await _run_workers(_parallelism(block_bytes + source_chunk_bytes, jobs, memory_budget), worker)


async def _stored_keys(source: AsyncArray) -> list[str]:
    """The source's chunk objects: listed, or every key of the grid when the store cannot list."""
    return await listed_chunk_keys(source.store, source) if source.store.listable else grid_chunk_keys(source)


def _read_chunk_total(array: AsyncArray) -> int:
    if _regular(array):
        return chunk_count(array.shape, array.chunks)
    return math.prod(len(sizes) for sizes in array.read_chunk_sizes)


def _chunks_per_object(source: AsyncArray) -> int:
    """Read chunks per stored object (for shards of varying sizes, the mean)."""
    if _regular(source):
        return chunk_count(tuple(source.metadata.chunk_shape), source.chunks)
    return max(1, round(_read_chunk_total(source) / max(source.metadata.nchunks, 1)))


async def _verbatim(job: CopyJob, progress: Progress, jobs: int) -> None:
    source, destination = job.copy.source, job.copy.destination
    source_prefix = _paths.prefix_of(source.path)
    destination_prefix = _paths.prefix_of(destination.path)
    keys = iter(job.keys or [])
    per_object = _chunks_per_object(source)

    async def worker() -> None:
        for key in keys:
            value = await source.store.get(key)
            if value is not None:
                await destination.store.set(destination_prefix + key[len(source_prefix) :], value)
            progress.advance(len(value) if value is not None else 0, per_object)

    await _run_workers(jobs, worker)


async def plan_jobs(copies: list[ArrayCopy]) -> list[CopyJob]:
    """Size every array's work up front, so progress knows its totals."""
    jobs: list[CopyJob] = []
    for copy in copies:
        if copy.verbatim:
            keys = await _stored_keys(copy.source)
            jobs.append(CopyJob(copy, keys, len(keys) * _chunks_per_object(copy.source), None))
        else:
            count = _read_chunk_total(copy.destination)
            jobs.append(CopyJob(copy, None, count, copy.source.nbytes))
    return jobs


async def run_jobs(jobs: list[CopyJob], progress: Progress, *, concurrency: int, memory_budget: int) -> None:
    """Fill every destination array from its source, one array after another."""
    for job in jobs:
        if job.keys is not None:
            await _verbatim(job, progress, concurrency)
        else:
            await _reencode(job, progress, concurrency, memory_budget)
