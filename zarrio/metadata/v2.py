"""Zarr v2 array metadata: ``.zarray`` (+ ``.zattrs``) as an :class:`ArrayMetadata`.

An :class:`ArrayMetadataV2` *is* array metadata: its ``codecs`` are the v3 codec list that
reads its chunks (:func:`~zarrio.metadata.v2_codecs.v2_codecs`), its ``chunk_key_encoding``
is ``v2`` with the array's ``dimension_separator``, so the engine reads and writes it with
no path of its own. What only v2 has (``order``, ``filters``, ``compressor``, the stored byte
order, a ``null`` fill value) is kept to write ``.zarray`` back as zarr-python 3.4.2 does,
in its field order: ``shape, chunks, dtype, fill_value, order, filters,
dimension_separator, compressor, zarr_format``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

from ..errors import MetadataError
from ._checks import located, require_extent_tuple, require_mapping
from .array import ArrayMetadata
from .chunk_key_encoding import parse_chunk_key_encoding
from .dtype_base import DataType
from .fields import parse_attributes
from .jsonio import dump_json
from .v2_codecs import check_numcodec_config, v2_codecs
from .v2_dtypes import OBJECT_CODEC_IDS, Endian, object_codec_id, v2_dtype_from_json, v2_dtype_to_json
from .v2_fill import v2_fill_from_json, v2_fill_to_json

__all__ = ["DEFAULT_V2_COMPRESSOR", "ArrayMetadataV2"]

#: zarr-python 3.4.2's compressor for a new v2 array
DEFAULT_V2_COMPRESSOR: dict[str, Any] = {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}
_REQUIRED = ("shape", "chunks", "dtype", "compressor", "fill_value", "order", "filters")


class ArrayMetadataV2(ArrayMetadata):
    """A v2 array. Build it from ``.zarray`` with :meth:`from_v2_json`, or from fields:
    ``filters`` and ``compressor`` are numcodecs configurations (with ``id``); an object array
    (``string`` / ``variable_length_bytes`` data type) gets its object codec as the first
    filter when it is missing. ``codecs`` and ``chunk_key_encoding`` are derived, never given;
    ``fill_value=None`` is zarr's ``null`` (unwritten chunks read as the data type's zero)."""

    order: Literal["C", "F"]
    filters: tuple[dict[str, Any], ...] | None
    compressor: dict[str, Any] | None
    dimension_separator: Literal[".", "/"]
    endian: Endian
    null_fill: bool

    zarr_format: ClassVar[int] = 2

    def __init__(
        self,
        shape: tuple[int, ...],
        data_type: DataType,
        chunk_shape: tuple[int, ...],
        fill_value: Any = None,
        attributes: dict[str, Any] | None = None,
        *,
        order: Literal["C", "F"] = "C",
        filters: Sequence[Mapping[str, Any]] | None = None,
        compressor: Mapping[str, Any] | None = None,
        dimension_separator: Literal[".", "/"] = ".",
        endian: Endian = "little",
    ) -> None:
        if order not in ("C", "F"):
            raise MetadataError(f"order must be 'C' or 'F', got {order!r}", field="order")
        if dimension_separator not in (".", "/"):
            raise MetadataError(
                f"dimension_separator must be '.' or '/', got {dimension_separator!r}", field="dimension_separator"
            )
        if endian not in ("little", "big", None):
            raise MetadataError(f"endian must be 'little', 'big' or None, got {endian!r}", field="dtype")
        checked = None if filters is None else tuple(check_numcodec_config(f, "filters") for f in filters)
        wanted = object_codec_id(data_type) if isinstance(data_type, DataType) else None
        if wanted is not None and not (checked and checked[0]["id"] in OBJECT_CODEC_IDS):
            checked = ({"id": wanted}, *(checked or ()))
        setattr_ = object.__setattr__
        setattr_(self, "order", order)
        setattr_(self, "filters", checked or None)
        setattr_(self, "compressor", None if compressor is None else check_numcodec_config(compressor, "compressor"))
        setattr_(self, "dimension_separator", dimension_separator)
        setattr_(self, "endian", endian if data_type.has_endianness else None)
        setattr_(self, "null_fill", fill_value is None)
        ndim = len(shape) if isinstance(shape, tuple | list) else 0
        codecs = v2_codecs(data_type, self.endian, ndim, order, self.filters, self.compressor)
        encoding = parse_chunk_key_encoding({"name": "v2", "configuration": {"separator": dimension_separator}})
        super().__init__(
            shape=shape,
            data_type=data_type,
            chunk_shape=chunk_shape,
            chunk_key_encoding=encoding,
            fill_value=fill_value,
            codecs=codecs,
            attributes={} if attributes is None else attributes,
        )

    def update(self, **changes: Any) -> ArrayMetadataV2:
        """A copy with some of ``shape``, ``chunk_shape``, ``fill_value``, ``attributes`` and the v2
        fields replaced (``codecs`` are derived: a given list is ignored)."""
        changes.pop("codecs", None)
        fields: dict[str, Any] = {
            "shape": self.shape,
            "data_type": self.data_type,
            "chunk_shape": self.chunk_shape,
            "fill_value": None if self.null_fill else self.fill_value,
            "attributes": self.attributes,
            "order": self.order,
            "filters": self.filters,
            "compressor": self.compressor,
            "dimension_separator": self.dimension_separator,
            "endian": self.endian,
        }
        unknown = set(changes) - set(fields)
        if unknown:
            raise MetadataError(f"a v2 array has no field {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
        return ArrayMetadataV2(**{**fields, **changes})

    # ---- .zarray ---------------------------------------------------------------------------

    @classmethod
    def from_v2_json(
        cls, document: Mapping[str, Any], attributes: Mapping[str, Any] | None = None, path: str = ""
    ) -> ArrayMetadataV2:
        """Parse a ``.zarray`` object (and the ``.zattrs`` object, if any); every problem is a
        MetadataError naming the field."""
        with located(path, "array"):
            return cls._parse_v2(require_mapping(document, ""), attributes)

    @classmethod
    def _parse_v2(cls, document: Mapping[str, Any], attributes: Mapping[str, Any] | None) -> ArrayMetadataV2:
        if document.get("zarr_format") != 2:
            raise MetadataError(f"zarr_format must be 2, got {document.get('zarr_format')!r}", field="zarr_format")
        for name in _REQUIRED:
            if name not in document:
                raise MetadataError("missing required field", field=name)
        shape = require_extent_tuple(document["shape"], "shape", minimum=0)
        chunks = require_extent_tuple(document["chunks"], "chunks", minimum=1)
        raw_filters = document["filters"]
        if raw_filters is not None and not isinstance(raw_filters, list):
            raise MetadataError(f"filters must be a list or null, got {raw_filters!r}", field="filters")
        filters = [check_numcodec_config(f, "filters") for f in raw_filters or ()]
        object_id = next((f["id"] for f in filters if f["id"] in OBJECT_CODEC_IDS), None)
        if object_id is None and isinstance(document["compressor"], Mapping):
            compressor_id = document["compressor"].get("id")
            object_id = compressor_id if compressor_id in OBJECT_CODEC_IDS else None
        data_type, endian = v2_dtype_from_json(document["dtype"], object_id)
        separator = document.get("dimension_separator", ".")
        if separator is None:
            separator = "."
        fill = v2_fill_from_json(document["fill_value"], data_type, endian)
        return cls(
            shape=shape,
            data_type=data_type,
            chunk_shape=chunks,
            fill_value=fill,
            attributes=parse_attributes(dict(attributes) if attributes is not None else None),
            order=document["order"],
            filters=tuple(filters) or None,
            compressor=document["compressor"],
            dimension_separator=separator,
            endian=endian,
        )

    def to_json(self) -> dict[str, Any]:
        """The ``.zarray`` object (attributes are :meth:`attributes_json`, written to ``.zattrs``)."""
        return {
            "shape": list(self.shape),
            "chunks": list(self.chunk_shape),
            "dtype": v2_dtype_to_json(self.data_type, self.endian),
            "fill_value": None if self.null_fill else v2_fill_to_json(self.fill_value, self.data_type, self.endian),
            "order": self.order,
            "filters": None if self.filters is None else [dict(f) for f in self.filters],
            "dimension_separator": self.dimension_separator,
            "compressor": None if self.compressor is None else dict(self.compressor),
            "zarr_format": 2,
        }

    def to_bytes(self) -> bytes:
        """The ``.zarray`` file contents."""
        return dump_json(self.to_json())

    def documents(self) -> dict[str, bytes]:
        """The files this array's metadata is stored in, by name: ``.zarray`` and ``.zattrs``."""
        return {".zarray": self.to_bytes(), ".zattrs": dump_json(self.attributes)}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ArrayMetadataV2):
            return NotImplemented
        return self.to_json() == other.to_json() and self.attributes == other.attributes

    __hash__ = None
