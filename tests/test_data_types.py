"""Data types: zarr.json forms, numpy mapping and every fill-value form."""

from __future__ import annotations

import datetime
import json
import math
import struct
from typing import Any

import numpy as np
import pytest

from zarrio.errors import MetadataError, UnsupportedError
from zarrio.metadata import (
    DataType,
    data_type_from_json,
    parse_data_type,
)

# What zarr-python 3.4.2 writes for each dtype-like (data_type, default fill_value), generated once with
# zarr.create_array(...) in the reference environment and kept here as a fact table.
ZARR_PYTHON_DTYPE_TABLE: list[tuple[Any, Any, Any]] = [
    ("bool", "bool", False),
    ("int8", "int8", 0),
    ("uint64", "uint64", 0),
    ("float16", "float16", 0.0),
    ("float32", "float32", 0.0),
    ("complex64", "complex64", [0.0, 0.0]),
    ("<i4", "int32", 0),
    (">f8", "float64", 0.0),
    ("M8[ns]", {"name": "numpy.datetime64", "configuration": {"unit": "ns", "scale_factor": 1}}, -(2**63)),
    ("M8[10s]", {"name": "numpy.datetime64", "configuration": {"unit": "s", "scale_factor": 10}}, -(2**63)),
    ("m8[h]", {"name": "numpy.timedelta64", "configuration": {"unit": "h", "scale_factor": 1}}, -(2**63)),
    ("M8", {"name": "numpy.datetime64", "configuration": {"unit": "generic", "scale_factor": 1}}, -(2**63)),
    ("U5", {"name": "fixed_length_utf32", "configuration": {"length_bytes": 20}}, ""),
    ("S4", {"name": "null_terminated_bytes", "configuration": {"length_bytes": 4}}, ""),
    ("V3", {"name": "raw_bytes", "configuration": {"length_bytes": 3}}, "AAAA"),
    (str, "string", ""),
    (np.dtypes.StringDType(), "string", ""),
    (
        np.dtype([("a", "<i4"), ("b", ">f8")]),
        {
            "name": "struct",
            "configuration": {"fields": [{"name": "a", "data_type": "int32"}, {"name": "b", "data_type": "float64"}]},
        },
        {"a": 0, "b": 0.0},
    ),
    (
        np.dtype([("t", "M8[s]"), ("u", "U2"), ("s", "S2"), ("v", "V2"), ("n", [("x", "u1")])]),
        {
            "name": "struct",
            "configuration": {
                "fields": [
                    {
                        "name": "t",
                        "data_type": {"name": "numpy.datetime64", "configuration": {"unit": "s", "scale_factor": 1}},
                    },
                    {"name": "u", "data_type": {"name": "fixed_length_utf32", "configuration": {"length_bytes": 8}}},
                    {"name": "s", "data_type": {"name": "null_terminated_bytes", "configuration": {"length_bytes": 2}}},
                    {"name": "v", "data_type": {"name": "raw_bytes", "configuration": {"length_bytes": 2}}},
                    {
                        "name": "n",
                        "data_type": {
                            "name": "struct",
                            "configuration": {"fields": [{"name": "x", "data_type": "uint8"}]},
                        },
                    },
                ]
            },
        },
        {"t": 0, "u": "", "s": "", "v": "AAA=", "n": {"x": 0}},
    ),
]

SIMPLE_NAMES = [
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
    "complex64",
    "complex128",
    "string",
    "variable_length_bytes",
]

OBJECT_FORMS: list[dict[str, Any]] = [
    {"name": "numpy.datetime64", "configuration": {"unit": "s", "scale_factor": 10}},
    {"name": "numpy.datetime64", "configuration": {"unit": "ns", "scale_factor": 1}},
    {"name": "numpy.timedelta64", "configuration": {"unit": "us", "scale_factor": 1}},
    {"name": "fixed_length_utf32", "configuration": {"length_bytes": 20}},
    {"name": "null_terminated_bytes", "configuration": {"length_bytes": 4}},
    {"name": "raw_bytes", "configuration": {"length_bytes": 3}},
    {
        "name": "struct",
        "configuration": {
            "fields": [
                {"name": "a", "data_type": "int32"},
                {
                    "name": "b",
                    "data_type": {
                        "name": "struct",
                        "configuration": {"fields": [{"name": "c", "data_type": "float16"}]},
                    },
                },
            ]
        },
    },
]


def bits(value: Any) -> bytes:
    return np.array([value]).tobytes()


@pytest.mark.parametrize(("dtype_like", "expected_json", "expected_fill"), ZARR_PYTHON_DTYPE_TABLE)
def test_numpy_dtype_maps_like_zarr_python(dtype_like: Any, expected_json: Any, expected_fill: Any) -> None:
    data_type = parse_data_type(dtype_like)
    assert data_type.to_json() == expected_json
    assert data_type.fill_to_json(data_type.default_fill) == expected_fill
    assert parse_data_type(expected_json) == data_type


@pytest.mark.parametrize("name", SIMPLE_NAMES)
def test_simple_name_round_trip(name: str) -> None:
    data_type = data_type_from_json(name)
    assert data_type.name == name
    assert data_type.to_json() == name
    assert json.loads(json.dumps(data_type.to_json())) == name
    assert data_type.is_variable_length == (name in ("string", "variable_length_bytes"))


@pytest.mark.parametrize("obj", OBJECT_FORMS)
def test_object_form_round_trip(obj: dict[str, Any]) -> None:
    data_type = data_type_from_json(obj)
    assert data_type.to_json() == obj
    assert data_type.name == obj["name"]
    assert data_type_from_json(data_type.to_json()) == data_type


@pytest.mark.parametrize(
    ("obj", "numpy_dtype"),
    [
        ("string", np.dtype(object)),
        ("variable_length_bytes", np.dtype(object)),
        ("bytes", np.dtype(object)),
        ({"name": "numpy.datetime64", "configuration": {"unit": "s", "scale_factor": 10}}, np.dtype("M8[10s]")),
        ({"name": "numpy.timedelta64", "configuration": {"unit": "h", "scale_factor": 1}}, np.dtype("m8[h]")),
        ({"name": "fixed_length_utf32", "configuration": {"length_bytes": 20}}, np.dtype("U5")),
        ({"name": "null_terminated_bytes", "configuration": {"length_bytes": 4}}, np.dtype("S4")),
        ({"name": "raw_bytes", "configuration": {"length_bytes": 3}}, np.dtype("V3")),
        (OBJECT_FORMS[-1], np.dtype([("a", "=i4"), ("b", [("c", "=f2")])])),
        ("int32", np.dtype("=i4")),
    ],
)
def test_numpy_dtype(obj: Any, numpy_dtype: np.dtype[Any]) -> None:
    assert data_type_from_json(obj).numpy_dtype == numpy_dtype
    assert data_type_from_json(obj).numpy_dtype.isnative


def test_bytes_is_an_alias_of_variable_length_bytes() -> None:
    data_type = data_type_from_json("bytes")
    assert data_type.name == "variable_length_bytes"
    assert data_type.to_json() == "variable_length_bytes"
    assert parse_data_type(bytes) == data_type


def test_structured_and_pair_fields_are_read() -> None:
    legacy = data_type_from_json(
        {"name": "structured", "configuration": {"fields": [["a", "int32"], ["b", "float64"]]}}
    )
    assert legacy.to_json()["name"] == "struct"
    assert legacy.numpy_dtype == np.dtype([("a", "i4"), ("b", "f8")])


@pytest.mark.parametrize(
    "obj",
    [
        "int24",
        "<i4",
        "M8[ns]",
        {"name": "no_such_type"},
        {"name": "numpy.datetime64", "configuration": {"unit": "s"}},
        {"name": "numpy.datetime64", "configuration": {"unit": "s", "scale_factor": 0}},
        {"name": "numpy.datetime64", "configuration": {"unit": "lightyears", "scale_factor": 1}},
        {"name": "numpy.datetime64", "configuration": {"unit": "s", "scale_factor": True}},
        {"name": "numpy.datetime64", "configuration": {"unit": "generic", "scale_factor": 10}},
        {"name": "fixed_length_utf32", "configuration": {"length_bytes": 21}},
        {"name": "fixed_length_utf32", "configuration": {"length_bytes": 0}},
        {"name": "raw_bytes", "configuration": {"length_bytes": "3"}},
        {"name": "raw_bytes"},
        {"name": "struct", "configuration": {"fields": []}},
        {"name": "struct", "configuration": {"fields": [{"name": "a", "data_type": "string"}]}},
        {
            "name": "struct",
            "configuration": {"fields": [{"name": "a", "data_type": "int8"}, {"name": "a", "data_type": "int8"}]},
        },
        {"name": "struct", "configuration": {"fields": "nope"}},
        {"name": 5},
        {"configuration": {}},
        {"name": "int8", "configuration": []},
        17,
        None,
        ["int8"],
    ],
)
def test_invalid_json_data_types(obj: Any) -> None:
    with pytest.raises(MetadataError) as info:
        data_type_from_json(obj)
    assert info.value.field == "data_type"


def test_unknown_data_type_is_unsupported() -> None:
    with pytest.raises(UnsupportedError):
        data_type_from_json("int24")
    with pytest.raises(UnsupportedError):
        parse_data_type("int24")


@pytest.mark.parametrize(
    "dtype_like", ["O", object, "U0", "S0", np.dtype(("f4", (2,))), "f16" if hasattr(np, "float128") else "g"]
)
def test_unmappable_numpy_dtypes(dtype_like: Any) -> None:
    with pytest.raises(MetadataError):
        parse_data_type(dtype_like)


def test_padded_struct_is_refused() -> None:
    padded = np.dtype({"names": ["a", "b"], "formats": ["u1", "i4"], "offsets": [0, 4], "itemsize": 8})
    with pytest.raises(UnsupportedError):
        parse_data_type(padded)


def test_deeply_nested_struct_is_refused() -> None:
    obj: Any = "int8"
    for _ in range(40):
        obj = {"name": "struct", "configuration": {"fields": [{"name": "x", "data_type": obj}]}}
    with pytest.raises(MetadataError):
        data_type_from_json(obj)


def test_endianness_flags() -> None:
    assert not parse_data_type("uint8").has_endianness
    assert not parse_data_type("bool").has_endianness
    assert not parse_data_type("S4").has_endianness
    assert parse_data_type("U1").has_endianness
    assert parse_data_type("int16").has_endianness
    assert parse_data_type(np.dtype([("a", "u1"), ("b", "i2")])).has_endianness
    assert not parse_data_type(np.dtype([("a", "u1"), ("b", "S3")])).has_endianness
    assert parse_data_type("string").item_size is None
    assert parse_data_type("V7").item_size == 7


# ---- fill values ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "hex_bits", "struct_format"),
    [
        ("float16", "0x7e01", "<H"),
        ("float16", "0xfe00", "<H"),
        ("float32", "0x7fc00001", "<I"),
        ("float32", "0xffc00000", "<I"),
        ("float32", "0x7f800001", "<I"),
        ("float64", "0x7ff8000000000001", "<Q"),
        ("float64", "0xfff0000000000abc", "<Q"),
    ],
)
def test_nan_payload_hex_is_bit_exact(name: str, hex_bits: str, struct_format: str) -> None:
    data_type = data_type_from_json(name)
    fill = data_type.fill_from_json(hex_bits)
    assert fill.dtype == np.dtype(name)
    assert bits(fill) == struct.pack(struct_format, int(hex_bits, 16))
    assert data_type.fill_to_json(fill) == hex_bits
    assert bits(data_type.fill_from_user(hex_bits)) == bits(fill)


@pytest.mark.parametrize("name", ["float16", "float32", "float64"])
def test_float_specials(name: str) -> None:
    data_type = data_type_from_json(name)
    assert math.isnan(data_type.fill_from_json("NaN"))
    assert data_type.fill_to_json(data_type.fill_from_json("NaN")) == "NaN"
    assert data_type.fill_to_json(float("nan")) == "NaN"
    assert data_type.fill_from_json("Infinity") == np.inf
    assert data_type.fill_from_json("-Infinity") == -np.inf
    assert data_type.fill_to_json(data_type.fill_from_json("Infinity")) == "Infinity"
    assert data_type.fill_to_json(-np.inf) == "-Infinity"
    negative_zero = data_type.fill_from_json(-0.0)
    assert math.copysign(1.0, float(negative_zero)) == -1.0
    written = data_type.fill_to_json(negative_zero)
    assert json.dumps(written) == "-0.0"
    canonical_nan_hex = {"float16": "0x7e00", "float32": "0x7fc00000", "float64": "0x7ff8000000000000"}[name]
    assert data_type.fill_to_json(data_type.fill_from_json(canonical_nan_hex)) == "NaN"
    assert data_type.fill_to_json(data_type.fill_from_json(1)) == 1.0


@pytest.mark.parametrize(
    "text", ["0x", "0x7f_c0_00_01", "0x+7fc00001", "0x 7fc00001", "0x7fc000001", "0xgg", "nan?", ""]
)
def test_malformed_float_strings(text: str) -> None:
    with pytest.raises(MetadataError) as info:
        data_type_from_json("float32").fill_from_json(text)
    assert info.value.field == "fill_value"


def test_short_hex_is_zero_extended() -> None:
    assert data_type_from_json("float32").fill_from_json("0x1").tobytes() == struct.pack("<I", 1)
    assert data_type_from_json("float32").fill_from_json("0X3F800000") == 1.0


def test_float_values_are_written_as_zarr_python_writes_them() -> None:
    # zarr-python 3.4.2 writes float(value): float32 0.1 -> 0.10000000149011612
    assert data_type_from_json("float32").fill_to_json(0.1) == 0.10000000149011612
    assert data_type_from_json("float16").fill_to_json(0.1) == 0.0999755859375
    assert data_type_from_json("float64").fill_to_json(1e300) == 1e300
    assert data_type_from_json("float32").fill_from_json(3.4e39) == np.inf  # overflow -> inf, as zarr-python
    assert data_type_from_json("float32").fill_to_json("0x3f800000") == 1.0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("uint64", 2**64 - 1),
        ("uint64", 18446744073709551613),
        ("uint64", 2**53 + 1),
        ("int64", -(2**63)),
        ("int64", 2**63 - 1),
        ("int64", 2**53 + 1),
        ("int8", -128),
        ("uint32", 4294967295),
    ],
)
def test_integer_extremes_are_exact(name: str, value: int) -> None:
    data_type = data_type_from_json(name)
    fill = data_type.fill_from_json(value)
    assert fill.dtype == np.dtype(name)
    assert int(fill) == value
    written = data_type.fill_to_json(fill)
    assert type(written) is int and written == value
    assert json.loads(json.dumps(written)) == value


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("uint64", 2**64),
        ("int64", -(2**63) - 1),
        ("int8", 128),
        ("uint8", -1),
        ("int8", 1.5),
        ("int8", "1"),
        ("int8", True),
    ],
)
def test_integer_fill_errors(name: str, value: Any) -> None:
    with pytest.raises(MetadataError) as info:
        data_type_from_json(name).fill_from_json(value)
    assert info.value.field == "fill_value"


def test_integral_float_json_is_accepted_for_ints() -> None:
    assert data_type_from_json("int16").fill_from_json(2.0) == 2


def test_bool_fill() -> None:
    data_type = data_type_from_json("bool")
    assert data_type.fill_from_json(True) is np.True_
    assert data_type.fill_from_json(0) is np.False_
    assert data_type.fill_to_json(np.True_) is True
    with pytest.raises(MetadataError):
        data_type.fill_from_json("true")
    with pytest.raises(MetadataError):
        data_type.fill_from_json(2)


@pytest.mark.parametrize("name", ["complex64", "complex128"])
def test_complex_fill(name: str) -> None:
    data_type = data_type_from_json(name)
    fill = data_type.fill_from_json([1.5, -2.0])
    assert fill == np.complex128(1.5 - 2j)
    assert fill.dtype == np.dtype(name)
    assert data_type.fill_to_json(fill) == [1.5, -2.0]
    specials = data_type.fill_from_json(["NaN", "-Infinity"])
    assert data_type.fill_to_json(specials) == ["NaN", "-Infinity"]
    assert data_type.fill_to_json(complex(float("nan"), float("-inf"))) == ["NaN", "-Infinity"]
    assert data_type.fill_to_json(1 + 2j) == [1.0, 2.0]
    assert data_type.fill_to_json(None) == [0.0, 0.0]
    assert data_type.fill_to_json(3) == [3.0, 0.0]
    for invalid in (1.0, [1.0], [1, 2, 3], "NaN", None):
        with pytest.raises(MetadataError):
            data_type.fill_from_json(invalid)


def test_complex_parts_keep_nan_payloads() -> None:
    data_type = data_type_from_json("complex64")
    fill = data_type.fill_from_json(["0x7fc00001", "0xffc00000"])
    assert bits(fill) == struct.pack("<II", 0x7FC00001, 0xFFC00000)
    assert data_type.fill_to_json(fill) == ["0x7fc00001", "0xffc00000"]


@pytest.mark.parametrize("kind", ["datetime", "timedelta"])
def test_time_fill(kind: str) -> None:
    data_type = data_type_from_json({"name": f"numpy.{kind}64", "configuration": {"unit": "s", "scale_factor": 10}})
    nat = data_type.fill_from_json(-(2**63))
    assert np.isnat(nat)
    assert nat.dtype == data_type.numpy_dtype
    assert np.isnat(data_type.fill_from_json("NaT"))
    assert data_type.fill_to_json(data_type.fill_from_json("NaT")) == -(2**63)
    assert np.isnat(data_type.default_fill)
    three = data_type.fill_from_json(3)
    assert three.astype("i8") == 3
    assert data_type.fill_to_json(three) == 3
    for invalid in (1.0, "2020-01-01", None, True, 2**63):
        with pytest.raises(MetadataError):
            data_type.fill_from_json(invalid)


def test_datetime_user_fill_forms() -> None:
    data_type = parse_data_type("M8[s]")
    assert data_type.fill_to_json(np.datetime64("2020-01-01")) == 1577836800
    assert data_type.fill_to_json("2020-01-01") == 1577836800
    assert data_type.fill_to_json(datetime.datetime(2020, 1, 1)) == 1577836800
    paris_winter = datetime.timezone(datetime.timedelta(hours=1))
    assert data_type.fill_to_json(datetime.datetime(2020, 1, 1, 1, tzinfo=paris_winter)) == 1577836800
    assert data_type.fill_to_json("2020-01-01T01:00:00+01:00") == 1577836800
    assert data_type.fill_to_json(5) == 5
    assert data_type.fill_to_json("NaT") == -(2**63)
    assert data_type.fill_to_json(np.datetime64("NaT", "s")) == -(2**63)
    with pytest.raises(MetadataError):
        data_type.fill_from_user("not a date")
    with pytest.raises(MetadataError):
        data_type.fill_from_user(np.timedelta64(5, "s"))
    delta = parse_data_type("m8[ms]")
    assert delta.fill_to_json(np.timedelta64(2, "s")) == 2000
    assert delta.fill_to_json(datetime.timedelta(seconds=1)) == 1000


def test_generic_datetime_accepts_nat() -> None:
    data_type = parse_data_type("M8")
    assert np.isnat(data_type.fill_from_json(-(2**63)))


def test_string_fills() -> None:
    string = data_type_from_json("string")
    assert string.fill_from_json("héllo") == "héllo"
    assert type(string.fill_from_json("x")) is str
    assert string.fill_to_json(None) == ""
    with pytest.raises(MetadataError):
        string.fill_from_json(5)
    utf32 = data_type_from_json({"name": "fixed_length_utf32", "configuration": {"length_bytes": 20}})
    assert utf32.fill_from_json("abc") == np.str_("abc")
    assert utf32.fill_to_json("abc") == "abc"
    with pytest.raises(MetadataError):
        utf32.fill_from_json("abcdef")


def test_bytes_fills_are_base64() -> None:
    vlen = data_type_from_json("variable_length_bytes")
    assert vlen.fill_from_json("eHk=") == b"xy"
    assert vlen.fill_to_json(b"xy") == "eHk="
    assert vlen.fill_to_json(None) == ""
    assert vlen.fill_from_user("xy") == b"xy"  # a user str is the value itself
    terminated = data_type_from_json({"name": "null_terminated_bytes", "configuration": {"length_bytes": 4}})
    assert terminated.fill_from_json("YWI=") == np.bytes_(b"ab")
    assert terminated.fill_to_json(b"ab") == "YWI="
    assert terminated.fill_to_json("ab") == "YWI="
    assert terminated.fill_to_json(None) == ""
    with pytest.raises(MetadataError):
        terminated.fill_from_json("ab!")  # not base64
    with pytest.raises(MetadataError):
        terminated.fill_from_user(b"abcde")
    raw = data_type_from_json({"name": "raw_bytes", "configuration": {"length_bytes": 3}})
    assert raw.fill_from_json("AAAA").tobytes() == b"\0\0\0"
    assert raw.fill_from_json("AQID").tobytes() == b"\x01\x02\x03"
    assert raw.fill_to_json(b"\x01\x02\x03") == "AQID"
    assert raw.fill_from_json("AQID").dtype == np.dtype("V3")
    with pytest.raises(MetadataError):
        raw.fill_from_json("AQ==")


def test_struct_fill() -> None:
    data_type = data_type_from_json(OBJECT_FORMS[-1])
    fill = data_type.fill_from_json({"a": 7, "b": {"c": "0x7e01"}})
    assert fill.dtype == data_type.numpy_dtype
    assert fill["a"] == 7
    assert bits(fill["b"]["c"]) == struct.pack("<H", 0x7E01)
    assert data_type.fill_to_json(fill) == {"a": 7, "b": {"c": "0x7e01"}}
    assert data_type.fill_to_json(None) == {"a": 0, "b": {"c": 0.0}}
    assert data_type.fill_to_json((1, (2.5,))) == {"a": 1, "b": {"c": 2.5}}
    assert data_type.fill_to_json({"a": 3}) == {"a": 3, "b": {"c": 0.0}}
    with pytest.raises(MetadataError):
        data_type.fill_from_json({"a": 7})  # JSON must name every field
    with pytest.raises(MetadataError):
        data_type.fill_from_json({"a": 7, "b": {"c": 1}, "z": 1})
    with pytest.raises(MetadataError):
        data_type.fill_from_json([1, 2])


def test_struct_fill_base64_form() -> None:
    data_type = data_type_from_json(
        {
            "name": "struct",
            "configuration": {"fields": [{"name": "a", "data_type": "int32"}, {"name": "b", "data_type": "float64"}]},
        }
    )
    fill = data_type.fill_from_json("AQAAAAAAAAAAAARA")
    assert data_type.fill_to_json(fill) == {"a": 1, "b": 2.5}


@pytest.mark.parametrize(
    ("dtype_like", "expected"),
    [
        ("bool", False),
        ("int32", 0),
        ("float64", 0.0),
        ("complex128", [0.0, 0.0]),
        ("string", ""),
        ("bytes", ""),
        ("U3", ""),
        ("S3", ""),
        ("V2", "AAA="),
    ],
)
def test_default_fill(dtype_like: str, expected: Any) -> None:
    data_type = parse_data_type(dtype_like)
    assert data_type.fill_to_json(data_type.default_fill) == expected
    assert data_type.fill_to_json(None) == expected


@pytest.mark.parametrize(
    ("name", "user_value", "expected_json"),
    [
        ("float32", "NaN", "NaN"),
        ("float32", np.float64(0.5), 0.5),
        ("float32", 2, 2.0),
        ("float16", 1e10, "Infinity"),
        ("int16", np.int64(7), 7),
        ("int16", 2.0, 2),
        ("int32", True, 1),
        ("uint64", np.uint64(2**64 - 1), 2**64 - 1),
        ("bool", np.int8(1), True),
    ],
)
def test_fill_from_user(name: str, user_value: Any, expected_json: Any) -> None:
    data_type = parse_data_type(name)
    fill = data_type.fill_from_user(user_value)
    assert isinstance(fill, np.generic) and fill.dtype == np.dtype(name)
    assert data_type.fill_to_json(fill) == expected_json


@pytest.mark.parametrize(
    ("name", "user_value"),
    [
        ("int8", 1.5),
        ("int8", 300),
        ("uint8", -1),
        ("float32", "hello"),
        ("float32", [1]),
        ("bool", 3),
        ("string", b"x"),
    ],
)
def test_fill_from_user_errors(name: str, user_value: Any) -> None:
    with pytest.raises(MetadataError) as info:
        parse_data_type(name).fill_from_user(user_value)
    assert info.value.field == "fill_value"


def test_fill_from_user_keeps_an_exact_scalar() -> None:
    payload = np.array([0x7FC00001], dtype="<u4").view("f4")[0]
    data_type = parse_data_type("float32")
    assert bits(data_type.fill_from_user(payload)) == bits(payload)
    assert data_type.fill_to_json(payload) == "0x7fc00001"


def test_data_types_are_values() -> None:
    assert parse_data_type("M8[10s]") == data_type_from_json(
        {"name": "numpy.datetime64", "configuration": {"unit": "s", "scale_factor": 10}}
    )
    assert parse_data_type("int8") != parse_data_type("uint8")
    assert len({parse_data_type("int8"), parse_data_type("i1"), parse_data_type(np.int8)}) == 1
    assert str(parse_data_type("U2")) == "fixed_length_utf32"
    assert isinstance(parse_data_type("int8"), DataType)
