"""The registered low-precision data types (zarr-extensions), through the optional ``ml_dtypes``.

* floats: ``bfloat16``; the float8 family ``float8_e3m4``, ``float8_e4m3``, ``float8_e4m3fn``
  (tensorstore's name; not in the registry), ``float8_e4m3fnuz``, ``float8_e4m3b11fnuz``,
  ``float8_e5m2``, ``float8_e5m2fnuz``, ``float8_e8m0fnu``; ``float6_e2m3fn``, ``float6_e3m2fn``,
  ``float4_e2m1fn``;
* integers: ``int2``, ``int4``, ``uint2``, ``uint4`` (one element per byte with the ``bytes``
  codec, the upper bits ignored on reading; packed with ``packbits``).

NumPy has none of them: their in-memory dtypes are ml_dtypes' (``pip install zarrio[ml-dtypes]``).
Without ml_dtypes, opening or creating such an array is an :class:`UnsupportedError` that says so.
Fill values are the core float / integer JSON forms; ``"NaN"`` is the type's canonical NaN
(``0x7fc0`` for bfloat16, ``0x80`` for the ``fnuz`` types) and ``"NaN"`` / ``"Infinity"`` are
refused for types without such values.
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from ..errors import UnsupportedError
from .dtype_base import JSON, DataType, fill_error

__all__ = [
    "ML_DTYPES_EXTRA",
    "MlFloatType",
    "MlIntType",
    "extension_type",
    "extension_type_from_numpy",
    "ml_dtype",
]

#: the extra that installs ml_dtypes
ML_DTYPES_EXTRA = "ml-dtypes"

#: name -> (bits, has NaN, has infinity)
FLOAT_TYPES: dict[str, tuple[int, bool, bool]] = {
    "bfloat16": (16, True, True),
    "float8_e3m4": (8, True, True),
    "float8_e4m3": (8, True, True),
    "float8_e4m3fn": (8, True, False),
    "float8_e4m3fnuz": (8, True, False),
    "float8_e4m3b11fnuz": (8, True, False),
    "float8_e5m2": (8, True, True),
    "float8_e5m2fnuz": (8, True, False),
    "float8_e8m0fnu": (8, True, False),
    "float6_e2m3fn": (6, False, False),
    "float6_e3m2fn": (6, False, False),
    "float4_e2m1fn": (4, False, False),
}
#: name -> (bits, signed)
INT_TYPES: dict[str, tuple[int, bool]] = {
    "int2": (2, True),
    "int4": (4, True),
    "uint2": (2, False),
    "uint4": (4, False),
}
_UINT_OF_SIZE: dict[int, np.dtype[Any]] = {1: np.dtype(np.uint8), 2: np.dtype(np.uint16)}


def ml_dtype(name: str) -> np.dtype[Any]:
    """ml_dtypes' numpy dtype ``name``; UnsupportedError naming the extra when ml_dtypes is absent."""
    try:
        import ml_dtypes
    except ImportError as e:
        raise UnsupportedError(
            f"data type {name!r} needs the ml_dtypes package: install zarrio[{ML_DTYPES_EXTRA}]", field="data_type"
        ) from e
    kind = getattr(ml_dtypes, name, None)
    if kind is None:
        raise UnsupportedError(
            f"data type {name!r} needs a newer ml_dtypes than {ml_dtypes.__version__}: "
            f"upgrade zarrio[{ML_DTYPES_EXTRA}]",
            field="data_type",
        )
    dtype: np.dtype[Any] = np.dtype(kind)
    return dtype


@dataclass(frozen=True)
class _MlType(DataType):
    """A registered type whose numpy dtype comes from ml_dtypes, named as in zarr.json."""

    type_name: str
    #: the names this class stands for
    known: ClassVar[Mapping[str, Any]] = {}

    def __post_init__(self) -> None:
        if self.type_name not in self.known:
            raise UnsupportedError(f"unknown data type {self.type_name!r}", field="data_type")

    @property
    def name(self) -> str:
        return self.type_name

    @cached_property
    def numpy_dtype(self) -> np.dtype[Any]:
        return ml_dtype(self.type_name)

    def to_json(self) -> JSON:
        return self.type_name


@dataclass(frozen=True)
class MlFloatType(_MlType):
    """One of the low-precision float types of :data:`FLOAT_TYPES`."""

    known: ClassVar[Mapping[str, Any]] = FLOAT_TYPES

    @property
    def bits(self) -> int:
        return FLOAT_TYPES[self.type_name][0]

    @property
    def has_nan(self) -> bool:
        return FLOAT_TYPES[self.type_name][1]

    @property
    def has_infinity(self) -> bool:
        return FLOAT_TYPES[self.type_name][2]

    def _bits_of(self, value: Any) -> int:
        unsigned = _UINT_OF_SIZE[self.numpy_dtype.itemsize]
        return int(np.asarray(value, dtype=self.numpy_dtype).reshape(1).view(unsigned)[0])

    def _from_bits(self, bits: int) -> Any:
        return np.array([bits], dtype=_UINT_OF_SIZE[self.numpy_dtype.itemsize]).view(self.numpy_dtype)[0]

    @cached_property
    def _canonical_nan_bits(self) -> int:
        return self._bits_of(np.float32(math.nan))

    def _from_number(self, number: float, original: object) -> Any:
        if math.isnan(number):
            if not self.has_nan:
                raise fill_error(original, self, "the type has no NaN")
            return self._from_bits(self._canonical_nan_bits)
        if math.isinf(number) and not self.has_infinity:
            raise fill_error(original, self, "the type has no infinity")
        with np.errstate(over="ignore", invalid="ignore"):
            value = np.array(number, dtype=np.float64).astype(self.numpy_dtype)[()]
        if math.isnan(float(value)) or (math.isinf(float(value)) and not math.isinf(number)):
            raise fill_error(original, self, "not representable")
        return value

    def fill_from_json(self, value: object) -> Any:
        if isinstance(value, bool):
            raise fill_error(value, self, "expected a number")
        if isinstance(value, int | float):
            return self._from_number(float(value), value)
        if isinstance(value, str):
            lowered = value.lower()
            if lowered == "nan":
                return self._from_number(math.nan, value)
            if lowered in ("infinity", "+infinity", "inf", "+inf"):
                return self._from_number(math.inf, value)
            if lowered in ("-infinity", "-inf"):
                return self._from_number(-math.inf, value)
            digits = value[2:]
            if lowered[:2] == "0x" and digits and all(char in string.hexdigits for char in digits):
                bits = int(digits, 16)
                if bits >= 1 << self.bits:
                    raise fill_error(value, self, f"more than {self.bits} bits")
                return self._from_bits(bits)
        raise fill_error(value, self, "expected a number, 'NaN', 'Infinity', '-Infinity' or '0x...' bits")

    def fill_to_json(self, value: Any) -> JSON:
        scalar = self.fill_from_user(value)
        number = float(scalar)
        if math.isnan(number):
            bits = self._bits_of(scalar)
            if bits == self._canonical_nan_bits:
                return "NaN"
            return f"0x{bits:0{2 * self.numpy_dtype.itemsize}x}"
        if math.isinf(number):
            return "Infinity" if number > 0 else "-Infinity"
        return number

    def fill_from_user(self, value: object) -> Any:
        if value is None:  # all bits zero (0.0; 2**-127 for float8_e8m0fnu, which has no zero)
            return np.zeros((), dtype=self.numpy_dtype)[()]
        if isinstance(value, np.generic) and value.dtype == self.numpy_dtype:
            return value
        if isinstance(value, np.floating | np.integer | np.generic) and not isinstance(value, np.bool_):
            try:
                number = float(value)
            except (TypeError, ValueError) as e:
                raise fill_error(value, self, "expected a number") from e
            return self._from_number(number, value)
        return self.fill_from_json(value)


@dataclass(frozen=True)
class MlIntType(_MlType):
    """``int2``, ``int4``, ``uint2`` or ``uint4``."""

    known: ClassVar[Mapping[str, Any]] = INT_TYPES

    @property
    def range(self) -> tuple[int, int]:
        bits, signed = INT_TYPES[self.type_name]
        return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)

    def _checked(self, number: int, original: object) -> Any:
        low, high = self.range
        if not low <= number <= high:
            raise fill_error(original, self, f"out of range [{low}, {high}]")
        return np.array(number, dtype=np.int64).astype(self.numpy_dtype)[()]

    def fill_from_json(self, value: object) -> Any:
        if isinstance(value, bool):
            raise fill_error(value, self, "expected an integer")
        if isinstance(value, int):
            return self._checked(value, value)
        if isinstance(value, float) and value.is_integer():
            return self._checked(int(value), value)
        raise fill_error(value, self, "expected an integer")

    def fill_to_json(self, value: Any) -> JSON:
        return int(self.fill_from_user(value))

    def fill_from_user(self, value: object) -> Any:
        if value is None:
            return np.zeros((), dtype=self.numpy_dtype)[()]
        if isinstance(value, np.generic) and value.dtype == self.numpy_dtype:
            return value
        if isinstance(value, np.bool_ | np.integer):
            return self._checked(int(value), value)
        if isinstance(value, np.floating) and np.isfinite(value) and float(value).is_integer():
            return self._checked(int(value), value)
        return self.fill_from_json(value)


_TYPES: dict[str, DataType] = {
    **{name: MlFloatType(name) for name in FLOAT_TYPES},
    **{name: MlIntType(name) for name in INT_TYPES},
}


def extension_type(name: str) -> DataType | None:
    """The extension data type called ``name`` (``None`` when it is not one)."""
    return _TYPES.get(name)


def extension_type_from_numpy(dtype: np.dtype[Any]) -> DataType | None:
    """The extension data type of an ml_dtypes dtype (``None`` for any other dtype)."""
    if not dtype.type.__module__.startswith("ml_dtypes"):
        return None
    return _TYPES.get(dtype.name)
