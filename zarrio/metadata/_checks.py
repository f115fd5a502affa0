"""Small validation helpers shared by the metadata modules (not public)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..errors import MetadataError

__all__ = ["MAX_EXTENT", "located", "relocate", "require_extent_tuple", "require_mapping", "require_str"]

#: Shapes and chunk shapes must stay below 2**63 (they index with int64).
MAX_EXTENT = 2**63


def require_mapping(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MetadataError(f"expected a JSON object, got {type(value).__name__}", field=field)
    return value


def require_str(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise MetadataError(f"expected a string, got {type(value).__name__}", field=field)
    return value


def require_extent_tuple(value: object, field: str, *, minimum: int) -> tuple[int, ...]:
    """A list of ints (Python or numpy; never bools), each in ``[minimum, 2**63)``."""
    if not isinstance(value, list | tuple):
        raise MetadataError(f"expected a list of integers, got {type(value).__name__}", field=field)
    extents = []
    for item in value:
        if isinstance(item, bool | np.bool_) or not isinstance(item, int | np.integer):
            raise MetadataError(f"expected integers, got {item!r}", field=field)
        extent = int(item)
        if not minimum <= extent < MAX_EXTENT:
            raise MetadataError(f"{extent} is out of range [{minimum}, 2**63)", field=field)
        extents.append(extent)
    return tuple(extents)


def relocate(error: MetadataError, path: str) -> MetadataError:
    """The same error (same class and field) with the node path attached."""
    message = str(error.args[0]) if error.args else str(error)
    suffix = f" (field {error.field!r})" if error.field else ""
    if suffix and message.endswith(suffix):
        message = message[: -len(suffix)]
    return type(error)(message, field=error.field, path=path)


#: what a parser of untrusted JSON may raise besides MetadataError
_FOREIGN_ERRORS = (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError, RecursionError)


@contextmanager
def located(path: str, what: str) -> Iterator[None]:
    """Errors of the parse inside get the node ``path``; any other error from parsing
    untrusted JSON becomes a MetadataError about invalid ``what`` metadata."""
    try:
        yield
    except MetadataError as e:
        if e.path is not None:
            raise
        raise relocate(e, path) from e
    except _FOREIGN_ERRORS as e:
        raise MetadataError(f"invalid {what} metadata: {e!r}", path=path) from e
