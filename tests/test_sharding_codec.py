"""Tests of the sharding_indexed codec: whole shards, the index, and the sans-I/O pieces the engine uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import google_crc32c
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zarrio.codecs import (
    BytesCodec,
    ChunkSpec,
    CodecChain,
    GzipCodec,
    ShardingCodec,
    ZstdCodec,
    codec_from_json,
)
from zarrio.codecs.sharding import MISSING_VALUE
from zarrio.errors import ChecksumError, CodecError, CorruptChunkError, MetadataError

LE = {"name": "bytes", "configuration": {"endian": "little"}}

SPEC = ChunkSpec((8, 6), np.dtype("i4"), np.int32(0))


def evolved(codec: ShardingCodec, spec: ChunkSpec = SPEC) -> ShardingCodec:
    chain = CodecChain.from_json([codec], spec)
    assert chain.sharding is not None
    return chain.sharding


def sample_shard(spec: ChunkSpec = SPEC) -> np.ndarray[Any, Any]:
    return (np.arange(int(np.prod(spec.shape))) * 7 + 1).astype(spec.dtype).reshape(spec.shape)


def raw_index(entries: list[tuple[int, int]]) -> bytes:
    """An index encoded by hand: uint64 LE pairs, then the CRC32C of them."""
    body = np.array(entries, dtype="<u8").tobytes()
    return body + int(google_crc32c.value(body)).to_bytes(4, "little")


@pytest.mark.parametrize("location", ["start", "end"])
def test_round_trip_and_index_location(location: str) -> None:
    codec = evolved(ShardingCodec(chunk_shape=(4, 3), codecs=[LE, "zstd"], index_location=location))  # type: ignore[arg-type]
    shard = sample_shard()
    encoded = codec.encode(shard, SPEC)
    assert np.array_equal(codec.decode(encoded, SPEC), shard)
    cps = codec.chunks_per_shard(SPEC.shape)
    assert cps == (2, 2)
    size = codec.index_nbytes(cps)
    assert size == 16 * 4 + 4
    raw = encoded[:size] if location == "start" else encoded[-size:]
    index = codec.decode_index(raw, cps, shard_nbytes=len(encoded))
    assert index.shape == (2, 2, 2) and index.dtype == np.uint64
    # every entry points at its inner chunk, which decodes on its own to the right region
    for coords in np.ndindex(*cps):
        offset, nbytes = (int(v) for v in index[coords])
        inner = codec.inner.decode(encoded[offset : offset + nbytes], codec.inner_spec(SPEC))
        assert np.array_equal(inner, shard[codec.inner_region(coords)])
    offsets = sorted(int(v) for v in index[..., 0].ravel())
    assert offsets[0] == (size if location == "start" else 0)


def test_inner_chunks_holding_only_the_fill_value_are_left_out() -> None:
    spec = ChunkSpec((4, 4), np.dtype("i2"), np.int16(-7))
    codec = evolved(ShardingCodec(chunk_shape=(2, 2)), spec)
    shard = np.full((4, 4), -7, dtype="i2")
    shard[0, 1] = 5
    shard[3, 3] = 0
    encoded = codec.encode(shard, spec)
    index = codec.decode_index(encoded[-codec.index_nbytes((2, 2)) :], (2, 2), len(encoded))
    present = ~((index[..., 0] == MISSING_VALUE) & (index[..., 1] == MISSING_VALUE))
    assert present.tolist() == [[True, False], [False, True]]
    assert len(encoded) == 2 * 8 + codec.index_nbytes((2, 2))
    assert np.array_equal(codec.decode(encoded, spec), shard)


def test_fill_comparison_is_bitwise_so_negative_zero_and_nan_payloads_are_kept() -> None:
    spec = ChunkSpec((2, 2), np.dtype("f4"), np.float32(0.0))
    codec = evolved(ShardingCodec(chunk_shape=(1, 2), codecs=[BytesCodec(endian="little")]), spec)
    shard = np.zeros((2, 2), dtype="f4")
    shard[1, 0] = -0.0
    decoded = codec.decode(codec.encode(shard, spec), spec)
    assert decoded.tobytes() == shard.tobytes()
    nan_spec = ChunkSpec((2,), np.dtype("f4"), np.float32("nan"))
    nan_codec = evolved(ShardingCodec(chunk_shape=(1,)), nan_spec)
    odd_nan = np.array([0x7FC00001, 0x7FC00000], dtype="<u4").view("f4")
    assert nan_codec.decode(nan_codec.encode(odd_nan, nan_spec), nan_spec).tobytes() == odd_nan.tobytes()


def test_a_shard_of_only_fill_is_an_index_of_missing_entries() -> None:
    codec = evolved(ShardingCodec(chunk_shape=(4, 3)))
    empty = np.zeros(SPEC.shape, dtype="i4")
    encoded = codec.encode(empty, SPEC)
    assert len(encoded) == codec.index_nbytes((2, 2))
    assert (codec.decode_index(encoded, (2, 2), len(encoded)) == MISSING_VALUE).all()
    assert np.array_equal(codec.decode(encoded, SPEC), empty)


def test_encode_shard_assembles_parts_in_order() -> None:
    for location in ("start", "end"):
        codec = ShardingCodec(chunk_shape=(1,), index_location=location)
        assert codec.encode_shard([None, None, None], (3,)) is None
        shard = codec.encode_shard([b"aa", None, b"bbb"], (3,))
        assert shard is not None
        index_size = codec.index_nbytes((3,))
        base = index_size if location == "start" else 0
        index_bytes = shard[:index_size] if location == "start" else shard[-index_size:]
        index = codec.decode_index(index_bytes, (3,), shard_nbytes=len(shard))
        assert index.tolist() == [[base, 2], [MISSING_VALUE, MISSING_VALUE], [base + 2, 3]]
        assert shard[base : base + 5] == b"aabbb"
        assert index_bytes == raw_index([(base, 2), (MISSING_VALUE, MISSING_VALUE), (base + 2, 3)])
        with pytest.raises(CodecError):
            codec.encode_shard([b"x"], (3,))


def test_missing_inner_chunks_decode_as_fill() -> None:
    spec = ChunkSpec((4,), np.dtype("u2"), np.uint16(9))
    codec = evolved(ShardingCodec(chunk_shape=(2,)), spec)
    part = codec.inner.encode(np.array([1, 2], dtype="u2"), codec.inner_spec(spec))
    shard = codec.encode_shard([None, part], (2,))
    assert shard is not None
    assert codec.decode(shard, spec).tolist() == [9, 9, 1, 2]


def test_nested_sharding_round_trip() -> None:
    inner = ShardingCodec(chunk_shape=(2, 2), codecs=[BytesCodec(endian="little"), ZstdCodec(level=2)])
    spec = ChunkSpec((8, 8), np.dtype("u2"), np.uint16(0))
    codec = evolved(ShardingCodec(chunk_shape=(4, 4), codecs=[inner]), spec)
    shard = sample_shard(spec)
    shard[:4, :4] = 0  # one empty inner shard
    shard[4:6, 4:6] = 0  # one empty inner-inner chunk
    encoded = codec.encode(shard, spec)
    assert np.array_equal(codec.decode(encoded, spec), shard)
    assert codec.inner.sharding is not None
    assert codec.to_json()["configuration"]["codecs"][0]["name"] == "sharding_indexed"


def test_vlen_strings_in_shards() -> None:
    spec = ChunkSpec((4,), np.dtype(object), "")
    codec = evolved(ShardingCodec(chunk_shape=(2,), codecs=["vlen-utf8"]), spec)
    shard = np.array(["", "", "a", "bé"], dtype=object)
    encoded = codec.encode(shard, spec)
    index = codec.decode_index(encoded[-codec.index_nbytes((2,)) :], (2,), len(encoded))
    assert index[0].tolist() == [MISSING_VALUE, MISSING_VALUE]
    assert codec.decode(encoded, spec).tolist() == shard.tolist()


def test_json_defaults_and_round_trip() -> None:
    codec = codec_from_json({"name": "sharding_indexed", "configuration": {"chunk_shape": [2, 2], "codecs": [LE]}})
    assert isinstance(codec, ShardingCodec)
    assert codec.index_location == "end"
    assert codec.to_json() == {
        "name": "sharding_indexed",
        "configuration": {
            "chunk_shape": [2, 2],
            "codecs": [LE],
            "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
            "index_location": "end",
        },
    }
    built = evolved(ShardingCodec(chunk_shape=(4, 3), codecs=[BytesCodec(endian="big"), GzipCodec(level=1)]))
    assert codec_from_json(built.to_json()) == built
    assert built.to_json()["configuration"]["codecs"] == [
        {"name": "bytes", "configuration": {"endian": "big"}},
        {"name": "gzip", "configuration": {"level": 1}},
    ]


@pytest.mark.parametrize(
    "configuration",
    [
        {"codecs": [LE]},
        {"chunk_shape": [2, 0], "codecs": [LE]},
        {"chunk_shape": "22", "codecs": [LE]},
        {"chunk_shape": [2, 2], "codecs": [LE], "index_location": "middle"},
        {"chunk_shape": [2, 2], "codecs": "bytes"},
        {"chunk_shape": [2, 2], "codecs": [LE], "extra": 1},
        {"chunk_shape": [2, 2], "codecs": [LE, {"name": "gzip", "configuration": {"level": 99}}]},
        {"chunk_shape": [2, 2], "codecs": [LE, {"name": "no-such-codec"}]},
        {"chunk_shape": [2, 2], "codecs": [LE], "index_codecs": [{"name": "bytes", "configuration": {"endian": 1}}]},
    ],
)
def test_invalid_configuration(configuration: dict[str, Any]) -> None:
    with pytest.raises(MetadataError):
        codec_from_json({"name": "sharding_indexed", "configuration": configuration})


def test_shard_shape_must_be_divisible_and_index_codecs_fixed_size() -> None:
    with pytest.raises(MetadataError):
        CodecChain.from_json([ShardingCodec(chunk_shape=(3, 4))], SPEC)
    with pytest.raises(MetadataError):
        CodecChain.from_json([ShardingCodec(chunk_shape=(4,))], SPEC)
    with pytest.raises(MetadataError):
        CodecChain.from_json([ShardingCodec(chunk_shape=(4, 3), index_codecs=[LE, "gzip"])], SPEC)
    assert ShardingCodec(chunk_shape=(4, 3), index_codecs=[LE]).index_nbytes((2, 2)) == 64


def test_inner_chain_is_only_available_after_evolve() -> None:
    with pytest.raises(CodecError):
        _ = ShardingCodec(chunk_shape=(4, 3)).inner
    assert evolved(ShardingCodec(chunk_shape=(4, 3))).inner.spec.shape == (4, 3)
    # decoding and encoding without evolve still work (the chain is built on the fly)
    codec = ShardingCodec(chunk_shape=(4, 3))
    shard = sample_shard()
    assert np.array_equal(codec.decode(codec.encode(shard, SPEC), SPEC), shard)


# -- decode_index validation ------------------------------------------------------------------------------


def test_decode_index_size_and_checksum() -> None:
    codec = ShardingCodec(chunk_shape=(1,))
    good = raw_index([(0, 4), (4, 4)])
    assert codec.decode_index(good, (2,)).tolist() == [[0, 4], [4, 4]]
    with pytest.raises(CorruptChunkError):
        codec.decode_index(good[:-1], (2,))
    with pytest.raises(CorruptChunkError):
        codec.decode_index(good + b"\0", (2,))
    damaged = bytearray(good)
    damaged[3] ^= 1
    with pytest.raises(ChecksumError):
        codec.decode_index(bytes(damaged), (2,))


@pytest.mark.parametrize(
    ("location", "entries", "shard_nbytes", "seen_without_size"),
    [
        ("end", [(0, 4), (4, 100)], 44, False),  # past the end
        ("end", [(0, 4), (30, 8)], 44, False),  # runs into the index at the end (data region is [0, 8))
        ("start", [(0, 4), (36, 4)], 44, True),  # starts inside the index at the start
        ("end", [(0, 6), (4, 2)], 44, True),  # overlapping entries
        ("end", [(0, MISSING_VALUE), (4, 4)], 44, True),  # half-missing entry
        ("end", [(2**64 - 2, 4), (0, 4)], 44, True),  # an offset that would overflow
        ("end", [(0, 4), (4, 4)], 10, False),  # a shard too small to hold its own index
    ],
)
def test_decode_index_rejects_impossible_entries(
    location: str, entries: list[tuple[int, int]], shard_nbytes: int, seen_without_size: bool
) -> None:
    codec = ShardingCodec(chunk_shape=(1,), index_location=location)  # type: ignore[arg-type]
    assert codec.index_nbytes((2,)) == 36
    raw = raw_index(entries)
    # without the shard's size, what the index alone proves impossible is still refused
    if seen_without_size:
        with pytest.raises(CorruptChunkError):
            codec.decode_index(raw, (2,))
    else:
        codec.decode_index(raw, (2,))
    with pytest.raises(CorruptChunkError):
        codec.decode_index(raw, (2,), shard_nbytes=shard_nbytes)


def test_decode_index_accepts_valid_layouts() -> None:
    end = ShardingCodec(chunk_shape=(1,))
    assert end.decode_index(raw_index([(4, 4), (0, 4)]), (2,), shard_nbytes=44)[0].tolist() == [4, 4]
    start = ShardingCodec(chunk_shape=(1,), index_location="start")
    entries = [(36, 4), (MISSING_VALUE, MISSING_VALUE)]
    assert start.decode_index(raw_index(entries), (2,), shard_nbytes=40)[1].tolist() == [MISSING_VALUE] * 2


def test_truncated_or_corrupt_shards() -> None:
    codec = evolved(ShardingCodec(chunk_shape=(4, 3), codecs=[LE, "crc32c"]))
    encoded = codec.encode(sample_shard(), SPEC)
    with pytest.raises(CorruptChunkError):
        codec.decode(encoded[:10], SPEC)
    with pytest.raises(CodecError):
        codec.decode(encoded[1:], SPEC)
    damaged = bytearray(encoded)
    damaged[0] ^= 1  # inside the first inner chunk, protected by its own crc32c
    with pytest.raises(ChecksumError):
        codec.decode(bytes(damaged), SPEC)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300))
def test_random_bytes_raise_only_codec_errors(data: bytes) -> None:
    spec = ChunkSpec((4, 2), np.dtype("u1"), np.uint8(0))
    chain = CodecChain.from_json([ShardingCodec(chunk_shape=(2, 2), codecs=[LE, "gzip"], index_codecs=[LE])], spec)
    try:
        decoded = chain.decode(data, spec)
    except CodecError:
        return
    assert decoded.shape == (4, 2)


ENTRY = st.one_of(
    st.tuples(st.integers(0, 40).map(lambda n: 2 * n), st.sampled_from([2, 2, 2, 0, 1, 3])),
    st.tuples(st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1)),
    st.just((MISSING_VALUE, MISSING_VALUE)),
)


@settings(max_examples=200, deadline=None)
@given(entries=st.lists(ENTRY, min_size=4, max_size=4))
def test_checksummed_random_indexes_decode_correctly_or_raise_codec_errors(entries: list[tuple[int, int]]) -> None:
    spec = ChunkSpec((4, 2), np.dtype("u1"), np.uint8(0))
    codec = evolved(ShardingCodec(chunk_shape=(2, 1), codecs=[LE]), spec)
    body = bytes(range(100, 180))
    try:
        decoded = codec.decode(body + raw_index(entries), spec)
    except CodecError:
        return
    for number, (offset, nbytes) in enumerate(entries):
        region = decoded[codec.inner_region(divmod(number, 2))].ravel()
        if (offset, nbytes) == (MISSING_VALUE, MISSING_VALUE):
            assert (region == 0).all()
        else:
            assert region.tobytes() == body[offset : offset + nbytes]


# -- data written by zarr-python --------------------------------------------------------------------------


def conformance_case(corpus: Path, case_id: str) -> dict[str, Any]:
    cases = json.loads((corpus / "cases.json").read_text())["cases"]
    return next(case for case in cases if case["id"] == case_id)


@pytest.mark.parametrize(
    ("case_id", "key"),
    [
        ("shard_index_start", "c/0/1"),
        ("shard_basic_index_end", "c/1/0"),
        ("shard_nested", "c/0/0"),
        ("shard_missing_inner_chunks", "c/0/0"),
        ("shard_inner_compression_crc32c", "c/0/0"),
        ("ts_float32_sharded", "c/0/0"),
    ],
)
def test_decodes_shards_written_by_reference_implementations(conformance_dir: Path, case_id: str, key: str) -> None:
    case = conformance_case(conformance_dir, case_id)
    metadata = case["metadata"]
    dtype = np.dtype(metadata["data_type"])
    shard_shape = tuple(metadata["chunk_grid"]["configuration"]["chunk_shape"])
    spec = ChunkSpec(shard_shape, dtype, dtype.type(metadata["fill_value"]))
    chain = CodecChain.from_json(metadata["codecs"], spec)
    assert chain.sharding is not None
    raw = (conformance_dir / case["store"] / key).read_bytes()
    decoded = chain.decode(raw, spec)
    expected = np.load(conformance_dir / case["expected"])
    coords = [int(part) for part in key.split("/")[1:]]
    region = tuple(slice(c * n, (c + 1) * n) for c, n in zip(coords, shard_shape, strict=True))
    want = expected[region]
    assert decoded[tuple(slice(0, n) for n in want.shape)].tobytes() == np.ascontiguousarray(want).tobytes()
    # the index checks accept what the reference wrote
    sharding = chain.sharding
    cps = sharding.chunks_per_shard(shard_shape)
    start, length = sharding.index_range(cps, len(raw))
    sharding.decode_index(raw[start : start + length], cps, shard_nbytes=len(raw))


def test_split_shard_and_reassemble_with_one_inner_chunk_replaced() -> None:
    codec = evolved(ShardingCodec(chunk_shape=(4, 3), codecs=[LE, ZstdCodec(level=1)], index_location="start"))
    shard = sample_shard()
    shard[4:, :3] = 0
    encoded = codec.encode(shard, SPEC)
    parts = codec.split_shard(encoded, (2, 2))
    assert [part is None for part in parts] == [False, False, True, False]
    index = codec.decode_index(encoded[: codec.index_nbytes((2, 2))], (2, 2), len(encoded))
    assert codec.entry(index, (1, 0)) is None
    offset, nbytes = codec.entry(index, (0, 1)) or (0, 0)
    assert bytes(parts[1] or b"") == encoded[offset : offset + nbytes]
    replacement = np.full((4, 3), 5, dtype="i4")
    parts[2] = memoryview(codec.inner.encode(replacement, codec.inner_spec(SPEC)))
    rebuilt = codec.encode_shard(parts, (2, 2))
    assert rebuilt is not None
    expected = shard.copy()
    expected[4:, :3] = 5
    assert np.array_equal(codec.decode(rebuilt, SPEC), expected)
    with pytest.raises(CorruptChunkError):
        codec.split_shard(encoded[:20], (2, 2))


@pytest.mark.parametrize(
    ("dtype", "fill"),
    [
        ("V3", b"AAA"),
        ("S4", b"ab"),
        ("U3", "xy"),
        ("M8[s]", np.datetime64("NaT", "s")),
        ([("a", "<i4"), ("b", "<f8")], (7, 0.5)),
        ([("a", "<i4"), ("b", "<f8")], np.array((7, 0.5), dtype=[("a", "<i4"), ("b", "<f8")])[()]),
    ],
)
def test_fill_values_of_every_fixed_kind(dtype: Any, fill: Any) -> None:
    spec = ChunkSpec((6,), np.dtype(dtype), fill)
    codec = evolved(ShardingCodec(chunk_shape=(2,)), spec)
    shard = np.empty(6, dtype=spec.dtype)
    shard[...] = np.asarray(fill, dtype=spec.dtype)
    shard[5] = np.zeros((), dtype=spec.dtype)
    encoded = codec.encode(shard, spec)
    assert [part is None for part in codec.split_shard(encoded, (3,))] == [True, True, False]
    assert codec.decode(encoded, spec).tobytes() == shard.tobytes()


def test_a_kept_shard_index_does_not_keep_its_shard_alive(tmp_path: Path) -> None:
    """Reading whole shards decodes each index from a view of the shard's bytes; the decoded
    indexes are kept (by content), and one that viewed the shard kept all of its bytes alive:
    a whole read of 8 shards of 11 MB held 7 of them at its end (77 MiB over the output)."""
    import gc
    import tracemalloc

    import zarrio

    rng = np.random.default_rng(5)
    z = zarrio.create_array(tmp_path, shape=(1024, 1024), chunks=(64, 64), shards=(256, 256), dtype="u1")
    for i in range(16):  # shards of different entropy: their inner chunks' sizes, so their indexes, differ
        row, col = divmod(i, 4)
        z[row * 256 : (row + 1) * 256, col * 256 : (col + 1) * 256] = rng.integers(0, 16 * i + 16, (256, 256))
    reader = zarrio.open_array(tmp_path, mode="r")
    tracemalloc.start()
    try:
        got = reader[...]
        del got
        gc.collect()
        left, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert left < 32 * 1024, f"{left} bytes are still held after the read of 16 shards of 20-64 KiB"
