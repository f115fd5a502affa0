"""Zarr v2 ``dtype`` values <-> zarrio data types.

A v2 ``dtype`` is a numpy type string with its byte order (``"<i4"``, ``">f8"``,
``"|b1"``, ``"<U3"``, ``"|S5"``, ``"<M8[ns]"``), a structured type as a list of
``[name, type]`` pairs, or ``"|O"`` for object arrays, whose items are then
described by the object codec among the filters (``vlen-utf8``: strings,
``vlen-bytes``: byte strings, ``json2``: JSON values). The in-memory type is
always native; the stored byte order becomes the ``bytes`` codec's ``endian``.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal, TypeAlias

import numpy as np

from ..errors import MetadataError, UnsupportedError
from .data_types import data_type_from_numpy
from .dtype_base import DataType
from .json_type import JsonValuesType
from .struct_type import StructType
from .text_types import StringType, VariableLengthBytesType

__all__ = ["OBJECT_CODEC_IDS", "Endian", "V2DataType", "object_codec_id", "v2_dtype_from_json", "v2_dtype_to_json"]

FIELD = "dtype"
Endian: TypeAlias = Literal["little", "big"] | None
#: the numcodecs codecs that turn object arrays into bytes (zarr-python's list)
OBJECT_CODEC_IDS = ("vlen-utf8", "vlen-bytes", "vlen-array", "pickle", "json2", "msgpack2")
_OBJECT_TYPES: dict[str, DataType] = {
    "vlen-utf8": StringType(),
    "vlen-bytes": VariableLengthBytesType(),
    "json2": JsonValuesType(),
}
_ORDER: dict[str, Endian] = {"<": "little", ">": "big", "|": None, "=": "little"}
_CHAR: dict[Endian, Literal["<", ">", "|"]] = {"little": "<", "big": ">", None: "|"}
_MAX_FIELDS = 4096

V2DataType: TypeAlias = tuple[DataType, Endian]


def _numpy_dtype(text: str) -> np.dtype[Any]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.dtype(text)
    except (TypeError, ValueError) as e:
        raise UnsupportedError(f"unknown v2 data type {text!r}", field=FIELD) from e


def _endian_of(dtype: np.dtype[Any], text: str) -> Endian:
    if dtype.itemsize <= 1 or dtype.kind in "SVb" or dtype.byteorder == "|":
        return None
    if text[:1] not in "<>":
        raise MetadataError(f"v2 data type {text!r} must start with '<' or '>'", field=FIELD)
    return _ORDER[text[0]]


def _simple(text: str) -> V2DataType:
    if text == "|O" or text == "O":
        raise MetadataError("object data type '|O' needs an object codec among the filters", field=FIELD)
    dtype = _numpy_dtype(text)
    if dtype.kind in "Mm" and np.datetime_data(dtype)[0] == "generic":
        raise UnsupportedError(f"datetime data type {text!r} has no unit", field=FIELD)
    if dtype.kind in "SUV" and dtype.itemsize == 0:
        raise MetadataError(f"v2 data type {text!r} has zero width", field=FIELD)
    if dtype.kind == "O" or dtype.fields is not None or dtype.subdtype is not None:
        raise UnsupportedError(f"v2 data type {text!r} is not supported", field=FIELD)
    return data_type_from_numpy(dtype.newbyteorder("=")), _endian_of(dtype, text)


def _field_dtype(entry: object) -> tuple[str, np.dtype[Any], str]:
    if not isinstance(entry, list | tuple) or len(entry) not in (2, 3):
        raise MetadataError(f"invalid structured field {entry!r}", field=FIELD)
    if len(entry) == 3:
        raise UnsupportedError(f"structured field {entry[0]!r} has a shape (sub-arrays are not supported)", field=FIELD)
    name, text = entry
    if not isinstance(name, str):
        raise MetadataError(f"structured field names are strings, got {name!r}", field=FIELD)
    if isinstance(text, list):
        raise UnsupportedError(f"nested structured field {name!r} is not supported", field=FIELD)
    if not isinstance(text, str):
        raise MetadataError(f"invalid type {text!r} of structured field {name!r}", field=FIELD)
    return name, _numpy_dtype(text), text


def _structured(entries: list[Any]) -> V2DataType:
    if not entries or len(entries) > _MAX_FIELDS:
        raise MetadataError(f"a structured data type has 1 to {_MAX_FIELDS} fields", field=FIELD)
    parsed = [_field_dtype(entry) for entry in entries]
    orders = {_endian_of(dtype, text) for _, dtype, text in parsed} - {None}
    if len(orders) > 1:
        raise UnsupportedError("structured data type mixes byte orders", field=FIELD)
    try:
        native = np.dtype([(name, dtype.newbyteorder("=")) for name, dtype, _ in parsed])
    except (TypeError, ValueError) as e:
        raise MetadataError(f"invalid structured data type: {e}", field=FIELD) from e
    return data_type_from_numpy(native), orders.pop() if orders else None


def v2_dtype_from_json(value: object, object_codec_id: str | None = None) -> V2DataType:
    """The data type and stored byte order of a ``.zarray`` ``dtype``; ``object_codec_id`` is the
    id of the first object codec among the filters (it decides what an ``"|O"`` array holds)."""
    if isinstance(value, list):
        return _structured(value)
    if not isinstance(value, str):
        raise MetadataError(f"dtype must be a string or a list, got {value!r}", field=FIELD)
    if value in ("|O", "O", "<O", ">O"):
        if object_codec_id is None:
            raise MetadataError("object data type '|O' needs an object codec among the filters", field=FIELD)
        found = _OBJECT_TYPES.get(object_codec_id)
        if found is None:
            raise UnsupportedError(
                f"object arrays encoded with {object_codec_id!r} are not supported "
                "(vlen-utf8, vlen-bytes and json2 are)",
                field="filters",
            )
        return found, None
    return _simple(value)


def object_codec_id(data_type: DataType) -> str | None:
    """The object codec a v2 array of ``data_type`` is written with (``None``: not an object array)."""
    if isinstance(data_type, StringType):
        return "vlen-utf8"
    if isinstance(data_type, VariableLengthBytesType):
        return "vlen-bytes"
    if isinstance(data_type, JsonValuesType):
        return "json2"
    return None


def v2_dtype_to_json(data_type: DataType, endian: Endian) -> Any:
    """The ``.zarray`` ``dtype`` of ``data_type`` stored in ``endian`` byte order."""
    if data_type.is_variable_length:
        return "|O"
    native = data_type.numpy_dtype
    char = _CHAR[endian] if data_type.has_endianness else "|"
    if isinstance(data_type, StructType):
        assert native.names is not None and native.fields is not None
        return [[name, _field_text(native.fields[name][0], char)] for name in native.names]
    return _field_text(native, char)


def _field_text(dtype: np.dtype[Any], char: Literal["<", ">", "|"]) -> str:
    if dtype.itemsize <= 1 or dtype.kind in "SVb":
        return dtype.newbyteorder("|").str if dtype.kind != "b" else "|b1"
    return dtype.newbyteorder(char if char != "|" else "<").str
