"""Coordinate selections: points picked by integer arrays that broadcast together (the
``vindex`` of zarr-python and tensorstore, NumPy's advanced indexing), and boolean masks of
the array's whole shape, which are the coordinates of their true elements.

Planning is vectorised: every point's chunk is computed at once, the points are sorted by
chunk (a stable sort, so a later duplicate still wins a write), and each chunk the points
touch becomes one :class:`PointProjection` holding the within-chunk coordinates and output
positions of its points. The engine places a chunk with ``out[out_index] = chunk[chunk_index]``
whatever the projection, so point reads and writes run through the same batched, concurrent
fetch as any other selection; the only Python loop is over the chunks touched.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import SelectionError
from . import AxisChunks, ChunkProjection, IndexPlan, PlannedSelection, chunk_of

__all__ = ["PointPlan", "PointProjection", "PointSelection", "mask_points"]

IntArray = np.ndarray[Any, np.dtype[np.intp]]


class PointProjection(ChunkProjection):
    """The points of a coordinate selection that fall in one chunk.

    ``chunk_selection`` holds one array of within-chunk coordinates per dimension and
    ``out_selection`` one array of output positions per output dimension, aligned point by
    point; both are used as they are (pointwise, never ``ix_``). ``is_complete`` holds when
    the points are every in-bounds element of the chunk in its C order (a full mask's chunks),
    so a write needs no read; a read never decodes straight into the output, since
    ``out_selection`` holds arrays, not slices."""

    __slots__ = ()

    def chunk_index(self) -> tuple[Any, ...]:
        return self.chunk_selection

    def out_index(self) -> tuple[Any, ...]:
        return self.out_selection


@dataclass(frozen=True)
class PointPlan(IndexPlan):
    """A coordinate selection resolved against a chunk grid: one projection per touched chunk."""

    projections: tuple[PointProjection, ...] = ()

    @property
    def nchunks(self) -> int:
        return len(self.projections)

    def __iter__(self) -> Iterator[ChunkProjection]:
        return iter(self.projections)


class PointSelection(PlannedSelection):
    """Points given as one flat array of in-bounds, non-negative coordinates per dimension
    (all of one length), read into an output of ``out_shape`` in C order."""

    __slots__ = ("coords", "out_shape")

    def __init__(self, coords: Sequence[IntArray], out_shape: tuple[int, ...]) -> None:
        self.coords = tuple(coords)
        self.out_shape = out_shape

    @classmethod
    def from_arrays(cls, arrays: Sequence[Any], shape: Sequence[int]) -> PointSelection:
        """Integer arrays (or ints), one per dimension, broadcast together; negative values
        count from the end. Raises :class:`SelectionError` for bad types, shapes or bounds."""
        if len(arrays) != len(shape):
            raise SelectionError(f"a coordinate selection needs {len(shape)} index arrays, got {len(arrays)}")
        if not shape:
            raise SelectionError("a coordinate selection needs an array of at least one dimension")
        converted = []
        for axis, a in enumerate(arrays):
            arr = np.asarray(a)
            if arr.dtype.kind not in "iu" or arr.dtype == np.bool_:
                if arr.size == 0 and arr.dtype.kind == "f":  # [] as an empty index, as NumPy takes it
                    arr = arr.astype(np.intp)
                else:
                    raise SelectionError(
                        f"axis {axis}: a coordinate selection takes integers, got an array of dtype {arr.dtype}"
                    )
            converted.append(arr)
        try:
            broadcast = np.broadcast_arrays(*converted)
        except ValueError as e:
            shapes = ", ".join(str(a.shape) for a in converted)
            raise SelectionError(f"coordinate index arrays of shapes {shapes} do not broadcast together") from e
        out_shape = broadcast[0].shape or (1,)  # all scalars: one point, as zarr-python gives it
        flat = []
        for axis, (arr, size) in enumerate(zip(broadcast, shape, strict=True)):
            idx = arr.reshape(-1).astype(np.intp, copy=False)
            if idx.size:
                lo, hi = int(idx.min()), int(idx.max())
                if lo < -size or hi >= size:
                    bad = lo if lo < -size else hi
                    raise SelectionError(f"index {bad} is out of bounds for axis {axis} with size {size}")
                if lo < 0:
                    idx = np.where(idx < 0, idx + size, idx)
            flat.append(idx)
        return cls(flat, out_shape)

    def result_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        return self.out_shape

    def plan(self, shape: Sequence[int], chunks: Sequence[AxisChunks]) -> PointPlan:
        n = self.coords[0].size if self.coords else 0
        if n == 0:
            return PointPlan(self.out_shape, (), ())
        grid = tuple(
            max(1, math.ceil(s / c) if isinstance(c, int) else c.size - 1) for s, c in zip(shape, chunks, strict=True)
        )
        chunk_ids_of = [chunk_of(c, idx) for idx, c in zip(self.coords, chunks, strict=True)]
        order, chunk_ids = _sort_by_chunk(chunk_ids_of, grid)
        sorted_ids = chunk_ids[order]
        starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
        stops = np.r_[starts[1:], n]
        # one (ndim, n) array each for the within-chunk coordinates and the output positions, sorted by
        # chunk: a chunk's points are then one slice of each, split into per-axis views
        within = np.stack(
            [(idx - _chunk_starts(c, ch))[order] for idx, ch, c in zip(self.coords, chunk_ids_of, chunks, strict=True)]
        )
        out = order[None, :] if len(self.out_shape) == 1 else np.stack(np.unravel_index(order, self.out_shape))
        first = order[starts]
        touched_array = np.stack([ch[first] for ch in chunk_ids_of], axis=1)
        complete = _complete_chunks(within, starts, stops, touched_array, shape, chunks)
        projections = tuple(
            PointProjection(tuple(coords), tuple(within[:, lo:hi]), tuple(out[:, lo:hi]), whole)
            for coords, lo, hi, whole in zip(
                touched_array.tolist(), starts.tolist(), stops.tolist(), complete.tolist(), strict=True
            )
        )
        return PointPlan(self.out_shape, (), projections)


def _chunk_starts(chunk: AxisChunks, index: IntArray) -> IntArray:
    """The first element of each chunk in ``index`` along an axis."""
    return index * chunk if isinstance(chunk, int) else chunk[index]


def _complete_chunks(
    within: IntArray,
    starts: IntArray,
    stops: IntArray,
    touched: IntArray,
    shape: Sequence[int],
    chunks: Sequence[AxisChunks],
) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Per touched chunk: whether its points are every in-bounds element, each once, in the chunk's
    C order (the contract of ``is_complete``: a write then needs no read). Distinct points that are
    as many as the in-bounds elements are all of them; strictly increasing flat indices are distinct
    and in order. A mask of the whole shape gives exactly this for every chunk it fills."""
    if len(chunks) < 2:  # 1-D: never (a lone 1-D array goes through the orthogonal plan anyway)
        return np.zeros(starts.size, dtype=bool)
    counts = stops - starts
    if all(isinstance(c, int) for c in chunks):
        chunk_shape = np.asarray(chunks)
        in_bounds = np.prod(np.minimum(chunk_shape, np.asarray(shape) - touched * chunk_shape), axis=1)
        dims = tuple(int(c) for c in chunk_shape)
    else:  # each chunk its own size: in-bounds extents per axis; any shape that holds every chunk orders them
        extents = []
        for axis, c in enumerate(chunks):
            first = _chunk_starts(c, touched[:, axis])
            extents.append(np.minimum(_chunk_starts(c, touched[:, axis] + 1), shape[axis]) - first)
        in_bounds = np.prod(np.stack(extents, axis=1), axis=1)
        dims = tuple(c if isinstance(c, int) else int(np.diff(c).max()) for c in chunks)
    candidates = np.asarray(counts == in_bounds, dtype=bool)
    if not candidates.any():
        return candidates
    flat = np.ravel_multi_index(tuple(within), dims)
    step_down = np.r_[np.diff(flat) <= 0, False]  # at i: point i+1 does not come after point i
    step_down[stops - 1] = False  # the step from a chunk's last point to the next chunk's first
    disordered = np.add.reduceat(step_down.astype(np.intp), starts) > 0
    return np.asarray(candidates & ~disordered, dtype=bool)


def _sort_by_chunk(chunk_of: Sequence[IntArray], grid: tuple[int, ...]) -> tuple[IntArray, IntArray]:
    """A stable order of the points by chunk, and each point's chunk as one sortable number."""
    n = chunk_of[0].size
    nchunks = math.prod(grid)
    if nchunks < 2**62:
        ids = np.ravel_multi_index(tuple(chunk_of), grid) if len(grid) > 1 else chunk_of[0]
        ids = np.asarray(ids, dtype=np.intp)
        if n < 2 or bool(np.all(ids[1:] >= ids[:-1])):
            return np.arange(n, dtype=np.intp), ids
        if nchunks <= 2**16:  # NumPy's stable sort of 16-bit keys is a radix sort: ~10x a 64-bit one
            order = np.argsort(ids.astype(np.uint16), kind="stable")
        elif nchunks * n < 2**62:  # unique keys (chunk, position): any sort is a stable one
            order = np.argsort(ids * n + np.arange(n, dtype=np.intp))
        else:
            order = np.argsort(ids, kind="stable")
        return order.astype(np.intp, copy=False), ids
    # a grid too large for one number per chunk: sort on the chunk coordinates, then rank them
    order = np.lexsort(tuple(reversed(chunk_of))).astype(np.intp, copy=False)
    stacked = np.stack([c[order] for c in chunk_of], axis=1)
    change = np.r_[True, np.any(stacked[1:] != stacked[:-1], axis=1)]
    ranks = np.empty(order.size, dtype=np.intp)
    ranks[order] = np.cumsum(change) - 1
    return order, ranks


def mask_points(mask: Any, shape: Sequence[int]) -> PointSelection:
    """The true elements of a boolean ``mask`` of the array's ``shape``, in C order."""
    arr = np.asarray(mask)
    if arr.dtype != np.bool_:
        raise SelectionError(f"a mask selection takes a boolean array, got dtype {arr.dtype}")
    if arr.shape != tuple(shape):
        raise SelectionError(f"a boolean mask of shape {arr.shape} does not match the array's shape {tuple(shape)}")
    if not shape:
        raise SelectionError("a mask selection needs an array of at least one dimension")
    coords = tuple(c.astype(np.intp, copy=False) for c in np.nonzero(arr))
    return PointSelection(coords, (int(coords[0].size),))
