"""Where the work of tiny chunks runs (issue 18): a write of shards whose inner chunks encode in
mostly Python is one job, which the blocking facade runs in the calling thread; larger inner
chunks, and unsharded chunks (a file each, whose system calls run side by side), keep the pool."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

import zarrio
from zarrio.engine import core

SHAPE = (103, 95)  # edge chunks on both axes
CHUNKS = (4, 5)  # 26 x 19 = 494 chunks of 80 bytes


@pytest.mark.parametrize(
    ("chunks", "shards", "jobs"), [(CHUNKS, (20, 25), 1), (CHUNKS, None, None), ((103, 95), (103, 190), None)]
)
def test_shards_of_small_chunks_are_written_as_one_job_in_the_callers_thread(
    shards: tuple[int, int] | None,
    chunks: tuple[int, int],
    jobs: int | None,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Shards of inner chunks that encode in mostly Python are written as one job, so the blocking
    facade runs it in the calling thread (no GIL handovers between workers); larger inner chunks
    and unsharded chunks keep the pool."""
    threads: list[int] = []
    write_units = core.write_units_blocking

    def recording(*args: Any) -> None:
        threads.append(threading.get_ident())
        write_units(*args)

    monkeypatch.setattr(core, "write_units_blocking", recording)
    monkeypatch.setattr(core, "codec_workers", lambda: 2)  # the pool's split, also on a one-core machine
    # the large case: 4 inner chunks of 103 x 95 int32 (39 KiB each, over the bound) in 2 shards
    shape = SHAPE if chunks == CHUNKS else (206, 190)
    data = np.arange(np.prod(shape), dtype="int32").reshape(shape)
    z = zarrio.create(zarrio.stores.LocalStore(tmp_path), shape, "int32", chunks=chunks, shards=shards)
    z[...] = data
    np.testing.assert_array_equal(z[...], data)
    if jobs == 1:
        assert threads == [threading.get_ident()]
    else:
        assert len(threads) >= 1 and threading.get_ident() not in threads
