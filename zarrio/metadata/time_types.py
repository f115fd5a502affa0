"""``numpy.datetime64`` and ``numpy.timedelta64`` (zarr-python's extension data types).

zarr.json form: ``{"name": "numpy.datetime64", "configuration": {"unit": "s", "scale_factor": 10}}``,
in memory ``datetime64[10s]``. The fill value is the raw int64 count; NaT is
``-9223372036854775808`` (zarr-python writes NaT that way and uses it as the
default fill); ``"NaT"`` is accepted when reading.
"""

from __future__ import annotations

import datetime
import warnings
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np

from ..errors import MetadataError
from .dtype_base import JSON, DataType, fill_error

__all__ = ["TIME_UNITS", "NAT_INT", "TimeType"]

TIME_UNITS = ("Y", "M", "W", "D", "h", "m", "s", "ms", "us", "μs", "ns", "ps", "fs", "as", "generic")
NAT_INT = -(2**63)
_INT64 = np.dtype("<i8")
_MAX_SCALE = 2**31


@dataclass(frozen=True)
class TimeType(DataType):
    kind: Literal["datetime", "timedelta"]
    unit: str
    scale_factor: int = 1

    def __post_init__(self) -> None:
        if self.kind not in ("datetime", "timedelta"):
            raise MetadataError(f"unknown time kind {self.kind!r}", field="data_type")
        if self.unit not in TIME_UNITS:
            raise MetadataError(f"unknown time unit {self.unit!r} (expected one of {TIME_UNITS})", field="data_type")
        scale = self.scale_factor
        if isinstance(scale, bool) or not isinstance(scale, int) or not 0 < scale < _MAX_SCALE:
            raise MetadataError(f"scale_factor must be an integer in [1, 2**31), got {scale!r}", field="data_type")
        if self.unit == "generic" and scale != 1:
            raise MetadataError("the generic time unit cannot be scaled", field="data_type")

    @property
    def name(self) -> str:
        return f"numpy.{self.kind}64"

    @cached_property
    def numpy_dtype(self) -> np.dtype[Any]:
        code = "M8" if self.kind == "datetime" else "m8"
        if self.unit == "generic":
            return np.dtype(code)
        return np.dtype(f"{code}[{self.scale_factor}{self.unit}]")

    def to_json(self) -> JSON:
        return {"name": self.name, "configuration": {"unit": self.unit, "scale_factor": self.scale_factor}}

    def _from_count(self, count: int, original: object) -> Any:
        if not NAT_INT <= count < 2**63:
            raise fill_error(original, self, "out of the int64 range")
        return np.array([count], dtype=_INT64).view(self.numpy_dtype)[0]

    def fill_from_json(self, value: object) -> Any:
        if isinstance(value, str) and value == "NaT":
            return self._from_count(NAT_INT, value)
        if isinstance(value, int) and not isinstance(value, bool):
            return self._from_count(value, value)
        raise fill_error(value, self, 'expected an integer or "NaT"')

    def fill_to_json(self, value: Any) -> JSON:
        filled = self.fill_from_user(value)
        return int(np.array([filled], dtype=self.numpy_dtype).view(_INT64)[0])

    def fill_from_user(self, value: object) -> Any:
        if value is None:
            return self._from_count(NAT_INT, value)
        if isinstance(value, np.datetime64 | np.timedelta64):
            return self._cast(value)
        if isinstance(value, np.integer) and not isinstance(value, np.bool_):
            return self._from_count(int(value), value)
        if isinstance(value, str) and value != "NaT":
            parsed = self._parse_text(value)
            return self._cast(parsed)
        if isinstance(value, datetime.datetime | datetime.date | datetime.timedelta):
            return self._cast(self._python_time(value))
        return self.fill_from_json(value)

    def _python_time(self, value: datetime.date | datetime.timedelta) -> Any:
        if isinstance(value, datetime.timedelta):
            return np.timedelta64(value)
        if isinstance(value, datetime.datetime) and value.tzinfo is not None:
            value = value.astimezone(datetime.UTC).replace(tzinfo=None)  # numpy times are UTC, naive
        return np.datetime64(value)

    def _parse_text(self, text: str) -> Any:
        if self.kind == "timedelta":
            raise fill_error(text, self, "a timedelta fill must be an integer count, np.timedelta64 or NaT")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # numpy warns when it converts an explicit offset to UTC
                return np.datetime64(text)
        except ValueError as e:
            raise fill_error(text, self, "not an ISO 8601 date") from e

    def _cast(self, value: np.datetime64 | np.timedelta64) -> Any:
        expected = np.datetime64 if self.kind == "datetime" else np.timedelta64
        if not isinstance(value, expected):
            raise fill_error(value, self, f"expected {expected.__name__}")
        if value.dtype == self.numpy_dtype:
            return value
        try:
            return np.array(value).astype(self.numpy_dtype)[()]
        except (TypeError, ValueError, OverflowError) as e:
            raise fill_error(value, self, str(e)) from e
