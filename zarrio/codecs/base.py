"""Codec contracts and the registry. Codecs are pure, synchronous and thread-safe.

Three kinds, as in the Zarr v3 spec:

* :class:`ArrayArrayCodec` — ndarray -> ndarray (``transpose``, ``numcodecs.delta``)
* :class:`ArrayBytesCodec` — ndarray -> bytes (``bytes``, ``vlen-utf8``, ``sharding_indexed``)
* :class:`BytesBytesCodec` — bytes -> bytes (``gzip``, ``zstd``, ``blosc``, ``crc32c``)

Every codec is built from its ``zarr.json`` object by ``from_config`` and
written back by ``to_json``. ``evolve`` fills in settings that depend on the
chunk (blosc's typesize, the bytes codec's endian for multi-byte types) once,
when the array is opened. Codecs know nothing of stores or arrays.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, ClassVar, TypeVar

import numpy as np

from ..errors import MetadataError, UnsupportedError

__all__ = [
    "ArrayArrayCodec",
    "ArrayBytesCodec",
    "BytesBytesCodec",
    "ChunkSpec",
    "Codec",
    "codec_from_json",
    "register_codec",
    "registered_codecs",
]

JSON = Any
Buffer = bytes | bytearray | memoryview


@dataclass(frozen=True)
class ChunkSpec:
    """What a codec needs to know about the chunk it transforms.

    ``dtype`` is the in-memory numpy dtype (native byte order; ``object`` for
    variable-length strings and bytes). ``fill_value`` is a numpy scalar (or
    ``str``/``bytes`` for variable-length types).
    """

    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    fill_value: Any

    @cached_property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize

    def with_shape(self, shape: tuple[int, ...]) -> ChunkSpec:
        return replace(self, shape=tuple(shape))


class Codec(ABC):
    """Common base of the three codec kinds."""

    #: the name used in zarr.json (e.g. ``"zstd"``, ``"numcodecs.zlib"``)
    name: ClassVar[str]

    @classmethod
    @abstractmethod
    def from_config(cls, configuration: Mapping[str, JSON]) -> Codec:
        """Build from the ``configuration`` object of zarr.json (``{}`` when absent)."""

    @abstractmethod
    def to_json(self) -> dict[str, JSON]:
        """The codec's zarr.json object: ``{"name": ..., "configuration": {...}}``."""

    def evolve(self, spec: ChunkSpec) -> Codec:
        """A copy with chunk-dependent defaults filled in (default: ``self``)."""
        return self

    def resolve_spec(self, spec: ChunkSpec) -> ChunkSpec:
        """The spec of this codec's output given its input spec (default: unchanged)."""
        return spec

    def validate(self, spec: ChunkSpec) -> None:  # noqa: B027 - optional hook
        """Raise MetadataError if this codec cannot handle chunks like ``spec``."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Codec) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(repr(self.to_json()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_json().get('configuration', {})})"


class ArrayArrayCodec(Codec):
    @abstractmethod
    def encode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> np.ndarray[Any, Any]: ...

    @abstractmethod
    def decode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> np.ndarray[Any, Any]:
        """Invert ``encode``; ``spec`` is the spec of the *decoded* (input-side) chunk."""


class ArrayBytesCodec(Codec):
    #: whether one stored value holds many inner chunks, each readable on its own through the
    #: codec's read plan (``sharding_indexed``)
    holds_inner_chunks: ClassVar[bool] = False

    @abstractmethod
    def encode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> Buffer: ...

    @abstractmethod
    def decode(self, data: Buffer, spec: ChunkSpec) -> np.ndarray[Any, Any]:
        """Bytes to an array of ``spec.shape`` and ``spec.dtype``; raise CodecError on bad input."""

    def compute_encoded_size(self, spec: ChunkSpec) -> int | None:
        """The exact encoded size when fixed (e.g. ``bytes``), else ``None``."""
        return None


class BytesBytesCodec(Codec):
    @abstractmethod
    def encode(self, data: Buffer) -> bytes: ...

    @abstractmethod
    def decode(self, data: Buffer) -> Buffer: ...

    def compute_encoded_size(self, size: int) -> int | None:
        """The encoded size for an input of ``size`` bytes when fixed (crc32c: +4), else ``None``."""
        return None

    def decode_into(self, data: Buffer, out: memoryview) -> bool:
        """Decode ``data`` straight into ``out`` when the codec can (decompressors); the
        decoded size must be exactly ``out.nbytes`` (else CorruptChunkError). Returns
        False when this codec has no such path (the caller then uses ``decode``)."""
        return False

    def encode_many(self, buffers: Sequence[Buffer]) -> list[bytes]:
        """``encode`` of each of ``buffers``, in order (a codec may do it with less work per buffer)."""
        return [self.encode(buffer) for buffer in buffers]

    def decode_many(self, frames: Sequence[Buffer], nbytes: int) -> bytes | None:
        """The decoded ``frames``, each exactly ``nbytes``, joined in order, when the codec can
        decode a batch with less work per frame than one ``decode`` each. None when it cannot
        (no such path, or a frame it does not take: the caller then decodes them one by one,
        which also names what is wrong with a bad one)."""
        return None


_REGISTRY: dict[str, type[Codec]] = {}
C = TypeVar("C", bound=type[Codec])


def register_codec(name: str) -> Callable[[C], C]:
    """Class decorator: make ``name`` in zarr.json build this codec class.

    Users register their own codecs the same way::

        @register_codec("my.codec")
        class MyCodec(BytesBytesCodec): ...
    """

    def decorate(cls: C) -> C:
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorate


def registered_codecs() -> dict[str, type[Codec]]:
    """A copy of the registry: name -> codec class."""
    return dict(_REGISTRY)


def codec_from_json(obj: JSON) -> Codec:
    """Build a codec from its zarr.json form (an object, or a bare name string)."""
    if isinstance(obj, Codec):
        return obj
    config: Mapping[str, JSON]
    if isinstance(obj, str):
        name, config = obj, {}
    elif isinstance(obj, Mapping) and isinstance(obj.get("name"), str):
        name = obj["name"]
        config = obj.get("configuration") or {}
        if not isinstance(config, Mapping):
            raise MetadataError(f"codec {name!r}: configuration must be an object", field="codecs")
    else:
        raise MetadataError(f"invalid codec entry {obj!r}", field="codecs")
    cls = _REGISTRY.get(name)
    if cls is None:
        raise UnsupportedError(f"unknown codec {name!r}", field="codecs")
    try:
        return cls.from_config(config)
    except MetadataError:
        raise
    except (TypeError, ValueError, KeyError) as e:
        raise MetadataError(f"codec {name!r}: invalid configuration {dict(config)!r}: {e}", field="codecs") from e
