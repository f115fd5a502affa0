"""Chunk grids: how an array's shape is cut into chunks (the ``chunk_grid`` of zarr.json).

``regular`` (core Zarr v3): one chunk shape; the chunks at the far end of an axis are stored
full-sized. ``rectilinear`` (zarr-extensions ``chunk-grids/rectilinear``, written by
zarr-python 3.4 when ``array.rectilinear_chunks`` is enabled): per axis either

* a bare integer ``m``: a regular axis, ``m`` repeated until it covers the extent;
* a list of edge lengths, each an integer or a run ``[V, N]`` (``N`` edges of ``V``):
  every chunk has its own size; the edges sum to at least the extent (they may run past it,
  by whole chunks too, as a shrinking resize leaves them).

::

    {"name": "rectilinear",
     "configuration": {"kind": "inline", "chunk_shapes": [4, [1, 2, 3], [[4, 2]], [[1, 3], 3]]}}

A rectilinear grid is written as zarr-python writes it: bare integers stay bare, an edge list
is run-length encoded when that is shorter. Chunks are stored at their edge's size, whatever
part of them lies past the extent (like a regular grid's edge chunks).

What the engine and the indexing see of a grid is :attr:`axis_chunks`: per axis, the chunk
size of a regular axis (an ``int``, the fast path), or the boundaries of a varying one (an
``intp`` array ``[0, e0, e0 + e1, ...]``, one more entry than there are edges).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, TypeAlias

import numpy as np

from ..errors import MetadataError, UnsupportedError
from ._checks import MAX_EXTENT, require_extent_tuple, require_mapping

__all__ = [
    "AxisChunks",
    "ChunkGrid",
    "RectilinearChunkGrid",
    "RegularChunkGrid",
    "chunk_grid_from_user",
    "is_rectilinear_spec",
    "parse_chunk_grid",
]

FIELD = "chunk_grid"
#: the most explicit edges one axis may declare (a bound on what a run ``[V, N]`` expands to)
MAX_EDGES = 1 << 24

IntArray: TypeAlias = np.ndarray[Any, np.dtype[np.intp]]
#: one axis as the engine and the indexing see it: a regular chunk size, or varying boundaries
AxisChunks: TypeAlias = int | IntArray


def _axis_count(axis: AxisChunks, extent: int) -> int:
    """How many chunks of ``axis`` hold part of ``[0, extent)``."""
    if isinstance(axis, int):
        return -(-extent // axis)
    return int(np.searchsorted(axis, extent, side="left"))


def _axis_span(axis: AxisChunks, index: int) -> tuple[int, int]:
    """The (start, stored size) of chunk ``index`` of ``axis``."""
    if isinstance(axis, int):
        return index * axis, axis
    start = int(axis[index])
    return start, int(axis[index + 1]) - start


class _GridOps:
    """What both grids compute from :attr:`axis_chunks`."""

    @property
    def axis_chunks(self) -> tuple[AxisChunks, ...]:
        raise NotImplementedError

    @property
    def ndim(self) -> int:
        return len(self.axis_chunks)

    def grid_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        """How many chunks hold part of an array of ``shape``, along each axis."""
        return tuple(_axis_count(axis, extent) for axis, extent in zip(self.axis_chunks, shape, strict=True))

    def chunk_shape_at(self, coords: Sequence[int]) -> tuple[int, ...]:
        """The stored shape of chunk ``coords`` (past-the-extent parts included)."""
        return tuple(_axis_span(axis, c)[1] for axis, c in zip(self.axis_chunks, coords, strict=True))

    def chunk_box(self, coords: Sequence[int], shape: Sequence[int]) -> tuple[tuple[int, int], ...]:
        """The (start, stop) per axis of chunk ``coords`` in an array of ``shape``, clipped to it."""
        box = []
        for axis, c, extent in zip(self.axis_chunks, coords, shape, strict=True):
            start, size = _axis_span(axis, c)
            box.append((min(start, extent), min(start + size, extent)))
        return tuple(box)

    def chunk_sizes(self, shape: Sequence[int]) -> tuple[tuple[int, ...], ...]:
        """Per axis, the in-bounds size of every chunk (dask's ``chunks`` convention)."""
        out = []
        for axis, extent in zip(self.axis_chunks, shape, strict=True):
            n = _axis_count(axis, extent)
            if isinstance(axis, int):
                out.append((axis,) * (n - 1) + ((extent - (n - 1) * axis,) if n else ()))
            else:
                ends = np.minimum(axis[1 : n + 1], extent)
                out.append(tuple(int(x) for x in ends - axis[:n]))
        return tuple(out)

    def distinct_edges(self, axis: int) -> frozenset[int]:
        """The stored chunk sizes along ``axis``."""
        chunks = self.axis_chunks[axis]
        return frozenset((chunks,)) if isinstance(chunks, int) else frozenset(np.unique(np.diff(chunks)).tolist())

    @property
    def largest_chunk_shape(self) -> tuple[int, ...]:
        """The largest stored chunk (the longest edge of every axis)."""
        return tuple(max(self.distinct_edges(axis)) for axis in range(self.ndim))

    def check_covers(self, shape: Sequence[int]) -> None:
        """MetadataError unless the grid has ``shape``'s rank and its edges cover every extent."""
        if len(shape) != self.ndim:
            raise MetadataError(
                f"the chunk grid has rank {self.ndim}, shape {list(shape)} has {len(shape)}", field=FIELD
            )
        for index, (axis, extent) in enumerate(zip(self.axis_chunks, shape, strict=True)):
            if not isinstance(axis, int) and int(axis[-1]) < extent:
                raise MetadataError(
                    f"the chunk edges of axis {index} sum to {int(axis[-1])}, less than its extent {extent}",
                    field=FIELD,
                )


@dataclass(frozen=True, eq=False)
class RegularChunkGrid(_GridOps):
    """Core Zarr v3's grid: every chunk of ``chunk_shape``."""

    chunk_shape: tuple[int, ...]

    name: ClassVar[str] = "regular"

    def __post_init__(self) -> None:
        object.__setattr__(self, "chunk_shape", require_extent_tuple(self.chunk_shape, FIELD, minimum=1))

    @property
    def axis_chunks(self) -> tuple[int, ...]:
        return self.chunk_shape

    @property
    def uniform_shape(self) -> tuple[int, ...]:
        """The one chunk shape when every axis is regular (always, here)."""
        return self.chunk_shape

    def resized(self, shape: Sequence[int]) -> RegularChunkGrid:
        return self

    def to_json(self) -> dict[str, Any]:
        return {"name": "regular", "configuration": {"chunk_shape": list(self.chunk_shape)}}


@dataclass(frozen=True, eq=False)
class RectilinearChunkGrid(_GridOps):
    """The ``rectilinear`` grid: per axis a bare chunk size (a regular axis) or explicit edges."""

    #: per axis: an ``int`` (regular) or a tuple of edge lengths (runs expanded)
    chunk_shapes: tuple[int | tuple[int, ...], ...]

    name: ClassVar[str] = "rectilinear"

    def __post_init__(self) -> None:
        if isinstance(self.chunk_shapes, str | bytes) or not isinstance(self.chunk_shapes, Sequence):
            raise MetadataError(f"chunk_shapes must be a list, got {self.chunk_shapes!r}", field=FIELD)
        axes: list[int | tuple[int, ...]] = []
        for index, axis in enumerate(self.chunk_shapes):
            if isinstance(axis, list | tuple):
                if not axis:
                    raise MetadataError(f"axis {index} has no chunk edges", field=FIELD)
                edges = require_extent_tuple(list(axis), FIELD, minimum=1)
                if sum(edges) >= MAX_EXTENT:
                    raise MetadataError(f"the chunk edges of axis {index} sum past 2**63", field=FIELD)
                axes.append(edges)
            else:
                axes.append(require_extent_tuple([axis], FIELD, minimum=1)[0])
        object.__setattr__(self, "chunk_shapes", tuple(axes))

    @cached_property
    def axis_chunks(self) -> tuple[AxisChunks, ...]:
        out: list[AxisChunks] = []
        for axis in self.chunk_shapes:
            if isinstance(axis, int):
                out.append(axis)
            else:
                out.append(np.array((0, *itertools.accumulate(axis)), dtype=np.intp))
        return tuple(out)

    @property
    def uniform_shape(self) -> tuple[int, ...] | None:
        """The one chunk shape when every axis is a bare chunk size, else None."""
        if all(isinstance(axis, int) for axis in self.chunk_shapes):
            return tuple(axis for axis in self.chunk_shapes if isinstance(axis, int))
        return None

    def resized(self, shape: Sequence[int]) -> RectilinearChunkGrid:
        """The grid of the array resized to ``shape``: an explicit axis that no longer covers
        its extent gets one more edge for the rest (zarr-python's rule); shrinking keeps the edges."""
        axes: list[int | tuple[int, ...]] = []
        for axis, extent in zip(self.chunk_shapes, shape, strict=True):
            if not isinstance(axis, int) and sum(axis) < extent:
                axis = (*axis, extent - sum(axis))
            axes.append(axis)
        return RectilinearChunkGrid(tuple(axes))

    def to_json(self) -> dict[str, Any]:
        shapes: list[Any] = []
        for axis in self.chunk_shapes:
            if isinstance(axis, int):
                shapes.append(axis)
                continue
            runs = _encode_runs(axis)
            shapes.append(runs if len(runs) < len(axis) else list(axis))
        return {"name": "rectilinear", "configuration": {"kind": "inline", "chunk_shapes": shapes}}


ChunkGrid: TypeAlias = RegularChunkGrid | RectilinearChunkGrid


def _encode_runs(edges: Sequence[int]) -> list[int | list[int]]:
    """``[10, 10, 10, 5]`` -> ``[[10, 3], 5]``: runs longer than one as ``[V, N]``."""
    out: list[int | list[int]] = []
    for value, group in itertools.groupby(edges):
        count = sum(1 for _ in group)
        out.append([value, count] if count > 1 else value)
    return out


def _decode_edges(value: object, axis: int) -> int | tuple[int, ...]:
    """One axis of ``chunk_shapes``: a bare size, or edges and runs expanded."""
    if not isinstance(value, list):
        return require_extent_tuple([value], FIELD, minimum=1)[0]
    edges: list[int] = []
    for item in value:
        if isinstance(item, list):
            if len(item) != 2:
                raise MetadataError(f"axis {axis}: a run must be [edge, count], got {item!r}", field=FIELD)
            edge, count = require_extent_tuple(item, FIELD, minimum=1)
            if len(edges) + count > MAX_EDGES:
                raise UnsupportedError(f"axis {axis} declares more than {MAX_EDGES} chunk edges", field=FIELD)
            edges.extend([edge] * count)
        else:
            edges.append(require_extent_tuple([item], FIELD, minimum=1)[0])
    if len(edges) > MAX_EDGES:
        raise UnsupportedError(f"axis {axis} declares more than {MAX_EDGES} chunk edges", field=FIELD)
    return tuple(edges)


def parse_chunk_grid(value: object) -> ChunkGrid:
    """The ``chunk_grid`` of a zarr.json: ``regular`` or ``rectilinear`` (``kind: inline``)."""
    grid = require_mapping(value, FIELD)
    name = grid.get("name")
    if not isinstance(name, str):
        raise MetadataError(f"chunk grid name must be a string, got {name!r}", field=FIELD)
    if name not in ("regular", "rectilinear"):
        raise UnsupportedError(f"unsupported chunk grid {name!r} (zarrio reads regular and rectilinear)", field=FIELD)
    config = require_mapping(grid.get("configuration"), FIELD)
    if name == "regular":
        if "chunk_shape" not in config:
            raise MetadataError("missing configuration.chunk_shape", field=FIELD)
        return RegularChunkGrid(require_extent_tuple(config["chunk_shape"], FIELD, minimum=1))
    kind = config.get("kind")
    if kind != "inline":
        raise UnsupportedError(f"unsupported rectilinear chunk grid kind {kind!r} (only 'inline')", field=FIELD)
    shapes = config.get("chunk_shapes")
    if not isinstance(shapes, list):
        raise MetadataError(f"configuration.chunk_shapes must be a list, got {shapes!r}", field=FIELD)
    return RectilinearChunkGrid(tuple(_decode_edges(axis, i) for i, axis in enumerate(shapes)))


def chunk_grid_from_user(chunks: object, shape: Sequence[int]) -> ChunkGrid:
    """A grid from ``create(chunks=...)``: a grid object as it is; one sequence of edges per axis
    (``[[10, 20, 5], [8, 8]]``; an int among them is a regular axis) as a rectilinear grid whose
    explicit edges sum exactly to the extent (zarr-python's rule). Runs ``[V, N]`` are taken as in
    zarr.json."""
    if isinstance(chunks, RegularChunkGrid | RectilinearChunkGrid):
        return chunks
    if isinstance(chunks, Mapping):
        return parse_chunk_grid(dict(chunks))
    if not isinstance(chunks, list | tuple) or not any(isinstance(axis, list | tuple) for axis in chunks):
        raise MetadataError(f"not a rectilinear chunk specification: {chunks!r}", field=FIELD)
    grid = RectilinearChunkGrid(tuple(_decode_edges(_as_lists(axis), i) for i, axis in enumerate(chunks)))
    grid.check_covers(shape)
    for index, (axis, extent) in enumerate(zip(grid.chunk_shapes, shape, strict=True)):
        if not isinstance(axis, int) and extent and sum(axis) != extent:
            raise MetadataError(
                f"the chunk edges {list(axis)} of axis {index} sum to {sum(axis)}, not its extent {extent}",
                field=FIELD,
            )
    return grid


def _as_lists(value: object) -> object:
    """Tuples as lists, all the way down (a user's edges as their JSON form)."""
    return [_as_lists(v) for v in value] if isinstance(value, list | tuple) else value


def is_rectilinear_spec(chunks: object) -> bool:
    """Whether ``create(chunks=...)`` asks for a rectilinear grid (edges on some axis, or a grid)."""
    if isinstance(chunks, RectilinearChunkGrid):
        return True
    if isinstance(chunks, Mapping):
        return chunks.get("name") == "rectilinear"
    return isinstance(chunks, list | tuple) and any(isinstance(axis, list | tuple) for axis in chunks)
