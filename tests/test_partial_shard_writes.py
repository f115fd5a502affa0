"""Partial shard writes (issue 17, item 4): a few inner chunks of a large shard updated without
rewriting it.

On a store that appends (LocalStore: copy-on-write, stores/_append.py) the new inner chunks and
a new index go at the end of the shard (engine/shard_append.py); elsewhere the shard is rewritten
from its kept encoded inner chunks plus one encode per changed one. Readers see the old shard or
the new; zarr-python and tensorstore read the appended shards; ``zarrio compact`` reclaims the
garbage.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest

import zarrio
from zarrio import aio
from zarrio.cli import main as cli_main
from zarrio.cli.compact import compact_node
from zarrio.codecs import CodecChain, ShardingCodec
from zarrio.codecs.shard_update import appended_tail, garbage_nbytes
from zarrio.errors import TransportError
from zarrio.stores import LocalStore, MemoryStore, Store, _append
from zarrio.testing.wrappers import CountingStore

SHARD, INNER = 1024, 64  # 256 inner chunks of 16 KiB (float32)
KEY = "c/0/0"


def _make(store: Any, *, seed: int = 0) -> tuple[zarrio.Array, np.ndarray[Any, Any]]:
    z = zarrio.create(store, (SHARD, SHARD), "float32", chunks=(INNER, INNER), shards=(SHARD, SHARD))
    data = np.random.default_rng(seed).random((SHARD, SHARD), dtype="float32")
    z[:, :] = data
    return z, data


def _shard_size(root: Path) -> int:
    return (root / KEY).stat().st_size


# ---------------------------------------------------------------- bytes moved for a 1% update
@pytest.mark.parametrize("wrapped", [False, True], ids=["blocking-path", "async-path"])
def test_a_one_percent_update_appends_only_the_new_inner_chunks(tmp_path: Path, wrapped: bool) -> None:
    local = LocalStore(tmp_path)
    counting = CountingStore(local)
    z, data = _make(counting if wrapped else local)
    size_before = _shard_size(tmp_path)
    counting.reset()
    targets = [(0, 0), (7, 3), (15, 15)]  # 3 of 256 inner chunks: about 1%
    for i, j in targets:
        region = (slice(i * INNER, (i + 1) * INNER), slice(j * INNER, (j + 1) * INNER))
        data[region] = i + j
        z[region] = data[region]
    index_nbytes = 256 * 16 + 4
    appended = _shard_size(tmp_path) - size_before
    assert appended < 3 * (INNER * INNER * 4 + index_nbytes)  # the new inner chunks and indexes, never the shard
    assert appended < size_before // 50
    if wrapped:  # through the counting wrapper: the index read, the new bytes appended, nothing rewritten
        assert counting.counts["set"] == 0 and counting.counts["get"] == 0
        assert counting.counts["append"] == 3
        assert counting.bytes_written == appended
        assert counting.bytes_read == 3 * index_nbytes
    np.testing.assert_array_equal(zarrio.open_array(str(tmp_path))[:, :], data)


def test_a_partly_covered_inner_chunk_reads_only_that_inner_chunk(tmp_path: Path) -> None:
    counting = CountingStore(LocalStore(tmp_path))
    z, data = _make(counting)
    raw = (tmp_path / KEY).read_bytes()
    index = ShardingCodec((INNER, INNER), ["bytes"]).decode_index(raw[-(256 * 16 + 4) :], (16, 16))
    counting.reset()
    z[10:20, 10:20] = -1.0  # inside inner chunk (0, 0), partly
    data[10:20, 10:20] = -1.0
    assert counting.counts["get_ranges"] == 1 and counting.counts["get"] == 0
    assert counting.bytes_read == 256 * 16 + 4 + int(index[0, 0, 1])  # the index, one inner chunk
    np.testing.assert_array_equal(z[:, :], data)


def test_without_appends_the_shard_is_rewritten_with_one_encode_per_changed_inner_chunk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counting = CountingStore(MemoryStore())
    z, data = _make(counting)
    encoded: list[tuple[int, ...]] = []
    original = CodecChain.encode

    def counted(self: CodecChain, chunk: Any, *args: Any, **kwargs: Any) -> Any:
        encoded.append(tuple(np.shape(chunk)))
        return original(self, chunk, *args, **kwargs)

    monkeypatch.setattr(CodecChain, "encode", counted)
    counting.reset()
    z[0:64, 64:192] = 2.0  # two whole inner chunks
    z[100:110, 0:10] = 3.0  # one partly
    data[0:64, 64:192], data[100:110, 0:10] = 2.0, 3.0
    inner = [shape for shape in encoded if shape == (INNER, INNER)]
    assert len(inner) == 3  # one encode per changed inner chunk, the 253 others kept as encoded bytes
    assert counting.counts["set"] == 2  # MemoryStore cannot append: the shard is stored whole
    np.testing.assert_array_equal(z[:, :], data)


# ---------------------------------------------------------------- values after many random updates
@pytest.mark.parametrize(
    ("wrapped", "index_location"), [(False, "end"), (True, "end"), (False, "start")], ids=["local", "async", "start"]
)
def test_random_partial_updates_read_back_as_numpy(tmp_path: Path, wrapped: bool, index_location: str) -> None:
    rng = np.random.default_rng(17)
    store: Any = LocalStore(tmp_path)
    where: Literal["start", "end"] = "start" if index_location == "start" else "end"
    sharding = ShardingCodec(
        (16, 10), [{"name": "bytes", "configuration": {"endian": "little"}}, "zstd"], index_location=where
    )
    z = zarrio.create(
        CountingStore(store) if wrapped else store,
        (200, 150),
        "int32",
        chunks=(64, 50),
        codecs=[sharding],
        fill_value=-1,
    )
    want = np.full((200, 150), -1, dtype="int32")
    for step in range(120):
        a, b = sorted(rng.integers(0, 201, 2))
        c, d = sorted(rng.integers(0, 151, 2))
        value: Any = rng.integers(-1, 5, (b - a, d - c)) if step % 3 else rng.integers(-1, 1)  # fill-heavy too
        want[a:b, c:d] = value
        z[a:b, c:d] = value
        if step % 20 == 19:
            np.testing.assert_array_equal(zarrio.open_array(str(tmp_path))[:, :], want)
    np.testing.assert_array_equal(z[:, :], want)


def test_appended_tail_declines_an_all_missing_shard_and_too_much_garbage() -> None:
    codec = ShardingCodec((2,), ["bytes"])
    index = np.array([[0, 8], [8, 8]], dtype=np.uint64)
    assert appended_tail(codec, (2,), index, 16 + 36, {0: None, 1: None}) is None  # erase instead
    tail = appended_tail(codec, (2,), index, 52, {0: b"x" * 8})
    assert tail is not None and len(tail) == 8 + 36
    assert appended_tail(codec, (2,), index, 52 + 8 * 100, {0: b"x" * 8}) is None  # compact instead
    with pytest.raises(ValueError):
        appended_tail(ShardingCodec((2,), ["bytes"], index_location="start"), (2,), index, 52, {0: b""})


def test_many_updates_of_one_inner_chunk_stay_under_twice_the_compact_size(tmp_path: Path) -> None:
    z, _ = _make(LocalStore(tmp_path))
    compact = _shard_size(tmp_path)
    for step in range(80):
        z[0:64, 0:640] = float(step)  # 10 inner chunks, ~6% of the shard, each time
        assert _shard_size(tmp_path) < 2.05 * compact


# ---------------------------------------------------------------- atomicity and failures
def test_a_failed_append_leaves_the_old_shard_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    z, data = _make(LocalStore(tmp_path))
    before = (tmp_path / KEY).read_bytes()

    def broken(src: int, dst: int, size: int) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_append, "_clone", broken)
    with pytest.raises(TransportError):
        z[0:10, 0:10] = 5.0
    assert (tmp_path / KEY).read_bytes() == before
    assert not [p for p in (tmp_path / "c" / "0").iterdir() if p.name.startswith(".zarrio-tmp-")]
    np.testing.assert_array_equal(z[:, :], data)


def test_local_append_is_conditional_on_the_size(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.set_sync("k", b"abc")
    assert not store.append_sync("k", b"def", 2)
    assert not store.append_sync("missing", b"def", 0)
    assert store.append_sync("k", b"def", 3)
    assert store.get_sync("k") == b"abcdef"
    assert store.appends and not MemoryStore().appends and CountingStore(store).appends


def test_the_default_append_hook_refuses(tmp_path: Path) -> None:
    class Minimal(Store):
        async def get(self, key: str) -> bytes | None:
            return None

        async def set(self, key: str, value: bytes) -> None: ...
        async def erase(self, key: str) -> None: ...
        async def exists(self, key: str) -> bool:
            return False

        async def list(self, prefix: str = "") -> builtins.list[str]:
            return []

        async def list_dir(self, prefix: str = "") -> tuple[builtins.list[str], builtins.list[str]]:
            return [], []

    assert not Minimal.appends
    with pytest.raises(NotImplementedError):
        asyncio.run(Minimal().append("k", b"", 0))


def test_concurrent_readers_see_the_old_shard_or_the_new(tmp_path: Path) -> None:
    """A writer adds one number to a region spanning two inner chunks (one whole, one partly) of
    incompressible data, 150 times; readers in threads, through their own stores, must find the
    region shifted by one number (an in-place append shows them a half-written tail instead)."""
    z = zarrio.create(str(tmp_path), (256, 256), "int32", chunks=(64, 64), shards=(256, 256))
    base = np.random.default_rng(5).integers(0, 2**30, (64, 100)).astype("int32")
    z[:, :] = 0
    z[0:64, 0:100] = base
    stop = threading.Event()
    seen: list[int] = []
    errors: list[BaseException] = []

    def reader() -> None:
        mine = zarrio.open_array(LocalStore(tmp_path))
        try:
            while not stop.is_set():
                shift = np.unique(mine[0:64, 0:100] - base)  # inner chunk (0,0) wholly, (0,1) partly
                if shift.size != 1:
                    raise AssertionError(f"a mix of updates: {shift}")
                seen.append(int(shift[0]))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for v in range(1, 151):
            z[0:64, 0:100] = base + v
            z[200:210, 200:210] = v  # another inner chunk of the same shard, appended too
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert not errors, errors[0]
    assert seen and len(set(seen)) > 1
    assert z[0, 0] == base[0, 0] + 150


# ---------------------------------------------------------------- compact
def test_compact_restores_the_compact_bytes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    z, data = _make(LocalStore(tmp_path / "a.zarr"))
    for i in range(5):
        region = (slice(i * INNER, i * INNER + 30), slice(0, 200))
        data[region] = i
        z[region] = data[region]
    fresh, _ = _make(LocalStore(tmp_path / "b.zarr"))
    fresh[:, :] = data
    compact_bytes = (tmp_path / "b.zarr" / KEY).read_bytes()
    assert _shard_size(tmp_path / "a.zarr") > len(compact_bytes)
    assert cli_main(["compact", str(tmp_path / "a.zarr"), "--dry-run"]) == 0
    assert "would rewrite 1 of 1 shard" in capsys.readouterr().out
    assert _shard_size(tmp_path / "a.zarr") > len(compact_bytes)
    assert cli_main(["compact", str(tmp_path / "a.zarr")]) == 0
    assert "rewrote 1 of 1 shard" in capsys.readouterr().out
    assert (tmp_path / "a.zarr" / KEY).read_bytes() == compact_bytes  # byte for byte a fresh write
    np.testing.assert_array_equal(zarrio.open_array(str(tmp_path / "a.zarr"))[:, :], data)
    assert cli_main(["compact", str(tmp_path / "a.zarr")]) == 0
    assert "rewrote 0 of 1 shard" in capsys.readouterr().out


def test_compact_walks_a_group(tmp_path: Path) -> None:
    root = tmp_path / "g.zarr"
    zarrio.create_group(str(root))
    z = zarrio.create(str(root), (64, 64), "int16", path="x/y", chunks=(8, 8), shards=(32, 32))
    zarrio.create(str(root), (4,), "int8", path="plain")
    z[:, :] = 1
    z[3:5, 3:5] = 2
    z[40:41, 40:60] = 3

    async def run() -> Any:
        store = LocalStore(root)
        return await compact_node(store, await aio.open(store))

    done = asyncio.run(run())
    assert done.arrays == ["/x/y"] and done.shards == 4 and done.rewritten == 2
    assert done.bytes_after < done.bytes_before
    codec = ShardingCodec((8, 8), ["bytes"])
    for key in ("x/y/c/0/0", "x/y/c/1/1"):
        raw = (root / key).read_bytes()
        index = codec.decode_index(raw[-(16 * 16 + 4) :], (4, 4), shard_nbytes=len(raw))
        assert garbage_nbytes(codec, index, (4, 4), len(raw)) == 0


# ---------------------------------------------------------------- the reference implementations
READ_BOTH = """
import json, sys, warnings
import numpy as np, zarr, tensorstore as ts
warnings.simplefilter("ignore")
path = sys.argv[1]
want = np.load(path + ".npy")
got = zarr.open_array(path, mode="r")[...]
t = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": path}}).result().read().result()
print(json.dumps({"zarr": bool(np.array_equal(got, want)), "tensorstore": bool(np.array_equal(t, want))}))
"""


def test_zarr_python_and_tensorstore_read_appended_shards(tmp_path: Path, run_ref: Callable[..., str]) -> None:
    path = tmp_path / "appended.zarr"
    rng = np.random.default_rng(3)
    z = zarrio.create(str(path), (96, 80), "int32", chunks=(8, 10), shards=(48, 40))
    want = rng.integers(0, 1000, (96, 80)).astype("int32")
    z[:, :] = want
    for _ in range(40):
        a, c = rng.integers(0, 90), rng.integers(0, 70)
        value = rng.integers(-50, 50, (5, 9))
        want[a : a + 5, c : c + 9] = value
        z[a : a + 5, c : c + 9] = value
    z[0:8, 0:10] = 0  # an inner chunk of fill only: missing in the new index
    want[0:8, 0:10] = 0
    sizes = [os.path.getsize(p) for p in sorted((path / "c").rglob("*")) if p.is_file()]
    assert len(sizes) == 4
    np.save(str(path) + ".npy", want)
    result = json.loads(run_ref(READ_BOTH, str(path)).strip().splitlines()[-1])
    assert result == {"zarr": True, "tensorstore": True}
