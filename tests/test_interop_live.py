"""Live round trips with the real zarr-python 3.4 and tensorstore, both directions.

They run under the reference interpreter (Python 3.12, ``.venv-ref``) through the
``run_ref`` fixture (tests/conftest.py); each direction is one subprocess for many arrays.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import zarrio

pytestmark = pytest.mark.timeout(300)

# cases: name -> (dtype, shape, create kwargs)
CASES: dict[str, tuple[str, tuple[int, ...], dict[str, Any]]] = {
    "u8_plain": ("uint8", (37, 21), {"chunks": (8, 8)}),
    "i4_gzip_be": ("int32", (30,), {"chunks": (7,), "codecs": [{"name": "bytes", "configuration": {"endian": "big"}}, {"name": "gzip", "configuration": {"level": 3}}]}),
    "f4_sharded": ("float32", (40, 33), {"chunks": (5, 11), "shards": (10, 33), "fill_value": float("nan")}),
    "f8_blosc_transpose": ("float64", (9, 8, 7), {"chunks": (4, 4, 4), "codecs": [{"name": "transpose", "configuration": {"order": [2, 0, 1]}}, {"name": "blosc", "configuration": {"cname": "zstd", "clevel": 3, "shuffle": "shuffle"}}]}),
    "c16_crc": ("complex128", (6, 6), {"chunks": (4, 4), "codecs": [{"name": "zstd", "configuration": {"level": 3, "checksum": True}}, {"name": "crc32c"}]}),
    "i8_v2keys": ("int64", (10, 10), {"chunks": (3, 3), "chunk_key_encoding": {"name": "v2", "configuration": {"separator": "."}}, "fill_value": -(2**62)}),
    "u2_sharded_start": ("uint16", (64, 64), {"chunks": (8, 8), "codecs": [{"name": "sharding_indexed", "configuration": {"chunk_shape": [8, 8], "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "zstd", "configuration": {"level": 1, "checksum": False}}], "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}], "index_location": "start"}}]}),
    "bool_rank0": ("bool", (), {}),
    "f2_partial": ("float16", (11,), {"chunks": (4,), "fill_value": "-Infinity"}),
}  # fmt: skip
TS_UNSUPPORTED: set[str] = set()


def values_for(name: str, dtype: str, shape: tuple[int, ...]) -> np.ndarray[Any, Any]:
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    n = int(np.prod(shape))
    dt = np.dtype(dtype)
    if dt.kind == "b":
        out = rng.integers(0, 2, n).astype(bool)
    elif dt.kind in "iu":
        out = rng.integers(0, 200, n).astype(dt)
    elif dt.kind == "c":
        out = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(dt)
    else:
        out = rng.standard_normal(n).astype(dt)
    return out.reshape(shape)


def test_zarrio_writes_zarr_python_and_tensorstore_read(tmp_path: Path, run_ref: Callable[..., str]) -> None:
    root = tmp_path / "written.zarr"
    expected = {}
    for name, (dtype, shape, kwargs) in CASES.items():
        z = zarrio.create(str(root), shape, dtype, path=name, **kwargs)
        data = values_for(name, dtype, shape)
        if name == "f2_partial":
            z[0:5] = data[0:5]  # the rest stays fill (-inf)
            data = data.copy()
            data[5:] = -np.inf
        else:
            z[...] = data
        expected[name] = data
    out = tmp_path / "ref_out"
    out.mkdir()
    run_ref(
        """
        import sys, json, numpy as np, zarr, tensorstore as ts
        root, out, names = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
        for name in names:
            a = zarr.open_array(zarr.storage.LocalStore(root, read_only=True), path=name, mode="r")
            np.save(f"{out}/{name}.zp.npy", a[...])
            t = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": f"{root}/{name}/"}, "open": True}).result()
            np.save(f"{out}/{name}.ts.npy", t.read().result())
        """,
        str(root),
        str(out),
        json.dumps(list(CASES)),
    )
    for name, data in expected.items():
        for who in ("zp", "ts"):
            got = np.load(out / f"{name}.{who}.npy")
            assert got.shape == data.shape, (name, who)
            assert got.astype(data.dtype.newbyteorder("=")).tobytes() == data.tobytes(), (name, who)


def test_zarr_python_and_tensorstore_write_zarrio_reads(tmp_path: Path, run_ref: Callable[..., str]) -> None:
    root = tmp_path / "ref.zarr"
    run_ref(
        """
        import sys, numpy as np, zarr, tensorstore as ts
        from zarr.codecs import BloscCodec, ZstdCodec, GzipCodec, TransposeCodec, Crc32cCodec
        root = sys.argv[1]
        st = zarr.storage.LocalStore(root)
        g = zarr.group(st, attributes={"made_by": "zarr-python", "inf": float("inf")})
        rng = np.random.default_rng(7)
        a = g.create_array("sharded", shape=(100, 90), chunks=(10, 15), shards=(50, 45), dtype="uint16",
                           compressors=ZstdCodec(level=2), fill_value=7)
        a[3:97, 1:] = rng.integers(0, 60000, (94, 89)).astype("uint16")
        np.save(root + "/../sharded.npy", a[...])
        b = g.create_array("deep/path/blosc", shape=(33, 17), chunks=(8, 8), dtype="float32",
                           compressors=BloscCodec(cname="lz4", clevel=5, shuffle="bitshuffle"), dimension_names=["y", "x"])
        b[...] = rng.standard_normal((33, 17)).astype("float32")
        np.save(root + "/../blosc.npy", b[...])
        s = g.create_array("strings", shape=(7,), chunks=(3,), dtype=str)
        s[...] = np.array(["a", "", "ünï", "long" * 50, "x", "y", "z"])
        c = g.create_array("complex", shape=(5, 5), chunks=(2, 2), dtype="complex64", filters=[TransposeCodec(order=(1, 0))],
                           compressors=[GzipCodec(level=1), Crc32cCodec()])
        c[...] = (np.arange(25) + 1j).reshape(5, 5).astype("complex64")
        np.save(root + "/../complex.npy", c[...])
        zarr.consolidate_metadata(st)
        t = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": root + "/ts_sharded/"},
                     "metadata": {"shape": [64, 48], "data_type": "int16",
                                  "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [32, 48]}},
                                  "codecs": [{"name": "sharding_indexed", "configuration": {"chunk_shape": [8, 16],
                                             "codecs": [{"name": "bytes", "configuration": {"endian": "big"}},
                                                        {"name": "gzip", "configuration": {"level": 4}}]}}]},
                     "create": True}).result()
        data = (np.arange(64 * 48) - 1000).astype("int16").reshape(64, 48)
        data[40:, :] = 0
        t[...] = data
        np.save(root + "/../ts_sharded.npy", data)
        """,
        str(root),
    )
    g = zarrio.open(str(root), mode="r")
    assert g.attrs["made_by"] == "zarr-python" and g.attrs["inf"] == float("inf")
    assert isinstance(g, zarrio.Group)
    np.testing.assert_array_equal(g["sharded"][...], np.load(tmp_path / "sharded.npy"))
    blosc = g["deep/path/blosc"]
    assert blosc.dimension_names == ("y", "x")
    assert blosc[...].tobytes() == np.load(tmp_path / "blosc.npy").tobytes()
    assert list(g["strings"][...]) == ["a", "", "ünï", "long" * 50, "x", "y", "z"]
    np.testing.assert_array_equal(g["complex"][...], np.load(tmp_path / "complex.npy"))
    # consolidated: the hierarchy is browsable from memory
    assert sorted(n for n, _ in g.members()) == ["complex", "deep", "sharded", "strings"]
    ts_arr = zarrio.open(str(root), path="ts_sharded", mode="r")
    np.testing.assert_array_equal(ts_arr[...], np.load(tmp_path / "ts_sharded.npy"))
    np.testing.assert_array_equal(ts_arr[30:35, 5:20], np.load(tmp_path / "ts_sharded.npy")[30:35, 5:20])
    assert sys.version_info >= (3, 11)


def test_zip_archives_cross_with_tensorstore(tmp_path: Path, run_ref: Callable[..., str]) -> None:
    """zarrio's ZipStore archives open in tensorstore's zip kvstore, and tensorstore's in ZipStore."""
    ours = tmp_path / "ours.zip"
    data = (np.arange(40 * 30) % 251).astype("uint8").reshape(40, 30)
    with zarrio.stores.ZipStore(ours, mode="w") as zs:
        zarrio.create_group(zs, attributes={"by": "zarrio"})
        zarrio.create(zs, (40, 30), "uint8", path="img", chunks=(8, 10), shards=(16, 30))[...] = data
    theirs = tmp_path / "theirs.zip"
    out = tmp_path / "ts_read.npy"
    run_ref(
        """
        import sys, numpy as np, tensorstore as ts
        ours, theirs, out = sys.argv[1:4]
        kv = {"driver": "zip", "base": {"driver": "file", "path": ours}, "path": "img/"}
        np.save(out, ts.open({"driver": "zarr3", "kvstore": kv, "open": True}).result().read().result())
        t = ts.open({"driver": "zarr3", "kvstore": {"driver": "zip", "base": {"driver": "file", "path": theirs}, "path": "vol/"},
                     "metadata": {"shape": [6, 5, 4], "data_type": "float32",
                                  "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [3, 5, 2]}},
                                  "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "zstd", "configuration": {"level": 2}}]},
                     "create": True}).result()
        t[...] = np.arange(120, dtype="float32").reshape(6, 5, 4) / 7
        """,
        str(ours),
        str(theirs),
        str(out),
    )
    assert np.load(out).tobytes() == data.tobytes()
    with zarrio.stores.ZipStore(theirs) as zr:
        vol = zarrio.open(zr, path="vol", mode="r")
        assert vol[...].tobytes() == (np.arange(120, dtype="float32").reshape(6, 5, 4) / 7).tobytes()
