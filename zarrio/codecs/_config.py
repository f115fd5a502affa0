"""Small helpers shared by the codec modules: reading ``configuration`` objects
and turning foreign failures into typed zarrio errors."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, NoReturn

from ..errors import MetadataError

__all__ = ["config_bool", "config_choice", "config_int", "reject_unknown_keys", "fail"]

FIELD = "codecs"


def fail(codec: str, message: str) -> NoReturn:
    raise MetadataError(f"codec {codec!r}: {message}", field=FIELD)


def reject_unknown_keys(codec: str, configuration: Mapping[str, Any], allowed: Collection[str]) -> None:
    unknown = sorted(set(configuration) - set(allowed))
    if unknown:
        fail(codec, f"unknown configuration keys {unknown}")


def config_int(codec: str, key: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an int (bools rejected), checked against the inclusive bounds."""
    if isinstance(value, bool) or not isinstance(value, int):
        fail(codec, f"{key} must be an integer, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        fail(codec, f"{key} must be in [{low}, {high}], got {value}")
    return int(value)


def config_bool(codec: str, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        fail(codec, f"{key} must be true or false, got {value!r}")
    return value


def config_choice(codec: str, key: str, value: Any, choices: Collection[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        fail(codec, f"{key} must be one of {sorted(choices)}, got {value!r}")
    return value
