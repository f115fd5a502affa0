"""The stored objects of an array whose chunks vary in size (a rectilinear chunk grid).

Regular grids never come here: the kernels hold their one chunk shape, spec and chain. With
varying chunks every stored chunk has its own shape, so its own :class:`ChunkSpec` and codec
chain, built on demand once per distinct shape. A sharded array's shards vary but its inner
chunks do not: the sharding codec's chunk shape divides every edge (the zarr-extensions and
sharding specifications require it), so the inner chunks form a regular grid, reads are planned
on it as on any sharded array, and each shard has its own count of inner chunks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from ..codecs import ChunkSpec, CodecChain, ShardingCodec
from ..errors import MetadataError
from ..indexing import AxisChunks, ChunkProjection, axis_span, chunk_of
from ..metadata.chunk_grids import ChunkGrid

__all__ = ["VaryingLayout"]

#: the projections of one stored object with their flat inner-chunk index, and the object
Members = list[tuple[int, ChunkProjection]]
VaryingUnit = tuple[tuple[int, ...], str, Members]


class VaryingLayout:
    """Chunk shapes, specs and chains of a grid with varying chunks; shard geometry when sharded."""

    def __init__(self, grid: ChunkGrid, chain: CodecChain, spec: ChunkSpec, sharding: ShardingCodec | None) -> None:
        self.grid = grid
        self.axes: tuple[AxisChunks, ...] = grid.axis_chunks
        self._codecs = chain.codecs
        self._spec = spec
        self._units: dict[tuple[int, ...], tuple[CodecChain, ChunkSpec]] = {}
        self.sharding = sharding
        if sharding is None:
            return
        inner = sharding.chunk_shape
        for axis, size in enumerate(inner):
            odd = sorted(edge for edge in grid.distinct_edges(axis) if edge % size)
            if odd:
                raise MetadataError(
                    f"shard edge {odd[0]} on axis {axis} is not divisible by the inner chunk size {size} "
                    "(sharding_indexed chunk_shape)",
                    field="codecs",
                )
        #: per axis, the shards in units of inner chunks: a shard's count (regular) or boundaries (varying)
        self.inner_axes: tuple[AxisChunks, ...] = tuple(a // size for a, size in zip(self.axes, inner, strict=True))
        self.inner_shape = tuple(inner)

    # ------------------------------------------------------------ unsharded: one spec per chunk
    def unit(self, coords: tuple[int, ...]) -> tuple[CodecChain, ChunkSpec]:
        """The chain and spec of chunk ``coords`` (one of each per distinct chunk shape)."""
        shape = tuple(axis_span(axis, c)[1] for axis, c in zip(self.axes, coords, strict=True))
        found = self._units.get(shape)
        if found is None:
            spec = self._spec.with_shape(shape)
            found = self._units[shape] = (CodecChain.from_json(self._codecs, spec), spec)
        return found

    # ------------------------------------------------------------ sharded: shards of their own size
    def shard_of(self, inner: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The shard holding inner chunk ``inner`` and the inner chunk's place within it."""
        shard = []
        local = []
        for axis, c in zip(self.inner_axes, inner, strict=True):
            s = chunk_of(axis, c)
            shard.append(s)
            local.append(c - axis_span(axis, s)[0])
        return tuple(shard), tuple(local)

    def chunks_per_shard(self, shard: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(axis_span(axis, s)[1] for axis, s in zip(self.inner_axes, shard, strict=True))

    def members_cps(self, members: Sequence[tuple[int, ChunkProjection]]) -> tuple[int, ...]:
        """The inner-chunk counts of the shard that ``members`` (not empty) belong to."""
        return self.chunks_per_shard(self.shard_of(members[0][1].coords)[0])

    def inner_in_bounds(self, shard: tuple[int, ...], shape: tuple[int, ...]) -> list[bool]:
        """For each inner chunk of ``shard`` (C order): whether it holds any in-bounds element."""
        mask = np.ones((), dtype=bool)
        for axis, s, size, extent in zip(self.inner_axes, shard, self.inner_shape, shape, strict=True):
            first, count = axis_span(axis, s)
            mask = np.logical_and.outer(mask, (first + np.arange(count)) * size < extent)
        return [bool(x) for x in mask.ravel()]

    def group(self, projections: Iterable[ChunkProjection], key: Callable[[tuple[int, ...]], str]) -> list[Any]:
        """The shards the inner-chunk projections fall in, each with its members' flat indexes."""
        groups: dict[tuple[int, ...], Members] = {}
        for proj in projections:
            shard, local = self.shard_of(proj.coords)
            cps = self.chunks_per_shard(shard)
            flat = 0
            for i, n in zip(local, cps, strict=True):
                flat = flat * n + i
            groups.setdefault(shard, []).append((flat, proj))
        return [(shard, key(shard), members) for shard, members in groups.items()]
