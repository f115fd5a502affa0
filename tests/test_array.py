"""Arrays over every writable store: data types, fill values, indexing, writes,
sharding, resize/append, and the errors bad data must raise."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import zarrio
from zarrio.errors import (
    ChecksumError,
    CodecError,
    MetadataError,
    NodeExistsError,
    NodeNotFoundError,
    ReadOnlyError,
    SelectionError,
)
from zarrio.stores import LocalStore, MemoryStore, Store, ZipStore
from zarrio.testing import CountingStore


@pytest.fixture(params=["memory", "local", "zip"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
    elif request.param == "local":
        yield LocalStore(tmp_path / "data.zarr")
    else:
        zs = ZipStore(tmp_path / "data.zip", mode="w")
        yield zs
        zs.close()


NUMERIC = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
           "float16", "float32", "float64", "complex64", "complex128"]  # fmt: skip


def sample(dtype: str, shape: tuple[int, ...], seed: int = 0) -> np.ndarray[Any, Any]:
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.integers(0, 2, n).astype(bool).reshape(shape)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return rng.integers(info.min, info.max, n, dtype=dt, endpoint=True).reshape(shape)
    if dt.kind == "f":
        return (rng.standard_normal(n) * 1000).astype(dt).reshape(shape)
    return (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(dt).reshape(shape)


@pytest.mark.parametrize("dtype", NUMERIC)
def test_numeric_round_trip(store: Store, dtype: str) -> None:
    data = sample(dtype, (13, 7))
    z = zarrio.create(store, (13, 7), dtype, chunks=(4, 3), path="a")
    z[...] = data
    back = zarrio.open(store, path="a")[...]
    assert back.dtype == np.dtype(dtype)
    assert back.tobytes() == data.tobytes()


@pytest.mark.parametrize("shards", [None, (8, 6)])
def test_orthogonal_reads_and_writes_match_numpy(store: Store, shards: tuple[int, int] | None) -> None:
    ref = np.zeros((17, 11), dtype="int32")
    z = zarrio.create(store, (17, 11), "int32", chunks=(4, 3), shards=shards, fill_value=0)
    rng = np.random.default_rng(1)
    selections: list[Any] = [
        (slice(None), slice(None)),
        (slice(2, 15, 3), slice(1, None)),
        (np.array([16, 0, 5, 5]), slice(None, None, 2)),
        (np.arange(17) % 3 == 0, 4),
        (7, ...),
        (slice(None, None, -1), np.array([10, 2])),
    ]
    for sel in selections:
        value = rng.integers(-1000, 1000, size=np.asarray(ref[np.ix_(*_axes(sel, ref.shape))]).shape).astype("int32")
        value = value.reshape(_ortho(ref, sel).shape)
        _ortho_set(ref, sel, value)
        z[sel] = value
        np.testing.assert_array_equal(z[...], ref)
        np.testing.assert_array_equal(z[sel], _ortho(ref, sel))


def _axes(sel: Any, shape: tuple[int, ...]) -> list[np.ndarray[Any, Any]]:
    sel = sel if isinstance(sel, tuple) else (sel,)
    if any(s is Ellipsis for s in sel):
        i = next(k for k, s in enumerate(sel) if s is Ellipsis)
        sel = sel[:i] + (slice(None),) * (len(shape) - len(sel) + 1) + sel[i + 1 :]
    sel = sel + (slice(None),) * (len(shape) - len(sel))
    out = []
    for s, n in zip(sel, shape, strict=True):
        if isinstance(s, int):
            out.append(np.array([s % n]))
        elif isinstance(s, slice):
            out.append(np.arange(n)[s])
        else:
            a = np.asarray(s)
            out.append(np.flatnonzero(a) if a.dtype == bool else a)
    return out


def _dropped(sel: Any) -> list[int]:
    sel = sel if isinstance(sel, tuple) else (sel,)
    return [i for i, s in enumerate(sel) if isinstance(s, int)]


def _ortho(ref: np.ndarray[Any, Any], sel: Any) -> np.ndarray[Any, Any]:
    r = ref[np.ix_(*_axes(sel, ref.shape))]
    return r.reshape([n for i, n in enumerate(r.shape) if i not in _dropped(sel)])


def _ortho_set(ref: np.ndarray[Any, Any], sel: Any, value: np.ndarray[Any, Any]) -> None:
    idx = np.ix_(*_axes(sel, ref.shape))
    ref[idx] = value.reshape(ref[idx].shape)


def test_unwritten_regions_read_as_fill_and_empty_chunks_are_not_stored(store: Store) -> None:
    z = zarrio.create(store, (10, 10), "float32", chunks=(5, 5), fill_value=float("nan"))
    assert np.isnan(z[...]).all()
    z[0:5, 0:5] = 1.0
    z[5:10, 5:10] = np.nan  # all fill: not stored
    assert z.nchunks_stored() == 1
    z[0:5, 0:5] = np.nan  # overwriting with all-fill erases the chunk
    assert z.nchunks_stored() == 0


def test_write_empty_chunks_stores_them(store: Store) -> None:
    z = zarrio.create(store, (10,), "int16", chunks=(5,), fill_value=3, write_empty_chunks=True)
    z[:] = 3
    assert z.nchunks_stored() == 2
    assert (z[:] == 3).all()


def test_negative_zero_is_not_the_zero_fill(store: Store) -> None:
    z = zarrio.create(store, (4,), "float64", chunks=(4,), fill_value=0.0)
    z[:] = -0.0
    back = z[:]
    assert np.signbit(back).all()


def test_strings_and_bytes(store: Store) -> None:
    words = np.array(["", "a", "héllo", "🌍 wide", "x" * 300, "z"], dtype=object)
    z = zarrio.create(store, (6,), "string", chunks=(4,), path="s")
    z[:] = words
    back = zarrio.open(store, path="s")[:]
    assert list(back) == list(words)
    b = zarrio.create(store, (3,), "variable_length_bytes", chunks=(2,), path="b")
    b[:] = np.array([b"", b"\x00\xff", b"abc"], dtype=object)
    assert list(b[:]) == [b"", b"\x00\xff", b"abc"]
    s = zarrio.create(store, (3,), str, chunks=(2,), path="partial")
    s[1] = "mid"
    assert list(s[:]) == ["", "mid", ""]


@pytest.mark.parametrize("dtype", ["datetime64[ns]", "datetime64[D]", "timedelta64[s]"])
def test_datetimes(store: Store, dtype: str) -> None:
    data = (
        np.array(["2020-01-01", "NaT", "1970-01-02"], dtype="datetime64[D]").astype(dtype)
        if "datetime" in dtype
        else np.array([1, -5, 0], dtype=dtype)
    )
    z = zarrio.create(store, (4,), dtype, chunks=(2,))
    z[:3] = data
    back = z[:]
    assert back.dtype == np.dtype(dtype)
    assert back[:3].tobytes() == data.tobytes()
    assert np.isnat(back[3])


def test_rank_zero_and_zero_length(store: Store) -> None:
    z = zarrio.create(store, (), "float64", fill_value=2.5, path="r0")
    assert z[()] == 2.5
    z[()] = 7.0
    assert zarrio.open(store, path="r0")[...] == 7.0
    e = zarrio.create(store, (0, 5), "int32", chunks=(2, 2), path="empty")
    assert e[...].shape == (0, 5)
    e[...] = np.zeros((0, 5), dtype="int32")


def test_resize_shrinks_and_erases_and_append_grows(store: Store) -> None:
    z = zarrio.create(store, (10,), "int32", chunks=(3,), path="one")
    z[:] = np.arange(10)
    z.resize(4)
    assert z.shape == (4,)
    assert z.nchunks_stored() == 2  # chunks 0-2 and 3-5; 6-8 and 9-11 erased
    z.resize(8)
    # chunk [3, 6) still holds 3, 4, 5 — zarr keeps in-bounds data of partly kept chunks
    assert list(z[:]) == [0, 1, 2, 3, 4, 5, 0, 0]
    assert z.append(np.array([8, 9])) == (10,)
    assert list(zarrio.open(store, path="one")[:]) == [0, 1, 2, 3, 4, 5, 0, 0, 8, 9]
    g = zarrio.create(store, (2, 3), "uint8", path="two", chunks=(2, 2))
    g.append(np.ones((2, 2), dtype="uint8"), axis=1)
    assert g.shape == (2, 5) and g[:, 3:].sum() == 4


def test_sharded_partial_read_fetches_only_needed_inner_chunks(tmp_path: Path) -> None:
    local = LocalStore(tmp_path / "s.zarr")
    data = np.arange(64 * 64, dtype="uint16").reshape(64, 64)
    z = zarrio.create(local, (64, 64), "uint16", chunks=(8, 8), shards=(32, 32))
    z[...] = data
    counting = CountingStore(local)
    r = zarrio.open(counting, mode="r")
    counting.reset()
    tile = r[8:16, 40:48]
    assert np.array_equal(tile, data[8:16, 40:48])
    assert counting.counts["get"] == 0, counting.counts  # no whole-shard reads
    assert counting.bytes_read < 2 * 8 * 8 * 2 + 1024 + 64 * 16 + 8  # index + one inner chunk, far from a shard
    counting.reset()
    whole = r[0:32, 0:32]  # a whole shard is one request
    assert np.array_equal(whole, data[:32, :32])
    assert sum(counting.counts.values()) == 1, counting.counts


def test_concurrent_readers_of_one_shard_share_requests() -> None:
    inner = MemoryStore()
    data = np.arange(64 * 64, dtype="uint8").reshape(64, 64)
    zarrio.create(inner, (64, 64), "uint8", chunks=(8, 8), shards=(64, 64))[...] = data
    counting = CountingStore(inner)

    async def tiles() -> list[np.ndarray[Any, Any]]:
        a = await zarrio.aio.open(counting, mode="r")
        counting.reset()
        import asyncio

        return await asyncio.gather(*(a.getitem((slice(0, 8), slice(x, x + 8))) for x in range(0, 64, 8)))

    got = zarrio.run(tiles())
    for x, tile in zip(range(0, 64, 8), got, strict=True):
        assert np.array_equal(tile, data[0:8, x : x + 8])
    # eight tiles of one shard: one index request, their ranges merged into one batched read, and
    # (a writable store without version pinning) one more index read to check the shard did not change
    assert counting.counts["get_suffix"] == 2, counting.counts
    assert counting.counts["get_ranges"] == 1, counting.counts


def test_sharded_missing_inner_chunks_and_shards_and_edges(store: Store) -> None:
    z = zarrio.create(store, (50, 30), "float32", chunks=(10, 10), shards=(20, 20), fill_value=-1.0)
    z[12:15, 3:7] = 5.0
    expected = np.full((50, 30), -1.0, dtype="float32")
    expected[12:15, 3:7] = 5.0
    np.testing.assert_array_equal(z[...], expected)
    z[40:50, 20:30] = 2.0  # an edge shard, partly outside the array
    expected[40:50, 20:30] = 2.0
    np.testing.assert_array_equal(zarrio.open(store)[...], expected)


def test_index_at_start_and_nested_sharding(store: Store) -> None:
    inner = {"name": "sharding_indexed", "configuration": {
        "chunk_shape": [2, 2], "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
        "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
        "index_location": "start"}}  # fmt: skip
    outer = {"name": "sharding_indexed", "configuration": {
        "chunk_shape": [4, 4], "codecs": [inner],
        "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
        "index_location": "end"}}  # fmt: skip
    data = np.arange(144, dtype="uint16").reshape(12, 12)
    z = zarrio.create(store, (12, 12), "uint16", chunks=(8, 8), codecs=[outer])
    z[...] = data
    np.testing.assert_array_equal(z[...], data)
    np.testing.assert_array_equal(z[5:11, 1:3], data[5:11, 1:3])


def test_codec_lists_as_json_or_objects(store: Store) -> None:
    from zarrio.codecs import BloscCodec, Crc32cCodec, GzipCodec, TransposeCodec

    data = sample("float32", (9, 5))
    a = zarrio.create(store, (9, 5), "float32", chunks=(4, 4), path="o",
                      codecs=[TransposeCodec(order=(1, 0)), GzipCodec(level=5), Crc32cCodec()])  # fmt: skip
    a[...] = data
    names = [c["name"] for c in a.codecs]
    assert names == ["transpose", "bytes", "gzip", "crc32c"]
    np.testing.assert_array_equal(zarrio.open(store, path="o")[...], data)
    b = zarrio.create(store, (9, 5), "float32", chunks=(4, 4), path="j",
                      codecs=[{"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "bitshuffle"}}])  # fmt: skip
    b[...] = data
    np.testing.assert_array_equal(b[...], data)
    assert isinstance(BloscCodec, type)


def test_metadata_fields_and_attributes(store: Store) -> None:
    z = zarrio.create(store, (4, 6), "int16", chunks=(2, 3), path="m", dimension_names=["y", None],
                      attributes={"units": "K", "nan": float("nan")}, chunk_key_encoding={"name": "v2", "configuration": {"separator": "."}})  # fmt: skip
    z[...] = 1
    assert z.dimension_names == ("y", None)
    assert z.attrs["units"] == "K"
    z.attrs["extra"] = [1, 2]
    again = zarrio.open(store, path="m")
    assert again.attrs["extra"] == [1, 2] and np.isnan(again.attrs["nan"])
    assert zarrio.stores.as_store(store) is store
    assert again.store.exists("m/0.1")


def test_groups_members_tree_and_errors(store: Store) -> None:
    root = zarrio.create_group(store, attributes={"top": True})
    zarrio.create(store, (3,), "int8", path="a/b/c")
    zarrio.create_group(store, path="a/g2")
    names = [n for n, _ in zarrio.open(store)["a"].members()]
    assert names == ["b", "g2"]
    assert isinstance(zarrio.open(store)["a/b/c"], zarrio.Array)
    assert "c (3,) int8" in zarrio.open(store).tree()
    assert root.attrs["top"] is True
    with pytest.raises(NodeNotFoundError):
        zarrio.open(store, path="nope", mode="r")  # mode "a" (the default) creates a group, as zarr-python
    with pytest.raises(FileNotFoundError):
        zarrio.open(store)["a/zzz"]
    with pytest.raises(NodeExistsError):
        zarrio.create(store, (3,), "int8", path="a/b/c")
    zarrio.create(store, (5,), "int8", path="a/b/c", overwrite=True)
    assert zarrio.open(store, path="a/b/c").shape == (5,)
    with pytest.raises(NodeExistsError):
        zarrio.create(store, (1,), "int8", path="a/b/c/under_an_array")


def test_read_only_mode_refuses_writes(store: Store) -> None:
    zarrio.create(store, (3,), "int8", path="x")
    r = zarrio.open(store, path="x", mode="r")
    with pytest.raises(ReadOnlyError):
        r[:] = 1
    with pytest.raises(PermissionError):
        r.attrs["a"] = 1


def test_selection_errors(store: Store) -> None:
    z = zarrio.create(store, (5, 5), "int8")
    with pytest.raises(SelectionError):
        z[5, 0]
    with pytest.raises(IndexError):
        z[0, 0, 0]
    with pytest.raises(SelectionError):
        z[0:2, 0:2] = np.zeros((3, 3))


# ------------------------------------------------------------------ corruption
@pytest.fixture
def local(tmp_path: Path) -> Callable[..., tuple[LocalStore, Path]]:
    def make(**kwargs: Any) -> tuple[LocalStore, Path]:
        root = tmp_path / "c.zarr"
        st = LocalStore(root)
        z = zarrio.create(st, (8,), "int32", chunks=(4,), **kwargs)
        z[:] = np.arange(8)
        return st, root

    return make


def test_checksum_mismatch_is_an_error_never_data(local: Callable[..., tuple[LocalStore, Path]]) -> None:
    st, root = local(codecs=[{"name": "crc32c"}])
    chunk = root / "c" / "1"
    raw = bytearray(chunk.read_bytes())
    raw[0] ^= 0x01
    chunk.write_bytes(bytes(raw))
    z = zarrio.open(st)
    with pytest.raises(ChecksumError) as info:
        z[:]
    assert info.value.key == "c/1"
    assert list(z[:4]) == [0, 1, 2, 3]  # the intact chunk still reads


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_corrupt_compressed_chunk_is_a_codec_error(local: Callable[..., tuple[LocalStore, Path]], damage: str) -> None:
    st, root = local(codecs=[{"name": "zstd", "configuration": {"level": 1, "checksum": False}}])
    chunk = root / "c" / "0"
    raw = chunk.read_bytes()
    chunk.write_bytes(raw[: len(raw) // 2] if damage == "truncate" else b"\x00not zstd at all")
    with pytest.raises(CodecError) as info:
        zarrio.open(st)[:]
    assert info.value.key == "c/0"


def test_unknown_codec_and_bad_metadata_are_typed(tmp_path: Path) -> None:
    st = LocalStore(tmp_path / "m.zarr")
    zarrio.create(st, (4,), "int8")
    meta = json.loads((tmp_path / "m.zarr" / "zarr.json").read_text())
    meta["codecs"].append({"name": "no-such-codec"})
    (tmp_path / "m.zarr" / "zarr.json").write_text(json.dumps(meta))
    with pytest.raises(MetadataError):
        zarrio.open(st)
    (tmp_path / "m.zarr" / "zarr.json").write_text("{not json")
    with pytest.raises(MetadataError):
        zarrio.open(st)
