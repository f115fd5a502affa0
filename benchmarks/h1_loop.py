"""A/B of HttpStore settings on the cold H1 sharded read, in one process (issue 19).

    python -m benchmarks.httpserver --root benchmarks/.data/full-<digest> &        # prints PORT
    python -m benchmarks.h1_loop http://127.0.0.1:PORT/image_sharded.zarr 25 \\
        '[{"multirange_max_gap": 65536}, {}]'

Each round reads the 256 H1 tiles once per configuration, in a shuffled order, each time with a
fresh store, event loop and session (so every read is cold: index requests, new connections). A
configuration is ``HttpStore`` options, plus ``"warm": N`` to open N connections before the timed
read. Printed per configuration: the median wall time, process and event-loop-thread CPU, the
requests, body bytes and CPU of the server (from its counters). Alternating in one process makes
the comparison hold on a machine others are using, where separate runs drift by more than the
difference.
"""

from __future__ import annotations

import asyncio
import gc
import json
import random
import sys
import time
import urllib.request
from typing import Any

import numpy as np

from .synthetic import random_aligned_regions

TILES = random_aligned_regions((16384, 16384), 256, 256, 4242)  # as H1 (full sizes, TILE_SEED)


def _server_counters(base: str) -> dict[str, Any]:
    with urllib.request.urlopen(base + "/__bench/stats") as answer:  # the benchmark server, on 127.0.0.1
        return dict(json.load(answer))


async def _one(url: str, config: dict[str, Any]) -> tuple[float, float, float, int, int, float]:
    import zarrio.aio
    from zarrio.stores.http import HttpStore

    options = dict(config)
    warm = int(options.pop("warm", 0))
    store = HttpStore(url, **options)
    array = await zarrio.aio.open(store, mode="r")
    if warm:
        await store.transport._open_connections(store.url + "/zarr.json", warm)
    gc.collect()
    base = url.rsplit("/", 1)[0]
    before = _server_counters(base)
    cpu, loop_cpu, started = time.process_time(), time.thread_time(), time.perf_counter()
    await asyncio.gather(*(array.getitem(tile) for tile in TILES))
    wall = time.perf_counter() - started
    cpu, loop_cpu = time.process_time() - cpu, time.thread_time() - loop_cpu
    after = _server_counters(base)
    await store.close()
    requests = after["requests"] - before["requests"] - 1  # the counters' own request
    server_cpu = after["cpu_seconds"] - before["cpu_seconds"]
    return wall * 1e3, cpu * 1e3, loop_cpu * 1e3, requests, after["bytes"] - before["bytes"], server_cpu * 1e3


def main() -> None:
    url, rounds = sys.argv[1], int(sys.argv[2])
    configs: list[dict[str, Any]] = json.loads(sys.argv[3]) if len(sys.argv) > 3 else [{}]
    rows: list[list[tuple[float, ...]]] = [[] for _ in configs]
    for _ in range(rounds):
        order = list(range(len(configs)))
        random.shuffle(order)
        for i in order:
            rows[i].append(asyncio.run(_one(url, configs[i])))
    for config, runs in zip(configs, rows, strict=True):
        a = np.array(runs)
        print(
            f"wall {np.median(a[:, 0]):.1f} ms (min {a[:, 0].min():.1f})  cpu {np.median(a[:, 1]):.1f}  "
            f"loop {np.median(a[:, 2]):.1f}  requests {int(a[0, 3])}  bytes {int(a[0, 4])}  "
            f"server cpu {np.median(a[:, 5]):.1f}  {config}"
        )


if __name__ == "__main__":
    main()
