"""Reading and writing zarr.json text.

zarr-python writes attributes holding NaN and ±Infinity as the bare tokens
``NaN``, ``Infinity`` and ``-Infinity`` (not strict JSON); both directions
accept them here. Documents are written as zarr-python writes them: two-space
indentation, ASCII with ``\\u`` escapes. numpy scalars and arrays in
attributes become plain JSON values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import MetadataError

__all__ = ["dump_json", "load_json_object", "to_plain_json"]


def load_json_object(raw: bytes | bytearray | memoryview | str, path: str | None = None) -> dict[str, Any]:
    """Parse a zarr.json document; anything but a JSON object raises MetadataError."""
    try:
        text = raw if isinstance(raw, str) else bytes(raw).decode("utf-8")
        document = json.loads(text)
    except UnicodeDecodeError as e:
        raise MetadataError(f"zarr.json is not UTF-8: {e}", path=path) from e
    except ValueError as e:  # JSONDecodeError, and integers longer than Python's digit limit
        raise MetadataError(f"zarr.json is not valid JSON: {e}", path=path) from e
    except RecursionError as e:
        raise MetadataError("zarr.json is nested too deeply", path=path) from e
    if not isinstance(document, dict):
        raise MetadataError(f"zarr.json must hold a JSON object, not {type(document).__name__}", path=path)
    return document


def _plain_scalar(value: object) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.str_):
        return str(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise MetadataError(f"{type(value).__name__} values cannot be stored in zarr.json", field="attributes")


#: stands in for the mapping whose members are written one at a time, until the rest is written
_MEMBERS_TOKEN = "\u0000zarrio-members\u0000"


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=2, allow_nan=True, default=_plain_scalar)


def dump_json(document: Mapping[str, Any], *, members_at: tuple[str, ...] = ()) -> bytes:
    """Serialise a metadata document the way zarr-python does (two-space indentation).

    ``members_at`` names a mapping inside the document by its keys (a group's
    ``("consolidated_metadata", "metadata")``) whose members are serialised one at a time, so
    a lazy mapping (:class:`~zarrio.metadata.consolidated.MemberDocuments`) never has all its
    documents made at once. The bytes are the same either way."""
    try:
        taken = _take_members(document, members_at) if members_at else None
        if taken is None:
            return _dumps(document).encode("ascii")
        outer, members = taken
        text = _dumps(outer)
        token = _dumps(_MEMBERS_TOKEN)
        if text.count(token) != 1 or not members:  # the same text elsewhere (in attributes), or nothing to add
            return _dumps(document).encode("ascii")
        at = text.index(token)
        indent = "\n" + " " * (at - text.rindex("\n", 0, at) - 1 - len(_dumps(members_at[-1])) - 2)
        inner = indent + "  "
        lines = [inner + _dumps(str(k)) + ": " + _dumps(v).replace("\n", inner) for k, v in members.items()]
        return (text[:at] + "{" + ",".join(lines) + indent + "}" + text[at + len(token) :]).encode("ascii")
    except (TypeError, ValueError, RecursionError) as e:
        raise MetadataError(f"cannot serialise metadata as JSON: {e}", field="attributes") from e


def _take_members(
    document: Mapping[str, Any], keys: tuple[str, ...]
) -> tuple[dict[str, Any], Mapping[str, Any]] | None:
    """A shallow copy of ``document`` with the mapping at ``keys`` replaced by the stand-in, and
    that mapping; ``None`` when the document has no mapping there."""
    head, *rest = keys
    inner = document.get(head)
    if not isinstance(inner, Mapping):
        return None
    if not rest:
        return {**document, head: _MEMBERS_TOKEN}, inner
    taken = _take_members(inner, tuple(rest))
    return None if taken is None else ({**document, head: taken[0]}, taken[1])


def to_plain_json(value: Any) -> Any:
    """A deep copy of ``value`` made only of dict, list, str, int, float, bool and None."""
    return json.loads(dump_json({"value": value}))["value"]
