"""Fill values in whole chunks: a chunk holding only the fill value, and which blocks of a
chunk hold nothing else (compared bit for bit, so NaN matches NaN and -0.0 does not match 0.0)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import ChunkSpec

__all__ = ["fill_only_blocks", "filled"]


def filled(spec: ChunkSpec) -> np.ndarray[Any, Any]:
    """A new array of ``spec`` holding the fill value (a scalar, or a tuple for structured types)."""
    out = np.empty(spec.shape, dtype=spec.dtype)
    if spec.dtype.hasobject:
        out.fill(spec.fill_value)
    elif spec.fill_value is None:
        out[...] = np.zeros((), dtype=spec.dtype)
    else:
        out[...] = np.asarray(spec.fill_value, dtype=spec.dtype)
    return out


def fill_only_blocks(
    shard: np.ndarray[Any, Any], fill_value: Any, chunk_shape: tuple[int, ...], cps: tuple[int, ...]
) -> np.ndarray[Any, Any]:
    """Boolean ``cps`` array: which inner chunks hold nothing but the fill value (compared bit for bit)."""
    if fill_value is None:
        return np.zeros(cps, dtype=bool)
    if shard.dtype.hasobject:
        equal = np.frompyfunc(lambda item: isinstance(item, str | bytes) and item == fill_value, 1, 1)
        matches: Any = np.asarray(equal(shard), dtype=bool)  # a ufunc over a 0-d array gives a bare bool
    else:
        fill = np.asarray(fill_value, dtype=shard.dtype)
        width = shard.dtype.itemsize
        if width == 0:
            matches = np.ones(shard.shape, dtype=bool)
        else:
            raw = np.ascontiguousarray(shard).view(np.uint8).reshape(*shard.shape, width)
            matches = (raw == np.frombuffer(fill.tobytes(), dtype=np.uint8)).all(axis=-1)
    # axes (n0, c0, n1, c1, ...): reduce over the within-chunk axes
    split = tuple(size for pair in zip(cps, chunk_shape, strict=True) for size in pair)
    empty: np.ndarray[Any, Any] = matches.reshape(split).all(axis=tuple(range(1, 2 * len(cps), 2)))
    return empty
