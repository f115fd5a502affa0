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


def dump_json(document: Mapping[str, Any]) -> bytes:
    """Serialise a metadata document the way zarr-python does."""
    try:
        text = json.dumps(document, indent=2, allow_nan=True, default=_plain_scalar)
    except (TypeError, ValueError, RecursionError) as e:
        raise MetadataError(f"cannot serialise metadata as JSON: {e}", field="attributes") from e
    return text.encode("ascii")


def to_plain_json(value: Any) -> Any:
    """A deep copy of ``value`` made only of dict, list, str, int, float, bool and None."""
    return json.loads(dump_json({"value": value}))["value"]
