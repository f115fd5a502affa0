"""``numcodecs.<id>`` codecs: numcodecs codecs under the names and kinds zarr-python 3 gives them.

The configuration is the numcodecs configuration without ``"id"`` and is written
back exactly as given (plus what :meth:`evolve` fills in, as zarr-python does):
``{"name": "numcodecs.zlib", "configuration": {"level": 5}}``.

Kinds follow zarr-python: filters that map arrays to arrays (``delta``,
``bitround``, ``fixedscaleoffset``, ``quantize``, ``packbits``, ``astype``) are
array->array; ``pcodec`` and ``zfpy`` are array->bytes; the rest (compressors,
``shuffle`` and the checksums) are bytes->bytes.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from ..errors import ChecksumError, CodecError, CorruptChunkError, UnsupportedError
from ._config import fail, reject_unknown_keys
from .base import JSON, ArrayArrayCodec, ArrayBytesCodec, Buffer, BytesBytesCodec, ChunkSpec, Codec, register_codec
from .blosc import check_blosc_header
from .zstd import ZstdCodec

__all__ = [
    "NumcodecsArrayArrayCodec",
    "NumcodecsArrayBytesCodec",
    "NumcodecsBytesBytesCodec",
    "NumcodecsZlib",
    "NumcodecsZstd",
    "numcodecs_codec_class",
]

PREFIX = "numcodecs."
BYTES_BYTES_IDS = ("blosc", "lz4", "zstd", "zlib", "gzip", "bz2", "lzma", "shuffle")
CHECKSUM_IDS = ("crc32", "crc32c", "adler32", "fletcher32", "jenkins_lookup3")
ARRAY_ARRAY_IDS = ("delta", "bitround", "fixedscaleoffset", "quantize", "packbits", "astype")
ARRAY_BYTES_IDS = ("pcodec", "zfpy")
CHECKSUM_SIZE = 4
#: data types the array->array filters may encode to: bool, integers, floats, complex, datetimes
_NUMERIC_KINDS = frozenset("biufcmM")
#: the zarrio extra that installs the package a numcodecs codec needs
_EXTRAS = {"zfpy": "zfp", "pcodec": "pcodec"}
#: configuration keys that ``evolve`` fills from the data type when absent
FILLED_BY_EVOLVE = {
    "shuffle": "elementsize",
    "delta": "dtype",
    "fixedscaleoffset": "dtype",
    "quantize": "dtype",
    "astype": "decode_dtype",
}


class _NumcodecsMixin:
    """Holds the configuration and the numcodecs object built from it."""

    name: ClassVar[str]
    codec_id: ClassVar[str]
    #: the configuration keys of a codec zarrio reads and writes itself (no numcodecs object is
    #: built: :meth:`_set_up_native`); None: numcodecs does the work
    native_keys: ClassVar[frozenset[str] | None] = None

    def __init__(self, **configuration: JSON) -> None:
        configuration.pop("id", None)
        self.configuration: dict[str, JSON] = dict(configuration)
        self._numcodec: Any = None
        if self.native_keys is not None:
            reject_unknown_keys(PREFIX + self.codec_id, configuration, self.native_keys)
            self._set_up_native()
            return
        pending = FILLED_BY_EVOLVE.get(self.codec_id)
        if pending is None or self.configuration.get(pending) is not None:
            self._numcodec = self._build()
        # else: built on first use, after evolve() has filled the missing key from the data type

    def _set_up_native(self) -> None:
        raise NotImplementedError  # pragma: no cover - only codecs with native_keys

    def _build(self) -> Any:
        import numcodecs  # imported on first use: it costs a fifth of `import zarrio`
        import numcodecs.errors

        try:
            return numcodecs.get_codec({"id": self.codec_id, **self.configuration})
        except numcodecs.errors.UnknownCodecError as e:
            extra = _EXTRAS.get(self.codec_id)
            hint = f": install zarrio[{extra}]" if extra else ""
            raise UnsupportedError(f"numcodecs has no codec {self.codec_id!r} installed{hint}", field="codecs") from e
        except (TypeError, ValueError, KeyError) as e:
            fail(self.name, f"invalid configuration {self.configuration!r}: {e}")

    @property
    def numcodec(self) -> Any:
        """The underlying numcodecs codec object."""
        if self._numcodec is None:
            self._numcodec = self._build()
        return self._numcodec

    @classmethod
    def from_config(cls, configuration: Mapping[str, JSON]) -> Any:
        if "id" in configuration and configuration["id"] != cls.codec_id:
            fail(cls.name, f"configuration id {configuration['id']!r} does not match")
        return cls(**configuration)

    def to_json(self) -> dict[str, JSON]:
        return {"name": self.name, "configuration": dict(self.configuration)}

    def _with(self, **extra: JSON) -> Any:
        return type(self)(**{**self.configuration, **extra})

    def _failure(self, action: str, error: Exception) -> CodecError:
        message = f"numcodecs {self.codec_id} could not {action}: {error}"
        if action == "decode":
            kind = ChecksumError if "checksum" in str(error).lower() else CorruptChunkError
            return kind(message, codec=self.name)
        return CodecError(message, codec=self.name)


def _bytes_of(result: Any) -> bytes:
    return result if isinstance(result, bytes) else np.ascontiguousarray(result).tobytes()


class NumcodecsBytesBytesCodec(_NumcodecsMixin, BytesBytesCodec):
    def evolve(self, spec: ChunkSpec) -> Codec:
        if self.codec_id == "shuffle" and self.configuration.get("elementsize") is None:
            return self._with(elementsize=1 if spec.dtype.hasobject else spec.dtype.itemsize)  # type: ignore[no-any-return]
        return self

    def compute_encoded_size(self, size: int) -> int | None:
        return size + CHECKSUM_SIZE if self.codec_id in CHECKSUM_IDS else None

    def encode(self, data: Buffer) -> bytes:
        try:
            return _bytes_of(self.numcodec.encode(np.frombuffer(data, dtype=np.uint8)))
        except Exception as e:
            raise self._failure("encode", e) from e

    def decode(self, data: Buffer) -> Buffer:
        if self.codec_id == "blosc":
            check_blosc_header(memoryview(data).cast("B"), self.name)
        try:
            return _bytes_of(self.numcodec.decode(np.frombuffer(data, dtype=np.uint8)))
        except Exception as e:
            raise self._failure("decode", e) from e


class NumcodecsZstd(NumcodecsBytesBytesCodec):
    """``numcodecs.zstd`` without numcodecs: its chunks are plain zstd frames, which zarrio's
    ``zstd`` codec reads and writes (straight into the output too). Importing numcodecs costs
    about 30 ms, which the first read of a v2 array compressed with zstd paid."""

    codec_id = "zstd"
    native_keys = frozenset({"level", "checksum"})

    def _set_up_native(self) -> None:
        config = self.configuration  # numcodecs' defaults: level 1, no checksum
        self._zstd = ZstdCodec(level=config.get("level", 1), checksum=config.get("checksum", False))

    def encode(self, data: Buffer) -> bytes:
        return self._zstd.encode(data)

    def decode(self, data: Buffer) -> Buffer:
        return self._zstd.decode(data)

    def decode_into(self, data: Buffer, out: memoryview) -> bool:
        return self._zstd.decode_into(data, out)

    def encode_many(self, buffers: Sequence[Buffer]) -> list[bytes]:
        return self._zstd.encode_many(buffers)

    def decode_many(self, frames: Sequence[Buffer], nbytes: int) -> bytes | None:
        return self._zstd.decode_many(frames, nbytes)


class NumcodecsZlib(NumcodecsBytesBytesCodec):
    """``numcodecs.zlib`` without numcodecs: numcodecs calls the standard library's ``zlib``, and
    so does this, for the same bytes without the import."""

    codec_id = "zlib"
    native_keys = frozenset({"level"})

    def _set_up_native(self) -> None:
        level = self.configuration.get("level", 1)  # numcodecs' default
        if isinstance(level, bool) or not isinstance(level, int) or not -1 <= level <= 9:
            fail(self.name, f"level must be an integer from -1 to 9, got {level!r}")
        self._level = level

    def encode(self, data: Buffer) -> bytes:
        return zlib.compress(data, self._level)

    def decode(self, data: Buffer) -> Buffer:
        try:
            return zlib.decompress(data)
        except zlib.error as e:
            raise CorruptChunkError(f"invalid zlib data: {e}", codec=self.name) from e


def _cast_fill(fill_value: Any, dtype: np.dtype[Any]) -> Any:
    try:
        return np.asarray(fill_value).astype(dtype)[()]
    except (TypeError, ValueError, OverflowError):
        return np.zeros((), dtype=dtype)[()]


def _matching(array: np.ndarray[Any, Any], spec: ChunkSpec, codec: str) -> np.ndarray[Any, Any]:
    """``array`` reshaped to the spec; a dtype differing only in byte order is converted, one of the
    same width reinterpreted."""
    if array.size != math.prod(spec.shape):
        raise CorruptChunkError(f"got {array.size} items, expected {math.prod(spec.shape)}", codec=codec)
    array = array.reshape(spec.shape)
    if array.dtype == spec.dtype:
        return array
    if array.dtype.newbyteorder("=") == spec.dtype.newbyteorder("="):
        return array.astype(spec.dtype)
    if array.dtype.itemsize == spec.dtype.itemsize and not (array.dtype.hasobject or spec.dtype.hasobject):
        return array.view(spec.dtype)  # bitround hands back its floats as integers of the same width
    raise CorruptChunkError(f"got data type {array.dtype}, expected {spec.dtype}", codec=codec)


class NumcodecsArrayArrayCodec(_NumcodecsMixin, ArrayArrayCodec):
    def evolve(self, spec: ChunkSpec) -> Codec:
        config, native = self.configuration, str(spec.dtype)
        if self.codec_id in ("fixedscaleoffset", "quantize", "delta") and config.get("dtype") is None:
            return self._with(dtype=native)  # type: ignore[no-any-return]
        if self.codec_id == "astype" and config.get("decode_dtype") is None:
            return self._with(decode_dtype=native)  # type: ignore[no-any-return]
        return self

    def validate(self, spec: ChunkSpec) -> None:
        if self.codec_id == "packbits" and spec.dtype != np.dtype(bool):
            fail(self.name, f"needs a bool data type, got {spec.dtype}")
        self._encoded_dtype()

    def _encoded_dtype(self) -> np.dtype[Any] | None:
        """The data type this filter encodes to, when it changes it; numeric types only (a hostile
        ``"V1000000000"`` would otherwise make every chunk, and the fill value, a gigabyte per element)."""
        config = self.configuration
        encoded: Any = None
        if self.codec_id == "astype":
            encoded = config.get("encode_dtype")
        elif self.codec_id in ("delta", "fixedscaleoffset", "quantize"):
            encoded = config.get("astype")
        if encoded is None:
            return None
        try:
            dtype = np.dtype(encoded)
        except (TypeError, ValueError) as e:
            fail(self.name, f"invalid data type {encoded!r}: {e}")
        if dtype.kind not in _NUMERIC_KINDS or dtype.fields is not None:
            fail(self.name, f"encoding to data type {encoded!r} is not supported (numeric data types only)")
        native: np.dtype[Any] = dtype.newbyteorder("=")
        return native

    def resolve_spec(self, spec: ChunkSpec) -> ChunkSpec:
        if self.codec_id == "packbits":
            shape = (1 + math.ceil(math.prod(spec.shape) / 8),)
            return ChunkSpec(shape, np.dtype(np.uint8), np.uint8(0))
        dtype = self._encoded_dtype()
        if dtype is None:
            return spec
        return ChunkSpec(spec.shape, dtype, _cast_fill(spec.fill_value, dtype))

    def encode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> np.ndarray[Any, Any]:
        try:
            encoded = np.asarray(self.numcodec.encode(np.ascontiguousarray(chunk)))
        except Exception as e:
            raise self._failure("encode", e) from e
        return _matching(encoded, self.resolve_spec(spec), self.name)

    def decode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> np.ndarray[Any, Any]:
        try:
            decoded = np.asarray(self.numcodec.decode(np.ascontiguousarray(chunk)))
        except Exception as e:
            raise self._failure("decode", e) from e
        return _matching(decoded, spec, self.name)


class NumcodecsArrayBytesCodec(_NumcodecsMixin, ArrayBytesCodec):
    def encode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> bytes:
        try:
            return _bytes_of(self.numcodec.encode(np.ascontiguousarray(chunk)))
        except Exception as e:
            raise self._failure("encode", e) from e

    def decode(self, data: Buffer, spec: ChunkSpec) -> np.ndarray[Any, Any]:
        try:
            decoded = np.asarray(self.numcodec.decode(bytes(data)))
        except Exception as e:
            raise self._failure("decode", e) from e
        return _matching(decoded, spec, self.name)


_CLASSES: dict[str, type[Codec]] = {}


def _register(codec_id: str, base: type[Codec]) -> None:
    class_name = "Numcodecs" + "".join(part.capitalize() for part in codec_id.split("_"))
    cls = type(class_name, (base,), {"codec_id": codec_id, "__module__": __name__})
    _CLASSES[codec_id] = register_codec(PREFIX + codec_id)(cls)


for _id in BYTES_BYTES_IDS + CHECKSUM_IDS:
    _register(_id, NumcodecsBytesBytesCodec)
_CLASSES["zstd"] = register_codec(PREFIX + "zstd")(NumcodecsZstd)
_CLASSES["zlib"] = register_codec(PREFIX + "zlib")(NumcodecsZlib)
for _id in ARRAY_ARRAY_IDS:
    _register(_id, NumcodecsArrayArrayCodec)
for _id in ARRAY_BYTES_IDS:
    _register(_id, NumcodecsArrayBytesCodec)


def numcodecs_codec_class(codec_id: str) -> type[Codec]:
    """The codec class registered as ``numcodecs.<codec_id>``, e.g. ``numcodecs_codec_class("zlib")(level=5)``."""
    try:
        return _CLASSES[codec_id]
    except KeyError:
        raise UnsupportedError(f"no numcodecs codec {codec_id!r}", field="codecs") from None
