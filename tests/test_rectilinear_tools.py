"""Rectilinear chunk grids in the tools: ``zarrio cp`` (verbatim, and re-encoded with the grid kept
or replaced by ``--chunks`` / ``--shards``), its block planner over varying edges, and the xarray
backend (``preferred_chunks`` in dask's per-chunk form). zarr-python 3.4.2 reads the copies."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import zarrio
from zarrio.cli import main as cli_main
from zarrio.cli.blocks import cut_regions, plan_cuts

A = np.arange(35 * 16, dtype="int32").reshape(35, 16)
CUBE = (np.arange(9 * 7 * 5, dtype="uint16").reshape(9, 7, 5) * 7).astype("uint16")
NAMES = ["plain", "sharded", "cube", "shrunk"]


def _write_source(root: Path) -> dict[str, np.ndarray[Any, Any]]:
    """A group of rectilinear arrays (some chunks never written) and their values."""
    zarrio.create_group(str(root), attributes={"title": "edges"})
    plain = zarrio.create(str(root), (35, 16), "int32", path="plain", chunks=[[10, 20, 5], 8], fill_value=-7)
    plain[12:, :] = A[12:, :]  # chunk row 0 stays unwritten: fill
    sharded = zarrio.create(
        str(root), (35, 16), "int32", path="sharded", chunks=(5, 4), shards=[[10, 20, 5], [8, 8]], fill_value=3
    )
    sharded[:] = A
    sharded[3:9, 5] = -1
    cube = zarrio.create(
        str(root),
        (9, 7, 5),
        "<u2",
        path="cube",
        chunks=[[2, 3, 4], [1, 1, 1, 4], 5],
        dimension_names=["z", "y", "x"],
        attributes={"units": "m"},
    )
    cube[:] = CUBE
    shrunk = zarrio.create(str(root), (20,), "float64", path="shrunk", chunks=[[5, 5, 10]], fill_value=0.5)
    shrunk[:] = np.linspace(0, 1, 20)
    shrunk.resize(7)  # the last edge now runs past the extent
    expected_plain = np.full((35, 16), -7, dtype="int32")
    expected_plain[12:] = A[12:]
    expected_sharded = A.copy()
    expected_sharded[3:9, 5] = -1
    return {"plain": expected_plain, "sharded": expected_sharded, "cube": CUBE, "shrunk": np.linspace(0, 1, 20)[:7]}


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, np.ndarray[Any, Any]]]:
    root = tmp_path_factory.mktemp("rect_src") / "src.zarr"
    return root, _write_source(root)


def cp(*args: str) -> int:
    return cli_main(["cp", "--no-progress", *args])


def _grid(root: Path, path: str = "") -> dict[str, Any]:
    document = json.loads((root / path / "zarr.json").read_text())
    grid: dict[str, Any] = document["chunk_grid"]
    return grid


def _stored_chunks(array_dir: Path) -> dict[str, bytes]:
    out = {}
    for folder, _, files in os.walk(array_dir):
        for name in files:
            if name != "zarr.json":
                full = Path(folder) / name
                out[str(full.relative_to(array_dir))] = full.read_bytes()
    return out


# ---------------------------------------------------------------- cp: verbatim


def test_a_verbatim_copy_keeps_the_grid_values_and_stored_bytes(
    source: tuple[Path, dict[str, np.ndarray[Any, Any]]], tmp_path: Path
) -> None:
    src, expected = source
    dst = tmp_path / "dst.zarr"
    assert cp(str(src), str(dst)) == 0
    assert zarrio.open(str(dst)).attrs["title"] == "edges"
    for name in NAMES:
        assert (dst / name / "zarr.json").read_bytes() == (src / name / "zarr.json").read_bytes()
        assert _stored_chunks(dst / name) == _stored_chunks(src / name)
        copied = zarrio.open(str(dst), path=name)
        np.testing.assert_array_equal(copied[...], expected[name])
    assert _grid(dst, "shrunk")["configuration"]["chunk_shapes"] == [[[5, 2], 10]]  # edges past the extent kept
    assert len(_stored_chunks(dst / "plain")) == 4  # the unwritten first row of chunks stays unwritten


# ---------------------------------------------------------------- cp: re-encoded


def test_re_encoding_keeps_varying_chunks_and_shards_unless_replaced(
    source: tuple[Path, dict[str, np.ndarray[Any, Any]]], tmp_path: Path
) -> None:
    src, expected = source
    dst = tmp_path / "zstd.zarr"
    assert cp(str(src), str(dst), "--codecs", "zstd:3") == 0
    for name in NAMES:
        assert _grid(dst, name) == _grid(src, name)
        np.testing.assert_array_equal(zarrio.open(str(dst), path=name)[...], expected[name])
    sharded = zarrio.open(str(dst), path="sharded")
    assert sharded.chunks == (5, 4)
    codecs = sharded.metadata.to_json()["codecs"]
    assert codecs[0]["name"] == "sharding_indexed"
    assert codecs[0]["configuration"]["codecs"][-1] == {
        "name": "zstd",
        "configuration": {"level": 3, "checksum": False},
    }


@pytest.mark.parametrize(
    ("name", "options", "grid", "chunks"),
    [
        ("plain", ["--chunks", "7,4"], {"name": "regular", "configuration": {"chunk_shape": [7, 4]}}, (7, 4)),
        (
            "plain",
            ["--chunks", "5,8", "--shards", "20,16"],
            {"name": "regular", "configuration": {"chunk_shape": [20, 16]}},
            (5, 8),
        ),
        ("sharded", ["--shards", "none"], {"name": "regular", "configuration": {"chunk_shape": [5, 4]}}, (5, 4)),
        ("sharded", ["--chunks", "5,2"], None, (5, 2)),  # inner chunks that divide every edge keep the shards
        ("cube", ["--chunks", "4,4,4"], {"name": "regular", "configuration": {"chunk_shape": [4, 4, 4]}}, (4, 4, 4)),
    ],
)
def test_chunks_and_shards_options_rechunk_a_rectilinear_array(
    source: tuple[Path, dict[str, np.ndarray[Any, Any]]],
    tmp_path: Path,
    name: str,
    options: list[str],
    grid: dict[str, Any] | None,
    chunks: tuple[int, ...],
) -> None:
    src, expected = source
    dst = tmp_path / "re.zarr"
    assert cp(f"{src}/{name}", str(dst), *options) == 0
    assert _grid(dst) == (grid if grid is not None else _grid(src, name))
    copied = zarrio.open(str(dst))
    assert copied.chunks == chunks
    np.testing.assert_array_equal(copied[...], expected[name])
    if name == "cube":
        assert copied.metadata.dimension_names == ("z", "y", "x") and copied.attrs == {"units": "m"}


def test_options_that_cannot_keep_the_grid_are_usage_errors(
    source: tuple[Path, dict[str, np.ndarray[Any, Any]]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, _ = source
    assert cp(f"{src}/plain", str(tmp_path / "a.zarr"), "--shards", "20,16") == 2
    err = capsys.readouterr().err
    assert "chunks of varying sizes" in err and "pass --chunks" in err
    assert cp(f"{src}/sharded", str(tmp_path / "b.zarr"), "--chunks", "7,4") == 2
    err = capsys.readouterr().err
    assert "shards of varying sizes" in err and "--shards" in err
    assert not (tmp_path / "a.zarr").exists() and not (tmp_path / "b.zarr").exists()


def test_a_small_memory_budget_still_copies_whole_units(
    source: tuple[Path, dict[str, np.ndarray[Any, Any]]], tmp_path: Path
) -> None:
    """Re-encoding in many small blocks (one chunk row at a time) gives the same array."""
    src, expected = source
    dst = tmp_path / "small.zarr"
    assert cp(f"{src}/plain", str(dst), "--codecs", "none", "--jobs", "1") == 0
    np.testing.assert_array_equal(zarrio.open(str(dst))[...], expected["plain"])


ZP_READER = """
import json, sys
import numpy as np
import zarr
zarr.config.set({"array.rectilinear_chunks": True})
root = sys.argv[1]
seen = {}
for name in sys.argv[2:]:
    z = zarr.open_array(f"{root}/{name}")
    np.save(f"{root}/{name}.theirs.npy", z[...])
    seen[name] = [list(s) for s in z.write_chunk_sizes]
print(json.dumps(seen))
"""


def test_zarr_python_reads_the_copies(
    source: tuple[Path, dict[str, np.ndarray[Any, Any]]], tmp_path: Path, run_ref: Callable[..., str]
) -> None:
    src, expected = source
    verbatim, reencoded = tmp_path / "verbatim.zarr", tmp_path / "reencoded.zarr"
    assert cp(str(src), str(verbatim)) == 0
    assert cp(str(src), str(reencoded), "--codecs", "gzip:2") == 0
    for root in (verbatim, reencoded):
        seen = json.loads(run_ref(ZP_READER, str(root), *NAMES))
        for name in NAMES:
            theirs = np.load(root / f"{name}.theirs.npy")
            assert theirs.dtype == expected[name].dtype
            assert theirs.tobytes() == np.ascontiguousarray(expected[name]).tobytes(), (root.name, name)
            assert [tuple(s) for s in seen[name]] == list(zarrio.open(str(root), path=name).write_chunk_sizes)


# ---------------------------------------------------------------- the block planner


def test_cuts_align_with_the_source_edges_when_affordable() -> None:
    # destination units of 5, source chunks 10, 20, 5: blocks end where both grids have an edge
    cuts = plan_cuts([(5,) * 7], [(10, 20, 5)], 1, 20)
    assert cuts == ((0, 10, 30, 35),)
    # too little memory for a 20-element source chunk: whole destination units only
    assert plan_cuts([(5,) * 7], [(10, 20, 5)], 1, 9) == ((0, 5, 10, 15, 20, 25, 30, 35),)
    # varying destination units under a regular source, merged pairwise up to the target
    assert plan_cuts([(3, 7, 4), (8, 8)], [(14,), (16,)], 4, 4 * 10 * 16) == ((0, 10, 14), (0, 16))


def test_cut_growth_stops_at_max_chunks() -> None:
    cuts = plan_cuts([(4,) * 16], [(4,) * 16], 1, 1 << 20, chunk_sizes=[(2,) * 32], max_chunks=8)
    assert max(b - a for a, b in zip(cuts[0], cuts[0][1:], strict=False)) == 16  # 8 inner chunks of 2


@st.composite
def _grids(draw: st.DrawFn) -> tuple[list[list[int]], list[list[int]], int]:
    ndim = draw(st.integers(1, 3))
    units, sources = [], []
    for _ in range(ndim):
        extent = draw(st.integers(1, 40))
        for into in (units, sources):
            sizes: list[int] = []
            while sum(sizes) < extent:
                sizes.append(min(draw(st.integers(1, 12)), extent - sum(sizes)))
            into.append(sizes)
    return units, sources, draw(st.integers(1, 4000))


@settings(max_examples=150, deadline=None)
@given(_grids())
def test_blocks_tile_the_array_in_whole_units(case: tuple[list[list[int]], list[list[int]], int]) -> None:
    units, sources, target = case
    cuts = plan_cuts(units, sources, 2, target)
    shape = tuple(sum(sizes) for sizes in units)
    covered = np.zeros(shape, dtype=np.int32)
    largest_unit = 2 * int(np.prod([max(sizes) for sizes in units]))
    for region in cut_regions(cuts):
        covered[region] += 1
        assert 2 * int(np.prod([s.stop - s.start for s in region])) <= max(target, largest_unit)
    assert (covered == 1).all()
    for axis, sizes in zip(cuts, units, strict=True):
        bounds = set(np.cumsum([0, *sizes]).tolist())
        assert set(axis) <= bounds and axis[0] == 0 and axis[-1] == sum(sizes)


# ---------------------------------------------------------------- xarray


def test_xarray_opens_a_rectilinear_dataset(tmp_path: Path) -> None:
    xr = pytest.importorskip("xarray")
    pytest.importorskip("dask")
    root = tmp_path / "ds.zarr"
    zarrio.create_group(str(root))
    plain = zarrio.create(
        str(root), (35, 16), "int32", path="plain", chunks=[[10, 20, 5], 8], dimension_names=["y", "x"]
    )
    plain[:] = A
    sharded = zarrio.create(
        str(root),
        (35, 16),
        "float32",
        path="sharded",
        chunks=(5, 4),
        shards=[[10, 20, 5], 16],
        dimension_names=["y", "x"],
    )
    sharded[:] = A.astype("float32") / 3
    y = zarrio.create(str(root), (35,), "int64", path="y", chunks=[[10, 20, 5]], dimension_names=["y"])
    y[:] = np.arange(35) * 10

    ds = xr.open_dataset(str(root), engine="zarrio")
    np.testing.assert_array_equal(ds["plain"].values, A)
    np.testing.assert_array_equal(ds["sharded"].values, A.astype("float32") / 3)
    np.testing.assert_array_equal(ds["y"].values, np.arange(35) * 10)
    assert ds["plain"].sel(y=slice(100, 250)).values.tolist() == A[10:26].tolist()
    plain_encoding = ds["plain"].encoding
    assert plain_encoding["preferred_chunks"] == {"y": (10, 20, 5), "x": 8}
    assert "chunks" not in plain_encoding and "shards" not in plain_encoding  # xarray's writer takes one size
    assert ds["sharded"].encoding["chunks"] == (5, 4)
    assert ds["sharded"].encoding["preferred_chunks"] == {"y": (10, 20, 5), "x": 16}

    lazy = xr.open_dataset(str(root), engine="zarrio", chunks={})
    assert lazy["plain"].chunks == ((10, 20, 5), (8, 8))
    assert lazy["sharded"].chunks == ((10, 20, 5), (16,))
    np.testing.assert_array_equal(lazy["plain"].values, A)
    auto = xr.open_dataset(str(root), engine="zarrio", chunks="auto")
    np.testing.assert_array_equal(auto["sharded"].values, A.astype("float32") / 3)
