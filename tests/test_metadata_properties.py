"""Property tests: every fill value and every metadata document survives a zarr.json round trip."""

from __future__ import annotations

import contextlib
import json
import struct
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from zarrio.errors import MetadataError
from zarrio.metadata import (
    ArrayMetadata,
    GroupMetadata,
    create_array_metadata,
    data_type_from_json,
    parse_data_type,
    parse_metadata,
)

FLOAT_FORMATS = {"float16": "<H", "float32": "<I", "float64": "<Q"}


def through_json(value: Any) -> Any:
    return json.loads(json.dumps(value, allow_nan=True))


def raw_bits(value: Any) -> bytes:
    return np.array([value]).tobytes()


@given(name=st.sampled_from(sorted(FLOAT_FORMATS)), data=st.data())
def test_every_float_bit_pattern_round_trips(name: str, data: st.DataObject) -> None:
    fmt = FLOAT_FORMATS[name]
    pattern = data.draw(st.integers(min_value=0, max_value=2 ** (8 * struct.calcsize(fmt)) - 1))
    data_type = data_type_from_json(name)
    value = np.frombuffer(struct.pack(fmt, pattern), dtype=f"<{name[0]}{struct.calcsize(fmt)}")[0]
    written = through_json(data_type.fill_to_json(value))
    assert raw_bits(data_type.fill_from_json(written)) == struct.pack(fmt, pattern)


@given(st.floats(allow_nan=False, width=32))
def test_float32_values_round_trip_as_numbers(number: float) -> None:
    data_type = data_type_from_json("float32")
    written = data_type.fill_to_json(number)
    if np.isfinite(number):
        assert isinstance(written, float) and written == number
    assert data_type.fill_from_json(through_json(written)) == np.float32(number)


@given(name=st.sampled_from(["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]), data=st.data())
def test_every_integer_round_trips(name: str, data: st.DataObject) -> None:
    info = np.iinfo(name)
    number = data.draw(st.integers(min_value=int(info.min), max_value=int(info.max)))
    data_type = data_type_from_json(name)
    written = through_json(data_type.fill_to_json(number))
    assert written == number
    assert int(data_type.fill_from_json(written)) == number


@given(name=st.sampled_from(["complex64", "complex128"]), data=st.data())
def test_every_complex_bit_pattern_round_trips(name: str, data: st.DataObject) -> None:
    size = 4 if name == "complex64" else 8
    raw = data.draw(st.binary(min_size=2 * size, max_size=2 * size))
    data_type = data_type_from_json(name)
    value = np.frombuffer(raw, dtype=f"<c{2 * size}")[0]
    written = through_json(data_type.fill_to_json(value))
    assert raw_bits(data_type.fill_from_json(written)) == raw


@given(
    kind=st.sampled_from(["datetime", "timedelta"]),
    unit=st.sampled_from(["Y", "D", "h", "s", "ms", "us", "ns", "ps"]),
    scale=st.integers(min_value=1, max_value=1000),
    count=st.integers(min_value=-(2**63), max_value=2**63 - 1),
)
def test_every_time_value_round_trips(kind: str, unit: str, scale: int, count: int) -> None:
    data_type = data_type_from_json({"name": f"numpy.{kind}64", "configuration": {"unit": unit, "scale_factor": scale}})
    fill = data_type.fill_from_json(count)
    assert fill.dtype == data_type.numpy_dtype
    assert data_type.fill_to_json(fill) == count


@given(st.text())
def test_string_fills_round_trip(text: str) -> None:
    data_type = data_type_from_json("string")
    assert data_type.fill_from_json(through_json(data_type.fill_to_json(text))) == text


@given(st.binary(max_size=64))
def test_bytes_fills_round_trip(raw: bytes) -> None:
    vlen = data_type_from_json("variable_length_bytes")
    assert vlen.fill_from_json(through_json(vlen.fill_to_json(raw))) == raw
    fixed = data_type_from_json({"name": "raw_bytes", "configuration": {"length_bytes": max(len(raw), 1)}})
    padded = raw or b"\0"
    assert fixed.fill_from_json(through_json(fixed.fill_to_json(padded))).tobytes() == padded
    terminated = data_type_from_json({"name": "null_terminated_bytes", "configuration": {"length_bytes": 64}})
    stripped = raw.rstrip(b"\0")
    assert bytes(terminated.fill_from_json(through_json(terminated.fill_to_json(raw)))) == stripped


@given(st.text(alphabet=st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=8))
def test_fixed_utf32_fills_round_trip(text: str) -> None:
    data_type = parse_data_type("U8")
    assert data_type.fill_from_json(through_json(data_type.fill_to_json(text))) == text


@given(a=st.integers(min_value=-(2**31), max_value=2**31 - 1), b=st.binary(min_size=8, max_size=8))
def test_struct_fills_round_trip(a: int, b: bytes) -> None:
    data_type = parse_data_type(np.dtype([("a", "<i4"), ("b", [("x", "<f8")])]))
    record = np.zeros((), dtype=data_type.numpy_dtype)
    record["a"] = a
    record["b"] = np.frombuffer(b, dtype=[("x", "<f8")])[0]
    written = through_json(data_type.fill_to_json(record[()]))
    assert data_type.fill_from_json(written).tobytes() == record.tobytes()


DTYPES = st.sampled_from(
    [
        *("bool", "int8", "uint16", "int64", "uint64", "float16", "float32", "float64", "complex64", "complex128"),
        *("M8[ns]", "M8[10s]", "m8[h]", "U3", "S4", "V2", str, bytes),
    ]
)
JSON_LEAVES = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=10,
)


CHUNK_KEY_ENCODINGS: list[str | dict[str, Any]] = [
    "default",
    "v2",
    {"name": "default", "configuration": {"separator": "."}},
]


@st.composite
def array_metadata(draw: st.DrawFn) -> ArrayMetadata:
    ndim = draw(st.integers(min_value=0, max_value=4))
    shape = draw(st.lists(st.integers(min_value=0, max_value=2**40), min_size=ndim, max_size=ndim))
    chunks = draw(st.lists(st.integers(min_value=1, max_value=2**40), min_size=ndim, max_size=ndim))
    dtype = draw(DTYPES)
    data_type = parse_data_type(dtype)
    item_size = data_type.item_size
    raw_fill = draw(st.binary(min_size=item_size, max_size=item_size)) if item_size else None
    fill: Any = None
    if raw_fill is not None and not data_type.name.endswith("utf32") and data_type.name != "bool":
        fill = np.frombuffer(raw_fill, dtype=data_type.numpy_dtype)[0]
        if data_type.name == "null_terminated_bytes":
            fill = bytes(fill)
    names = draw(st.none() | st.lists(st.none() | st.text(max_size=5), min_size=ndim, max_size=ndim))
    return create_array_metadata(
        shape,
        data_type,
        chunks=chunks,
        fill_value=fill,
        attributes=draw(st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=4)),
        dimension_names=names,
        chunk_key_encoding=draw(st.sampled_from(CHUNK_KEY_ENCODINGS)),
    )


def same_json(left: Any, right: Any) -> bool:
    # NaN attributes make == fail; compare the serialised text instead
    return json.dumps(left, allow_nan=True, sort_keys=True) == json.dumps(right, allow_nan=True, sort_keys=True)


@settings(max_examples=150)
@given(array_metadata())
def test_array_metadata_round_trips(metadata: ArrayMetadata) -> None:
    parsed = parse_metadata(metadata.to_bytes(), "a")
    assert isinstance(parsed, ArrayMetadata)
    assert same_json(parsed.to_json(), metadata.to_json())
    assert raw_bits(parsed.fill_value) == raw_bits(metadata.fill_value) or metadata.data_type.is_variable_length
    assert parsed.to_bytes() == metadata.to_bytes()


@given(st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=5))
def test_group_metadata_round_trips(attributes: dict[str, Any]) -> None:
    group = GroupMetadata(attributes=attributes)
    parsed = parse_metadata(group.to_bytes())
    assert isinstance(parsed, GroupMetadata)
    assert same_json(parsed.to_json(), group.to_json())


@given(st.binary(max_size=200))
def test_random_bytes_never_escape_as_foreign_errors(raw: bytes) -> None:
    # the assertion: nothing but a MetadataError (e.g. no TypeError / KeyError) escapes
    with contextlib.suppress(MetadataError):
        parse_metadata(raw)


@given(JSON_VALUES, st.sampled_from(["shape", "data_type", "chunk_grid", "fill_value", "codecs", "attributes"]))
def test_random_field_values_raise_only_metadata_errors(value: Any, field: str) -> None:
    document = create_array_metadata((4, 4), "float32", chunks=(2, 2)).to_json()
    document[field] = value
    with contextlib.suppress(MetadataError):  # anything else escaping fails the test
        ArrayMetadata.from_json(document)


SCALAR_TYPE_JSON = (
    st.sampled_from(
        [
            *("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"),
            *("float16", "float32", "float64", "complex64", "complex128"),
        ]
    )
    | st.builds(
        lambda kind, unit, scale: {
            "name": f"numpy.{kind}64",
            "configuration": {"unit": unit, "scale_factor": 1 if unit == "generic" else scale},
        },
        st.sampled_from(["datetime", "timedelta"]),
        st.sampled_from(["Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as", "generic"]),
        st.integers(min_value=1, max_value=2**31 - 1),
    )
    | st.builds(
        lambda name, length: {"name": name, "configuration": {"length_bytes": length}},
        st.sampled_from(["null_terminated_bytes", "raw_bytes"]),
        st.integers(min_value=1, max_value=64),
    )
    | st.builds(
        lambda chars: {"name": "fixed_length_utf32", "configuration": {"length_bytes": 4 * chars}},
        st.integers(min_value=1, max_value=16),
    )
)
DATA_TYPE_JSON = st.recursive(
    SCALAR_TYPE_JSON,
    lambda children: st.lists(
        st.tuples(st.text(min_size=1, max_size=4), children), min_size=1, max_size=4, unique_by=lambda pair: pair[0]
    ).map(
        lambda pairs: {
            "name": "struct",
            "configuration": {"fields": [{"name": name, "data_type": child} for name, child in pairs]},
        }
    ),
    max_leaves=8,
)


@given(DATA_TYPE_JSON)
def test_data_type_json_and_numpy_round_trip(obj: Any) -> None:
    data_type = data_type_from_json(obj)
    assert data_type.to_json() == obj
    assert through_json(data_type.to_json()) == obj
    assert parse_data_type(data_type.numpy_dtype) == data_type
    default = data_type.default_fill
    assert raw_bits(data_type.fill_from_json(through_json(data_type.fill_to_json(default)))) == raw_bits(default)
