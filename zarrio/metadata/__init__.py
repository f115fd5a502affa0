"""The Zarr v3 data model: zarr.json <-> frozen dataclasses.

Arrays (:class:`ArrayMetadata`), groups (:class:`GroupMetadata`) with
consolidated metadata (:class:`ConsolidatedMetadata`), data types and fill
values (:class:`DataType`, :func:`parse_data_type`), chunk key encodings
(:class:`ChunkKeyEncoding`). This package knows nothing of stores or codecs:
codecs are kept as their zarr.json objects.
"""

from .array import ArrayMetadata
from .chunk_key_encoding import ChunkKeyEncoding, parse_chunk_key_encoding
from .consolidated import ConsolidatedMetadata
from .data_types import (
    BoolType,
    ComplexType,
    DataType,
    FixedLengthUTF32Type,
    FloatType,
    IntType,
    NullTerminatedBytesType,
    RawBytesType,
    StringType,
    StructType,
    TimeType,
    VariableLengthBytesType,
    data_type_from_json,
    data_type_from_numpy,
    parse_data_type,
)
from .defaults import default_codecs
from .group import GroupMetadata
from .jsonio import dump_json, load_json_object, to_plain_json
from .nodes import NodeMetadata, create_array_metadata, parse_metadata

__all__ = [
    "ArrayMetadata",
    "BoolType",
    "ChunkKeyEncoding",
    "ComplexType",
    "ConsolidatedMetadata",
    "DataType",
    "FixedLengthUTF32Type",
    "FloatType",
    "GroupMetadata",
    "IntType",
    "NodeMetadata",
    "NullTerminatedBytesType",
    "RawBytesType",
    "StringType",
    "StructType",
    "TimeType",
    "VariableLengthBytesType",
    "create_array_metadata",
    "data_type_from_json",
    "data_type_from_numpy",
    "default_codecs",
    "dump_json",
    "load_json_object",
    "parse_chunk_key_encoding",
    "parse_data_type",
    "parse_metadata",
    "to_plain_json",
]
