"""Where the work of tiny chunks runs (issue 18): a write of chunks that encode in mostly Python
is one job, which the blocking facade runs in the calling thread; larger chunks keep the pool."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

import zarrio
from zarrio.engine import core

SHAPE = (103, 95)  # edge chunks on both axes
CHUNKS = (4, 5)  # 26 x 19 = 494 chunks of 80 bytes


@pytest.mark.parametrize("shards", [None, (20, 25)])
@pytest.mark.parametrize(("chunks", "jobs"), [(CHUNKS, 1), ((103, 95), None)])
def test_small_chunk_writes_run_as_one_job_in_the_callers_thread(
    shards: tuple[int, int] | None,
    chunks: tuple[int, int],
    jobs: int | None,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Writes of chunks that encode in mostly Python run as one job, so the blocking facade runs
    them in the calling thread (no GIL handovers between workers); larger chunks keep the pool."""
    threads: list[int] = []
    write_units = core.write_units_blocking

    def recording(*args: Any) -> None:
        threads.append(threading.get_ident())
        write_units(*args)

    monkeypatch.setattr(core, "write_units_blocking", recording)
    big = chunks != CHUNKS
    shape = (206, 190) if big else SHAPE  # 4 chunks of 103 x 95 int32 (39 KiB each): over the bound
    if big and shards is not None:
        shards = (103, 190)  # two shards of two inner chunks: two jobs
    data = np.arange(np.prod(shape), dtype="int32").reshape(shape)
    z = zarrio.create(zarrio.stores.LocalStore(tmp_path), shape, "int32", chunks=chunks, shards=shards)
    z[...] = data
    np.testing.assert_array_equal(z[...], data)
    if jobs == 1:
        assert threads == [threading.get_ident()]
    else:
        assert len(threads) >= 1 and threading.get_ident() not in threads
