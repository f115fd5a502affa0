"""The zarrio demo: write a sharded array, serve it over HTTP, read random tiles async and sync.

    python -m zarrio.demo [--data-dir DIR] [--tiles 64] [--latency-ms 10] [--seed 0]

1. writes a 4096x4096 uint16 array to a local directory store: shards of 1024x1024 holding
   inner chunks of 256x256, each compressed with zstd (a temporary directory unless --data-dir);
2. serves that directory on 127.0.0.1 with `zarrio.server.serve`, adding a per-request latency
   so the run looks like a real network;
3. reads random 256x256 tiles concurrently through the async API
   (`await zarrio.aio.open(HttpStore(url))` + `asyncio.gather(a.getitem(...))`);
4. reads the same tiles through the sync facade (`zarrio.open(...)`, `z[r:r+256, c:c+256]`)
   from a few threads;
5. checks every tile against the written data and prints what it did.

Exit status 0 when every tile matched, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import zarrio
import zarrio.aio
from zarrio.errors import MetadataError
from zarrio.server import serve
from zarrio.stores import HttpStore, LocalStore, Store
from zarrio.testing import CountingStore

SHAPE = (4096, 4096)
SHARDS = (1024, 1024)
CHUNKS = (256, 256)
TILE = 256
DTYPE = "uint16"
ARRAY_PATH = "image"
CODECS = [{"name": "zstd", "configuration": {"level": 3}}]
SYNC_THREADS = 8

Tile = tuple[int, int]


@dataclass
class ReadReport:
    label: str
    seconds: float
    mismatches: int
    store_calls: dict[str, int]
    bytes_read: int
    http_requests: int = 0
    #: the HttpStore's own account (``store.stats().summary()``): retries, hedges, latencies
    transport: str = ""

    def line(self, tiles: int) -> str:
        calls = ", ".join(f"{name} {count}" for name, count in sorted(self.store_calls.items())) or "none"
        verdict = "all match" if self.mismatches == 0 else f"{self.mismatches} MISMATCHED"
        return (
            f"  {self.label:<5} {tiles} tiles in {self.seconds * 1000:6.0f} ms ({verdict}): "
            f"{self.http_requests} HTTP requests, {self.bytes_read / 2**20:.1f} MiB fetched; store calls: {calls}"
            + (f"\n        store: {self.transport}" if self.transport else "")
        )


def make_image(seed: int) -> np.ndarray[Any, np.dtype[np.uint16]]:
    """A smooth gradient with noise: compressible, and every tile different from every other."""
    rows, cols = np.indices(SHAPE, dtype=np.uint32)
    noise = np.random.default_rng(seed).integers(0, 8, size=SHAPE, dtype=np.uint32)
    return ((rows * 7 + cols * 3 + noise) % 65536).astype(np.uint16)


def random_tiles(count: int, seed: int) -> list[Tile]:
    rng = np.random.default_rng(seed + 1)
    rows = rng.integers(0, SHAPE[0] // TILE, size=count) * TILE
    cols = rng.integers(0, SHAPE[1] // TILE, size=count) * TILE
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True)]


def write_array(directory: Path, image: np.ndarray[Any, np.dtype[np.uint16]]) -> float:
    started = time.perf_counter()
    array = zarrio.create(
        LocalStore(directory),
        SHAPE,
        DTYPE,
        path=ARRAY_PATH,
        chunks=CHUNKS,
        shards=SHARDS,
        codecs=CODECS,
        overwrite=True,
    )
    array[:, :] = image
    return time.perf_counter() - started


def count_mismatches(image: np.ndarray[Any, Any], tiles: Sequence[Tile], results: Sequence[Any]) -> int:
    return sum(
        not np.array_equal(np.asarray(result), image[r : r + TILE, c : c + TILE])
        for (r, c), result in zip(tiles, results, strict=True)
    )


async def read_tiles_async(url: str, tiles: Sequence[Tile], image: np.ndarray[Any, Any]) -> ReadReport:
    http = HttpStore(url)
    store = CountingStore(http)
    try:
        started = time.perf_counter()
        array = await zarrio.aio.open(store, path=ARRAY_PATH, mode="r")
        if not isinstance(array, zarrio.aio.AsyncArray):
            raise MetadataError(f"{ARRAY_PATH!r} on {url} is a group, not an array", field="node_type")
        results = await asyncio.gather(*(array.getitem((slice(r, r + TILE), slice(c, c + TILE))) for r, c in tiles))
        seconds = time.perf_counter() - started
    finally:
        await store.close()
    mismatches = count_mismatches(image, tiles, results)
    summary = http.stats().summary()
    return ReadReport("async", seconds, mismatches, dict(store.counts), store.bytes_read, transport=summary)


def read_tiles_sync(url: str, tiles: Sequence[Tile], image: np.ndarray[Any, Any]) -> ReadReport:
    http = HttpStore(url)
    store = CountingStore(http)
    try:
        started = time.perf_counter()
        array = zarrio.open(store, path=ARRAY_PATH, mode="r")
        if not isinstance(array, zarrio.Array):
            raise MetadataError(f"{ARRAY_PATH!r} on {url} is a group, not an array", field="node_type")
        with ThreadPoolExecutor(max_workers=SYNC_THREADS) as pool:
            results = list(pool.map(lambda tile: array[tile[0] : tile[0] + TILE, tile[1] : tile[1] + TILE], tiles))
        seconds = time.perf_counter() - started
    finally:
        zarrio.run(close_store(store))
    mismatches = count_mismatches(image, tiles, results)
    summary = http.stats().summary()
    return ReadReport("sync", seconds, mismatches, dict(store.counts), store.bytes_read, transport=summary)


async def close_store(store: Store) -> None:
    await store.close()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m zarrio.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, help="where to write the store (default: a temporary directory)")
    parser.add_argument("--tiles", type=int, default=64, help="number of random 256x256 tiles to read (default 64)")
    parser.add_argument("--latency-ms", type=float, default=10.0, help="latency the server adds per request")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and the tile positions")
    return parser.parse_args(argv)


def run_demo(directory: Path, args: argparse.Namespace) -> int:
    image = make_image(args.seed)
    tiles = random_tiles(args.tiles, args.seed)
    print(f"zarrio demo: {SHAPE[0]}x{SHAPE[1]} {DTYPE}, shards {SHARDS[0]}x{SHARDS[1]}, ", end="")
    print(f"chunks {CHUNKS[0]}x{CHUNKS[1]}, zstd level 3, in {directory}")
    write_seconds = write_array(directory, image)
    stored = sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())
    print(f"  wrote {image.nbytes / 2**20:.0f} MiB in {write_seconds:.2f} s ({stored / 2**20:.1f} MiB on disk)")
    with serve(directory, latency=args.latency_ms / 1000) as server:
        print(f"  serving {server.url} with {args.latency_ms:g} ms added per request")
        print(f"  reading {len(tiles)} random {TILE}x{TILE} tiles: async (gather), then sync ({SYNC_THREADS} threads)")
        before = server.request_count
        async_report = asyncio.run(read_tiles_async(server.url, tiles, image))
        async_report.http_requests, before = server.request_count - before, server.request_count
        sync_report = read_tiles_sync(server.url, tiles, image)
        sync_report.http_requests = server.request_count - before
    reports = [async_report, sync_report]
    for report in reports:
        print(report.line(len(tiles)))
    failed = sum(report.mismatches for report in reports)
    print("demo OK: every tile matches the written data" if failed == 0 else f"demo FAILED: {failed} tiles differ")
    return 0 if failed == 0 else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.data_dir is not None:
        args.data_dir.mkdir(parents=True, exist_ok=True)
        return run_demo(args.data_dir, args)
    with tempfile.TemporaryDirectory(prefix="zarrio-demo-") as tmp:
        return run_demo(Path(tmp), args)


if __name__ == "__main__":
    raise SystemExit(main())
