"""Zarr v2 across implementations: zarr-python 3.4.2 (and tensorstore's ``zarr`` driver) write,
zarrio reads bit-exactly; zarrio writes, they read bit-exactly -- over the matrix of
tests/v2_cases.py (codecs, filters, data types, order C / F, separators, fill values).

Both writers write the same case with the same arguments, so their stored chunks are
compared byte for byte too: a chunk zarrio encodes differently (a wrong blosc typesize,
the wrong chunk order) fails even where the values would still round-trip.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import v2_cases
from v2_cases import CASES, DEFAULT

import zarrio
from zarrio.metadata.v2 import ArrayMetadataV2

pytestmark = pytest.mark.interop
TESTS_DIR = Path(__file__).resolve().parent

# zarr-python 3.4.2 writes every case of v2_cases into argv[2]
REF_WRITER = """
import sys, warnings
sys.path.insert(0, sys.argv[1])
warnings.simplefilter("ignore")
import numcodecs, numpy as np, zarr
import v2_cases as c
for name, case in c.CASES.items():
    if isinstance(case["dtype"], list):
        dtype = [tuple(f) for f in case["dtype"]]
    else:
        dtype = {"str": str, "bytes": zarr.dtype.VariableLengthBytes()}.get(case["dtype"], case["dtype"])
    extra = {} if case["fill"] == c.DEFAULT else {"fill_value": case["fill"]}
    if case.get("filters"):
        extra["filters"] = [numcodecs.get_codec(dict(f)) for f in case["filters"]]
    a = zarr.create_array(
        sys.argv[2], name=name, shape=case["shape"], chunks=case["chunks"], dtype=dtype, zarr_format=2,
        order=case.get("order", "C"),
        chunk_key_encoding={"name": "v2", "separator": case.get("separator", ".")},
        compressors=None if case["compressor"] is None else numcodecs.get_codec(dict(case["compressor"])),
        **extra,
    )
    a[c.region(case)] = c.data(name)
zarr.consolidate_metadata(sys.argv[2])
print("written")
"""

# zarr-python 3.4.2 reads every case zarrio wrote into argv[2], through the consolidated metadata too
REF_READER = """
import sys, warnings
sys.path.insert(0, sys.argv[1])
warnings.simplefilter("ignore")
import numpy as np, zarr
import v2_cases as c
group = zarr.open_consolidated(sys.argv[2], zarr_format=2)
for name in c.CASES:
    a = zarr.open_array(sys.argv[2], path=name, mode="r", zarr_format=2)
    assert group[name].shape == a.shape
    print(name, "same" if c.same(a[...], c.expected(name)) else f"DIFFERENT {a[...]!r}")
"""


def _zarrio_dtype(case: dict[str, Any]) -> Any:
    spec = case["dtype"]
    return [tuple(f) for f in spec] if isinstance(spec, list) else spec


def write_with_zarrio(root: Path) -> None:
    zarrio.create_group(root, zarr_format=2)
    for name, case in CASES.items():
        a = zarrio.create_array(
            root,
            path=name,
            shape=case["shape"],
            chunks=case["chunks"],
            dtype=_zarrio_dtype(case),
            zarr_format=2,
            order=case.get("order", "C"),
            chunk_key_encoding={"name": "v2", "separator": case.get("separator", ".")},
            filters=case.get("filters") or None,
            compressors=case["compressor"],
            fill_value=None if case["fill"] in (DEFAULT, None) else case["fill"],
        )
        a[v2_cases.region(case)] = v2_cases.data(name)
    zarrio.consolidate_metadata(root)


def _without_mtime(chunk: bytes, compressor: dict[str, Any] | None) -> bytes:
    """gzip stores the time of writing in bytes 4-8 of its header: not part of the comparison."""
    if compressor is not None and compressor["id"] == "gzip":
        return chunk[:4] + bytes(4) + chunk[8:]
    return chunk


def _chunk_files(folder: Path, compressor: dict[str, Any] | None) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): _without_mtime(p.read_bytes(), compressor)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".") and p.name != "zarr.json"
    }


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory, run_ref: Callable[..., str]) -> tuple[Path, Path]:
    """(zarr-python's hierarchy, zarrio's hierarchy) of every case."""
    base = tmp_path_factory.mktemp("v2")
    theirs, ours = base / "zarr-python.zarr", base / "zarrio.zarr"
    assert "written" in run_ref(REF_WRITER, str(TESTS_DIR), str(theirs), timeout=180)
    write_with_zarrio(ours)
    return theirs, ours


@pytest.mark.parametrize("name", list(CASES))
def test_zarrio_reads_what_zarr_python_wrote(written: tuple[Path, Path], name: str) -> None:
    theirs, _ = written
    array = zarrio.open_array(theirs, path=name, mode="r")
    assert isinstance(array.metadata, ArrayMetadataV2)
    got = array[...]
    assert v2_cases.same(got, v2_cases.expected(name)), (got, v2_cases.expected(name))
    # the metadata is written back as zarr-python wrote it (an "S" fill padded to the item size)
    stored, ours = json.loads((theirs / name / ".zarray").read_text()), array.metadata.to_json()
    if isinstance(stored["dtype"], str) and stored["dtype"].startswith("|S"):
        assert base64.b64decode(ours.pop("fill_value")).rstrip(b"\0") == base64.b64decode(stored.pop("fill_value"))
    assert ours == stored


@pytest.mark.parametrize("name", list(CASES))
def test_zarrio_chunks_are_zarr_pythons_bytes(written: tuple[Path, Path], name: str) -> None:
    theirs, ours = written
    compressor = CASES[name]["compressor"]
    their_chunks, our_chunks = _chunk_files(theirs / name, compressor), _chunk_files(ours / name, compressor)
    assert sorted(our_chunks) == sorted(their_chunks)
    different = [key for key in their_chunks if their_chunks[key] != our_chunks[key]]
    assert not different, f"chunks {different} differ from zarr-python's"
    our_meta = json.loads((ours / name / ".zarray").read_text())
    their_meta = json.loads((theirs / name / ".zarray").read_text())
    if CASES[name]["fill"] is None:  # zarrio creates no null fill (None means the default there)
        assert their_meta.pop("fill_value") is None and our_meta.pop("fill_value") is not None
    elif isinstance(our_meta["dtype"], str) and our_meta["dtype"].startswith(
        "|S"
    ):  # the whole padded item, as zarr-python 2 and tensorstore write it
        padded = CASES[name]["fill"].ljust(int(our_meta["dtype"][2:]), b"\0")
        assert base64.b64decode(our_meta.pop("fill_value")) == padded
        assert base64.b64decode(their_meta.pop("fill_value")) == CASES[name]["fill"]
    assert our_meta == their_meta


def test_zarr_python_reads_what_zarrio_wrote(written: tuple[Path, Path], run_ref: Callable[..., str]) -> None:
    _, ours = written
    lines = run_ref(REF_READER, str(TESTS_DIR), str(ours), timeout=180).split("\n")
    results = dict(line.split(" ", 1) for line in lines if line.strip())
    assert set(results) == set(CASES)
    assert {name: r for name, r in results.items() if r != "same"} == {}


def test_consolidated_hierarchy_from_zarr_python_serves_from_memory(written: tuple[Path, Path]) -> None:
    theirs, _ = written
    group = zarrio.open_group(theirs, mode="r")
    assert group.aio.consolidated is not None
    assert sorted(group.array_keys()) == sorted(CASES)
    unconsolidated = zarrio.open_group(theirs, mode="r", use_consolidated=False)
    assert unconsolidated.aio.consolidated is None
    assert sorted(unconsolidated.array_keys()) == sorted(CASES)


TS_WRITER = """
import sys, json
import numpy as np, tensorstore as ts
root = sys.argv[1]
specs = {
    "ts-f4-F": ({"dtype": "<f4", "shape": [5, 6], "chunks": [2, 4], "order": "F",
                 "compressor": {"id": "zlib", "level": 3}, "fill_value": 1.5}, np.float32),
    "ts-u2-blosc-slash": ({"dtype": "<u2", "shape": [7, 3], "chunks": [3, 3], "dimension_separator": "/",
                           "compressor": {"id": "blosc", "cname": "zstd", "clevel": 4, "shuffle": 2}}, np.uint16),
    "ts-i8-big": ({"dtype": ">i8", "shape": [6], "chunks": [4], "compressor": None}, np.int64),
}
for name, (metadata, dtype) in specs.items():
    t = ts.open({"driver": "zarr", "kvstore": {"driver": "file", "path": f"{root}/{name}"},
                 "metadata": metadata, "create": True}).result()
    values = (np.arange(np.prod(metadata["shape"])) * 3 - 5).astype(dtype).reshape(metadata["shape"])
    t[...].write(values).result()
    np.save(f"{root}/{name}.npy", values)
print("written")
"""


def test_zarrio_reads_what_tensorstore_wrote(tmp_path: Path, run_ref: Callable[..., str]) -> None:
    assert "written" in run_ref(TS_WRITER, str(tmp_path))
    for name in ("ts-f4-F", "ts-u2-blosc-slash", "ts-i8-big"):
        expected = np.load(tmp_path / f"{name}.npy")
        got = zarrio.open_array(tmp_path / name, mode="r")[...]
        assert v2_cases.same(got, expected), name


TS_READER = """
import sys
sys.path.insert(0, sys.argv[1])
import numpy as np, tensorstore as ts
import v2_cases as c
for case in sys.argv[3:]:
    name, _, field = case.partition(":")  # "name:field": one field of a structured array
    spec = {"driver": "zarr", "kvstore": {"driver": "file", "path": f"{sys.argv[2]}/{name}"}}
    expected = c.expected(name)[field] if field else c.expected(name)
    t = ts.open({**spec, "field": field} if field else spec).result()
    print(case, "same" if c.same(t.read().result(), expected) else "DIFFERENT")
"""
#: the cases tensorstore's zarr driver reads as NumPy arrays (no vlen strings or "U", no numcodecs
#: filters beyond its own; it reads "S" items as a dimension of bytes)
TENSORSTORE_CASES = [
    "f8-blosc-nan",
    "f4-big-F-slash-neginf",
    "i2-F-gzip",
    "u8-null-fill-zstd",
    "c16-fill-complex",
    "struct-null:a",
    "struct-null:b",
    "struct-big:x",
    "struct-big:y",
    "rank0-f8",
]


def test_tensorstore_reads_what_zarrio_wrote(written: tuple[Path, Path], run_ref: Callable[..., str]) -> None:
    _, ours = written
    lines = run_ref(TS_READER, str(TESTS_DIR), str(ours), *TENSORSTORE_CASES).split("\n")
    results = dict(line.split(" ", 1) for line in lines if line.strip())
    assert results == dict.fromkeys(TENSORSTORE_CASES, "same")


XARRAY_WRITER = """
import sys, warnings
warnings.simplefilter("ignore")
import numpy as np, pandas as pd, xarray as xr
t = np.arange(12.0).reshape(3, 4)
t[1, 2] = -999.0
ds = xr.Dataset(
    {"t": (("time", "x"), t, {"units": "K"}), "n": (("x",), np.array([1, 2, 3, 4], dtype="i2"))},
    coords={"time": pd.date_range("2000-01-01", periods=3), "x": [10, 20, 30, 40]},
    attrs={"title": "v2"},
)
ds["t"].encoding["_FillValue"] = -999.0
ds.to_zarr(sys.argv[1], zarr_format=2, consolidated=True)
print(xr.open_dataset(sys.argv[1], engine="zarr").to_dict(data="list")["data_vars"]["t"]["data"])
"""


def test_xarray_backend_opens_an_xarray_written_v2_dataset(tmp_path: Path, run_ref: Callable[..., str]) -> None:
    xr = pytest.importorskip("xarray")
    root = tmp_path / "xr2.zarr"
    theirs = run_ref(XARRAY_WRITER, str(root)).strip()
    assert (root / ".zmetadata").is_file() and not (root / "zarr.json").exists()
    from zarrio.integrations.xarray_backend import ZarrioBackendEntrypoint

    assert ZarrioBackendEntrypoint().guess_can_open(str(root))
    ds = xr.open_dataset(root, engine="zarrio")
    assert ds["t"].dims == ("time", "x") and ds["n"].dims == ("x",)
    assert ds.attrs == {"title": "v2"} and ds["t"].attrs == {"units": "K"}
    assert ds["x"].values.tolist() == [10, 20, 30, 40]
    assert str(ds["time"].values[2])[:10] == "2000-01-03"
    values = ds["t"].values
    assert np.isnan(values[1, 2]) and values[0, 1] == 1.0  # -999 (the v2 fill value) is masked
    assert str(values.tolist()) == theirs  # what xarray's own engine="zarr" reads


# zarr-python 3.4.2 reads the Zarr v3 copy `zarrio cp` made of its own v2 hierarchy
REF_V3_READER = """
import sys, warnings
sys.path.insert(0, sys.argv[1])
warnings.simplefilter("ignore")
import zarr
import v2_cases as c
for name in sys.argv[3:]:
    a = zarr.open_array(sys.argv[2], path=name, mode="r", zarr_format=3)
    print(name, "same" if c.same(a[...], c.expected(name)) else "DIFFERENT")
"""


def test_cli_converts_v2_to_v3_and_reshards(
    written: tuple[Path, Path], tmp_path: Path, run_ref: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    from zarrio.cli import main

    theirs, _ = written
    assert main(["info", str(theirs / "i2-F-gzip")]) == 0
    assert "format       Zarr v2" in capsys.readouterr().out
    converted, resharded = tmp_path / "v3.zarr", tmp_path / "sharded.zarr"
    assert main(["cp", str(theirs), str(converted)]) == 0, capsys.readouterr().err
    assert main(["cp", str(theirs / "f8-blosc-nan"), str(resharded), "--shards", "8,6", "--chunks", "4,3"]) == 0
    assert main(["info", str(resharded)]) == 0
    info = capsys.readouterr().out
    assert "format       Zarr v3" in info and "shards       (8, 6)" in info
    assert not list(converted.rglob(".zarray")) and (converted / "U4-F" / "zarr.json").is_file()
    for name in CASES:  # verbatim: the v2 chunks, byte for byte, under the codecs that read them
        array = zarrio.open_array(converted, path=name, mode="r")
        assert array.metadata.zarr_format == 3
        assert v2_cases.same(array[...], v2_cases.expected(name)), name
        assert _chunk_files(converted / name, None) == _chunk_files(theirs / name, None)
    resharded_array = zarrio.open_array(resharded, mode="r")
    assert resharded_array.shards == (8, 6)
    assert v2_cases.same(resharded_array[...], v2_cases.expected("f8-blosc-nan"))
    # zarr-python 3.4.2 has no v3 numcodecs.categorize codec (it reads categorize in v2 only)
    readable = [name for name in CASES if name != "U5-categorize"]
    lines = run_ref(REF_V3_READER, str(TESTS_DIR), str(converted), *readable).split("\n")
    assert dict(line.split(" ", 1) for line in lines if line.strip()) == dict.fromkeys(readable, "same")
