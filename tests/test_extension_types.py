"""The registered low-precision data types (bfloat16, the float8/float6/float4 family, int2/int4/
uint2/uint4), checked against arrays tensorstore 0.1.86 writes, and written by zarrio for
tensorstore to read back; their fill-value forms; the errors for unknown extensions.

tensorstore writes every such type it knows (it spells the OCP E4M3 type ``float8_e4m3fn``; the
registry's ``float8_e4m3``, ``float6_*``, ``uint2`` and ``uint4`` it does not write, so those are
checked through zarrio's own round trip and the bit layouts of the registry).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ml_dtypes
import numpy as np
import pytest

import zarrio
from zarrio.errors import MetadataError, UnsupportedError
from zarrio.metadata import ArrayMetadata, data_type_from_json, data_type_from_numpy, parse_data_type
from zarrio.metadata.ml_types import MlFloatType

#: what tensorstore 0.1.86 writes: (data type, fill value as given to tensorstore)
TENSORSTORE_TYPES = [
    ("bfloat16", "NaN"),
    ("bfloat16", 1.5),
    ("float8_e4m3fn", "NaN"),
    ("float8_e4m3fnuz", -2.0),
    ("float8_e4m3b11fnuz", 0.5),
    ("float8_e5m2", "-Infinity"),
    ("float8_e5m2fnuz", "NaN"),
    ("float8_e3m4", 0.25),
    # a fill of 4.0 tensorstore 0.1.86 stores as 0x41 (2**-62), not the registry's 0x81 (2**2): zarrio follows
    # the registry (test_float_fill_values_take_the_registry_bit_patterns), so this case uses NaN
    ("float8_e8m0fnu", "NaN"),
    ("float4_e2m1fn", -0.5),
    ("int4", -3),
    ("int2", 1),
]

TS_WRITER = """
import json, sys
import numpy as np, tensorstore as ts
root = sys.argv[1]
for index, (name, fill) in enumerate(json.loads(sys.argv[2])):
    fill_value = float(fill) if isinstance(fill, str) else fill
    t = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": f"{root}/a{index}"},
                 "metadata": {"shape": [6, 4], "data_type": name, "fill_value": fill_value,
                              "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [3, 4]}}}},
                create=True, delete_existing=True).result()
    dtype = t.dtype.numpy_dtype
    values = (np.arange(12).reshape(3, 4) % 4 - 1) if "int" in name else np.linspace(-2, 2, 12).reshape(3, 4)
    t[0:3, :] = values.astype(dtype)                     # rows 3..5 stay unwritten: the fill value
    back = t.read().result()
    np.save(f"{root}/a{index}.npy", back.view(np.uint8))
"""

TS_READER = """
import json, sys
import numpy as np, tensorstore as ts
root, count = sys.argv[1], int(sys.argv[2])
out = {}
for index in range(count):
    t = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": f"{root}/z{index}"}}).result()
    out[index] = [str(t.dtype), t.read().result().view(np.uint8).tobytes().hex()]
print(json.dumps(out))
"""


@pytest.mark.interop
def test_zarrio_reads_what_tensorstore_writes(tmp_path: Path, run_ref: Callable[..., str]) -> None:
    run_ref(TS_WRITER, str(tmp_path), json.dumps(TENSORSTORE_TYPES))
    for index, (name, _fill) in enumerate(TENSORSTORE_TYPES):
        array = zarrio.open(str(tmp_path / f"a{index}"))
        assert array.metadata.data_type.name == name
        assert array.dtype == np.dtype(getattr(ml_dtypes, name))
        got = array[...]
        want = np.load(tmp_path / f"a{index}.npy")
        # value for value (tensorstore may leave the ignored upper bits of int4 / float4 set)
        assert np.array_equal(got.view(np.uint8) & _mask(name), want & _mask(name)), name
        assert (
            array.metadata.to_json()["fill_value"]
            == json.loads((tmp_path / f"a{index}/zarr.json").read_text())["fill_value"]
        ), name


def _mask(name: str) -> int:
    return {"int4": 0x0F, "float4_e2m1fn": 0x0F, "int2": 0x03}.get(name, 0xFF)


@pytest.mark.interop
def test_tensorstore_reads_what_zarrio_writes(tmp_path: Path, run_ref: Callable[..., str]) -> None:
    written: list[tuple[str, np.ndarray[Any, Any]]] = []
    for index, (name, fill) in enumerate(TENSORSTORE_TYPES):
        z = zarrio.create(str(tmp_path / f"z{index}"), (6, 4), name, chunks=(3, 4), fill_value=fill)
        values = (np.arange(12).reshape(3, 4) % 4 - 1) if "int" in name else np.linspace(-2, 2, 12).reshape(3, 4)
        z[0:3, :] = values.astype(z.dtype)
        written.append((name, z[...]))
    seen = json.loads(run_ref(TS_READER, str(tmp_path), str(len(TENSORSTORE_TYPES))))
    for index, (name, values) in enumerate(written):
        dtype_name, hex_bytes = seen[str(index)]
        assert dtype_name == f'dtype("{name}")'
        seen_bits = np.frombuffer(bytes.fromhex(hex_bytes), dtype=np.uint8) & _mask(name)
        assert np.array_equal(seen_bits, values.view(np.uint8).reshape(-1) & _mask(name)), name


# ---------------------------------------------------------------- fill values and names


@pytest.mark.parametrize(
    ("name", "fill", "bits"),
    [
        ("bfloat16", "NaN", 0x7FC0),
        ("bfloat16", "0x7fe0", 0x7FE0),
        ("bfloat16", 1.5, 0x3FC0),
        ("bfloat16", "-Infinity", 0xFF80),
        ("float8_e4m3", "NaN", 0x7C),
        ("float8_e4m3", "Infinity", 0x78),
        ("float8_e4m3fn", "NaN", 0x7F),
        ("float8_e5m2", "NaN", 0x7E),
        ("float8_e3m4", "NaN", 0x78),
        ("float8_e4m3fnuz", "NaN", 0x80),
        ("float8_e4m3b11fnuz", "NaN", 0x80),
        ("float8_e5m2fnuz", "NaN", 0x80),
        ("float8_e8m0fnu", "NaN", 0xFF),
        ("float8_e8m0fnu", 4.0, 0x81),
        ("float4_e2m1fn", -0.5, 0x09),
        ("float6_e2m3fn", 0.5, 0x04),
        ("float6_e3m2fn", -1.0, 0x2C),
    ],
)
def test_float_fill_values_take_the_registry_bit_patterns(name: str, fill: Any, bits: int) -> None:
    data_type = data_type_from_json(name)
    value = data_type.fill_from_json(fill)
    width = data_type.numpy_dtype.itemsize
    assert int.from_bytes(np.asarray(value, dtype=data_type.numpy_dtype).tobytes(), "little") == bits
    again = data_type.fill_from_json(data_type.fill_to_json(value))
    assert np.asarray(again).tobytes() == np.asarray(value).tobytes()
    assert width == (2 if name == "bfloat16" else 1)


@pytest.mark.parametrize(
    ("name", "fill"),
    [
        ("float8_e4m3fn", "Infinity"),
        ("float8_e4m3fnuz", "-Infinity"),
        ("float4_e2m1fn", "NaN"),
        ("float6_e3m2fn", "Infinity"),
        ("float8_e4m3fn", 1e6),  # no infinity to overflow into
        ("float4_e2m1fn", "0x1f"),  # more than 4 bits
        ("bfloat16", True),
        ("int4", 8),
        ("int2", -3),
        ("uint4", 16),
        ("uint2", -1),
        ("int4", 1.5),
    ],
)
def test_fill_values_the_types_cannot_hold_are_refused(name: str, fill: Any) -> None:
    with pytest.raises(MetadataError) as info:
        data_type_from_json(name).fill_from_json(fill)
    assert info.value.field == "fill_value"


def test_integer_types_and_their_ranges() -> None:
    for name, low, high in [("int2", -2, 1), ("int4", -8, 7), ("uint2", 0, 3), ("uint4", 0, 15)]:
        data_type = data_type_from_json({"name": name, "configuration": {}})
        assert data_type.fill_to_json(low) == low and data_type.fill_to_json(high) == high
        assert data_type.item_size == 1 and not data_type.has_endianness
        assert data_type_from_numpy(np.dtype(getattr(ml_dtypes, name))) == data_type


def test_numpy_and_user_spellings_map_to_the_registry_names() -> None:
    assert parse_data_type(ml_dtypes.bfloat16).to_json() == "bfloat16"
    assert parse_data_type("float8_e5m2").to_json() == "float8_e5m2"
    assert data_type_from_json("complex_float32").to_json() == "complex64"  # the registry's alias
    assert data_type_from_json("complex_float64").numpy_dtype == np.complex128
    assert data_type_from_json("bfloat16").has_endianness


def test_big_endian_bfloat16_is_byte_swapped(tmp_path: Path) -> None:
    z = zarrio.create(
        str(tmp_path / "be"), 3, "bfloat16", codecs=[{"name": "bytes", "configuration": {"endian": "big"}}]
    )
    z[...] = np.array([1.0, -2.0, 0.5], dtype=ml_dtypes.bfloat16)
    assert (tmp_path / "be" / "c" / "0").read_bytes() == bytes.fromhex("3f80c0003f00")
    assert z[...].tolist() == [1.0, -2.0, 0.5]


def test_without_ml_dtypes_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ml_dtypes", None)  # import ml_dtypes now raises ImportError
    with pytest.raises(UnsupportedError, match=r"install zarrio\[ml-dtypes\]") as info:
        _ = MlFloatType("bfloat16").numpy_dtype
    assert "'bfloat16'" in str(info.value)
    from zarrio.codecs._numeric import numeric_dtype

    with pytest.raises(UnsupportedError, match=r"zarrio\[ml-dtypes\]"):
        numeric_dtype("cast_value", "int4")


# ---------------------------------------------------------------- unknown extensions


def _document(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "zarr_format": 3,
        "node_type": "array",
        "shape": [4],
        "data_type": "uint8",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [4]}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": 0,
        "codecs": [{"name": "bytes"}],
    }
    document.update(changes)
    return document


def test_an_unknown_data_type_is_named() -> None:
    with pytest.raises(UnsupportedError, match="'float7_e3m3'") as info:
        ArrayMetadata.from_json(_document(data_type={"name": "float7_e3m3", "must_understand": False}))
    assert info.value.field == "data_type"


def test_an_unknown_codec_is_named_unless_it_may_be_ignored(tmp_path: Path) -> None:
    folder = tmp_path / "a"
    folder.mkdir()
    unknown = {"name": "example.checksum", "configuration": {"x": 1}}
    (folder / "zarr.json").write_text(json.dumps(_document(codecs=[{"name": "bytes"}, unknown])))
    with pytest.raises(UnsupportedError, match=r"'example\.checksum'"):
        zarrio.open(str(folder))[...]
    ignorable = {**unknown, "must_understand": False}
    (folder / "zarr.json").write_text(json.dumps(_document(codecs=[{"name": "bytes"}, ignorable])))
    (folder / "c").mkdir()
    (folder / "c" / "0").write_bytes(bytes([1, 2, 3, 4]))
    array = zarrio.open(str(folder))
    assert array[...].tolist() == [1, 2, 3, 4]
    assert array.metadata.to_json()["codecs"][-1] == ignorable  # kept for whoever understands it


def test_a_known_codec_may_say_must_understand(tmp_path: Path) -> None:
    folder = tmp_path / "a"
    folder.mkdir()
    codecs = [{"name": "bytes", "must_understand": True}]
    (folder / "zarr.json").write_text(json.dumps(_document(codecs=codecs, fill_value=7)))
    assert zarrio.open(str(folder))[...].tolist() == [7, 7, 7, 7]


def test_an_unknown_top_level_field_may_be_ignored() -> None:
    extra = {"note": {"must_understand": False, "text": "hi"}}
    assert ArrayMetadata.from_json(_document(**extra)).extra_fields == extra
    with pytest.raises(UnsupportedError, match="'note'"):
        ArrayMetadata.from_json(_document(note={"text": "hi"}))
