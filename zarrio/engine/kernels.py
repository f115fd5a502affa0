"""The synchronous half of the engine: what runs on worker threads.

The unit of I/O is a stored object: a chunk, or a shard with the inner chunks a
selection wants of it (:data:`Unit`). Its read plan comes from the codec
(:meth:`ChunkKernels.read_plan`); here are the placing of what a plan returns
into the output, the one merge-and-encode of a unit for writes (written through
:mod:`.writes`), and the jobs that read whole batches of units on a worker thread
for stores with blocking access (memory, local disk), through
:func:`~zarrio.engine.drivers.run_blocking`.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from ..codecs import ChunkSpec, CodecChain, ShardingCodec
from ..codecs.plan import Read, Runnable
from ..codecs.sharding import Parts
from ..errors import CodecError, CorruptChunkError, MissingChunkError, ResourceLimitError
from ..indexing import AxisChunks, ChunkProjection, IndexPlan, Members
from ..indexing.blocks import BlockMembers
from ..metadata.chunk_grids import ChunkGrid
from ..stores.blocking import BlockingAccess
from .drivers import run_blocking
from .fill_check import fill_key, fill_rows, is_fill
from .layout import VaryingLayout
from .placement import BLOCK_MEMBERS, batch_placer, direct_target, is_view_of, lend, scratch_buffer
from .shared_reads import SharedRead, SharedReads
from .whole_writes import encode_whole_chunks

__all__ = ["ChunkKernels", "Parts", "ShardMembers", "Unit"]

#: the projections that fall in one stored object, with their flat inner-chunk index (0 unsharded)
ShardMembers = Members
#: one stored object a read or write touches: its grid coordinates, its key and its members
Unit = tuple[tuple[int, ...], str, ShardMembers]


class ChunkKernels:
    """Chunk-level work for one array; every method is synchronous and thread-safe."""

    def __init__(
        self,
        *,
        shape: tuple[int, ...],
        chunk_shape: tuple[int, ...],
        dtype: np.dtype[Any],
        fill_value: Any,
        chain: CodecChain,
        chunk_key: Callable[[tuple[int, ...]], str],
        write_empty_chunks: bool,
        strict: bool,
        max_read_bytes: int,
        chunk_grid: ChunkGrid | None = None,
    ) -> None:
        """``chunk_grid``: a grid whose chunks vary (rectilinear); ``chunk_shape`` is then its largest chunk."""
        self.shape = shape
        self.chunk_shape = chunk_shape
        self.dtype = dtype
        self.fill_value = fill_value
        self.chain = chain
        self.chunk_key = chunk_key
        self.write_empty_chunks = write_empty_chunks
        self.strict = strict
        self.max_read_bytes = max_read_bytes
        self.spec = ChunkSpec(chunk_shape, dtype, fill_value)
        sharding = chain.sharding
        self.sharding = sharding if isinstance(sharding, ShardingCodec) else None
        if self.sharding is not None:
            self.inner_shape = tuple(self.sharding.chunk_shape)
            self.chunks_per_shard = tuple(self.sharding.chunks_per_shard(chunk_shape))
            self.inner_spec = self.sharding.inner_spec(self.spec)
        #: chunks (or shards) of their own sizes; None for one chunk shape, the fast path
        self.layout: VaryingLayout | None = None
        if chunk_grid is not None and chunk_grid.uniform_shape is None:
            self.layout = VaryingLayout(chunk_grid, chain, self.spec, self.sharding)
        #: whether each chunk decodes with its own spec (unsharded varying chunks)
        self._varying_units = self.layout is not None and self.sharding is None
        self.shared_reads = SharedReads()
        self._fill_keys: dict[np.dtype[Any], Any] = {}
        self._whole_read = Read.whole(max_read_bytes)
        chain_of_unit, spec_of_unit = self._unit
        #: the most bytes decoding one unit holds at once (checked against max_read_bytes per read)
        self._unit_peak_bytes = chain_of_unit.largest_nbytes(spec_of_unit)
        #: the encoded size of every stored chunk when the codecs fix it (``bytes`` alone, ...)
        fixed = None if self._varying_units else chain_of_unit.compute_encoded_size(spec_of_unit)
        self._fixed_unit_size = fixed
        #: the size a stored object most likely has at most (its decoded size plus a compressor's
        #: worst expansion), what a blocking whole-value read asks for first; at most 64 KiB, as
        #: asking for 1 MiB costs a 1 MiB allocation (165 µs, against 14 for fstat and pread)
        self.read_hint = min(chain.largest_nbytes(self.spec) * 65 // 64 + 512, 1 << 16)

    @property
    def plan_chunks(self) -> tuple[AxisChunks, ...]:
        """What selections are planned on, per axis: inner chunks for sharded arrays (always
        regular), else the chunk size or, for varying chunks, their boundaries."""
        if self.layout is not None and self.sharding is None:
            return self.layout.axes
        return self.read_chunk_shape

    def grid_shape_of(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """How many stored objects (chunks, or shards) an array of ``shape`` spans per axis."""
        if self.layout is not None:
            return self.layout.grid.grid_shape(shape)
        return tuple(-(-s // c) for s, c in zip(shape, self.chunk_shape, strict=True))

    def chunk_codec(self, coords: tuple[int, ...]) -> tuple[CodecChain, ChunkSpec]:
        """The chain and spec of the stored chunk ``coords`` (unsharded arrays)."""
        return (self.chain, self.spec) if self.layout is None else self.layout.unit(coords)

    def shard_cps(self, shard: tuple[int, ...]) -> tuple[int, ...]:
        """How many inner chunks shard ``shard`` holds along each axis (sharded arrays)."""
        return self.chunks_per_shard if self.layout is None else self.layout.chunks_per_shard(shard)

    @property
    def read_chunk_shape(self) -> tuple[int, ...]:
        """The grid selections are planned on: inner chunks for sharded arrays."""
        return self.inner_shape if self.sharding is not None else self.chunk_shape

    @property
    def _unit(self) -> tuple[CodecChain, ChunkSpec]:
        """The chain and spec of the unit that is decoded on its own (an inner chunk when sharded)."""
        if self.sharding is not None:
            return self.sharding.inner, self.inner_spec
        return self.chain, self.spec

    # ------------------------------------------------------------ units and their plans
    def units(self, p: IndexPlan) -> list[Unit]:
        """The stored objects a planned selection touches, each with its members."""
        return list(self.iter_units(p))

    def iter_units(self, p: IndexPlan) -> Iterator[Unit]:
        """:meth:`units` as they are planned: a unit's members are built when it is reached."""
        if self.sharding is None:
            return self.plain_units(p)
        if self.layout is not None:
            return iter(self.layout.group(p, self.chunk_key))
        return self.shard_units(p)

    def shard_units(self, p: IndexPlan) -> Iterator[Unit]:
        """The shards a sharded array's planned selection touches (one chunk shape), shard by shard."""
        key, cps = self.chunk_key, self.chunks_per_shard
        if type(p) is IndexPlan:  # grouped per axis (see IndexPlan.by_block)
            for shard, members in p.by_block(cps):
                yield shard, key(shard), members
            return
        strides = [math.prod(cps[i + 1 :]) for i in range(len(cps))]  # C order within the shard
        groups: dict[tuple[int, ...], list[tuple[int, ChunkProjection]]] = {}
        for proj in p:  # a plan that makes its own projections (points): grouped chunk by chunk
            coords = proj.coords
            shard = tuple(map(operator.floordiv, coords, cps))
            flat = sum(map(operator.mul, map(operator.mod, coords, cps), strides))
            groups.setdefault(shard, []).append((flat, proj))
        for shard, members in groups.items():
            yield shard, key(shard), members

    def plain_units(self, p: IndexPlan) -> Iterator[Unit]:
        """The chunks an unsharded array's planned selection touches, as they are planned."""
        key = self.chunk_key
        for proj in p:
            coords = proj.coords
            yield coords, key(coords), [(0, proj)]

    def read_plan(self, key: str, members: ShardMembers, *, recheck: bool) -> Runnable[Any]:
        """The codec's plan for reading ``members`` of the object under ``key``; what it returns
        becomes the unit's parts through :meth:`parts_of`. A plain chunk's plan is its whole value,
        the one ``Read`` shared by every plan of the array."""
        if self.sharding is None:
            return self._whole_read

        def check_part(nbytes: int) -> None:
            self.check_stored_size(nbytes, key)

        cps = self.chunks_per_shard if self.layout is None else self.layout.members_cps(members)
        wanted = members.flats() if isinstance(members, BlockMembers) else sorted({flat for flat, _ in members})
        limit = self.max_read_bytes
        return self.sharding.read_plan(cps, wanted, limit=limit, check_part=check_part, recheck=recheck, picks=members)

    def parts_of(self, key: str, result: Any) -> Parts | None:
        """A unit's stored chunks by flat index (None: missing) from what its plan returned: a
        shard's plan returns them, a plain chunk's returns the stored bytes (checked here)."""
        if self.sharding is not None or result is None:
            parts: Parts | None = result
            return parts
        self.check_stored_size(len(result), key)
        return {0: result}

    # ------------------------------------------------------------ reading
    def fill(self, out: np.ndarray[Any, Any], proj: ChunkProjection, key: str) -> None:
        if self.strict:
            raise MissingChunkError("chunk is missing (strict mode)", key=key)
        out[proj.out_index()] = self.fill_value

    def check_stored_size(self, nbytes: int, key: str) -> None:
        """Refuse a stored chunk larger than the memory limit, or (codecs with a fixed encoded
        size) of any other size than that."""
        if nbytes > self.max_read_bytes:
            raise ResourceLimitError(
                f"a stored object of {nbytes} bytes exceeds the limit of {self.max_read_bytes} bytes (max_read_bytes)",
            )
        fixed = self._fixed_unit_size
        if fixed is not None and nbytes != fixed:
            chain = self._unit[0]
            outermost = chain.bytes_bytes[-1] if chain.bytes_bytes else chain.array_bytes
            raise CorruptChunkError(
                f"expected {fixed} bytes, got {nbytes} (checked before decoding)", key=key, codec=outermost.name
            )

    def place(self, out: np.ndarray[Any, Any], data: Any, proj: ChunkProjection, key: str) -> None:
        """Decode one chunk's bytes (None: missing) into its place in ``out``."""
        if data is None:
            self.fill(out, proj, key)
            return
        chain, spec = self.layout.unit(proj.coords) if self._varying_units else self._unit  # type: ignore[union-attr]
        target = direct_target(out, proj, chain, spec)
        scratch = scratch_buffer if target is None else lend(target, scratch_buffer)
        try:
            chunk = chain.decode(data, spec, scratch=scratch)
        except CodecError as e:
            raise e.with_key(key) from e.__cause__
        if target is not None and is_view_of(chunk, target):
            return  # decompressed straight into the output
        out[proj.out_index()] = chunk[proj.chunk_index()]  # copies out of the scratch buffer before its reuse

    def place_many(self, out: np.ndarray[Any, Any], items: Sequence[tuple[Any, ChunkProjection, str]]) -> None:
        for data, proj, key in items:
            self.place(out, data, proj, key)

    def place_unit(self, out: np.ndarray[Any, Any], parts: Parts | None, members: ShardMembers, key: str) -> None:
        for flat, proj in members:
            self.place(out, None if parts is None else parts.get(flat), proj, key)

    # ------------------------------------------------------------ writing
    def inner_in_bounds(self, shard: tuple[int, ...]) -> list[bool]:
        """For each inner chunk of ``shard`` (C order): whether it holds any in-bounds element."""
        if self.layout is not None:
            return self.layout.inner_in_bounds(shard, self.shape)
        mask = np.ones((), dtype=bool)
        for s, n, c, size in zip(shard, self.chunks_per_shard, self.inner_shape, self.shape, strict=True):
            mask = np.logical_and.outer(mask, (s * n + np.arange(n)) * c < size)
        return [bool(x) for x in mask.ravel()]

    def needs_old(self, coords: tuple[int, ...], members: ShardMembers) -> bool:
        """Whether writing ``members`` must keep stored data they do not cover (a read-modify-write)."""
        if self.sharding is None:
            return not members[0][1].is_complete
        if isinstance(members, BlockMembers):
            covered = set(members.complete_flats())
        else:
            covered = {flat for flat, proj in members if proj.is_complete}
        return any(inside and flat not in covered for flat, inside in enumerate(self.inner_in_bounds(coords)))

    def stores_nothing(self, chunk: np.ndarray[Any, Any]) -> bool:
        """Whether writing ``chunk`` stores nothing: only fill values, and empty chunks are not written."""
        return False if self.write_empty_chunks else is_fill(chunk, self.fill_value, self._fill_key(chunk.dtype))

    def stores_nothing_many(self, chunks: np.ndarray[Any, Any]) -> list[bool]:
        """:meth:`stores_nothing` of each of ``chunks`` (``(n, *chunk_shape)``)."""
        if self.write_empty_chunks:
            return [False] * len(chunks)
        return fill_rows(chunks, self.fill_value, self._fill_key(chunks.dtype))

    def _fill_key(self, dtype: np.dtype[Any]) -> Any:
        """The fill value's key for :func:`is_fill` in ``dtype``, kept per dtype (None for objects)."""
        key = self._fill_keys.get(dtype)
        if key is None and dtype.kind != "O":
            key = self._fill_keys[dtype] = fill_key(self.fill_value, dtype)
        return key

    def _encode_or_none(self, chunk: np.ndarray[Any, Any], chain: CodecChain, spec: ChunkSpec) -> bytes | None:
        return None if self.stores_nothing(chunk) else chain.encode(chunk, spec)

    def merge(
        self, old: Any, proj: ChunkProjection, value: np.ndarray[Any, Any], chain: CodecChain, spec: ChunkSpec, key: str
    ) -> bytes | None:
        """Build one chunk (decoding ``old`` when the write covers it only partly) and encode it."""
        if proj.is_complete:
            part = value[(*proj.out_index(), ...)]  # an array also at rank 0 (an object array gives its element)
            if part.shape == spec.shape:  # an interior chunk: encode the caller's data as it is
                return self._encode_or_none(part, chain, spec)
            chunk = np.full(spec.shape, self.fill_value, dtype=spec.dtype)
        elif old is None:
            chunk = np.full(spec.shape, self.fill_value, dtype=spec.dtype)
        else:
            try:
                chunk = np.array(chain.decode(old, spec), dtype=spec.dtype, copy=True, order="C")
            except CodecError as e:
                raise e.with_key(key) from e.__cause__
        chunk[proj.chunk_index()] = value[proj.out_index()]
        return self._encode_or_none(chunk, chain, spec)

    def encode_unit(self, unit: Unit, value: np.ndarray[Any, Any], old: Any) -> bytes | None:
        """The new stored value of ``unit`` after writing ``value`` into its members (``old``: the
        stored value, when :meth:`needs_old`); None when nothing but fill values remain."""
        coords, key, members = unit
        if self.sharding is None:
            chain, spec = self.chunk_codec(coords)
            return self.merge(old, members[0][1], value, chain, spec, key)
        inner, spec = self._unit
        cps = self.shard_cps(coords)
        parts: list[Any] = [None] * math.prod(cps)
        if old is not None:
            try:  # kept inner chunks: views of the old shard, copied once by encode_shard
                parts = list(self.sharding.split_shard(old, cps))
            except CodecError as e:
                raise e.with_key(key) from e.__cause__
        rest = members
        if isinstance(members, BlockMembers) and len(members) >= BLOCK_MEMBERS and self.layout is None:
            rest = encode_whole_chunks(members, value, parts, inner, spec, self.stores_nothing_many)
        for flat, proj in rest:
            parts[flat] = self.merge(parts[flat], proj, value, inner, spec, key)
        return self.sharding.encode_shard(parts, cps)

    # ------------------------------------------------------------ blocking-store jobs
    def _read_blocking(self, access: BlockingAccess, key: str, members: ShardMembers) -> Parts | None:
        """Run one unit's plan through the store's blocking access."""
        try:
            result = run_blocking(self.read_plan(key, members, recheck=False), access, key, self.read_hint)
        except CodecError as e:
            raise e.with_key(key) from e.__cause__
        return self.parts_of(key, result)

    def _read_for_all(self, access: BlockingAccess, key: str, entry: SharedRead) -> None:
        """Read and decode one chunk once, and place it into every reader's output."""
        try:
            parts = self._read_blocking(access, key, [])
            data = None if parts is None else parts[0]
            if data is None:
                for out, proj in entry.targets:
                    self.fill(out, proj, key)
                return
            chain, spec = self.chunk_codec(entry.targets[0][1].coords)
            try:
                chunk = chain.decode(data, spec, scratch=scratch_buffer)
            except CodecError as e:
                raise e.with_key(key) from e.__cause__
            for out, proj in entry.targets:
                out[proj.out_index()] = chunk[proj.chunk_index()]
        except BaseException as e:
            entry.error = e
            raise
        finally:
            entry.targets = []  # let go of the other reads' outputs
            if entry.done is not None:
                entry.done.set()

    def read_units_job(
        self,
        access: BlockingAccess,
        out: np.ndarray[Any, Any],
        units: Iterable[Unit],
        shared: Sequence[SharedRead] | None,
    ) -> None:
        """Read, decode and place a batch of units.

        ``shared`` (unsharded arrays, from :meth:`SharedReads.join`): a chunk that other reads want
        too is read once by whichever worker takes it first; this job then waits, at its end,
        for the chunks other workers took (they are being read right now, never waiting on it).
        Without ``shared``, whole chunks are placed through a batch placer where one can batch."""
        taken_by_others: list[SharedRead] = []
        placer = None if shared is not None else batch_placer(out, *self._unit, self.layout is None)
        for i, (_, key, members) in enumerate(units):
            if shared is not None:
                entry = shared[i]
                if not self.shared_reads.take(entry):
                    taken_by_others.append(entry)
                    continue
                if len(entry.targets) > 1:
                    self._read_for_all(access, key, entry)
                    continue
                entry.targets = []  # its only reader is this job: nobody waits for it
            parts = self._read_blocking(access, key, members)
            if placer is None:
                self.place_unit(out, parts, members, key)
            else:
                placer.place_unit(parts, members, key, self.place)
        if placer is not None:
            placer.flush()
        for entry in taken_by_others:
            assert entry.done is not None  # taken by another job: at least two readers joined it
            entry.done.wait()
            if entry.error is not None:
                raise entry.error
