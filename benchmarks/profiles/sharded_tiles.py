"""The event loop's work for H1's sharded tiles, without the network (issue 19), for py-spy by hand.

    .venv-ref/bin/python -m benchmarks.profiles.sharded_tiles 15      # 15 rounds: the loop's CPU per round
    .venv-ref/bin/python -m benchmarks.profiles.sharded_tiles 40 first   # the tiles' first steps only
    .venv-ref/bin/py-spy record --gil -r 2000 -f raw -o out.txt -- \\
        .venv-ref/bin/python -m benchmarks.profiles.sharded_tiles 60

H1's 256 tiles of its sharded image (the benchmark data, ``python -m benchmarks`` prepares it) are
read with ``asyncio.gather`` from an in-memory store that is not a BlockingStore (a
ForwardingStore over a MemoryStore, ``consistency = "versioned"`` as HttpStore's), so every tile
takes the async driver as it does over HTTP, and what the loop thread spends is zarrio's own work.

``first`` times only the tiles' first steps, the one pass of the loop that ``gather`` gives them:
the shard index reads never answer there (as over HTTP, where the pass ends long before they do),
so every tile is planned up to its wait for an index.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

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


async def _opened(files: dict[str, bytes], wrapper: type[ForwardingStore] = ForwardingStore) -> Any:
    """The image over ``wrapper`` around a MemoryStore holding ``files`` (versioned, as HttpStore)."""
    inner = MemoryStore()
    for key, value in files.items():
        await inner.set(key, value)
    store = wrapper(inner)
    store.consistency = "versioned"
    return await zarrio.aio.open(store, mode="r")


async def _round(files: dict[str, bytes]) -> float:
    array = await _opened(files)
    started = time.thread_time()
    await asyncio.gather(*(array.getitem(tile) for tile in TILES))
    return time.thread_time() - started


class _Unanswered(ForwardingStore):
    """Index reads (suffix reads) that never answer: a tile's first step ends at its wait for one."""

    async def get_suffix_with_size(self, key: str, length: int) -> tuple[bytes, int | None] | None:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def _first_steps(files: dict[str, bytes]) -> float:
    array = await _opened(files, _Unanswered)
    started = time.perf_counter()
    tasks = [asyncio.ensure_future(array.getitem(tile)) for tile in TILES]
    await asyncio.sleep(0)  # one pass of the loop: every tile's first step
    took = time.perf_counter() - started
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return took


def main(rounds: int, what: str) -> None:
    files = _image_files()
    if what == "first":
        took = sorted(asyncio.run(_first_steps(files)) for _ in range(rounds))
        label = "the 256 tiles' first steps"
    else:
        took = sorted(asyncio.run(_round(files)) for _ in range(rounds))
        label = "loop CPU per round of 256 tiles"
    print(f"{label}: min {took[0] * 1e3:.1f} ms, median {took[len(took) // 2] * 1e3:.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15, sys.argv[2] if len(sys.argv) > 2 else "round")
