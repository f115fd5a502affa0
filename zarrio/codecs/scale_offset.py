"""The ``scale_offset`` codec (zarr-extensions): ``out = (in - offset) * scale``, decoded as
``in / scale + offset``, in the arithmetic of the array's own data type.

``offset`` and ``scale`` are written in the fill-value encoding of that data type (0 and 1 when
absent). Integer arithmetic never wraps: a result outside the type's range, or a decode whose
division leaves a remainder, is an error (a :class:`CodecError` on encoding, a
:class:`CorruptChunkError` on decoding), as zarr-python 3.4.2 does. Floats stay in their type.
The fill value travels through the codec like the elements.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import CodecError, CorruptChunkError
from ._config import fail, reject_unknown_keys
from ._numeric import integer_range, is_float, is_integer, scalar_from_json
from .base import JSON, ArrayArrayCodec, ChunkSpec, register_codec

__all__ = ["ScaleOffsetCodec"]

NAME = "scale_offset"


def _wide(array: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Integers in a type where the arithmetic cannot overflow (int64, or Python ints for uint64)."""
    if array.dtype == np.uint64:
        return array.astype(object)
    return array.astype(np.int64)


def _narrow(values: np.ndarray[Any, Any], dtype: np.dtype[Any], error: type[CodecError]) -> np.ndarray[Any, Any]:
    low, high = integer_range(dtype)
    if values.size and (values.min() < low or values.max() > high):
        raise error(f"a value leaves the range of {dtype} [{low}, {high}]", codec=NAME)
    return np.asarray(values).astype(np.int64 if dtype != np.uint64 else np.uint64).astype(dtype)


@register_codec(NAME)
class ScaleOffsetCodec(ArrayArrayCodec):
    """``offset`` / ``scale`` are kept as written in zarr.json (numbers or the string forms)."""

    def __init__(self, offset: JSON = 0, scale: JSON = 1) -> None:
        for key, value in (("offset", offset), ("scale", scale)):
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                fail(NAME, f"{key} must be a number or a fill-value string, got {value!r}")
        self.offset: JSON = offset
        self.scale: JSON = scale

    @classmethod
    def from_config(cls, configuration: Mapping[str, JSON]) -> ScaleOffsetCodec:
        reject_unknown_keys(NAME, configuration, {"offset", "scale"})
        return cls(offset=configuration.get("offset", 0), scale=configuration.get("scale", 1))

    def to_json(self) -> dict[str, JSON]:
        config: dict[str, JSON] = {}
        if self.offset != 0:
            config["offset"] = self.offset
        if self.scale != 1:
            config["scale"] = self.scale
        if not config:
            return {"name": NAME}
        return {"name": NAME, "configuration": config}

    def _parameters(self, dtype: np.dtype[Any]) -> tuple[Any, Any]:
        offset = scalar_from_json(NAME, self.offset, dtype)
        scale = scalar_from_json(NAME, self.scale, dtype)
        if scale == 0:
            fail(NAME, "scale must not be zero")
        return offset, scale

    def validate(self, spec: ChunkSpec) -> None:
        if not (is_integer(spec.dtype) or is_float(spec.dtype)):
            fail(NAME, f"supports integer and float data types only, not {spec.dtype}")
        self._parameters(spec.dtype)
        self._encode(np.asarray(spec.fill_value, dtype=spec.dtype).reshape(1), spec.dtype, CodecError)

    def resolve_spec(self, spec: ChunkSpec) -> ChunkSpec:
        fill = self._encode(np.asarray(spec.fill_value, dtype=spec.dtype).reshape(1), spec.dtype, CodecError)[0]
        return ChunkSpec(spec.shape, spec.dtype, fill)

    def _encode(self, chunk: np.ndarray[Any, Any], dtype: np.dtype[Any], error: type[CodecError]) -> Any:
        offset, scale = self._parameters(dtype)
        if is_integer(dtype):
            result = (_wide(chunk) - int(offset)) * int(scale)
            return _narrow(result, dtype, error)
        with np.errstate(over="ignore", invalid="ignore"):
            out = (chunk - offset) * scale
        return np.asarray(out).astype(dtype, copy=False)

    def encode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> np.ndarray[Any, Any]:
        result: np.ndarray[Any, Any] = self._encode(np.asarray(chunk), spec.dtype, CodecError)
        return result

    def decode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> np.ndarray[Any, Any]:
        dtype = spec.dtype
        offset, scale = self._parameters(dtype)
        if chunk.dtype != dtype:
            raise CorruptChunkError(f"expected {dtype} elements, got {chunk.dtype}", codec=NAME)
        if is_integer(dtype):
            wide = _wide(chunk)
            if np.any(wide % int(scale)):
                raise CorruptChunkError(f"a stored value is not a multiple of scale {self.scale!r}", codec=NAME)
            return _narrow(wide // int(scale) + int(offset), dtype, CorruptChunkError)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            out = chunk / scale + offset
        return np.asarray(out).astype(dtype, copy=False)
