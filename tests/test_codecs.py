"""Tests of the individual codecs and of CodecChain (sharding has its own file)."""

from __future__ import annotations

import contextlib
import gzip as gzip_module
import json
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zarrio.codecs import (
    BloscCodec,
    BytesCodec,
    ChunkSpec,
    Codec,
    CodecChain,
    Crc32cCodec,
    GzipCodec,
    ShardingCodec,
    TransposeCodec,
    VlenBytesCodec,
    VlenUtf8Codec,
    ZstdCodec,
    codec_from_json,
    numcodecs_codec_class,
    registered_codecs,
)
from zarrio.errors import ChecksumError, CodecError, CorruptChunkError, MetadataError, UnsupportedError

LE = {"name": "bytes", "configuration": {"endian": "little"}}


def spec_for(array: np.ndarray[Any, Any], fill: Any = None) -> ChunkSpec:
    if fill is None:
        fill = "" if array.dtype.hasobject else np.zeros((), dtype=array.dtype)[()]
    return ChunkSpec(array.shape, array.dtype, fill)


def round_trip(codecs: list[Any], array: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    spec = spec_for(array)
    chain = CodecChain.from_json(codecs, spec)
    return chain.decode(chain.encode(array, spec), spec)


def same_bits(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and np.ascontiguousarray(a).tobytes() == b.tobytes()


STRUCT = np.dtype([("a", "<i4"), ("b", "<f8"), ("c", "u1")])


def sample(dtype: np.dtype[Any], shape: tuple[int, ...] = (3, 4)) -> np.ndarray[Any, Any]:
    """A deterministic array of ``dtype`` with varied, non-zero content."""
    count = int(np.prod(shape))
    rng = np.random.default_rng(abs(hash(dtype.str)) % 2**32)
    if dtype.names is not None:
        array = np.zeros(count, dtype=dtype)
        for name in dtype.names:
            array[name] = sample(dtype.fields[name][0], (count,))  # type: ignore[index]
        return array.reshape(shape)
    if dtype.kind == "b":
        return rng.integers(0, 2, count).astype(bool).reshape(shape)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, count, dtype=dtype, endpoint=True).reshape(shape)
    if dtype.kind == "f":
        return (rng.standard_normal(count) * 1000).astype(dtype).reshape(shape)
    if dtype.kind == "c":
        return (rng.standard_normal(count) + 1j * rng.standard_normal(count)).astype(dtype).reshape(shape)
    if dtype.kind in "Mm":
        return rng.integers(-(2**40), 2**40, count).astype(np.int64).view(dtype).reshape(shape)
    if dtype.kind == "U":
        words = ["", "a", "héllo", "\U0001f600x", "zarr"]
        return np.array([words[i % len(words)] for i in range(count)], dtype=dtype).reshape(shape)
    if dtype.kind in "SV":
        return np.frombuffer(rng.bytes(count * dtype.itemsize), dtype=dtype).reshape(shape).copy()
    raise AssertionError(dtype)


FIXED_DTYPES = [
    np.dtype(name)
    for name in [
        "bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
        "float16", "float32", "float64", "complex64", "complex128",
        "M8[ns]", "M8[D]", "M8[10s]", "m8[h]", "m8[us]", "U5", "S4", "V3",
    ]
] + [STRUCT]  # fmt: skip


# -- bytes ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("endian", ["little", "big"])
@pytest.mark.parametrize("dtype", FIXED_DTYPES, ids=str)
def test_bytes_round_trip_and_layout(dtype: np.dtype[Any], endian: str) -> None:
    array = sample(dtype)
    codec = BytesCodec(endian=endian)
    spec = spec_for(array)
    encoded = codec.encode(array, spec)
    wire = dtype.newbyteorder("<" if endian == "little" else ">")
    assert encoded == array.astype(wire).tobytes()
    decoded = codec.decode(encoded, spec)
    assert decoded.dtype == dtype and decoded.dtype.isnative
    assert same_bits(decoded, array)


def test_bytes_big_endian_swaps_each_struct_field() -> None:
    array = np.array([(1, 2.0, 3)], dtype=STRUCT)
    encoded = BytesCodec(endian="big").encode(array, spec_for(array))
    assert encoded == struct.pack(">idB", 1, 2.0, 3)


def test_bytes_decode_is_a_view_without_copy_for_native_order() -> None:
    array = np.arange(12, dtype="<i4").reshape(3, 4)
    buffer = bytearray(array.tobytes())
    decoded = BytesCodec(endian="little").decode(buffer, spec_for(array))
    buffer[0] = 99
    assert decoded[0, 0] == 99


def test_bytes_encodes_non_contiguous_input_in_c_order() -> None:
    array = np.arange(12, dtype="i2").reshape(3, 4).T
    encoded = BytesCodec(endian="little").encode(array, spec_for(array))
    assert encoded == np.ascontiguousarray(array).astype("<i2").tobytes()


@pytest.mark.parametrize("delta", [-1, 1, -8])
def test_bytes_wrong_size_is_corrupt(delta: int) -> None:
    array = np.arange(6, dtype="f8")
    data = array.tobytes()
    data = data[:delta] if delta < 0 else data + b"\0" * delta
    with pytest.raises(CorruptChunkError):
        BytesCodec(endian="little").decode(data, spec_for(array))


def test_bytes_json() -> None:
    assert BytesCodec(endian=None).to_json() == {"name": "bytes"}
    assert BytesCodec().to_json() == {"name": "bytes", "configuration": {"endian": "little"}}
    assert BytesCodec(endian="big").to_json() == {"name": "bytes", "configuration": {"endian": "big"}}
    assert codec_from_json({"name": "bytes"}) == BytesCodec(endian=None)
    assert codec_from_json("bytes") == BytesCodec(endian=None)
    assert codec_from_json(LE) == BytesCodec()
    with pytest.raises(MetadataError):
        codec_from_json({"name": "bytes", "configuration": {"endian": "middle"}})
    with pytest.raises(MetadataError):
        CodecChain.from_json([LE], ChunkSpec((2,), np.dtype(object), ""))


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint8", "S3", "V2", [("a", "u1"), ("b", "i1")]])
def test_bytes_without_endian_is_kept_for_single_byte_types(dtype: Any) -> None:
    array = sample(np.dtype(dtype), (4,))
    chain = CodecChain.from_json([{"name": "bytes"}], spec_for(array))
    assert chain.to_json() == [{"name": "bytes"}]
    assert chain.encode(array) == array.tobytes()
    assert same_bits(chain.decode(chain.encode(array)), array)


@pytest.mark.parametrize("dtype", ["int16", "float64", "complex64", "U2", "M8[s]", [("a", "u1"), ("b", "i2")]])
def test_bytes_without_endian_is_rejected_for_multi_byte_types(dtype: Any) -> None:
    spec = ChunkSpec((4,), np.dtype(dtype), None)
    with pytest.raises(MetadataError) as info:
        CodecChain.from_json(["bytes"], spec)
    assert info.value.field == "codecs"


# -- transpose --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("order", [(1, 0, 2), (2, 0, 1), (0, 1, 2), (1, 2, 0)])
def test_transpose(order: tuple[int, ...]) -> None:
    array = np.arange(24, dtype="u2").reshape(2, 3, 4)
    spec = spec_for(array)
    codec = TransposeCodec(order=order)
    assert codec.resolve_spec(spec).shape == tuple(array.shape[axis] for axis in order)
    encoded = codec.encode(array, spec)
    assert np.array_equal(encoded, np.transpose(array, order))
    assert np.array_equal(codec.decode(encoded, spec), array)
    chain = CodecChain.from_json([codec, BytesCodec(endian="little")], spec)
    assert chain.encode(array, spec) == np.transpose(array, order).astype("<u2").tobytes()
    assert np.array_equal(chain.decode(chain.encode(array, spec), spec), array)


@pytest.mark.parametrize("order", [[0, 0], [1, 2], [0], "01", [0.0, 1], [True, False]])
def test_transpose_rejects_bad_orders(order: Any) -> None:
    spec = ChunkSpec((2, 3), np.dtype("i4"), 0)
    with pytest.raises(MetadataError):
        CodecChain.from_json([{"name": "transpose", "configuration": {"order": order}}, LE], spec)


# -- compressors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", [0, 1, 5, 9])
def test_gzip_round_trip_and_format(level: int) -> None:
    payload = np.arange(1000, dtype="i8").tobytes()
    encoded = GzipCodec(level=level).encode(payload)
    assert gzip_module.decompress(encoded) == payload
    assert bytes(GzipCodec(level=level).decode(gzip_module.compress(payload))) == payload
    assert bytes(GzipCodec().decode(encoded)) == payload


def test_gzip_concatenated_members_and_padding() -> None:
    member = gzip_module.compress(b"abc")
    assert bytes(GzipCodec().decode(member + gzip_module.compress(b"def") + b"\0\0")) == b"abcdef"
    with pytest.raises(CorruptChunkError):
        GzipCodec().decode(member + b"junk")


@pytest.mark.parametrize("cut", [1, 5, 10, 20])
def test_gzip_truncated_is_corrupt(cut: int) -> None:
    encoded = GzipCodec(level=5).encode(bytes(range(256)) * 8)
    with pytest.raises(CorruptChunkError):
        GzipCodec().decode(encoded[:-cut])


@pytest.mark.parametrize("level", [-5, 0, 3, 19])
@pytest.mark.parametrize("checksum", [False, True])
def test_zstd_round_trip(level: int, checksum: bool) -> None:
    payload = np.arange(2000, dtype="f4").tobytes()
    codec = ZstdCodec(level=level, checksum=checksum)
    encoded = codec.encode(payload)
    assert zstandard.ZstdDecompressor().decompress(encoded) == payload
    assert bytes(codec.decode(encoded)) == payload
    assert codec.to_json() == {"name": "zstd", "configuration": {"level": level, "checksum": checksum}}


def test_zstd_decodes_frames_without_content_size_and_concatenated_frames() -> None:
    payload = b"zarr" * 5000
    compressor = zstandard.ZstdCompressor(write_content_size=False)
    stream = compressor.compressobj()
    frame = stream.compress(payload) + stream.flush()
    assert bytes(ZstdCodec().decode(frame)) == payload
    assert bytes(ZstdCodec().decode(frame + ZstdCodec().encode(b"!"))) == payload + b"!"


def test_zstd_checksum_mismatch_and_truncation() -> None:
    encoded = bytearray(ZstdCodec(level=3, checksum=True).encode(b"hello world " * 50))
    encoded[-1] ^= 0xFF
    with pytest.raises(ChecksumError):
        ZstdCodec().decode(bytes(encoded))
    good = ZstdCodec(level=3).encode(b"hello world " * 50)
    with pytest.raises(CorruptChunkError):
        ZstdCodec().decode(good[:-3])
    with pytest.raises(CorruptChunkError):
        ZstdCodec().decode(b"")


def test_zstd_is_picklable_and_thread_safe() -> None:
    import pickle
    from concurrent.futures import ThreadPoolExecutor

    codec = pickle.loads(pickle.dumps(ZstdCodec(level=5, checksum=True)))
    assert codec == ZstdCodec(level=5, checksum=True)
    payloads = [bytes([i]) * (1000 + i) for i in range(64)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda p: bytes(codec.decode(codec.encode(p))), payloads))
    assert results == payloads


@pytest.mark.parametrize("cname", ["lz4", "lz4hc", "blosclz", "zstd", "zlib"])
@pytest.mark.parametrize("shuffle", ["noshuffle", "shuffle", "bitshuffle"])
def test_blosc_round_trip(cname: str, shuffle: str) -> None:
    array = np.arange(3000, dtype="f8").reshape(30, 100)
    codecs: list[Any] = [BytesCodec(endian="little"), BloscCodec(cname=cname, clevel=5, shuffle=shuffle)]
    assert same_bits(round_trip(codecs, array), array)


def test_blosc_evolve_fills_typesize_and_shuffle_like_zarr_python() -> None:
    wide = CodecChain.from_json([LE, {"name": "blosc", "configuration": {"cname": "lz4"}}], spec_for(np.zeros(4)))
    assert wide.to_json()[1] == {
        "name": "blosc",
        "configuration": {"typesize": 8, "cname": "lz4", "clevel": 5, "shuffle": "shuffle", "blocksize": 0},
    }
    narrow = CodecChain.from_json([LE, BloscCodec()], spec_for(np.zeros(4, dtype="u1")))
    assert narrow.bytes_bytes[0].to_json()["configuration"] == {
        "typesize": 1, "cname": "zstd", "clevel": 5, "shuffle": "bitshuffle", "blocksize": 0,
    }  # fmt: skip
    given_values = BloscCodec(shuffle="noshuffle", typesize=2).evolve(spec_for(np.zeros(4)))
    assert given_values.to_json()["configuration"]["typesize"] == 2
    assert given_values.to_json()["configuration"]["shuffle"] == "noshuffle"


def test_blosc_rejects_bad_config_and_bad_data() -> None:
    for config in [{"cname": "snappy"}, {"clevel": 10}, {"shuffle": "yes"}, {"typesize": 0}, {"wat": 1}]:
        with pytest.raises(MetadataError):
            codec_from_json({"name": "blosc", "configuration": config})
    encoded = BloscCodec(cname="lz4", typesize=4, shuffle="shuffle").encode(np.arange(100, dtype="i4").tobytes())
    for bad in [encoded[:10], encoded[:-1], encoded + b"\0", b""]:
        with pytest.raises(CorruptChunkError):
            BloscCodec().decode(bad)


def test_crc32c() -> None:
    codec = Crc32cCodec()
    encoded = codec.encode(b"123456789")
    assert encoded[-4:] == (0xE3069283).to_bytes(4, "little")  # the standard CRC-32C check value
    assert bytes(codec.decode(encoded)) == b"123456789"
    assert codec.compute_encoded_size(9) == len(encoded)
    assert codec.to_json() == {"name": "crc32c"}
    corrupted = bytearray(encoded)
    corrupted[0] ^= 1
    with pytest.raises(ChecksumError):
        codec.decode(bytes(corrupted))
    with pytest.raises(CorruptChunkError):
        codec.decode(b"abc")
    assert bytes(codec.decode(codec.encode(b""))) == b""


# -- vlen -------------------------------------------------------------------------------------------------


def vlen_layout(items: list[bytes]) -> bytes:
    return struct.pack("<I", len(items)) + b"".join(struct.pack("<I", len(item)) + item for item in items)


def test_vlen_utf8_layout_and_round_trip() -> None:
    words = ["a", "héllo", "", "\U0001f600"]
    array = np.empty((2, 2), dtype=object)
    array.flat[:] = words
    spec = ChunkSpec((2, 2), np.dtype(object), "")
    encoded = VlenUtf8Codec().encode(array, spec)
    assert encoded == vlen_layout([word.encode() for word in words])
    decoded = VlenUtf8Codec().decode(encoded, spec)
    assert decoded.dtype == object and decoded.shape == (2, 2)
    assert decoded.tolist() == array.tolist()
    assert VlenUtf8Codec().to_json() == {"name": "vlen-utf8", "configuration": {}}


def test_vlen_utf8_accepts_numpy_string_arrays() -> None:
    array = np.array(["x", "yz"], dtype="U2")
    assert VlenUtf8Codec().encode(array, spec_for(array)) == vlen_layout([b"x", b"yz"])


def test_vlen_bytes_layout_and_round_trip() -> None:
    items = [b"", b"\x00\xff", b"abc"]
    array = np.empty(3, dtype=object)
    array[:] = items
    spec = ChunkSpec((3,), np.dtype(object), b"")
    encoded = VlenBytesCodec().encode(array, spec)
    assert encoded == vlen_layout(items)
    assert VlenBytesCodec().decode(encoded, spec).tolist() == items


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x02\x00",
        vlen_layout([b"a"]),  # one item where two are expected
        vlen_layout([b"a", b"bc"])[:-1],
        vlen_layout([b"a", b"bc"]) + b"x",
        struct.pack("<II", 2, 2**31) + b"a",
    ],
)
def test_vlen_corrupt(data: bytes) -> None:
    with pytest.raises(CorruptChunkError):
        VlenBytesCodec().decode(data, ChunkSpec((2,), np.dtype(object), b""))


def test_vlen_utf8_invalid_utf8_and_wrong_items() -> None:
    spec = ChunkSpec((1,), np.dtype(object), "")
    with pytest.raises(CorruptChunkError):
        VlenUtf8Codec().decode(vlen_layout([b"\xff\xfe"]), spec)
    with pytest.raises(CodecError):
        VlenUtf8Codec().encode(np.array([b"bytes"], dtype=object), spec)
    with pytest.raises(CodecError):
        VlenBytesCodec().encode(np.array(["str"], dtype=object), spec)


# -- numcodecs.* ------------------------------------------------------------------------------------------


def test_numcodecs_kinds_and_json() -> None:
    codec = codec_from_json({"name": "numcodecs.zlib", "configuration": {"level": 5}})
    assert codec.to_json() == {"name": "numcodecs.zlib", "configuration": {"level": 5}}
    assert numcodecs_codec_class("zlib").from_config({"level": 5}) == codec
    kinds = {name: cls for name, cls in registered_codecs().items() if name.startswith("numcodecs.")}
    from zarrio.codecs import ArrayArrayCodec, ArrayBytesCodec, BytesBytesCodec

    for name in ["delta", "bitround", "fixedscaleoffset", "quantize", "packbits", "astype"]:
        assert issubclass(kinds[f"numcodecs.{name}"], ArrayArrayCodec)
    for name in ["zlib", "gzip", "bz2", "lzma", "lz4", "zstd", "blosc", "shuffle", "crc32", "adler32", "fletcher32"]:
        assert issubclass(kinds[f"numcodecs.{name}"], BytesBytesCodec)
    assert issubclass(kinds["numcodecs.pcodec"], ArrayBytesCodec)
    with pytest.raises(MetadataError):
        codec_from_json({"name": "numcodecs.zlib", "configuration": {"bogus": 1}})


def test_numcodecs_zstd_is_read_and_written_without_numcodecs() -> None:
    """``numcodecs.zstd`` chunks are zstd frames: zarrio's zstd codec reads and writes them, so
    numcodecs (some 30 ms to import) is never imported for them, and each side reads the other's."""
    import numcodecs

    data = (np.arange(50_000, dtype="<u4") % 977).tobytes()
    ours = numcodecs_codec_class("zstd")(level=3, checksum=True)
    assert numcodecs.Zstd(level=3, checksum=True).decode(ours.encode(data)) == data
    assert bytes(ours.decode(numcodecs.Zstd(level=5).encode(data))) == data
    streamed = zstandard.ZstdCompressor(write_content_size=False).compressobj()  # a frame without its size
    frame = streamed.compress(data) + streamed.flush()
    assert bytes(ours.decode(frame)) == data
    out = bytearray(len(data))
    assert ours.decode_into(numcodecs.Zstd(level=1).encode(data), memoryview(out)) and bytes(out) == data
    corrupt = bytearray(ours.encode(data))
    corrupt[-2] ^= 0xFF  # inside the checksum
    with pytest.raises(CodecError):
        ours.decode(bytes(corrupt))
    assert ours._numcodec is None and ours.to_json() == {
        "name": "numcodecs.zstd",
        "configuration": {"level": 3, "checksum": True},
    }
    with pytest.raises(MetadataError):
        codec_from_json({"name": "numcodecs.zstd", "configuration": {"level": 1, "bogus": 1}})


def test_numcodecs_zlib_is_read_and_written_without_numcodecs() -> None:
    import numcodecs

    data = (np.arange(50_000, dtype="<u4") % 977).tobytes()
    ours = numcodecs_codec_class("zlib")(level=6)
    assert ours.encode(data) == numcodecs.Zlib(level=6).encode(data)  # the same call, the same bytes
    assert bytes(ours.decode(numcodecs.Zlib(level=1).encode(data))) == data
    with pytest.raises(CorruptChunkError):
        ours.decode(b"not zlib at all")
    assert ours._numcodec is None
    with pytest.raises(MetadataError):
        numcodecs_codec_class("zlib")(level=12)


@pytest.mark.parametrize("compressor", ["zstd", "zlib"])
def test_a_v2_array_is_read_without_importing_numcodecs(tmp_path: Path, compressor: str) -> None:
    """Creating a v2 array asks numcodecs for its defaults (the metadata as zarr-python writes it);
    reading one compressed with zstd or zlib needs nothing of numcodecs."""
    import zarrio

    written = zarrio.create_array(
        tmp_path, shape=(40,), chunks=(16,), dtype="<i4", zarr_format=2, compressors={"id": compressor, "level": 1}
    )
    written[:] = np.arange(40)
    script = f"""
import sys
import numpy as np
import zarrio
assert (zarrio.open_array({str(tmp_path)!r}, mode="r")[:] == np.arange(40)).all()
print("numcodecs" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


NUMCODECS_CHAINS: list[tuple[str, list[Any], str]] = [
    ("zlib", [LE, {"name": "numcodecs.zlib", "configuration": {"level": 1}}], "i4"),
    ("bz2", [LE, {"name": "numcodecs.bz2", "configuration": {"level": 3}}], "i4"),
    ("lzma", [LE, {"name": "numcodecs.lzma", "configuration": {}}], "u2"),
    ("lz4", [LE, {"name": "numcodecs.lz4", "configuration": {"acceleration": 1}}], "f8"),
    ("gzip", [LE, {"name": "numcodecs.gzip", "configuration": {"level": 1}}], "f4"),
    ("zstd", [LE, {"name": "numcodecs.zstd", "configuration": {"level": 1}}], "u8"),
    ("shuffle", [LE, {"name": "numcodecs.shuffle", "configuration": {}}], "f8"),
    ("delta", [{"name": "numcodecs.delta", "configuration": {"dtype": "<i2"}}, LE], "i2"),
    ("astype", [{"name": "numcodecs.astype", "configuration": {"encode_dtype": "<i8"}}, LE], "i4"),
    ("crc32", [LE, {"name": "numcodecs.crc32", "configuration": {}}], "i4"),
    ("adler32", [LE, {"name": "numcodecs.adler32", "configuration": {}}], "i4"),
    ("fletcher32", [LE, {"name": "numcodecs.fletcher32", "configuration": {}}], "i4"),
    ("jenkins", [LE, {"name": "numcodecs.jenkins_lookup3", "configuration": {}}], "i4"),
]


@pytest.mark.parametrize(("label", "codecs", "dtype"), NUMCODECS_CHAINS, ids=[c[0] for c in NUMCODECS_CHAINS])
def test_numcodecs_lossless_round_trips(label: str, codecs: list[Any], dtype: str) -> None:
    array = (np.arange(120) * 37 % 101).astype(dtype).reshape(8, 15)
    assert same_bits(round_trip(codecs, array), array)


def test_numcodecs_checksums_have_fixed_size_and_detect_corruption() -> None:
    array = np.arange(10, dtype="i4")
    chain = CodecChain.from_json([LE, {"name": "numcodecs.crc32", "configuration": {}}], spec_for(array))
    encoded = bytearray(chain.encode(array))
    assert chain.compute_encoded_size() == 40 + 4 == len(encoded)
    encoded[5] ^= 1
    with pytest.raises(ChecksumError):
        chain.decode(bytes(encoded))


def test_numcodecs_lossy_filters() -> None:
    values = np.linspace(0, 10, 24).reshape(4, 6)
    quantized = round_trip([{"name": "numcodecs.quantize", "configuration": {"digits": 2}}, LE], values)
    assert np.allclose(quantized, values, atol=0.01) and not np.array_equal(quantized, values)
    rounded = round_trip([{"name": "numcodecs.bitround", "configuration": {"keepbits": 4}}, LE], values)
    assert np.allclose(rounded, values, rtol=2**-4) and rounded.dtype == values.dtype
    scale = {"name": "numcodecs.fixedscaleoffset", "configuration": {"offset": 0, "scale": 100, "astype": "<i4"}}
    scaled = round_trip([scale, LE], values)
    assert np.allclose(scaled, values, atol=0.006)


def test_numcodecs_evolve_fills_settings_from_the_data_type() -> None:
    spec = spec_for(np.zeros((3,), dtype="f8"))
    shuffle = CodecChain.from_json([LE, {"name": "numcodecs.shuffle"}], spec)
    assert shuffle.to_json()[1] == {"name": "numcodecs.shuffle", "configuration": {"elementsize": 8}}
    quantize = CodecChain.from_json([{"name": "numcodecs.quantize", "configuration": {"digits": 1}}, LE], spec)
    assert quantize.to_json()[0] == {"name": "numcodecs.quantize", "configuration": {"digits": 1, "dtype": "float64"}}


def test_numcodecs_packbits() -> None:
    array = np.array([[True, False, True], [False, False, True], [True, True, True]])
    chain = CodecChain.from_json([{"name": "numcodecs.packbits", "configuration": {}}, LE], spec_for(array))
    encoded = chain.encode(array)
    assert len(encoded) == 1 + 2  # a byte for the padding count, then 9 bits in two bytes
    assert np.array_equal(chain.decode(encoded), array)
    with pytest.raises(MetadataError):
        CodecChain.from_json([{"name": "numcodecs.packbits"}, LE], spec_for(np.zeros(3, dtype="i4")))


def test_unknown_codecs() -> None:
    with pytest.raises(UnsupportedError):
        codec_from_json({"name": "no-such-codec"})
    with pytest.raises(UnsupportedError):
        numcodecs_codec_class("no-such-codec")


# -- chains -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "codecs",
    [
        [],
        ["gzip"],
        [{"name": "gzip", "configuration": {"level": 1}}, LE],
        [LE, LE],
        [LE, {"name": "transpose", "configuration": {"order": [0]}}],
        [LE, "vlen-utf8"],
    ],
)
def test_chain_order_is_checked(codecs: list[Any]) -> None:
    with pytest.raises(MetadataError) as info:
        CodecChain.from_json(codecs, ChunkSpec((4,), np.dtype("u1"), 0))
    assert info.value.field == "codecs"


def test_chain_json_size_and_sharding_property() -> None:
    spec = ChunkSpec((4, 5), np.dtype("f4"), 0.0)
    codecs = [TransposeCodec(order=(1, 0)), BytesCodec(endian="big"), GzipCodec(level=2), Crc32cCodec()]
    chain = CodecChain.from_json(codecs, spec)
    assert [codec_from_json(obj) for obj in chain.to_json()] == codecs
    assert chain.compute_encoded_size() is None
    assert chain.sharding is None
    fixed = CodecChain.from_json([LE, "crc32c"], spec)
    assert fixed.compute_encoded_size() == 4 * 5 * 4 + 4
    sharded = CodecChain.from_json([ShardingCodec(chunk_shape=(2, 5))], spec)
    assert isinstance(sharded.sharding, ShardingCodec)
    assert CodecChain.from_json([ShardingCodec(chunk_shape=(2, 5)), "crc32c"], spec).sharding is None


def test_chain_translates_foreign_errors_and_wrong_sizes() -> None:
    spec = ChunkSpec((10,), np.dtype("i4"), 0)
    chain = CodecChain.from_json([LE, "gzip"], spec)
    with pytest.raises(CorruptChunkError) as info:
        chain.decode(b"not gzip at all")
    assert info.value.codec == "gzip"
    wrong_size = GzipCodec().encode(np.arange(9, dtype="i4").tobytes())
    with pytest.raises(CorruptChunkError) as info:
        chain.decode(wrong_size)
    assert info.value.codec == "bytes"
    with pytest.raises(CodecError):
        chain.encode(np.zeros(11, dtype="i4"))


def test_chain_over_every_fixed_dtype() -> None:
    for dtype in FIXED_DTYPES:
        array = sample(dtype, (5, 6))
        codecs: list[Any] = [{"name": "transpose", "configuration": {"order": [1, 0]}}]
        codecs += [{"name": "bytes", "configuration": {"endian": "big"}}]
        codecs += [{"name": "zstd", "configuration": {"level": 1, "checksum": True}}, {"name": "crc32c"}]
        assert same_bits(round_trip(codecs, array), array), dtype


def test_chain_json_matches_zarr_python_for_every_conformance_case(conformance_dir: Path) -> None:
    cases = json.loads((conformance_dir / "cases.json").read_text())["cases"]
    checked = 0
    for case in cases:
        metadata = case.get("metadata")
        if not metadata or case["writer"] != "zarr-python 3.4.2" or not isinstance(metadata["data_type"], str):
            continue
        name = metadata["data_type"]
        dtype = np.dtype(object) if name in ("string", "variable_length_bytes") else np.dtype(name)
        shape = tuple(metadata["chunk_grid"]["configuration"]["chunk_shape"])
        chain = CodecChain.from_json(metadata["codecs"], ChunkSpec(shape, dtype, None))
        assert chain.to_json() == metadata["codecs"], case["id"]
        checked += 1
    assert checked > 40


# -- robustness: random bytes -----------------------------------------------------------------------------

INT4 = ChunkSpec((4,), np.dtype("i4"), 0)
DELTA = {"name": "numcodecs.delta", "configuration": {"dtype": "<i4"}}
TRANSPOSE = {"name": "transpose", "configuration": {"order": [1, 0]}}
FUZZ_CHAINS: dict[str, tuple[list[Any], ChunkSpec]] = {
    "bytes": ([LE], ChunkSpec((4,), np.dtype("i4"), 0)),
    "gzip": ([LE, "gzip"], ChunkSpec((4,), np.dtype("i4"), 0)),
    "zstd": ([LE, "zstd"], ChunkSpec((4,), np.dtype("i4"), 0)),
    "blosc": ([LE, "blosc"], ChunkSpec((4,), np.dtype("i4"), 0)),
    "crc32c": ([LE, "crc32c"], ChunkSpec((4,), np.dtype("i4"), 0)),
    "vlen-utf8": (["vlen-utf8"], ChunkSpec((3,), np.dtype(object), "")),
    "vlen-bytes": (["vlen-bytes"], ChunkSpec((3,), np.dtype(object), b"")),
    "numcodecs.zlib": ([LE, "numcodecs.zlib"], ChunkSpec((4,), np.dtype("i4"), 0)),
    "numcodecs.lz4": ([LE, "numcodecs.lz4"], ChunkSpec((4,), np.dtype("i4"), 0)),
    "numcodecs.blosc": ([LE, "numcodecs.blosc"], ChunkSpec((4,), np.dtype("i4"), 0)),
    "numcodecs.zstd": ([LE, "numcodecs.zstd"], ChunkSpec((4,), np.dtype("i4"), 0)),
    "numcodecs.bz2": ([LE, "numcodecs.bz2"], ChunkSpec((4,), np.dtype("i4"), 0)),
    "numcodecs.lzma": ([LE, "numcodecs.lzma"], ChunkSpec((4,), np.dtype("i4"), 0)),
    "numcodecs.gzip": ([LE, "numcodecs.gzip"], ChunkSpec((4,), np.dtype("i4"), 0)),
    "numcodecs.delta": ([DELTA, LE], INT4),
    "transpose": ([TRANSPOSE, LE], ChunkSpec((2, 2), np.dtype("u1"), 0)),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(FUZZ_CHAINS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200))
def test_random_bytes_raise_only_codec_errors(name: str, data: bytes) -> None:
    codecs, spec = FUZZ_CHAINS[name]
    chain = CodecChain.from_json(codecs, spec)
    try:
        decoded = chain.decode(data, spec)
    except CodecError:
        return
    assert decoded.shape == spec.shape and decoded.dtype == spec.dtype


@pytest.mark.parametrize("name", ["gzip", "zstd", "blosc", "crc32c"])
@settings(max_examples=100, deadline=None)
@given(cut=st.integers(min_value=1, max_value=60), flip=st.integers(min_value=0, max_value=10_000))
def test_damaged_valid_streams_raise_only_codec_errors(name: str, cut: int, flip: int) -> None:
    codecs, spec = FUZZ_CHAINS[name]
    chain = CodecChain.from_json(codecs, spec)
    encoded = bytearray(chain.encode(np.array([1, -2, 3, 40000], dtype="i4")))
    encoded[flip % len(encoded)] ^= 0x5A
    for damaged in (bytes(encoded), bytes(encoded[: max(len(encoded) - cut, 0)])):
        with contextlib.suppress(CodecError):
            chain.decode(damaged, spec)


@settings(max_examples=300, deadline=None)
@given(
    header=st.binary(min_size=12, max_size=12),
    body=st.binary(max_size=300),
    nbytes=st.integers(min_value=0, max_value=1 << 20),
)
def test_blosc_headers_with_a_consistent_length_raise_only_codec_errors(
    header: bytes, body: bytes, nbytes: int
) -> None:
    """Random blosc headers that pass the length check reach the C library; it must fail cleanly."""
    data = bytearray(header[:4]) + nbytes.to_bytes(4, "little") + header[8:12]
    data += (16 + len(body)).to_bytes(4, "little") + body
    with contextlib.suppress(CodecError):
        BloscCodec(cname="lz4", typesize=4, shuffle="shuffle").decode(bytes(data))


# -- bit-exactness against data written by zarr-python ----------------------------------------------------


def conformance_case(corpus: Path, case_id: str) -> dict[str, Any]:
    cases = json.loads((corpus / "cases.json").read_text())["cases"]
    return next(case for case in cases if case["id"] == case_id)


@pytest.mark.parametrize(
    ("case_id", "key", "dtype"),
    [
        ("codec_zstd_default", "c/1", None),
        ("codec_blosc_lz4hc_bitshuffle", "c/0/0", None),
        ("codec_chain_transpose_be_gzip_crc32c", "c/0/0/0", None),
        ("codec_transpose_3d_201", "c/0/1/0", None),
        ("dtype_struct", "c/1", STRUCT),
        ("dtype_datetime64_10s_scaled", "c/0", np.dtype("M8[10s]")),
        ("ext_numcodecs_delta", "c/1", None),
        ("ext_numcodecs_shuffle_zstd", "c/0", None),
    ],
)
def test_decodes_zarr_python_chunks(conformance_dir: Path, case_id: str, key: str, dtype: np.dtype[Any] | None) -> None:
    case = conformance_case(conformance_dir, case_id)
    metadata = case["metadata"]
    dtype = dtype if dtype is not None else np.dtype(metadata["data_type"])
    chunk_shape = tuple(metadata["chunk_grid"]["configuration"]["chunk_shape"])
    spec = ChunkSpec(chunk_shape, dtype, np.zeros((), dtype=dtype)[()])
    chain = CodecChain.from_json(metadata["codecs"], spec)
    decoded = chain.decode((conformance_dir / case["store"] / key).read_bytes(), spec)
    expected = np.load(conformance_dir / case["expected"])
    coords = [int(part) for part in key.split("/")[1:]]
    region = tuple(slice(c * n, (c + 1) * n) for c, n in zip(coords, chunk_shape, strict=True))
    want = expected[region]
    got = decoded[tuple(slice(0, size) for size in want.shape)]
    assert got.tobytes() == np.ascontiguousarray(want).astype(dtype).tobytes()
    assert chain.decode(chain.encode(decoded, spec), spec).tobytes() == np.ascontiguousarray(decoded).tobytes()


@pytest.mark.parametrize("case_id", ["dtype_string_vlen_utf8", "dtype_vlen_bytes"])
def test_decodes_zarr_python_vlen_chunks_bit_exactly(conformance_dir: Path, case_id: str) -> None:
    import base64

    case = conformance_case(conformance_dir, case_id)
    metadata = case["metadata"]
    chunk = metadata["chunk_grid"]["configuration"]["chunk_shape"][0]
    expected = json.loads((conformance_dir / case["expected"]).read_text())
    items = expected["data"] if expected["kind"] == "string" else [base64.b64decode(x) for x in expected["data"]]
    spec = ChunkSpec((chunk,), np.dtype(object), "")
    chain = CodecChain.from_json(metadata["codecs"], spec)
    raw = (conformance_dir / case["store"] / "c/0").read_bytes()
    decoded = chain.decode(raw, spec)
    assert decoded.tolist() == items[:chunk]
    # our encoding of the same chunk is byte-for-byte what zarr-python wrote (before compression)
    inner = CodecChain.from_json(metadata["codecs"][:1], spec)
    stored = bytes(zstandard.ZstdDecompressor().decompressobj().decompress(raw))
    assert inner.encode(decoded, spec) == stored


def test_every_builtin_codec_is_registered() -> None:
    names = set(registered_codecs())
    expected = {"bytes", "transpose", "gzip", "zstd", "blosc", "crc32c", "vlen-utf8", "vlen-bytes", "sharding_indexed"}
    assert expected <= names
    for name in expected - {"transpose", "sharding_indexed"}:
        codec = codec_from_json(name)
        assert isinstance(codec, Codec) and codec.name == name
