"""The ``zfp`` codec (zarr-extensions): an array->bytes codec holding a chunk as one zfp stream,
without zfp's header (the configuration says everything the header would), through the optional
``zfpy`` package (``pip install zarrio[zfp]``).

Modes: ``reversible`` (lossless), ``fixed_accuracy`` (``tolerance``), ``fixed_rate`` (``rate``),
``fixed_precision`` (``precision``); ``expert`` is refused (zfpy cannot set its four parameters).
Data types: ``int32``, ``int64``, ``float32``, ``float64``; chunks of rank 1 to 4 (rank 0 as one
element), as zfp's ``[nw, nz, ny, nx]`` fields. The lower-precision promotions the spec allows are
not done. ``numcodecs.zfpy`` (with the header) is a different codec, see ``numcodecs_compat``.

A zfp stream carries neither its length nor a checksum: a stream that is not whole 64-bit words is
a :class:`CorruptChunkError`, but a stream cut at a word boundary decodes to wrong values. Put
``crc32c`` after ``zfp`` where stored chunks may be damaged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import CodecError, CorruptChunkError, UnsupportedError
from ._config import config_choice, config_int, fail, reject_unknown_keys
from .base import JSON, ArrayBytesCodec, Buffer, ChunkSpec, register_codec

__all__ = ["ZfpCodec"]

NAME = "zfp"
MODES = {
    "reversible": (),
    "fixed_accuracy": ("tolerance",),
    "fixed_rate": ("rate",),
    "fixed_precision": ("precision",),
    "expert": ("minbits", "maxbits", "maxprec", "minexp"),
}
DTYPES = frozenset({"int32", "int64", "float32", "float64"})


def _zfpy() -> Any:
    try:
        import zfpy
    except ImportError as e:
        raise UnsupportedError(f"codec {NAME!r} needs the zfpy package: install zarrio[zfp]", field="codecs") from e
    return zfpy


@register_codec(NAME)
class ZfpCodec(ArrayBytesCodec):
    def __init__(self, mode: str, **parameters: JSON) -> None:
        self.mode = config_choice(NAME, "mode", mode, MODES)
        missing = sorted(set(MODES[self.mode]) - set(parameters))
        if missing:
            fail(NAME, f"mode {self.mode!r} needs {missing}")
        reject_unknown_keys(NAME, parameters, MODES[self.mode])
        for key in ("tolerance", "rate"):
            if key in parameters:
                value = parameters[key]
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    fail(NAME, f"{key} must be a non-negative number, got {value!r}")
        if "precision" in parameters:
            config_int(NAME, "precision", parameters["precision"], low=0, high=64)
        self.parameters: dict[str, JSON] = dict(parameters)
        if self.mode == "expert":
            raise UnsupportedError(f"codec {NAME!r}: mode 'expert' is not implemented (zfpy cannot set it)")
        self._zfpy = _zfpy()

    @classmethod
    def from_config(cls, configuration: Mapping[str, JSON]) -> ZfpCodec:
        if "mode" not in configuration:
            fail(NAME, "configuration needs 'mode'")
        parameters = {key: value for key, value in configuration.items() if key != "mode"}
        return cls(configuration["mode"], **parameters)

    def to_json(self) -> dict[str, JSON]:
        return {"name": NAME, "configuration": {"mode": self.mode, **self.parameters}}

    def validate(self, spec: ChunkSpec) -> None:
        if spec.dtype.name not in DTYPES:
            fail(NAME, f"unsupported data type {spec.dtype} (int32, int64, float32, float64)")
        if len(spec.shape) > 4:
            fail(NAME, f"chunks of rank {len(spec.shape)} are not supported (at most 4)")

    def _keywords(self) -> dict[str, Any]:
        if self.mode == "fixed_accuracy":
            return {"tolerance": float(self.parameters["tolerance"])}
        if self.mode == "fixed_rate":
            return {"rate": float(self.parameters["rate"])}
        if self.mode == "fixed_precision":
            return {"precision": int(self.parameters["precision"])}
        return {}

    @staticmethod
    def _field_shape(spec: ChunkSpec) -> list[int]:
        return list(spec.shape) if spec.shape else [1]

    def encode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> bytes:
        if 0 in spec.shape:
            return b""
        field = np.ascontiguousarray(chunk, dtype=spec.dtype).reshape(self._field_shape(spec))
        try:
            encoded: bytes = self._zfpy.compress_numpy(field, write_header=False, **self._keywords())
        except Exception as e:
            raise CodecError(f"zfp could not compress the chunk: {e}", codec=NAME) from e
        return encoded

    def decode(self, data: Buffer, spec: ChunkSpec) -> np.ndarray[Any, Any]:
        if 0 in spec.shape:
            return np.empty(spec.shape, dtype=spec.dtype)
        payload = bytes(data)
        if not payload or len(payload) % 8:  # zfp flushes its stream to whole 64-bit words
            raise CorruptChunkError(f"a zfp stream of {len(payload)} bytes (not whole 64-bit words)", codec=NAME)
        # zfp's reader has no bounds: zeros after a truncated stream keep it inside the buffer
        payload += bytes(max(0, 2 * spec.nbytes + 4096 - len(payload)))
        ztype = self._zfpy.dtype_to_ztype(spec.dtype)
        out = np.zeros(self._field_shape(spec), dtype=spec.dtype)
        try:
            self._zfpy._decompress(payload, ztype, self._field_shape(spec), out=out, **self._keywords())
        except Exception as e:
            raise CorruptChunkError(f"zfp could not decompress the chunk: {e}", codec=NAME) from e
        return out.reshape(spec.shape)
