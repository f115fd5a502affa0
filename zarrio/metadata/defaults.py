"""Defaults zarr-python 3.4.2 uses for new arrays (kept here as plain zarr.json data)."""

from __future__ import annotations

from typing import Any

from .dtype_base import DataType

__all__ = ["DEFAULT_COMPRESSOR", "default_codecs", "default_serializer"]

#: the compressor of a new array: zstd level 0, no checksum
DEFAULT_COMPRESSOR: dict[str, Any] = {"name": "zstd", "configuration": {"level": 0, "checksum": False}}


def default_codecs(data_type: DataType) -> tuple[dict[str, Any], ...]:
    """:func:`default_serializer`, then :data:`DEFAULT_COMPRESSOR`."""
    return default_serializer(data_type), dict(DEFAULT_COMPRESSOR)


def default_serializer(data_type: DataType) -> dict[str, Any]:
    """``bytes`` (with ``endian`` only when the type has a byte order) or the vlen codec."""
    if data_type.name == "string":
        first: dict[str, Any] = {"name": "vlen-utf8", "configuration": {}}
    elif data_type.name == "variable_length_bytes":
        first = {"name": "vlen-bytes", "configuration": {}}
    elif data_type.has_endianness:
        first = {"name": "bytes", "configuration": {"endian": "little"}}
    else:
        first = {"name": "bytes"}
    return first
