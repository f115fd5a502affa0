"""Array metadata: a zarr.json with ``"node_type": "array"`` as a frozen dataclass.

Normalisations on a read -> write round trip (everything else is written back
as read, in zarr-python's field order):

* ``chunk_key_encoding`` always carries its ``configuration`` (tensorstore omits it);
* a codec given as a bare name ``"gzip"`` is written as ``{"name": "gzip"}``;
* ``storage_transformers`` is always written (``[]``), ``dimension_names`` only when set;
* fill values are written in their canonical form (``1`` for a float -> ``1.0``,
  ``"0x3f800000"`` -> ``1.0``, ``"NaT"`` -> ``-9223372036854775808``);
* ``"bytes"`` / ``"structured"`` data types are written as ``"variable_length_bytes"`` / ``"struct"``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..errors import MetadataError, UnsupportedError, VaryingChunksError
from ._checks import located, require_extent_tuple, require_mapping
from .chunk_grids import ChunkGrid, RectilinearChunkGrid, RegularChunkGrid, parse_chunk_grid
from .chunk_key_encoding import ChunkKeyEncoding, parse_chunk_key_encoding
from .data_types import data_type_from_json
from .defaults import default_codecs
from .dtype_base import DataType
from .fields import (
    check_zarr_format,
    parse_attributes,
    parse_codecs,
    parse_dimension_names,
    parse_extension_fields,
    parse_storage_transformers,
)
from .jsonio import dump_json

__all__ = ["ArrayMetadata"]

#: the highest rank an array may have: NumPy arrays have at most 64 dimensions (32 before NumPy 2),
#: and a shard index has one more dimension than its array
MAX_RANK = 32
_REQUIRED = ("shape", "data_type", "chunk_grid", "chunk_key_encoding", "fill_value", "codecs")
_KNOWN = frozenset((*_REQUIRED, "zarr_format", "node_type", "attributes", "dimension_names", "storage_transformers"))


@dataclass(frozen=True, eq=False, init=False)
class ArrayMetadata:
    """The metadata of one array.

    ``fill_value`` is held parsed (a numpy scalar, see :class:`DataType`); any
    form ``fill_from_user`` takes may be passed. ``codecs`` are zarr.json codec
    objects; left empty, they default to :func:`default_codecs` (zarr-python's).
    The chunk grid is given as a regular chunk shape (``chunk_shape``, the third
    argument) or as a grid object (``chunk_grid=``, :mod:`zarrio.metadata.chunk_grids`).
    """

    shape: tuple[int, ...]
    data_type: DataType
    chunk_grid: ChunkGrid
    chunk_key_encoding: ChunkKeyEncoding
    fill_value: Any
    codecs: tuple[dict[str, Any], ...]
    attributes: dict[str, Any]
    dimension_names: tuple[str | None, ...] | None
    storage_transformers: tuple[dict[str, Any], ...]
    extra_fields: dict[str, Any]

    zarr_format: ClassVar[int] = 3
    node_type: ClassVar[str] = "array"

    def __init__(
        self,
        shape: tuple[int, ...],
        data_type: DataType,
        chunk_shape: tuple[int, ...] | ChunkGrid | None = None,
        chunk_key_encoding: ChunkKeyEncoding | None = None,
        fill_value: Any = None,
        codecs: tuple[dict[str, Any], ...] = (),
        attributes: dict[str, Any] | None = None,
        dimension_names: tuple[str | None, ...] | None = None,
        storage_transformers: tuple[dict[str, Any], ...] = (),
        extra_fields: dict[str, Any] | None = None,
        *,
        chunk_grid: ChunkGrid | None = None,
    ) -> None:
        if (chunk_shape is None) == (chunk_grid is None):
            raise MetadataError("give exactly one of chunk_shape and chunk_grid", field="chunk_grid")
        grid = chunk_grid if chunk_grid is not None else chunk_shape
        if not isinstance(grid, RegularChunkGrid | RectilinearChunkGrid):
            grid = RegularChunkGrid(require_extent_tuple(grid, "chunk_grid", minimum=1))
        setattr_ = object.__setattr__
        setattr_(self, "shape", shape)
        setattr_(self, "data_type", data_type)
        setattr_(self, "chunk_grid", grid)
        setattr_(self, "chunk_key_encoding", chunk_key_encoding or ChunkKeyEncoding())
        setattr_(self, "fill_value", fill_value)
        setattr_(self, "codecs", codecs)
        setattr_(self, "attributes", {} if attributes is None else attributes)
        setattr_(self, "dimension_names", dimension_names)
        setattr_(self, "storage_transformers", storage_transformers)
        setattr_(self, "extra_fields", {} if extra_fields is None else extra_fields)
        self._validate()

    def _validate(self) -> None:
        shape = require_extent_tuple(self.shape, "shape", minimum=0)
        if len(shape) > MAX_RANK:
            raise UnsupportedError(f"arrays of rank {len(shape)} are not supported (at most {MAX_RANK})", field="shape")
        grid = self.chunk_grid
        if isinstance(grid, RegularChunkGrid) and len(shape) != grid.ndim:
            raise MetadataError(
                f"chunk shape {list(grid.chunk_shape)} has rank {grid.ndim}, shape {list(shape)} has {len(shape)}",
                field="chunk_grid",
            )
        grid.check_covers(shape)
        if not isinstance(self.data_type, DataType):
            raise MetadataError(f"expected a DataType, got {type(self.data_type).__name__}", field="data_type")
        if self.zarr_format == 3 and getattr(self.data_type, "v2_only", False):
            raise UnsupportedError(
                f"Zarr v3 has no data type for {self.data_type.name!r} values: such an array can only be Zarr v2",
                field="data_type",
            )
        parse_storage_transformers(list(self.storage_transformers))
        if self.dimension_names is not None:
            object.__setattr__(self, "dimension_names", parse_dimension_names(self.dimension_names, len(shape)))
        object.__setattr__(self, "shape", shape)
        codecs = parse_codecs(self.codecs) if self.codecs else default_codecs(self.data_type)
        object.__setattr__(self, "codecs", codecs)
        object.__setattr__(self, "fill_value", self.data_type.fill_from_user(self.fill_value))

    # ---- zarr.json ------------------------------------------------------------------------

    @classmethod
    def from_json(cls, document: Mapping[str, Any], path: str = "") -> ArrayMetadata:
        """Validate and parse a zarr.json object; every problem is a MetadataError naming the field."""
        with located(path, "array"):
            return cls._parse(document)

    @classmethod
    def _parse(cls, document: Mapping[str, Any]) -> ArrayMetadata:
        document = require_mapping(document, "")
        check_zarr_format(document, "array")
        extra_fields = parse_extension_fields(document, _KNOWN)
        for name in _REQUIRED:
            if name not in document:
                raise MetadataError("missing required field", field=name)
        shape = require_extent_tuple(document["shape"], "shape", minimum=0)
        chunk_grid = parse_chunk_grid(document["chunk_grid"])
        data_type = data_type_from_json(document["data_type"])
        return cls(
            shape=shape,
            data_type=data_type,
            chunk_grid=chunk_grid,
            chunk_key_encoding=parse_chunk_key_encoding(document["chunk_key_encoding"]),
            fill_value=data_type.fill_from_json(document["fill_value"]),
            codecs=parse_codecs(document["codecs"]),
            attributes=parse_attributes(document.get("attributes")),
            dimension_names=parse_dimension_names(document.get("dimension_names"), len(shape)),
            storage_transformers=parse_storage_transformers(document.get("storage_transformers")),
            extra_fields=extra_fields,
        )

    def to_json(self) -> dict[str, Any]:
        """The zarr.json object, in zarr-python 3.4.2's field order."""
        document: dict[str, Any] = {
            "shape": list(self.shape),
            "data_type": self.data_type.to_json(),
            "chunk_grid": self.chunk_grid.to_json(),
            "chunk_key_encoding": self.chunk_key_encoding.to_json(),
            "fill_value": self.data_type.fill_to_json(self.fill_value),
            "codecs": list(self.codecs),
            "attributes": self.attributes,
        }
        if self.dimension_names is not None:
            document["dimension_names"] = list(self.dimension_names)
        document["zarr_format"] = 3
        document["node_type"] = "array"
        document["storage_transformers"] = list(self.storage_transformers)
        document.update(self.extra_fields)
        return document

    def to_bytes(self) -> bytes:
        """The zarr.json file contents, formatted as zarr-python writes them."""
        return dump_json(self.to_json())

    # ---- conveniences ---------------------------------------------------------------------

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def dtype(self) -> np.dtype[Any]:
        """The in-memory numpy dtype (``data_type.numpy_dtype``)."""
        return self.data_type.numpy_dtype

    @property
    def chunk_shape(self) -> tuple[int, ...]:
        """The chunk shape of a regular grid (and of a rectilinear one whose axes are all regular);
        a :class:`VaryingChunksError` for a grid with varying chunks: use ``chunk_grid`` there."""
        shape = self.chunk_grid.uniform_shape
        if shape is None:
            raise VaryingChunksError(
                "this array has a rectilinear chunk grid with varying chunk sizes: it has no single chunk "
                "shape (use metadata.chunk_grid, or the array's read_chunk_sizes / write_chunk_sizes)",
                field="chunk_grid",
            )
        return shape

    @property
    def is_regular(self) -> bool:
        """Whether every chunk has one shape (a regular grid, or a rectilinear one of bare sizes)."""
        return self.chunk_grid.uniform_shape is not None

    @property
    def chunk_grid_shape(self) -> tuple[int, ...]:
        """Number of chunks along each dimension."""
        return self.chunk_grid.grid_shape(self.shape)

    @property
    def nchunks(self) -> int:
        count = 1
        for extent in self.chunk_grid_shape:
            count *= extent
        return count

    def encode_chunk_key(self, coords: tuple[int, ...]) -> str:
        """The store key of chunk ``coords``, relative to the array's path."""
        return self.chunk_key_encoding.encode(coords)

    def update(self, **changes: Any) -> ArrayMetadata:
        """A copy with some fields replaced (validated like a new instance). ``chunk_shape=`` sets a
        regular grid; a new ``shape`` extends a rectilinear grid that no longer covers it."""
        if "chunk_shape" in changes:
            changes["chunk_grid"] = RegularChunkGrid(changes.pop("chunk_shape"))
        elif "shape" in changes and "chunk_grid" not in changes:
            changes["chunk_grid"] = self.chunk_grid.resized(tuple(changes["shape"]))
        return dataclasses.replace(self, **changes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ArrayMetadata):
            return NotImplemented
        return self.to_json() == other.to_json()

    __hash__ = None  # type: ignore[assignment]
