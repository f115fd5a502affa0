"""The ``gzip`` codec: RFC 1952 gzip members, written with zlib (``wbits=31``)."""

from __future__ import annotations

import zlib
from collections.abc import Mapping

from ..errors import CorruptChunkError
from ._config import config_int, reject_unknown_keys
from .base import JSON, Buffer, BytesBytesCodec, register_codec

__all__ = ["GzipCodec"]

GZIP_WBITS = 31  # 16 + 15: gzip header and trailer, 32 KiB window
GZIP_MAGIC = b"\x1f\x8b"


@register_codec("gzip")
class GzipCodec(BytesBytesCodec):
    def __init__(self, level: int = 5) -> None:
        self.level = config_int("gzip", "level", level, low=0, high=9)

    @classmethod
    def from_config(cls, configuration: Mapping[str, JSON]) -> GzipCodec:
        reject_unknown_keys("gzip", configuration, {"level"})
        return cls(level=configuration.get("level", 5))

    def to_json(self) -> dict[str, JSON]:
        return {"name": "gzip", "configuration": {"level": self.level}}

    def encode(self, data: Buffer) -> bytes:
        compressor = zlib.compressobj(self.level, zlib.DEFLATED, GZIP_WBITS)
        return compressor.compress(data) + compressor.flush()

    def decode_into(self, data: Buffer, out: memoryview) -> bool:
        """Decompress into ``out``, never producing more than ``out.nbytes + 1`` bytes, so a
        gzip bomb (a small stream that inflates to gigabytes) fails before it allocates."""
        decoded = self._decode_bounded(data, out.nbytes)
        if len(decoded) != out.nbytes:
            got = f"more than {out.nbytes}" if len(decoded) > out.nbytes else str(len(decoded))
            raise CorruptChunkError(f"gzip data decodes to {got} bytes, expected {out.nbytes}", codec=self.name)
        out[:] = decoded
        return True

    def _decode_bounded(self, data: Buffer, limit: int) -> bytes:
        """Like :meth:`decode`, but stops once more than ``limit`` bytes have been produced."""
        remaining = bytes(data)
        if not remaining:
            raise CorruptChunkError("empty gzip stream", codec=self.name)
        pieces: list[bytes] = []
        produced = 0
        while remaining:
            decompressor = zlib.decompressobj(GZIP_WBITS)
            try:
                piece = decompressor.decompress(remaining, limit + 1 - produced)
            except zlib.error as e:
                raise CorruptChunkError(f"invalid gzip data: {e}", codec=self.name) from e
            pieces.append(piece)
            produced += len(piece)
            if produced > limit:
                break
            if not decompressor.eof:
                raise CorruptChunkError("truncated gzip stream", codec=self.name)
            remaining = decompressor.unused_data
            if not remaining.strip(b"\0"):
                break
            if not remaining.startswith(GZIP_MAGIC):
                raise CorruptChunkError(f"{len(remaining)} stray bytes after the gzip stream", codec=self.name)
        return b"".join(pieces)

    def decode(self, data: Buffer) -> Buffer:
        """Decompress one or more concatenated gzip members; a truncated member is an error."""
        remaining = bytes(data)
        if not remaining:
            raise CorruptChunkError("empty gzip stream", codec=self.name)
        pieces: list[bytes] = []
        while remaining:
            decompressor = zlib.decompressobj(GZIP_WBITS)
            try:
                pieces.append(decompressor.decompress(remaining))
                pieces.append(decompressor.flush())
            except zlib.error as e:
                raise CorruptChunkError(f"invalid gzip data: {e}", codec=self.name) from e
            if not decompressor.eof:
                raise CorruptChunkError("truncated gzip stream", codec=self.name)
            remaining = decompressor.unused_data
            if not remaining.strip(b"\0"):
                break  # zero padding after the last member, as the gzip tool allows
            if not remaining.startswith(GZIP_MAGIC):
                raise CorruptChunkError(f"{len(remaining)} stray bytes after the gzip stream", codec=self.name)
        return b"".join(pieces)
