"""Zarr v3 data types: parsing from zarr.json and from numpy dtypes.

* :func:`data_type_from_json` reads a zarr.json ``data_type`` value strictly.
* :func:`parse_data_type` is the user-facing form: it also takes numpy dtypes
  and dtype-likes (``"<i4"``, ``"M8[ns]"``, ``"U5"``, ``str``, ``bytes``,
  structured dtypes) and maps them to what zarr-python 3.4.2 writes
  (``"U5"`` -> ``fixed_length_utf32`` with ``length_bytes`` 20, ``"S4"`` ->
  ``null_terminated_bytes``, ``"V3"`` -> ``raw_bytes``, ``str`` -> ``string``,
  ``bytes`` -> ``variable_length_bytes``). Byte order is dropped: the
  in-memory dtype is always native, the stored order is the ``bytes`` codec's.
  numpy's ``object`` dtype is refused as ambiguous (say ``"string"`` or ``"bytes"``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..errors import MetadataError, UnsupportedError
from ._checks import require_mapping, require_str
from .complex_types import complex_extension_type
from .dtype_base import DataType
from .ml_types import MlFloatType, MlIntType, extension_type, extension_type_from_numpy
from .numeric_types import BoolType, ComplexType, FloatType, IntType
from .struct_type import StructType
from .text_types import (
    FixedLengthUTF32Type,
    NullTerminatedBytesType,
    RawBytesType,
    StringType,
    VariableLengthBytesType,
)
from .time_types import TimeType

__all__ = [
    "BoolType",
    "ComplexType",
    "DataType",
    "FixedLengthUTF32Type",
    "FloatType",
    "IntType",
    "MlFloatType",
    "MlIntType",
    "NullTerminatedBytesType",
    "RawBytesType",
    "StringType",
    "StructType",
    "TimeType",
    "VariableLengthBytesType",
    "data_type_from_json",
    "data_type_from_numpy",
    "parse_data_type",
]

FIELD = "data_type"
_MAX_STRUCT_DEPTH = 16

_SIMPLE_TYPES: dict[str, DataType] = {
    "bool": BoolType(),
    **{f"int{bits}": IntType(bits, True) for bits in (8, 16, 32, 64)},
    **{f"uint{bits}": IntType(bits, False) for bits in (8, 16, 32, 64)},
    **{f"float{bits}": FloatType(bits) for bits in (16, 32, 64)},
    **{f"complex{bits}": ComplexType(bits) for bits in (64, 128)},
    # the registry's aliases of the core complex types (written back as complex64 / complex128)
    "complex_float32": ComplexType(64),
    "complex_float64": ComplexType(128),
    "string": StringType(),
    "variable_length_bytes": VariableLengthBytesType(),
    "bytes": VariableLengthBytesType(),
}

# friendlier spellings accepted from users only (never from zarr.json)
_USER_ALIASES: dict[str, DataType] = {"str": StringType()}


def _length_bytes(config: Mapping[str, Any]) -> int:
    if "length_bytes" not in config:
        raise MetadataError("missing configuration.length_bytes", field=FIELD)
    value = config["length_bytes"]
    if isinstance(value, bool) or not isinstance(value, int):
        raise MetadataError(f"length_bytes must be an integer, got {value!r}", field=FIELD)
    return value


def _time_type(kind: str) -> Callable[[Mapping[str, Any], int], DataType]:
    def build(config: Mapping[str, Any], depth: int) -> DataType:
        for key in ("unit", "scale_factor"):
            if key not in config:
                raise MetadataError(f"missing configuration.{key}", field=FIELD)
        unit = config["unit"]
        if not isinstance(unit, str):
            raise MetadataError(f"unit must be a string, got {unit!r}", field=FIELD)
        return TimeType(kind, unit, config["scale_factor"])  # type: ignore[arg-type]

    return build


def _struct_field(entry: object, depth: int) -> tuple[str, DataType]:
    if isinstance(entry, Mapping):
        if "name" not in entry or "data_type" not in entry:
            raise MetadataError("each struct field needs 'name' and 'data_type'", field=FIELD)
        field_name, field_type = entry["name"], entry["data_type"]
    elif isinstance(entry, list) and len(entry) == 2:  # the older [name, data_type] form
        field_name, field_type = entry
    else:
        raise MetadataError(f"invalid struct field {entry!r}", field=FIELD)
    return require_str(field_name, FIELD), _from_json(field_type, depth + 1)


def _struct_type(config: Mapping[str, Any], depth: int) -> DataType:
    if depth > _MAX_STRUCT_DEPTH:
        raise MetadataError(f"structs nested deeper than {_MAX_STRUCT_DEPTH} levels", field=FIELD)
    fields = config.get("fields")
    if not isinstance(fields, list):
        raise MetadataError("configuration.fields must be a list", field=FIELD)
    return StructType(tuple(_struct_field(entry, depth) for entry in fields))


_NAMED_TYPES: dict[str, Callable[[Mapping[str, Any], int], DataType]] = {
    "numpy.datetime64": _time_type("datetime"),
    "numpy.timedelta64": _time_type("timedelta"),
    "fixed_length_utf32": lambda config, depth: FixedLengthUTF32Type(_length_bytes(config)),
    "null_terminated_bytes": lambda config, depth: NullTerminatedBytesType(_length_bytes(config)),
    "raw_bytes": lambda config, depth: RawBytesType(_length_bytes(config)),
    "struct": _struct_type,
    "structured": _struct_type,
}


def _simple(name: str) -> DataType | None:
    """A data type without configuration: core, alias or a registered extension (bfloat16, int4,
    complex_bfloat16, ...)."""
    return _SIMPLE_TYPES.get(name) or extension_type(name) or complex_extension_type(name)


def _from_json(obj: object, depth: int) -> DataType:
    if isinstance(obj, str):
        simple = _simple(obj)
        if simple is None:
            raise UnsupportedError(f"unknown data type {obj!r}", field=FIELD)
        return simple
    if isinstance(obj, Mapping):
        name = require_str(obj.get("name"), FIELD)
        config = require_mapping(obj.get("configuration", {}), FIELD)
        build = _NAMED_TYPES.get(name)
        if build is not None:
            return build(config, depth)
        simple = _simple(name)
        if simple is not None and not config:
            return simple
        raise UnsupportedError(f"unknown data type {name!r}", field=FIELD)
    raise MetadataError(f"data_type must be a string or an object, got {type(obj).__name__}", field=FIELD)


def data_type_from_json(obj: object) -> DataType:
    """The data type of a zarr.json ``data_type`` value (strict: no numpy spellings)."""
    return _from_json(obj, 0)


def _packed_struct(dtype: np.dtype[Any]) -> DataType:
    assert dtype.names is not None and dtype.fields is not None
    fields: list[tuple[str, DataType]] = []
    offset = 0
    for field_name in dtype.names:
        field_dtype, field_offset = dtype.fields[field_name][:2]
        if field_offset != offset:
            raise UnsupportedError(f"struct field {field_name!r} is not packed (padding or reordering)", field=FIELD)
        if field_dtype.subdtype is not None:
            raise UnsupportedError(f"struct field {field_name!r} is a sub-array", field=FIELD)
        fields.append((field_name, data_type_from_numpy(field_dtype)))
        offset += field_dtype.itemsize
    if offset != dtype.itemsize:
        raise UnsupportedError("struct dtype has trailing padding", field=FIELD)
    return StructType(tuple(fields))


def data_type_from_numpy(dtype: np.dtype[Any]) -> DataType:
    """The Zarr data type zarr-python 3.4.2 writes for a numpy dtype."""
    kind, size = dtype.kind, dtype.itemsize
    extension = extension_type_from_numpy(dtype)
    if extension is not None:
        return extension
    if kind == "T":
        return _SIMPLE_TYPES["string"]
    if kind == "b":
        return _SIMPLE_TYPES["bool"]
    if kind in "iu" and size in (1, 2, 4, 8):
        return IntType(size * 8, kind == "i")
    if kind == "f" and size in (2, 4, 8):
        return FloatType(size * 8)
    if kind == "c" and size in (8, 16):
        return ComplexType(size * 8)
    if kind in "Mm":
        unit, count = np.datetime_data(dtype)
        return TimeType("datetime" if kind == "M" else "timedelta", unit, int(count))
    if kind == "U" and size:
        return FixedLengthUTF32Type(size)
    if kind == "S" and size:
        return NullTerminatedBytesType(size)
    if kind == "V" and dtype.names is not None:
        return _packed_struct(dtype)
    if kind == "V" and dtype.subdtype is None and size:
        return RawBytesType(size)
    if kind == "O":
        raise MetadataError(
            "numpy's object dtype is ambiguous: use 'string' (or str) for text, 'bytes' for byte strings", field=FIELD
        )
    raise UnsupportedError(f"numpy dtype {dtype!r} has no Zarr v3 data type", field=FIELD)


def parse_data_type(obj: object) -> DataType:
    """A data type from a zarr.json value, a :class:`DataType`, or a numpy dtype / dtype-like."""
    if isinstance(obj, DataType):
        return obj
    if isinstance(obj, str):
        known = _simple(obj) or _USER_ALIASES.get(obj)
        if known is not None:
            return known
    elif obj is str:
        return _SIMPLE_TYPES["string"]
    elif obj is bytes:
        return _SIMPLE_TYPES["bytes"]
    elif isinstance(obj, Mapping):
        return data_type_from_json(obj)
    if obj is None:
        raise MetadataError("a data type is required", field=FIELD)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numpy deprecations of old spellings must not become errors
            dtype = np.dtype(obj)  # type: ignore[call-overload]
    except (TypeError, ValueError) as e:
        raise UnsupportedError(f"unknown data type {obj!r}", field=FIELD) from e
    return data_type_from_numpy(dtype)
