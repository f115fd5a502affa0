"""When the codec pool works during L4's async gather (500 regions of 32³, sharded, local disk).

    .venv-ref/bin/python -m benchmarks.profiles.gather_timeline          # 3 gathers
    ZARRIO_CODEC_THREADS=1 .venv-ref/bin/python -m benchmarks.profiles.gather_timeline

Opens L4's sharded volume (``python -m benchmarks --only L4`` prepares it) with ``zarrio.aio``
and awaits ``asyncio.gather`` of the 500 reads of L4 three times (after one gather of 50 to
start the pools). Printed per gather, in milliseconds from its start: when the loop handed the
pool its queued jobs (and how many), and when each group of jobs ran, on which worker. The
time before the first hand-over is the loop planning every read; the groups' spans are the
workers reading, decoding and placing. Every loop is bounded: three gathers of 500 reads.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from pathlib import Path
from typing import Any

import zarrio.aio as zaio
from benchmarks.config import DEFAULT_DATA_DIR
from benchmarks.synthetic import random_aligned_regions
from zarrio.engine import executor

#: L4's regions (benchmarks.workloads: REGION_SEED, the full sizes' volume and region edge)
REGIONS = random_aligned_regions((512, 512, 512), 32, 500, 20260505)

Event = tuple[Any, ...]


def _volume() -> str:
    found = sorted(Path(DEFAULT_DATA_DIR).glob("full-*/volume_sharded.zarr"))
    if not found:
        raise SystemExit("no benchmark data: run `python -m benchmarks --only L4` once first")
    return str(found[-1])


def _watch(events: list[Event]) -> None:
    """Note each hand-over of the loop's pool queue and each group of jobs a worker runs."""
    run_group, flush = executor._run_group, executor._PoolQueue.flush

    def timed_group(jobs: list[Any]) -> Any:
        began = time.perf_counter()
        try:
            return run_group(jobs)
        finally:
            events.append(("group", began, time.perf_counter(), threading.get_ident(), len(jobs)))

    def timed_flush(queue: Any) -> None:
        events.append(("flush", time.perf_counter(), len(queue.pending)))
        flush(queue)

    executor._run_group = timed_group  # type: ignore[assignment]
    executor._PoolQueue.flush = timed_flush  # type: ignore[method-assign]


async def _gathers(rounds: int, events: list[Event]) -> None:
    array = await zaio.open_array(_volume())
    await asyncio.gather(*(array.getitem(region) for region in REGIONS[:50]))
    for _ in range(rounds):
        events.clear()
        began = time.perf_counter()
        await asyncio.gather(*(array.getitem(region) for region in REGIONS))
        print(f"gather of {len(REGIONS)}: {(time.perf_counter() - began) * 1e3:.1f} ms")
        workers: dict[int, int] = {}
        for event in list(events):
            if event[0] == "flush":
                print(f"  {(event[1] - began) * 1e3:6.1f}  pool handed {event[2]} jobs")
            else:
                worker = workers.setdefault(event[3], len(workers) + 1)
                start, end = (event[1] - began) * 1e3, (event[2] - began) * 1e3
                print(f"  {start:6.1f}  worker {worker} ran {event[4]} jobs until {end:.1f}")


def main(rounds: int) -> None:
    events: list[Event] = []
    _watch(events)
    asyncio.run(_gathers(rounds, events))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
