"""The ``packbits`` codec (zarr-extensions): an array->bytes codec that stores each element in as
few bits as its type needs (1 for bool, 2 for int2/uint2, 4 for int4/uint4/float4_e2m1fn, 6 for
the float6 types; the full width for the others, or the bits ``first_bit``..``last_bit``). A
complex type packs its real and imaginary parts as two components: complex64/complex128, and the
``[("real", T), ("imag", T)]`` pairs of the low-precision complex types (4 bits a part for
complex_float4_e2m1fn).

The bit sequence holds element ``i`` at bits ``[i*k, (i+1)*k)``, least significant bit first, the
last byte padded with zeros; ``padding_encoding`` ``"first_byte"`` / ``"last_byte"`` adds a byte
with the number of padding bits (checked when decoding), ``"none"`` (default) does not; a chunk
of a type whose every bit is kept in whole bytes reads with or without that byte, as zarrs (0.23)
writes none there (zarrio always writes it, as the spec says). Decoding
shifts the bits back to ``first_bit`` and sign-extends signed integers. The registry's schema
spells the keys ``start_bit`` / ``end_bit`` and ``start_byte`` / ``end_byte``: read as aliases.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import CorruptChunkError
from ._config import config_choice, config_int, fail, reject_unknown_keys
from ._numeric import low_precision
from .base import JSON, ArrayBytesCodec, Buffer, ChunkSpec, register_codec

__all__ = ["PackBitsCodec", "component_bits"]

NAME = "packbits"
PADDING = {"none": "none", "first_byte": "first_byte", "last_byte": "last_byte", "start_byte": "first_byte"}
PADDING["end_byte"] = "last_byte"
#: bits of the low-precision ml_dtypes types narrower than their byte
_NARROW_BITS = {
    "int2": 2,
    "uint2": 2,
    "int4": 4,
    "uint4": 4,
    "float4_e2m1fn": 4,
    "float6_e2m3fn": 6,
    "float6_e3m2fn": 6,
}
_UNSIGNED: dict[int, np.dtype[Any]] = {
    1: np.dtype(np.uint8),
    2: np.dtype(np.uint16),
    4: np.dtype(np.uint32),
    8: np.dtype(np.uint64),
}


def component_bits(dtype: np.dtype[Any]) -> tuple[int, int, bool] | None:
    """(bits per component, components per element, signed) for the types packbits supports."""
    if dtype.kind == "b":
        return 1, 1, False
    if low_precision(dtype):
        bits = _NARROW_BITS.get(dtype.name, dtype.itemsize * 8)
        return bits, 1, dtype.name in ("int2", "int4")
    if dtype.kind in "iuf" and dtype.itemsize in _UNSIGNED:
        return dtype.itemsize * 8, 1, dtype.kind == "i"
    if dtype.kind == "c" and dtype.itemsize in (8, 16):
        return dtype.itemsize * 4, 2, False
    part = _pair_part(dtype)
    if part is not None:  # complex_bfloat16, complex_float16, complex_float8_*, ...: two parts of one type
        found = component_bits(part)
        return None if found is None else (found[0], 2, False)
    return None


def _pair_part(dtype: np.dtype[Any]) -> np.dtype[Any] | None:
    """The part type of a ``[("real", T), ("imag", T)]`` pair of floats (the low-precision complex types)."""
    if dtype.names != ("real", "imag") or dtype.fields is None:
        return None
    real, imag = dtype.fields["real"][0], dtype.fields["imag"][0]
    if real != imag or dtype.itemsize != 2 * real.itemsize or not (low_precision(real) or real.kind == "f"):
        return None
    return real


@register_codec(NAME)
class PackBitsCodec(ArrayBytesCodec):
    def __init__(self, padding_encoding: str = "none", first_bit: int | None = None, last_bit: int | None = None):
        self.padding_encoding = PADDING[config_choice(NAME, "padding_encoding", padding_encoding, PADDING)]
        self.first_bit = None if first_bit is None else config_int(NAME, "first_bit", first_bit, low=0)
        self.last_bit = None if last_bit is None else config_int(NAME, "last_bit", last_bit, low=0)
        if self.first_bit is not None and self.last_bit is not None and self.last_bit < self.first_bit:
            fail(NAME, f"last_bit {self.last_bit} is less than first_bit {self.first_bit}")

    @classmethod
    def from_config(cls, configuration: Mapping[str, JSON]) -> PackBitsCodec:
        reject_unknown_keys(NAME, configuration, {"padding_encoding", "first_bit", "last_bit", "start_bit", "end_bit"})
        first = configuration.get("first_bit", configuration.get("start_bit"))
        last = configuration.get("last_bit", configuration.get("end_bit"))
        return cls(configuration.get("padding_encoding", "none"), first, last)

    def to_json(self) -> dict[str, JSON]:
        config: dict[str, JSON] = {}
        if self.padding_encoding != "none":
            config["padding_encoding"] = self.padding_encoding
        if self.first_bit is not None:
            config["first_bit"] = self.first_bit
        if self.last_bit is not None:
            config["last_bit"] = self.last_bit
        return {"name": NAME, "configuration": config}

    def _layout(self, dtype: np.dtype[Any]) -> tuple[int, int, int, bool, int]:
        """(N bits per component, components, first bit, signed, bits kept per component)."""
        found = component_bits(dtype)
        if found is None:
            fail(NAME, f"unsupported data type {dtype}")
        bits, components, signed = found
        first = self.first_bit or 0
        last = bits - 1 if self.last_bit is None else self.last_bit
        if last >= bits or first > last:
            fail(NAME, f"bits {first}..{last} do not fit a {bits}-bit component of {dtype}")
        return bits, components, first, signed, last - first + 1

    def validate(self, spec: ChunkSpec) -> None:
        self._layout(spec.dtype)

    def _sizes(self, spec: ChunkSpec) -> tuple[int, int]:
        """(bytes of packed elements, padding bits)."""
        _, components, _, _, kept = self._layout(spec.dtype)
        total_bits = math.prod(spec.shape) * components * kept
        return -(-total_bits // 8), -total_bits % 8

    def _marker_optional(self, dtype: np.dtype[Any]) -> bool:
        """Whether a chunk may come without its padding byte: zarrs (0.23) leaves it out when every
        bit of a whole-byte component is kept (the ``bytes`` layout), where it would always say 0."""
        bits, _, first, _, kept = self._layout(dtype)
        return self.padding_encoding != "none" and first == 0 and kept == bits and bits % 8 == 0

    def compute_encoded_size(self, spec: ChunkSpec) -> int | None:
        packed, _ = self._sizes(spec)
        if self._marker_optional(spec.dtype):
            return None  # with or without the padding byte
        return packed + (self.padding_encoding != "none")

    def _patterns(self, chunk: np.ndarray[Any, Any], dtype: np.dtype[Any], bits: int) -> np.ndarray[Any, Any]:
        flat = np.ascontiguousarray(chunk, dtype=dtype).reshape(-1)
        if dtype.kind == "b":
            return flat.astype(np.uint64)
        if dtype.kind == "c":
            flat = flat.view(np.dtype(f"float{bits}"))
        elif dtype.fields is not None:  # a pair of parts: each part its own component
            parts = flat.view(np.uint8).reshape(flat.size * 2, -1)
            return parts.view(_UNSIGNED[parts.shape[1]]).reshape(-1).astype(np.uint64)
        patterns: np.ndarray[Any, Any] = flat.view(_UNSIGNED[bits // 8 if bits >= 8 else 1]).astype(np.uint64)
        return patterns

    def encode(self, chunk: np.ndarray[Any, Any], spec: ChunkSpec) -> bytes:
        bits, _, first, _, kept = self._layout(spec.dtype)
        patterns = self._patterns(chunk, spec.dtype, bits)
        values = (patterns >> np.uint64(first)) & np.uint64((1 << kept) - 1)
        shifts = np.arange(kept, dtype=np.uint64)
        sequence = ((values[:, None] >> shifts) & np.uint64(1)).astype(np.uint8).reshape(-1)
        packed = np.packbits(sequence, bitorder="little").tobytes()
        _, padding = self._sizes(spec)
        if self.padding_encoding == "first_byte":
            return bytes([padding]) + packed
        if self.padding_encoding == "last_byte":
            return packed + bytes([padding])
        return packed

    def decode(self, data: Buffer, spec: ChunkSpec) -> np.ndarray[Any, Any]:
        bits, components, first, signed, kept = self._layout(spec.dtype)
        raw = np.frombuffer(data, dtype=np.uint8)
        packed_size, padding = self._sizes(spec)
        expected = packed_size + (self.padding_encoding != "none")
        marked = self.padding_encoding != "none"
        if raw.size == packed_size and self._marker_optional(spec.dtype):
            marked = False
        elif raw.size != expected:
            raise CorruptChunkError(f"expected {expected} bytes, got {raw.size}", codec=NAME)
        if marked:
            marker = raw[0] if self.padding_encoding == "first_byte" else raw[-1]
            if marker != padding:
                raise CorruptChunkError(f"padding byte says {marker} bits, expected {padding}", codec=NAME)
            raw = raw[1:] if self.padding_encoding == "first_byte" else raw[:-1]
        count = math.prod(spec.shape) * components
        sequence = np.unpackbits(raw, bitorder="little", count=count * kept).reshape(count, kept).astype(np.uint64)
        values = np.zeros(count, dtype=np.uint64)
        for bit in range(kept):
            values |= sequence[:, bit] << np.uint64(bit)
        patterns = values << np.uint64(first)
        top = first + kept - 1
        if signed and top < bits - 1:
            negative = (patterns >> np.uint64(top)) & np.uint64(1) == 1
            above = np.uint64(((1 << bits) - 1) ^ ((1 << (top + 1)) - 1))
            patterns = np.where(negative, patterns | above, patterns)
        if spec.dtype.kind == "b":
            return patterns.astype(np.bool_).reshape(spec.shape)
        unsigned = _UNSIGNED[bits // 8 if bits >= 8 else 1]
        decoded: np.ndarray[Any, Any] = patterns.astype(unsigned).view(spec.dtype).reshape(spec.shape)
        return decoded
