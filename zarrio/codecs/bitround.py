"""The ``bitround`` codec (zarr-extensions): keeps ``keepbits`` bits of precision, rounding the rest
to nearest-even, so that a compressor after it finds repeated bit patterns. Lossy; decoding is the
identity.

* floats (``float16``/``32``/``64``, ``bfloat16`` and complex of these): the mantissa keeps
  ``keepbits`` bits (as numcodecs' ``bitround`` and zarrs do, bit for bit); a NaN stays the NaN it
  was (rounding its payload could turn it into an infinity);
* integers (``int8``..``uint64``, ``numpy.datetime64`` / ``timedelta64``): ``keepbits`` bits from
  the most significant set bit of the unsigned bit pattern, saturating at the largest pattern, as
  zarrs does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ._config import config_int, fail, reject_unknown_keys
from .base import JSON, ArrayArrayCodec, ChunkSpec, register_codec

__all__ = ["BitroundCodec", "round_bits"]

NAME = "bitround"
#: mantissa bits of the float types, by dtype name
MANTISSA_BITS = {"float16": 10, "float32": 23, "float64": 52, "bfloat16": 7}
_UNSIGNED: dict[int, np.dtype[Any]] = {
    1: np.dtype(np.uint8),
    2: np.dtype(np.uint16),
    4: np.dtype(np.uint32),
    8: np.dtype(np.uint64),
}


def round_bits(bits: np.ndarray[Any, Any], keepbits: int, maxbits: np.ndarray[Any, Any] | int) -> np.ndarray[Any, Any]:
    """Round unsigned ``bits`` to ``keepbits`` of their low ``maxbits`` bits, ties to even, saturating."""
    dtype = bits.dtype
    maskbits = np.asarray(maxbits, dtype=np.int64) - keepbits
    active = maskbits > 0
    shift = np.where(active, maskbits, 1).astype(dtype)
    one = dtype.type(1)
    half_quantum1 = (one << (shift - one)) - one
    increment = ((bits >> shift) & one) + half_quantum1
    room = np.iinfo(dtype).max - bits
    summed = np.where(increment > room, np.iinfo(dtype).max, bits + np.minimum(increment, room))
    all_set = dtype.type(np.iinfo(dtype).max)
    mask = (all_set >> shift) << shift
    rounded = summed.astype(dtype) & mask
    result: np.ndarray[Any, Any] = np.where(active, rounded, bits).astype(dtype)
    return result


def _bit_length(bits: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The number of significant bits of each unsigned value (0 for 0)."""
    length = np.zeros(bits.shape, dtype=np.int64)
    rest = bits.copy()
    for step in (32, 16, 8, 4, 2, 1):
        if step >= bits.dtype.itemsize * 8:
            continue
        big = rest >> bits.dtype.type(step)
        has = big != 0
        length += np.where(has, step, 0)
        rest = np.where(has, big, rest)
    total: np.ndarray[Any, Any] = length + (rest != 0)
    return total


@register_codec(NAME)
class BitroundCodec(ArrayArrayCodec):
    def __init__(self, keepbits: int) -> None:
        self.keepbits = config_int(NAME, "keepbits", keepbits, low=0)

    @classmethod
    def from_config(cls, configuration: Mapping[str, JSON]) -> BitroundCodec:
        reject_unknown_keys(NAME, configuration, {"keepbits"})
        if "keepbits" not in configuration:
            fail(NAME, "configuration needs 'keepbits'")
        return cls(configuration["keepbits"])

    def to_json(self) -> dict[str, JSON]:
        return {"name": NAME, "configuration": {"keepbits": self.keepbits}}

    @staticmethod
    def _component(dtype: np.dtype[Any]) -> np.dtype[Any]:
        if dtype.kind == "c":
            return np.dtype(f"float{dtype.itemsize * 4}")
        return dtype

    def validate(self, spec: ChunkSpec) -> None:
        component = self._component(spec.dtype)
        if component.name in MANTISSA_BITS:
            if self.keepbits > MANTISSA_BITS[component.name]:
                fail(
                    NAME,
                    f"keepbits {self.keepbits} exceeds the {MANTISSA_BITS[component.name]} mantissa bits of {component}",  # noqa: E501
                )
        elif component.kind not in "iumM" or component.itemsize not in _UNSIGNED:
            fail(NAME, f"unsupported data type {spec.dtype} (floats, complex, integers and datetimes)")

    def encode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> np.ndarray[Any, Any]:
        component = self._component(spec.dtype)
        values = np.ascontiguousarray(chunk).reshape(-1)
        unsigned = _UNSIGNED[component.itemsize]
        bits = values.view(component).view(unsigned) if values.dtype.kind == "c" else values.view(unsigned)
        if component.name in MANTISSA_BITS:
            rounded = round_bits(bits, self.keepbits, MANTISSA_BITS[component.name])
            is_nan = np.isnan(bits.view(component).astype(np.float64))
            rounded = np.where(is_nan, bits, rounded).astype(unsigned)
        else:
            rounded = round_bits(bits, self.keepbits, _bit_length(bits))
        return rounded.view(spec.dtype).reshape(chunk.shape)

    def decode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> np.ndarray[Any, Any]:
        return chunk
