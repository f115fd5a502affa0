"""Stress: many small concurrent reads through every engine path, watched by another thread (issue 13).

A livelocked event loop (the 3.12+ ``_Batcher.finish`` spin) never runs ``asyncio.wait_for``'s
timer, so only another thread can see it. Each test runs its reads in worker threads that report
progress after every round; the test thread watches them and, when one makes no progress for
``STALL_S`` seconds, dumps every thread's stack and fails. The rounds are bounded by count and by
time (``ZARRIO_STRESS_ROUNDS``, ``ZARRIO_STRESS_SECONDS`` to run longer), so each test stays
well under the suite's per-test timeout.

Paths: stores with blocking access (memory, local disk) and without (a ForwardingStore around a
MemoryStore, a read-only zip archive), each unsharded, reading whole shards, reading parts of
shards, and reading a sharded array with missing shards; plus the sync facade from several threads.
"""

from __future__ import annotations

import asyncio
import faulthandler
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from engine_model import StoreCase, assert_same, store_case

import zarrio
from zarrio import aio

ROUNDS = int(os.environ.get("ZARRIO_STRESS_ROUNDS", "3000"))
SECONDS = float(os.environ.get("ZARRIO_STRESS_SECONDS", "0.6"))
STALL_S = 4.0
SHAPE = (32, 32)
FILL = 7

Tile = tuple[slice, slice]


def _tiles(size: int, offset: int = 0) -> list[Tile]:
    return [
        (slice(y, min(y + size, SHAPE[0])), slice(x, min(x + size, SHAPE[1])))
        for y in range(offset, SHAPE[0], size)
        for x in range(offset, SHAPE[1], size)
    ]


#: layout -> (create options, the region written, the tiles one round reads)
LAYOUTS: dict[str, tuple[dict[str, Any], Tile, list[Tile]]] = {
    "chunks": ({"chunks": (4, 4)}, (slice(None), slice(None)), _tiles(4) + _tiles(5, 1)),
    "whole-shards": ({"chunks": (4, 4), "shards": (16, 16)}, (slice(None), slice(None)), _tiles(16) * 4),
    "partial-shards": ({"chunks": (4, 4), "shards": (16, 16)}, (slice(None), slice(None)), _tiles(8) + _tiles(6, 3)),
    # the lower two shards are never written: their reads are missing-shard reads
    "missing-shard": ({"chunks": (4, 4), "shards": (16, 16)}, (slice(0, 16), slice(None)), _tiles(8) + _tiles(16)),
}


class Progress:
    """The time of a worker's last finished round, and how many rounds it finished."""

    def __init__(self) -> None:
        self.last = time.monotonic()
        self.rounds = 0

    def tick(self) -> None:
        self.rounds += 1
        self.last = time.monotonic()


def _stacks() -> str:
    names = {t.ident: t.name for t in threading.enumerate()}
    parts = []
    for ident, frame in sys._current_frames().items():
        parts.append(f"--- thread {names.get(ident, ident)} ---\n{''.join(traceback.format_stack(frame))}")
    return "\n".join(parts)


def run_watched(workers: list[Callable[[Progress], None]]) -> list[Progress]:
    """Run each worker in its own thread; fail with every thread's stack if one stalls."""
    progress = [Progress() for _ in workers]
    errors: list[BaseException] = []

    def body(worker: Callable[[Progress], None], p: Progress) -> None:
        try:
            worker(p)
        except BaseException as e:  # reported by the watching thread
            errors.append(e)

    threads = [
        threading.Thread(target=body, args=(w, p), name=f"stress-{i}", daemon=True)
        for i, (w, p) in enumerate(zip(workers, progress, strict=True))
    ]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        for t, p in zip(threads, progress, strict=True):
            stalled = time.monotonic() - p.last
            if t.is_alive() and stalled > STALL_S:
                faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
                pytest.fail(
                    f"{t.name} made no progress for {stalled:.1f} s after {p.rounds} rounds (a hang or a livelock); "
                    f"every thread's stack:\n{_stacks()}"
                )
        time.sleep(0.05)
    if errors:
        raise errors[0]
    return progress


def _model(written: Tile) -> np.ndarray[Any, Any]:
    model = np.full(SHAPE, FILL, dtype="uint16")
    model[written] = np.arange(model[written].size, dtype="uint16").reshape(model[written].shape)
    return model


def _prepare(stores: StoreCase, layout: str) -> tuple[np.ndarray[Any, Any], list[Tile]]:
    options, written, tiles = LAYOUTS[layout]
    z = zarrio.create(stores.writer, SHAPE, "uint16", fill_value=FILL, **options)
    model = _model(written)
    z[written] = model[written]
    return model, tiles


def _bounded(progress: Progress, round_: Callable[[], None]) -> None:
    deadline = time.monotonic() + SECONDS
    for _ in range(ROUNDS):
        round_()
        progress.tick()
        if time.monotonic() > deadline:
            break


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("store_kind", ["memory", "local", "forwarding", "zip"])
def test_concurrent_async_reads_never_hang(store_kind: str, layout: str, tmp_path: Path) -> None:
    with store_case(store_kind, tmp_path) as stores:
        model, tiles = _prepare(stores, layout)
        reader_store = stores.reader()

        def reads(progress: Progress) -> None:
            async def main() -> None:
                a = await aio.open_array(reader_store, mode="r")
                check = 0

                async def one_round() -> None:
                    nonlocal check
                    got = await asyncio.gather(*(a.getitem(tile) for tile in tiles))
                    tile = tiles[check % len(tiles)]  # one tile checked per round: the reads stay the load
                    assert_same(got[check % len(tiles)], model[tile], f"tile {tile}")
                    check += 1

                deadline = time.monotonic() + SECONDS
                for _ in range(ROUNDS):
                    await one_round()
                    progress.tick()
                    if time.monotonic() > deadline:
                        break
                for tile, got in zip(tiles, await asyncio.gather(*(a.getitem(t) for t in tiles)), strict=True):
                    assert_same(got, model[tile], f"tile {tile}")

            asyncio.run(main())

        (done,) = run_watched([reads])
        assert done.rounds >= 1


@pytest.mark.parametrize("store_kind", ["memory", "forwarding", "zip"])
def test_sync_facade_from_several_threads_never_hangs(store_kind: str, tmp_path: Path) -> None:
    with store_case(store_kind, tmp_path) as stores:
        model, tiles = _prepare(stores, "missing-shard")
        z = zarrio.open(stores.reader(), mode="r")

        def reads(progress: Progress, start: int) -> None:
            def one_round() -> None:
                for i in range(len(tiles)):
                    tile = tiles[(start + i) % len(tiles)]
                    assert_same(z[tile], model[tile], f"tile {tile}")

            _bounded(progress, one_round)

        done = run_watched([lambda p, s=start: reads(p, s) for start in range(4)])
        assert all(p.rounds >= 1 for p in done)


def test_the_watchdog_reports_a_stalled_worker() -> None:
    """The watchdog itself: a worker that stops making progress fails the test with the stacks."""
    release = threading.Event()

    def stuck(progress: Progress) -> None:
        progress.tick()
        release.wait(30)

    global STALL_S
    saved, STALL_S = STALL_S, 0.3
    try:
        with pytest.raises(pytest.fail.Exception, match=r"(?s)stress-0 made no progress.*release\.wait"):
            run_watched([stuck])
    finally:
        STALL_S = saved
        release.set()
