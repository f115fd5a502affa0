"""The event loop's work for H1's sharded tiles, without the network (issue 19), for py-spy by hand.

    .venv-ref/bin/python -m benchmarks.profiles.sharded_tiles 15      # 15 rounds: the loop's CPU per round
    .venv-ref/bin/py-spy record --gil -r 2000 -f raw -o out.txt -- \\
        .venv-ref/bin/python -m benchmarks.profiles.sharded_tiles 60

H1's 256 tiles of its sharded image (the benchmark data, ``python -m benchmarks`` prepares it) are
read with ``asyncio.gather`` from an in-memory store that is not a BlockingStore (a
ForwardingStore over a MemoryStore, ``consistency = "versioned"`` as HttpStore's), so every tile
takes the async driver as it does over HTTP, and what the loop thread spends is zarrio's own work.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import zarrio.aio
from benchmarks.config import DEFAULT_DATA_DIR
from benchmarks.synthetic import random_aligned_regions
from zarrio.stores import MemoryStore
from zarrio.testing.wrappers import ForwardingStore

TILES = random_aligned_regions((16384, 16384), 256, 256, 4242)  # as H1 (full sizes, TILE_SEED)


def _image_files() -> dict[str, bytes]:
    found = sorted(Path(DEFAULT_DATA_DIR).glob("full-*/image_sharded.zarr"))
    if not found:
        raise SystemExit("no benchmark data: run `python -m benchmarks --only H1` once first")
    root = found[-1]
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


async def _round(files: dict[str, bytes]) -> float:
    inner = MemoryStore()
    for key, value in files.items():
        await inner.set(key, value)
    store = ForwardingStore(inner)
    store.consistency = "versioned"
    array = await zarrio.aio.open(store, mode="r")
    started = time.thread_time()
    await asyncio.gather(*(array.getitem(tile) for tile in TILES))
    return time.thread_time() - started


def main(rounds: int) -> None:
    files = _image_files()
    took = sorted(asyncio.run(_round(files)) for _ in range(rounds))
    print(f"loop CPU per round of 256 tiles: min {took[0] * 1e3:.1f} ms, median {took[len(took) // 2] * 1e3:.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
