"""The chunks of one block (a shard's inner chunks) that a selection touches, kept per axis.

:meth:`~zarrio.indexing.IndexPlan.by_block` groups a plan's per-axis parts by block, and a
:class:`BlockMembers` holds one block's groups. It is the sequence of the block's
``(flat index, projection)`` pairs, made when first asked for. What a read of many small chunks
needs of a block comes from the per-axis parts with array operations, one per axis and not one
per chunk: the flat indexes (:meth:`BlockMembers.flats`), and where its whole chunks go in the
output (:meth:`BlockMembers.whole_chunks`).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator, Sequence
from typing import Any, overload

import numpy as np

from .projection import ChunkProjection

__all__ = ["AxisPart", "BlockMembers"]

#: one chunk's part along one axis: (flat offset in the block, chunk index, selector within the
#: chunk, selector within the output or None for a dropped axis, complete along the axis?)
AxisPart = tuple[int, int, Any, Any, bool]
#: up to this many members, the flat indexes are summed in Python (fewer than the calls of the array way)
SMALL_BLOCK = 16


class BlockMembers(Sequence[tuple[int, ChunkProjection]]):
    """One block's members, in C order, from its parts per axis (see the module docstring)."""

    __slots__ = ("_axes", "_dropped", "_items")

    def __init__(self, axes: list[list[AxisPart]], dropped: bool) -> None:
        self._axes = axes
        self._dropped = dropped  # an integer-indexed axis: it has no output axis
        self._items: list[tuple[int, ChunkProjection]] | None = None

    def __len__(self) -> int:
        n = 1
        for parts in self._axes:
            n *= len(parts)
        return n

    @overload
    def __getitem__(self, i: int) -> tuple[int, ChunkProjection]: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[tuple[int, ChunkProjection]]: ...
    def __getitem__(self, i: int | slice) -> Any:
        return self._listed()[i]

    def __iter__(self) -> Iterator[tuple[int, ChunkProjection]]:
        return iter(self._listed())

    def _listed(self) -> list[tuple[int, ChunkProjection]]:
        items = self._items
        if items is None:
            items = self._items = []
            add, dropped = items.append, self._dropped
            for offsets, coords, within, out, complete in itertools.starmap(zip, itertools.product(*self._axes)):
                if dropped:
                    out = tuple([s for s in out if s is not None])
                add((sum(offsets), ChunkProjection(coords, within, out, all(complete))))
        return items

    def member(self, i: int) -> tuple[int, ChunkProjection]:
        """The ``i``-th member alone, without making the others."""
        if self._items is not None:
            return self._items[i]
        picks = []
        for parts in reversed(self._axes):
            i, at = divmod(i, len(parts))
            picks.append(parts[at])
        offsets, coords, within, out, complete = zip(*reversed(picks), strict=True)
        if self._dropped:
            out = tuple([s for s in out if s is not None])
        return sum(offsets), ChunkProjection(coords, within, out, all(complete))

    def coords(self) -> list[tuple[int, ...]]:
        """The members' chunk coordinates, in C order."""
        return list(itertools.product(*[[part[1] for part in parts] for parts in self._axes]))

    def flats(self) -> list[int]:
        """The members' flat indexes in the block, ascending (C order)."""
        axes = self._axes
        if len(self) <= SMALL_BLOCK:  # a tile's few chunks: Python sums cost less than array calls
            return [sum(offsets) for offsets in itertools.product(*[[part[0] for part in parts] for parts in axes])]
        offsets = [np.array([part[0] for part in parts], dtype=np.intp) for parts in axes]
        return [int(x) for x in np.ravel(functools.reduce(np.add.outer, offsets))]

    def complete_flats(self) -> list[int]:
        """The flat indexes of the members that are complete (every axis), ascending."""
        offsets = [np.array([part[0] for part in parts], dtype=np.intp) for parts in self._axes]
        masks = [np.array([part[4] for part in parts], dtype=bool) for parts in self._axes]
        flats = np.ravel(functools.reduce(np.add.outer, offsets))
        return [int(x) for x in flats[np.ravel(functools.reduce(np.logical_and.outer, masks))]]

    def whole_chunks(self, chunk_shape: Sequence[int]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]] | None:
        """The members that are whole chunks placed as they are: complete on every axis, their
        output a step-1 run of the chunk's length. Their positions among the members (ascending)
        and their output starts, an ``(n, ndim)`` array; None when there is no such member."""
        if self._dropped or len(chunk_shape) != len(self._axes):
            return None
        masks, starts = [], []
        for parts, size in zip(self._axes, chunk_shape, strict=True):
            runs = [(o.start, o.stop) if o.__class__ is slice and complete else (0, 0) for *_, o, complete in parts]
            axis_starts = np.array(runs, dtype=np.intp).reshape(-1, 2)
            whole = (axis_starts[:, 1] - axis_starts[:, 0]) == size
            if not whole.any():
                return None
            masks.append(whole)
            starts.append(axis_starts[:, 0])
        picked = np.flatnonzero(functools.reduce(np.logical_and.outer, masks))
        grid = np.stack(np.meshgrid(*starts, indexing="ij"), axis=-1).reshape(-1, len(starts))
        return picked, grid[picked]
