"""The synchronous half of the engine: what runs on worker threads.

Decoding chunks and placing them in the output, building and encoding chunks
and shards for writes, and — for stores with blocking access (memory, local
disk) — whole jobs that read, decode and place a batch of chunks in one
worker-thread call, taking a shard's index and inner chunks from one open
version of the shard.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..codecs import ChunkSpec, CodecChain, ShardingCodec
from ..errors import CodecError, CorruptChunkError, MissingChunkError, ResourceLimitError
from ..indexing import ChunkProjection
from ..stores.base import BlockingAccess

__all__ = ["ChunkKernels", "Parts", "ShardMembers", "is_fill"]

MISSING = np.uint64(2**64 - 1)
#: parsed shard indexes remembered per array (by content; see ChunkKernels.parse_index)
PARSED_INDEXES_KEPT = 4096

#: raw bytes of a shard's inner chunks by flat index (None: missing)
Parts = dict[int, "bytes | memoryview | None"]
#: the projections that fall in one shard, with their flat inner-chunk index
ShardMembers = list[tuple[int, ChunkProjection]]


class _ThreadScratch(threading.local):
    buffer: bytearray | None = None


_scratch_local = _ThreadScratch()


def _scratch(nbytes: int) -> memoryview:
    """A per-thread buffer of ``nbytes`` for decompressing one chunk before it is placed."""
    buffer = _scratch_local.buffer
    if buffer is None or len(buffer) < nbytes:
        buffer = _scratch_local.buffer = bytearray(nbytes)
    return memoryview(buffer)[:nbytes]


def _direct_target(
    out: np.ndarray[Any, Any], proj: ChunkProjection, chain: CodecChain, spec: ChunkSpec
) -> np.ndarray[Any, Any] | None:
    """The output region of a fully covered chunk when it is one contiguous block of memory and the
    chain's last decompression yields the chunk itself: no array->array codec (a transpose, a delta
    filter) reshapes or rewrites the bytes after it, so decoding into the region is the whole decode."""
    if not proj.is_complete or out.dtype.hasobject or chain.array_array:
        return None
    shape = spec.shape
    if out.ndim == len(shape) and shape and shape[0] > 1 and out.shape[1:] != shape[1:]:
        return None  # rows of the chunk are apart in the output: the common case of a large read, decided cheaply
    if not all(isinstance(s, slice) for s in proj.out_selection):
        return None
    region: np.ndarray[Any, Any] = out[(*proj.out_index(), ...)]  # a view, also for rank 0
    if region.shape != spec.shape or not region.flags.c_contiguous:
        return None
    return region


def _is_view_of(chunk: np.ndarray[Any, Any], target: np.ndarray[Any, Any]) -> bool:
    """Whether ``chunk`` is ``target`` itself: the same memory laid out the same way."""
    return (
        chunk.ctypes.data == target.ctypes.data
        and chunk.dtype == target.dtype
        and chunk.shape == target.shape
        and chunk.strides == target.strides
    )


def _lend(target: np.ndarray[Any, Any]) -> Callable[[int], memoryview]:
    def scratch(nbytes: int) -> memoryview:
        return target.reshape(-1).view(np.uint8).data if nbytes == target.nbytes else _scratch(nbytes)

    return scratch


def _same_bits(value: Any, fill: Any, dtype: np.dtype[Any]) -> bool:
    return np.asarray(value, dtype=dtype).tobytes() == np.asarray(fill, dtype=dtype).tobytes()


def is_fill(chunk: np.ndarray[Any, Any], fill: Any) -> bool:
    """Whether every element of ``chunk`` equals ``fill`` bit for bit (NaN == NaN, -0.0 != 0.0)."""
    if chunk.dtype == object:
        return all(x == fill for x in chunk.ravel())
    if chunk.size and not _same_bits(chunk.flat[0], fill, chunk.dtype):
        return False  # the common case, decided without scanning the chunk
    if chunk.dtype.kind in "fcSUVMm" or chunk.dtype.fields is not None:
        raw = np.ascontiguousarray(chunk).view(np.uint8).reshape(-1, chunk.dtype.itemsize)
        pattern = np.frombuffer(np.asarray(fill, dtype=chunk.dtype).tobytes(), dtype=np.uint8)
        return bool(np.all(raw == pattern))
    return bool(np.all(chunk == fill))


class SharedRead:
    """One chunk's read and decode, shared by the concurrent readers that asked for the
    chunk before the read began: the worker that takes it places the chunk into every
    reader's output at once (a reader that comes once it has begun reads on its own, so it
    never sees data older than its request)."""

    __slots__ = ("__weakref__", "done", "error", "started", "targets")

    def __init__(self) -> None:
        self.targets: list[tuple[np.ndarray[Any, Any], ChunkProjection]] = []
        self.started = False
        self.done = threading.Event()
        self.error: BaseException | None = None


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
    ) -> None:
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
        self.sharding: ShardingCodec | None = chain.sharding
        if self.sharding is not None:
            self.inner_shape = tuple(self.sharding.chunk_shape)
            self.chunks_per_shard = tuple(self.sharding.chunks_per_shard(chunk_shape))
            self.n_inner = math.prod(self.chunks_per_shard)
            self.inner_spec = self.sharding.inner_spec(self.spec)
            self.index_nbytes = self.sharding.index_nbytes(self.chunks_per_shard)
        #: key -> (index bytes, shard size, parsed index): see ``parse_index``
        self._parsed_indexes: dict[str, tuple[bytes, int | None, np.ndarray[Any, Any]]] = {}
        #: chunk key -> the read not yet begun that new readers of the chunk join (see ``share_reads``);
        #: an entry lives as long as a job that holds it
        self._shared_reads: weakref.WeakValueDictionary[str, SharedRead] = weakref.WeakValueDictionary()
        self._shared_lock = threading.Lock()

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

    # ------------------------------------------------------------ reading
    def fill(self, out: np.ndarray[Any, Any], proj: ChunkProjection, key: str) -> None:
        if self.strict:
            raise MissingChunkError("chunk is missing (strict mode)", key=key)
        out[proj.out_index()] = self.fill_value

    def check_stored_size(self, nbytes: int, key: str, *, whole_shard: bool = False) -> None:
        """Refuse a stored object before reading it: larger than the memory limit, or (codecs
        with a fixed encoded size) of any other size than that."""
        if nbytes > self.max_read_bytes:
            raise ResourceLimitError(
                f"a stored object of {nbytes} bytes exceeds the limit of {self.max_read_bytes} bytes (max_read_bytes)",
            )
        if whole_shard:
            return
        chain, spec = self._unit
        fixed = chain.compute_encoded_size(spec)
        if fixed is not None and nbytes != fixed:
            outermost = chain.bytes_bytes[-1] if chain.bytes_bytes else chain.array_bytes
            raise CorruptChunkError(
                f"expected {fixed} bytes, got {nbytes} (checked before reading)", key=key, codec=outermost.name
            )

    def place(self, out: np.ndarray[Any, Any], data: Any, proj: ChunkProjection, key: str) -> None:
        """Decode one chunk's bytes (None: missing) into its place in ``out``."""
        if data is None:
            self.fill(out, proj, key)
            return
        chain, spec = self._unit
        target = _direct_target(out, proj, chain, spec)
        scratch = _scratch if target is None else _lend(target)
        try:
            chunk = chain.decode(data, spec, scratch=scratch)
        except CodecError as e:
            raise e.with_key(key) from e.__cause__
        if target is not None and _is_view_of(chunk, target):
            return  # decompressed straight into the output
        out[proj.out_index()] = chunk[proj.chunk_index()]  # copies out of the scratch buffer before its reuse

    def place_many(self, out: np.ndarray[Any, Any], items: Sequence[tuple[Any, ChunkProjection, str]]) -> None:
        for data, proj, key in items:
            self.place(out, data, proj, key)

    # ------------------------------------------------------------ shards
    def parse_index(self, data: bytes | memoryview, key: str, shard_nbytes: int | None) -> np.ndarray[Any, Any]:
        """The decoded, checked index of one shard as ``(n_inner, 2)`` uint64.

        Parsed indexes are remembered by their exact bytes (and the shard's size): a
        shard read again whose index bytes are unchanged skips the checksum, the
        decoding and the checks. Keyed by content, it can never serve a stale index.
        """
        assert self.sharding is not None
        raw = bytes(data)
        known = self._parsed_indexes.get(key)
        if known is not None and known[0] == raw and known[1] == shard_nbytes:
            return known[2]
        try:
            index = self.sharding.decode_index(raw, self.chunks_per_shard, shard_nbytes)
        except CodecError as e:
            raise e.with_key(key) from e.__cause__
        index = index.reshape(-1, 2)
        index.flags.writeable = False
        if len(self._parsed_indexes) >= PARSED_INDEXES_KEPT:
            self._parsed_indexes.clear()
        self._parsed_indexes[key] = (raw, shard_nbytes, index)
        return index

    def index_location(self, shard_nbytes: int) -> int:
        """Where a shard's index starts."""
        assert self.sharding is not None
        return 0 if self.sharding.index_location == "start" else shard_nbytes - self.index_nbytes

    def split_shard(self, data: bytes | memoryview, key: str) -> Parts:
        """A whole shard's bytes -> the raw bytes of each inner chunk."""
        n = self.index_nbytes
        if len(data) < n:
            raise CorruptChunkError(f"shard of {len(data)} bytes is shorter than its index ({n} bytes)", key=key)
        view = memoryview(data)
        start = self.index_location(len(data))
        index = self.parse_index(view[start : start + n], key, len(data))
        return {
            flat: None if off == MISSING else view[int(off) : int(off) + int(length)]
            for flat, (off, length) in enumerate(index)
        }

    def inner_in_bounds(self, shard: tuple[int, ...]) -> list[bool]:
        """For each inner chunk of ``shard`` (C order): whether it holds any in-bounds element."""
        mask = np.ones((), dtype=bool)
        for s, n, c, size in zip(shard, self.chunks_per_shard, self.inner_shape, self.shape, strict=True):
            mask = np.logical_and.outer(mask, (s * n + np.arange(n)) * c < size)
        return [bool(x) for x in mask.ravel()]

    def shard_needs_old(self, shard: tuple[int, ...], members: ShardMembers) -> bool:
        """Whether writing ``members`` into ``shard`` must keep inner chunks it does not cover."""
        covered = {flat for flat, proj in members if proj.is_complete}
        return any(inside and flat not in covered for flat, inside in enumerate(self.inner_in_bounds(shard)))

    # ------------------------------------------------------------ writing
    def _encode_or_none(self, chunk: np.ndarray[Any, Any], chain: CodecChain, spec: ChunkSpec) -> bytes | None:
        if not self.write_empty_chunks and is_fill(chunk, self.fill_value):
            return None
        return chain.encode(chunk, spec)

    def merge(
        self, old: Any, proj: ChunkProjection, value: np.ndarray[Any, Any], chain: CodecChain, spec: ChunkSpec, key: str
    ) -> bytes | None:
        """Build one chunk (decoding ``old`` when the write covers it only partly) and encode it."""
        if proj.is_complete:
            part = value[proj.out_index()]
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

    def build_shard(
        self, shard: tuple[int, ...], members: ShardMembers, value: np.ndarray[Any, Any], old: Parts | None, key: str
    ) -> bytes | None:
        """Assemble one shard from new inner chunks and the kept raw bytes of the others."""
        assert self.sharding is not None
        inner, spec = self._unit
        parts: list[bytes | memoryview | None] = [None] * self.n_inner
        if old is not None:
            for flat, blob in old.items():
                parts[flat] = blob  # kept inner chunks: views of the old shard, copied once by encode_shard
        for flat, proj in members:
            parts[flat] = self.merge(parts[flat], proj, value, inner, spec, key)
        return self.sharding.encode_shard(parts, self.chunks_per_shard)

    # ------------------------------------------------------------ blocking-store jobs
    def share_reads(self, out: np.ndarray[Any, Any], projections: Sequence[ChunkProjection]) -> list[SharedRead]:
        """Join each chunk's pending shared read (or start a new one): many concurrent reads
        of regions in the same chunk (``gather`` of small windows) then read and decode it once."""
        shared = []
        with self._shared_lock:
            for proj in projections:
                key = self.chunk_key(proj.coords)
                entry = self._shared_reads.get(key)
                if entry is None or entry.started:
                    entry = self._shared_reads[key] = SharedRead()
                entry.targets.append((out, proj))
                shared.append(entry)
        return shared

    def _take(self, entry: SharedRead) -> bool:
        """Whether this worker is the one to read ``entry`` (no reader can join it after this)."""
        with self._shared_lock:
            mine = not entry.started
            entry.started = True
        return mine

    def _read_whole(self, access: BlockingAccess, key: str) -> bytes | memoryview | None:
        """The stored bytes of one whole chunk (``None`` when missing), its size checked before reading."""
        reader = access.open_reader(key)
        if reader is None:
            return None
        try:
            self.check_stored_size(reader.size, key)
            return reader.read(0, reader.size)
        finally:
            reader.close()

    def _read_for_all(self, access: BlockingAccess, key: str, entry: SharedRead) -> None:
        """Read and decode one chunk once, and place it into every reader's output."""
        try:
            data = self._read_whole(access, key)
            if data is None:
                for out, proj in entry.targets:
                    self.fill(out, proj, key)
                return
            try:
                chunk = self.chain.decode(data, self.spec, scratch=_scratch)
            except CodecError as e:
                raise e.with_key(key) from e.__cause__
            for out, proj in entry.targets:
                out[proj.out_index()] = chunk[proj.chunk_index()]
        except BaseException as e:
            entry.error = e
            raise
        finally:
            entry.targets = []  # let go of the other reads' outputs
            entry.done.set()

    def read_chunks_job(
        self,
        access: BlockingAccess,
        out: np.ndarray[Any, Any],
        projections: Sequence[ChunkProjection],
        shared: Sequence[SharedRead],
    ) -> None:
        """Read, decode and place a batch of whole chunks (unsharded arrays).

        ``shared`` (from :meth:`share_reads`): a chunk that other reads want too is
        read once by whichever worker takes it first; this job then waits, at its end, for
        the chunks other workers took (they are being read right now, never waiting on it)."""
        taken_by_others: list[SharedRead] = []
        for i, proj in enumerate(projections):
            key = self.chunk_key(proj.coords)
            entry = shared[i]
            if not self._take(entry):
                taken_by_others.append(entry)
                continue
            if len(entry.targets) > 1:
                self._read_for_all(access, key, entry)
                continue
            entry.targets = []
            entry.done.set()
            data = self._read_whole(access, key)
            if data is None:
                self.fill(out, proj, key)
            else:
                self.place(out, data, proj, key)
        for entry in taken_by_others:
            entry.done.wait()
            if entry.error is not None:
                raise entry.error

    def read_shards_job(
        self, access: BlockingAccess, out: np.ndarray[Any, Any], shards: Sequence[tuple[tuple[int, ...], ShardMembers]]
    ) -> None:
        """Read a batch of shards: index and inner chunks from one open version of each."""
        for shard, members in shards:
            key = self.chunk_key(shard)
            reader = access.open_reader(key)
            if reader is None:
                for _, proj in members:
                    self.fill(out, proj, key)
                continue
            try:
                if len({flat for flat, _ in members}) == self.n_inner:
                    self.check_stored_size(reader.size, key, whole_shard=True)
                    parts = self.split_shard(reader.read(0, reader.size), key)
                    for flat, proj in members:
                        self.place(out, parts[flat], proj, key)
                    continue
                if reader.size < self.index_nbytes:
                    raise CorruptChunkError(f"shard of {reader.size} bytes is shorter than its index", key=key)
                raw = reader.read(self.index_location(reader.size), self.index_nbytes)
                index = self.parse_index(raw, key, reader.size)
                for flat, proj in members:
                    off, length = index[flat]
                    if off != MISSING:
                        self.check_stored_size(int(length), key)
                    self.place(out, None if off == MISSING else reader.read(int(off), int(length)), proj, key)
            finally:
                reader.close()

    def write_chunks_job(
        self, access: BlockingAccess, value: np.ndarray[Any, Any], projections: Sequence[ChunkProjection]
    ) -> None:
        """Build, encode and store a batch of chunks (unsharded arrays)."""
        for proj in projections:
            key = self.chunk_key(proj.coords)
            old = None
            if not proj.is_complete:
                reader = access.open_reader(key)
                if reader is not None:
                    try:
                        self.check_stored_size(reader.size, key)
                        old = reader.read(0, reader.size)
                    finally:
                        reader.close()
            encoded = self.merge(old, proj, value, self.chain, self.spec, key)
            if encoded is None:
                access.erase(key)
            else:
                access.set(key, encoded)

    def write_shards_job(
        self,
        access: BlockingAccess,
        value: np.ndarray[Any, Any],
        shards: Sequence[tuple[tuple[int, ...], ShardMembers]],
    ) -> None:
        """Build, encode and store a batch of shards, keeping the inner chunks a write does not cover."""
        for shard, members in shards:
            key = self.chunk_key(shard)
            old: Parts | None = None
            if self.shard_needs_old(shard, members):
                reader = access.open_reader(key)
                if reader is not None:
                    try:
                        self.check_stored_size(reader.size, key, whole_shard=True)
                        old = self.split_shard(reader.read(0, reader.size), key)
                    finally:
                        reader.close()
            encoded = self.build_shard(shard, members, value, old, key)
            if encoded is None:
                access.erase(key)
            else:
                access.set(key, encoded)
