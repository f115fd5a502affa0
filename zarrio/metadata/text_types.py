"""String and byte-string data types.

==========================  =====================  ==========================  ==============
zarr.json                   in memory              fill value (JSON)           default fill
==========================  =====================  ==========================  ==============
``string``                  ``object`` (``str``)   the string                  ``""``
``variable_length_bytes``   ``object`` (bytes)     base64                      ``b""``
``fixed_length_utf32``      ``U<n>``               the string                  ``""``
``null_terminated_bytes``   ``S<n>``               base64                      ``b""``
``raw_bytes``               ``V<n>``               base64                      ``n`` zero bytes
==========================  =====================  ==========================  ==============

``"bytes"`` is read as an alias of ``variable_length_bytes``. For the byte
types a user may pass ``bytes`` or a ``str`` (taken as the value itself and
UTF-8 encoded, as zarr-python does), never base64: base64 is only the JSON form.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ..errors import MetadataError
from .dtype_base import JSON, DataType, fill_error
from .fill_encoding import bytes_from_base64, bytes_to_base64

__all__ = [
    "FixedLengthUTF32Type",
    "NullTerminatedBytesType",
    "RawBytesType",
    "StringType",
    "VariableLengthBytesType",
]

_OBJECT = np.dtype(object)


def _user_bytes(value: object, data_type: DataType) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    raise fill_error(value, data_type, "expected bytes")


def _check_length_bytes(length: object, multiple: int = 1) -> None:
    if isinstance(length, bool) or not isinstance(length, int) or length < 1 or length >= 2**31:
        raise MetadataError(f"length_bytes must be a positive integer, got {length!r}", field="data_type")
    if length % multiple:
        raise MetadataError(f"length_bytes must be a multiple of {multiple}, got {length}", field="data_type")


@dataclass(frozen=True)
class _VariableLengthType(DataType):
    """Held in memory as Python objects; zarr.json names them with a bare string."""

    @property
    def numpy_dtype(self) -> np.dtype[Any]:
        return _OBJECT

    @property
    def is_variable_length(self) -> bool:
        return True

    def to_json(self) -> JSON:
        return self.name


@dataclass(frozen=True)
class StringType(_VariableLengthType):
    """Variable-length UTF-8 strings (``vlen-utf8`` codec)."""

    @property
    def name(self) -> str:
        return "string"

    def fill_from_json(self, value: object) -> Any:
        if not isinstance(value, str):
            raise fill_error(value, self, "expected a string")
        return str(value)

    def fill_to_json(self, value: Any) -> JSON:
        return str(self.fill_from_user(value))

    def fill_from_user(self, value: object) -> Any:
        return "" if value is None else self.fill_from_json(value)


@dataclass(frozen=True)
class VariableLengthBytesType(_VariableLengthType):
    """Variable-length byte strings (``vlen-bytes`` codec)."""

    @property
    def name(self) -> str:
        return "variable_length_bytes"

    def fill_from_json(self, value: object) -> Any:
        return bytes_from_base64(value)

    def fill_to_json(self, value: Any) -> JSON:
        return bytes_to_base64(self.fill_from_user(value))

    def fill_from_user(self, value: object) -> Any:
        return b"" if value is None else _user_bytes(value, self)


@dataclass(frozen=True)
class FixedLengthUTF32Type(DataType):
    """Fixed-length UTF-32 strings, numpy ``U<length_bytes / 4>``."""

    length_bytes: int

    def __post_init__(self) -> None:
        _check_length_bytes(self.length_bytes, multiple=4)

    @property
    def name(self) -> str:
        return "fixed_length_utf32"

    @cached_property
    def numpy_dtype(self) -> np.dtype[Any]:
        return np.dtype(f"U{self.length_bytes // 4}")

    @property
    def has_endianness(self) -> bool:
        return True

    def to_json(self) -> JSON:
        return {"name": self.name, "configuration": {"length_bytes": self.length_bytes}}

    def fill_from_json(self, value: object) -> Any:
        if not isinstance(value, str):
            raise fill_error(value, self, "expected a string")
        if len(value) > self.length_bytes // 4:
            raise fill_error(value, self, f"longer than {self.length_bytes // 4} characters")
        return np.str_(value)

    def fill_to_json(self, value: Any) -> JSON:
        return str(self.fill_from_user(value))

    def fill_from_user(self, value: object) -> Any:
        return np.str_("") if value is None else self.fill_from_json(value)


@dataclass(frozen=True)
class _FixedBytesType(DataType):
    """What the fixed-size byte types share: a ``length_bytes`` configuration, no byte order."""

    length_bytes: int
    #: the numpy kind character of the in-memory dtype ("S" or "V")
    _numpy_kind = "S"

    def __post_init__(self) -> None:
        _check_length_bytes(self.length_bytes)

    @cached_property
    def numpy_dtype(self) -> np.dtype[Any]:
        return np.dtype(f"{self._numpy_kind}{self.length_bytes}")

    @property
    def has_endianness(self) -> bool:
        return False

    def to_json(self) -> JSON:
        return {"name": self.name, "configuration": {"length_bytes": self.length_bytes}}


@dataclass(frozen=True)
class NullTerminatedBytesType(_FixedBytesType):
    """Fixed-length byte strings padded with NULs, numpy ``S<length_bytes>``."""

    _numpy_kind = "S"

    @property
    def name(self) -> str:
        return "null_terminated_bytes"

    def _checked(self, raw: bytes, original: object) -> Any:
        if len(raw) > self.length_bytes:
            raise fill_error(original, self, f"longer than {self.length_bytes} bytes")
        return np.bytes_(raw.rstrip(b"\0"))  # trailing NULs are padding, as in a numpy S array

    def fill_from_json(self, value: object) -> Any:
        return self._checked(bytes_from_base64(value), value)

    def fill_to_json(self, value: Any) -> JSON:
        return bytes_to_base64(bytes(self.fill_from_user(value)))

    def fill_from_user(self, value: object) -> Any:
        if value is None:
            return np.bytes_(b"")
        return self._checked(_user_bytes(value, self), value)


@dataclass(frozen=True)
class RawBytesType(_FixedBytesType):
    """Opaque fixed-size records, numpy ``V<length_bytes>``."""

    _numpy_kind = "V"

    @property
    def name(self) -> str:
        return "raw_bytes"

    def _checked(self, raw: bytes, original: object) -> Any:
        if len(raw) != self.length_bytes:
            raise fill_error(original, self, f"expected exactly {self.length_bytes} bytes")
        return np.void(raw)

    def fill_from_json(self, value: object) -> Any:
        if isinstance(value, list) and all(type(item) is int and 0 <= item < 256 for item in value):
            return self._checked(bytes(value), value)  # an older form: a list of byte values
        return self._checked(bytes_from_base64(value), value)

    def fill_to_json(self, value: Any) -> JSON:
        return bytes_to_base64(self.fill_from_user(value).tobytes())

    def fill_from_user(self, value: object) -> Any:
        if value is None:
            return np.void(bytes(self.length_bytes))
        if isinstance(value, np.void) and value.dtype.fields is None:
            return self._checked(value.tobytes(), value)
        return self._checked(_user_bytes(value, self), value)
