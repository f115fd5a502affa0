"""Nested sharding: a read that wants part of an inner shard fetches the outer index, the inner
indexes it needs (one read) and then only the inner-inner chunks its selection touches (one read).

The plan is checked on its own (a small driver over one shard's bytes records every read), then
through the engine over blocking stores (memory, local), non-blocking ones (counting wrappers:
request and byte counts), HTTP (nginx's access log), with corrupt inner indexes, missing inner
shards, and against zarr-python 3.4.2 both ways.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import zarrio
from zarrio.codecs import ChunkSpec, CodecChain, ShardingCodec
from zarrio.codecs.plan import Read
from zarrio.errors import ChecksumError, CorruptChunkError, MissingChunkError
from zarrio.stores import HttpStore, LocalStore, MemoryStore
from zarrio.testing import CountingStore

SHAPE = (60, 50)  # not a multiple of the shards: edge shards are partly outside the array
SHARD = (32, 32)  # the array's chunk grid: outer shards
INNER = (16, 16)  # inner shards, 4 per outer shard
BLOCK = (4, 4)  # inner-inner chunks, 16 per inner shard
DATA = np.random.default_rng(14).integers(-(10**6), 10**6, SHAPE).astype("int32")
LOCATIONS = [(outer, inner) for outer in ("start", "end") for inner in ("start", "end")]
SELECTIONS: list[Any] = [
    np.s_[4:8, 6:7],  # one inner-inner chunk
    np.s_[3, :],  # a row through every inner shard of two outer shards
    np.s_[:, 17],  # a column
    np.s_[14:19, 14:19],  # the corner of four inner shards of one outer shard
    np.s_[::7, 3::11],
    np.s_[[0, 33, 59], 2:40],
    np.s_[0:16, 0:20],  # one inner shard wholly, the next partly
    np.s_[...],
]


def codecs(outer: str = "end", inner: str = "end") -> list[Any]:
    return [
        ShardingCodec(
            chunk_shape=INNER,
            index_location=outer,  # type: ignore[arg-type]
            codecs=[
                ShardingCodec(
                    chunk_shape=BLOCK,
                    index_location=inner,  # type: ignore[arg-type]
                    codecs=[
                        {"name": "bytes", "configuration": {"endian": "little"}},
                        {"name": "zstd", "configuration": {"level": 1}},
                    ],
                )
            ],
        )
    ]


def write(store: Any, path: str | None, outer: str = "end", inner: str = "end") -> None:
    z = zarrio.create(store, SHAPE, "int32", path=path, chunks=SHARD, codecs=codecs(outer, inner))
    z[...] = DATA


# ---------------------------------------------------------------- the plan alone
@dataclass(frozen=True)
class _Pick:
    chunk_selection: tuple[Any, ...]
    is_complete: bool = False


def _drive(plan: Any, value: bytes) -> tuple[Any, list[Read]]:
    """Run ``plan`` over ``value``; return its result and every read it asked."""
    reads: list[Read] = []
    answer: Any = None
    while True:
        try:
            read = plan.send(answer)
        except StopIteration as done:
            return done.value, reads
        reads.append(read)
        if read.kind == "whole":
            answer = value
        elif read.kind == "range":
            answer = value[read.offset : read.offset + read.length]
        elif read.kind == "suffix":
            answer = (value[len(value) - read.length :], len(value))
        else:
            answer = [value[offset : offset + length] for offset, length in read.ranges]


def _fetched(reads: list[Read]) -> int:
    return sum(read.length if read.kind != "ranges" else sum(n for _, n in read.ranges) for read in reads)


@pytest.mark.parametrize(("outer", "inner"), LOCATIONS)
def test_plan_reads_the_indexes_then_only_the_touched_inner_inner_chunks(outer: str, inner: str) -> None:
    shard = DATA[:32, :32]
    chain = CodecChain.from_json(codecs(outer, inner), ChunkSpec(SHARD, np.dtype("int32"), 0))
    value = bytes(chain.encode(shard))
    sharding = chain.sharding
    assert isinstance(sharding, ShardingCodec)
    # inner shard 0 (rows 0-15, cols 0-15): rows 4-7 of column 6, one block; inner shard 3: rows 16-31, col 20
    picks = [(0, _Pick((slice(4, 8), 6))), (3, _Pick((slice(0, 16), 4)))]
    plan = sharding.read_plan((2, 2), [0, 3], limit=1 << 30, check_part=lambda n: None, recheck=False, picks=picks)
    parts, reads = _drive(plan, value)
    assert len(reads) == 3  # the outer index; the two inner indexes in one read; the data in one read
    assert reads[0].cacheable and reads[0].kind == ("range" if outer == "start" else "suffix")
    assert reads[1].kind == "ranges" and reads[1].cacheable and len(reads[1].ranges) == 2
    assert reads[2].kind == "ranges" and not reads[2].cacheable and len(reads[2].ranges) == 1 + 4
    assert _fetched(reads) < len(value) / 4
    assert sorted(parts) == [0, 3]
    inner_chain, inner_spec = sharding.inner, sharding.inner_spec(chain.spec)
    first = inner_chain.decode(parts[0], inner_spec)
    assert np.array_equal(first[4:8, 6], shard[4:8, 6])
    last = inner_chain.decode(parts[3], inner_spec)
    assert np.array_equal(last[:, 4], shard[16:32, 20])
    assert (last[:, 8:] == 0).all()  # not fetched: read as fill, and never placed by the engine


def test_plan_with_recheck_reads_the_inner_and_outer_indexes_again() -> None:
    chain = CodecChain.from_json(codecs(), ChunkSpec(SHARD, np.dtype("int32"), 0))
    value = bytes(chain.encode(DATA[:32, :32]))
    sharding = chain.sharding
    assert isinstance(sharding, ShardingCodec)
    picks = [(1, _Pick((0, slice(0, 3))))]
    plan = sharding.read_plan((2, 2), [1], limit=1 << 30, check_part=lambda n: None, recheck=True, picks=picks)
    _, reads = _drive(plan, value)
    assert [read.kind for read in reads] == ["suffix", "ranges", "ranges", "ranges", "suffix"]
    assert reads[3].ranges == reads[1].ranges and not reads[3].cacheable and not reads[4].cacheable


# ---------------------------------------------------------------- through the engine
@pytest.mark.parametrize(("outer", "inner"), LOCATIONS)
@pytest.mark.parametrize("kind", ["memory", "local", "counting"])
def test_values_match_numpy(kind: str, outer: str, inner: str, tmp_path: Path) -> None:
    base: Any = LocalStore(tmp_path) if kind == "local" else MemoryStore()
    write(base, "a", outer, inner)
    z = zarrio.open_array(CountingStore(base) if kind == "counting" else base, path="a")
    for selection in SELECTIONS:
        assert np.array_equal(z[selection], DATA[selection]), selection
    points = (np.array([0, 31, 33, 59, 17]), np.array([0, 31, 49, 2, 17]))
    assert np.array_equal(z.vindex[points], DATA[points])


def _counting(base: Any, consistency: str) -> tuple[CountingStore, Any]:
    counting = CountingStore(base)
    counting.consistency = consistency  # type: ignore[assignment]
    z = zarrio.open_array(counting, path="a")
    counting.reset()
    return counting, z


@pytest.mark.parametrize(("outer", "inner"), LOCATIONS)
def test_a_partial_read_fetches_indexes_and_touched_chunks_only(outer: str, inner: str) -> None:
    base = MemoryStore()
    write(base, "a", outer, inner)
    shard_bytes = len(base.get_sync("a/c/0/0") or b"")
    counting, z = _counting(base, "immutable")
    index_get = "get_partial" if outer == "start" else "get_suffix"
    assert np.array_equal(z[4:8, 6:7], DATA[4:8, 6:7])
    assert dict(counting.counts) == {index_get: 1, "get_ranges": 2}  # outer index, inner index, data
    assert counting.bytes_read < 600  # two indexes (16*4+4 and 4*16+4 bytes) and one 64-byte chunk
    counting.reset()
    assert np.array_equal(z[3, :], DATA[3, :])  # two outer shards (one index kept), two inner shards each
    assert dict(counting.counts) == {index_get: 1, "get_ranges": 4}
    counting.reset()
    assert np.array_equal(z[4:8, 6:7], DATA[4:8, 6:7])  # every index kept: the data alone
    assert dict(counting.counts) == {"get_ranges": 1}
    counting.reset()
    assert np.array_equal(z[0:32, 0:32], DATA[0:32, 0:32])  # a whole shard: one plain read
    assert dict(counting.counts) == {"get": 1}
    assert counting.bytes_read == shard_bytes


def test_partial_reads_read_far_fewer_bytes_than_the_inner_shards() -> None:
    base = MemoryStore()
    write(base, "a")
    counting, z = _counting(base, "immutable")
    assert np.array_equal(z[:, 17], DATA[:, 17])
    column = counting.bytes_read
    counting.reset()
    assert np.array_equal(z[:, 16:32], DATA[:, 16:32])  # the inner shards that column lies in, wholly
    # the outer indexes kept; no inner index: the inner shards read whole (the edge ones too: every
    # element of theirs inside the array is wanted)
    assert dict(counting.counts) == {"get_ranges": 2}
    assert column * 2 < counting.bytes_read  # 15 of 60 stored blocks, and the indexes


def test_a_mutable_store_reads_the_indexes_again_after_the_data() -> None:
    base = MemoryStore()
    write(base, "a")
    counting, z = _counting(base, "mutable")
    assert np.array_equal(z[4:8, 6:7], DATA[4:8, 6:7])
    # outer index, inner index, data, inner index again, outer index again
    assert dict(counting.counts) == {"get_suffix": 2, "get_ranges": 3}


def _corrupt_inner_index(store: MemoryStore, key: str, *, entry: bool) -> None:
    """Flip a byte of the first inner shard's index (its crc32c then fails), or (``entry``) write
    a well-checksummed index whose first entry points past the inner shard."""
    raw = bytearray(store.get_sync(key) or b"")
    outer = ShardingCodec(INNER)
    index = outer.decode_index(bytes(raw[-(4 * 16 + 4) :]), (2, 2), shard_nbytes=len(raw)).reshape(-1, 2)
    offset, nbytes = (int(v) for v in index[0])
    inner = ShardingCodec(BLOCK)
    start = offset + nbytes - inner.index_nbytes((4, 4))
    if entry:
        inner_index = inner.decode_index(bytes(raw[start : offset + nbytes]), (4, 4)).copy().reshape(-1, 2)
        inner_index[0] = (nbytes, 64)
        raw[start : offset + nbytes] = inner._index_chain((4, 4)).encode(inner_index.reshape(4, 4, 2))
    else:
        raw[start] ^= 0xFF
    store.set_sync(key, bytes(raw))


@pytest.mark.parametrize("entry", [False, True])
@pytest.mark.parametrize("counted", [False, True])
def test_a_corrupt_inner_index_is_a_typed_error(entry: bool, counted: bool) -> None:
    base = MemoryStore()
    write(base, "a")
    _corrupt_inner_index(base, "a/c/0/0", entry=entry)
    z = zarrio.open_array(CountingStore(base) if counted else base, path="a")
    with pytest.raises(CorruptChunkError if entry else ChecksumError) as caught:
        z[4:8, 6:7]
    assert caught.value.key == "a/c/0/0"
    assert np.array_equal(z[4:8, 20:21], DATA[4:8, 20:21])  # the other inner shards still read


@pytest.mark.parametrize("counted", [False, True])
def test_missing_inner_shards_and_chunks_read_as_fill(counted: bool) -> None:
    base = MemoryStore()
    z = zarrio.create(base, SHAPE, "int32", path="a", chunks=SHARD, codecs=codecs())
    z[0:4, 0:4] = 7  # one inner-inner chunk of one inner shard of one outer shard
    r = zarrio.open_array(CountingStore(base) if counted else base, path="a")
    want = np.zeros(SHAPE, "int32")
    want[0:4, 0:4] = 7
    for selection in SELECTIONS:
        assert np.array_equal(r[selection], want[selection]), selection
    strict = zarrio.open_array(CountingStore(base) if counted else base, path="a", strict=True)
    assert np.array_equal(strict[0:4, 0:8], want[0:4, 0:8])  # a missing inner-inner chunk: as before, fill
    with pytest.raises(MissingChunkError):
        strict[0:4, 20:24]  # a missing inner shard


# ---------------------------------------------------------------- HTTP
def test_http_reads_only_the_ranges_it_needs(nginx: Any, tmp_path: Path) -> None:
    name = f"nested-{tmp_path.name}.zarr"
    write(str(nginx.root / name), None)
    z = zarrio.open_array(HttpStore(f"{nginx.url}/{name}"))
    assert np.array_equal(z[4:8, 6:7], DATA[4:8, 6:7])
    mark = len(nginx.access_log())
    assert np.array_equal(z[40:44, 40:41], DATA[40:44, 40:41])
    log = [entry for entry in nginx.access_log()[mark:] if "/c/" in entry.uri]
    assert len(log) == 3  # the outer index, the inner index, one inner-inner chunk
    assert sum(entry.bytes_sent for entry in log) < 3 * 1024  # bytes on the wire, headers included


# ---------------------------------------------------------------- zarr-python
WRITE_NESTED = """
import sys
import numpy as np, zarr
from zarr.codecs import BytesCodec, ShardingCodec, ZstdCodec
path, outer, inner = sys.argv[1:4]
data = np.load(path + ".npy")
codec = ShardingCodec(chunk_shape=(16, 16), index_location=outer, codecs=[
    ShardingCodec(chunk_shape=(4, 4), index_location=inner, codecs=[BytesCodec(), ZstdCodec(level=1)])])
z = zarr.create_array(path, shape=data.shape, dtype="int32", chunks=(32, 32), serializer=codec, compressors=None,
                      fill_value=0)
z[...] = data
"""

READ_NESTED = """
import json, sys
import numpy as np, zarr
path = sys.argv[1]
got = zarr.open_array(path, mode="r")
want = np.load(path + ".npy")
print(json.dumps([bool(np.array_equal(got[...], want)), bool(np.array_equal(got[3, 5:40], want[3, 5:40]))]))
"""


@pytest.mark.parametrize(("outer", "inner"), [("end", "end"), ("start", "start")])
def test_zarr_python_writes_what_zarrio_reads_partially(
    outer: str, inner: str, tmp_path: Path, run_ref: Callable[..., str]
) -> None:
    path = tmp_path / "by-zarr-python.zarr"
    np.save(str(path) + ".npy", DATA)
    run_ref(WRITE_NESTED, str(path), outer, inner)
    counting = CountingStore(LocalStore(path))
    counting.consistency = "immutable"
    z = zarrio.open_array(counting)
    counting.reset()
    assert np.array_equal(z[4:8, 6:7], DATA[4:8, 6:7])
    index_get = "get_partial" if outer == "start" else "get_suffix"
    assert dict(counting.counts) == {index_get: 1, "get_ranges": 2}
    assert counting.bytes_read < 600
    assert np.array_equal(z[...], DATA)


@pytest.mark.parametrize(("outer", "inner"), [("end", "start"), ("start", "end")])
def test_zarr_python_reads_what_zarrio_writes(
    outer: str, inner: str, tmp_path: Path, run_ref: Callable[..., str]
) -> None:
    path = tmp_path / "by-zarrio.zarr"
    write(str(path), None, outer, inner)
    np.save(str(path) + ".npy", DATA)
    assert json.loads(run_ref(READ_NESTED, str(path)).strip().splitlines()[-1]) == [True, True]


@pytest.mark.parametrize("counted", [False, True])
def test_the_decoded_chunk_cache_never_keeps_a_partly_read_inner_shard(counted: bool) -> None:
    base = MemoryStore()
    write(base, "a")
    z = zarrio.open_array(CountingStore(base) if counted else base, path="a", cache_bytes=1 << 20)
    assert np.array_equal(z[4:8, 6:7], DATA[4:8, 6:7])  # one block of inner shard (0, 0)
    assert np.array_equal(z[0:16, 0:16], DATA[0:16, 0:16])  # all of it: not the fill of the first read
    assert np.array_equal(z[4:8, 6:7], DATA[4:8, 6:7])  # and now from the cache
