"""W1: many writers sharing chunks (issue 17 (a)): 16 threads, each setting its own row of a
chunk shared by all of them, round after round (a barrier starts every round in every thread
at once), through each library's blocking API on a local directory.

Timed: the rounds. Noted: ``lost_updates``, the rows that do not hold what their writer
wrote when read back afterwards with tensorstore (a read-modify-write that stored a chunk
read before another writer's change drops that change, with no error).
"""

from __future__ import annotations

import shutil
import threading
from typing import Any

import numpy as np

from .config import Layout
from .measure import RunContext

WRITERS = 16
WIDTH = 1024
ROUNDS = 32


def row_value(writer: int, rnd: int) -> int:
    return writer + 1 + 1000 * rnd


def _expected(rounds: int) -> np.ndarray:
    rows = np.array([[row_value(w, r) for w in range(WRITERS)] for r in range(rounds)], dtype="int32")
    return np.repeat(rows[:, :, None], WIDTH, axis=2)


def _read_back(path: Any) -> np.ndarray:
    import tensorstore as ts

    array = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": str(path)}}, read=True).result()
    return np.asarray(array.read().result())


def shared_chunk_writers(ctx: RunContext) -> None:
    rounds = ROUNDS  # the same in --quick runs: the workload needs none of the prepared data
    target = ctx.paths.scratch / f"{ctx.library}-writers.zarr"
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    shape = (rounds, WRITERS, WIDTH)
    layout = Layout("shared-rows", chunks=(1, WRITERS, WIDTH))
    lib = ctx.lib
    try:
        handle = lib.create(target, shape, "int32", layout)
        barrier = threading.Barrier(WRITERS)
        errors: list[BaseException] = []

        def writer(w: int) -> None:
            try:
                for rnd in range(rounds):
                    barrier.wait(timeout=60)
                    row = np.full((1, 1, WIDTH), row_value(w, rnd), dtype="int32")
                    lib.write_region(handle, (slice(rnd, rnd + 1), slice(w, w + 1), slice(0, WIDTH)), row)
            except BaseException as e:
                errors.append(e)
                barrier.abort()

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
        payload = rounds * WRITERS * WIDTH * 4
        with ctx.timed("write", payload_bytes=payload, calls=rounds * WRITERS, primary=True):
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        if errors:
            raise errors[0]
        got = _read_back(target)
        ctx.notes["lost_updates"] = int((got != _expected(rounds)).any(axis=2).sum())
        ctx.notes["writes"] = rounds * WRITERS
    finally:
        shutil.rmtree(target, ignore_errors=True)
