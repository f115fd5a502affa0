"""Whether a chunk holds nothing but the fill value: a write stores no such chunk (unless the
array writes empty chunks), so the check runs once per written chunk, and is mostly decided by the
chunk's first element."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["fill_key", "fill_rows", "is_fill"]


def fill_key(fill: Any, dtype: np.dtype[Any]) -> Any:
    """What :func:`is_fill` compares a chunk's first element with: ``fill`` as a Python int for
    integer and bool types (equal integers are equal bits), else its bytes in ``dtype``."""
    value = np.asarray(fill, dtype=dtype)
    return value.item() if dtype.kind in "biu" else value.tobytes()


def is_fill(chunk: np.ndarray[Any, Any], fill: Any, key: Any = None) -> bool:
    """Whether every element of ``chunk`` equals ``fill`` bit for bit (NaN == NaN, -0.0 != 0.0);
    ``key``: :func:`fill_key` of ``fill`` in the chunk's dtype, when the caller keeps it."""
    dtype = chunk.dtype
    if dtype.kind == "O":
        return all(x == fill for x in chunk.ravel())
    if chunk.size:  # the common case is decided by the first element, without scanning the chunk
        if key is None:
            key = fill_key(fill, dtype)
        if dtype.kind in "biu":
            if chunk.item(0) != key:
                return False
        elif np.asarray(chunk.flat[0], dtype=dtype).tobytes() != key:
            return False
    if dtype.kind in "fcSUVMm" or dtype.fields is not None:
        raw = np.ascontiguousarray(chunk).view(np.uint8).reshape(-1, dtype.itemsize)
        pattern = np.frombuffer(np.asarray(fill, dtype=dtype).tobytes(), dtype=np.uint8)
        return bool(np.all(raw == pattern))
    return bool(np.all(chunk == fill))


def fill_rows(chunks: np.ndarray[Any, Any], fill: Any, key: Any = None) -> list[bool]:
    """:func:`is_fill` of each chunk of ``chunks`` (``(n, *chunk_shape)``); for integer and bool
    types one comparison of them all."""
    if chunks.dtype.kind in "biu" and chunks.size:
        key = fill_key(fill, chunks.dtype) if key is None else key
        return [bool(x) for x in (chunks.reshape(len(chunks), -1) == key).all(axis=1)]
    return [is_fill(chunk, fill, key) for chunk in chunks]
