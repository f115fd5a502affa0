"""The ``crc32c`` codec: appends the CRC32C of the data as 4 little-endian bytes."""

from __future__ import annotations

from collections.abc import Mapping

import google_crc32c
import numpy as np

from ..errors import ChecksumError, CorruptChunkError
from ._config import reject_unknown_keys
from .base import JSON, Buffer, BytesBytesCodec, register_codec

__all__ = ["Crc32cCodec"]

CHECKSUM_SIZE = 4


def _crc32c(data: Buffer) -> int:
    # google_crc32c's C extension rejects memoryviews but accepts numpy arrays over any buffer (no copy)
    return int(google_crc32c.value(np.frombuffer(data, dtype=np.uint8)))


@register_codec("crc32c")
class Crc32cCodec(BytesBytesCodec):
    @classmethod
    def from_config(cls, configuration: Mapping[str, JSON]) -> Crc32cCodec:
        reject_unknown_keys("crc32c", configuration, ())
        return cls()

    def to_json(self) -> dict[str, JSON]:
        return {"name": "crc32c"}

    def compute_encoded_size(self, size: int) -> int | None:
        return size + CHECKSUM_SIZE

    def encode(self, data: Buffer) -> bytes:
        payload = bytes(data)
        return payload + _crc32c(payload).to_bytes(CHECKSUM_SIZE, "little")

    def decode(self, data: Buffer) -> Buffer:
        view = memoryview(data).cast("B")
        if view.nbytes < CHECKSUM_SIZE:
            raise CorruptChunkError(f"{view.nbytes} bytes is too short to hold a crc32c checksum", codec=self.name)
        payload, stored = view[:-CHECKSUM_SIZE], view[-CHECKSUM_SIZE:]
        computed = _crc32c(payload)
        if computed != int.from_bytes(stored, "little"):
            raise ChecksumError("crc32c checksum mismatch", codec=self.name)
        return payload
