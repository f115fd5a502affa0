"""The numeric data types codecs name in their configuration (``cast_value``'s ``data_type``) and
the scalars they hold in the fill-value encoding (``scale_offset``'s ``offset``, ``scalar_map``).

The codecs cannot use ``zarrio.metadata`` (the layers keep them apart), so the small table of
integer and float types they accept lives here; the low-precision ones come from the optional
ml_dtypes, with the same :class:`UnsupportedError` the data types give when it is absent.
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import UnsupportedError
from ._config import fail

__all__ = [
    "FLOAT_NAMES",
    "INT_NAMES",
    "is_float",
    "integer_range",
    "is_integer",
    "low_precision",
    "numeric_dtype",
    "scalar_from_json",
]

INT_NAMES = frozenset({"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"})
ML_INT_NAMES = frozenset({"int2", "int4", "uint2", "uint4"})
FLOAT_NAMES = frozenset({"float16", "float32", "float64"})
ML_FLOAT_NAMES = frozenset(
    {
        "bfloat16",
        "float8_e3m4",
        "float8_e4m3",
        "float8_e4m3fn",
        "float8_e4m3fnuz",
        "float8_e4m3b11fnuz",
        "float8_e5m2",
        "float8_e5m2fnuz",
        "float8_e8m0fnu",
        "float6_e2m3fn",
        "float6_e3m2fn",
        "float4_e2m1fn",
    }
)
_UNSIGNED: dict[int, np.dtype[Any]] = {
    1: np.dtype(np.uint8),
    2: np.dtype(np.uint16),
    4: np.dtype(np.uint32),
    8: np.dtype(np.uint64),
}


def low_precision(dtype: np.dtype[Any]) -> bool:
    """Whether ``dtype`` is one of ml_dtypes' (kind 'V' to NumPy)."""
    return dtype.type.__module__.startswith("ml_dtypes")


def is_integer(dtype: np.dtype[Any]) -> bool:
    return dtype.kind in "iu" or (low_precision(dtype) and dtype.name in ML_INT_NAMES)


def is_float(dtype: np.dtype[Any]) -> bool:
    return dtype.kind == "f" or (low_precision(dtype) and dtype.name in ML_FLOAT_NAMES)


def _ml_dtype(name: str) -> np.dtype[Any]:
    try:
        import ml_dtypes
    except ImportError as e:
        raise UnsupportedError(
            f"data type {name!r} needs the ml_dtypes package: install zarrio[ml-dtypes]", field="codecs"
        ) from e
    dtype: np.dtype[Any] = np.dtype(getattr(ml_dtypes, name))
    return dtype


def numeric_dtype(codec: str, data_type: object) -> np.dtype[Any]:
    """The numpy dtype of a zarr.json integer or float ``data_type`` (a name or ``{"name": ...}``)."""
    name = data_type
    if isinstance(data_type, Mapping):
        name = data_type.get("name")
        if data_type.get("configuration"):
            fail(codec, f"data type {data_type!r} takes no configuration")
    if not isinstance(name, str):
        fail(codec, f"data_type must be a data type name, got {data_type!r}")
    if name in INT_NAMES or name in FLOAT_NAMES:
        return np.dtype(name)
    if name in ML_INT_NAMES or name in ML_FLOAT_NAMES:
        return _ml_dtype(name)
    raise UnsupportedError(f"codec {codec!r}: unsupported data type {name!r} (integer and float types only)")


def integer_range(dtype: np.dtype[Any]) -> tuple[int, int]:
    """The inclusive range of an integer dtype (int2..uint64)."""
    if low_precision(dtype):
        bits = int(dtype.name.removeprefix("u").removeprefix("int"))
        return (0, (1 << bits) - 1) if dtype.name.startswith("u") else (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


def scalar_from_json(codec: str, value: object, dtype: np.dtype[Any]) -> Any:
    """A scalar of ``dtype`` from its fill-value JSON form: an integer, a number, ``"NaN"``,
    ``"Infinity"``, ``"-Infinity"`` or ``"0x..."`` bits (floats). MetadataError when it does not fit."""
    if isinstance(value, bool):
        fail(codec, f"{value!r} is not a number")
    if is_integer(dtype):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            fail(codec, f"{value!r} is not an integer for {dtype}")
        low, high = integer_range(dtype)
        if not low <= value <= high:
            fail(codec, f"{value} is out of range for {dtype} [{low}, {high}]")
        return np.array(value, dtype=np.int64 if value < 2**63 else np.uint64).astype(dtype)[()]
    if not is_float(dtype):
        fail(codec, f"unsupported data type {dtype} (integer and float types only)")
    number: float
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        lowered = value.lower()
        specials = {"nan": math.nan, "infinity": math.inf, "+infinity": math.inf, "-infinity": -math.inf}
        if lowered in specials:
            number = specials[lowered]
        elif lowered[:2] == "0x" and value[2:] and all(char in string.hexdigits for char in value[2:]):
            bits = int(value[2:], 16)
            if bits >= 1 << (8 * dtype.itemsize):
                fail(codec, f"{value!r} has more bits than {dtype}")
            return np.array([bits], dtype=_UNSIGNED[dtype.itemsize]).view(dtype)[0]
        else:
            fail(codec, f"{value!r} is not a number for {dtype}")
    else:
        fail(codec, f"{value!r} is not a number for {dtype}")
    with np.errstate(over="ignore", invalid="ignore"):
        result = np.array(number, dtype=np.float64).astype(dtype)[()]
    as_float = float(result)
    if (math.isnan(as_float) and not math.isnan(number)) or (math.isinf(as_float) and not math.isinf(number)):
        fail(codec, f"{value!r} is not representable in {dtype}")
    if math.isnan(number) and not math.isnan(as_float):
        fail(codec, f"{dtype} has no NaN")
    if math.isinf(number) and not math.isinf(as_float):
        fail(codec, f"{dtype} has no infinity")
    return result
