"""Zarr v2 ``fill_value`` JSON <-> fill values, as zarr-python 3.4.2 (and 2.18) write them.

==================  ==============================================
data type           ``.zarray`` ``fill_value``
==================  ==============================================
any                 ``null``: no fill value (unwritten chunks read as the type's zero)
bool, integers      ``true`` / ``42``
floats              a number, or ``"NaN"``, ``"Infinity"``, ``"-Infinity"``
complex             ``[real, imag]``, each as a float
datetime64 etc.     the int64 count (``NaT``: -9223372036854775808)
``U``, strings      the text
``S``, ``V``,       base64 of the bytes (a structured value's bytes in the
structured, bytes   stored byte order)
==================  ==============================================
"""

from __future__ import annotations

import base64
import binascii
import math
from typing import Any, Literal

import numpy as np

from ..errors import MetadataError
from .dtype_base import DataType
from .struct_type import StructType

__all__ = ["v2_fill_from_json", "v2_fill_to_json"]

FIELD = "fill_value"
_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_ORDER_CHAR: dict[str | None, Literal["<", ">", "="]] = {"little": "<", "big": ">", None: "="}


def _error(value: object, data_type: DataType, why: str = "") -> MetadataError:
    detail = f": {why}" if why else ""
    return MetadataError(f"invalid v2 fill value {value!r} for data type {data_type.name!r}{detail}", field=FIELD)


def _float(value: object, data_type: DataType) -> float:
    if isinstance(value, str) and value in _SPECIAL:
        return _SPECIAL[value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _error(value, data_type)
    return float(value)


def _base64(value: object, data_type: DataType) -> bytes:
    if not isinstance(value, str):
        raise _error(value, data_type, "expected a base64 string")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as e:
        raise _error(value, data_type, f"not base64 ({e})") from e


def v2_fill_from_json(value: object, data_type: DataType, endian: str | None) -> Any:
    """The fill value of a ``.zarray`` ``fill_value`` (``None`` for ``null``: the caller decides)."""
    if value is None:
        return None
    kind = data_type.numpy_dtype.kind
    try:
        if data_type.name == "string" or kind == "U":
            if not isinstance(value, str):
                raise _error(value, data_type, "expected a string")
            return data_type.fill_from_user(value)
        if data_type.name == "variable_length_bytes":
            return data_type.fill_from_user(_base64(value, data_type) if value != 0 else b"")
        if kind in "SV":
            raw = _base64(value, data_type)
            if isinstance(data_type, StructType):
                stored = data_type.numpy_dtype.newbyteorder(_ORDER_CHAR[endian])
                if len(raw) != stored.itemsize:
                    raise _error(value, data_type, f"expected {stored.itemsize} bytes")
                return np.frombuffer(raw, dtype=stored).astype(data_type.numpy_dtype)[0]
            return data_type.fill_from_user(raw)
        if kind == "f":
            return data_type.fill_from_user(_float(value, data_type))
        if kind == "c":
            if not isinstance(value, list) or len(value) != 2:
                raise _error(value, data_type, "expected [real, imag]")
            return data_type.fill_from_user(complex(_float(value[0], data_type), _float(value[1], data_type)))
        if kind in "Mm":
            if isinstance(value, bool) or not isinstance(value, int):
                raise _error(value, data_type, "expected an integer")
            return np.array(value, dtype=np.int64).view(data_type.numpy_dtype)[()]
        if kind in "iu" and isinstance(value, float) and value.is_integer():
            value = int(value)
        return data_type.fill_from_user(value)
    except MetadataError:
        raise
    except (TypeError, ValueError, OverflowError) as e:
        raise _error(value, data_type, str(e)) from e


def _float_json(value: float) -> Any:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def v2_fill_to_json(value: Any, data_type: DataType, endian: str | None) -> Any:
    """The ``.zarray`` ``fill_value`` of a fill value (``None`` -> ``null``)."""
    if value is None:
        return None
    kind = data_type.numpy_dtype.kind
    if data_type.name == "string" or kind == "U":
        return str(value)
    if data_type.name == "variable_length_bytes":
        return base64.b64encode(bytes(value)).decode("ascii")
    if kind in "SV":
        stored = data_type.numpy_dtype.newbyteorder(_ORDER_CHAR[endian])
        # the whole item, padded (as zarr-python 2 and tensorstore write and require it; zarr-python 3
        # writes an "S" fill without its padding, and reads both)
        raw = np.asarray(value, dtype=data_type.numpy_dtype).astype(stored).tobytes()
        return base64.b64encode(raw).decode("ascii")
    if kind == "b":
        return bool(value)
    if kind in "iu":
        return int(value)
    if kind == "f":
        return _float_json(float(value))
    if kind == "c":
        number = complex(value)
        return [_float_json(number.real), _float_json(number.imag)]
    if kind in "Mm":
        return int(np.asarray(value, dtype=data_type.numpy_dtype).view(np.int64))
    raise MetadataError(f"no v2 fill value encoding for data type {data_type.name!r}", field=FIELD)
