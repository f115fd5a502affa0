"""The registered v3 extension codecs, each against data a peer wrote:

* ``scale_offset`` and ``cast_value``: zarr-python 3.4.2 writes them (cast_value through
  cast-value-rs) and reads zarrio's; the chunks are compared byte for byte;
* ``bitround``: the registry's sample arrays (written by zarrs, tests/data/extensions), and
  numcodecs' ``BitRound`` for floats;
* ``zfp``: no peer here writes it; the reference is zfpy (LLNL's binding) run under the
  reference interpreter, whose headerless stream is what the registry's codec stores;
* ``numcodecs.zfpy`` / ``numcodecs.pcodec``: zarr-python 3.4.2 writes them;
* ``packbits`` and ``reshape``: zarrs writes and reads them (tests/test_extension_codecs_zarrs.py);
  here, fixtures built by hand from the registry's layout, for the sub-byte types zarrs-python
  cannot write and the edge cases.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ml_dtypes
import numcodecs
import numpy as np
import pytest

import zarrio
from zarrio.codecs import (
    BitroundCodec,
    CastValueCodec,
    ChunkSpec,
    CodecChain,
    PackBitsCodec,
    ReshapeCodec,
    ScaleOffsetCodec,
)
from zarrio.errors import CodecError, CorruptChunkError, MetadataError, UnsupportedError

DATA = Path(__file__).parent / "data" / "extensions"

#: (data type, fill value, codecs, values) of the arrays zarr-python writes
ZARR_PYTHON_CASES: list[tuple[str, Any, list[dict[str, Any]], list[Any]]] = [
    (
        "float64",
        0.0,
        [
            {"name": "scale_offset", "configuration": {"offset": 1, "scale": 10}},
            {"name": "cast_value", "configuration": {"data_type": "uint8", "out_of_range": "clamp"}},
            {"name": "bytes"},
        ],
        [0, 1, 1.05, 2, 100, -5],
    ),
    (
        "float64",
        "NaN",
        [
            {"name": "scale_offset", "configuration": {"offset": -10, "scale": 0.1}},
            {
                "name": "cast_value",
                "configuration": {
                    "data_type": "uint8",
                    "scalar_map": {"encode": [["NaN", 0]], "decode": [[0, "NaN"]]},
                },
            },
            {"name": "bytes"},
        ],
        [0.0, 2540.0, float("nan"), 1000.0, 15.0, 5.0],
    ),
    (
        "float32",
        0.0,
        [
            {
                "name": "cast_value",
                "configuration": {"data_type": "int8", "rounding": "towards-zero", "out_of_range": "wrap"},
            },
            {"name": "bytes"},
        ],
        [1.9, -1.9, 128.0, -129.5, 300.0, 0.5],
    ),
    (
        "uint16",
        1000,
        [
            {"name": "scale_offset", "configuration": {"offset": 1000}},
            {"name": "cast_value", "configuration": {"data_type": "uint8"}},
            {"name": "bytes"},
        ],
        [1000, 1255, 1001, 1100, 1000, 1254],
    ),
    (
        "int32",
        0,
        [
            {"name": "scale_offset", "configuration": {"offset": -3, "scale": 4}},
            {"name": "bytes", "configuration": {"endian": "little"}},
        ],
        [0, 5, -3, 100, -100, 7],
    ),
    (
        "float32",
        0.0,
        [
            {"name": "cast_value", "configuration": {"data_type": "float16"}},
            {"name": "bytes", "configuration": {"endian": "little"}},
        ],
        [0.1, 1e-8, -3.5, 65504.0, 2.0, 1 / 3],
    ),
    (
        "float32",
        0.0,
        [{"name": "numcodecs.zfpy", "configuration": {"mode": 4, "tolerance": 0.01}}],
        [0.1, 1.0, -3.5, 7.25, 2.0, 1 / 3],
    ),
    ("int64", 0, [{"name": "numcodecs.pcodec", "configuration": {"level": 8}}], [5, 6, 7, 9, 1_000_000, -4]),
]

ROUNDING_MODES = ("nearest-even", "towards-zero", "towards-positive", "towards-negative", "nearest-away")


def _cast(data_type: str, mode: str, out_of_range: str | None = None) -> list[dict[str, Any]]:
    config: dict[str, Any] = {"data_type": data_type, "rounding": mode}
    if out_of_range is not None:
        config["out_of_range"] = out_of_range
    return [{"name": "cast_value", "configuration": config}, {"name": "bytes", "configuration": {"endian": "little"}}]


#: each rounding mode to a float type (ties, the top of float16's range, subnormals, -0.0) and to an integer type
for _mode in ROUNDING_MODES:
    ZARR_PYTHON_CASES += [
        (
            "float64",
            0.0,
            _cast("float16", _mode, "clamp"),
            [65519.99, 65535.0, -65520.0, 2**-25, -3e-8, 1 + 3 * 2**-11],
        ),
        ("float32", 0.0, _cast("float16", _mode), [1 + 2**-11, -(1 + 2**-11), 1 + 3 * 2**-11, 1 + 2**-12, 65504, 0.1]),
        (
            "float64",
            0.0,
            _cast("float32", _mode, "clamp"),
            [1 + 2**-24, -(1 + 2**-24), 1 + 3 * 2**-24, 3.4028235677973366e38, 1e39, 0.1],
        ),
        ("int32", 0, _cast("float16", _mode), [2049, 2051, -2051, 4097, -4099, 0]),
        ("float64", 0.0, _cast("int8", _mode, "wrap"), [1.5, -1.5, 2.5, 300.7, -129.5, 0.5]),
    ]

ZP_WRITER = """
import json, sys, warnings
import numpy as np, zarr
warnings.simplefilter("ignore")
root = sys.argv[1]
for index, (dtype, fill, codecs, values) in enumerate(json.loads(sys.argv[2])):
    folder = f"{root}/zp{index}"
    metadata = {"zarr_format": 3, "node_type": "array", "shape": [6], "data_type": dtype,
                "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [6]}},
                "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
                "fill_value": fill, "codecs": codecs, "attributes": {}}
    store = zarr.storage.LocalStore(folder)
    import asyncio
    from zarr.core.buffer import default_buffer_prototype
    asyncio.run(store.set("zarr.json", default_buffer_prototype().buffer.from_bytes(json.dumps(metadata).encode())))
    z = zarr.open_array(folder, mode="r+")
    z[:] = np.array(values, dtype=dtype)
    np.save(f"{folder}.npy", z[:])
"""

ZP_READER = """
import json, sys, warnings
import numpy as np, zarr
warnings.simplefilter("ignore")
root, count = sys.argv[1], int(sys.argv[2])
print(json.dumps({index: zarr.open_array(f"{root}/zi{index}", mode="r")[:].tobytes().hex() for index in range(count)}))
"""


@pytest.mark.interop
def test_zarr_python_and_zarrio_agree_on_scale_offset_and_cast_value(
    tmp_path: Path, run_ref: Callable[..., str]
) -> None:
    run_ref(ZP_WRITER, str(tmp_path), json.dumps(ZARR_PYTHON_CASES))
    for index, (dtype, fill, codecs, values) in enumerate(ZARR_PYTHON_CASES):
        theirs = zarrio.open(str(tmp_path / f"zp{index}"))
        want = np.load(tmp_path / f"zp{index}.npy")
        assert theirs[...].tobytes() == want.tobytes(), (index, theirs[...], want)
        ours = zarrio.create(str(tmp_path / f"zi{index}"), (6,), dtype, chunks=(6,), fill_value=fill, codecs=codecs)
        ours[...] = np.array(values, dtype=dtype)
        if not codecs[-1]["name"].startswith("numcodecs."):  # their compressed bytes may differ by version
            assert (tmp_path / f"zi{index}" / "c" / "0").read_bytes() == (
                tmp_path / f"zp{index}" / "c" / "0"
            ).read_bytes()
        assert ours[...].tobytes() == want.tobytes()
    seen = json.loads(run_ref(ZP_READER, str(tmp_path), str(len(ZARR_PYTHON_CASES))))
    for index in range(len(ZARR_PYTHON_CASES)):
        assert bytes.fromhex(seen[str(index)]) == np.load(tmp_path / f"zp{index}.npy").tobytes(), index


# ---------------------------------------------------------------- cast_value / scale_offset semantics


def _spec(values: np.ndarray[Any, Any], fill: Any = 0) -> ChunkSpec:
    return ChunkSpec(values.shape, values.dtype, values.dtype.type(fill))


def test_cast_value_out_of_range_is_an_error_unless_handled() -> None:
    values = np.array([128.0, -1.0], dtype=np.float64)
    with pytest.raises(CodecError, match="out of the range"):
        CastValueCodec("int8").encode(values, _spec(values))
    assert CastValueCodec("int8", out_of_range="clamp").encode(values, _spec(values)).tolist() == [127, -1]
    assert CastValueCodec("int8", out_of_range="wrap").encode(values, _spec(values)).tolist() == [-128, -1]
    wide = np.array([32768, 32769, -32769], dtype=np.int64)
    assert CastValueCodec("int16", out_of_range="wrap").encode(wide, _spec(wide)).tolist() == [-32768, -32767, 32767]


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("nearest-even", [2, -2, 0, 2, -2]),
        ("towards-zero", [1, -1, 0, 2, -2]),
        ("towards-positive", [2, -1, 1, 3, -2]),
        ("towards-negative", [1, -2, 0, 2, -3]),
        ("nearest-away", [2, -2, 1, 3, -3]),
    ],
)
def test_cast_value_rounding_modes(mode: str, expected: list[int]) -> None:
    values = np.array([1.5, -1.5, 0.5, 2.5, -2.5], dtype=np.float32)
    assert CastValueCodec("int8", rounding=mode).encode(values, _spec(values)).tolist() == expected


@pytest.mark.parametrize(
    ("mode", "bfloat16", "fnuz"),
    [
        ("nearest-even", [1.0, -1.0, 1.015625], [240.0, 0.0, 0.0]),
        ("towards-zero", [1.0, -1.0, 1.0078125], [224.0, 0.0, 0.0]),
        ("towards-positive", [1.0078125, -1.0, 1.015625], [240.0, 0.0, 2**-10]),
        ("towards-negative", [1.0, -1.0078125, 1.0078125], [224.0, -(2**-10), 0.0]),
        ("nearest-away", [1.0078125, -1.0078125, 1.015625], [240.0, 0.0, 0.0]),
    ],
)
def test_cast_value_rounds_to_low_precision_floats_by_every_mode(
    mode: str, bfloat16: list[float], fnuz: list[float]
) -> None:
    """bfloat16: the ties 1 + 2**-8 and 1 + 3 * 2**-8 (and the negative of the first); float8_e4m3fnuz (no -0.0,
    no infinity): 236 between 224 and 240, a tiny negative, and just under half its smallest subnormal 2**-10."""
    values = np.array([1 + 2**-8, -(1 + 2**-8), 1 + 3 * 2**-8])
    assert CastValueCodec("bfloat16", rounding=mode).encode(values, _spec(values)).astype(float).tolist() == bfloat16
    small = np.array([236.0, -1e-10, 2**-11 * 0.999])
    to_fnuz = CastValueCodec("float8_e4m3fnuz", rounding=mode)
    assert to_fnuz.encode(small, _spec(small)).astype(float).tolist() == fnuz


def test_cast_value_out_of_range_error_clamp_and_infinities() -> None:
    codec = CastValueCodec.from_config({"data_type": "int8", "out_of_range": "error"})
    assert codec.to_json()["configuration"] == {"data_type": "int8", "out_of_range": "error"}
    values = np.array([np.inf, -np.inf, 3.0])
    with pytest.raises(CodecError, match="infinity"):
        codec.encode(values, _spec(values))
    assert CastValueCodec("int8", out_of_range="clamp").encode(values, _spec(values)).tolist() == [127, -128, 3]
    with pytest.raises(CodecError, match="infinity"):
        CastValueCodec("int8", out_of_range="wrap").encode(values, _spec(values))
    to_fnuz = CastValueCodec("float8_e4m3fnuz", out_of_range="clamp")
    assert to_fnuz.encode(values, _spec(values)).astype(float).tolist() == [240.0, -240.0, 3.0]
    with pytest.raises(CodecError, match="infinity"):
        CastValueCodec("float8_e4m3fnuz").encode(values, _spec(values))
    assert np.isinf(CastValueCodec("float16").encode(values, _spec(values)).astype(float)[:2]).all()
    nan = np.array([np.nan])
    with pytest.raises(CodecError, match="NaN"):
        CastValueCodec("float4_e2m1fn", out_of_range="clamp").encode(nan, _spec(nan))
    for mode, expected in (("towards-zero", 65504.0), ("nearest-even", np.inf)):
        top = np.array([65535.0])
        assert CastValueCodec("float16", rounding=mode, out_of_range="clamp").encode(top, _spec(top))[0] == expected
    with pytest.raises(CodecError, match="finite range"):
        CastValueCodec("float16", rounding="towards-zero").encode(np.array([65536.0]), _spec(top))


def test_cast_value_nan_needs_a_scalar_map_and_a_bad_stored_value_is_corrupt() -> None:
    values = np.array([np.nan, 1.0])
    with pytest.raises(CodecError, match="NaN"):
        CastValueCodec("uint8").encode(values, _spec(values))
    to_fnuz = CastValueCodec("float8_e4m3fnuz", out_of_range="clamp")
    assert to_fnuz.encode(np.array([1e6, -1e6]), _spec(np.array([0.0]))).astype(np.float64).tolist() == [240.0, -240.0]
    chain = CodecChain.from_json(
        [
            {"name": "scale_offset", "configuration": {"scale": 4}},
            {"name": "bytes", "configuration": {"endian": "little"}},
        ],
        ChunkSpec((2,), np.dtype(np.int32), np.int32(0)),
    )
    with pytest.raises(CorruptChunkError, match="multiple of scale"):
        chain.decode(np.array([8, 9], dtype="<i4").tobytes())


def test_cast_value_and_scale_offset_configurations_are_checked() -> None:
    with pytest.raises(MetadataError, match="wrap"):
        CastValueCodec("float32", out_of_range="wrap")
    with pytest.raises(UnsupportedError, match="string"):
        CastValueCodec("string")
    with pytest.raises(MetadataError, match="unknown configuration keys"):
        CastValueCodec.from_config({"data_type": "uint8", "mode": "x"})
    with pytest.raises(MetadataError, match="zero"):
        CodecChain.from_json(
            [{"name": "scale_offset", "configuration": {"scale": 0}}, "bytes"], _spec(np.zeros(2, np.uint8))
        )
    with pytest.raises(MetadataError, match="out of range"):
        CodecChain.from_json(
            [{"name": "scale_offset", "configuration": {"offset": 300}}, "bytes"], _spec(np.zeros(2, np.uint8))
        )
    assert ScaleOffsetCodec().to_json() == {"name": "scale_offset"}


def test_cast_value_to_a_low_precision_type(tmp_path: Path) -> None:
    z = zarrio.create(
        str(tmp_path / "a"),
        4,
        "float32",
        codecs=[
            {"name": "cast_value", "configuration": {"data_type": "bfloat16"}},
            {"name": "bytes", "configuration": {"endian": "little"}},
        ],
    )
    z[...] = np.array([1.0, 1.00390625, -2.5, 3.0], dtype=np.float32)
    stored = np.frombuffer((tmp_path / "a" / "c" / "0").read_bytes(), dtype=ml_dtypes.bfloat16)
    assert stored.astype(np.float32).tolist() == [1.0, 1.0, -2.5, 3.0]  # 1 + 2**-8 rounds to even
    assert z[...].tolist() == [1.0, 1.0, -2.5, 3.0]


# ---------------------------------------------------------------- bitround


@pytest.mark.parametrize(
    ("name", "originals"),
    [
        ("bitround_uint8", np.array([0, 1, 10, 11, 100, 123, 200, 208, 209, 255], dtype=np.uint8)),
        ("bitround_float32", np.array([0, 0.1, 1.2, 12.3, 123.4, 1234.5, np.nan, np.inf, -np.inf], dtype=np.float32)),
    ],
)
def test_bitround_matches_the_registry_samples_zarrs_wrote(name: str, originals: np.ndarray[Any, Any]) -> None:
    stored = (DATA / f"{name}.zarr" / "c" / "0").read_bytes()
    array = zarrio.open(str(DATA / f"{name}.zarr"))
    assert array[...].tobytes() == stored  # decoding is the identity
    rounded = BitroundCodec(3).encode(originals, _spec(originals))
    assert rounded.tobytes() == stored


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_bitround_floats_match_numcodecs(dtype: str) -> None:
    values = np.random.default_rng(3).normal(scale=1000, size=2000).astype(dtype)
    for keepbits in (0, 1, 5, 9):
        ours = BitroundCodec(keepbits).encode(values, _spec(values))
        assert ours.tobytes() == numcodecs.BitRound(keepbits).encode(values).tobytes()


def test_bitround_integers_complex_and_limits() -> None:
    values = np.array([0, 1024, 1280, 1664, 1685, 123145182, 4294967295], dtype=np.uint32)  # zarrs' own test
    assert BitroundCodec(3).encode(values, _spec(values)).tolist() == [0, 1024, 1280, 1536, 1792, 117440512, 3758096384]
    complex_values = np.array([1.2 + 12.3j], dtype=np.complex64)
    assert BitroundCodec(3).encode(complex_values, _spec(complex_values)).tolist() == [1.25 + 12j]
    with pytest.raises(MetadataError, match="mantissa"):
        CodecChain.from_json(
            [{"name": "bitround", "configuration": {"keepbits": 11}}, "bytes"], _spec(np.zeros(1, np.float16))
        )


# ---------------------------------------------------------------- packbits and reshape (hand-built from the spec)


@pytest.mark.parametrize(
    ("dtype", "values", "padding", "stored"),
    [
        (ml_dtypes.int4, [-8, 7, -1, 0, 3], "none", "780f03"),  # 4 bits each, least significant first
        (ml_dtypes.int4, [-8, 7, -1, 0, 3], "last_byte", "780f0304"),
        (ml_dtypes.uint2, [0, 1, 2, 3, 3], "first_byte", "06e403"),
        (np.bool_, [1, 0, 1, 1, 0, 0, 0, 1, 1], "none", "8d01"),
        (ml_dtypes.float4_e2m1fn, [-0.5, 6.0], "none", "79"),
        (ml_dtypes.float6_e2m3fn, [1.0, -7.5, 0.5, 0.0], "none", "c84f00"),
        (np.int16, [-300, 5], "none", "d4fe0500"),  # whole bytes: the bytes codec's little-endian layout
    ],
)
def test_packbits_layout(dtype: Any, values: list[Any], padding: str, stored: str) -> None:
    array = np.array(values, dtype=dtype)
    codec = PackBitsCodec.from_config({"padding_encoding": padding})
    assert codec.encode(array, _spec(array)).hex() == stored
    assert codec.decode(bytes.fromhex(stored), _spec(array)).tobytes() == array.tobytes()


def test_packbits_bit_ranges_sign_extend_and_corruption_is_detected(tmp_path: Path) -> None:
    codec = PackBitsCodec.from_config({"first_bit": 2, "last_bit": 9})
    values = np.array([-4, 8, 20], dtype=np.int16)
    assert codec.decode(codec.encode(values, _spec(values)), _spec(values)).tolist() == [-4, 8, 20]
    assert PackBitsCodec.from_config({"start_bit": 1, "end_bit": 3, "padding_encoding": "end_byte"}).to_json() == {
        "name": "packbits",
        "configuration": {"padding_encoding": "last_byte", "first_bit": 1, "last_bit": 3},
    }
    with pytest.raises(CorruptChunkError, match="expected 4 bytes"):
        PackBitsCodec("last_byte").decode(bytes(3), _spec(np.zeros(5, ml_dtypes.int4)))
    with pytest.raises(CorruptChunkError, match="padding"):
        PackBitsCodec("last_byte").decode(bytes.fromhex("780f0305"), _spec(np.zeros(5, ml_dtypes.int4)))
    z = zarrio.create(str(tmp_path / "p"), (3, 5), "uint4", chunks=(2, 5), fill_value=9, codecs=[{"name": "packbits"}])
    z[0:2] = np.arange(10).reshape(2, 5).astype(ml_dtypes.uint4)
    assert (tmp_path / "p" / "c" / "0" / "0").read_bytes().hex() == "1032547698"
    assert z[...].astype(np.int64).tolist() == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [9, 9, 9, 9, 9]]


def test_packbits_of_a_whole_width_type_reads_without_its_padding_byte() -> None:
    """zarrs leaves the byte out where it would say 0 (whole-byte components, every bit kept); zarrio
    writes it, as the spec says, and reads both; a bit range keeps it required."""
    values = np.array([1.5, -2.0], dtype=np.float32)
    codec = PackBitsCodec("last_byte")
    assert codec.encode(values, _spec(values)) == values.tobytes() + b"\x00"
    assert codec.compute_encoded_size(_spec(values)) is None
    assert codec.decode(values.tobytes(), _spec(values)).tolist() == [1.5, -2.0]
    assert PackBitsCodec("first_byte").decode(b"\x00" + values.tobytes(), _spec(values)).tolist() == [1.5, -2.0]
    with pytest.raises(CorruptChunkError, match="padding"):
        codec.decode(values.tobytes() + b"\x03", _spec(values))
    ranged = PackBitsCodec("last_byte", first_bit=0, last_bit=7)
    small = np.array([1, 2], dtype=np.int16)
    assert ranged.compute_encoded_size(_spec(small)) == 3
    with pytest.raises(CorruptChunkError, match="expected 3 bytes"):
        ranged.decode(b"\x01\x02", _spec(small))


def test_reshape_reads_a_hand_built_array(tmp_path: Path) -> None:
    folder = tmp_path / "r"
    (folder / "c" / "0" / "0").mkdir(parents=True)
    codecs = [
        {"name": "reshape", "configuration": {"shape": [[0, 1], -1]}},
        {"name": "bytes", "configuration": {"endian": "big"}},
    ]
    document = {
        "zarr_format": 3, "node_type": "array", "shape": [4, 3, 2], "data_type": "int16",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2, 3, 2]}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": -1, "codecs": codecs,
    }  # fmt: skip
    (folder / "zarr.json").write_text(json.dumps(document))
    (folder / "c" / "0" / "0" / "0").write_bytes(np.arange(12, dtype=">i2").tobytes())  # a (6, 2) chunk, C order
    array = zarrio.open(str(folder))
    assert array[0:2].tolist() == np.arange(12).reshape(2, 3, 2).tolist()
    assert (array[2:] == -1).all()
    assert ReshapeCodec([[0, 1], -1]).output_shape((2, 3, 2)) == (6, 2)
    assert ReshapeCodec([[0, 1], [2], 3]).output_shape((100, 50, 64, 3)) == (5000, 64, 3)


@pytest.mark.parametrize(
    "shape",
    [[[1], [0]], [[1, 0], 10], [-1, -1], [0], [[0], 5]],
)
def test_reshape_refuses_what_the_spec_forbids(shape: list[Any]) -> None:
    with pytest.raises(MetadataError):
        ReshapeCodec(shape).output_shape((2, 3))


# ---------------------------------------------------------------- zfp


ZFP_REFERENCE = """
import json, sys
import numpy as np, zfpy
root, mode = sys.argv[1], json.loads(sys.argv[2])
values = np.load(f"{root}/values.npy")
keywords = {k: v for k, v in mode.items() if k != "mode"}
open(f"{root}/theirs.zfp", "wb").write(zfpy.compress_numpy(values, write_header=False, **keywords))
ours = open(f"{root}/ours.zfp", "rb").read()
decoded = zfpy._decompress(ours, zfpy.dtype_to_ztype(values.dtype), list(values.shape), **keywords)
np.save(f"{root}/theirs_of_ours.npy", decoded)
np.save(f"{root}/theirs_decoded.npy", zfpy.decompress_numpy(zfpy.compress_numpy(values, **keywords)))
"""


@pytest.mark.interop
@pytest.mark.parametrize(
    "mode",
    [
        {"mode": "reversible"},
        {"mode": "fixed_accuracy", "tolerance": 0.05},
        {"mode": "fixed_rate", "rate": 10.5},
        {"mode": "fixed_precision", "precision": 19},
    ],
)
def test_zfp_streams_agree_with_zfpy(tmp_path: Path, run_ref: Callable[..., str], mode: dict[str, Any]) -> None:
    values = np.random.default_rng(5).normal(size=(6, 9, 5)).cumsum(axis=0)
    np.save(tmp_path / "values.npy", values)
    chain = CodecChain.from_json([{"name": "zfp", "configuration": mode}], _spec(values, 0.0))
    (tmp_path / "ours.zfp").write_bytes(chain.encode(values))
    run_ref(ZFP_REFERENCE, str(tmp_path), json.dumps(mode))
    theirs = (tmp_path / "theirs.zfp").read_bytes()
    assert theirs == (tmp_path / "ours.zfp").read_bytes()
    assert chain.decode(theirs).tobytes() == np.load(tmp_path / "theirs_decoded.npy").tobytes()
    assert np.load(tmp_path / "theirs_of_ours.npy").tobytes() == chain.decode(theirs).tobytes()


def test_zfp_configuration_and_corruption() -> None:
    with pytest.raises(MetadataError, match="needs"):
        CodecChain.from_json([{"name": "zfp", "configuration": {"mode": "fixed_rate"}}], _spec(np.zeros(4)))
    with pytest.raises(UnsupportedError, match="expert"):
        CodecChain.from_json(
            [
                {
                    "name": "zfp",
                    "configuration": {"mode": "expert", "minbits": 1, "maxbits": 13, "maxprec": 19, "minexp": -2},
                }
            ],
            _spec(np.zeros(4)),
        )
    with pytest.raises(MetadataError, match="unsupported data type"):
        CodecChain.from_json([{"name": "zfp", "configuration": {"mode": "reversible"}}], _spec(np.zeros(4, np.int16)))
    chain = CodecChain.from_json([{"name": "zfp", "configuration": {"mode": "reversible"}}], _spec(np.zeros(4)))
    with pytest.raises(CorruptChunkError, match="64-bit words"):
        chain.decode(b"\x01\x02\x03")


def test_a_missing_codec_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import numcodecs.errors

    def unknown(config: dict[str, Any]) -> Any:
        raise numcodecs.errors.UnknownCodecError(config["id"])

    monkeypatch.setattr(numcodecs, "get_codec", unknown)
    with pytest.raises(UnsupportedError, match=r"install zarrio\[pcodec\]"):
        CodecChain.from_json([{"name": "numcodecs.pcodec", "configuration": {"level": 8}}], _spec(np.zeros(4)))
    monkeypatch.setitem(__import__("sys").modules, "zfpy", None)
    with pytest.raises(UnsupportedError, match=r"install zarrio\[zfp\]"):
        CodecChain.from_json([{"name": "zfp", "configuration": {"mode": "reversible"}}], _spec(np.zeros(4)))
