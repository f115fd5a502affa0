"""JSON values: the items of a Zarr v2 object array encoded with numcodecs' ``json2``.

In memory an ``object`` array of what :func:`json.loads` returns (dicts, lists, strings,
numbers, booleans, ``None``). The fill value is any JSON value, ``null`` (``None``) by
default, as zarr-python 2 writes it. Zarr v3 has no such data type: these arrays are Zarr v2
only (a v3 array of them is an :class:`~zarrio.errors.UnsupportedError`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from .dtype_base import JSON, DataType, fill_error

__all__ = ["JsonValuesType"]


@dataclass(frozen=True)
class JsonValuesType(DataType):
    """Any JSON value per element (Zarr v2 ``"|O"`` with the ``json2`` object codec)."""

    #: no Zarr v3 data type holds these: only a Zarr v2 array may
    v2_only = True

    @property
    def name(self) -> str:
        return "json"

    @property
    def numpy_dtype(self) -> np.dtype[Any]:
        return np.dtype(object)

    @property
    def is_variable_length(self) -> bool:
        return True

    def to_json(self) -> JSON:
        return self.name

    def fill_from_json(self, value: object) -> Any:
        return value

    def fill_to_json(self, value: Any) -> JSON:
        fill = self.fill_from_user(value)
        try:
            json.dumps(fill, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise fill_error(value, self, "expected a JSON value") from e
        return fill

    def fill_from_user(self, value: object) -> Any:
        return value
