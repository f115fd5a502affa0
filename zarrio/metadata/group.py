"""Group metadata: a zarr.json with ``"node_type": "group"``.

Written in zarr-python 3.4.2's field order: ``attributes``, ``zarr_format``,
``consolidated_metadata`` (only when present), ``node_type``, then any kept
extension fields. ``"consolidated_metadata": null`` (older zarr-python) reads
as "not consolidated" and is not written back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..errors import MetadataError
from ._checks import located, require_mapping
from .consolidated import ConsolidatedMetadata
from .fields import check_zarr_format, parse_attributes, parse_extension_fields
from .jsonio import dump_json

__all__ = ["GroupMetadata"]

_KNOWN = frozenset(("zarr_format", "node_type", "attributes", "consolidated_metadata"))


@dataclass(frozen=True)
class GroupMetadata:
    attributes: dict[str, Any] = field(default_factory=dict)
    consolidated_metadata: ConsolidatedMetadata | None = None
    extra_fields: dict[str, Any] = field(default_factory=dict)

    zarr_format: ClassVar[int] = 3
    node_type: ClassVar[str] = "group"

    def __post_init__(self) -> None:
        if not isinstance(self.attributes, dict):
            raise MetadataError("attributes must be a dict", field="attributes")
        if self.consolidated_metadata is not None and not isinstance(self.consolidated_metadata, ConsolidatedMetadata):
            raise MetadataError("expected ConsolidatedMetadata or None", field="consolidated_metadata")

    @classmethod
    def from_json(cls, document: Mapping[str, Any], path: str = "") -> GroupMetadata:
        """Validate and parse a group's zarr.json object."""
        with located(path, "group"):
            return cls._parse(document, path)

    @classmethod
    def _parse(cls, document: Mapping[str, Any], path: str) -> GroupMetadata:
        document = require_mapping(document, "")
        check_zarr_format(document, "group")
        extra_fields = parse_extension_fields(document, _KNOWN)
        consolidated = ConsolidatedMetadata.from_json(document.get("consolidated_metadata"), path, cls.from_json)
        return cls(
            attributes=parse_attributes(document.get("attributes")),
            consolidated_metadata=consolidated,
            extra_fields=extra_fields,
        )

    def to_json(self, *, lazy: bool = False) -> dict[str, Any]:
        """The zarr.json document; ``lazy``: consolidated members' documents made as they are read."""
        document: dict[str, Any] = {"attributes": self.attributes, "zarr_format": 3}
        if self.consolidated_metadata is not None:
            document["consolidated_metadata"] = self.consolidated_metadata.to_json(lazy=lazy)
        document["node_type"] = "group"
        document.update(self.extra_fields)
        return document

    def to_bytes(self) -> bytes:
        return dump_json(self.to_json(lazy=True), members_at=("consolidated_metadata", "metadata"))

    def update(self, **changes: Any) -> GroupMetadata:
        return dataclasses.replace(self, **changes)
