"""The ``transpose`` codec: permutes the axes of a chunk (a view, no copy)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._config import fail, reject_unknown_keys
from .base import JSON, ArrayArrayCodec, ChunkSpec, register_codec

__all__ = ["TransposeCodec"]


@register_codec("transpose")
class TransposeCodec(ArrayArrayCodec):
    """``order[i]`` is the input axis that becomes output axis ``i``."""

    def __init__(self, order: Sequence[int]) -> None:
        if isinstance(order, str | bytes) or not isinstance(order, Sequence):
            fail("transpose", f"order must be a list of integers, got {order!r}")
        if not all(isinstance(axis, int) and not isinstance(axis, bool) for axis in order):
            fail("transpose", f"order must be a list of integers, got {list(order)!r}")
        if sorted(order) != list(range(len(order))):
            fail("transpose", f"order must be a permutation of 0..{len(order) - 1}, got {list(order)}")
        self.order: tuple[int, ...] = tuple(order)
        self.inverse: tuple[int, ...] = tuple(int(axis) for axis in np.argsort(self.order))

    @classmethod
    def from_config(cls, configuration: Mapping[str, JSON]) -> TransposeCodec:
        reject_unknown_keys("transpose", configuration, {"order"})
        if "order" not in configuration:
            fail("transpose", "configuration needs 'order'")
        return cls(order=configuration["order"])

    def to_json(self) -> dict[str, JSON]:
        return {"name": "transpose", "configuration": {"order": list(self.order)}}

    def validate(self, spec: ChunkSpec) -> None:
        if len(self.order) != len(spec.shape):
            fail("transpose", f"order {list(self.order)} does not match a chunk of rank {len(spec.shape)}")

    def resolve_spec(self, spec: ChunkSpec) -> ChunkSpec:
        return spec.with_shape(tuple(spec.shape[axis] for axis in self.order))

    def encode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> np.ndarray[Any, Any]:
        return chunk.transpose(self.order)

    def decode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> np.ndarray[Any, Any]:
        return chunk.transpose(self.inverse)
