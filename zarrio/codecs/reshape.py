"""The ``reshape`` codec (zarr-extensions): gives a chunk another shape with the same elements in
the same C order (a view, no copy).

Each entry of ``shape`` is a positive size, a list of input dimensions whose sizes multiply into
this one (``[[0, 1], [2], 3]``; the listed dimensions increase strictly over the whole list and
must line up with the output position), or ``-1`` once (whatever makes the element counts agree).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._config import fail, reject_unknown_keys
from .base import JSON, ArrayArrayCodec, ChunkSpec, register_codec

__all__ = ["ReshapeCodec"]

NAME = "reshape"
Entry = int | tuple[int, ...]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@register_codec(NAME)
class ReshapeCodec(ArrayArrayCodec):
    def __init__(self, shape: Sequence[JSON]) -> None:
        if isinstance(shape, str | bytes) or not isinstance(shape, Sequence):
            fail(NAME, f"shape must be a list, got {shape!r}")
        entries: list[Entry] = []
        for item in shape:
            if _is_int(item):
                if item == 0 or item < -1:
                    fail(NAME, f"a shape entry must be positive or -1, got {item}")
                entries.append(int(item))
            elif isinstance(item, list) and all(_is_int(dim) and dim >= 0 for dim in item):
                entries.append(tuple(int(dim) for dim in item))
            else:
                fail(NAME, f"a shape entry must be an integer or a list of input dimensions, got {item!r}")
        if sum(1 for entry in entries if entry == -1) > 1:
            fail(NAME, "-1 may appear at most once in shape")
        dims = [dim for entry in entries if isinstance(entry, tuple) for dim in entry]
        if any(b <= a for a, b in itertools.pairwise(dims)):
            fail(NAME, f"the input dimensions must increase strictly over the whole shape, got {dims}")
        self.shape: tuple[Entry, ...] = tuple(entries)

    @classmethod
    def from_config(cls, configuration: Mapping[str, JSON]) -> ReshapeCodec:
        reject_unknown_keys(NAME, configuration, {"shape"})
        if "shape" not in configuration:
            fail(NAME, "configuration needs 'shape'")
        return cls(configuration["shape"])

    def to_json(self) -> dict[str, JSON]:
        shape = [list(entry) if isinstance(entry, tuple) else entry for entry in self.shape]
        return {"name": NAME, "configuration": {"shape": shape}}

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """The encoded shape for chunks of ``input_shape`` (MetadataError when the counts cannot agree)."""
        sizes: list[int | None] = []
        for entry in self.shape:
            if isinstance(entry, tuple):
                if any(dim >= len(input_shape) for dim in entry):
                    fail(NAME, f"input dimensions {list(entry)} do not exist in a chunk of rank {len(input_shape)}")
                sizes.append(math.prod(input_shape[dim] for dim in entry))
            else:
                sizes.append(None if entry == -1 else entry)
        total = math.prod(input_shape)
        known = math.prod(size for size in sizes if size is not None)
        if None in sizes:
            if known == 0 or total % known:
                fail(NAME, f"cannot infer -1: {total} elements do not divide into {known}")
            sizes[sizes.index(None)] = total // known
        result = tuple(int(size) for size in sizes if size is not None)
        if math.prod(result) != total:
            fail(
                NAME, f"shape {list(result)} holds {math.prod(result)} elements, the chunk {list(input_shape)} {total}"
            )
        for i, entry in enumerate(self.shape):
            if isinstance(entry, tuple) and entry:
                before, after = math.prod(result[:i]), math.prod(result[i + 1 :])
                if before != math.prod(input_shape[: entry[0]]) or after != math.prod(input_shape[entry[-1] + 1 :]):
                    fail(NAME, f"output dimension {i} ({list(entry)}) does not line up with the input dimensions")
        return result

    def validate(self, spec: ChunkSpec) -> None:
        self.output_shape(spec.shape)

    def resolve_spec(self, spec: ChunkSpec) -> ChunkSpec:
        return spec.with_shape(self.output_shape(spec.shape))

    def encode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> np.ndarray[Any, Any]:
        return np.asarray(chunk).reshape(self.output_shape(spec.shape))

    def decode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> np.ndarray[Any, Any]:
        return chunk.reshape(spec.shape)
