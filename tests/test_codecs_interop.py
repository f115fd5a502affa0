"""Chunks encoded by zarrio's codecs, read back by zarr-python 3.4.2 and tensorstore.

Each array is written by hand: a zarr.json with the chain's ``to_json()`` and one
chunk (or shard) encoded by the chain. The reference interpreter reads every array
and compares it with the ``.npy`` saved next to it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from zarrio.codecs import (
    BloscCodec,
    BytesCodec,
    ChunkSpec,
    CodecChain,
    Crc32cCodec,
    GzipCodec,
    ShardingCodec,
    TransposeCodec,
    ZstdCodec,
)

LE = {"name": "bytes", "configuration": {"endian": "little"}}

pytestmark = pytest.mark.interop


def write_array(
    root: Path, name: str, data: np.ndarray[Any, Any], data_type: str, fill: Any, codecs: list[Any]
) -> dict[str, Any]:
    """One chunk covering the whole array, encoded with ``codecs``; returns the chain's JSON."""
    fill_scalar = fill if data.dtype.hasobject else np.asarray(fill, dtype=data.dtype)[()]
    spec = ChunkSpec(data.shape, data.dtype, fill_scalar)
    chain = CodecChain.from_json(codecs, spec)
    folder = root / name
    folder.mkdir()
    metadata = {
        "zarr_format": 3,
        "node_type": "array",
        "shape": list(data.shape),
        "data_type": data_type,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(data.shape)}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": fill,
        "codecs": chain.to_json(),
        "attributes": {},
    }
    (folder / "zarr.json").write_text(json.dumps(metadata))
    chunk_path = folder / "c" / "/".join(["0"] * data.ndim)
    chunk_path.parent.mkdir(parents=True)
    chunk_path.write_bytes(chain.encode(data, spec))
    if data.dtype.hasobject:
        (folder / "expected.json").write_text(json.dumps(data.tolist()))
    else:
        np.save(folder / "expected.npy", data)
    return metadata


READER = """
import json, sys, warnings
from pathlib import Path
import numpy as np, zarr, tensorstore as ts
warnings.simplefilter("ignore")
root, with_tensorstore = Path(sys.argv[1]), sys.argv[2] == "tensorstore"
for name in sys.argv[3:]:
    folder = root / name
    got = zarr.open_array(str(folder), mode="r")[...]
    if (folder / "expected.npy").exists():
        want = np.load(folder / "expected.npy")
        zarr_ok = got.dtype == want.dtype and got.tobytes() == want.tobytes()
        ts_ok = True
        if with_tensorstore:
            store = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": str(folder)}}).result()
            ts_ok = store.read().result().tobytes() == want.tobytes()
    else:
        zarr_ok = [str(x) for x in got.ravel()] == [str(x) for x in np.array(json.loads((folder / "expected.json").read_text()), dtype=object).ravel()]
        ts_ok = True
    print(json.dumps({"name": name, "zarr": bool(zarr_ok), "tensorstore": bool(ts_ok)}))
"""


def test_reference_implementations_read_what_zarrio_encodes(tmp_path: Path, run_ref: Callable[..., str]) -> None:
    grid = (np.arange(16 * 12, dtype="i4").reshape(16, 12) * 37) % 1000
    grid[:4, :3] = 0  # an inner chunk of fill only: left out of the shard
    nested = (np.arange(64, dtype="u2").reshape(8, 8) * 3) % 50
    nested[:4, :4] = 0
    cube = np.linspace(-1, 1, 3 * 4 * 5).reshape(3, 4, 5)
    flags = (np.arange(40) % 3 == 0).reshape(5, 8)
    words = np.array(["", "a", "héllo", "\U0001f600", "zarr"], dtype=object)
    arrays: dict[str, tuple[np.ndarray[Any, Any], str, Any, list[Any]]] = {
        "shard_start": (grid, "int32", 0, [ShardingCodec((4, 3), [LE, ZstdCodec(level=3)], None, "start")]),
        "shard_end_crc": (grid, "int32", 0, [ShardingCodec((8, 6), [BytesCodec("big"), GzipCodec(1), Crc32cCodec()])]),
        "shard_nested": (nested, "uint16", 0, [ShardingCodec((4, 4), [ShardingCodec((2, 2), [LE, "zstd"])])]),
        "transpose_be_blosc_crc": (
            cube,
            "float64",
            0.0,
            [TransposeCodec((2, 0, 1)), BytesCodec("big"), BloscCodec(cname="lz4", shuffle="bitshuffle"), "crc32c"],
        ),
        "bool_blosc_defaults": (flags, "bool", False, [LE, BloscCodec()]),
        "vlen_utf8": (words, "string", "", ["vlen-utf8", {"name": "zstd", "configuration": {"level": 1}}]),
        "numcodecs_delta_zlib": (
            grid,
            "int32",
            0,
            [{"name": "numcodecs.delta", "configuration": {"dtype": "<i4"}}, LE, "numcodecs.zlib"],
        ),
    }
    for name, (data, data_type, fill, codecs) in arrays.items():
        write_array(tmp_path, name, data, data_type, fill, codecs)
    tensorstore_cannot = {"vlen_utf8", "numcodecs_delta_zlib"}
    ts_names = [name for name in arrays if name not in tensorstore_cannot]
    output = run_ref(READER, str(tmp_path), "tensorstore", *ts_names)
    output += run_ref(READER, str(tmp_path), "zarr-only", *tensorstore_cannot)
    results = {row["name"]: row for row in map(json.loads, output.splitlines())}
    assert set(results) == set(arrays)
    for name, row in results.items():
        assert row["zarr"], f"zarr-python misread {name}"
        assert row["tensorstore"], f"tensorstore misread {name}"
