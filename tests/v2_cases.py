"""The Zarr v2 case matrix shared by tests/test_v2_interop.py and the reference interpreter.

Imported by both interpreters (numpy only): each case is one v2 array, written by
zarr-python 3.4.2 and by zarrio with the same arguments, over the codec / data type /
order / separator / fill value matrix of issue 15. ``fill`` is the fill value to pass
(``DEFAULT``: none given, the data type's default; ``None``: zarr's ``null``). The data
covers all but the last chunk along the first axis, so unwritten chunks read as fill.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

DEFAULT = "<default>"
BLOSC_LZ4 = {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}

CASES: dict[str, dict[str, Any]] = {
    "f8-blosc-nan": {"dtype": "<f8", "shape": (9, 7), "chunks": (4, 3), "fill": math.nan, "compressor": BLOSC_LZ4},
    "f4-big-F-slash-neginf": {
        "dtype": ">f4", "shape": (6, 5, 4), "chunks": (4, 2, 3), "order": "F", "separator": "/",
        "fill": -math.inf, "compressor": {"id": "zlib", "level": 4},
    },
    "i2-F-gzip": {"dtype": "<i2", "shape": (7, 6), "chunks": (3, 4), "order": "F", "fill": 7,
                  "compressor": {"id": "gzip", "level": 5}},
    "u8-null-fill-zstd": {"dtype": "<u8", "shape": (10,), "chunks": (4,), "fill": None,
                          "compressor": {"id": "zstd", "level": 3}},
    "i8-big-lzma": {"dtype": ">i8", "shape": (9,), "chunks": (4,), "fill": -(2**62),
                    "compressor": {"id": "lzma", "format": 1, "check": -1, "preset": None, "filters": None}},
    "i4-delta-blosc-zstd-bitshuffle": {
        "dtype": "<i4", "shape": (12, 5), "chunks": (5, 5), "fill": 0,
        "filters": [{"id": "delta", "dtype": "<i4"}],
        "compressor": {"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 2, "blocksize": 0},
    },
    "f8-fixedscaleoffset-lz4": {
        "dtype": "<f8", "shape": (11,), "chunks": (4,), "fill": 1000.0,
        "filters": [{"id": "fixedscaleoffset", "offset": 1000, "scale": 10, "dtype": "<f8", "astype": "<u2"}],
        "compressor": {"id": "lz4", "acceleration": 1},
    },
    "f4-quantize-bz2": {
        "dtype": "<f4", "shape": (10,), "chunks": (3,), "fill": 0.5,
        "filters": [{"id": "quantize", "digits": 3, "dtype": "<f4"}], "compressor": {"id": "bz2", "level": 9},
    },
    "f4-bitround-shuffle-zlib": {
        "dtype": "<f4", "shape": (8, 8), "chunks": (3, 8), "fill": DEFAULT,
        "filters": [{"id": "bitround", "keepbits": 10}, {"id": "shuffle", "elementsize": 4}],
        "compressor": {"id": "zlib", "level": 1},
    },
    "f8-astype-f4": {
        "dtype": "<f8", "shape": (9,), "chunks": (4,), "fill": 2.5,
        "filters": [{"id": "astype", "encode_dtype": "<f4", "decode_dtype": "<f8"}], "compressor": None,
    },
    "bool-packbits": {"dtype": "|b1", "shape": (5, 7), "chunks": (2, 7), "fill": True,
                      "filters": [{"id": "packbits"}], "compressor": None},
    "c16-fill-complex": {"dtype": "<c16", "shape": (7,), "chunks": (3,), "fill": complex(1.5, -math.inf),
                         "compressor": BLOSC_LZ4},
    "datetime-ns-nat": {"dtype": "<M8[ns]", "shape": (7,), "chunks": (3,), "fill": DEFAULT,
                        "compressor": BLOSC_LZ4},
    "timedelta-s": {"dtype": "<m8[s]", "shape": (7,), "chunks": (3,), "fill": 5, "compressor": None},
    "S5-base64-fill": {"dtype": "|S5", "shape": (7,), "chunks": (3,), "fill": b"ab", "compressor": BLOSC_LZ4},
    "U4-F": {"dtype": "<U4", "shape": (5, 3), "chunks": (2, 2), "order": "F", "fill": "zz",
             "compressor": {"id": "zlib", "level": 1}},
    "U5-categorize": {
        "dtype": "<U5", "shape": (9,), "chunks": (4,), "fill": DEFAULT, "compressor": None,
        "filters": [{"id": "categorize", "labels": ["a", "bc", "é", "∂x"], "dtype": "<U5", "astype": "|u1"}],
    },
    "V3-raw": {"dtype": "|V3", "shape": (7,), "chunks": (3,), "fill": DEFAULT, "compressor": None},
    "struct-null": {"dtype": [["a", "<i4"], ["b", "<f8"], ["c", "|S2"]], "shape": (7,), "chunks": (3,),
                    "fill": None, "compressor": BLOSC_LZ4},
    "struct-big": {"dtype": [["x", ">u2"], ["y", ">f4"]], "shape": (5,), "chunks": (2,), "fill": None,
                   "compressor": {"id": "zstd", "level": 1}},
    "str-vlen-utf8": {"dtype": "str", "shape": (4, 3), "chunks": (3, 2), "fill": DEFAULT, "compressor": BLOSC_LZ4},
    "str-F-slash": {"dtype": "str", "shape": (4, 3), "chunks": (3, 2), "order": "F", "separator": "/",
                    "fill": "∅", "compressor": None},
    "bytes-vlen-bytes": {"dtype": "bytes", "shape": (7,), "chunks": (3,), "fill": DEFAULT,
                         "compressor": {"id": "zstd", "level": 1}},
    "rank0-f8": {"dtype": "<f8", "shape": (), "chunks": (), "fill": DEFAULT, "compressor": None},
}  # fmt: skip


def numpy_dtype(case: dict[str, Any]) -> np.dtype[Any]:
    """The in-memory dtype of a case (object for the variable-length ones)."""
    spec = case["dtype"]
    if spec in ("str", "bytes"):
        return np.dtype(object)
    if isinstance(spec, list):
        return np.dtype([(name, np.dtype(text).newbyteorder("=")) for name, text in spec])
    return np.dtype(spec).newbyteorder("=")


def region(case: dict[str, Any]) -> tuple[slice, ...]:
    """Where the data is written: everything but the last chunk along the first axis."""
    shape, chunks = case["shape"], case["chunks"]
    if not shape:
        return ()
    last = (shape[0] - 1) // chunks[0] * chunks[0]
    return (slice(0, max(last, 1)), *(slice(None) for _ in shape[1:]))


def _strings(rng: np.random.Generator, n: int) -> list[str]:
    alphabet = ["a", "bc", "", "é", "∂x", "long text", "🙂"]
    return [alphabet[i] * int(k) for i, k in zip(rng.integers(0, len(alphabet), n), rng.integers(0, 3, n), strict=True)]


def data(name: str) -> np.ndarray[Any, Any]:
    """The values written into ``region`` of case ``name`` (deterministic)."""
    case = CASES[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    shape = tuple(s.stop - s.start if s.stop is not None else n
                  for s, n in zip(region(case), case["shape"], strict=True))  # fmt: skip
    n = math.prod(shape)
    dtype = numpy_dtype(case)
    spec = case["dtype"]
    if spec == "str":
        return np.array(_strings(rng, n), dtype=object).reshape(shape)
    if spec == "bytes":
        return np.array([s.encode() for s in _strings(rng, n)], dtype=object).reshape(shape)
    if dtype.kind == "f" and case.get("filters", [{}])[0].get("id") == "fixedscaleoffset":
        return (1000 + rng.integers(0, 500, n) / 10).reshape(shape).astype(dtype)
    raw = rng.integers(0, 256, n * dtype.itemsize, dtype=np.uint8).tobytes()
    values = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    if dtype.kind == "f":
        values = rng.normal(0, 100, n).reshape(shape).astype(dtype)
        values.flat[: min(n, 2)] = [math.nan, -0.0][: min(n, 2)]
    elif dtype.kind == "c":
        values = (rng.normal(size=n) + 1j * rng.normal(size=n)).reshape(shape).astype(dtype)
    elif dtype.kind == "b":
        values = rng.integers(0, 2, n).astype(bool).reshape(shape)
    elif dtype.kind in "Mm":
        values = rng.integers(-(10**12), 10**12, n).astype(np.int64).view(dtype).reshape(shape)
        values.flat[0] = np.array("NaT", dtype=dtype)
    elif dtype.kind == "U":
        values = np.array([s[:4] for s in _strings(rng, n)], dtype=dtype).reshape(shape)
    elif dtype.kind == "S":
        values = np.array([s.encode()[:5] for s in _strings(rng, n)], dtype=dtype).reshape(shape)
    elif dtype.names is not None:
        for field in dtype.names:
            sub = dtype.fields[field][0]  # type: ignore[index]
            if sub.kind == "f":
                values[field] = rng.normal(size=n).reshape(shape)
            elif sub.kind == "S":
                values[field] = np.array([b"xy", b"", b"q"] * n, dtype=sub)[:n].reshape(shape)
    return _through_lossy_filters(case, values)


def _through_lossy_filters(case: dict[str, Any], values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """``values`` as a lossy filter (bitround, quantize, astype, categorize) gives them back: what is stored."""
    import numcodecs

    for config in case.get("filters", []):
        if config["id"] in ("bitround", "quantize", "astype", "categorize"):
            codec = numcodecs.get_codec(dict(config))
            values = np.asarray(codec.decode(codec.encode(values))).reshape(values.shape).astype(values.dtype)
    return values


def fill_of(case: dict[str, Any]) -> Any:
    """The fill value unwritten regions read as (``null``: the type's zero)."""
    fill = case["fill"]
    dtype = numpy_dtype(case)
    if case["dtype"] == "str":
        return "" if fill in (DEFAULT, None) else fill
    if case["dtype"] == "bytes":
        return b"" if fill in (DEFAULT, None) else fill
    if fill in (DEFAULT, None):
        return np.array("NaT", dtype=dtype)[()] if dtype.kind in "Mm" else np.zeros((), dtype=dtype)[()]
    return np.array(fill).astype(dtype)[()] if dtype.kind in "Mm" else np.array(fill, dtype=dtype)[()]


def expected(name: str) -> np.ndarray[Any, Any]:
    """The whole array as every reader must return it."""
    case = CASES[name]
    dtype = numpy_dtype(case)
    out = np.empty(case["shape"], dtype=dtype)
    out[...] = fill_of(case)
    out[region(case)] = data(name)
    return out


def same(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> bool:
    """Bit for bit (NaN and -0.0 included); object arrays item by item."""
    if a.shape != b.shape:
        return False
    if a.dtype.hasobject or b.dtype.hasobject:
        return [x for x in np.asarray(a, dtype=object).ravel()] == [x for x in np.asarray(b, dtype=object).ravel()]
    if a.dtype.newbyteorder("=") != b.dtype.newbyteorder("="):
        return False
    native = a.dtype.newbyteorder("=")
    return bool(np.ascontiguousarray(a.astype(native)).tobytes() == np.ascontiguousarray(b.astype(native)).tobytes())
