"""C1: a sliding-window read (issue 17 (b)): 1024x1024 windows of a 4096x4096 uint16 array in
256x256 zstd chunks on a local directory, each window 256 columns right of the last (it overlaps
it by 75%), across four bands: 52 windows, each chunk wanted by up to four of them.

``C1-sliding-nocache`` opens the array plainly (every window fetches and decodes its 16 chunks);
``C1-sliding-cache`` opens it with a decoded-chunk cache of :data:`CACHE_BYTES` (zarrio's
``cache_bytes=``, tensorstore's ``cache_pool`` context resource; zarr-python 3.4.2 has none: n/a).
Timed: the windows, read one after another through the blocking API. Noted (zarrio): the
cache's hits and misses.
"""

from __future__ import annotations

import shutil

import numpy as np

from .adapters import Location, Region
from .config import Layout
from .measure import RunContext

SHAPE = (4096, 4096)
CHUNK = 256
WINDOW = 1024
STEP = WINDOW // 4  # 75% overlap
#: enough for every chunk of one band of windows (and more): 64 MiB
CACHE_BYTES = 64 * 2**20


def windows() -> list[Region]:
    out = []
    for y in range(0, SHAPE[0], WINDOW):
        for x in range(0, SHAPE[1] - WINDOW + 1, STEP):
            out.append((slice(y, y + WINDOW), slice(x, x + WINDOW)))
    return out


def values() -> np.ndarray:
    """12-bit noise over a gradient: zstd keeps about 80% of it, so decoding costs what it does
    for measured data (a pattern it shrinks 100-fold would decode for nothing)."""
    y, x = np.indices(SHAPE, dtype="uint32")
    noise = np.random.default_rng(20260517).integers(0, 4096, SHAPE, dtype="uint32")
    return ((y + x) // 4 + noise).astype("uint16")


def sliding_windows(ctx: RunContext, cached: bool) -> None:
    target = ctx.paths.scratch / f"{ctx.library}-sliding.zarr"
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    lib = ctx.lib
    data = values()
    regions = windows()
    try:
        lib.write(lib.create(target, SHAPE, "uint16", Layout("sliding", chunks=(CHUNK, CHUNK))), data)
        where = Location.local(target)
        with ctx.timed("open"):
            handle = lib.open_cached(where, CACHE_BYTES) if cached else lib.open(where)
        stats_before = _zarrio_stats(ctx)
        outs = []
        payload = len(regions) * WINDOW * WINDOW * 2
        with ctx.timed("read", payload_bytes=payload, calls=len(regions), primary=True):
            for region in regions:
                outs.append(lib.read(handle, region))
        stats_after = _zarrio_stats(ctx)
        for out, region in zip(outs, regions, strict=True):
            if not np.array_equal(out, data[region]):
                raise AssertionError(f"window {region} differs from what was written")
        if stats_before is not None and stats_after is not None:
            ctx.notes["cache_hits"] = stats_after[0] - stats_before[0]
            ctx.notes["cache_misses"] = stats_after[1] - stats_before[1]
        ctx.notes["windows"] = len(regions)
    finally:
        shutil.rmtree(target, ignore_errors=True)


def _zarrio_stats(ctx: RunContext) -> tuple[int, int] | None:
    if ctx.library != "zarrio":
        return None
    import zarrio

    stats = zarrio.cache_stats()
    return stats.hits, stats.misses
