"""zarrio arrays as dask arrays, and dask arrays written through zarrio.

Install the optional extra: ``pip install "zarrio[dask]"``.

* :func:`to_dask` wraps a :class:`zarrio.Array` as a lazy dask array whose
  blocks are the array's chunks (whole shards for sharded arrays, so one task
  never reads a shard another task also reads).
* :func:`from_dask` creates an array shaped like a dask array and writes it
  block by block; :func:`store_dask` writes into an existing array. Blocks are
  first aligned to the array's write units (chunks, or shards), so concurrent
  tasks never read-modify-write the same stored object and no lock is needed.

``zarrio.Array`` also works with dask directly: ``dask.array.from_array(z,
chunks=z.chunks)`` and ``dask.array.store(x, z, lock=False)`` for chunk-aligned
writes.

Rectilinear chunk grids (chunks of varying sizes): :func:`to_dask`'s blocks are the
stored chunks (or shards) as they are, ``z.write_chunk_sizes``; :func:`store_dask`
rechunks to whole stored chunks; :func:`from_dask` of a dask array whose blocks are
not regular creates the array with those blocks as its chunks (a rectilinear grid).
With dask's own ``from_array``, pass ``chunks=z.read_chunk_sizes``.

Arrays pickle as their configuration, so the graphs run on ``dask.distributed``
worker processes too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..array import AsyncArray
from ..errors import SelectionError
from ..sync import Array
from ..sync.api import create

if TYPE_CHECKING:
    import dask.array as da
    from dask.delayed import Delayed

__all__ = ["from_dask", "is_aligned_to", "merged_blocks", "store_dask", "to_dask", "write_unit"]

#: dask's block structure: per axis, the sizes of its blocks
BlockSizes = tuple[tuple[int, ...], ...]


def write_unit(array: Array) -> tuple[int, ...]:
    """The smallest region a write can cover without touching a neighbour's stored
    object: the shard shape of a sharded array, else the chunk shape."""
    shards = array.shards
    return tuple(shards) if shards is not None else tuple(array.chunks)


def aligned_blocks(shape: Sequence[int], unit: Sequence[int], per_block: Sequence[int] | None = None) -> BlockSizes:
    """Block sizes along each axis made of whole ``unit``-s (``per_block`` units a block,
    default one), the last block of an axis taking the remainder."""
    counts = per_block or [1] * len(shape)
    blocks: list[tuple[int, ...]] = []
    for size, step, count in zip(shape, unit, counts, strict=True):
        width = max(1, step * count)
        full, rest = divmod(size, width)
        sizes = (width,) * full + ((rest,) if rest else ())
        blocks.append(sizes or (0,))
    return tuple(blocks)


def is_aligned(chunks: BlockSizes, unit: Sequence[int]) -> bool:
    """Whether every block boundary (except each axis's end) falls on a multiple of ``unit``."""
    for sizes, step in zip(chunks, unit, strict=True):
        edge = 0
        for size in sizes[:-1]:
            edge += size
            if edge % step:
                return False
    return True


def to_dask(array: Array | AsyncArray, *, chunks: Any = None, name: str | None = None) -> da.Array:
    """A lazy dask array reading ``array``.

    ``chunks`` defaults to the array's chunks, or its whole shards when it is
    sharded; pass dask chunks to override (e.g. ``"auto"`` or a multiple of
    the chunks). The graph carries the array's configuration, not open
    connections, so it runs on distributed workers. ``name`` defaults to a
    token of the store, path and metadata.
    """
    import dask.array as da
    from dask.base import tokenize

    array = _blocking(array, "to_dask")
    if chunks is None:
        chunks = _write_sizes(array) if _varying(array) else write_unit(array) if array.ndim else ()
    if name is None:
        store = array.aio.store
        name = "zarrio-" + tokenize(id(store), repr(store), array.path, array.metadata.to_bytes())
    meta = np.empty((0,) * array.ndim, dtype=array.dtype)
    lazy: da.Array = da.from_array(  # type: ignore[no-untyped-call]
        array, chunks=chunks, name=name, lock=False, asarray=True, fancy=False, meta=meta
    )
    return lazy


def store_dask(
    x: da.Array, target: Array | AsyncArray, *, compute: bool = True, **compute_options: Any
) -> Delayed | None:
    """Write the dask array ``x`` into ``target`` (same shape), block by block.

    Blocks not aligned to ``target``'s write units (chunks, or shards) are
    rechunked first, so no two tasks write the same stored object and no lock
    is needed. With ``compute=False`` the dask ``Delayed`` is returned.
    """
    import dask.array as da

    target = _blocking(target, "store_dask")
    if tuple(x.shape) != tuple(target.shape):
        raise SelectionError(f"cannot store a dask array of shape {x.shape} into an array of shape {target.shape}")
    if any(np.isnan(size) for sizes in x.chunks for size in sizes):
        raise SelectionError("the dask array has unknown chunk sizes; call x.compute_chunk_sizes() first")
    if _varying(target):
        sizes = _write_sizes(target)
        if not is_aligned_to(x.chunks, sizes):
            x = x.rechunk(merged_blocks(sizes, x.chunks))  # type: ignore[no-untyped-call]
    elif target.ndim and not is_aligned(x.chunks, unit := write_unit(target)):
        x = x.rechunk(aligned_blocks(target.shape, unit, _units_per_block(x.chunks, unit)))  # type: ignore[no-untyped-call]
    result: Delayed | None = da.store(x, target, lock=False, compute=compute, **compute_options)
    return None if compute else result


def from_dask(
    x: da.Array,
    store: Any,
    *,
    path: str = "",
    chunks: int | Sequence[int] | Sequence[Sequence[int]] | None = None,
    shards: int | Sequence[int] | None = None,
    overwrite: bool = False,
    **create_options: Any,
) -> Array:
    """Create an array shaped like ``x`` in ``store`` and write ``x`` into it; returns the array.

    ``chunks`` defaults to ``x``'s first block along each axis (its
    ``chunksize``), or, when its blocks vary along an axis (other than a smaller last block,
    and with ``shards`` not given), to its blocks themselves: a rectilinear chunk grid. Other
    options go to :func:`zarrio.create` (``codecs``, ``fill_value``, ``attributes``,
    ``dimension_names``, ...).
    """
    if any(np.isnan(size) for sizes in x.chunks for size in sizes):
        raise SelectionError("the dask array has unknown chunk sizes; call x.compute_chunk_sizes() first")
    if chunks is None and x.ndim and shards is None and not all(_regular_axis(sizes) for sizes in x.chunks):
        chunks = [[int(size) for size in sizes] for sizes in x.chunks]
    elif chunks is None and x.ndim:
        chunks = tuple(max(1, int(c)) for c in x.chunksize)
    target = create(
        store,
        tuple(int(s) for s in x.shape),
        x.dtype,
        path=path,
        chunks=chunks,
        shards=shards,
        overwrite=overwrite,
        **create_options,
    )
    store_dask(x, target)
    return target


def _varying(array: Array) -> bool:
    """Whether ``array``'s stored objects (chunks, or shards) vary in size (a rectilinear grid)."""
    return not array.metadata.is_regular


def _write_sizes(array: Array) -> BlockSizes:
    """Per axis, the in-bounds size of every stored object (``(0,)`` for an empty axis, as dask has it)."""
    return tuple(sizes or (0,) for sizes in array.write_chunk_sizes)


def _regular_axis(sizes: Sequence[int]) -> bool:
    """Whether dask blocks along one axis are a regular grid's: all equal but a smaller last one."""
    return len(sizes) < 2 or (len(set(sizes[:-1])) == 1 and sizes[-1] <= sizes[0])


def _edges(sizes: Sequence[int]) -> set[int]:
    return {int(e) for e in np.cumsum(sizes)}


def is_aligned_to(chunks: BlockSizes, sizes: BlockSizes) -> bool:
    """Whether every block boundary of ``chunks`` is a boundary of the stored objects ``sizes``."""
    return all(_edges(mine) <= _edges(theirs) for mine, theirs in zip(chunks, sizes, strict=True))


def merged_blocks(sizes: BlockSizes, chunks: BlockSizes) -> BlockSizes:
    """Blocks of whole stored objects (``sizes``), consecutive ones merged while a block stays
    within ``chunks``' largest block on that axis (at least one object a block)."""
    out = []
    for stored, wanted in zip(sizes, chunks, strict=True):
        target = max(wanted, default=1)
        blocks: list[int] = []
        for size in stored:
            if blocks and blocks[-1] + size <= target:
                blocks[-1] += size
            else:
                blocks.append(size)
        out.append(tuple(blocks))
    return tuple(out)


def _units_per_block(chunks: BlockSizes, unit: Sequence[int]) -> list[int]:
    """How many write units a block should span to stay close to ``chunks``' typical block size."""
    return [
        max(1, round(max(sizes, default=1) / step)) if step else 1 for sizes, step in zip(chunks, unit, strict=True)
    ]


def _blocking(array: object, caller: str) -> Array:
    """``array`` as a blocking :class:`zarrio.Array` (an AsyncArray is wrapped)."""
    if isinstance(array, Array):
        return array
    if isinstance(array, AsyncArray):
        return Array(array)
    raise TypeError(f"{caller} expects a zarrio.Array (or AsyncArray), not {type(array).__name__}")
