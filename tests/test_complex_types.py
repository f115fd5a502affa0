"""The registered complex types of low-precision parts (``complex_bfloat16``, ``complex_float16``,
``complex_float8_*``, ``complex_float6_*``, ``complex_float4_e2m1fn``): the in-memory pair, fill
values, the byte layouts the registry gives (real part first, each part in its own byte order),
packbits' part-wise bits. The layouts are built by hand here from the registry; zarrs writes and
reads the same bytes (tests/test_extension_codecs_zarrs.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import ml_dtypes
import numpy as np
import pytest

import zarrio
from zarrio.errors import MetadataError, UnsupportedError
from zarrio.metadata.complex_types import PairedComplexType
from zarrio.metadata.data_types import data_type_from_json, parse_data_type

REGISTERED = [
    "complex_bfloat16",
    "complex_float16",
    "complex_float8_e3m4",
    "complex_float8_e4m3",
    "complex_float8_e4m3fnuz",
    "complex_float8_e4m3b11fnuz",
    "complex_float8_e5m2",
    "complex_float8_e5m2fnuz",
    "complex_float8_e8m0fnu",
    "complex_float6_e2m3fn",
    "complex_float6_e3m2fn",
    "complex_float4_e2m1fn",
]


def _pair(name: str, real: list[Any], imag: list[Any]) -> np.ndarray[Any, Any]:
    values = np.zeros(len(real), dtype=parse_data_type(name).numpy_dtype)
    values["real"], values["imag"] = real, imag
    return values


@pytest.mark.parametrize("name", REGISTERED)
def test_each_registered_type_is_a_pair_of_its_part_type(name: str) -> None:
    data_type = data_type_from_json(name)
    part = np.dtype(np.float16) if name == "complex_float16" else np.dtype(getattr(ml_dtypes, name[len("complex_") :]))
    assert data_type.to_json() == name and data_type.name == name
    assert data_type.numpy_dtype == np.dtype([("real", part), ("imag", part)])
    assert data_type.item_size == 2 * part.itemsize
    assert data_type.has_endianness == (part.itemsize > 1)
    assert data_type_from_json({"name": name, "configuration": {}}) == data_type
    assert np.asarray(data_type.fill_from_user(None)).tobytes() == bytes(data_type.item_size)  # all bits zero


def test_tensorstores_float8_e4m3fn_has_no_registered_complex_form() -> None:
    with pytest.raises(UnsupportedError, match="complex_float8_e4m3fn"):
        data_type_from_json("complex_float8_e4m3fn")


@pytest.mark.parametrize(
    ("name", "fill", "stored", "again"),
    [
        ("complex_bfloat16", [1.5, "NaN"], "c03fc07f", [1.5, "NaN"]),
        ("complex_bfloat16", ["0x7fc1", "-Infinity"], "c17f80ff", ["0x7fc1", "-Infinity"]),  # a NaN payload kept
        ("complex_bfloat16", [-0.0, 3], "00804040", [-0.0, 3.0]),
        ("complex_float16", [0.25, "Infinity"], "0034007c", [0.25, "Infinity"]),
        ("complex_float8_e4m3fnuz", ["NaN", 2.0], "8048", ["NaN", 2.0]),
        ("complex_float8_e5m2", ["Infinity", -1], "7cbc", ["Infinity", -1.0]),
        ("complex_float4_e2m1fn", [0.5, -6.0], "010f", [0.5, -6.0]),
        ("complex_float8_e8m0fnu", [1.0, "0x00"], "7f00", [1.0, 2.0**-127]),
    ],
)
def test_fill_values_are_pairs_of_the_parts_fills(name: str, fill: list[Any], stored: str, again: list[Any]) -> None:
    data_type = data_type_from_json(name)
    value = data_type.fill_from_json(fill)
    assert np.asarray(value).tobytes().hex() == stored
    assert data_type.fill_to_json(value) == again
    assert data_type.fill_from_user(value) is value


def test_fill_values_from_users_and_the_invalid_ones() -> None:
    data_type = parse_data_type("complex_bfloat16")
    assert np.asarray(data_type.fill_from_user(1 + 2j)).tobytes().hex() == "803f0040"
    assert np.asarray(data_type.fill_from_user(np.complex64(complex(0.0, -1.0)))).tobytes().hex() == "000080bf"
    assert np.asarray(data_type.fill_from_user(3)).tobytes().hex() == "40400000"
    assert np.asarray(data_type.fill_from_user((np.float32(0.5), "NaN"))).tobytes().hex() == "003fc07f"
    for bad in ([1.0], [1, 2, 3], "NaN", {"re": 1}, [1, "nope"]):
        with pytest.raises(MetadataError, match="fill"):
            data_type.fill_from_json(bad)
    with pytest.raises(MetadataError, match="no infinity"):
        parse_data_type("complex_float8_e4m3fnuz").fill_from_json([0, "Infinity"])
    with pytest.raises(MetadataError, match="no NaN"):
        parse_data_type("complex_float4_e2m1fn").fill_from_json(["NaN", 0])


def test_the_bytes_codec_swaps_each_part_on_its_own(tmp_path: Path) -> None:
    values = _pair("complex_bfloat16", [1.0, -2.0], [0.5, 3.0])
    for endian, stored in (("little", "803f003f00c04040"), ("big", "3f803f00c0004040")):
        z = zarrio.create(
            str(tmp_path / endian), 2, "complex_bfloat16",
            codecs=[{"name": "bytes", "configuration": {"endian": endian}}],
        )  # fmt: skip
        z[...] = values
        assert (tmp_path / endian / "c" / "0").read_bytes().hex() == stored
        assert z[...].tobytes() == values.tobytes()
    half = _pair("complex_float16", [1.0], [-2.0])
    z = zarrio.create(
        str(tmp_path / "h"), 1, "complex_float16", codecs=[{"name": "bytes", "configuration": {"endian": "big"}}]
    )
    z[...] = half
    assert (tmp_path / "h" / "c" / "0").read_bytes().hex() == "3c00c000"


def test_one_byte_parts_need_no_endian_and_partial_chunks_read_the_fill(tmp_path: Path) -> None:
    z = zarrio.create(str(tmp_path / "a"), (3, 4), "complex_float8_e4m3fnuz", chunks=(2, 3), fill_value=["NaN", 1.0])
    document = json.loads((tmp_path / "a" / "zarr.json").read_text())
    assert document["data_type"] == "complex_float8_e4m3fnuz" and document["fill_value"] == ["NaN", 1.0]
    assert document["codecs"][0] == {"name": "bytes"}
    z[0, 0:2] = _pair("complex_float8_e4m3fnuz", [0.5, -3], [2, 0])
    again = zarrio.open(str(tmp_path / "a"))
    got = again[...]
    assert got.dtype == z.dtype and got.shape == (3, 4)
    assert got["real"][0, :2].tolist() == [0.5, -3] and got["imag"][0, :2].tolist() == [2, 0]
    assert np.isnan(got["real"][1:].astype(np.float32)).all() and (got["imag"][1:] == 1).all()
    assert (tmp_path / "a" / "c" / "0" / "1").exists() is False  # written chunks only
    chunk = (tmp_path / "a" / "c" / "0" / "0").read_bytes()  # zstd by default: decoded through zarrio
    assert chunk and again[0, 0].tobytes().hex() == "3848"


def test_a_pair_converts_to_numpy_complex_without_loss(tmp_path: Path) -> None:
    z = zarrio.create(str(tmp_path / "c"), 3, "complex_bfloat16")
    z[...] = _pair("complex_bfloat16", [1.0078125, -2.5, 3e38], [0.0, 1.5, -1e-3])
    values = z[...]
    as_complex = values["real"].astype(np.float32) + 1j * values["imag"].astype(np.float32)
    assert as_complex.dtype == np.complex64
    back = _pair("complex_bfloat16", as_complex.real.tolist(), as_complex.imag.tolist())
    assert back.tobytes() == values.tobytes()


def test_packbits_packs_each_part(tmp_path: Path) -> None:
    z = zarrio.create(str(tmp_path / "p"), 3, "complex_float4_e2m1fn", codecs=[{"name": "packbits"}])
    z[...] = _pair("complex_float4_e2m1fn", [0.5, -6.0, 1.0], [1.5, 0.0, -0.5])
    assert (tmp_path / "p" / "c" / "0").read_bytes().hex() == "310f92"  # 4 bits a part, real first
    assert z[...]["imag"].tolist() == [1.5, 0.0, -0.5]
    six = zarrio.create(str(tmp_path / "s"), 1, "complex_float6_e3m2fn", codecs=[{"name": "packbits"}])
    six[...] = _pair("complex_float6_e3m2fn", [1.0], [-0.25])
    real, imag = np.array([1.0, -0.25], dtype=ml_dtypes.float6_e3m2fn).view(np.uint8).tolist()
    assert (tmp_path / "s" / "c" / "0").read_bytes() == (real | imag << 6).to_bytes(2, "little")


@pytest.mark.parametrize(
    "codec",
    [
        {"name": "bitround", "configuration": {"keepbits": 3}},
        {"name": "scale_offset", "configuration": {"offset": 1}},
        {"name": "cast_value", "configuration": {"data_type": "float32"}},
    ],
)
def test_numeric_codecs_refuse_the_pairs(codec: dict[str, Any]) -> None:
    with pytest.raises(MetadataError, match=codec["name"]):
        zarrio.create(
            zarrio.stores.MemoryStore(), 2, "complex_bfloat16",
            codecs=[codec, {"name": "bytes", "configuration": {"endian": "little"}}],
        )  # fmt: skip


def test_without_ml_dtypes_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ml_dtypes", None)
    with pytest.raises(UnsupportedError, match=r"install zarrio\[ml-dtypes\]"):
        _ = PairedComplexType("bfloat16").numpy_dtype
    assert PairedComplexType("float16").numpy_dtype.itemsize == 4  # numpy's own float16 parts


def test_the_like_functions_keep_the_complex_type_not_the_numpy_struct() -> None:
    a = zarrio.create(zarrio.stores.MemoryStore(), (3,), "complex_bfloat16", fill_value=[1, 2])
    zeros = zarrio.zeros_like(a, store=zarrio.stores.MemoryStore())
    assert zeros.metadata.data_type.name == "complex_bfloat16" and zeros[...].tobytes() == bytes(12)
    full = zarrio.full_like(a, store=zarrio.stores.MemoryStore(), fill_value=[3, "NaN"])
    assert full.metadata.data_type.name == "complex_bfloat16" and full[...].tobytes() == bytes.fromhex("4040c07f") * 3
    assert zarrio.empty_like(a, store=zarrio.stores.MemoryStore()).fill_value.tobytes() == bytes.fromhex("803f0040")
    assert parse_data_type(a.dtype).name == "struct"  # a NumPy structured dtype stays a struct


def test_zarrio_info_shows_the_type_and_a_pair_fill_on_one_line(tmp_path: Path) -> None:
    zarrio.create(str(tmp_path / "c"), (2,), "complex_bfloat16", fill_value=[1.5, "NaN"])
    done = subprocess.run(
        [sys.executable, "-m", "zarrio.cli", "info", str(tmp_path / "c")], capture_output=True, text=True, check=True
    )
    lines = {line.split(None, 1)[0]: line for line in done.stdout.splitlines()[1:] if line.strip()}
    assert "complex_bfloat16" in lines["dtype"]
    assert '[1.5, "NaN"]' in done.stdout.split("fill value", 1)[1].splitlines()[0]
