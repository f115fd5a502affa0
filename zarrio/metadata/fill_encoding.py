"""JSON encodings of scalar fill values shared by several data types.

Floats follow the Zarr v3 spec: a JSON number, ``"NaN"``, ``"Infinity"``,
``"-Infinity"`` or a ``"0x..."`` string holding the IEEE 754 bit pattern
(big-endian hex, so ``"0x7fc00001"`` is a float32 NaN with payload 1).
Reading keeps NaN payloads bit-exact. Writing matches zarr-python 3.4.2
(``"NaN"`` for the canonical quiet NaN, numbers written by ``float()``),
except that a NaN with a non-canonical bit pattern is written as hex, so the
payload survives the round trip (zarr-python would collapse it to ``"NaN"``).

Byte strings (``null_terminated_bytes``, ``raw_bytes``,
``variable_length_bytes``) are base64, as zarr-python writes them.
"""

from __future__ import annotations

import base64
import binascii
import math
import string
from typing import Any

import numpy as np

from ..errors import MetadataError

__all__ = [
    "FILL_FIELD",
    "bytes_from_base64",
    "bytes_to_base64",
    "float_from_json",
    "float_to_json",
    "float_from_user",
]

FILL_FIELD = "fill_value"

_UINT_FOR_SIZE: dict[int, np.dtype[Any]] = {2: np.dtype("<u2"), 4: np.dtype("<u4"), 8: np.dtype("<u8")}
_SPECIAL_FLOATS = {
    "nan": math.nan,
    "infinity": math.inf,
    "+infinity": math.inf,
    "-infinity": -math.inf,
    "inf": math.inf,
    "+inf": math.inf,
    "-inf": -math.inf,
}


def _bits_of(value: np.floating[Any]) -> int:
    size = value.dtype.itemsize
    return int(np.array([value], dtype=value.dtype).view(_UINT_FOR_SIZE[size])[0])


def _canonical_nan_bits(dtype: np.dtype[Any]) -> int:
    return _bits_of(dtype.type(math.nan))


def _from_bits(bits: int, dtype: np.dtype[Any]) -> Any:
    return np.array([bits], dtype=_UINT_FOR_SIZE[dtype.itemsize]).view(dtype)[0]


def _cast_number(number: float | int, dtype: np.dtype[Any]) -> Any:
    # out-of-range numbers become ±inf, as in zarr-python; no warning escapes
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            return np.array(number, dtype=dtype)[()]
        except (OverflowError, ValueError, TypeError) as e:
            raise MetadataError(f"{number!r} is not a valid {dtype} value", field=FILL_FIELD) from e


def float_from_json(value: object, dtype: np.dtype[Any]) -> Any:
    """Parse one JSON float form into a numpy scalar of ``dtype`` (bit-exact for hex)."""
    if isinstance(value, bool):
        raise MetadataError(f"expected a number for {dtype}, got {value!r}", field=FILL_FIELD)
    if isinstance(value, int | float):
        return _cast_number(value, dtype)
    if isinstance(value, str):
        special = _SPECIAL_FLOATS.get(value.lower())
        if special is not None:
            return dtype.type(special)
        if value[:2].lower() == "0x":
            digits = value[2:]
            if not digits or any(char not in string.hexdigits for char in digits):
                raise MetadataError(f"invalid hex fill value {value!r}", field=FILL_FIELD)
            if len(digits) > 2 * dtype.itemsize:
                raise MetadataError(
                    f"hex fill value {value!r} must have at most {2 * dtype.itemsize} hex digits", field=FILL_FIELD
                )
            return _from_bits(int(digits, 16), dtype)
    raise MetadataError(f"invalid fill value {value!r} for {dtype}", field=FILL_FIELD)


def float_to_json(value: np.floating[Any]) -> float | str:
    """The JSON form of a numpy float scalar."""
    if math.isnan(value):
        bits = _bits_of(value)
        if bits == _canonical_nan_bits(value.dtype):
            return "NaN"
        return f"0x{bits:0{2 * value.dtype.itemsize}x}"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return float(value)


def float_from_user(value: object, dtype: np.dtype[Any]) -> Any:
    """A user's float fill: numpy / Python numbers or the JSON forms."""
    if isinstance(value, np.floating) and value.dtype == dtype:
        return value
    if isinstance(value, np.floating | np.integer) and not isinstance(value, np.bool_):
        with np.errstate(over="ignore", invalid="ignore"):
            return np.array(value).astype(dtype)[()]
    return float_from_json(value, dtype)


def bytes_from_base64(value: object) -> bytes:
    if not isinstance(value, str):
        raise MetadataError(f"expected a base64 string, got {type(value).__name__}", field=FILL_FIELD)
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as e:
        raise MetadataError(f"invalid base64 fill value {value!r}", field=FILL_FIELD) from e


def bytes_to_base64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")
