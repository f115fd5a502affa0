"""The limits of this machine on the same data: memory copy, raw file reads, zstd decode/encode.

Each runs in its own child process (library name ``limits``) like the library workloads, with
phases ``t1`` and ``t2`` for one and two threads. zstandard releases the GIL, so two threads use
both cores; the stored chunks (or, for the sharded layout, the inner chunks cut out of the shards
by their index) are decoded and re-encoded exactly as a Zarr reader or writer would.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from .config import ZSTD_LEVEL, Layout
from .measure import RunContext
from .synthetic import fill_volume, volume_block
from .workloads import Workload

THREAD_COUNTS = (1, 2)
MISSING = 2**64 - 1


def chunk_files(root: Path) -> list[Path]:
    """The chunk (or shard) files of an array: everything under ``c/``."""
    return sorted(p for p in (root / "c").rglob("*") if p.is_file())


def inner_chunks_of_shard(blob: bytes, inner_per_shard: int) -> list[bytes]:
    """Cut the compressed inner chunks out of one shard (index at the end, crc32c after it)."""
    index_size = inner_per_shard * 16 + 4
    index = blob[-index_size:-4]
    out = []
    for i in range(inner_per_shard):
        offset, nbytes = struct.unpack_from("<QQ", index, i * 16)
        if offset != MISSING:
            out.append(blob[offset : offset + nbytes])
    return out


def compressed_units(root: Path, layout: Layout) -> list[bytes]:
    blobs = [p.read_bytes() for p in chunk_files(root)]
    if layout.shards is None:
        return blobs
    per_shard = int(np.prod([s // c for s, c in zip(layout.shards, layout.chunks, strict=True)]))
    return [unit for blob in blobs for unit in inner_chunks_of_shard(blob, per_shard)]


def raw_units(shape: tuple[int, ...], edge: tuple[int, ...]) -> list[bytes]:
    """The uncompressed C-order bytes of every chunk of the generated volume."""
    volume = fill_volume(shape)  # type: ignore[arg-type]
    grid = [range(0, n, e) for n, e in zip(shape, edge, strict=True)]
    return [
        volume[z : z + edge[0], y : y + edge[1], x : x + edge[2]].tobytes()
        for z in grid[0]
        for y in grid[1]
        for x in grid[2]
    ]


def run_threaded(work: Callable[[Any], Any], items: list[Any], threads: int) -> list[Any]:
    """``work`` over ``items`` on ``threads`` threads, each taking one contiguous share (no per-item futures)."""
    if threads == 1:
        return [work(item) for item in items]
    share = -(-len(items) // threads)
    batches = [items[i : i + share] for i in range(0, len(items), share)]
    with ThreadPoolExecutor(threads) as pool:
        done = list(pool.map(lambda batch: [work(item) for item in batch], batches))
    return [out for batch in done for out in batch]


def per_thread(factory: Callable[[], Any]) -> Callable[[], Any]:
    """A getter for one object per thread (zstandard contexts are not thread-safe)."""
    local = threading.local()

    def get() -> Any:
        obj = getattr(local, "obj", None)
        if obj is None:
            obj = local.obj = factory()
        return obj

    return get


def _layout(ctx: RunContext, sharded: bool) -> tuple[Path, Layout]:
    if sharded:
        return ctx.paths.volume_sharded, ctx.sizes.volume_sharded
    return ctx.paths.volume_plain, ctx.sizes.volume_plain


def _volume_bytes(ctx: RunContext) -> int:
    return int(np.prod(ctx.sizes.volume_shape)) * np.dtype(ctx.sizes.volume_dtype).itemsize


def numpy_copy(ctx: RunContext) -> None:
    source = fill_volume(ctx.sizes.volume_shape)
    target = np.empty_like(source)
    np.copyto(target, source)  # touch every page once: this phase measures bandwidth, not page faults
    with ctx.timed("warm", payload_bytes=source.nbytes, primary=True):
        np.copyto(target, source)
    del target
    with ctx.timed("fresh", payload_bytes=source.nbytes):
        fresh = source.copy()
    if not np.array_equal(fresh[:1], volume_block((slice(0, 1), *(slice(0, n) for n in source.shape[1:])))):
        raise AssertionError("numpy copy mismatch")


def read_files(ctx: RunContext, sharded: bool) -> None:
    root, _ = _layout(ctx, sharded)
    files = chunk_files(root)
    total = sum(p.stat().st_size for p in files)
    for threads in THREAD_COUNTS:
        with ctx.timed(f"t{threads}", payload_bytes=total, calls=len(files), primary=threads == 1):
            blobs = run_threaded(Path.read_bytes, files, threads)
        if sum(len(b) for b in blobs) != total:
            raise AssertionError("short file read")


def zstd_decode(ctx: RunContext, sharded: bool) -> None:
    import zstandard

    root, layout = _layout(ctx, sharded)
    units = compressed_units(root, layout)
    unit_bytes = int(np.prod(layout.inner)) * np.dtype(ctx.sizes.volume_dtype).itemsize
    for threads in THREAD_COUNTS:
        decoder = per_thread(zstandard.ZstdDecompressor)

        def decode(unit: bytes, get: Callable[[], Any] = decoder) -> bytes:
            return bytes(get().decompress(unit, max_output_size=unit_bytes))

        with ctx.timed(f"t{threads}", payload_bytes=_volume_bytes(ctx), calls=len(units), primary=threads == 1):
            out = run_threaded(decode, units, threads)
        if sum(len(o) for o in out) != _volume_bytes(ctx):
            raise AssertionError("zstd decoded the wrong number of bytes")


def zstd_encode(ctx: RunContext, sharded: bool) -> None:
    import zstandard

    _, layout = _layout(ctx, sharded)
    units = raw_units(ctx.sizes.volume_shape, layout.inner)
    for threads in THREAD_COUNTS:
        encoder = per_thread(lambda: zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_checksum=False))

        def encode(unit: bytes, get: Callable[[], Any] = encoder) -> bytes:
            return bytes(get().compress(unit))

        with ctx.timed(f"t{threads}", payload_bytes=_volume_bytes(ctx), calls=len(units), primary=threads == 1):
            out = run_threaded(encode, units, threads)
        ctx.notes[f"stored_bytes_t{threads}"] = sum(len(o) for o in out)
    check = zstandard.ZstdDecompressor().decompress(out[0])
    if check != units[0]:
        raise AssertionError("zstd round trip mismatch")


def _limits() -> Iterable[Workload]:
    yield Workload("X-numpy-copy", "X", "numpy copy of the whole array", numpy_copy)
    for sharded, tag in ((False, "c64"), (True, "sharded")):
        yield Workload(f"X-read-files-{tag}", "X", f"raw file reads, {tag}", partial(read_files, sharded=sharded))
        yield Workload(f"X-zstd-decode-{tag}", "X", f"zstd decode, {tag}", partial(zstd_decode, sharded=sharded))
        yield Workload(f"X-zstd-encode-{tag}", "X", f"zstd encode, {tag}", partial(zstd_encode, sharded=sharded))


LIMITS: dict[str, Workload] = {w.name: w for w in _limits()}
