"""The library workloads (L1-L4 local, H1-H2 over HTTP; T, P and G of issue 18 in tiny.py and
hierarchies.py), each a function of a RunContext.

Each workload opens what it needs, times one step as its primary phase (memory is measured around
it), then verifies every value it read against the generator (untimed). Writes are verified by
reading the result back with tensorstore, which doubles as an interoperability check.
"""

from __future__ import annotations

import asyncio
import math
import os
import shutil
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .adapters import Location, Region
from .config import Layout, point_sizes
from .hierarchies import hierarchy_scaling
from .measure import RunContext
from .shard_updates import shard_updates
from .sliding import sliding_windows
from .synthetic import (
    fill_volume,
    image_block,
    plane_values,
    random_aligned_regions,
    random_points,
    verify,
    verify_whole,
    volume_block,
)
from .tiny import busy_machine, durable_writes, threaded_reads, tiny_reads, tiny_writes
from .writers import shared_chunk_writers

REGION_SEED = 20260505
TILE_SEED = 4242
POINT_SEED = 1616
WHOLE_SHARD_WINDOW = "window"
#: the libraries the issue 18 rows compare (zarr-python's other pipelines are left out to keep the run short)
ISSUE18_LIBRARIES = ("zarrio", "zarr-python", "tensorstore")
#: zarr-python runs the issue 18 workloads once: 4-10x tensorstore's time there (20 s for 40,000 tiny
#: chunks read, 42 s written), it is never the reference of their goals, and two more repeats of it
#: would add about 5 minutes to a full run
ISSUE18_ONCE = ("zarr-python",)


@dataclass(frozen=True)
class Workload:
    name: str
    group: str
    title: str
    run: Callable[[RunContext], None]
    http: bool = False
    #: the libraries it runs on (None: every library selected)
    libraries: tuple[str, ...] | None = None
    #: libraries that run it once, whatever the repeats (a slow peer that is never the reference)
    once: tuple[str, ...] = ()


def _whole(shape: tuple[int, ...]) -> Region:
    return tuple(slice(0, n) for n in shape)


def _nbytes(shape: tuple[int, ...], dtype: str) -> int:
    return math.prod(shape) * np.dtype(dtype).itemsize


def _run_async(ctx: RunContext, body: Callable[[], Coroutine[Any, Any, None]]) -> None:
    async def wrapped() -> None:
        try:
            await body()
        finally:
            await ctx.lib.aclose()

    asyncio.run(wrapped())


def _stored_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _verify_written(path: Path) -> None:
    import tensorstore as ts

    array = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": str(path)}}, read=True).result()
    verify_whole(np.asarray(array.read().result()), volume_block, 64)


def _write(ctx: RunContext, layout: Layout) -> None:
    sizes = ctx.sizes
    target = ctx.paths.scratch / f"{ctx.library}-{layout.name}.zarr"
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = fill_volume(sizes.volume_shape)
    try:
        handle = ctx.lib.create(target, sizes.volume_shape, sizes.volume_dtype, layout)
        os.sync()  # no dirty data of earlier runs left for the kernel to write back during this one
        with ctx.timed("write", payload_bytes=data.nbytes, primary=True):
            ctx.lib.write(handle, data)
        del handle, data
        ctx.notes["stored_bytes"] = _stored_bytes(target)
        _verify_written(target)
    finally:
        shutil.rmtree(target, ignore_errors=True)


def _volume(ctx: RunContext, sharded: bool, v2: bool = False) -> tuple[Location, Layout]:
    if v2:
        return Location.local(ctx.paths.volume_plain_v2, zarr_format=2), ctx.sizes.volume_plain
    if sharded:
        return Location.local(ctx.paths.volume_sharded), ctx.sizes.volume_sharded
    return Location.local(ctx.paths.volume_plain), ctx.sizes.volume_plain


def _read_whole(ctx: RunContext, sharded: bool, v2: bool = False) -> None:
    where, _ = _volume(ctx, sharded, v2)
    shape = ctx.sizes.volume_shape
    with ctx.timed("open"):
        handle = ctx.lib.open(where)
    with ctx.timed("read", payload_bytes=_nbytes(shape, ctx.sizes.volume_dtype), primary=True):
        out = ctx.lib.read(handle, _whole(shape))
    verify_whole(out, volume_block, 32)


def _regions(ctx: RunContext) -> list[Region]:
    sizes = ctx.sizes
    return random_aligned_regions(sizes.volume_shape, sizes.region_edge, sizes.region_count, REGION_SEED)


def _region_bytes(ctx: RunContext, regions: list[Region]) -> int:
    return len(regions) * ctx.sizes.region_edge**3 * np.dtype(ctx.sizes.volume_dtype).itemsize


def _regions_sync(ctx: RunContext, sharded: bool) -> None:
    where, _ = _volume(ctx, sharded)
    regions = _regions(ctx)
    with ctx.timed("open"):
        handle = ctx.lib.open(where)
    read = ctx.lib.read
    with ctx.timed("read", payload_bytes=_region_bytes(ctx, regions), calls=len(regions), primary=True):
        outs = [read(handle, region) for region in regions]
    for out, region in zip(outs, regions, strict=True):
        verify(out, region, volume_block)


def _regions_async(ctx: RunContext, sharded: bool, concurrent: bool) -> None:
    where, _ = _volume(ctx, sharded)
    regions = _regions(ctx)
    adapter = ctx.lib

    async def body() -> None:
        with ctx.timed("open"):
            handle = await adapter.aopen(where)
        with ctx.timed("read", payload_bytes=_region_bytes(ctx, regions), calls=len(regions), primary=True):
            if concurrent:
                outs = await asyncio.gather(*(adapter.aread(handle, region) for region in regions))
            else:
                outs = [await adapter.aread(handle, region) for region in regions]
        for out, region in zip(outs, regions, strict=True):
            verify(out, region, volume_block)

    _run_async(ctx, body)


FACADE_CALLS = 2000


def _facade(ctx: RunContext) -> None:
    ctx.lib.facade_roundtrip(10)  # start the background loop outside the timed step
    with ctx.timed("roundtrip", calls=FACADE_CALLS, primary=True):
        ctx.lib.facade_roundtrip(FACADE_CALLS)


def _points(ctx: RunContext) -> None:
    """V1: random points (coordinate selection, ``vindex``) of the sharded 2-D plane, one call."""
    sizes = point_sizes(ctx.sizes)
    coords = random_points(sizes.shape, sizes.count, POINT_SEED)
    with ctx.timed("open"):
        handle = ctx.lib.open(Location.local(ctx.paths.points_sharded))
    payload = sizes.count * np.dtype(sizes.dtype).itemsize
    with ctx.timed("read", payload_bytes=payload, calls=1, primary=True):
        out = ctx.lib.points(handle, coords)
    expected = plane_values(*coords)
    if out.shape != expected.shape or not np.array_equal(out, expected):
        wrong = int(np.count_nonzero(out != expected)) if out.shape == expected.shape else out.size
        raise AssertionError(f"{wrong} of {sizes.count} points differ from the generator")


def _image_url(ctx: RunContext, sharded: bool, v2: bool = False) -> Location:
    if ctx.server_url is None:
        raise RuntimeError("an HTTP workload needs the benchmark server")
    if v2:
        return Location.http(f"{ctx.server_url}/{ctx.paths.image_plain_v2.name}", zarr_format=2)
    name = ctx.paths.image_sharded.name if sharded else ctx.paths.image_plain.name
    return Location.http(f"{ctx.server_url}/{name}")


def _tiles(ctx: RunContext, sharded: bool, v2: bool = False) -> None:
    sizes = ctx.sizes
    where = _image_url(ctx, sharded, v2)
    tiles = random_aligned_regions(sizes.image_shape, sizes.tile_edge, sizes.tile_count, TILE_SEED)
    adapter = ctx.lib
    payload = len(tiles) * sizes.tile_edge**2 * np.dtype(sizes.image_dtype).itemsize

    async def body() -> None:
        with ctx.timed("open"):
            handle = await adapter.aopen(where)
        with ctx.timed("read", payload_bytes=payload, calls=len(tiles), primary=True):
            outs = await asyncio.gather(*(adapter.aread(handle, tile) for tile in tiles))
        for out, tile in zip(outs, tiles, strict=True):
            verify(out, tile, image_block)

    _run_async(ctx, body)


TAIL_TILES = 1000


def _tail_tiles(ctx: RunContext, slow: bool) -> None:
    """H3: random tiles of the unsharded image, concurrently; through the server's ``/__slow/``
    path 2% of the responses wait 2 s more. Each tile's own time is recorded (p50, p99)."""
    import time

    sizes = ctx.sizes
    if ctx.server_url is None:
        raise RuntimeError("an HTTP workload needs the benchmark server")
    from .httpserver import SLOW_PREFIX

    prefix = SLOW_PREFIX.strip("/") + "/" if slow else ""
    where = Location.http(f"{ctx.server_url}/{prefix}{ctx.paths.image_plain.name}")
    positions = (sizes.image_shape[0] // sizes.tile_edge) * (sizes.image_shape[1] // sizes.tile_edge)
    tiles = random_aligned_regions(sizes.image_shape, sizes.tile_edge, min(TAIL_TILES, positions // 2), TILE_SEED)
    adapter = ctx.lib
    payload = len(tiles) * sizes.tile_edge**2 * np.dtype(sizes.image_dtype).itemsize
    took: list[float] = []

    async def one(handle: Any, tile: Region) -> np.ndarray:
        started = time.perf_counter()
        out = await adapter.aread(handle, tile)
        took.append(time.perf_counter() - started)
        return out

    async def body() -> None:
        with ctx.timed("open"):
            handle = await adapter.aopen(where)
        with ctx.timed("read", payload_bytes=payload, calls=len(tiles), primary=True):
            outs = await asyncio.gather(*(one(handle, tile) for tile in tiles))
        for out, tile in zip(outs, tiles, strict=True):
            verify(out, tile, image_block)
        ordered = sorted(took)
        for name, q in (("tile_p50", 0.5), ("tile_p99", 0.99)):
            ctx.notes[name] = ordered[min(len(ordered) - 1, round(q * len(ordered)) - 1)]
        ctx.notes["tile_max"] = ordered[-1]
        ctx.notes.update(adapter.transport_stats())

    _run_async(ctx, body)


def _shard_window(ctx: RunContext) -> None:
    sizes = ctx.sizes
    shard = sizes.image_sharded.grid
    window = tuple(slice(0, n) for n in shard)
    adapter = ctx.lib

    async def body() -> None:
        with ctx.timed("open"):
            handle = await adapter.aopen(_image_url(ctx, sharded=True))
        with ctx.timed("read", payload_bytes=_nbytes(shard, sizes.image_dtype), primary=True):
            out = await adapter.aread(handle, window)
        verify(out, window, image_block)

    _run_async(ctx, body)


def _hierarchy(ctx: RunContext) -> None:
    from .prepare import hierarchy_layout

    if ctx.server_url is None:
        raise RuntimeError("an HTTP workload needs the benchmark server")
    where = Location.http(f"{ctx.server_url}/{ctx.paths.hierarchy.name}")
    expected = {name: tuple(shape) for name, shape in hierarchy_layout(ctx.sizes).items()}
    adapter = ctx.lib

    async def body() -> None:
        with ctx.timed("open", primary=True):
            group = await adapter.aopen_group(where)
        with ctx.timed("browse", calls=len(expected)):
            found = await adapter.abrowse(group)
        if found != expected:
            missing = sorted(set(expected) - set(found))
            extra = sorted(set(found) - set(expected))
            raise AssertionError(f"browsing found the wrong arrays: missing {missing}, unexpected {extra}")

    _run_async(ctx, body)


def _workloads() -> list[Workload]:
    return [
        Workload("L1-write-c64", "L1", "write whole array, chunks 64^3", lambda c: _write(c, c.sizes.volume_plain)),
        Workload("L2-write-sharded", "L2", "write whole array, sharded", lambda c: _write(c, c.sizes.volume_sharded)),
        Workload("L3-read-c64", "L3", "read whole array, chunks 64^3", lambda c: _read_whole(c, False)),
        Workload("L3-read-sharded", "L3", "read whole array, sharded", lambda c: _read_whole(c, True)),
        Workload(
            "L3-read-c64-v2", "L3", "read whole array, chunks 64^3, Zarr v2 copy", lambda c: _read_whole(c, False, True)
        ),
        Workload("L4-sync-c64", "L4", "regions, sync, chunks 64^3", lambda c: _regions_sync(c, False)),
        Workload("L4-sync-sharded", "L4", "regions, sync, sharded", lambda c: _regions_sync(c, True)),
        Workload("L4-async-c64", "L4", "regions, async gather, chunks 64^3", lambda c: _regions_async(c, False, True)),
        Workload("L4-async-sharded", "L4", "regions, async gather, sharded", lambda c: _regions_async(c, True, True)),
        Workload("L4-aseq-c64", "L4", "regions, async one by one, 64^3", lambda c: _regions_async(c, False, False)),
        Workload(
            "L4-aseq-sharded", "L4", "regions, async one by one, sharded", lambda c: _regions_async(c, True, False)
        ),
        Workload("L4-facade", "L4", "sync facade round trip of a no-op coroutine", _facade),
        Workload("W1-shared-chunk-writers", "W1", "16 threads writing rows of shared chunks", shared_chunk_writers),
        Workload("W2-shard-updates", "W2", "update 1% of the inner chunks of a 4096^2 shard", shard_updates),
        Workload(
            "C1-sliding-nocache",
            "C1",
            "sliding 1024^2 windows, 75% overlap, no cache",
            lambda c: sliding_windows(c, False),
        ),
        Workload(
            "C1-sliding-cache",
            "C1",
            "sliding 1024^2 windows, 75% overlap, decoded-chunk cache",
            lambda c: sliding_windows(c, True),
            libraries=("zarrio", "tensorstore"),
        ),
        Workload("V1-vindex-100k", "V1", "100k random points (vindex), 4096^2 sharded", _points),
        Workload("H1-tiles-sharded", "H1", "HTTP tiles, sharded", lambda c: _tiles(c, True), http=True),
        Workload("H1-tiles-plain", "H1", "HTTP tiles, unsharded", lambda c: _tiles(c, False), http=True),
        Workload(
            "H1-tiles-plain-v2",
            "H1",
            "HTTP tiles, unsharded, Zarr v2 copy",
            lambda c: _tiles(c, False, True),
            http=True,
        ),
        Workload("H1-window-sharded", "H1", "HTTP whole-shard window", _shard_window, http=True),
        Workload("H2-hierarchy", "H2", "HTTP consolidated hierarchy", _hierarchy, http=True),
        Workload(
            "H3-tail-tiles", "H3", "HTTP tiles, 2% of answers 2 s late", lambda c: _tail_tiles(c, True), http=True
        ),
        Workload(
            "H3-clean-tiles",
            "H3",
            "HTTP tiles, the same without late answers",
            lambda c: _tail_tiles(c, False),
            http=True,
        ),
        *_issue18_workloads(),
    ]


def _issue18_workloads() -> list[Workload]:
    def make(name: str, title: str, run: Callable[[RunContext], None]) -> Workload:
        return Workload(name, name.split("-", 1)[0], title, run, libraries=ISSUE18_LIBRARIES, once=ISSUE18_ONCE)

    return [
        make("T1-read-tiny", "read whole 2000^2 uint8, chunks 50^2/20^2/10^2", lambda c: tiny_reads(c, False)),
        make("T1-read-tiny-sharded", "the same in 1000^2 shards", lambda c: tiny_reads(c, True)),
        make("T2-write-tiny", "write whole 2000^2 uint8, chunks 50^2/20^2/10^2", lambda c: tiny_writes(c, False)),
        make("T2-write-tiny-sharded", "the same in 1000^2 shards", lambda c: tiny_writes(c, True)),
        make("T3-write-durable", "durable writes (fsync), chunks 50^2 and 10^2 in shards", durable_writes),
        make("P1-threads-local", "1/4/16 threads of one-element reads, local", lambda c: threaded_reads(c, False)),
        make("P1-threads-memory", "1/4/16 threads of one-element reads, memory", lambda c: threaded_reads(c, True)),
        make("P2-busy-machine", "tiny reads with one core kept busy", busy_machine),
        make("G1-hierarchy-scaling", "walk and consolidate 5,000 and 20,000 arrays", hierarchy_scaling),
    ]


WORKLOADS: dict[str, Workload] = {w.name: w for w in _workloads()}
