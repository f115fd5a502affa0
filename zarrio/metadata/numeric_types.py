"""Numeric data types: ``bool``, ``int8``-``uint64``, ``float16``-``float64``, ``complex64``/``complex128``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ..errors import MetadataError
from .dtype_base import JSON, DataType, fill_error
from .fill_encoding import float_from_json, float_from_user, float_to_json

__all__ = ["BoolType", "ComplexType", "FloatType", "IntType"]


@dataclass(frozen=True)
class BoolType(DataType):
    @property
    def name(self) -> str:
        return "bool"

    @cached_property
    def numpy_dtype(self) -> np.dtype[Any]:
        return np.dtype(np.bool_)

    def to_json(self) -> JSON:
        return "bool"

    def fill_from_json(self, value: object) -> Any:
        # the spec says true/false; 0 and 1 are accepted as zarr-python does
        if isinstance(value, bool) or (type(value) is int and value in (0, 1)):
            return np.bool_(value)
        raise fill_error(value, self, "expected true or false")

    def fill_to_json(self, value: Any) -> JSON:
        return bool(self.fill_from_user(value))

    def fill_from_user(self, value: object) -> Any:
        if value is None:
            return np.bool_(False)
        if isinstance(value, np.bool_):
            return value
        if isinstance(value, np.integer) and int(value) in (0, 1):
            return np.bool_(int(value))
        return self.fill_from_json(value)


@dataclass(frozen=True)
class IntType(DataType):
    bits: int
    signed: bool

    def __post_init__(self) -> None:
        if self.bits not in (8, 16, 32, 64):
            raise MetadataError(f"no {self.bits}-bit integer data type", field="data_type")

    @property
    def name(self) -> str:
        return f"{'' if self.signed else 'u'}int{self.bits}"

    @cached_property
    def numpy_dtype(self) -> np.dtype[Any]:
        return np.dtype(self.name)

    @cached_property
    def _range(self) -> tuple[int, int]:
        info = np.iinfo(self.numpy_dtype)
        return int(info.min), int(info.max)

    def to_json(self) -> JSON:
        return self.name

    def _checked(self, number: int, original: object) -> Any:
        low, high = self._range
        if not low <= number <= high:
            raise fill_error(original, self, f"out of range [{low}, {high}]")
        return self.numpy_dtype.type(number)

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
            return self.numpy_dtype.type(0)
        if isinstance(value, np.generic) and value.dtype == self.numpy_dtype:
            return value
        if isinstance(value, bool | np.bool_ | np.integer):
            return self._checked(int(value), value)
        if isinstance(value, np.floating) and np.isfinite(value) and float(value).is_integer():
            return self._checked(int(value), value)
        return self.fill_from_json(value)


@dataclass(frozen=True)
class FloatType(DataType):
    bits: int

    def __post_init__(self) -> None:
        if self.bits not in (16, 32, 64):
            raise MetadataError(f"no {self.bits}-bit float data type", field="data_type")

    @property
    def name(self) -> str:
        return f"float{self.bits}"

    @cached_property
    def numpy_dtype(self) -> np.dtype[Any]:
        return np.dtype(self.name)

    def to_json(self) -> JSON:
        return self.name

    def fill_from_json(self, value: object) -> Any:
        return float_from_json(value, self.numpy_dtype)

    def fill_to_json(self, value: Any) -> JSON:
        return float_to_json(self.fill_from_user(value))

    def fill_from_user(self, value: object) -> Any:
        if value is None:
            return self.numpy_dtype.type(0.0)
        return float_from_user(value, self.numpy_dtype)


@dataclass(frozen=True)
class ComplexType(DataType):
    bits: int

    def __post_init__(self) -> None:
        if self.bits not in (64, 128):
            raise MetadataError(f"no {self.bits}-bit complex data type", field="data_type")

    @property
    def name(self) -> str:
        return f"complex{self.bits}"

    @cached_property
    def numpy_dtype(self) -> np.dtype[Any]:
        return np.dtype(self.name)

    @cached_property
    def component_dtype(self) -> np.dtype[Any]:
        return np.dtype(f"float{self.bits // 2}")

    def to_json(self) -> JSON:
        return self.name

    def _from_parts(self, real: Any, imag: Any) -> Any:
        # assembling from the raw parts keeps NaN payloads bit-exact
        return np.array([real, imag], dtype=self.component_dtype).view(self.numpy_dtype)[0]

    def fill_from_json(self, value: object) -> Any:
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise fill_error(value, self, "expected [real, imaginary]")
        return self._from_parts(*(float_from_json(part, self.component_dtype) for part in value))

    def fill_to_json(self, value: Any) -> JSON:
        parts = np.array([self.fill_from_user(value)], dtype=self.numpy_dtype).view(self.component_dtype)
        return [float_to_json(parts[0]), float_to_json(parts[1])]

    def fill_from_user(self, value: object) -> Any:
        if value is None:
            return self.numpy_dtype.type(0)
        if isinstance(value, np.complexfloating):
            if value.dtype == self.numpy_dtype:
                return value
            parts = np.array([value]).view(value.real.dtype)
            return self._from_parts(*(float_from_user(part, self.component_dtype) for part in parts))
        if isinstance(value, complex):
            return self._from_parts(
                float_from_user(value.real, self.component_dtype), float_from_user(value.imag, self.component_dtype)
            )
        if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool | np.bool_):
            return self._from_parts(float_from_user(value, self.component_dtype), self.component_dtype.type(0))
        if isinstance(value, list | tuple) and len(value) == 2:
            return self._from_parts(*(float_from_user(part, self.component_dtype) for part in value))
        return self.fill_from_json(value)
