"""The ``bytes`` codec: an array's elements laid out in C order with a fixed endianness.

Decoding does not copy when the stored byte order is the native one: the result
is a view over the input buffer (``np.frombuffer``), read-only when the input is
``bytes``. Callers that need to write into it must copy.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from ..errors import CodecError, CorruptChunkError
from ._config import config_choice, fail, reject_unknown_keys
from .base import JSON, ArrayBytesCodec, Buffer, ChunkSpec, register_codec

__all__ = ["BytesCodec", "byte_order_matters"]

Endian = Literal["little", "big"]
_ORDER_CHAR: dict[str, Literal["<", ">"]] = {"little": "<", "big": ">"}


def byte_order_matters(dtype: np.dtype[Any]) -> bool:
    """Whether ``dtype`` has elements wider than one byte (fields of a struct included)."""
    if dtype.type.__module__.startswith("ml_dtypes"):  # kind 'V' to numpy, but numbers (bfloat16, float8_*)
        return dtype.itemsize > 1
    if dtype.fields is not None:  # numpy cannot tell for fields of ml_dtypes' types (complex_float8_* pairs)
        return any(byte_order_matters(field[0]) for field in dtype.fields.values())
    return dtype.newbyteorder("<") != dtype.newbyteorder(">")


@functools.lru_cache(maxsize=256)
def _stored_dtype(dtype: np.dtype[Any], endian: str) -> np.dtype[Any]:
    # asked once per chunk decoded or encoded: worked out once per data type (two dtype
    # conversions and a comparison cost about 1 µs, a tenth of a tiny chunk's whole read)
    if not byte_order_matters(dtype):
        return dtype
    return dtype.newbyteorder(_ORDER_CHAR[endian])


@register_codec("bytes")
class BytesCodec(ArrayBytesCodec):
    """Fixed-size elements to bytes. ``endian`` may be ``None`` (absent from zarr.json) only for
    data types whose elements are single bytes (bool, int8, uint8, 'S', 'V'); :meth:`validate`
    rejects it otherwise, as zarr-python and tensorstore do. ``BytesCodec()`` is little endian."""

    def __init__(self, endian: Endian | str | None = "little") -> None:
        checked = None if endian is None else config_choice("bytes", "endian", endian, _ORDER_CHAR)
        self.endian: Endian | None = checked  # type: ignore[assignment]

    @classmethod
    def from_config(cls, configuration: Mapping[str, JSON]) -> BytesCodec:
        reject_unknown_keys("bytes", configuration, {"endian"})
        endian = configuration.get("endian")
        if endian is None:
            return cls(endian=None)
        return cls(endian=config_choice("bytes", "endian", endian, _ORDER_CHAR))

    def to_json(self) -> dict[str, JSON]:
        if self.endian is None:
            return {"name": "bytes"}
        return {"name": "bytes", "configuration": {"endian": self.endian}}

    def validate(self, spec: ChunkSpec) -> None:
        if spec.dtype.hasobject:
            fail("bytes", f"cannot encode variable-length data type {spec.dtype}; use vlen-utf8 or vlen-bytes")
        if self.endian is None and byte_order_matters(spec.dtype):
            fail("bytes", f"the 'endian' configuration is required for the multi-byte data type {spec.dtype}")

    def stored_dtype(self, dtype: np.dtype[Any]) -> np.dtype[Any]:
        """The dtype of the encoded elements: ``dtype`` in this codec's byte order."""
        return _stored_dtype(dtype, self.endian or "little")

    def compute_encoded_size(self, spec: ChunkSpec) -> int | None:
        return spec.nbytes

    def encode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> bytes | memoryview:
        """The elements' bytes, as a view of the chunk when it is already contiguous in the stored order."""
        if chunk.shape != spec.shape:
            raise CodecError(f"chunk of shape {chunk.shape} does not match {spec.shape}", codec=self.name)
        # np.asarray: a rank-0 chunk may arrive as a NumPy scalar, whose astype keeps native byte order
        stored = np.asarray(chunk).astype(self.stored_dtype(spec.dtype), copy=False)
        if stored.flags.c_contiguous:
            return stored.reshape(-1).view(np.uint8).data
        return stored.tobytes()  # one copy in C order (a part of a larger array)

    def decode(self, data: Buffer, spec: ChunkSpec) -> np.ndarray[Any, Any]:
        stored = self.stored_dtype(spec.dtype)
        expected = spec.nbytes
        actual = memoryview(data).nbytes
        if actual != expected:
            raise CorruptChunkError(f"expected {expected} bytes, got {actual}", codec=self.name)
        if stored.itemsize == 0:
            flat = np.zeros(int(np.prod(spec.shape, dtype=np.int64)), dtype=spec.dtype)
        else:
            flat = np.frombuffer(data, dtype=stored)
        array = flat.reshape(spec.shape)
        if stored != spec.dtype:
            array = array.astype(spec.dtype)
        return array
