"""Parsers for zarr.json fields shared by arrays and groups (not public)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import MetadataError, UnsupportedError

__all__ = [
    "check_zarr_format",
    "parse_attributes",
    "parse_codecs",
    "parse_dimension_names",
    "parse_extension_fields",
    "parse_storage_transformers",
]


def check_zarr_format(document: Mapping[str, Any], node_type: str | None) -> None:
    """zarr_format must be 3; node_type must be ``node_type`` (when given)."""
    zarr_format = document.get("zarr_format")
    if type(zarr_format) is not int or zarr_format != 3:
        if zarr_format is None:
            raise MetadataError("missing zarr_format (is this a Zarr v3 node?)", field="zarr_format")
        raise MetadataError(f"zarr_format must be 3, got {zarr_format!r}", field="zarr_format")
    if node_type is not None and document.get("node_type") != node_type:
        raise MetadataError(f"node_type must be {node_type!r}, got {document.get('node_type')!r}", field="node_type")


def parse_extension_fields(document: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    """Unknown top-level fields: kept when they say ``"must_understand": false``, refused otherwise."""
    extras: dict[str, Any] = {}
    for key, value in document.items():
        if key in known:
            continue
        if isinstance(value, Mapping) and value.get("must_understand") is False:
            extras[key] = value
            continue
        raise UnsupportedError(
            f'unknown field {key!r} without "must_understand": false (an extension zarrio does not implement)',
            field=key,
        )
    return extras


def parse_codecs(value: object) -> tuple[dict[str, Any], ...]:
    """Each codec is kept as given; a bare name ``"gzip"`` becomes ``{"name": "gzip"}``."""
    if not isinstance(value, list | tuple):
        raise MetadataError(f"codecs must be a list, got {type(value).__name__}", field="codecs")
    if not value:
        raise MetadataError("codecs must not be empty (an array needs an array -> bytes codec)", field="codecs")
    return tuple(parse_codec(item) for item in value)


def parse_codec(item: object) -> dict[str, Any]:
    if isinstance(item, str):
        return {"name": item}
    if isinstance(item, dict):
        if not isinstance(item.get("name"), str):
            raise MetadataError(f"each codec needs a string 'name', got {item.get('name')!r}", field="codecs")
        if "configuration" in item and not isinstance(item["configuration"], Mapping):
            raise MetadataError(f"codec {item['name']!r}: configuration must be an object", field="codecs")
        return item
    raise MetadataError(f"each codec must be an object or a name, got {type(item).__name__}", field="codecs")


def parse_attributes(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MetadataError(f"attributes must be an object, got {type(value).__name__}", field="attributes")
    return value


def parse_dimension_names(value: object, ndim: int) -> tuple[str | None, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple):
        raise MetadataError(f"dimension_names must be a list, got {type(value).__name__}", field="dimension_names")
    if len(value) != ndim:
        raise MetadataError(f"{len(value)} dimension names for {ndim} dimensions", field="dimension_names")
    for name in value:
        if name is not None and not isinstance(name, str):
            raise MetadataError(f"dimension names must be strings or null, got {name!r}", field="dimension_names")
    return tuple(value)


def parse_storage_transformers(value: object) -> tuple[dict[str, Any], ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise MetadataError("storage_transformers must be a list", field="storage_transformers")
    if value:
        raise UnsupportedError("storage transformers are not supported", field="storage_transformers")
    return ()
