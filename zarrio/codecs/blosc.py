"""The ``blosc`` codec (Blosc 1 meta-compressor), via ``numcodecs.Blosc``."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

import numpy as np

from ..errors import CorruptChunkError
from ._config import config_choice, config_int, reject_unknown_keys
from .base import JSON, Buffer, BytesBytesCodec, ChunkSpec, register_codec

__all__ = ["BloscCodec", "check_blosc_header"]

CNAMES = ("lz4", "lz4hc", "blosclz", "zstd", "zlib")
SHUFFLES = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}
HEADER_SIZE = 16
MEMCPYED_FLAG = 0x02
MAX_TYPESIZE = 255


def _element_size(dtype: np.dtype[Any]) -> int:
    """The typesize blosc should shuffle by: the item size, or 1 for variable-length types."""
    return 1 if dtype.hasobject else max(dtype.itemsize, 1)


@register_codec("blosc")
class BloscCodec(BytesBytesCodec):
    """``typesize`` and ``shuffle`` may be left ``None``; :meth:`evolve` then fills them from the
    data type as zarr-python does (typesize = item size; bitshuffle for 1-byte items, else shuffle)."""

    def __init__(
        self,
        cname: str = "zstd",
        clevel: int = 5,
        shuffle: str | None = None,
        typesize: int | None = None,
        blocksize: int = 0,
    ) -> None:
        self.cname = config_choice("blosc", "cname", cname, CNAMES)
        self.clevel = config_int("blosc", "clevel", clevel, low=0, high=9)
        self.shuffle = None if shuffle is None else config_choice("blosc", "shuffle", shuffle, SHUFFLES)
        self.typesize = None if typesize is None else config_int("blosc", "typesize", typesize, low=1)
        self.blocksize = config_int("blosc", "blocksize", blocksize, low=0)

    @classmethod
    def from_config(cls, configuration: Mapping[str, JSON]) -> BloscCodec:
        reject_unknown_keys("blosc", configuration, {"cname", "clevel", "shuffle", "typesize", "blocksize"})
        return cls(
            cname=configuration.get("cname", "zstd"),
            clevel=configuration.get("clevel", 5),
            shuffle=configuration.get("shuffle"),
            typesize=configuration.get("typesize"),
            blocksize=configuration.get("blocksize", 0),
        )

    def to_json(self) -> dict[str, JSON]:
        config: dict[str, JSON] = {}
        if self.typesize is not None:
            config["typesize"] = self.typesize
        config["cname"] = self.cname
        config["clevel"] = self.clevel
        if self.shuffle is not None:
            config["shuffle"] = self.shuffle
        config["blocksize"] = self.blocksize
        return {"name": "blosc", "configuration": config}

    def evolve(self, spec: ChunkSpec) -> BloscCodec:
        if self.typesize is not None and self.shuffle is not None:
            return self
        item_size = _element_size(spec.dtype)
        return BloscCodec(
            cname=self.cname,
            clevel=self.clevel,
            shuffle=self.shuffle or ("bitshuffle" if item_size == 1 else "shuffle"),
            typesize=self.typesize or item_size,
            blocksize=self.blocksize,
        )

    @cached_property
    def _numcodec(self) -> Any:
        import numcodecs  # imported on first use: it costs a fifth of `import zarrio`

        typesize = self.typesize or 1
        return numcodecs.Blosc(
            cname=self.cname,
            clevel=self.clevel,
            shuffle=SHUFFLES[self.shuffle or "bitshuffle"],
            blocksize=self.blocksize,
            typesize=min(typesize, MAX_TYPESIZE),
        )

    def encode(self, data: Buffer) -> bytes:
        return bytes(self._numcodec.encode(np.frombuffer(data, dtype=np.uint8)))

    def decode_into(self, data: Buffer, out: memoryview) -> bool:
        view = memoryview(data).cast("B")
        check_blosc_header(view, self.name)
        if int.from_bytes(view[4:8], "little") != out.nbytes:
            raise CorruptChunkError(
                f"blosc data decodes to {int.from_bytes(view[4:8], 'little')} bytes, expected {out.nbytes}",
                codec=self.name,
            )
        try:
            self._numcodec.decode(view, out=out)
        except Exception as e:  # numcodecs raises RuntimeError, ValueError, SystemError, MemoryError
            raise CorruptChunkError(f"invalid blosc data: {e}", codec=self.name) from e
        return True

    def decode(self, data: Buffer) -> Buffer:
        view = memoryview(data).cast("B")
        check_blosc_header(view, self.name)
        try:
            return bytes(self._numcodec.decode(view))
        except Exception as e:  # numcodecs raises RuntimeError, ValueError, SystemError, MemoryError
            raise CorruptChunkError(f"invalid blosc data: {e}", codec=self.name) from e


def check_blosc_header(view: memoryview, codec: str) -> None:
    """Reject buffers whose blosc header disagrees with their length before the C library reads them."""
    if view.nbytes < HEADER_SIZE:
        raise CorruptChunkError(f"{view.nbytes} bytes is too short for a blosc header", codec=codec)
    flags = view[2]
    nbytes = int.from_bytes(view[4:8], "little")
    cbytes = int.from_bytes(view[12:16], "little")
    if cbytes != view.nbytes:
        raise CorruptChunkError(f"blosc header says {cbytes} bytes, buffer has {view.nbytes}", codec=codec)
    if flags & MEMCPYED_FLAG and cbytes != nbytes + HEADER_SIZE:
        raise CorruptChunkError("blosc header of an uncompressed buffer has inconsistent sizes", codec=codec)
