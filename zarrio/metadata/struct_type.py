"""``struct``: packed records of fixed-size fields (numpy structured dtypes).

zarr.json: ``{"name": "struct", "configuration": {"fields": [{"name": "a", "data_type": "int32"}, ...]}}``;
the fill value is an object with one entry per field, each in that field's
JSON form (zarr-python 3.4.2); a base64 string of the packed record (the
older form) is read too. The default fill is all-zero bytes, as in zarr-python.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ..errors import MetadataError
from .dtype_base import JSON, DataType, fill_error
from .fill_encoding import bytes_from_base64

__all__ = ["StructType"]


@dataclass(frozen=True)
class StructType(DataType):
    fields: tuple[tuple[str, DataType], ...]

    def __post_init__(self) -> None:
        if not self.fields:
            raise MetadataError("a struct needs at least one field", field="data_type")
        seen: set[str] = set()
        for field_name, field_type in self.fields:
            if not isinstance(field_name, str) or not field_name:
                raise MetadataError(
                    f"struct field names must be non-empty strings, got {field_name!r}", field="data_type"
                )
            if field_name in seen:
                raise MetadataError(f"duplicate struct field {field_name!r}", field="data_type")
            seen.add(field_name)
            if not isinstance(field_type, DataType) or field_type.is_variable_length:
                raise MetadataError(f"struct field {field_name!r} must have a fixed-size data type", field="data_type")

    @property
    def name(self) -> str:
        return "struct"

    @cached_property
    def numpy_dtype(self) -> np.dtype[Any]:
        return np.dtype([(field_name, field_type.numpy_dtype) for field_name, field_type in self.fields])

    @property
    def has_endianness(self) -> bool:
        return any(field_type.has_endianness for _, field_type in self.fields)

    def to_json(self) -> JSON:
        fields = [{"name": field_name, "data_type": field_type.to_json()} for field_name, field_type in self.fields]
        return {"name": "struct", "configuration": {"fields": fields}}

    def _zeros(self) -> np.ndarray[Any, Any]:
        return np.zeros((), dtype=self.numpy_dtype)

    def fill_from_json(self, value: object) -> Any:
        if isinstance(value, str):
            raw = bytes_from_base64(value)
            if len(raw) != self.numpy_dtype.itemsize:
                raise fill_error(value, self, f"expected {self.numpy_dtype.itemsize} bytes")
            return np.frombuffer(raw, dtype=self.numpy_dtype).copy()[0]
        if not isinstance(value, Mapping):
            raise fill_error(value, self, "expected an object with one entry per field")
        return self._assemble(value, lambda field_type, item: field_type.fill_from_json(item), strict=True)

    def _assemble(self, value: Mapping[str, Any], parse: Any, *, strict: bool) -> Any:
        names = {field_name for field_name, _ in self.fields}
        unknown = [key for key in value if key not in names]
        if unknown:
            raise fill_error(value, self, f"unknown fields {unknown}")
        record = self._zeros()
        for field_name, field_type in self.fields:
            if field_name not in value:
                if strict:
                    raise fill_error(value, self, f"missing field {field_name!r}")
                continue
            record[field_name] = parse(field_type, value[field_name])
        return record[()]

    def fill_to_json(self, value: Any) -> JSON:
        record = self.fill_from_user(value)
        return {field_name: field_type.fill_to_json(record[field_name]) for field_name, field_type in self.fields}

    def fill_from_user(self, value: object) -> Any:
        if value is None:
            return self._zeros()[()]
        if isinstance(value, np.void) and value.dtype.fields is not None:
            if value.dtype == self.numpy_dtype:
                return value
            if value.dtype.names is None or len(value.dtype.names) != len(self.fields):
                raise fill_error(value, self, "the record's fields do not match")
            value = tuple(value.item())
        if isinstance(value, tuple | list):
            if len(value) != len(self.fields):
                raise fill_error(value, self, f"expected {len(self.fields)} values")
            value = {field_name: item for (field_name, _), item in zip(self.fields, value, strict=True)}
        if isinstance(value, bytes | bytearray) and len(value) == self.numpy_dtype.itemsize:
            return np.frombuffer(bytes(value), dtype=self.numpy_dtype).copy()[0]
        if isinstance(value, Mapping):
            return self._assemble(value, lambda field_type, item: field_type.fill_from_user(item), strict=False)
        return self.fill_from_json(value)
