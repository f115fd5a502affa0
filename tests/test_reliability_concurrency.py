"""Reliability: a reader never sees a torn or mixed chunk while another process rewrites it (issue 6, property 1).

One child process rewrites whole chunks and whole shards of two LocalStore arrays in a
loop; this process reads whole chunks and parts of shards meanwhile. Every generation
of the data has a different layout (inner chunks change size and some go missing), and
no checksums are used, so a read that mixed two versions would show as wrong values,
not only as an error.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import zarrio
from zarrio import aio
from zarrio.stores import LocalStore
from zarrio.stores.blocking import blocking_access
from zarrio.testing import ForwardingStore

N = 64
CHUNK = 16
INNER = 8
LE: dict[str, Any] = {"name": "bytes", "configuration": {"endian": "little"}}
ZSTD: dict[str, Any] = {"name": "zstd", "configuration": {"level": 1, "checksum": False}}
SHARDED_CODECS: list[dict[str, Any]] = [
    {
        "name": "sharding_indexed",
        "configuration": {"chunk_shape": [INNER], "codecs": [LE, ZSTD], "index_codecs": [LE]},
    }
]


def generation(g: int) -> np.ndarray[Any, Any]:
    """The whole array at generation ``g`` (g >= 1). Each inner chunk of 8 is either all fill (0,
    so it is left out of the shard) or ``g * 1000 + position``; which ones are filled, and how
    compressible they are, changes with ``g``, so the shard layout differs between generations."""
    values = np.arange(N, dtype="<u4") + np.uint32(g * 1000)
    for inner in range(N // INNER):
        block = values[inner * INNER : (inner + 1) * INNER]
        if (inner + g) % 3 == 0:
            block[:] = 0
        elif g % 2:
            block[:] = g * 1000  # compresses well: a smaller inner chunk
    return values


def generation_of(values: np.ndarray[Any, Any], start: int) -> set[int]:
    """The generations ``values`` (the slice starting at ``start``) could belong to."""
    found = {int(v) // 1000 for v in values if v}
    candidates = found or set(range(1, 10_000))
    return {g for g in candidates if np.array_equal(generation(g)[start : start + len(values)], values)}


WRITER = """
    import sys, time
    import numpy as np
    import zarrio
    sys.path.insert(0, sys.argv[3])
    from test_reliability_concurrency import generation
    root, seconds = sys.argv[1], float(sys.argv[2])
    plain = zarrio.open_array(root, path="plain")
    sharded = zarrio.open_array(root, path="sharded")
    deadline = time.monotonic() + seconds
    g = 2
    while time.monotonic() < deadline:
        data = generation(g)
        for c in range(0, data.size, 16):
            plain[c : c + 16] = data[c : c + 16]   # one whole chunk per write
        sharded[:] = data                          # one whole shard per write
        if g == 2:
            print("ready", flush=True)
        g += 1
    print(g, flush=True)
"""


def _start_writer(root: Path, seconds: float) -> subprocess.Popen[str]:
    tests_dir = str(Path(__file__).resolve().parent)
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(WRITER), str(root), str(seconds), tests_dir],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    if line.strip() != "ready":
        child.kill()
        pytest.fail(f"writer did not start: {line!r} {child.stderr.read() if child.stderr else ''}")
    return child


def _create(root: Path) -> None:
    zarrio.create(str(root), shape=(N,), dtype="uint32", chunks=(CHUNK,), codecs=[LE, ZSTD], path="plain")
    zarrio.create(str(root), shape=(N,), dtype="uint32", chunks=(N,), codecs=SHARDED_CODECS, path="sharded")
    zarrio.open_array(str(root), path="plain")[:] = generation(1)
    zarrio.open_array(str(root), path="sharded")[:] = generation(1)


def test_no_torn_or_mixed_reads_while_another_process_rewrites(tmp_path: Path) -> None:
    root = tmp_path / "data"
    _create(root)
    writer = _start_writer(root, seconds=2.0)
    plain = zarrio.open_array(str(root), path="plain", mode="r")
    sharded = zarrio.open_array(str(root), path="sharded", mode="r")
    seen: set[int] = set()
    reads = 0
    bad: list[str] = []
    try:
        while writer.poll() is None:
            for start in range(0, N, CHUNK):  # whole chunks of the unsharded array
                got = plain[start : start + CHUNK]
                gens = generation_of(got, start)
                bad += [] if gens else [f"plain[{start}:{start + CHUNK}] = {got.tolist()}"]
                seen |= gens
            # parts of the shard (two inner chunks, one element, a strided read) and the whole shard
            for selection in (slice(8, 24), slice(40, 41), slice(0, N, 7), slice(0, N)):
                got = sharded[selection]
                start = selection.start
                if selection.step:
                    gens = {g for g in range(1, 10_000) if np.array_equal(generation(g)[selection], got)}
                    gens = gens if len(gens) < 10_000 - 1 else set()
                else:
                    gens = generation_of(got, start)
                bad += [] if gens else [f"sharded[{selection}] = {got.tolist()}"]
                seen |= gens
            reads += 8
    finally:
        out, err = writer.communicate(timeout=30)
    assert writer.returncode == 0, err[-2000:]
    assert not bad, f"{len(bad)} torn or mixed reads of {reads}, e.g. {bad[:3]}"
    written = int(out.split()[-1])
    assert written > 5, "the writer barely ran; the test proved nothing"
    assert len(seen) > 2, f"the reads saw only generations {sorted(seen)}: no overlap with the writer"


class RewriteBetweenCalls(ForwardingStore):
    """After the first ranged read of ``key`` (the shard index), rewrite the whole shard once."""

    def __init__(self, inner: LocalStore, key: str, rewrite: Any) -> None:
        super().__init__(inner)
        self.key = key
        self.rewrite = rewrite
        self.done = False

    async def get_suffix(self, key: str, length: int) -> bytes | None:
        value = await self.inner.get_suffix(key, length)
        if key == self.key and not self.done:
            self.done = True
            await self.rewrite()
        return value


async def test_a_shard_rewrite_between_index_and_data_reads_is_never_mixed(tmp_path: Path) -> None:
    root = tmp_path / "data"
    local = LocalStore(root)
    # uncompressed inner chunks: the old index then points at whole, decodable chunks of the new
    # version, so a mix is silent wrong data rather than a decoding error
    codecs = [
        {"name": "sharding_indexed", "configuration": {"chunk_shape": [INNER], "codecs": [LE], "index_codecs": [LE]}}
    ]
    writer = await aio.create(local, shape=(N,), dtype="uint32", chunks=(N,), codecs=codecs, path="s")
    await writer.setitem(..., generation(1))

    async def rewrite() -> None:
        await writer.setitem(..., generation(2))

    store = RewriteBetweenCalls(local, "s/c/0", rewrite)
    assert blocking_access(store) is None
    reader = await aio.open_array(store, path="s", mode="r")
    got = await reader.getitem(slice(8, 24))
    assert store.done
    assert generation_of(got, 8), f"mixed read: {got.tolist()}"


UNCOMPRESSED_SHARD = [
    {"name": "sharding_indexed", "configuration": {"chunk_shape": [INNER], "codecs": [LE], "index_codecs": [LE]}}
]


class ReadOnlyView(RewriteBetweenCalls):
    """A read-only view (this process never writes) of a store another writer changes."""

    def __init__(self, inner: LocalStore, key: str, rewrite: Any) -> None:
        super().__init__(inner, key, rewrite)
        self.read_only = True


async def test_a_read_only_view_is_not_mixed_by_a_rewrite_between_index_and_data(tmp_path: Path) -> None:
    """read_only says this process does not write, not that nobody does: the shard may still change."""
    local = LocalStore(tmp_path / "data")
    writer = await aio.create(local, shape=(N,), dtype="uint32", chunks=(N,), codecs=UNCOMPRESSED_SHARD, path="s")
    await writer.setitem(..., generation(1))

    async def rewrite() -> None:
        await writer.setitem(..., generation(2))

    store = ReadOnlyView(local, "s/c/0", rewrite)
    assert blocking_access(store) is None
    reader = await aio.open_array(store, path="s", mode="r")
    try:
        got = await reader.getitem(slice(8, 24))
    except zarrio.errors.ObjectChangedError:
        return  # detected: a typed error is fine, mixed data is not
    assert store.done
    assert generation_of(got, 8), f"mixed read: {got.tolist()}"


async def test_a_read_only_view_does_not_reuse_a_stale_shard_index(tmp_path: Path) -> None:
    """A reader that read a shard once, then reads it again after another writer replaced it."""
    local = LocalStore(tmp_path / "data")
    writer = await aio.create(local, shape=(N,), dtype="uint32", chunks=(N,), codecs=UNCOMPRESSED_SHARD, path="s")
    await writer.setitem(..., generation(1))

    async def nothing() -> None:
        pass

    store = ReadOnlyView(local, "s/c/0", nothing)
    reader = await aio.open_array(store, path="s", mode="r")
    first = await reader.getitem(slice(8, 24))
    assert generation_of(first, 8) == {1}
    await writer.setitem(..., generation(2))
    try:
        again = await reader.getitem(slice(8, 24))
    except zarrio.errors.ObjectChangedError:
        return
    assert generation_of(again, 8), f"mixed read: {again.tolist()}"


def test_generation_patterns_are_distinguishable() -> None:
    """The test data itself: any two generations differ in every inner chunk that is stored in either,
    and the shard layout changes between consecutive generations (so a mix cannot go unnoticed)."""
    for g in range(1, 50):
        a, b = generation(g), generation(g + 1)
        for inner in range(N // INNER):
            part = slice(inner * INNER, (inner + 1) * INNER)
            assert not np.array_equal(a[part], b[part]) or not a[part].any()
        assert generation_of(a, 0) == {g}
    started = time.perf_counter()
    generation_of(generation(7)[8:24], 8)
    assert time.perf_counter() - started < 0.5
