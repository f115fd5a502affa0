"""``sharding_indexed``: many inner chunks stored in one object, with an index of (offset, nbytes).

The codec is sans-I/O. Its :meth:`~ShardingCodec.read_plan` (see
:mod:`zarrio.codecs.plan`) says which bytes a read of some inner chunks needs:
the index (at the start or the end, checksummed), then the inner chunks' byte
ranges, and it returns their encoded bytes; the engine's drivers run the plan
against a store and decode the inner chunks. :meth:`encode` and :meth:`decode`
handle whole shards.

The index is ``prod(chunks_per_shard)`` pairs of uint64 ``(offset, nbytes)`` in C
order of the inner chunk coordinates, encoded with ``index_codecs``; a pair of
``2**64 - 1`` marks a missing inner chunk.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import numpy as np

from ..errors import CodecError, CorruptChunkError, MetadataError, ObjectChangedError
from ._config import config_choice, fail, reject_unknown_keys
from .base import JSON, ArrayBytesCodec, Buffer, ChunkSpec, Codec, codec_from_json, register_codec
from .bytes import BytesCodec
from .chain import CodecChain
from .crc32c import Crc32cCodec
from .fill import fill_only_blocks, filled
from .plan import Plan, Read

__all__ = ["MISSING", "MISSING_VALUE", "ShardingCodec"]

MISSING_VALUE = 2**64 - 1
MISSING = np.uint64(MISSING_VALUE)
IndexLocation = Literal["start", "end"]
CodecsArgument = Sequence[JSON | Codec]


def _default_index_codecs() -> list[Codec]:
    return [BytesCodec(endian="little"), Crc32cCodec()]


def _build(codecs: CodecsArgument) -> tuple[Codec, ...]:
    if isinstance(codecs, str | bytes) or not isinstance(codecs, Sequence):
        fail("sharding_indexed", f"codecs must be a list, got {codecs!r}")
    return tuple(codec_from_json(entry) for entry in codecs)


def _codec_json(codecs: Sequence[Codec]) -> list[JSON]:
    return [codec.to_json() for codec in codecs]


#: stands for a shard size that is not known (entries are then checked for overlaps only)
_UNKNOWN_SIZE = 2**63
#: decoded indexes remembered per codec, by their exact bytes (a shard read again skips the checks)
_DECODED_INDEXES_KEPT = 4096

#: the encoded bytes of a shard's inner chunks by flat (C order) index; None: missing
Parts = dict[int, "Buffer | None"]


def _runs(flat: Sequence[int]) -> int:
    """How many runs of adjacent numbers ``flat`` (sorted) holds: about the requests its ranges need."""
    return 1 + sum(1 for before, after in itertools.pairwise(flat) if after != before + 1) if flat else 0


@register_codec("sharding_indexed")
class ShardingCodec(ArrayBytesCodec):
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

    def _index_chain(self, chunks_per_shard: tuple[int, ...]) -> CodecChain:
        chain = self._index_chains.get(chunks_per_shard)
        if chain is None:
            spec = ChunkSpec((*chunks_per_shard, 2), np.dtype(np.uint64), MISSING)
            chain = CodecChain.from_json(self.index_codecs, spec)
            self._index_chains[chunks_per_shard] = chain
        return chain

    # -- the index ---------------------------------------------------------------------------------------

    def index_nbytes(self, chunks_per_shard: Sequence[int]) -> int:
        cps = tuple(chunks_per_shard)
        size = self._index_sizes.get(cps)
        if size is None:
            size = self._index_chain(cps).compute_encoded_size()
            if size is None:
                raise MetadataError("sharding index_codecs must have a fixed encoded size", field="codecs")
            self._index_sizes[cps] = size
        return size

    def index_range(self, chunks_per_shard: Sequence[int], shard_nbytes: int) -> tuple[int, int]:
        """``(offset, length)`` of the index inside a shard of ``shard_nbytes`` bytes."""
        length = self.index_nbytes(chunks_per_shard)
        return (0, length) if self.index_location == "start" else (shard_nbytes - length, length)

    def decode_index(
        self, data: Buffer, chunks_per_shard: Sequence[int], shard_nbytes: int | None = None
    ) -> np.ndarray[Any, Any]:
        """The index as uint64 ``(*chunks_per_shard, 2)``; with ``shard_nbytes``, entries are checked
        to lie inside the shard, outside the index and not to overlap each other."""
        cps = tuple(chunks_per_shard)
        expected = self.index_nbytes(cps)
        actual = memoryview(data).nbytes
        if actual != expected:
            raise CorruptChunkError(f"shard index is {actual} bytes, expected {expected}", codec=self.name)
        memo = (bytes(data), shard_nbytes, cps)
        known = self._decoded.get(memo)
        if known is not None:  # keyed by content: never a stale index
            return known
        index = self._index_chain(cps).decode(data)
        pairs = index.reshape(-1, 2)
        half_missing = (pairs[:, 0] == MISSING) != (pairs[:, 1] == MISSING)
        if half_missing.any():
            message = "shard index entry is half missing (one of offset, nbytes is 2**64-1)"
            raise CorruptChunkError(message, codec=self.name)
        # without the shard's size, check what can be: entries after a leading index, and no overlaps
        self._check_index(index, shard_nbytes if shard_nbytes is not None else _UNKNOWN_SIZE, expected)
        index.flags.writeable = False
        if len(self._decoded) >= _DECODED_INDEXES_KEPT:
            self._decoded.clear()
        self._decoded[memo] = index
        return index

    def _check_index(self, index: np.ndarray[Any, Any], shard_nbytes: int, index_nbytes: int) -> None:
        pairs = index.reshape(-1, 2)
        offsets, lengths = pairs[:, 0], pairs[:, 1]
        missing = (offsets == MISSING) & (lengths == MISSING)
        offsets, lengths = offsets[~missing], lengths[~missing]
        if not offsets.size:
            return
        if shard_nbytes < index_nbytes:
            raise CorruptChunkError(f"a shard of {shard_nbytes} bytes cannot hold its index", codec=self.name)
        data_start = index_nbytes if self.index_location == "start" else 0
        data_end = shard_nbytes if self.index_location == "start" else shard_nbytes - index_nbytes
        if shard_nbytes == _UNKNOWN_SIZE:
            data_end = _UNKNOWN_SIZE
        # uint64 arithmetic cannot overflow here: offsets are compared before being added to lengths
        inside = (offsets >= data_start) & (offsets <= data_end) & (lengths <= np.uint64(data_end) - offsets)
        if not inside.all():
            bad = int(np.flatnonzero(~inside)[0])
            raise CorruptChunkError(
                f"shard index entry (offset {offsets[bad]}, nbytes {lengths[bad]}) lies outside the data "
                f"region [{data_start}, {data_end}) of a {shard_nbytes}-byte shard",
                codec=self.name,
            )
        order = np.argsort(offsets, kind="stable")
        starts, ends = offsets[order], offsets[order] + lengths[order]
        if (starts[1:] < ends[:-1]).any():
            raise CorruptChunkError("shard index entries overlap", codec=self.name)

    @staticmethod
    def entry(index: np.ndarray[Any, Any], coords: Sequence[int]) -> tuple[int, int] | None:
        """``(offset, nbytes)`` of the inner chunk at ``coords`` in a decoded index, None when missing."""
        offset, nbytes = (int(value) for value in index[tuple(coords)])
        if offset == MISSING_VALUE and nbytes == MISSING_VALUE:
            return None
        return offset, nbytes

    def split_shard(self, data: Buffer, chunks_per_shard: Sequence[int]) -> list[memoryview | None]:
        """The encoded inner chunks of a whole shard in C order (None = missing), index checked.

        With :meth:`encode_shard` this rewrites a few inner chunks of a shard without re-encoding the others.
        """
        cps = tuple(chunks_per_shard)
        view = memoryview(data).cast("B")
        start, length = self.index_range(cps, view.nbytes)
        if start < 0:
            raise CorruptChunkError(
                f"shard of {view.nbytes} bytes is shorter than its {length}-byte index", codec=self.name
            )
        index = self.decode_index(view[start : start + length], cps, shard_nbytes=view.nbytes)
        return [
            None if offset == MISSING_VALUE else view[offset : offset + nbytes]
            for offset, nbytes in index.reshape(-1, 2).tolist()
        ]

    # -- the read plan ---------------------------------------------------------------------------------

    def _index_read(self, cps: tuple[int, ...], followed_by: int) -> Read:
        length = self.index_nbytes(cps)
        if self.index_location == "start":
            return Read.range(0, length, cacheable=True, followed_by=followed_by)
        return Read.suffix(length, cacheable=True, followed_by=followed_by)

    def read_plan(
        self,
        chunks_per_shard: Sequence[int],
        wanted: Sequence[int],
        *,
        limit: int,
        check_part: Callable[[int], None],
        recheck: bool,
    ) -> Plan[Parts | None]:
        """The plan of reading the inner chunks ``wanted`` (sorted flat indexes) of one shard.

        All of them: the whole shard in one read (at most ``limit`` bytes). Some: the
        index, then their byte ranges in one batch; ``check_part(nbytes)`` may refuse
        an inner chunk before it is read. With ``recheck`` (stores that do not pin the
        version of a value across reads) the index is read again after the data, and a
        changed index is an ObjectChangedError. Returns the encoded inner chunks (None:
        missing), or None when the shard is missing.
        """
        cps = tuple(chunks_per_shard)
        if len(wanted) == math.prod(cps):
            shard = yield Read.whole(limit, fetch_bounded=False)  # one plain read of the shard
            return None if shard is None else dict(enumerate(self.split_shard(shard, cps)))
        index_read = self._index_read(cps, followed_by=_runs(wanted))
        found = yield index_read
        if found is None:
            return None
        raw, size = (found[0], found[1]) if index_read.kind == "suffix" else (found, None)
        index = self.decode_index(raw, cps, shard_nbytes=size).reshape(-1, 2)
        parts: Parts = dict.fromkeys(wanted)
        present = [flat for flat in wanted if index[flat, 0] != MISSING]
        if not present:
            return parts
        ranges = tuple((int(index[flat, 0]), int(index[flat, 1])) for flat in present)
        for _, length in ranges:
            check_part(length)
        blobs = yield Read.of_ranges(ranges)
        if blobs is None:
            return None  # the shard went away after its index was read
        for flat, (_, length), blob in zip(present, ranges, blobs, strict=True):
            if len(blob) != length:
                raise CorruptChunkError(
                    f"inner chunk {flat} of the shard: expected {length} bytes, got {len(blob)}", codec=self.name
                )
            parts[flat] = blob
        if recheck:
            again = yield Read(index_read.kind, index_read.offset, index_read.length)  # fresh, never cached
            raw_again = None if again is None else (again[0] if index_read.kind == "suffix" else again)
            if raw_again is None or bytes(raw_again) != bytes(raw):
                raise ObjectChangedError("the shard changed while it was being read")
        return parts

    # -- whole shards ------------------------------------------------------------------------------------

    def encode_shard(self, parts: Sequence[Buffer | None], chunks_per_shard: Sequence[int]) -> bytes | None:
        """Assemble encoded inner chunks (C order, ``None`` = missing) and the index; None when all are missing."""
        cps = tuple(chunks_per_shard)
        if len(parts) != math.prod(cps):
            raise CodecError(f"{len(parts)} inner chunks given for a {cps} shard", codec=self.name)
        if all(part is None for part in parts):
            return None
        index = np.full((len(parts), 2), MISSING, dtype=np.uint64)
        position = self.index_nbytes(cps) if self.index_location == "start" else 0
        for number, part in enumerate(parts):
            if part is not None:
                size = memoryview(part).nbytes
                index[number] = (position, size)
                position += size
        index_bytes = self._index_chain(cps).encode(index.reshape(*cps, 2))
        pieces = [part for part in parts if part is not None]
        # one join, one copy of every part: the index goes in as just another piece
        return b"".join([index_bytes, *pieces] if self.index_location == "start" else [*pieces, index_bytes])

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
            shard = self._encode_empty(cps)
        return shard

    def _encode_empty(self, cps: tuple[int, ...]) -> bytes:
        return self._index_chain(cps).encode(np.full((*cps, 2), MISSING, dtype=np.uint64))

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
