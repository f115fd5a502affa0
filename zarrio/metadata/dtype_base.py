"""The :class:`DataType` contract every Zarr v3 data type implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from ..errors import MetadataError
from .fill_encoding import FILL_FIELD

__all__ = ["DataType", "fill_error"]

JSON = Any


def fill_error(value: object, data_type: DataType, why: str = "") -> MetadataError:
    detail = f": {why}" if why else ""
    return MetadataError(f"invalid fill value {value!r} for data type {data_type.name!r}{detail}", field=FILL_FIELD)


class DataType(ABC):
    """One Zarr v3 data type: its zarr.json form, its numpy form and its fill values.

    Fill values travel in three forms:

    * the JSON form found in zarr.json (``fill_from_json`` / ``fill_to_json``);
    * the in-memory value: a numpy scalar of :attr:`numpy_dtype` (``str`` or
      ``bytes`` for the variable-length types);
    * whatever a user passes (``fill_from_user``): Python or numpy values, or the
      JSON forms; ``None`` means the data type's default.
    """

    __slots__ = ()

    @property
    @abstractmethod
    def name(self) -> str:
        """The canonical zarr.json name (``"int16"``, ``"numpy.datetime64"``, ...)."""

    @property
    @abstractmethod
    def numpy_dtype(self) -> np.dtype[Any]:
        """The in-memory numpy dtype, native byte order (``object`` for variable-length types)."""

    @property
    def is_variable_length(self) -> bool:
        """True for ``string`` and ``variable_length_bytes`` (stored through vlen codecs)."""
        return False

    @property
    def item_size(self) -> int | None:
        """Bytes per element, or ``None`` for variable-length types."""
        return None if self.is_variable_length else self.numpy_dtype.itemsize

    @property
    def has_endianness(self) -> bool:
        """Whether the byte order matters (the ``bytes`` codec needs an ``endian``)."""
        return not self.is_variable_length and self.numpy_dtype.itemsize > 1

    @abstractmethod
    def to_json(self) -> JSON:
        """The exact ``data_type`` value of zarr.json."""

    @abstractmethod
    def fill_from_json(self, value: object) -> Any:
        """Parse a zarr.json ``fill_value``; raise MetadataError(field="fill_value") if invalid."""

    @abstractmethod
    def fill_to_json(self, value: Any) -> JSON:
        """The zarr.json ``fill_value`` for a fill value (any form ``fill_from_user`` accepts)."""

    @abstractmethod
    def fill_from_user(self, value: object) -> Any:
        """A fill value from user input (``None`` -> :attr:`default_fill`)."""

    @property
    def default_fill(self) -> Any:
        """The fill value zarr-python 3.4 uses when none is given."""
        return self.fill_from_user(None)

    def __str__(self) -> str:
        return self.name
