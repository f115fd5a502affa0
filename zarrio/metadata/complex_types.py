"""The registered complex types of low-precision components (zarr-extensions): ``complex_bfloat16``,
``complex_float16`` and ``complex_<T>`` for the float8, float6 and float4 types of
:mod:`.ml_types`.

NumPy has no complex type of such components, so the in-memory dtype is a pair, the structured
dtype ``[("real", T), ("imag", T)]`` (T: ml_dtypes' type, or ``float16``): the elements are the
stored bits exactly, real part first, as the registry lays them out. Each part is a float array
of its own (``values["real"]``); ``values["real"].astype(np.float32) + 1j * values["imag"]``
gives a ``complex64`` without loss. Writing takes such a pair array (or any array NumPy assigns
to it field by field).

Fill values are ``[real, imaginary]``, each part as the component type writes its fill (numbers,
``"NaN"``, ``"Infinity"``, ``"0x..."`` bits). With the ``bytes`` codec each part is byte-swapped on
its own; for one-byte parts the ``endian`` has no effect and may be left out.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from .dtype_base import JSON, DataType, fill_error
from .ml_types import FLOAT_TYPES, MlFloatType
from .numeric_types import FloatType

__all__ = ["PairedComplexType", "complex_extension_type"]

#: the part names of the in-memory pair
PARTS = ("real", "imag")
#: the registered ``complex_<T>`` names whose parts numpy has no complex type for
COMPONENTS = ("bfloat16", "float16", *(name for name in FLOAT_TYPES if name not in ("bfloat16", "float8_e4m3fn")))


@dataclass(frozen=True)
class PairedComplexType(DataType):
    """``complex_<component>``: two ``component`` values, real first."""

    component: str

    @property
    def name(self) -> str:
        return f"complex_{self.component}"

    @cached_property
    def component_type(self) -> DataType:
        return FloatType(16) if self.component == "float16" else MlFloatType(self.component)

    @cached_property
    def numpy_dtype(self) -> np.dtype[Any]:
        part = self.component_type.numpy_dtype
        return np.dtype([(PARTS[0], part), (PARTS[1], part)])

    @property
    def has_endianness(self) -> bool:
        return self.component_type.has_endianness

    def to_json(self) -> JSON:
        return self.name

    def _pair(self, real: Any, imag: Any) -> Any:
        pair = np.zeros((), dtype=self.numpy_dtype)
        pair[PARTS[0]], pair[PARTS[1]] = real, imag  # the parts' bits as they are (NaN payloads too)
        return pair[()]

    def fill_from_json(self, value: object) -> Any:
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise fill_error(value, self, "expected [real, imaginary]")
        return self._pair(*(self.component_type.fill_from_json(part) for part in value))

    def fill_to_json(self, value: Any) -> JSON:
        pair = self.fill_from_user(value)
        return [self.component_type.fill_to_json(pair[part]) for part in PARTS]

    def fill_from_user(self, value: object) -> Any:
        if value is None:
            return np.zeros((), dtype=self.numpy_dtype)[()]
        if isinstance(value, np.void) and value.dtype == self.numpy_dtype:
            return value
        part = self.component_type
        if isinstance(value, complex | np.complexfloating):
            return self._pair(part.fill_from_user(np.float64(value.real)), part.fill_from_user(np.float64(value.imag)))
        if isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_):
            return self._pair(part.fill_from_user(np.float64(value)), part.fill_from_user(None))
        if isinstance(value, list | tuple) and len(value) == 2:
            return self._pair(
                *(part.fill_from_user(p) if isinstance(p, np.generic) else part.fill_from_json(p) for p in value)
            )
        return self.fill_from_json(value)


_TYPES = {f"complex_{component}": PairedComplexType(component) for component in COMPONENTS}


def complex_extension_type(name: str) -> DataType | None:
    """The ``complex_<T>`` type called ``name`` (``None`` when it is not one)."""
    return _TYPES.get(name)
