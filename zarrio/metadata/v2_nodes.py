"""Zarr v2 nodes in a store: ``.zgroup`` / ``.zarray`` / ``.zattrs`` and consolidated ``.zmetadata``.

A v2 node is several files: ``.zarray`` (an array) or ``.zgroup`` (a group), and its
attributes in ``.zattrs`` (absent: none). zarr-python's consolidated metadata is one more
file at the group, ``.zmetadata``::

    {"metadata": {".zgroup": {...}, ".zattrs": {...}, "a/.zarray": {...}, "a/.zattrs": {...}},
     "zarr_consolidated_format": 1}

which holds every file of every node below (keys relative to the group). Read, it becomes the
group's :class:`ConsolidatedMetadata`, so v2 hierarchies browse from memory as v3 ones do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ..errors import MetadataError, UnsupportedError
from ._checks import require_mapping
from .array import ArrayMetadata
from .consolidated import ConsolidatedMetadata
from .group import GroupMetadata
from .jsonio import dump_json, load_json_object
from .v2 import ArrayMetadataV2

__all__ = [
    "METADATA_NAMES",
    "V2_ARRAY_NAMES",
    "V2_GROUP_NAMES",
    "ZMETADATA",
    "GroupMetadataV2",
    "node_documents",
    "parse_v2_node",
    "parse_zmetadata",
    "zmetadata_bytes",
]

ZARRAY, ZGROUP, ZATTRS, ZMETADATA = ".zarray", ".zgroup", ".zattrs", ".zmetadata"
#: the files a v2 node may be read from, in the order :func:`parse_v2_node` takes them
V2_ARRAY_NAMES = (ZARRAY, ZGROUP, ZATTRS)
V2_GROUP_NAMES = (*V2_ARRAY_NAMES, ZMETADATA)
#: every metadata file name of either format (a key ending in one is not a chunk)
METADATA_NAMES = frozenset(("zarr.json", ZARRAY, ZGROUP, ZATTRS, ZMETADATA))


@dataclass(frozen=True)
class GroupMetadataV2(GroupMetadata):
    """A v2 group: ``.zgroup`` and its ``.zattrs``; ``consolidated_metadata`` is what its
    ``.zmetadata`` holds (v2 nodes, keyed by path relative to the group)."""

    zarr_format: ClassVar[int] = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.extra_fields:
            raise MetadataError("v2 groups have no extension fields", field="zarr_format")

    def to_json(self, *, lazy: bool = False) -> dict[str, Any]:
        """The ``.zgroup`` object (``lazy`` has nothing to do here: the members go to ``.zmetadata``)."""
        return {"zarr_format": 2}

    def to_bytes(self) -> bytes:
        return dump_json(self.to_json())

    def documents(self) -> dict[str, bytes]:
        """The files this group's metadata is stored in: ``.zgroup`` and ``.zattrs``."""
        return {ZGROUP: self.to_bytes(), ZATTRS: dump_json(self.attributes)}


def node_documents(meta: ArrayMetadata | GroupMetadata) -> dict[str, bytes]:
    """The metadata files of a node of either format, by name (relative to the node)."""
    if isinstance(meta, ArrayMetadataV2 | GroupMetadataV2):
        return meta.documents()
    return {"zarr.json": meta.to_bytes()}


def _attributes(raw: Mapping[str, Any] | None) -> dict[str, Any]:
    return {} if raw is None else dict(require_mapping(raw, "attributes"))


def _check_zgroup(document: Mapping[str, Any]) -> None:
    if document.get("zarr_format") != 2:
        raise MetadataError(f"zarr_format must be 2, got {document.get('zarr_format')!r}", field="zarr_format")


def _node_from_documents(
    zarray: Mapping[str, Any] | None, zgroup: Mapping[str, Any] | None, zattrs: Mapping[str, Any] | None, path: str
) -> ArrayMetadataV2 | GroupMetadataV2 | None:
    if zarray is not None and zgroup is not None:
        raise MetadataError("both .zarray and .zgroup are present", field="zarr_format", path=path)
    if zarray is not None:
        return ArrayMetadataV2.from_v2_json(zarray, _attributes(zattrs), path)
    if zgroup is not None:
        try:
            _check_zgroup(require_mapping(zgroup, ZGROUP))
            attributes = _attributes(zattrs)
        except MetadataError as e:
            raise MetadataError(str(e.args[0]), field=e.field, path=path) from e
        return GroupMetadataV2(attributes=attributes)
    return None


def _load(raw: bytes | None, path: str) -> dict[str, Any] | None:
    return None if raw is None else load_json_object(raw, path)


def parse_v2_node(raws: Mapping[str, bytes | None], path: str = "") -> ArrayMetadataV2 | GroupMetadataV2 | None:
    """The v2 node whose files (``.zarray``, ``.zgroup``, ``.zattrs`` and, for a group,
    ``.zmetadata``; a missing one: ``None``) are ``raws``; ``None`` when it has neither
    ``.zarray`` nor ``.zgroup``."""
    node = _node_from_documents(
        _load(raws.get(ZARRAY), path), _load(raws.get(ZGROUP), path), _load(raws.get(ZATTRS), path), path
    )
    zmetadata = raws.get(ZMETADATA)
    if isinstance(node, GroupMetadataV2) and zmetadata is not None:
        consolidated = parse_zmetadata(load_json_object(zmetadata, path), path)
        node = GroupMetadataV2(attributes=node.attributes, consolidated_metadata=consolidated)
    return node


def parse_zmetadata(document: Mapping[str, Any], path: str = "") -> ConsolidatedMetadata:
    """The nodes below the group a ``.zmetadata`` object describes."""
    version = document.get("zarr_consolidated_format")
    if version != 1:
        raise UnsupportedError(f"zarr_consolidated_format {version!r} is not supported (1 is)", field=ZMETADATA)
    files = document.get("metadata")
    if not isinstance(files, Mapping):
        raise MetadataError("'metadata' must be an object", field=ZMETADATA, path=path)
    by_node: dict[str, dict[str, Any]] = {}
    for key, value in files.items():
        node, _, name = str(key).rpartition("/")
        if name not in V2_ARRAY_NAMES:
            continue  # zarr-python keeps only these; anything else is not ours to read
        if not isinstance(value, Mapping):
            raise MetadataError(f"entry {key!r} is not a JSON object", field=ZMETADATA, path=path)
        by_node.setdefault(node, {})[name] = value
    prefix = f"{path}/" if path else ""
    nodes: dict[str, ArrayMetadata | GroupMetadata] = {}
    for rel, found in by_node.items():
        if not rel:
            continue  # the consolidating group itself
        meta = _node_from_documents(found.get(ZARRAY), found.get(ZGROUP), found.get(ZATTRS), prefix + rel)
        if meta is not None:
            nodes[rel] = meta
    return ConsolidatedMetadata(nodes)


def _depth_then_name(key: str) -> tuple[int, str]:
    return key.count("/"), key


def zmetadata_bytes(group: GroupMetadataV2, nodes: Mapping[str, ArrayMetadata | GroupMetadata]) -> bytes:
    """The ``.zmetadata`` of ``group`` and the v2 ``nodes`` below it (keyed by relative path)."""
    files: dict[str, Any] = {ZGROUP: group.to_json(), ZATTRS: group.attributes}
    for rel in sorted(nodes, key=_depth_then_name):
        meta = nodes[rel]
        if not isinstance(meta, ArrayMetadataV2 | GroupMetadataV2):
            raise UnsupportedError(f"{rel!r} is a Zarr v3 node inside a v2 hierarchy", field=ZMETADATA)
        name = ZARRAY if isinstance(meta, ArrayMetadataV2) else ZGROUP
        files[f"{rel}/{name}"] = meta.to_json()
        files[f"{rel}/{ZATTRS}"] = meta.attributes
    return dump_json({"metadata": files, "zarr_consolidated_format": 1})
