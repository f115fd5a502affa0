"""The ``cast_value`` codec (zarr-extensions): converts the values of a chunk to another integer
or float data type (by value, never by reinterpreting bits), and back when decoding.

Each element goes through the spec's ordered rules: ``scalar_map`` first (its ``encode`` list
when encoding, ``decode`` when decoding; the first entry for a value wins), then an exact
conversion, then ``rounding`` (default ``"nearest-even"``) and ``out_of_range`` (``"clamp"``,
``"wrap"`` for integer targets only, ``"error"`` or absent: then a value out of range is an
error). NaN reaches a type without NaN only through ``scalar_map``; otherwise encoding fails (a
:class:`CodecError`) and decoding fails (a :class:`CorruptChunkError`: never wrong data). An
infinity is out of range of a type without one: ``"clamp"`` makes it the type's largest or
smallest value, as the spec says (zarr-python 3.4.2 refuses an infinity to an integer type).

The five rounding modes apply to float targets too, as zarr-python's cast_value does them
(cast-value-rs; the spec names them for integer targets only): the value rounded with an unbounded
exponent range (:mod:`._float_rounding`), out of range when that exceeds the largest finite value;
``"clamp"`` then gives ±Infinity where the type has it, else its largest finite value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import CodecError, CorruptChunkError
from ._config import config_choice, fail, reject_unknown_keys
from ._float_rounding import finite_max, rounded_to
from ._float_rounding import out_of_range as out_of_range_of
from ._numeric import integer_range, is_float, is_integer, numeric_dtype, scalar_from_json
from .base import JSON, ArrayArrayCodec, ChunkSpec, register_codec

__all__ = ["CastValueCodec"]

NAME = "cast_value"
ROUNDING = ("nearest-even", "towards-zero", "towards-positive", "towards-negative", "nearest-away")
OUT_OF_RANGE = ("error", "clamp", "wrap")


def _rounded(x: np.ndarray[Any, Any], mode: str) -> np.ndarray[Any, Any]:
    rounded: np.ndarray[Any, Any]
    if mode == "nearest-even":
        rounded = np.rint(x)
    elif mode == "towards-zero":
        rounded = np.trunc(x)
    elif mode == "towards-positive":
        rounded = np.ceil(x)
    elif mode == "towards-negative":
        rounded = np.floor(x)
    else:
        rounded = np.sign(x) * np.floor(np.abs(x) + 0.5)
    return rounded


def _as_number(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Integers as int64 (Python ints for uint64), floats as float64: exact for every supported type."""
    if is_integer(values.dtype):
        return values.astype(object if values.dtype == np.uint64 else np.int64)
    return values.astype(np.float64)


class _Cast:
    """One direction of the codec: ``source`` values to ``target`` values."""

    def __init__(self, codec: CastValueCodec, source: np.dtype[Any], target: np.dtype[Any], entries: Any) -> None:
        self.codec, self.source, self.target = codec, source, target
        self.mapping: list[tuple[Any, Any]] = []
        seen: set[bytes] = set()
        for entry in entries or ():
            if not isinstance(entry, Sequence) or isinstance(entry, str) or len(entry) != 2:
                fail(NAME, f"scalar_map entries must be [input, output] pairs, got {entry!r}")
            key = scalar_from_json(NAME, entry[0], source)
            bits = np.asarray(key, dtype=source).tobytes()
            if bits not in seen:  # the first occurrence of an input wins
                seen.add(bits)
                self.mapping.append((key, scalar_from_json(NAME, entry[1], target)))

    def __call__(self, values: np.ndarray[Any, Any], error: type[CodecError]) -> np.ndarray[Any, Any]:
        values = np.asarray(values)
        if values.dtype != self.source:
            raise error(f"expected {self.source} elements, got {values.dtype}", codec=NAME)
        out = np.empty(values.shape, dtype=self.target)
        mapped = np.zeros(values.shape, dtype=bool)
        for key, value in self.mapping:
            if is_float(self.source) and math.isnan(float(key)):
                hit = np.isnan(values.astype(np.float64))
            else:
                hit = values == key
            hit &= ~mapped
            out[hit] = value
            mapped |= hit
        rest = ~mapped
        if rest.all():
            out[...] = self._convert(values, error)
        elif rest.any():
            out[rest] = self._convert(values[rest], error)
        return out

    def _convert(self, values: np.ndarray[Any, Any], error: type[CodecError]) -> np.ndarray[Any, Any]:
        x = _as_number(values)
        mode, out_of_range = self.codec.rounding, self.codec.out_of_range
        if is_integer(self.target):
            low, high = integer_range(self.target)
            if is_float(self.source):
                if np.any(np.isnan(x)) or (out_of_range != "clamp" and np.any(np.isinf(x))):
                    raise error(f"NaN or infinity cannot be cast to {self.target} (add a scalar_map entry)", codec=NAME)
                x = _rounded(x, mode)
                x = np.where(np.isposinf(x), high, np.where(np.isneginf(x), low, x))  # clamped, as the spec says
            if x.size and (x.min() < low or x.max() > high):
                if out_of_range in (None, "error"):
                    raise error(f"a value is out of the range of {self.target} [{low}, {high}]", codec=NAME)
                if out_of_range == "clamp":
                    x = np.clip(x, low, high)
                else:
                    span = high - low + 1
                    x = np.mod(x - low, span) + low
            if x.dtype.kind == "f":
                x = x.astype(np.int64) if high < 2**63 else x.astype(object)
            wide = np.asarray(x).astype(np.uint64 if self.target == np.uint64 else np.int64)
            return wide.astype(self.target)
        return self._to_float(np.asarray(x, dtype=np.float64), mode, out_of_range, error)

    def _to_float(
        self, x: np.ndarray[Any, Any], mode: str, out_of_range: str | None, error: type[CodecError]
    ) -> np.ndarray[Any, Any]:
        target = self.target
        with np.errstate(over="ignore", invalid="ignore"):
            nan_of, inf_of = np.array([math.nan, math.inf]).astype(target).astype(np.float64)
        has_nan, has_infinity = math.isnan(nan_of), math.isinf(inf_of)
        finite, nan = np.isfinite(x), np.isnan(x)
        if (np.any(nan) and not has_nan) or (out_of_range != "clamp" and not has_infinity and np.any(np.isinf(x))):
            raise error(f"NaN or infinity cannot be cast to {target} (add a scalar_map entry)", codec=NAME)
        outside = ~finite & ~nan & (not has_infinity)  # an infinity, for a type without one
        outside[finite] = out_of_range_of(x[finite], target, mode)
        result = np.empty(x.shape, dtype=target)
        if np.any(outside):
            if out_of_range != "clamp":
                raise error(f"a value is out of the finite range of {target}", codec=NAME)
            limit = math.inf if has_infinity else finite_max(target)  # as zarr-python: to ±Infinity where it can
            result[outside] = np.where(x[outside] > 0, limit, -limit).astype(target)
        inside = finite & ~outside
        result[inside] = rounded_to(x[inside], target, mode)
        rest = ~finite & ~outside  # NaN, and the infinities of a type that has them
        if np.any(rest):
            with np.errstate(over="ignore", invalid="ignore"):
                result[rest] = x[rest].astype(target)
        return result


@register_codec(NAME)
class CastValueCodec(ArrayArrayCodec):
    """Cast to ``data_type`` when encoding, back to the array's type when decoding."""

    def __init__(
        self,
        data_type: JSON,
        rounding: str = "nearest-even",
        out_of_range: str | None = None,
        scalar_map: Mapping[str, JSON] | None = None,
    ) -> None:
        self.data_type: JSON = data_type
        self.target = numeric_dtype(NAME, data_type)
        self.rounding = config_choice(NAME, "rounding", rounding, ROUNDING)
        self.out_of_range = (
            None if out_of_range is None else config_choice(NAME, "out_of_range", out_of_range, OUT_OF_RANGE)
        )
        if scalar_map is not None:
            if not isinstance(scalar_map, Mapping):
                fail(NAME, f"scalar_map must be an object, got {scalar_map!r}")
            reject_unknown_keys(NAME, scalar_map, {"encode", "decode"})
            for direction in ("encode", "decode"):
                if not isinstance(scalar_map.get(direction, []), list):
                    fail(NAME, f"scalar_map.{direction} must be a list of pairs")
        self.scalar_map = scalar_map
        self._built: dict[np.dtype[Any], tuple[_Cast, _Cast]] = {}
        if self.out_of_range == "wrap" and not is_integer(self.target):
            fail(NAME, f"out_of_range 'wrap' needs an integer data_type, not {self.target}")

    @classmethod
    def from_config(cls, configuration: Mapping[str, JSON]) -> CastValueCodec:
        reject_unknown_keys(NAME, configuration, {"data_type", "rounding", "out_of_range", "scalar_map"})
        if "data_type" not in configuration:
            fail(NAME, "configuration needs 'data_type'")
        return cls(
            data_type=configuration["data_type"],
            rounding=configuration.get("rounding", "nearest-even"),
            out_of_range=configuration.get("out_of_range"),
            scalar_map=configuration.get("scalar_map"),
        )

    def to_json(self) -> dict[str, JSON]:
        config: dict[str, JSON] = {"data_type": self.data_type}
        if self.rounding != "nearest-even":
            config["rounding"] = self.rounding
        if self.out_of_range is not None:
            config["out_of_range"] = self.out_of_range
        if self.scalar_map is not None:
            config["scalar_map"] = dict(self.scalar_map)
        return {"name": NAME, "configuration": config}

    def _casts(self, source: np.dtype[Any]) -> tuple[_Cast, _Cast]:
        built = self._built.get(source)
        if built is None:
            scalar_map = self.scalar_map or {}
            built = (
                _Cast(self, source, self.target, scalar_map.get("encode")),
                _Cast(self, self.target, source, scalar_map.get("decode")),
            )
            self._built[source] = built
        return built

    def validate(self, spec: ChunkSpec) -> None:
        """The fill value must cast to the target (a fill that does not come back unchanged is accepted,
        as zarr-python 3.4.2 writes such arrays: a chunk never written still reads as the array's fill)."""
        if not (is_integer(spec.dtype) or is_float(spec.dtype)):
            fail(NAME, f"supports integer and float data types only, not {spec.dtype}")
        forward, _ = self._casts(spec.dtype)
        try:
            forward(np.asarray(spec.fill_value, dtype=spec.dtype).reshape(1), CodecError)
        except CodecError as e:
            fail(NAME, f"the fill value {spec.fill_value!r} cannot be cast to {self.target}: {e}")

    def resolve_spec(self, spec: ChunkSpec) -> ChunkSpec:
        forward, _ = self._casts(spec.dtype)
        fill = forward(np.asarray(spec.fill_value, dtype=spec.dtype).reshape(1), CodecError)[0]
        return ChunkSpec(spec.shape, self.target, fill)

    def encode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> np.ndarray[Any, Any]:
        forward, _ = self._casts(spec.dtype)
        return forward(chunk, CodecError)

    def decode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> np.ndarray[Any, Any]:
        _, backward = self._casts(spec.dtype)
        return backward(chunk, CorruptChunkError)
