"""Consolidated metadata: every descendant's zarr.json inlined in a group's zarr.json.

zarr-python 3.4.2's form (``consolidated_metadata`` of the group document)::

    {"kind": "inline", "must_understand": false,
     "metadata": {"sub": {...group...}, "sub/arr": {...array...}}}

Keys are paths relative to the consolidating group, all descendants at one
level (not nested). Written with keys ordered by depth, then by name, as
zarr-python orders them. ``null`` means "not consolidated".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..errors import MetadataError, UnsupportedError
from ._checks import require_mapping
from .array import ArrayMetadata

if TYPE_CHECKING:
    from .group import GroupMetadata

__all__ = ["ConsolidatedMetadata", "MemberDocuments"]

FIELD = "consolidated_metadata"


def _check_relative_path(key: str) -> None:
    if (
        not key
        or "\\" in key
        or "\x00" in key
        or key.startswith("/")
        or key.endswith("/")
        or any(part in ("", ".", "..") for part in key.split("/"))
    ):
        raise MetadataError(f"invalid node path {key!r} in consolidated metadata", field=FIELD)


def _depth_then_name(key: str) -> tuple[int, str]:
    return key.count("/"), key


@dataclass(frozen=True)
class ConsolidatedMetadata:
    metadata: dict[str, ArrayMetadata | GroupMetadata] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key, node in self.metadata.items():
            if not isinstance(key, str):
                raise MetadataError(f"node paths must be strings, got {key!r}", field=FIELD)
            _check_relative_path(key)
            if not isinstance(node, ArrayMetadata) and getattr(node, "node_type", None) != "group":
                raise MetadataError(f"entry {key!r} is not array or group metadata", field=FIELD)

    @classmethod
    def from_json(
        cls, value: object, path: str, parse_group: Callable[[Mapping[str, Any], str], GroupMetadata]
    ) -> ConsolidatedMetadata | None:
        """Parse the ``consolidated_metadata`` value (``None`` / null -> ``None``); group entries are
        parsed with ``parse_group`` (``GroupMetadata.from_json``, which holds this class, not the reverse)."""
        if value is None:
            return None
        document = require_mapping(value, FIELD)
        kind = document.get("kind")
        if kind != "inline":
            if document.get("must_understand") is False:
                return None  # an unknown kind we may ignore
            raise UnsupportedError(f"unsupported consolidated metadata kind {kind!r}", field=FIELD)
        entries = require_mapping(document.get("metadata", {}), FIELD)
        metadata: dict[str, ArrayMetadata | GroupMetadata] = {}
        prefix = f"{path}/" if path else ""
        for key, child in entries.items():
            _check_relative_path(key)  # before the path is used in error messages
            child_document = require_mapping(child, FIELD)
            node_type = child_document.get("node_type")
            if node_type == "array":
                metadata[key] = ArrayMetadata.from_json(child_document, prefix + key)
            elif node_type == "group":
                metadata[key] = parse_group(child_document, prefix + key)
            else:
                raise MetadataError(f"entry {key!r} has node_type {node_type!r}", field=FIELD, path=path)
        return cls(metadata)

    def to_json(self, *, lazy: bool = False) -> dict[str, Any]:
        """The ``consolidated_metadata`` document; ``lazy``: its members' documents are made one at
        a time as they are read (:class:`MemberDocuments`), not all held at once."""
        ordered = sorted(self.metadata, key=_depth_then_name)
        members = MemberDocuments(self.metadata, ordered)
        return {"kind": "inline", "must_understand": False, "metadata": members if lazy else dict(members)}

    def get(self, path: str) -> ArrayMetadata | GroupMetadata | None:
        """The metadata of the node at ``path`` (relative to the consolidating group)."""
        return self.metadata.get(path)

    def children(self, prefix: str = "") -> Iterator[tuple[str, ArrayMetadata | GroupMetadata]]:
        """Direct children of the node at ``prefix`` ("" = the consolidating group) as (name, metadata)."""
        for key in self._children_by_parent.get(prefix, ()):
            yield key.rpartition("/")[2], self.metadata[key]

    @cached_property
    def _children_by_parent(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = {}
        for key in sorted(self.metadata):
            index.setdefault(key.rpartition("/")[0], []).append(key)
        return index

    def subtree(self, prefix: str) -> ConsolidatedMetadata:
        """The entries below ``prefix``, re-keyed relative to it (for opening a subgroup)."""
        start = f"{prefix}/"
        return ConsolidatedMetadata(
            {key[len(start) :]: node for key, node in self.metadata.items() if key.startswith(start)}
        )

    def __len__(self) -> int:
        return len(self.metadata)

    def __contains__(self, path: object) -> bool:
        return path in self.metadata


class MemberDocuments(Mapping[str, Any]):
    """Path -> document of consolidated members, each document made when it is read. Written
    out one by one, a hierarchy of 20,000 nodes never holds 20,000 documents (some 200,000 dicts
    for the garbage collector to walk again at every full collection)."""

    def __init__(self, metadata: Mapping[str, ArrayMetadata | GroupMetadata], ordered: list[str]) -> None:
        self._metadata = metadata
        self._ordered = ordered

    def __getitem__(self, key: str) -> dict[str, Any]:
        return self._metadata[key].to_json()

    def __iter__(self) -> Iterator[str]:
        return iter(self._ordered)

    def __len__(self) -> int:
        return len(self._ordered)
