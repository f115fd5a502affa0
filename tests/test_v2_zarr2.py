"""Zarr v2 against zarr-python 2.18, the third reference (``.venv-zarr2``): what zarrio writes as
Zarr v2 it reads bit-exactly, and what it writes zarrio reads bit-exactly, over the case matrix of
tests/v2_cases.py (numcodecs compressors and filters, order C / F, separators, fill values, data
types); its object arrays (``vlen-utf8``, ``vlen-bytes``, ``json2``) and its consolidated
``.zmetadata``. Both write the same cases with the same arguments, so the stored chunks are
compared byte for byte too.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import v2_cases
from test_v2_interop import TESTS_DIR, _chunk_files, write_with_zarrio
from v2_cases import CASES, DEFAULT

import zarrio
from zarrio.metadata.v2 import ArrayMetadataV2

pytestmark = pytest.mark.interop

# zarr-python 2.18 writes every case of v2_cases into argv[2], then object arrays of its own
ZARR2_WRITER = """
import sys, warnings
sys.path.insert(0, sys.argv[1])
warnings.simplefilter("ignore")
import numcodecs, numpy as np, zarr
import v2_cases as c
assert zarr.__version__.startswith("2.18"), zarr.__version__
store = zarr.DirectoryStore(sys.argv[2])
zarr.group(store=store, overwrite=True).attrs["writer"] = "zarr-python " + zarr.__version__
for name, case in c.CASES.items():
    spec = case["dtype"]
    extra = {}
    if spec == "str":
        dtype, extra["object_codec"] = object, numcodecs.VLenUTF8()
    elif spec == "bytes":
        dtype, extra["object_codec"] = object, numcodecs.VLenBytes()
    else:
        dtype = [tuple(f) for f in spec] if isinstance(spec, list) else spec
    fill = c.fill_of(case) if case["fill"] == c.DEFAULT else case["fill"]
    if spec == "bytes":
        fill = None  # zarr 2 cannot write a bytes fill value (b"" is not JSON); null is its only choice
    a = zarr.create(
        store=store, path=name, shape=case["shape"], chunks=case["chunks"], dtype=dtype, fill_value=fill,
        order=case.get("order", "C"), dimension_separator=case.get("separator", "."),
        compressor=None if case["compressor"] is None else numcodecs.get_codec(dict(case["compressor"])),
        filters=[numcodecs.get_codec(dict(f)) for f in case.get("filters", [])] or None,
        write_empty_chunks=False, **extra,  # as zarrio (and zarr-python 3) by default: no chunks of fill only
    )
    a[c.region(case)] = c.data(name)
# its own object arrays: JSON values (json2), strings and bytes in an object array, missing chunks
obj = zarr.group(store=store).create_group("objects")
values = np.empty(7, dtype=object)
values[:] = [{"a": 1}, [1, 2, "x"], "text", 3.5, None, True, {"nested": {"k": [None]}}]
j = obj.create_dataset("json", shape=(9,), chunks=(4,), dtype=object, object_codec=numcodecs.JSON(),
                       compressor=numcodecs.Zlib(level=1), fill_value=None)
j[:7] = values
s = obj.create_dataset("utf8", shape=(3, 4), chunks=(2, 2), dtype=object, object_codec=numcodecs.VLenUTF8(),
                       fill_value="")
s[:2] = np.array([["é", "", "abc", "🙂"], ["x", "yy", "zzz", ""]], dtype=object)
b = obj.create_dataset("bytes", shape=(5,), chunks=(2,), dtype=object, object_codec=numcodecs.VLenBytes())
b[:4] = np.array([b"", b"\\x00\\x01", b"abc", b"\\xff" * 9], dtype=object)
assert j[:7].tolist() == values.tolist()
grid = np.empty((3, 4), dtype=object)
for i in range(3):
    for k in range(4):
        grid[i, k] = [i, k] if (i + k) % 2 else f"{i}-{k}"
g = obj.create_dataset("json2d", shape=(3, 4), chunks=(2, 3), dtype=object, object_codec=numcodecs.JSON(),
                       fill_value=None, compressor=None)
g[:] = grid
assert g[:].tolist() == grid.tolist()
zarr.consolidate_metadata(store)
print("written")
"""

# zarr-python 2.18 reads every case zarrio wrote into argv[2], through the consolidated metadata too
ZARR2_READER = """
import sys, warnings
sys.path.insert(0, sys.argv[1])
warnings.simplefilter("ignore")
import numpy as np, zarr
import v2_cases as c
group = zarr.open_consolidated(sys.argv[2], mode="r")
for name in c.CASES:
    a = zarr.open_array(sys.argv[2], path=name, mode="r")
    through = group[name]
    expected = c.expected(name)
    if name in sys.argv[3:]:  # its fill value misread by zarr 2: the written values, and what it took the fill for
        region = c.region(c.CASES[name])
        ok = c.same(a[region], expected[region]) and c.same(through[region], expected[region])
        fill = a.fill_value.item() if isinstance(a.fill_value, np.generic) else a.fill_value
        print(name, ("fill " + repr(fill)) if ok else f"DIFFERENT {a[...]!r}")
        continue
    ok = c.same(a[...], expected) and c.same(through[...], expected)
    print(name, "same" if ok else f"DIFFERENT {a[...]!r}")
"""
#: the fill values zarr-python 2.18 itself decodes wrongly (what zarr-python 3.4.2 and tensorstore
#: write the same way, and read right): a complex fill with an infinite part (zarr 2 computes
#: ``re + 1j * im``, and ``1j * -inf`` is ``nan - inf j``), and the empty-bytes fill of a vlen-bytes
#: array (the JSON ``""``: zarr 2 gives the str ``''``; it cannot write a bytes fill at all)
ZARR2_FILL_MISREAD = {"c16-fill-complex": "fill (nan-infj)", "bytes-vlen-bytes": "fill ''"}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory, run_zarr2: Callable[..., str]) -> tuple[Path, Path]:
    """(zarr-python 2.18's hierarchy, zarrio's hierarchy) of every case."""
    base = tmp_path_factory.mktemp("zarr2")
    theirs, ours = base / "zarr2.zarr", base / "zarrio.zarr"
    assert "written" in run_zarr2(ZARR2_WRITER, str(TESTS_DIR), str(theirs), timeout=180)
    write_with_zarrio(ours)
    return theirs, ours


def test_zarr2_reads_what_zarrio_wrote(written: tuple[Path, Path], run_zarr2: Callable[..., str]) -> None:
    _, ours = written
    lines = run_zarr2(ZARR2_READER, str(TESTS_DIR), str(ours), *ZARR2_FILL_MISREAD, timeout=180).split("\n")
    results = dict(line.split(" ", 1) for line in lines if line.strip())
    assert set(results) == set(CASES)
    assert {name: r for name, r in results.items() if r != "same"} == ZARR2_FILL_MISREAD


@pytest.mark.parametrize("name", list(CASES))
def test_zarrio_reads_what_zarr2_wrote(written: tuple[Path, Path], name: str) -> None:
    theirs, _ = written
    array = zarrio.open_array(theirs, path=name, mode="r")
    assert isinstance(array.metadata, ArrayMetadataV2)
    got = array[...]
    assert v2_cases.same(got, v2_cases.expected(name)), (got, v2_cases.expected(name))


@pytest.mark.parametrize("name", list(CASES))
def test_zarrio_chunks_are_zarr2s_bytes(written: tuple[Path, Path], name: str) -> None:
    theirs, ours = written
    compressor = CASES[name]["compressor"]
    their_chunks, our_chunks = _chunk_files(theirs / name, compressor), _chunk_files(ours / name, compressor)
    assert sorted(our_chunks) == sorted(their_chunks)
    different = [key for key in their_chunks if their_chunks[key] != our_chunks[key]]
    assert not different, f"chunks {different} differ from zarr-python 2.18's"


def _comparable(meta: dict[str, Any], case: dict[str, Any]) -> dict[str, Any]:
    """A .zarray without what the two writers may spell differently for the same array."""
    out = dict(meta)
    fill = case["fill"]
    if fill in (DEFAULT, None) or isinstance(fill, bytes):
        out.pop("fill_value")  # zarrio has no null fill; an "S" fill is padded (zarr 2 writes either)
    out.setdefault("dimension_separator", ".")
    if out.get("compressor") and out["compressor"]["id"] == "zstd" and out["compressor"].get("checksum") is False:
        out["compressor"] = {k: v for k, v in out["compressor"].items() if k != "checksum"}  # numcodecs 0.15's default
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_the_zarray_documents_agree(written: tuple[Path, Path], name: str) -> None:
    theirs, ours = written
    their_meta = json.loads((theirs / name / ".zarray").read_text())
    our_meta = json.loads((ours / name / ".zarray").read_text())
    assert _comparable(our_meta, CASES[name]) == _comparable(their_meta, CASES[name])


def test_zarr2s_consolidated_hierarchy_serves_from_memory(written: tuple[Path, Path]) -> None:
    theirs, _ = written
    group = zarrio.open_group(theirs, mode="r")
    assert group.aio.consolidated is not None
    assert group.attrs["writer"].startswith("zarr-python 2.18")
    assert sorted(group.array_keys()) == sorted(CASES)
    assert sorted(group["objects"].array_keys()) == ["bytes", "json", "json2d", "utf8"]
    for name in ("f8-blosc-nan", "str-vlen-utf8", "struct-null"):
        assert v2_cases.same(group[name][...], v2_cases.expected(name)), name


def test_zarrio_reads_zarr2s_object_arrays(written: tuple[Path, Path]) -> None:
    theirs, _ = written
    utf8 = zarrio.open_array(theirs, path="objects/utf8", mode="r")
    assert utf8[...].tolist() == [["é", "", "abc", "🙂"], ["x", "yy", "zzz", ""], ["", "", "", ""]]
    raw = zarrio.open_array(theirs, path="objects/bytes", mode="r")[...].tolist()
    assert raw == [b"", b"\x00\x01", b"abc", b"\xff" * 9, b""]
    values = zarrio.open_array(theirs, path="objects/json", mode="r")
    assert values.dtype == np.dtype(object)
    got = values[...].tolist()
    assert got == [{"a": 1}, [1, 2, "x"], "text", 3.5, None, True, {"nested": {"k": [None]}}, None, None]
    grid = zarrio.open_array(theirs, path="objects/json2d", mode="r")
    expected_grid = [[[i, k] if (i + k) % 2 else f"{i}-{k}" for k in range(4)] for i in range(3)]
    assert grid[...].tolist() == expected_grid  # list items stay lists: nested only as deep as the chunk
    assert grid[1:, 1:3].tolist() == [row[1:3] for row in expected_grid[1:]]


JSON_READER = """
import sys, zarr
a = zarr.open_array(sys.argv[1], mode="r")
print(repr(a[:].tolist()))
"""


def test_zarrio_writes_json2_chunks_as_numcodecs_does(
    written: tuple[Path, Path], tmp_path: Path, run_zarr2: Callable[..., str]
) -> None:
    theirs, _ = written
    copy = tmp_path / "json"
    shutil.copytree(theirs / "objects" / "json", copy)
    original = (copy / "0").read_bytes()
    array = zarrio.open_array(copy, mode="r+")
    array[0:4] = array[0:4]  # the same values, re-encoded by zarrio: numcodecs' bytes
    assert (copy / "0").read_bytes() == original
    array[7:9] = np.array([{"new": [1, 2]}, "end"], dtype=object)
    got = run_zarr2(JSON_READER, str(copy)).strip()
    assert got == repr(
        [{"a": 1}, [1, 2, "x"], "text", 3.5, None, True, {"nested": {"k": [None]}}, {"new": [1, 2]}, "end"]
    )


def test_json_values_have_no_zarr_v3_form(written: tuple[Path, Path], tmp_path: Path) -> None:
    from zarrio.cli import main
    from zarrio.errors import UnsupportedError
    from zarrio.metadata import ArrayMetadata
    from zarrio.metadata.json_type import JsonValuesType

    with pytest.raises(UnsupportedError, match="only be Zarr v2"):
        ArrayMetadata((3,), JsonValuesType(), chunk_shape=(3,))
    theirs, _ = written
    assert main(["cp", "--no-progress", str(theirs / "objects" / "json"), str(tmp_path / "v3.zarr")]) == 1
    assert not (tmp_path / "v3.zarr" / "zarr.json").exists()
