"""Issue 18: the cost per chunk and per thread.

- T1 (reads) and T2 (writes): the whole 2000² uint8 image in chunks of 50², 20² and 10², plain
  (one workload) and in 1000² shards (another); one phase per chunk size (``c50``, ``c20``,
  ``c10``; ``c10-sharded`` for the sharded ones), each array read or written once, 50² first. ``calls`` is the number of
  chunks, so ``per_call`` is the time per chunk.
- T3: durable writes on both sides: zarrio's ``LocalStore(fsync=True)`` against tensorstore's
  file kvstore with its default ``file_io_sync`` (zarr-python has no such option: n/a). The plain
  T2 rows run tensorstore with ``file_io_sync: false``, like zarrio's and zarr-python's defaults.
- P1: 1, 4 and 16 threads (phases ``t1``, ``t4``, ``t16``), each making the same number of
  one-element reads at random points, through the blocking API, of the 20²-chunk copy on the
  local directory and in the library's in-memory store (filled with the same stored bytes).
- P2: a busy machine: the 20² full read and the 1- and 16-thread reads (local) while another
  process of the benchmark's own keeps one core busy (:func:`benchmarks.machine_load.busy_core`).

Every value read is verified against the generator; written arrays are read back by tensorstore.
"""

from __future__ import annotations

import math
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from .adapters import Location
from .config import Layout, TinySizes, tiny_sizes
from .machine_load import busy_core
from .measure import RunContext
from .synthetic import fill_image, image_block, image_values, verify_whole

THREAD_SEED = 1818


def chunk_count(shape: tuple[int, ...], layout: Layout) -> int:
    """How many (inner) chunks tile ``shape``: the per-chunk unit of the T rows."""
    return math.prod(-(-n // c) for n, c in zip(shape, layout.chunks, strict=True))


def phase_name(layout: Layout) -> str:
    """The phase of a T row: the chunk edge, and whether sharded (the same in full and quick runs)."""
    return f"c{layout.chunks[0]}" + ("-sharded" if layout.shards is not None else "")


def thread_points(shape: tuple[int, int], threads: int, per_thread: int, seed: int) -> list[np.ndarray]:
    """Each thread's random points, a ``(per_thread, 2)`` int64 array of (y, x); reproducible."""
    rng = np.random.default_rng([seed, threads])
    return [np.stack([rng.integers(0, n, size=per_thread) for n in shape], axis=1) for _ in range(threads)]


def _tiny(ctx: RunContext) -> TinySizes:
    return tiny_sizes(ctx.sizes)


def _phase_layouts(tiny: TinySizes, sharded: bool) -> list[Layout]:
    return [tiny.layout(edge, sharded) for edge in sorted(tiny.edges, reverse=True)]


def tiny_reads(ctx: RunContext, sharded: bool) -> None:
    tiny = _tiny(ctx)
    whole = tuple(slice(0, n) for n in tiny.shape)
    nbytes = math.prod(tiny.shape) * np.dtype(tiny.dtype).itemsize
    smallest = min(tiny.edges)
    for layout in _phase_layouts(tiny, sharded):
        handle = ctx.lib.open(Location.local(ctx.paths.tiny(layout)))
        calls = chunk_count(tiny.shape, layout)
        with ctx.timed(phase_name(layout), payload_bytes=nbytes, calls=calls, primary=layout.chunks[0] == smallest):
            out = ctx.lib.read(handle, whole)
        verify_whole(out, image_block, 200)
        del out, handle


def _read_back(path: Path) -> np.ndarray:
    import tensorstore as ts

    array = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": str(path)}}, read=True).result()
    return np.asarray(array.read().result())


def _write_each(ctx: RunContext, layouts: list[Layout], durable: bool) -> None:
    tiny = _tiny(ctx)
    image = fill_image(tiny.shape, depth=200)
    smallest = min(layout.chunks[0] for layout in layouts)
    for layout in layouts:
        target = ctx.paths.scratch / f"{ctx.library}-tiny-{layout.name}.zarr"
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            handle = ctx.lib.create(target, tiny.shape, tiny.dtype, layout, durable=durable)
            os.sync()  # no dirty data of earlier runs left for the kernel to write back during this one
            calls = chunk_count(tiny.shape, layout)
            with ctx.timed(
                phase_name(layout), payload_bytes=image.nbytes, calls=calls, primary=layout.chunks[0] == smallest
            ):
                ctx.lib.write(handle, image)
            del handle
            if not np.array_equal(_read_back(target), image):
                raise AssertionError(f"{layout.name}: the written array does not read back as written")
        finally:
            shutil.rmtree(target, ignore_errors=True)


def tiny_writes(ctx: RunContext, sharded: bool) -> None:
    _write_each(ctx, _phase_layouts(_tiny(ctx), sharded), durable=False)


def durable_writes(ctx: RunContext) -> None:
    tiny = _tiny(ctx)
    _write_each(ctx, [tiny.layout(max(tiny.edges), False), tiny.layout(min(tiny.edges), True)], durable=True)


def _thread_reads(ctx: RunContext, handle: Any, threads: int, primary: bool) -> None:
    tiny = _tiny(ctx)
    per_thread = tiny.reads_per_thread
    coords = thread_points(tiny.shape, threads, per_thread, THREAD_SEED)
    got = np.zeros((threads, per_thread), dtype=tiny.dtype)
    read = ctx.lib.read
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def reader(t: int) -> None:
        try:
            mine, row = coords[t].tolist(), got[t]
            barrier.wait(timeout=60)
            for i, (y, x) in enumerate(mine):
                row[i] = read(handle, (slice(y, y + 1), slice(x, x + 1)))[0, 0]
        except BaseException as e:
            errors.append(e)
            barrier.abort()

    workers = [threading.Thread(target=reader, args=(t,)) for t in range(threads)]
    calls = threads * per_thread
    with ctx.timed(f"t{threads}", payload_bytes=calls * got.itemsize, calls=calls, primary=primary):
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    if errors:
        raise errors[0]
    for t, points in enumerate(coords):
        expected = image_values(points[:, 0], points[:, 1])
        if not np.array_equal(got[t], expected):
            wrong = int(np.count_nonzero(got[t] != expected))
            raise AssertionError(f"thread {t} of {threads}: {wrong} of {per_thread} values differ from the generator")


def _threads_layout(tiny: TinySizes) -> Layout:
    return tiny.layout(tiny.threads_edge, sharded=False)


def _stored_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def threaded_reads(ctx: RunContext, memory: bool) -> None:
    tiny = _tiny(ctx)
    path = ctx.paths.tiny(_threads_layout(tiny))
    handle = ctx.lib.open_memory(_stored_files(path)) if memory else ctx.lib.open(Location.local(path))
    ctx.lib.read(handle, (slice(0, 1), slice(0, 1)))  # metadata, pools and the facade's loop start untimed
    for threads in tiny.thread_counts:
        _thread_reads(ctx, handle, threads, primary=threads == max(tiny.thread_counts))


def busy_machine(ctx: RunContext) -> None:
    """P2: the 20² whole read and the 1- and 16-thread local reads with one core kept busy."""
    tiny = _tiny(ctx)
    layout = _threads_layout(tiny)
    handle = ctx.lib.open(Location.local(ctx.paths.tiny(layout)))
    ctx.lib.read(handle, (slice(0, 1), slice(0, 1)))
    whole = tuple(slice(0, n) for n in tiny.shape)
    with busy_core() as spinner:
        started = time.monotonic()
        with ctx.timed(
            f"read-{phase_name(layout)}", payload_bytes=math.prod(tiny.shape), calls=chunk_count(tiny.shape, layout)
        ):
            out = ctx.lib.read(handle, whole)
        verify_whole(out, image_block, 200)
        del out
        for threads in (min(tiny.thread_counts), max(tiny.thread_counts)):
            _thread_reads(ctx, handle, threads, primary=threads == max(tiny.thread_counts))
        wall = time.monotonic() - started
    # the spinner's CPU over the same wall time: about 1.0 when it kept its core busy throughout
    ctx.notes["busy_core_cores"] = round(spinner.cpu_seconds / max(wall, 1e-9), 2)
