"""The shard index of ``sharding_indexed``: where it lies, how it is parsed and checked, and
how a whole shard splits into (or is assembled from) its encoded inner chunks.

The index is ``prod(chunks_per_shard)`` pairs of uint64 ``(offset, nbytes)`` in C
order of the inner chunk coordinates, encoded with ``index_codecs``; a pair of
``2**64 - 1`` marks a missing inner chunk. Nothing else in zarrio parses it:
:class:`~zarrio.codecs.ShardingCodec` takes these methods from :class:`ShardIndex`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import numpy as np

from ..errors import CodecError, CorruptChunkError, MetadataError
from .base import Buffer, ChunkSpec, Codec
from .chain import CodecChain
from .plan import Read

__all__ = ["MISSING", "MISSING_VALUE", "IndexLocation", "Parts", "ShardIndex"]

MISSING_VALUE = 2**64 - 1
MISSING = np.uint64(MISSING_VALUE)
IndexLocation = Literal["start", "end"]

#: the encoded bytes of a shard's inner chunks by flat (C order) index; None: missing
Parts = dict[int, "Buffer | None"]

#: stands for a shard size that is not known (entries are then checked for overlaps only)
_UNKNOWN_SIZE = 2**63
#: decoded indexes remembered per codec, by their exact bytes (a shard read again skips the checks)
_DECODED_INDEXES_KEPT = 4096


class ShardIndex:
    """The index half of the sharding codec (a mixin: the codec sets the attributes below)."""

    name: ClassVar[str]
    index_codecs: tuple[Codec, ...]
    index_location: IndexLocation
    _index_chains: dict[tuple[int, ...], CodecChain]
    _index_sizes: dict[tuple[int, ...], int]
    _decoded: dict[tuple[bytes, int | None, tuple[int, ...]], np.ndarray[Any, Any]]

    def _index_chain(self, chunks_per_shard: tuple[int, ...]) -> CodecChain:
        chain = self._index_chains.get(chunks_per_shard)
        if chain is None:
            spec = ChunkSpec((*chunks_per_shard, 2), np.dtype(np.uint64), MISSING)
            chain = CodecChain.from_json(self.index_codecs, spec)
            self._index_chains[chunks_per_shard] = chain
        return chain

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

    def index_read(self, cps: tuple[int, ...], *, size: int | None = None, followed_by: int = 0) -> Read:
        """The read of the index of a shard (of ``size`` bytes when known: then never a suffix read)."""
        length = self.index_nbytes(cps)
        if self.index_location == "start":
            return Read.range(0, length, cacheable=True, followed_by=followed_by)
        if size is not None:
            return Read.range(max(0, size - length), min(size, length), cacheable=True, followed_by=followed_by)
        return Read.suffix(length, cacheable=True, followed_by=followed_by)

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
        # decoded from the key's copy of the index bytes: ``data`` is often a view of the whole
        # shard, and a kept index that viewed it would keep the shard's bytes alive with it
        index = self._index_chain(cps).decode(memo[0])
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

    def encode_empty(self, cps: tuple[int, ...]) -> bytes:
        """A shard of no inner chunks: an index of missing entries alone."""
        return self._index_chain(cps).encode(np.full((*cps, 2), MISSING, dtype=np.uint64))
