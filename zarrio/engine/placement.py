"""Placing decoded chunks into a read's output: one at a time (a per-thread scratch buffer, and
the output region a whole chunk can be decoded straight into), and many whole chunks of one
regular grid at once (issue 18: tiny chunks).

A read of many small chunks spent a few microseconds per chunk on placing it alone: finding
whether it could be decoded straight into the output, slicing a scratch buffer and the output,
and one NumPy assignment. :class:`BatchPlacer` instead decodes each whole chunk into the next
slot of one ``(n, *chunk_shape)`` buffer, shared by the batch, and writes a full buffer into
the output with one assignment through a blocked view of it: the output seen as
``(G0, ..., Gk, c0, ..., ck)`` (block indices, then the element within the block), indexed with
the blocks' coordinates as arrays.

It takes only what that is exact for, and chunks of at most 64 KiB: complete, full-size chunks
(no edge chunk, no fill) whose output region is a step-1 slice of the chunk's size on every
axis, of an array whose chain has no array->array codec and whose dtype holds no objects. The
engine uses it for reads too large to share (``read_units_job`` without shared reads); the
chunk cache's reads keep the per-chunk path. Everything else goes to the
caller's per-chunk ``place``. When the chain is ``bytes`` (stored in the native byte order)
followed by at most one compressor, a chunk is decompressed into its slot directly; otherwise the
chain decodes it (into the slot when its last decompression can) and the result is copied in.
"""

from __future__ import annotations

import math
import operator
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..codecs import BytesCodec, ChunkSpec, CodecChain
from ..errors import CodecError
from ..indexing import ChunkProjection
from ..indexing.blocks import BlockMembers

__all__ = [
    "BATCH_BYTES",
    "BLOCK_MEMBERS",
    "MAX_CHUNK_BYTES",
    "BatchPlacer",
    "batch_placer",
    "blocked_view",
    "direct_codec",
    "place_blocks",
    "can_batch",
    "direct_target",
    "is_view_of",
    "lend",
    "scratch_buffer",
]

_START, _STOP = operator.attrgetter("start"), operator.attrgetter("stop")
#: the size of a batch's shared buffer (fewer slots for larger chunks, at most 1024)
BATCH_BYTES = 1 << 20
#: a block of at least this many members is placed from its parts per axis (a few array
#: operations, some 50 µs); a smaller one member by member (a few µs each)
BLOCK_MEMBERS = 64
#: the largest chunk batched: a larger one costs more to decode than to place alone, and its
#: slot would be a new allocation per job where the per-chunk path reuses a per-thread buffer
MAX_CHUNK_BYTES = 1 << 16


class _ThreadScratch(threading.local):
    buffer: bytearray | None = None


_scratch_local = _ThreadScratch()


def scratch_buffer(nbytes: int) -> memoryview:
    """A per-thread buffer of ``nbytes`` for decompressing one chunk before it is placed."""
    buffer = _scratch_local.buffer
    if buffer is None or len(buffer) < nbytes:
        buffer = _scratch_local.buffer = bytearray(nbytes)
    return memoryview(buffer)[:nbytes]


def direct_target(
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


def is_view_of(chunk: np.ndarray[Any, Any], target: np.ndarray[Any, Any]) -> bool:
    """Whether ``chunk`` is ``target`` itself: the same memory laid out the same way."""
    return (
        chunk.ctypes.data == target.ctypes.data
        and chunk.dtype == target.dtype
        and chunk.shape == target.shape
        and chunk.strides == target.strides
    )


def lend(target: np.ndarray[Any, Any], other: Callable[[int], memoryview]) -> Callable[[int], memoryview]:
    """A scratch lender giving ``target``'s memory for a buffer of its size, else ``other``'s."""

    def scratch(nbytes: int) -> memoryview:
        return target.reshape(-1).view(np.uint8).data if nbytes == target.nbytes else other(nbytes)

    return scratch


def can_batch(out: np.ndarray[Any, Any], chain: CodecChain, spec: ChunkSpec) -> bool:
    """Whether a read into ``out`` of chunks of ``spec`` can use a :class:`BatchPlacer`; not when a
    chunk's region is contiguous in ``out`` (whole rows: it is decoded straight into place)."""
    shape = spec.shape
    if chain.array_array or spec.dtype.hasobject or spec.dtype.itemsize == 0 or not shape:
        return False
    if spec.nbytes > MAX_CHUNK_BYTES:
        return False
    if out.ndim != len(shape) or out.dtype != spec.dtype:
        return False
    return not (out.shape[1:] == shape[1:] and out.flags.c_contiguous)


def direct_codec(chain: CodecChain, spec: ChunkSpec) -> Any:
    """The compressor that can decode straight into a slot when the rest of the chain only
    reinterprets its bytes (``bytes`` in the native order); ``False`` when there is none, ``None``
    when the chain has no compressor at all (the stored bytes are the chunk)."""
    codec = chain.array_bytes
    if not isinstance(codec, BytesCodec) or codec.stored_dtype(spec.dtype) != spec.dtype:
        return False
    if len(chain.bytes_bytes) > 1:
        return False
    return chain.bytes_bytes[0] if chain.bytes_bytes else None


def blocked_view(array: np.ndarray[Any, Any], offset: np.ndarray[Any, Any], cshape: tuple[int, ...]) -> Any:
    """``array`` from ``offset`` on, seen as ``(G0, ..., Gk, c0, ..., ck)``: its whole blocks of
    ``cshape`` there (block indices, then the element within the block)."""
    base = array[tuple(slice(int(o), None) for o in offset)]
    grid = tuple((n - int(o)) // c for n, o, c in zip(array.shape, offset, cshape, strict=True))
    strides = tuple(s * c for s, c in zip(base.strides, cshape, strict=True)) + base.strides
    return as_strided(base, shape=grid + cshape, strides=strides, writeable=base.flags.writeable)


def place_blocks(out: np.ndarray[Any, Any], values: np.ndarray[Any, Any], starts: np.ndarray[Any, Any]) -> None:
    """Write ``values`` (``(n, *chunk_shape)``) into ``out`` at ``starts`` (``(n, ndim)``): one
    assignment through a blocked view of ``out`` per common offset of the starts."""
    cshape = values.shape[1:]
    size = np.array(cshape, dtype=np.intp)
    offsets = starts % size
    first = offsets[0]
    same = (offsets == first).all(axis=1)
    if not same.all():  # chunks at other offsets (an index array's runs): one at a time
        for i in np.flatnonzero(~same).tolist():
            out[tuple(slice(a, a + c) for a, c in zip(starts[i].tolist(), cshape, strict=True))] = values[i]
        starts, values = starts[same], values[same]
    blocked_view(out, first, cshape)[tuple(((starts - first) // size).T)] = values


class BatchPlacer:
    """Decodes whole chunks into a shared buffer and places them in ``out`` a buffer at a time.

    ``add`` returns False for a chunk it does not take (the caller places that one itself);
    ``flush`` must be called once the last chunk has been added."""

    def __init__(self, out: np.ndarray[Any, Any], chain: CodecChain, spec: ChunkSpec) -> None:
        self.out = out
        self.chain = chain
        self.spec = spec
        self.cshape = spec.shape
        nbytes = spec.nbytes
        self.nbytes = nbytes
        #: slots for at most as many whole chunks as the output holds (a read of one element
        #: needs none), allocated when the first chunk is taken
        self.capacity = max(1, min(1024, BATCH_BYTES // max(nbytes, 1), out.size // max(1, math.prod(spec.shape))))
        self.buffer: np.ndarray[Any, Any] | None = None
        self.slots: list[memoryview] = []
        self.starts: list[tuple[int, ...]] = []
        #: the stored chunks taken since the last flush, with their keys: decoded together at the flush
        self.frames: list[Any] = []
        self.keys: list[str] = []
        self.direct = direct_codec(chain, spec)

    def _allocate(self) -> None:
        n, nbytes = self.capacity, self.nbytes
        self.buffer = np.empty((n, *self.spec.shape), dtype=self.spec.dtype)
        flat = self.buffer.reshape(-1).view(np.uint8).data
        self.slots = [flat[i * nbytes : (i + 1) * nbytes] for i in range(n)]

    def add(self, data: Any, proj: ChunkProjection, key: str) -> bool:
        """Decode ``data`` (one stored chunk) into the next slot, if the chunk is one to batch."""
        if not proj.is_complete:
            return False
        sel = proj.out_selection  # slices without a step (a plan's output runs), or index arrays
        try:  # C-level maps: this runs once per chunk
            starts = tuple(map(_START, sel))
            lengths = tuple(map(operator.sub, map(_STOP, sel), starts))
        except AttributeError:  # an index array has no ``start``
            return False
        if lengths != self.cshape:
            return False
        self.frames.append(data)
        self.keys.append(key)
        self.starts.append(starts)
        if len(self.starts) == self.capacity:
            self.flush()
        return True

    def _decoded(self, frames: Sequence[Any], keys: Sequence[str]) -> np.ndarray[Any, Any]:
        """Stored chunks (at most ``capacity``) decoded: ``(n, *chunk_shape)``. The batch goes to
        the compressor's ``decode_many`` (for stored chunks that are the raw bytes, they are only
        joined); what it does not take is decoded chunk by chunk into the slots."""
        nbytes, direct = self.nbytes, self.direct
        joined: bytes | None = None
        if direct is None and [memoryview(frame).nbytes for frame in frames].count(nbytes) == len(frames):
            joined = b"".join(frames)
        elif direct is not None and direct is not False:
            joined = direct.decode_many(frames, nbytes)
        if joined is not None:
            return np.frombuffer(joined, dtype=self.spec.dtype).reshape(len(frames), *self.cshape)
        if self.buffer is None:
            self._allocate()
        for i, (data, key) in enumerate(zip(frames, keys, strict=True)):
            self._decode(data, self.slots[i], i, key)
        assert self.buffer is not None  # allocated above
        return self.buffer[: len(frames)]

    def _decode(self, data: Any, slot: memoryview, i: int, key: str) -> None:
        direct = self.direct
        try:
            if direct is None and memoryview(data).nbytes == self.nbytes:
                slot[:] = memoryview(data).cast("B")
                return
            if direct is not None and direct is not False and direct.decode_into(data, slot):
                return
        except CodecError as e:
            raise e.with_key(key) from e.__cause__
        except Exception:  # a foreign codec's failure: the chain below names and types it
            pass

        def lend_slot(n: int) -> memoryview:
            return slot if n == self.nbytes else memoryview(bytearray(n))

        try:
            chunk = self.chain.decode(data, self.spec, scratch=lend_slot)
        except CodecError as e:
            raise e.with_key(key) from e.__cause__
        assert self.buffer is not None  # allocated before the first decode
        target = self.buffer[i]
        if not is_view_of(chunk, target):
            target[...] = chunk

    def flush(self) -> None:
        """Decode the chunks taken since the last flush and write them into the output."""
        if self.starts:
            frames, keys, starts = self.frames, self.keys, self.starts
            self.frames, self.keys, self.starts = [], [], []
            self._place(self._decoded(frames, keys), np.array(starts, dtype=np.intp).reshape(len(starts), -1))

    def _place(self, values: np.ndarray[Any, Any], starts: np.ndarray[Any, Any]) -> None:
        place_blocks(self.out, values, starts)

    def place_unit(self, parts: Any, members: Any, key: str, place: Callable[..., None]) -> None:
        """Place one unit's members (``parts``: its stored chunks by flat index, None: missing),
        the ones this placer does not take through ``place(out, data, proj, key)``. A block's
        whole chunks (:class:`~zarrio.indexing.blocks.BlockMembers`) are taken a batch at a
        time, with no projection made for any of them."""
        rest: Iterable[tuple[int, ChunkProjection]] = members
        if parts is not None and isinstance(members, BlockMembers) and len(members) >= BLOCK_MEMBERS:
            whole = members.whole_chunks(self.cshape)
            if whole is not None:
                rest = self._place_whole(parts, members, *whole, key)
        for flat, proj in rest:
            data = None if parts is None else parts.get(flat)
            if data is None or not self.add(data, proj, key):
                place(self.out, data, proj, key)

    def place_stored(self, frames: Sequence[Any], keys: Sequence[str], starts: np.ndarray[Any, Any]) -> None:
        """Decode whole stored chunks (``keys``: theirs, for errors) and write them into the output
        at ``starts`` (``(n, ndim)``), ``capacity`` at a time."""
        for i in range(0, len(frames), self.capacity):
            j = i + self.capacity
            self._place(self._decoded(frames[i:j], keys[i:j]), starts[i:j])

    def _place_whole(
        self, parts: Any, members: BlockMembers, picked: np.ndarray[Any, Any], starts: np.ndarray[Any, Any], key: str
    ) -> list[tuple[int, ChunkProjection]]:
        """Decode and place a block's whole chunks that are stored, ``capacity`` at a time; the
        members left (missing or not whole) are returned."""
        flats = np.array(members.flats(), dtype=np.intp)
        frames = list(map(parts.get, flats[picked].tolist()))
        stored = np.array([frame is not None for frame in frames], dtype=bool)
        if not stored.all():
            frames = [frame for frame in frames if frame is not None]
            starts = starts[stored]
        self.place_stored(frames, [key] * len(frames), starts)
        left = np.ones(len(flats), dtype=bool)
        left[picked[stored]] = False
        return [members[i] for i in np.flatnonzero(left).tolist()] if left.any() else []


def batch_placer(out: np.ndarray[Any, Any], chain: CodecChain, spec: ChunkSpec, regular: bool) -> BatchPlacer | None:
    """A placer for a read into ``out`` of chunks of one ``regular`` grid, or None when it cannot
    batch, or when ``out`` cannot take two whole chunks (a read of one chunk has nothing to batch)."""
    if not regular or out.size < 2 * math.prod(spec.shape):
        return None
    return BatchPlacer(out, chain, spec) if can_batch(out, chain, spec) else None
