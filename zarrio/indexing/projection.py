"""What one chunk contributes to a selection: :class:`ChunkProjection`, the unit of every plan."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np

__all__ = ["ChunkProjection", "DimSelector", "Members"]

#: what one dimension of a chunk or output is indexed with
DimSelector: TypeAlias = int | slice | np.ndarray[Any, np.dtype[np.intp]]


class ChunkProjection:
    """How one chunk contributes to a selection (read-only by convention: a plan makes one per
    chunk it touches, so this is a plain slotted class, built faster than a frozen dataclass)."""

    __slots__ = ("chunk_selection", "coords", "is_complete", "out_selection")

    def __init__(
        self,
        coords: tuple[int, ...],
        chunk_selection: tuple[DimSelector, ...],
        out_selection: tuple[slice | np.ndarray[Any, np.dtype[np.intp]], ...],
        is_complete: bool,
    ) -> None:
        self.coords = coords
        #: selection inside the chunk (ints drop the dimension)
        self.chunk_selection = chunk_selection
        #: where the selected part lands in the output (dropped dims have no entry): runs of
        #: positions as slices without a step, or index arrays
        self.out_selection = out_selection
        #: whether every in-bounds element of the chunk is selected, in order (a write needs no read)
        self.is_complete = is_complete

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(coords={self.coords!r}, chunk_selection={self.chunk_selection!r}, "
            f"out_selection={self.out_selection!r}, is_complete={self.is_complete!r})"
        )

    def chunk_index(self) -> tuple[Any, ...]:
        """``chunk_selection`` ready for numpy (``ix_`` semantics when several arrays)."""
        return _orthogonal(self.chunk_selection)

    def out_index(self) -> tuple[Any, ...]:
        """``out_selection`` ready for numpy (``ix_`` semantics when several arrays)."""
        return _orthogonal(self.out_selection)


#: a block's chunks (a shard's inner chunks): each projection with its C-order index in the block
Members: TypeAlias = Sequence[tuple[int, ChunkProjection]]


def _orthogonal(sel: Sequence[Any]) -> tuple[Any, ...]:
    """Make numpy apply integer arrays per dimension (outer indexing)."""
    n_arrays = n_ints = 0
    for s in sel:
        if s.__class__ is slice:  # the common case, checked first: this runs once per chunk
            continue
        if isinstance(s, np.ndarray):
            n_arrays += 1
        elif isinstance(s, (int, np.integer)):
            n_ints += 1
    if n_arrays == 0 or (n_arrays == 1 and n_ints == 0):
        return tuple(sel)
    kept = [s for s in sel if not isinstance(s, (int, np.integer))]
    ndim = len(kept)
    out: list[Any] = []
    axis = 0
    for s in sel:
        if isinstance(s, (int, np.integer)):
            out.append(s)
            continue
        if isinstance(s, slice):
            s = np.arange(s.start or 0, s.stop, s.step or 1)
        shape = [1] * ndim
        shape[axis] = len(s)
        out.append(np.asarray(s).reshape(shape))
        axis += 1
    return tuple(out)
