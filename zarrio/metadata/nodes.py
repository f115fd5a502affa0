"""Reading any zarr.json, and building new array metadata from user-friendly inputs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TypeAlias

import numpy as np

from ..errors import MetadataError
from ._checks import relocate, require_extent_tuple
from .array import ArrayMetadata
from .chunk_grids import RectilinearChunkGrid, RegularChunkGrid
from .chunk_key_encoding import ChunkKeyEncoding, parse_chunk_key_encoding
from .data_types import parse_data_type
from .defaults import default_codecs
from .fields import check_zarr_format, parse_codec
from .group import GroupMetadata
from .jsonio import load_json_object, to_plain_json

__all__ = ["NodeMetadata", "ShapeLike", "create_array_metadata", "parse_metadata"]

NodeMetadata: TypeAlias = ArrayMetadata | GroupMetadata
ShapeLike: TypeAlias = int | np.integer[Any] | Sequence[int] | np.ndarray[Any, Any]


class CodecLike(Protocol):
    def to_json(self) -> dict[str, Any]: ...


def parse_metadata(raw: bytes | bytearray | memoryview | str, path: str = "") -> NodeMetadata:
    """Parse the bytes of a zarr.json (NaN / Infinity tokens allowed) into array or group metadata."""
    document = load_json_object(raw, path)
    node_type = document.get("node_type")
    try:
        check_zarr_format(document, None)
    except MetadataError as e:
        raise relocate(e, path) from e
    if node_type == "array":
        return ArrayMetadata.from_json(document, path)
    if node_type == "group":
        return GroupMetadata.from_json(document, path)
    raise MetadataError(f"node_type must be 'array' or 'group', got {node_type!r}", field="node_type", path=path)


def _codec_json(codec: object) -> dict[str, Any]:
    to_json = getattr(codec, "to_json", None)
    if callable(to_json) and not isinstance(codec, Mapping):
        codec = to_json()
    if isinstance(codec, Mapping) and not isinstance(codec, dict):
        codec = dict(codec)
    return parse_codec(to_plain_json(codec) if isinstance(codec, dict) else codec)


def _is_scalar(value: object) -> bool:
    return not isinstance(value, list | tuple) and not (isinstance(value, np.ndarray) and value.ndim > 0)


def _extents(value: object, field: str, minimum: int) -> tuple[int, ...]:
    """An int, or a list / tuple / numpy array of ints."""
    if isinstance(value, np.ndarray):
        value = [value.item()] if value.ndim == 0 else value.tolist()
    items = list(value) if isinstance(value, list | tuple) else [value]
    return require_extent_tuple(items, field, minimum=minimum)


def create_array_metadata(
    shape: ShapeLike,
    dtype: object,
    chunks: ShapeLike | RegularChunkGrid | RectilinearChunkGrid | None = None,
    fill_value: object = None,
    codecs: Sequence[Mapping[str, Any] | str | CodecLike] | None = None,
    attributes: Mapping[str, Any] | None = None,
    dimension_names: Sequence[str | None] | None = None,
    chunk_key_encoding: str | Mapping[str, Any] | ChunkKeyEncoding = "default",
) -> ArrayMetadata:
    """New array metadata from user-friendly inputs.

    ``dtype``: anything :func:`parse_data_type` takes. ``chunks``: ``None`` (one
    chunk for the whole array), an int (the same along every dimension), a
    sequence or a chunk grid object (:mod:`zarrio.metadata.chunk_grids`).
    ``fill_value``: anything ``fill_from_user`` takes (``None`` -> the
    data type's default). ``codecs``: zarr.json objects, names or codec objects
    with ``to_json()`` (``None`` -> :func:`default_codecs`). ``attributes`` are
    copied as plain JSON (numpy values converted).
    """
    array_shape = _extents(shape, "shape", 0)
    grid: RegularChunkGrid | RectilinearChunkGrid | None = None
    if isinstance(chunks, RegularChunkGrid | RectilinearChunkGrid):
        grid, chunk_shape = chunks, None
    elif chunks is None:
        chunk_shape = tuple(max(extent, 1) for extent in array_shape)
    elif _is_scalar(chunks):
        chunk_shape = _extents([chunks] * len(array_shape), "chunk_grid", 1)
    else:
        chunk_shape = _extents(chunks, "chunk_grid", 1)
    data_type = parse_data_type(dtype)
    codec_list = default_codecs(data_type) if codecs is None else tuple(_codec_json(codec) for codec in codecs)
    if not codec_list:
        raise MetadataError("codecs must not be empty", field="codecs")
    return ArrayMetadata(
        shape=array_shape,
        data_type=data_type,
        chunk_shape=chunk_shape,
        chunk_grid=grid,
        chunk_key_encoding=parse_chunk_key_encoding(chunk_key_encoding),
        fill_value=data_type.fill_from_user(fill_value),
        codecs=codec_list,
        attributes=to_plain_json(dict(attributes or {})),
        dimension_names=None if dimension_names is None else tuple(dimension_names),
    )
