"""``numcodecs.json2``: the object codec of Zarr v2 object arrays holding JSON values.

numcodecs' ``JSON`` codec (id ``json2``, what zarr-python 2 writes with
``object_codec=numcodecs.JSON()``) stores a chunk as one JSON document: the chunk's items as
nested lists (``ndarray.tolist()``, the logical order, whatever the array's ``order``), then
its dtype string (``"|O"``) and its shape: ``[{"a":1},[1,2],"x","|O",[3]]``. The configuration
is numcodecs' (``encoding``, ``skipkeys``, ``ensure_ascii``, ``check_circular``,
``allow_nan``, ``sort_keys``, ``indent``, ``separators``, ``strict``); encoding uses it as
numcodecs does, so the bytes are the same.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import CodecError, CorruptChunkError
from ._config import fail, reject_unknown_keys
from .base import JSON, ArrayBytesCodec, Buffer, ChunkSpec, register_codec

__all__ = ["Json2Codec"]

_DEFAULTS: dict[str, Any] = {
    "encoding": "utf-8",
    "skipkeys": False,
    "ensure_ascii": True,
    "check_circular": True,
    "allow_nan": True,
    "sort_keys": True,
    "indent": None,
    "separators": None,
    "strict": True,
}


def _place(items: Any, out: np.ndarray[Any, Any], at: tuple[int, ...], codec: str) -> None:
    """Place ``items`` (lists nested as deep as ``out`` has axes left after ``at``) into ``out``,
    descending no deeper: items that are lists themselves stay lists."""
    if len(at) == out.ndim:
        out[at] = items
        return
    if not isinstance(items, list) or len(items) != out.shape[len(at)]:
        raise CorruptChunkError(f"the items do not form a chunk of shape {list(out.shape)}", codec=codec)
    for index, item in enumerate(items):
        _place(item, out, (*at, index), codec)


@register_codec("numcodecs.json2")
class Json2Codec(ArrayBytesCodec):
    def __init__(self, **config: Any) -> None:
        self.config = {**_DEFAULTS, **config}
        separators = self.config["separators"]
        if separators is None:
            separators = (",", ":") if self.config["indent"] is None else (", ", ": ")
        self._encoder = json.JSONEncoder(
            skipkeys=bool(self.config["skipkeys"]),
            ensure_ascii=bool(self.config["ensure_ascii"]),
            check_circular=bool(self.config["check_circular"]),
            allow_nan=bool(self.config["allow_nan"]),
            sort_keys=bool(self.config["sort_keys"]),
            indent=self.config["indent"],
            separators=tuple(separators),
        )
        self._decoder = json.JSONDecoder(strict=bool(self.config["strict"]))
        self._encoding = str(self.config["encoding"])

    @classmethod
    def from_config(cls, configuration: Mapping[str, JSON]) -> Json2Codec:
        reject_unknown_keys(cls.name, configuration, tuple(_DEFAULTS))
        return cls(**dict(configuration))

    def to_json(self) -> dict[str, JSON]:
        return {"name": self.name, "configuration": dict(self.config)}

    def validate(self, spec: ChunkSpec) -> None:
        if spec.dtype.kind != "O":
            fail(self.name, f"needs an object data type, got {spec.dtype}")

    def encode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> bytes:
        array = np.asarray(chunk, dtype=object)
        items: list[Any] = np.atleast_1d(array).tolist()
        items.extend((array.dtype.str, list(array.shape)))
        try:
            return self._encoder.encode(items).encode(self._encoding)
        except (TypeError, ValueError) as e:  # an item JSON cannot hold (a numpy scalar, a set, ...)
            raise CodecError(f"cannot encode as JSON: {e}", codec=self.name) from e

    def decode(self, data: Buffer, spec: ChunkSpec) -> np.ndarray[Any, Any]:
        try:
            items = self._decoder.decode(bytes(memoryview(data)).decode(self._encoding))
        except (UnicodeDecodeError, ValueError) as e:
            raise CorruptChunkError(f"not a JSON chunk: {e}", codec=self.name) from e
        if not isinstance(items, list) or len(items) < 2 or not isinstance(items[-1], list):
            raise CorruptChunkError("a JSON chunk ends with its dtype and shape", codec=self.name)
        shape = tuple(items[-1])
        if shape != tuple(spec.shape):
            raise CorruptChunkError(f"chunk of shape {list(shape)}, expected {list(spec.shape)}", codec=self.name)
        out = np.empty(spec.shape, dtype=object)
        values = items[:-2]
        _place(values[0] if not shape else values, out, (), self.name)
        return out
