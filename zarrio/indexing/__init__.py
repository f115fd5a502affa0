"""Selections to per-chunk projections. Pure numpy, no I/O.

The engine's selections are of two kinds. A tuple of ints, slices (any step),
``...``, integer arrays and boolean masks, one per dimension, is applied
*orthogonally* (each dimension independently, like ``numpy.ix_``). A
:class:`PlannedSelection` plans itself: the coordinate and mask selections of
:mod:`zarrio.indexing.coordinates`, which pick points. Which of them a user's
``z[...]`` means (NumPy's and zarr-python's rules) is :mod:`zarrio.indexing.forms`.

:func:`plan` turns a selection on an array of ``shape`` chunked by
``chunks`` into an :class:`IndexPlan`: the output shape, and for every
chunk the selection touches a :class:`ChunkProjection` saying which part of
the chunk maps to which part of the output. ``chunks`` holds one entry per
axis (:data:`AxisChunks`): the chunk size of a regular axis, or the boundaries
``[0, e0, e0 + e1, ...]`` of an axis whose chunks vary (a rectilinear grid), where
a chunk is found by bisection.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np

from ..errors import SelectionError
from .blocks import BlockMembers
from .projection import ChunkProjection, DimSelector, Members

__all__ = [
    "AxisChunks",
    "ChunkProjection",
    "IndexPlan",
    "Members",
    "PlannedSelection",
    "axis_span",
    "chunk_of",
    "normalize_selection",
    "plan",
    "selection_shape",
]

#: one axis of a chunk grid: a regular chunk size, or the boundaries of varying chunks
AxisChunks: TypeAlias = int | np.ndarray[Any, np.dtype[np.intp]]


def axis_span(chunk: AxisChunks, c: int) -> tuple[int, int]:
    """The start and the stored size of chunk ``c`` along an axis."""
    if isinstance(chunk, int):
        return c * chunk, chunk
    start = int(chunk[c])
    return start, int(chunk[c + 1]) - start


def chunk_of(chunk: AxisChunks, idx: Any) -> Any:
    """The chunk holding index (or each index of an array) ``idx`` along an axis."""
    if isinstance(chunk, int):
        return idx // chunk
    found = np.searchsorted(chunk, idx, side="right") - 1
    return found if isinstance(idx, np.ndarray) else int(found)


class _Dim:
    """The selection along one dimension, split by chunk (read-only by convention; a plain slotted
    class, as every read builds one per axis)."""

    __slots__ = ("out_len", "parts")

    def __init__(
        self,
        parts: list[tuple[int, DimSelector, slice | np.ndarray[Any, np.dtype[np.intp]] | None, bool]],
        out_len: int | None,
    ) -> None:
        #: per touched chunk: (chunk index, selector within chunk, selector within output, complete?)
        self.parts = parts
        #: None: the dimension is dropped (integer index)
        self.out_len = out_len

    def __repr__(self) -> str:
        return f"_Dim(parts={self.parts!r}, out_len={self.out_len!r})"


def _int_dim(i: int, size: int, chunk: AxisChunks, axis: int) -> _Dim:
    if i < -size or i >= size:
        raise SelectionError(f"index {i} is out of bounds for axis {axis} with size {size}")
    i = i % size if size else i
    if isinstance(chunk, int):
        return _Dim([(i // chunk, i % chunk, None, False)], None)
    c = chunk_of(chunk, i)
    return _Dim([(c, i - int(chunk[c]), None, False)], None)


def _slice_dim(bounds: tuple[int, int, int], size: int, chunk: AxisChunks) -> _Dim:
    start, stop, step = bounds
    if step < 0:
        return _array_dim(np.arange(start, stop, step, dtype=np.intp), size, chunk, 0)
    n = len(range(start, stop, step))
    parts: list[tuple[int, DimSelector, slice | np.ndarray[Any, np.dtype[np.intp]] | None, bool]] = []
    if n == 0:
        return _Dim(parts, 0)
    last = start + (n - 1) * step
    if not isinstance(chunk, int):
        return _varying_slice_dim(start, step, last, n, size, chunk)
    if step == 1:  # the common case, in fewer steps per chunk: every chunk in the run is touched
        first_chunk, last_chunk = start // chunk, last // chunk
        out_pos = 0
        for c in range(first_chunk, last_chunk + 1):
            c0 = c * chunk
            lo = start - c0 if c == first_chunk else 0
            hi = last - c0 + 1 if c == last_chunk else chunk
            count = hi - lo
            complete = not lo and count == min(chunk, size - c0)
            parts.append((c, slice(lo, hi, 1), slice(out_pos, out_pos + count), complete))
            out_pos += count
        return _Dim(parts, n)
    out_pos = 0
    for c in range(start // chunk, last // chunk + 1):
        c0 = c * chunk
        # first selected index inside this chunk
        first = start if c0 <= start else start + -(-(c0 - start) // step) * step
        if first > last or first >= c0 + chunk:
            continue
        end = min(last, c0 + chunk - 1)
        count = (end - first) // step + 1
        lo = first - c0
        csel = slice(lo, lo + (count - 1) * step + 1, step)
        complete = lo == 0 and count == min(chunk, size - c0) and (step == 1 or count == 1)
        parts.append((c, csel, slice(out_pos, out_pos + count), complete))
        out_pos += count
    return _Dim(parts, n)


def _varying_slice_dim(
    start: int, step: int, last: int, n: int, size: int, bounds: np.ndarray[Any, np.dtype[np.intp]]
) -> _Dim:
    """``_slice_dim`` over chunks of varying sizes: the touched chunks found by bisection."""
    parts: list[tuple[int, DimSelector, slice | np.ndarray[Any, np.dtype[np.intp]] | None, bool]] = []
    first_chunk, last_chunk = chunk_of(bounds, start), chunk_of(bounds, last)
    edges = bounds[first_chunk : last_chunk + 2].tolist()
    out_pos = 0
    for c, c0, c1 in zip(range(first_chunk, last_chunk + 1), edges, edges[1:], strict=False):
        first = start if c0 <= start else start + -(-(c0 - start) // step) * step
        if first > last or first >= c1:
            continue
        end = min(last, c1 - 1)
        count = (end - first) // step + 1
        lo = first - c0
        csel = slice(lo, lo + (count - 1) * step + 1, step)
        complete = lo == 0 and count == min(c1, size) - c0 and (step == 1 or count == 1)
        parts.append((c, csel, slice(out_pos, out_pos + count), complete))
        out_pos += count
    return _Dim(parts, n)


def _array_dim(idx: np.ndarray[Any, Any], size: int, chunk: AxisChunks, axis: int) -> _Dim:
    if idx.ndim != 1:
        raise SelectionError(f"axis {axis}: integer index arrays must be one-dimensional")
    idx = idx.astype(np.intp, copy=False)
    if idx.size and (idx.min() < -size or idx.max() >= size):
        raise SelectionError(f"axis {axis}: index out of bounds for size {size}")
    idx = np.where(idx < 0, idx + size, idx)
    positions = np.arange(idx.size, dtype=np.intp)
    chunks = chunk_of(chunk, idx)
    if idx.size > 1 and np.any(np.diff(chunks) < 0):
        order = np.argsort(chunks, kind="stable")
        chunks, idx, positions = chunks[order], idx[order], positions[order]
    boundaries = np.flatnonzero(np.diff(chunks)) + 1
    parts: list[tuple[int, DimSelector, slice | np.ndarray[Any, np.dtype[np.intp]] | None, bool]] = []
    for lo, hi in zip(np.r_[0, boundaries], np.r_[boundaries, idx.size], strict=True):
        if hi <= lo:
            continue
        c = int(chunks[lo])
        c0, csize = axis_span(chunk, c)
        within = idx[lo:hi] - c0
        out = positions[lo:hi]
        if out.size and out[-1] - out[0] == out.size - 1 and np.all(np.diff(out) == 1):
            out_sel: slice | np.ndarray[Any, np.dtype[np.intp]] = slice(int(out[0]), int(out[-1]) + 1)
        else:
            out_sel = out
        in_bounds = min(csize, size - c0)
        complete = within.size == in_bounds and bool(np.all(within == np.arange(in_bounds)))
        parts.append((c, within, out_sel, complete))
    return _Dim(parts, int(idx.size))


def normalize_selection(selection: Any, ndim: int) -> tuple[Any, ...]:
    """Expand ``...`` and pad with full slices so there is one entry per dimension."""
    if not isinstance(selection, tuple):
        selection = (selection,)
    n_ellipsis = [s is Ellipsis for s in selection].count(True)
    if n_ellipsis > 1:
        raise SelectionError("an index can only have a single ellipsis ('...')")
    if n_ellipsis:
        i = next(k for k, s in enumerate(selection) if s is Ellipsis)
        fill = ndim - (len(selection) - 1)
        selection = selection[:i] + (slice(None),) * max(fill, 0) + selection[i + 1 :]
    if len(selection) > ndim:
        raise SelectionError(f"too many indices for an array of rank {ndim}: {len(selection)} given")
    return tuple(selection) + (slice(None),) * (ndim - len(selection))


def _dim(sel: Any, size: int, chunk: AxisChunks, axis: int) -> _Dim:
    if isinstance(sel, slice):
        try:  # slice.indices takes ints, NumPy integers and other __index__ types, and refuses the rest
            bounds = sel.indices(size)
        except (TypeError, ValueError):
            for part in (sel.start, sel.stop, sel.step):
                if part is not None and not isinstance(part, (int, np.integer)):
                    raise SelectionError(f"axis {axis}: slice bounds must be integers, not {part!r}") from None
            raise SelectionError(f"axis {axis}: slice step cannot be zero") from None
        return _slice_dim(bounds, size, chunk)
    if isinstance(sel, (bool, np.bool_)):
        raise SelectionError(f"axis {axis}: a bare boolean is not a valid index")
    if isinstance(sel, (int, np.integer)):
        return _int_dim(operator.index(sel), size, chunk, axis)
    if sel is None:
        raise SelectionError("newaxis (None) is not supported in array selections")
    arr = np.asarray(sel)
    if arr.dtype == np.bool_:
        if arr.ndim != 1 or arr.shape[0] != size:
            raise SelectionError(f"axis {axis}: boolean mask of shape {arr.shape} does not match size {size}")
        return _array_dim(np.flatnonzero(arr), size, chunk, axis)
    if arr.dtype.kind in "iu":
        return _array_dim(arr, size, chunk, axis)
    if arr.size == 0 and arr.ndim == 1:
        return _array_dim(arr.astype(np.intp), size, chunk, axis)
    raise SelectionError(f"axis {axis}: unsupported index {sel!r}")


@dataclass(frozen=True)
class IndexPlan:
    """A selection resolved against an array's shape and chunk grid."""

    #: shape of the result (integer-indexed dimensions dropped)
    shape: tuple[int, ...]
    #: shape of the selection with integer-indexed dims kept as length 1
    dims: tuple[_Dim, ...]

    @property
    def nchunks(self) -> int:
        return math.prod([len(d.parts) for d in self.dims])

    def __iter__(self) -> Iterator[ChunkProjection]:
        # this runs once per chunk of a read: one C-level zip per chunk splits its axes' parts
        # into coordinates, chunk selections, output selections and completeness
        if not self.dims:  # rank 0: the one chunk, whole
            yield ChunkProjection((), (), (), True)
            return
        combos = itertools.starmap(zip, itertools.product(*[d.parts for d in self.dims]))
        if None in [d.out_len for d in self.dims]:  # integer-indexed dims: no output axis
            for coords, within, out, complete in combos:
                yield ChunkProjection(coords, within, tuple([s for s in out if s is not None]), all(complete))
            return
        for coords, within, out, complete in combos:
            yield ChunkProjection(coords, within, out, all(complete))

    def as_block(self) -> BlockMembers | None:
        """Every chunk of the plan as the members of one block (their flat indexes are not
        meaningful); None for a plan of rank 0, or one that makes its own projections."""
        if not self.dims or type(self) is not IndexPlan:
            return None
        dropped = None in [d.out_len for d in self.dims]
        return BlockMembers([[(0, *part) for part in d.parts] for d in self.dims], dropped)

    def by_block(self, blocks: Sequence[int]) -> Iterator[tuple[tuple[int, ...], Members]]:
        """The projections grouped by the block of ``blocks`` chunks per axis that holds them (a
        shard's inner chunks): each touched block's coordinates, in C order, with its members, each
        with its C-order index within the block, in C order. The grouping is done per axis, so it
        costs nothing per chunk, and a block's members are made only when asked for (a
        :class:`~.blocks.BlockMembers`, which also answers for the whole block with array operations)."""
        if not self.dims:  # rank 0: the one chunk, whole, in the one block
            yield (), [(0, ChunkProjection((), (), (), True))]
            return
        dropped = None in [d.out_len for d in self.dims]
        strides = [math.prod(blocks[axis + 1 :]) for axis in range(len(blocks))]
        per_axis = []
        for d, n, stride in zip(self.dims, blocks, strides, strict=True):
            groups: dict[int, list[tuple[Any, ...]]] = {}
            for part in d.parts:  # sorted by chunk, so each block's parts are a run
                groups.setdefault(part[0] // n, []).append(((part[0] % n) * stride, *part))
            per_axis.append(list(groups.items()))
        for combo in itertools.product(*per_axis):
            yield tuple([block for block, _ in combo]), BlockMembers([parts for _, parts in combo], dropped)


class PlannedSelection:
    """A selection that resolves itself against an array (its :meth:`plan` may return a subclass
    of :class:`IndexPlan` yielding its own kind of projections)."""

    def result_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        """The shape of what the selection reads from an array of ``shape``."""
        raise NotImplementedError

    def plan(self, shape: Sequence[int], chunks: Sequence[AxisChunks]) -> IndexPlan:
        """The per-chunk projections of the selection on an array of ``shape``."""
        raise NotImplementedError


def plan(selection: Any, shape: Sequence[int], chunks: Sequence[AxisChunks]) -> IndexPlan:
    """Resolve ``selection`` against ``shape`` cut into ``chunks`` (one :data:`AxisChunks` per axis)."""
    if isinstance(selection, PlannedSelection):
        return selection.plan(shape, chunks)
    sel = normalize_selection(selection, len(shape))
    # list comprehensions, not generator expressions: this runs once per read, tiles included
    dims = tuple([_dim(s, n, c, axis) for axis, (s, n, c) in enumerate(zip(sel, shape, chunks, strict=True))])
    out_shape = tuple([d.out_len for d in dims if d.out_len is not None])
    return IndexPlan(out_shape, dims)


def selection_shape(selection: Any, shape: Sequence[int]) -> tuple[int, ...]:
    """The result shape of ``selection`` on an array of ``shape``, computed without
    touching the chunk grid (cheap even for absurdly large arrays)."""
    if isinstance(selection, PlannedSelection):
        return selection.result_shape(shape)
    sel = normalize_selection(selection, len(shape))
    out: list[int] = []
    for axis, (s, n) in enumerate(zip(sel, shape, strict=True)):
        if isinstance(s, slice):
            if s.step == 0:
                raise SelectionError(f"axis {axis}: slice step cannot be zero")
            try:
                out.append(len(range(*s.indices(n))))
            except TypeError as e:
                raise SelectionError(f"axis {axis}: slice bounds must be integers, not {s!r}") from e
        elif isinstance(s, (int, np.integer)) and not isinstance(s, (bool, np.bool_)):
            continue
        elif s is None or s is Ellipsis or isinstance(s, (bool, np.bool_, str, float)):
            _dim(s, n, 1, axis)  # raises the right SelectionError
        else:
            arr = np.asarray(s)
            out.append(int(np.count_nonzero(arr)) if arr.dtype == np.bool_ else int(arr.size))
    return tuple(out)
