"""A NumPy model of a zarrio array for the property, interop and stress tests (issue 13).

- codec chains as zarr.json objects, built level by level so that a transpose may sit in front of
  any sharding level and inside any inner chain (:func:`codec_chain`);
- selections: basic (ints, negative ints, slices with either step sign, ``...``) and orthogonal
  (integer arrays and boolean masks per dimension), with the NumPy result each one must give
  (:func:`expected_selection`);
- bit-exact comparison (:func:`assert_same`): shape, dtype and every byte, so NaN payloads,
  ``-0.0`` and the fill value of unwritten regions all count;
- the stores under test, blocking (memory, local) and not (ForwardingStore, read-only zip).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zarrio.stores import LocalStore, MemoryStore, Store, ZipStore
from zarrio.testing import ForwardingStore

Codec = dict[str, Any]

FIXED_DTYPES = (
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
    "complex64",
    "complex128",
)
BLOSC_CNAMES = ("lz4", "lz4hc", "blosclz", "zstd", "zlib")
BLOSC_SHUFFLES = ("noshuffle", "shuffle", "bitshuffle")
#: the stores a property case can live in; the first two have blocking access (the engine's
#: worker-thread path), the last two do not (the async driver)
STORE_KINDS = ("memory", "local", "forwarding", "zip")


# ------------------------------------------------------------------ codecs
def transpose(order: Sequence[int]) -> Codec:
    return {"name": "transpose", "configuration": {"order": list(order)}}


def bytes_codec(endian: str | None = "little") -> Codec:
    return {"name": "bytes"} if endian is None else {"name": "bytes", "configuration": {"endian": endian}}


def gzip(level: int = 1) -> Codec:
    return {"name": "gzip", "configuration": {"level": level}}


def zstd(level: int = 1, checksum: bool = False) -> Codec:
    return {"name": "zstd", "configuration": {"level": level, "checksum": checksum}}


def blosc(cname: str = "lz4", shuffle: str = "shuffle", clevel: int = 1, typesize: int | None = None) -> Codec:
    config: dict[str, Any] = {"cname": cname, "clevel": clevel, "shuffle": shuffle, "blocksize": 0}
    if typesize is not None:
        config["typesize"] = typesize
    return {"name": "blosc", "configuration": config}


CRC32C: Codec = {"name": "crc32c"}


def sharding(chunk_shape: Sequence[int], codecs: list[Codec], *, index_location: str, index_crc: bool) -> Codec:
    index_codecs = [bytes_codec("little"), *([CRC32C] if index_crc else [])]
    return {
        "name": "sharding_indexed",
        "configuration": {
            "chunk_shape": list(chunk_shape),
            "codecs": codecs,
            "index_codecs": index_codecs,
            "index_location": index_location,
        },
    }


def permute(shape: Sequence[int], order: Sequence[int]) -> tuple[int, ...]:
    """The shape a transpose with ``order`` gives an array of ``shape``."""
    return tuple(shape[i] for i in order)


@dataclass(frozen=True)
class ChainChoice:
    """The choices for one level of a codec chain (drawn by a strategy, or written out by hand)."""

    order: tuple[int, ...] | None = None  # a transpose in front of this level's array->bytes codec
    endian: str | None = "little"  # the leaf's bytes codec (ignored above a sharding codec)
    compressors: tuple[Codec, ...] = ()  # bytes->bytes codecs after the array->bytes codec
    index_location: str = "end"
    index_crc: bool = True


def codec_chain(
    levels: Sequence[Sequence[int]], choices: Sequence[ChainChoice], serializer: Codec | None = None
) -> list[Codec]:
    """The codecs of a chunk whose inner sharding levels have chunk shapes ``levels`` (outermost
    first, in the coordinates of this chain's input); ``choices`` has one entry per level plus the
    leaf. A transpose in front of a sharding codec turns the inner shapes the way it turns the data.
    ``serializer`` replaces the leaf's bytes codec (vlen-utf8 for strings)."""
    choice, rest = choices[0], choices[1:]
    codecs: list[Codec] = []
    if choice.order is not None:
        codecs.append(transpose(choice.order))
        levels = [permute(level, choice.order) for level in levels]
    if levels:
        inner = codec_chain(levels[1:], rest, serializer)
        codecs.append(sharding(levels[0], inner, index_location=choice.index_location, index_crc=choice.index_crc))
    else:
        codecs.append(serializer if serializer is not None else bytes_codec(choice.endian))
    codecs.extend(choice.compressors)
    return codecs


# ------------------------------------------------------------------ selections
def normalize_selection(selection: Any, ndim: int) -> tuple[Any, ...]:
    """``selection`` with ``...`` expanded and missing trailing dimensions filled: one entry per axis."""
    items = selection if isinstance(selection, tuple) else (selection,)
    if any(item is Ellipsis for item in items):
        at = next(i for i, item in enumerate(items) if item is Ellipsis)
        fill = ndim - (len(items) - 1)
        items = (*items[:at], *([slice(None)] * fill), *items[at + 1 :])
    return (*items, *([slice(None)] * (ndim - len(items))))


def is_orthogonal(selection: Any) -> bool:
    """Whether the selection holds an integer array or a mask (else it is basic indexing)."""
    items = selection if isinstance(selection, tuple) else (selection,)
    return any(isinstance(item, np.ndarray | list) for item in items)


def single_advanced(selection: Any) -> bool:
    """One integer array or mask and no int: NumPy's indexing and orthogonal indexing agree."""
    items = selection if isinstance(selection, tuple) else (selection,)
    arrays = sum(isinstance(item, np.ndarray | list) for item in items)
    return arrays == 1 and not any(isinstance(item, int | np.integer) for item in items)


def expected_selection(model: np.ndarray[Any, Any], selection: Any) -> Any:
    """What NumPy gives for ``selection`` read orthogonally (one axis at a time; an int drops its axis).
    For basic selections that is exactly ``model[selection]``."""
    if not is_orthogonal(selection):
        return model[selection]
    result = model
    axis = 0
    for item in normalize_selection(selection, model.ndim):
        index: list[Any] = [slice(None)] * result.ndim
        index[axis] = item
        result = result[tuple(index)]
        if not isinstance(item, int | np.integer):
            axis += 1
    return result


def assert_same(got: Any, expected: Any, context: str = "") -> None:
    """Bit-exact equality: shape, dtype and bytes (NaN payloads and -0.0 count); strings by value."""
    where = f" ({context})" if context else ""
    # one element of a string array: a str, or a 0-d object array (NumPy gives that for ``(i, ...)``)
    got, expected = (
        v[()] if isinstance(v, np.ndarray) and v.dtype.hasobject and not v.shape else v for v in (got, expected)
    )
    if isinstance(expected, str):
        assert isinstance(got, str) and got == expected, f"{got!r} != {expected!r}{where}"
        return
    got_a, want_a = np.asarray(got), np.asarray(expected)
    assert got_a.shape == want_a.shape, f"shape {got_a.shape} != {want_a.shape}{where}"
    assert got_a.dtype == want_a.dtype, f"dtype {got_a.dtype} != {want_a.dtype}{where}"
    if want_a.dtype.hasobject:
        assert got_a.tolist() == want_a.tolist(), f"values differ{where}:\n{got_a!r}\n!=\n{want_a!r}"
        return
    if np.ascontiguousarray(got_a).tobytes() != np.ascontiguousarray(want_a).tobytes():
        raise AssertionError(f"values differ{where}:\n{got_a!r}\n!=\n{want_a!r}")


# ------------------------------------------------------------------ values
def random_values(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray[Any, Any]:
    """Values covering the dtype's whole bit space (floats from random bits: NaNs with payloads,
    infinities, subnormals), with -0.0, NaN and infinities mixed in for floats."""
    dt = np.dtype(dtype)
    n = int(np.prod(shape))
    if dt.kind == "b":
        return rng.integers(0, 2, n, dtype=np.uint8).astype(bool).reshape(shape)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return rng.integers(int(info.min), int(info.max), n, dtype=dt, endpoint=True).reshape(shape)
    width = dt.itemsize if dt.kind == "f" else dt.itemsize // 2
    bits = rng.integers(0, 2 ** (8 * width), n * (1 if dt.kind == "f" else 2), dtype=np.uint64, endpoint=False)
    parts = bits.astype(f"<u{width}").view(f"<f{width}")
    specials = np.array([np.nan, -0.0, 0.0, np.inf, -np.inf, 1.0], dtype=f"<f{width}")
    picks = rng.random(parts.size) < 0.2
    parts[picks] = specials[rng.integers(0, specials.size, int(picks.sum()))]
    return parts.view(dt).reshape(shape).copy() if dt.kind == "c" else parts.astype(dt).reshape(shape)


# ------------------------------------------------------------------ stores
@dataclass
class StoreCase:
    """One store kind: ``writer`` takes the writes, ``reader()`` gives the store reads go to
    (for a zip archive, the read-only archive the writer wrote)."""

    kind: str
    root: Path
    writer: Store = field(init=False)
    _reader: Store | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.kind == "memory":
            self.writer = MemoryStore()
        elif self.kind == "local":
            self.writer = LocalStore(self.root / "array.zarr")
        elif self.kind == "forwarding":
            self.writer = ForwardingStore(MemoryStore())
        elif self.kind == "zip":
            self.writer = ZipStore(self.root / "array.zip", mode="w")
        else:
            raise ValueError(self.kind)

    def reader(self) -> Store:
        if self.kind != "zip":
            return self.writer
        if self._reader is None:
            self.writer.close()
            self._reader = ZipStore(self.root / "array.zip")
        return self._reader

    def close(self) -> None:
        if isinstance(self.writer, ZipStore):
            self.writer.close()
        if isinstance(self._reader, ZipStore):
            self._reader.close()


@contextlib.contextmanager
def store_case(kind: str, root: Path) -> Iterator[StoreCase]:
    case = StoreCase(kind, root)
    try:
        yield case
    finally:
        case.close()
