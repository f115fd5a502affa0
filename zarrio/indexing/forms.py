"""The indexing forms of an array and what ``z[...]`` means, as NumPy, zarr-python and
tensorstore read it. Each form turns a user's selection into one the engine plans:

============== ================================================ ============================
form           takes                                            reads
============== ================================================ ============================
``basic``      ints, slices (any step), ``...``                 a block (ints drop the axis)
``orthogonal`` also one 1-D int or bool array per axis          the outer product (``ix_``)
``coordinate`` one int array (or int) per axis, broadcasting    points: the broadcast shape
``mask``       one bool array of the array's shape              its true elements, C order
``block``      ints and step-1 slices over the chunk grid       whole chunks (axes kept)
============== ================================================ ============================

``z[sel]`` (:func:`classify`) follows zarr-python 3.4: a tuple with one entry per axis made
of ints and integer arrays, at least one an array, is a coordinate selection (so
``z[[1, 3], [2, 4]]`` is two points, as in NumPy); a boolean array of the array's shape is a
mask selection; a selection with at most one array, or one 1-D array per axis where one is
boolean, is orthogonal; the rest is basic. Where zarr-python refuses and NumPy answers with
what one of these forms gives, zarrio answers (a lone 1-D boolean on axis 0, ``...`` beside
an array, empty lists, negative steps); a mix NumPy reads with other rules (two arrays beside
a slice, a 2-D integer array alone) is a :class:`~zarrio.errors.SelectionError` that names
``oindex`` and ``vindex``.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from ..errors import SelectionError
from . import AxisChunks, normalize_selection
from .coordinates import PointSelection, mask_points

__all__ = ["Form", "block_to_basic", "classify", "resolve"]

Form = Literal["auto", "basic", "orthogonal", "coordinate", "mask", "vectorized", "block"]


def _is_int(x: Any) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_))


def _index_array(x: Any) -> np.ndarray[Any, Any] | None:
    """``x`` as an index array when it is a list or a non-scalar int or bool array, else None."""
    if isinstance(x, list):
        arr = np.asarray(x)
        if arr.size == 0:
            return np.zeros(arr.shape, dtype=np.intp)
        return arr if arr.dtype.kind in "iub" else None
    if isinstance(x, np.ndarray) or (hasattr(x, "shape") and hasattr(x, "dtype") and not np.isscalar(x)):
        arr = np.asarray(x)
        return arr if arr.ndim and arr.dtype.kind in "iub" else None
    return None


def _as_tuple(selection: Any) -> tuple[Any, ...]:
    return selection if isinstance(selection, tuple) else (selection,)


def classify(selection: Any, shape: Sequence[int]) -> Form:
    """Which form ``z[selection]`` is, for an array of ``shape``."""
    ndim = len(shape)
    items = _as_tuple(selection)
    arrays = [_index_array(x) for x in items]
    n_arrays = sum(a is not None for a in arrays)
    if n_arrays == 0:
        return "basic"
    if len(items) == 1:
        only = arrays[0]
        assert only is not None
        if only.ndim == 1:
            # one axis' worth: the same elements read as points or per axis, and the orthogonal plan keeps
            # runs as slices (whole chunks decoded in place, written without a read); a lone 1-D mask of
            # a 2-D array reads rows, as in NumPy
            return "orthogonal"
        if only.dtype == np.bool_:
            return "mask"
        if ndim == 1:
            return "coordinate"
    plain = all(a is not None or _is_int(x) for a, x in zip(arrays, items, strict=True))
    if len(items) == ndim and plain and all(a is None or a.dtype != np.bool_ for a in arrays):
        return "coordinate"
    if n_arrays == 1:
        return "orthogonal"
    if len(items) == ndim and all(a is not None and a.ndim == 1 for a in arrays):
        return "orthogonal"  # one 1-D array per axis, one of them boolean: zarr-python's outer product
    raise SelectionError(
        f"{n_arrays} index arrays mixed with slices, ints or '...' ({_describe(items)}): NumPy places such "
        "results by rules zarrio does not follow; use z.oindex[...] (per axis) or z.vindex[...] (points)"
    )


def _describe(items: tuple[Any, ...]) -> str:
    return ", ".join("array" if _index_array(x) is not None else type(x).__name__ for x in items)


def _basic(selection: Any, shape: Sequence[int]) -> tuple[Any, ...]:
    items = normalize_selection(selection, len(shape))
    for axis, x in enumerate(items):
        if not (isinstance(x, slice) or _is_int(x)):
            raise SelectionError(
                f"axis {axis}: a basic selection takes ints, slices and '...', got {type(x).__name__} "
                "(use z.oindex[...] or z.vindex[...] for arrays)"
            )
    return items


def _orthogonal(selection: Any) -> tuple[Any, ...]:
    out = []
    for x in _as_tuple(selection):
        arr = _index_array(x) if isinstance(x, list) else None
        out.append(arr if arr is not None else x)
    return tuple(out)


def _coordinate(selection: Any, shape: Sequence[int]) -> PointSelection:
    items = _as_tuple(selection)
    for axis, x in enumerate(items):
        if not (_is_int(x) or _index_array(x) is not None):
            raise SelectionError(
                f"axis {axis}: a coordinate selection takes an int or an integer array per axis, got {type(x).__name__}"
            )
    return PointSelection.from_arrays([np.asarray(x) for x in items], shape)


def _vectorized(selection: Any, shape: Sequence[int]) -> PointSelection:
    items = _as_tuple(selection)
    if len(items) == 1 and (only := _index_array(items[0])) is not None and only.dtype == np.bool_:
        return mask_points(only, shape)
    if len(items) != len(shape):
        raise SelectionError(
            f"vindex takes one integer array per axis ({len(shape)}) or one boolean mask of shape "
            f"{tuple(shape)}, got {len(items)} entries"
        )
    return _coordinate(items, shape)


def _block_edge(block: AxisChunks, k: int, size: int) -> int:
    """Where block ``k`` of an axis begins (its end: ``k + 1``), clipped to the axis."""
    if isinstance(block, int):
        return min(k * block, size)
    return min(int(block[min(k, block.size - 1)]), size)


def block_to_basic(selection: Any, shape: Sequence[int], block_shape: Sequence[AxisChunks]) -> tuple[slice, ...]:
    """A selection over the grid of ``block_shape`` blocks (per axis a block size, or the
    boundaries of varying blocks) as slices of the array: an int picks one block (its axis
    kept), a slice with step 1 a run of blocks."""
    items = normalize_selection(selection, len(shape))
    out = []
    for axis, (x, size, block) in enumerate(zip(items, shape, block_shape, strict=True)):
        if isinstance(block, int):
            nblocks = -(-size // block) if block else 0
        else:
            nblocks = int(np.searchsorted(block, size, side="left"))
        if _is_int(x):
            i = int(x) + nblocks if int(x) < 0 else int(x)
            if not 0 <= i < nblocks:
                raise SelectionError(f"block index {int(x)} is out of bounds for axis {axis} with {nblocks} blocks")
            out.append(slice(_block_edge(block, i, size), _block_edge(block, i + 1, size)))
        elif isinstance(x, slice):
            if x.step not in (None, 1):
                raise SelectionError(f"axis {axis}: block selections take slices with step 1, got step {x.step}")
            start, stop = (nblocks + v if v is not None and v < 0 else v for v in (x.start, x.stop))
            lo = 0 if start is None else _block_edge(block, max(int(start), 0), size)
            hi = size if stop is None else _block_edge(block, max(int(stop), 0), size)
            if lo >= size and size:
                raise SelectionError(f"block index {x.start} is out of bounds for axis {axis} with {nblocks} blocks")
            out.append(slice(lo, max(lo, hi)))
        else:
            raise SelectionError(f"axis {axis}: a block selection takes ints and slices, got {type(x).__name__}")
    return tuple(out)


def resolve(form: Form, selection: Any, shape: Sequence[int], block_shape: Sequence[AxisChunks]) -> Any:
    """The engine's selection for ``selection`` read in ``form`` (``auto``: as ``z[...]``)."""
    if form in ("auto", "basic"):
        plain = selection if type(selection) is tuple else (selection,)
        if len(plain) == len(shape) and all(type(x) is slice or type(x) is int for x in plain):
            return plain  # one slice or int per axis (most reads): basic, and already normalized
    if form == "auto":
        form = classify(selection, shape)
    if form == "basic":
        return _basic(selection, shape)
    if form == "orthogonal":
        return _orthogonal(selection)
    if form == "coordinate":
        items = _as_tuple(selection)
        if len(items) != len(shape):
            raise SelectionError(f"a coordinate selection needs {len(shape)} index arrays, got {len(items)}")
        return _coordinate(items, shape)
    if form == "mask":
        items = _as_tuple(selection)
        if len(items) != 1:
            raise SelectionError(f"a mask selection takes one boolean array, got {len(items)} entries")
        return mask_points(items[0], shape)
    if form == "vectorized":
        return _vectorized(selection, shape)
    if form == "block":
        return block_to_basic(selection, shape, block_shape)
    raise SelectionError(f"unknown indexing form {form!r}")
