"""The ``zstd`` codec (Zstandard frames), via the ``zstandard`` package."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

import zstandard

from ..errors import ChecksumError, CorruptChunkError
from ._config import config_bool, config_int, reject_unknown_keys
from .base import JSON, Buffer, BytesBytesCodec, register_codec

__all__ = ["ZstdCodec"]

MIN_LEVEL = -(1 << 17)  # ZSTD_minCLevel(): the fastest negative level
#: outputs up to this size are decompressed in one call and copied (a tiny chunk's frame walk
#: and stream reader cost more than the copy: 2.3 against 4.7 µs at 100 bytes, 9.8 against 14.0
#: at 8 KiB); larger ones stream straight into place (at 32-64 KiB the copy and the growing
#: output buffer cost about what they save, and L4's 64 KiB inner chunks measured slower)
ONE_SHOT_BYTES = 16 * 1024


class _PerThread(threading.local):
    """zstandard (de)compressor objects must not be shared between threads."""

    compressor: zstandard.ZstdCompressor | None = None
    decompressor: zstandard.ZstdDecompressor | None = None


_FRAME_MAGIC = b"\x28\xb5\x2f\xfd"
_SKIPPABLE_MAGIC_TAIL = b"\x2a\x4d\x18"  # skippable frames: 0x184D2A50 .. 0x184D2A5F
_CHECKSUM_FLAG = 0x04
_RESERVED_BLOCK = 3
_RLE_BLOCK = 1


def check_whole_frames(data: Buffer, codec: str = "zstd") -> None:
    """Raise CorruptChunkError unless ``data`` is a sequence of complete zstd (or skippable) frames.

    Walks the frame and block headers only (no decompression), as ``ZSTD_findFrameCompressedSize`` does.
    """
    view = memoryview(data).cast("B")
    total = view.nbytes
    position = 0
    while position < total:
        if total - position < 8:
            raise CorruptChunkError(f"truncated zstd frame at byte {position}", codec=codec)
        magic = bytes(view[position : position + 4])
        if magic[1:] == _SKIPPABLE_MAGIC_TAIL and magic[0] & 0xF0 == 0x50:
            position += 8 + int.from_bytes(view[position + 4 : position + 8], "little")
            continue
        if magic != _FRAME_MAGIC:
            raise CorruptChunkError(f"no zstd frame at byte {position}", codec=codec)
        try:
            header = zstandard.frame_header_size(bytes(view[position : position + 18]))
        except zstandard.ZstdError as e:
            raise CorruptChunkError(f"invalid zstd frame header: {e}", codec=codec) from e
        has_checksum = bool(view[position + 4] & _CHECKSUM_FLAG)
        position += header
        last = False
        while not last:
            if total - position < 3:
                raise CorruptChunkError("truncated zstd block header", codec=codec)
            block = int.from_bytes(view[position : position + 3], "little")
            last, kind, size = bool(block & 1), (block >> 1) & 3, block >> 3
            if kind == _RESERVED_BLOCK:
                raise CorruptChunkError("reserved zstd block type", codec=codec)
            position += 3 + (1 if kind == _RLE_BLOCK else size)
        position += 4 if has_checksum else 0
    if position != total:
        raise CorruptChunkError(f"truncated zstd frame: {total} bytes, the frames need {position}", codec=codec)


@register_codec("zstd")
class ZstdCodec(BytesBytesCodec):
    def __init__(self, level: int = 0, checksum: bool = False) -> None:
        low, high = MIN_LEVEL, zstandard.MAX_COMPRESSION_LEVEL
        self.level = config_int("zstd", "level", level, low=low, high=high)
        self.checksum = config_bool("zstd", "checksum", checksum)
        self._local = _PerThread()

    def __reduce__(self) -> tuple[type[ZstdCodec], tuple[int, bool]]:
        return type(self), (self.level, self.checksum)

    @classmethod
    def from_config(cls, configuration: Mapping[str, JSON]) -> ZstdCodec:
        reject_unknown_keys("zstd", configuration, {"level", "checksum"})
        return cls(level=configuration.get("level", 0), checksum=configuration.get("checksum", False))

    def to_json(self) -> dict[str, JSON]:
        return {"name": "zstd", "configuration": {"level": self.level, "checksum": self.checksum}}

    def _compressor(self) -> zstandard.ZstdCompressor:
        if self._local.compressor is None:
            self._local.compressor = zstandard.ZstdCompressor(
                level=self.level, write_checksum=self.checksum, write_content_size=True
            )
        return self._local.compressor

    def _decompressor(self) -> zstandard.ZstdDecompressor:
        if self._local.decompressor is None:
            self._local.decompressor = zstandard.ZstdDecompressor()
        return self._local.decompressor

    def encode(self, data: Buffer) -> bytes:
        return bytes(self._compressor().compress(data))

    def encode_many(self, buffers: Sequence[Buffer]) -> list[bytes]:
        """One frame per buffer, as ``encode`` makes it, without a method lookup per buffer."""
        compress = self._compressor().compress
        return [compress(buffer) for buffer in buffers]

    def decode_into(self, data: Buffer, out: memoryview) -> bool:
        """Decompress every frame straight into ``out``, which the frames must fill exactly."""
        if not memoryview(data).nbytes:
            raise CorruptChunkError("empty zstd stream", codec=self.name)
        if out.nbytes <= ONE_SHOT_BYTES:
            decoded = self._one_frame(data, out.nbytes)
            if decoded is not None and len(decoded) == out.nbytes:
                out[:] = decoded
                return True
        # the stream reader stops quietly at the end of its input: check first that the input
        # is whole frames (a frame cut inside its checksum would otherwise decode without it)
        check_whole_frames(data, self.name)
        try:
            with self._decompressor().stream_reader(data, read_across_frames=True, closefd=False) as reader:
                filled = 0
                while filled < out.nbytes:
                    n = reader.readinto(out[filled:])
                    if not n:
                        break
                    filled += n
                extra = reader.read(1)
        except zstandard.ZstdError as e:
            error = ChecksumError if "checksum" in str(e).lower() else CorruptChunkError
            raise error(f"invalid zstd data: {e}", codec=self.name) from e
        if filled != out.nbytes or extra:
            got = f"more than {out.nbytes}" if extra else str(filled)
            raise CorruptChunkError(f"zstd data decodes to {got} bytes, expected {out.nbytes}", codec=self.name)
        return True

    def decode_many(self, frames: Sequence[Buffer], nbytes: int) -> bytes | None:
        """Each of ``frames`` decompressed in one C call per frame, joined: a batch of tiny chunks
        skips the per-chunk checks of ``decode_into``. Only whole single frames that hold exactly
        ``nbytes`` are taken (a frame with bytes after it, or none, fails the one-shot call, which
        refuses both); anything else is None, and ``decode_into`` decodes the batch and names what
        is wrong. Chunks larger than ``ONE_SHOT_BYTES`` are not taken: they stream into place."""
        if nbytes > ONE_SHOT_BYTES:
            return None
        decompress = self._decompressor().decompress
        try:
            decoded = [decompress(frame, allow_extra_data=False) for frame in frames]
        except zstandard.ZstdError:
            return None
        if list(map(len, decoded)).count(nbytes) != len(decoded):
            return None
        return b"".join(decoded)

    def _one_frame(self, data: Buffer, size: int) -> bytes | None:
        """``data`` decompressed when it is exactly one whole frame that says it holds ``size``
        bytes (the one-shot decompression refuses anything after the frame, and stops a frame that
        holds more than it says within a block), else None: the caller takes the general path,
        which also names what is wrong with bad data."""
        try:
            if zstandard.frame_content_size(data) != size:
                return None
            decoded: bytes = self._decompressor().decompress(data, allow_extra_data=False)
        except zstandard.ZstdError:
            return None
        return decoded

    def decode(self, data: Buffer) -> Buffer:
        """Decompress one or more concatenated frames, with or without a content size."""
        remaining = bytes(data)
        if not remaining:
            raise CorruptChunkError("empty zstd stream", codec=self.name)
        pieces: list[bytes] = []
        while remaining:
            stream = self._decompressor().decompressobj()
            try:
                pieces.append(stream.decompress(remaining))
            except zstandard.ZstdError as e:
                error = ChecksumError if "checksum" in str(e).lower() else CorruptChunkError
                raise error(f"invalid zstd data: {e}", codec=self.name) from e
            if not stream.eof:
                raise CorruptChunkError("truncated zstd frame", codec=self.name)
            remaining = stream.unused_data
        return b"".join(pieces)
