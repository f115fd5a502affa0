"""``vlen-utf8`` and ``vlen-bytes``: variable-length strings and byte strings.

Layout (what zarr-python writes): a little-endian u32 item count, then for each
item in C order a little-endian u32 byte length followed by the bytes. In memory
the chunk is an ``object`` array of ``str`` (vlen-utf8) or ``bytes`` (vlen-bytes).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import numpy as np

from ..errors import CodecError, CorruptChunkError
from ._config import fail, reject_unknown_keys
from .base import JSON, ArrayBytesCodec, Buffer, ChunkSpec, register_codec

__all__ = ["VlenBytesCodec", "VlenUtf8Codec"]

_U32 = struct.Struct("<I")
LENGTH_SIZE = _U32.size


class _VlenCodec(ArrayBytesCodec):
    """Shared framing; subclasses convert one item to and from bytes."""

    kind: ClassVar[str]

    @classmethod
    def from_config(cls, configuration: Mapping[str, JSON]) -> _VlenCodec:
        reject_unknown_keys(cls.name, configuration, ())
        return cls()

    def to_json(self) -> dict[str, JSON]:
        return {"name": self.name, "configuration": {}}

    def validate(self, spec: ChunkSpec) -> None:
        if spec.dtype.kind not in "OUST":
            fail(self.name, f"needs a string or object data type, got {spec.dtype}")

    def item_to_bytes(self, item: Any) -> bytes:
        raise NotImplementedError

    def bytes_to_item(self, data: memoryview) -> Any:
        raise NotImplementedError

    def encode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> bytes:
        if chunk.shape != spec.shape:
            raise CodecError(f"chunk of shape {chunk.shape} does not match {spec.shape}", codec=self.name)
        items: Iterable[Any] = np.asarray(chunk).ravel(order="C").tolist()
        pieces = [_U32.pack(chunk.size)]
        for item in items:
            encoded = self.item_to_bytes(item)
            pieces.append(_U32.pack(len(encoded)))
            pieces.append(encoded)
        return b"".join(pieces)

    def decode(self, data: Buffer, spec: ChunkSpec) -> np.ndarray[Any, Any]:
        view = memoryview(data).cast("B")
        total = view.nbytes
        expected_count = int(np.prod(spec.shape, dtype=np.int64))
        if total < LENGTH_SIZE:
            raise CorruptChunkError(f"{total} bytes is too short for a {self.name} header", codec=self.name)
        (count,) = _U32.unpack_from(view, 0)
        if count != expected_count:
            raise CorruptChunkError(f"chunk holds {count} items, expected {expected_count}", codec=self.name)
        out = np.empty(count, dtype=object)
        position = LENGTH_SIZE
        for index in range(count):
            if position + LENGTH_SIZE > total:
                raise CorruptChunkError(f"truncated at item {index} of {count}", codec=self.name)
            (length,) = _U32.unpack_from(view, position)
            position += LENGTH_SIZE
            end = position + length
            if end > total:
                raise CorruptChunkError(f"item {index} runs past the end of the chunk", codec=self.name)
            out[index] = self.bytes_to_item(view[position:end])
            position = end
        if position != total:
            raise CorruptChunkError(f"{total - position} stray bytes after the last item", codec=self.name)
        return out.reshape(spec.shape)


@register_codec("vlen-utf8")
class VlenUtf8Codec(_VlenCodec):
    def item_to_bytes(self, item: Any) -> bytes:
        if not isinstance(item, str):
            raise CodecError(f"vlen-utf8 needs str items, got {type(item).__name__}", codec=self.name)
        try:
            return item.encode("utf-8")
        except UnicodeEncodeError as e:  # lone surrogates
            raise CodecError(f"string is not valid unicode: {e}", codec=self.name) from e

    def bytes_to_item(self, data: memoryview) -> str:
        try:
            return str(data, "utf-8")
        except UnicodeDecodeError as e:
            raise CorruptChunkError(f"invalid UTF-8: {e}", codec=self.name) from e


@register_codec("vlen-bytes")
class VlenBytesCodec(_VlenCodec):
    def item_to_bytes(self, item: Any) -> bytes:
        if not isinstance(item, bytes | bytearray | memoryview):
            raise CodecError(f"vlen-bytes needs bytes items, got {type(item).__name__}", codec=self.name)
        return bytes(item)

    def bytes_to_item(self, data: memoryview) -> bytes:
        return bytes(data)
