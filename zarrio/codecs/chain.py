"""``CodecChain``: an array's ``codecs`` list, validated and ready to encode and decode chunks.

A chain is ``array->array* , array->bytes , bytes->bytes*``. It is built once per
array (per chunk spec) with :meth:`CodecChain.from_json`, which fills in
chunk-dependent defaults (``evolve``) and checks every codec against the spec it
will see. Decoding never raises anything but a :class:`~zarrio.errors.CodecError`
subclass for bad input bytes: foreign exceptions are translated and chained
(running out of memory is a :class:`~zarrio.errors.ResourceLimitError`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import CodecError, CorruptChunkError, MetadataError, ResourceLimitError, ZarrioError
from .base import (
    JSON,
    ArrayArrayCodec,
    ArrayBytesCodec,
    Buffer,
    BytesBytesCodec,
    ChunkSpec,
    Codec,
    codec_from_json,
    registered_codecs,
)

__all__ = ["CodecChain"]

FIELD = "codecs"


def _split(codecs: Sequence[Codec]) -> tuple[list[ArrayArrayCodec], ArrayBytesCodec, list[BytesBytesCodec]]:
    """Check the kinds are in order and split them; MetadataError otherwise."""
    array_array: list[ArrayArrayCodec] = []
    array_bytes: list[ArrayBytesCodec] = []
    bytes_bytes: list[BytesBytesCodec] = []
    for codec in codecs:
        if isinstance(codec, ArrayArrayCodec):
            if array_bytes:
                raise MetadataError(f"array->array codec {codec.name!r} after the array->bytes codec", field=FIELD)
            array_array.append(codec)
        elif isinstance(codec, ArrayBytesCodec):
            if array_bytes:
                raise MetadataError(
                    f"more than one array->bytes codec ({array_bytes[0].name!r}, {codec.name!r})", field=FIELD
                )
            array_bytes.append(codec)
        elif isinstance(codec, BytesBytesCodec):
            if not array_bytes:
                raise MetadataError(f"bytes->bytes codec {codec.name!r} before the array->bytes codec", field=FIELD)
            bytes_bytes.append(codec)
        else:
            raise MetadataError(f"{codec!r} is not a codec", field=FIELD)
    if not array_bytes:
        raise MetadataError("the codecs need exactly one array->bytes codec (e.g. 'bytes')", field=FIELD)
    return array_array, array_bytes[0], bytes_bytes


def _translate(error: Exception, codec: Codec, action: str) -> ZarrioError:
    """A zarrio error for ``error`` raised inside ``codec``; zarrio errors keep their type."""
    if isinstance(error, CodecError):
        if error.codec is None:
            error.codec = codec.name
        return error
    if isinstance(error, ZarrioError):
        return error
    if isinstance(error, MemoryError):
        return ResourceLimitError(f"not enough memory to {action} a chunk with codec {codec.name!r}")
    if action == "decode":
        return CorruptChunkError(f"cannot decode: {type(error).__name__}: {error}", codec=codec.name)
    return CodecError(f"cannot encode: {type(error).__name__}: {error}", codec=codec.name)


class CodecChain:
    """The codecs of an array (or of a shard's inner chunks), evolved for one chunk spec."""

    def __init__(self, codecs: Sequence[Codec], spec: ChunkSpec) -> None:
        """Prefer :meth:`from_json`; this expects codecs that are already evolved for ``spec``."""
        self.array_array, self.array_bytes, self.bytes_bytes = _split(codecs)
        self.spec = spec
        #: the last decoded spec, the specs of its array stages and its array->bytes encoded size
        self._decoding: tuple[ChunkSpec, list[ChunkSpec], int | None] | None = None

    @classmethod
    def from_json(cls, codecs: Sequence[JSON | Codec], spec: ChunkSpec) -> CodecChain:
        """Build from zarr.json entries (objects, bare names or codec objects), evolve and validate."""
        if isinstance(codecs, str | bytes) or not isinstance(codecs, Sequence):
            raise MetadataError(f"codecs must be a list, got {codecs!r}", field=FIELD)
        built = [codec_from_json(entry) for entry in codecs if not _ignorable(entry)]
        _split(built)  # order first, so the error names the real problem
        evolved: list[Codec] = []
        current = spec
        for codec in built:
            codec = codec.evolve(current)
            codec.validate(current)
            evolved.append(codec)
            current = codec.resolve_spec(current)
        return cls(evolved, spec)

    @property
    def codecs(self) -> tuple[Codec, ...]:
        return (*self.array_array, self.array_bytes, *self.bytes_bytes)

    def to_json(self) -> list[dict[str, JSON]]:
        return [codec.to_json() for codec in self.codecs]

    @property
    def sharding(self) -> ArrayBytesCodec | None:
        """The codec holding inner chunks (``sharding_indexed``) when it is the whole chain: then
        inner chunks can be read on their own, through its read plan."""
        if self.array_array or self.bytes_bytes or not self.array_bytes.holds_inner_chunks:
            return None
        return self.array_bytes

    def array_bytes_spec(self, spec: ChunkSpec) -> ChunkSpec:
        """The spec the array->bytes codec sees for chunks like ``spec``."""
        for codec in self.array_array:
            spec = codec.resolve_spec(spec)
        return spec

    def largest_nbytes(self, spec: ChunkSpec | None = None) -> int:
        """The most bytes one chunk like ``spec`` occupies at any array stage of decoding (its own size, or
        larger when an array->array codec widens the elements, e.g. ``numcodecs.astype``): what decoding one
        chunk may allocate, before any compression. Callers bound memory with it before reading a chunk."""
        current = spec or self.spec
        largest = current.nbytes
        for codec in self.array_array:
            current = codec.resolve_spec(current)
            largest = max(largest, current.nbytes)
        return largest

    def compute_encoded_size(self, spec: ChunkSpec | None = None) -> int | None:
        """The exact encoded size of every chunk like ``spec``, or None when it varies."""
        size = self.array_bytes.compute_encoded_size(self.array_bytes_spec(spec or self.spec))
        for codec in self.bytes_bytes:
            if size is None:
                return None
            size = codec.compute_encoded_size(size)
        return size

    def encode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec | None = None) -> bytes:
        spec = spec or self.spec
        if chunk.shape != spec.shape:
            raise CodecError(f"chunk of shape {chunk.shape} does not match the chunk shape {spec.shape}")
        array: np.ndarray[Any, Any] = chunk
        current = spec
        codec: Codec | None = None
        try:
            for codec in self.array_array:
                array = codec.encode(array, current)
                current = codec.resolve_spec(current)
            codec = self.array_bytes
            data: Buffer = self.array_bytes.encode(array, current)
            for codec in self.bytes_bytes:
                data = codec.encode(data)
        except Exception as e:
            assert codec is not None
            raise _translate(e, codec, "encode") from e
        return bytes(data)

    def decode(
        self, data: Buffer, spec: ChunkSpec | None = None, *, scratch: Callable[[int], memoryview] | None = None
    ) -> np.ndarray[Any, Any]:
        """Bytes to an array of ``spec.shape`` and ``spec.dtype`` (maybe a read-only, non-contiguous view).

        ``scratch(n)`` may lend a reusable buffer of ``n`` bytes: the last
        decompression then writes into it instead of allocating, and the
        result is a view of it, valid until the lender reuses the buffer.
        """
        spec = spec or self.spec
        known = self._decoding
        if known is not None and known[0] is spec:  # the same spec as the last chunk's: the common case
            specs, size = known[1], known[2]
        else:
            specs = [spec]
            for array_codec in self.array_array:
                specs.append(array_codec.resolve_spec(specs[-1]))
            size = self.array_bytes.compute_encoded_size(specs[-1])
            self._decoding = (spec, specs, size)  # one assignment: safe to race between threads
        codec: Codec | None = None
        try:
            last = len(self.bytes_bytes) - 1
            for i, codec in enumerate(reversed(self.bytes_bytes)):
                if i == last and scratch is not None and size is not None:
                    buffer = scratch(size)
                    if codec.decode_into(data, buffer):
                        data = buffer
                        continue
                data = codec.decode(data)
            codec = self.array_bytes
            array = self.array_bytes.decode(data, specs[-1])
            _check_decoded(array, specs[-1], codec)
            for index in reversed(range(len(self.array_array))):
                codec = self.array_array[index]
                array = codec.decode(array, specs[index])
                _check_decoded(array, specs[index], codec)
        except Exception as e:
            assert codec is not None
            raise _translate(e, codec, "decode") from e
        return array


def _ignorable(entry: object) -> bool:
    """An unknown codec that says ``"must_understand": false`` (the v3 spec lets a reader skip it);
    it stays in the array's metadata, so writing the metadata back keeps it."""
    return (
        isinstance(entry, Mapping)
        and entry.get("must_understand") is False
        and entry.get("name") not in registered_codecs()
    )


def _check_decoded(array: Any, spec: ChunkSpec, codec: Codec) -> None:
    if not isinstance(array, np.ndarray) or array.shape != spec.shape or array.dtype != spec.dtype:
        got = f"{array.shape} {array.dtype}" if isinstance(array, np.ndarray) else type(array).__name__
        raise CorruptChunkError(f"decoded {got}, expected {spec.shape} {spec.dtype}", codec=codec.name)
