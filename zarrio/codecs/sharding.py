"""``sharding_indexed``: many inner chunks stored in one object, with an index of (offset, nbytes).

The codec is sans-I/O and lives in three modules: this one (configuration, and
encoding and decoding whole shards), :mod:`._shard_index` (where the index lies,
parsing and checking it, splitting and assembling a whole shard) and
:mod:`._shard_plan` (the read plan, see :mod:`zarrio.codecs.plan`: the index,
then the inner chunks' byte ranges; nested inner shards through their own plans).
The engine's drivers run the plan against a store and decode the inner chunks.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import CodecError, MetadataError
from ._config import config_choice, fail, reject_unknown_keys
from ._shard_index import MISSING, MISSING_VALUE, IndexLocation, Parts, ShardIndex
from ._shard_plan import PartialShard, Pick, nested_wants, shard_plan
from .base import JSON, ArrayBytesCodec, Buffer, ChunkSpec, Codec, codec_from_json, register_codec
from .bytes import BytesCodec
from .chain import CodecChain
from .crc32c import Crc32cCodec
from .fill import fill_only_blocks, filled
from .plan import Plan

__all__ = ["MISSING", "MISSING_VALUE", "PartialShard", "Parts", "ShardingCodec"]

CodecsArgument = Sequence[JSON | Codec]


def _default_index_codecs() -> list[Codec]:
    return [BytesCodec(endian="little"), Crc32cCodec()]


def _build(codecs: CodecsArgument) -> tuple[Codec, ...]:
    if isinstance(codecs, str | bytes) or not isinstance(codecs, Sequence):
        fail("sharding_indexed", f"codecs must be a list, got {codecs!r}")
    return tuple(codec_from_json(entry) for entry in codecs)


def _codec_json(codecs: Sequence[Codec]) -> list[JSON]:
    return [codec.to_json() for codec in codecs]


@register_codec("sharding_indexed")
class ShardingCodec(ShardIndex, ArrayBytesCodec):
    holds_inner_chunks = True

    def __init__(
        self,
        chunk_shape: Sequence[int],
        codecs: CodecsArgument | None = None,
        index_codecs: CodecsArgument | None = None,
        index_location: IndexLocation = "end",
    ) -> None:
        if isinstance(chunk_shape, str | bytes) or not isinstance(chunk_shape, Sequence):
            fail("sharding_indexed", f"chunk_shape must be a list of integers, got {chunk_shape!r}")
        if not all(isinstance(size, int) and not isinstance(size, bool) and size > 0 for size in chunk_shape):
            fail("sharding_indexed", f"chunk_shape must hold positive integers, got {list(chunk_shape)!r}")
        self.chunk_shape: tuple[int, ...] = tuple(chunk_shape)
        self.codecs: tuple[Codec, ...] = _build(codecs if codecs is not None else [BytesCodec(endian="little")])
        self.index_codecs: tuple[Codec, ...] = _build(
            index_codecs if index_codecs is not None else _default_index_codecs()
        )
        self.index_location: IndexLocation = config_choice(  # type: ignore[assignment]
            "sharding_indexed", "index_location", index_location, ("start", "end")
        )
        self._inner: CodecChain | None = None
        self._index_chains: dict[tuple[int, ...], CodecChain] = {}
        self._index_sizes: dict[tuple[int, ...], int] = {}
        self._decoded: dict[tuple[bytes, int | None, tuple[int, ...]], np.ndarray[Any, Any]] = {}

    @classmethod
    def from_config(cls, configuration: Mapping[str, JSON]) -> ShardingCodec:
        reject_unknown_keys(
            "sharding_indexed", configuration, {"chunk_shape", "codecs", "index_codecs", "index_location"}
        )
        for key in ("chunk_shape", "codecs"):
            if key not in configuration:
                fail("sharding_indexed", f"configuration needs {key!r}")
        return cls(
            chunk_shape=configuration["chunk_shape"],
            codecs=configuration["codecs"],
            index_codecs=configuration.get("index_codecs"),
            index_location=configuration.get("index_location", "end"),
        )

    def to_json(self) -> dict[str, JSON]:
        codecs = self._inner.to_json() if self._inner is not None else _codec_json(self.codecs)
        return {
            "name": "sharding_indexed",
            "configuration": {
                "chunk_shape": list(self.chunk_shape),
                "codecs": codecs,
                "index_codecs": _codec_json(self.index_codecs),
                "index_location": self.index_location,
            },
        }

    # -- set-up ------------------------------------------------------------------------------------------

    def chunks_per_shard(self, shard_shape: Sequence[int]) -> tuple[int, ...]:
        if len(shard_shape) != len(self.chunk_shape):
            raise MetadataError(
                f"sharding chunk_shape {list(self.chunk_shape)} does not match the shard rank {len(shard_shape)}",
                field="codecs",
            )
        if any(size % inner for size, inner in zip(shard_shape, self.chunk_shape, strict=True)):
            raise MetadataError(
                f"shard shape {list(shard_shape)} is not divisible by the inner chunk shape {list(self.chunk_shape)}",
                field="codecs",
            )
        return tuple(size // inner for size, inner in zip(shard_shape, self.chunk_shape, strict=True))

    def inner_spec(self, shard_spec: ChunkSpec) -> ChunkSpec:
        return shard_spec.with_shape(self.chunk_shape)

    def validate(self, spec: ChunkSpec) -> None:
        self.chunks_per_shard(spec.shape)
        chain = self._index_chain(self.chunks_per_shard(spec.shape))
        if chain.compute_encoded_size() is None:
            raise MetadataError("sharding index_codecs must have a fixed encoded size", field="codecs")

    def evolve(self, spec: ChunkSpec) -> ShardingCodec:
        self.chunks_per_shard(spec.shape)
        evolved = ShardingCodec(self.chunk_shape, self.codecs, self.index_codecs, self.index_location)
        evolved._inner = CodecChain.from_json(self.codecs, self.inner_spec(spec))
        return evolved

    @property
    def inner(self) -> CodecChain:
        """The inner chunks' codec chain; available once the codec is evolved for a shard spec."""
        if self._inner is None:
            raise CodecError("the sharding codec has not been set up for a data type (call evolve)", codec=self.name)
        return self._inner

    def _inner_chain(self, shard_spec: ChunkSpec) -> CodecChain:
        inner_spec = self.inner_spec(shard_spec)
        if self._inner is not None and self._inner.spec.dtype == inner_spec.dtype:
            return self._inner
        return CodecChain.from_json(self.codecs, inner_spec)

    # -- the read plan ---------------------------------------------------------------------------------

    def read_plan(
        self,
        chunks_per_shard: Sequence[int],
        wanted: Sequence[int],
        *,
        limit: int,
        check_part: Callable[[int], None],
        recheck: bool,
        size: int | None = None,
        picks: Sequence[tuple[int, Pick]] = (),
    ) -> Plan[Parts | None]:
        """The plan of reading the inner chunks ``wanted`` (sorted flat indexes) of one shard.

        All of them: the whole shard in one read (at most ``limit`` bytes). Some: the
        index, then their byte ranges in one batch; ``check_part(nbytes)`` may refuse
        an inner chunk before it is read. With ``recheck`` (stores that do not pin the
        version of a value across reads) the index is read again after the data, and a
        changed index is an ObjectChangedError. Returns the encoded inner chunks (None:
        missing), or None when the shard is missing.

        ``picks`` (flat index, what is wanted of it) lets a nested read fetch only the
        inner chunks of an inner shard that a selection touches (see :mod:`._shard_plan`);
        ``size`` is the shard's size when the caller knows it.
        """
        nested = None
        inner = self._inner.sharding if self._inner is not None and picks else None
        if isinstance(inner, ShardingCodec):
            nested = nested_wants(inner, self.chunk_shape, inner.chunk_shape, picks)
        return shard_plan(
            self,
            tuple(chunks_per_shard),
            wanted,
            limit=limit,
            check_part=check_part,
            recheck=recheck,
            size=size,
            nested=nested,
        )

    # -- whole shards ------------------------------------------------------------------------------------

    def inner_region(self, coords: Sequence[int]) -> tuple[slice, ...]:
        """The part of the shard covered by the inner chunk at ``coords``."""
        return tuple(slice(c * size, (c + 1) * size) for c, size in zip(coords, self.chunk_shape, strict=True))

    def inner_block(self, coords: Sequence[int]) -> tuple[Any, ...]:
        """``inner_region`` and an Ellipsis: the inner chunk as an array view even in a rank-0 shard
        (``shard[()]`` is the element itself, and assigning a 0-d object array to it stores the array)."""
        return (*self.inner_region(coords), Ellipsis)

    def encode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> bytes:
        """A full shard; inner chunks holding only the fill value are left out."""
        if chunk.shape != spec.shape:
            raise CodecError(f"shard of shape {chunk.shape} does not match {spec.shape}", codec=self.name)
        cps = self.chunks_per_shard(spec.shape)
        inner = self._inner_chain(spec)
        inner_spec = self.inner_spec(spec)
        empty = fill_only_blocks(chunk, spec.fill_value, self.chunk_shape, cps)
        parts: list[bytes | None] = []
        for coords in itertools.product(*(range(n) for n in cps)):
            if empty[coords]:
                parts.append(None)
            else:
                parts.append(inner.encode(chunk[self.inner_block(coords)], inner_spec))
        shard = self.encode_shard(parts, cps)
        if shard is None:  # every inner chunk is empty: still a valid shard (an index of missing entries)
            shard = self.encode_empty(cps)
        return shard

    def decode(self, data: Buffer, spec: ChunkSpec) -> np.ndarray[Any, Any]:
        """A full shard; missing inner chunks read as the fill value. Works for nested sharding."""
        cps = self.chunks_per_shard(spec.shape)
        parts = self.split_shard(data, cps)
        inner = self._inner_chain(spec)
        inner_spec = self.inner_spec(spec)
        out = filled(spec)
        for coords, part in zip(itertools.product(*(range(n) for n in cps)), parts, strict=True):
            if part is not None:
                out[self.inner_block(coords)] = inner.decode(part, inner_spec)
        return out
