"""W2: updating 1% of the inner chunks of a 4096^2 shard (issue 17 (c)).

One float32 array of 4096^2 in one shard of 1024 inner chunks of 128^2 (zstd), written whole
(untimed), then 10 inner chunks at fixed random places rewritten one ``write_region`` each
(timed), through each library's blocking API on a local directory.

Noted: ``bytes_written`` and ``bytes_read``, what the process handed to the kernel to write
and read during the updates (``wchar``/``rchar`` of /proc/self/io: every thread, in-kernel
copies such as ``copy_file_range`` included); ``shard_bytes_before``/``after``, the shard
file's size (what an append leaves as garbage); ``values_ok``, read back with tensorstore.
A library that rewrites the shard writes all of it per update; zarrio appends the new inner
chunk and index (copy-on-write: on a file system without reflinks the kernel copies the
old bytes, which ``bytes_written`` counts; ``zarrio_clones`` says how the copies went).
"""

from __future__ import annotations

import shutil
from typing import Any

import numpy as np

from .config import Layout
from .measure import RunContext

SIDE = 4096
INNER = 128
UPDATES = 10  # of 1024 inner chunks: 1%


def _io() -> tuple[int, int]:
    """(rchar, wchar) of this process, or (0, 0) where /proc has no io file."""
    try:
        with open("/proc/self/io", encoding="ascii") as f:
            fields = dict(line.split(":", 1) for line in f)
    except OSError:
        return 0, 0
    return int(fields["rchar"]), int(fields["wchar"])


def _data() -> np.ndarray:
    rng = np.random.default_rng(42)
    smooth = np.add.outer(np.sin(np.arange(SIDE) / 90.0), np.cos(np.arange(SIDE) / 70.0))
    return np.round(smooth + rng.normal(0, 0.05, (SIDE, SIDE)), 2).astype("float32")


def _targets() -> list[tuple[int, int]]:
    rng = np.random.default_rng(7)
    n = SIDE // INNER
    flat = rng.choice(n * n, UPDATES, replace=False)
    return [(int(f) // n, int(f) % n) for f in flat]


def _read_back(path: Any) -> np.ndarray:
    import tensorstore as ts

    array = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": str(path)}}, read=True).result()
    return np.asarray(array.read().result())


def shard_updates(ctx: RunContext) -> None:
    target = ctx.paths.scratch / f"{ctx.library}-shard-updates.zarr"
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    layout = Layout("one-shard", chunks=(INNER, INNER), shards=(SIDE, SIDE))
    lib = ctx.lib
    data = _data()
    try:
        handle = lib.create(target, (SIDE, SIDE), "float32", layout)
        lib.write(handle, data)
        shard = next(p for p in (target / "c").rglob("*") if p.is_file())
        ctx.notes["shard_bytes_before"] = shard.stat().st_size
        clones = _zarrio_clones()
        read0, written0 = _io()
        with ctx.timed("update", payload_bytes=UPDATES * INNER * INNER * 4, calls=UPDATES, primary=True):
            for n, (i, j) in enumerate(_targets()):
                region = (slice(i * INNER, (i + 1) * INNER), slice(j * INNER, (j + 1) * INNER))
                value = np.full((INNER, INNER), 100.0 + n, dtype="float32")
                data[region] = value
                lib.write_region(handle, region, value)
        read1, written1 = _io()
        ctx.notes["bytes_written"] = written1 - written0
        ctx.notes["bytes_read"] = read1 - read0
        ctx.notes["shard_bytes_after"] = shard.stat().st_size
        if clones is not None:
            after = _zarrio_clones()
            ctx.notes["zarrio_clones"] = {k: v - clones.get(k, 0) for k, v in (after or {}).items()}
        ctx.notes["updates"] = UPDATES
        ctx.notes["values_ok"] = bool(np.array_equal(_read_back(target), data))
    finally:
        shutil.rmtree(target, ignore_errors=True)


def _zarrio_clones() -> dict[str, int] | None:
    try:
        from zarrio.stores._append import CLONES
    except ImportError:  # another library's run, or a zarrio without appends
        return None
    return dict(CLONES)
