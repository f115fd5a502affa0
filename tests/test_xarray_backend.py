# mypy: disable-error-code="no-untyped-call"
"""xarray.open_dataset / open_datatree with engine="zarrio" on Zarr v3 datasets that the real
xarray + zarr-python 3.4 write (in the reference interpreter, Python 3.12).

What xarray + zarr-python read back from those stores (a JSON summary made in the reference
interpreter) must equal what xarray + zarrio read: dimensions, coordinates, attributes, CF
decoding (scale/offset packing, _FillValue masks, time units), encodings and every value.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from prerequisites import skip_or_fail, skip_without

import zarrio
from zarrio.testing import CountingStore

try:
    import xarray as xr

    from zarrio.integrations.xarray_backend import ZarrioBackendEntrypoint, decode_fill_attribute
except ImportError as missing:  # pragma: no cover - depends on the environment
    skip_without("the xarray extra", missing)

# ---------------------------------------------------------------- the same summary on both sides
SUMMARY_CODE = '''
import math
import numpy as np

def _plain(value):
    """JSON-able and comparable: NaN as a string, numpy scalars as Python, datetimes as ISO text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "mM":
            return [str(v) for v in value.ravel().tolist()] if value.dtype.kind == "m" else np.datetime_as_string(value.ravel()).tolist()
        return _plain(value.ravel().tolist())
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, np.dtype):
        return str(value)
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value

ENCODING_KEYS = ("dtype", "scale_factor", "add_offset", "_FillValue", "units", "calendar", "coordinates")

def summarize(ds):
    """Everything a user sees of a dataset, plus the CF encodings xarray recorded."""
    variables = {}
    for name, var in ds.variables.items():
        variables[str(name)] = {
            "dims": list(var.dims),
            "shape": list(var.shape),
            "dtype": str(var.dtype),
            "attrs": _plain(dict(var.attrs)),
            "encoding": _plain({k: var.encoding[k] for k in ENCODING_KEYS if k in var.encoding}),
            "values": _plain(np.asarray(var.values)),
        }
    return {
        "dims": _plain(dict(ds.sizes)),
        "coords": sorted(str(c) for c in ds.coords),
        "data_vars": sorted(str(v) for v in ds.data_vars),
        "attrs": _plain(dict(ds.attrs)),
        "variables": variables,
    }
'''

WRITE_CODE = """
import json, sys, warnings
import numpy as np, pandas as pd, xarray as xr

warnings.simplefilter("ignore")  # zarr-python warns that consolidated metadata is not in the v3 spec
out = sys.argv[1]

time = pd.date_range("2000-01-01", periods=6, freq="6h")
temp = (np.arange(6 * 8 * 10, dtype="float32").reshape(6, 8, 10) / 7).astype("float32")
temp[0, 0, :3] = np.nan
precip = np.arange(80, dtype="float64").reshape(8, 10) / 4.0
precip[2, 3] = np.nan
ds = xr.Dataset(
    {
        "temp": (("time", "y", "x"), temp, {"units": "K", "long_name": "air temperature", "standard_name": "air_temperature"}),
        "precip": (("y", "x"), precip, {"units": "mm", "cell_methods": "time: sum"}),
        "flag": (("x",), np.array(["a", "bb", "", "dddd", "e", "f", "g", "h", "i", "j"], dtype=object)),
        "count": (("time",), np.arange(6, dtype="int32"), {"comment": "a plain integer variable"}),
        "wait": (("time",), pd.to_timedelta(np.arange(6), unit="h").values),
    },
    coords={
        "time": time,
        "y": np.arange(8) * 0.5,
        "x": np.arange(10),
        "lat": (("y", "x"), np.arange(80.0).reshape(8, 10) / 80, {"units": "degrees_north"}),
    },
    attrs={"title": "zarrio xarray test", "levels": [1, 2, 3], "nested": {"a": 1}},
)
ds["precip"].encoding = {"dtype": "int16", "scale_factor": 0.25, "add_offset": 1.0, "_FillValue": -32768}
ds["temp"].encoding = {"chunks": (2, 4, 5)}
ds["lat"].encoding = {"chunks": (4, 5), "shards": (8, 10)}
ds.to_zarr(out + "/flat.zarr", zarr_format=3, mode="w", consolidated=True)
ds.to_zarr(out + "/unconsolidated.zarr", zarr_format=3, mode="w", consolidated=False)

tree = xr.DataTree.from_dict({
    "/": xr.Dataset(attrs={"kind": "tree"}),
    "/surface": ds[["precip", "lat"]],
    "/surface/hourly": ds[["temp"]].isel(time=slice(0, 3)),
    "/upper": xr.Dataset({"wind": (("level",), np.array([1.5, 2.5, 3.5]))}, coords={"level": [850, 500, 250]}),
})
tree.to_zarr(out + "/tree.zarr", zarr_format=3, mode="w")

summaries = {
    "flat": summarize(xr.open_dataset(out + "/flat.zarr", engine="zarr")),
    "unconsolidated": summarize(xr.open_dataset(out + "/unconsolidated.zarr", engine="zarr", consolidated=False)),
    "tree": {
        path: summarize(node.to_dataset())
        for path, node in xr.open_datatree(out + "/tree.zarr", engine="zarr").subtree_with_keys
    },
}
print(json.dumps(summaries))
"""

_namespace: dict[str, Any] = {}
exec(SUMMARY_CODE, _namespace)
summarize: Callable[[xr.Dataset], dict[str, Any]] = _namespace["summarize"]


def with_object_strings(summary: dict[str, Any]) -> dict[str, Any]:
    """zarr-python 3 hands xarray variable-length strings as numpy's StringDType; zarrio hands
    them as object arrays of str (the one documented difference): compare with that in mind."""
    text = json.dumps(summary).replace('"StringDType()"', '"object"')
    converted: dict[str, Any] = json.loads(text)
    return converted


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """Datasets written by the real xarray + zarr-python, and what they read back themselves."""
    from interop import find_ref_python, ref_environment

    python = find_ref_python()
    reason = (
        "the reference interpreter with xarray (zarr-python 3.4 needs Python 3.12): pip install xarray in .venv-ref"
    )
    if python is None:
        skip_or_fail(f"no {reason}")
    probe = subprocess.run(
        [str(python), "-c", "import xarray, zarr"], capture_output=True, env=ref_environment(), check=False
    )
    if probe.returncode != 0:
        skip_or_fail(f"missing {reason}")
    out = tmp_path_factory.mktemp("xarray-written")
    done = subprocess.run(
        [str(python), "-c", SUMMARY_CODE + WRITE_CODE, str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env=ref_environment(),
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out, json.loads(done.stdout)


# ---------------------------------------------------------------- equal to what xarray + zarr-python read
@pytest.mark.parametrize("name", ["flat", "unconsolidated"])
def test_open_dataset_matches_xarray_with_zarr_python(written: tuple[Path, dict[str, Any]], name: str) -> None:
    root, expected = written
    with xr.open_dataset(root / f"{name}.zarr", engine="zarrio") as ds:
        ours = summarize(ds)
    assert ours["variables"]["flag"]["dtype"] == "object"
    assert expected[name]["variables"]["flag"]["dtype"] == "StringDType()"
    assert ours == with_object_strings(expected[name])


def test_open_dataset_over_http(written: tuple[Path, dict[str, Any]]) -> None:
    import zarrio.server

    root, expected = written
    with zarrio.server.serve(root / "flat.zarr") as server:
        ds = xr.open_dataset(server.url, engine="zarrio")  # consolidated metadata: no listing needed
        ours = summarize(ds)
    assert ours == with_object_strings(expected["flat"])


def test_open_datatree_matches_xarray_with_zarr_python(written: tuple[Path, dict[str, Any]]) -> None:
    root, expected = written
    tree = xr.open_datatree(root / "tree.zarr", engine="zarrio")
    ours = {path: summarize(node.to_dataset()) for path, node in tree.subtree_with_keys}
    assert ours == with_object_strings(expected["tree"])
    assert tree.attrs == {"kind": "tree"}
    assert sorted(tree.children) == ["surface", "upper"]
    subtree = xr.open_datatree(root / "tree.zarr", engine="zarrio", group="surface")
    assert sorted(subtree.children) == ["hourly"]
    groups = xr.open_groups(root / "tree.zarr", engine="zarrio")
    assert sorted(groups) == ["/", "/surface", "/surface/hourly", "/upper"]


# ---------------------------------------------------------------- decoding, spelled out
def test_dimensions_coordinates_and_cf_decoding(written: tuple[Path, dict[str, Any]]) -> None:
    root, _ = written
    ds = xr.open_dataset(root / "flat.zarr", engine="zarrio")
    assert dict(ds.sizes) == {"time": 6, "y": 8, "x": 10}
    assert set(ds.coords) == {"time", "y", "x", "lat"}
    assert ds["lat"].dims == ("y", "x")  # a non-dimension coordinate, from the "coordinates" attribute
    assert ds["time"].dtype.kind == "M"
    assert str(ds["time"].values[1]).startswith("2000-01-01T06:00")
    assert ds["time"].encoding["units"].startswith("hours since 2000-01-01")
    precip = ds["precip"]
    assert precip.dtype == np.float64
    assert precip.encoding["dtype"] == np.dtype("int16")
    assert (precip.encoding["scale_factor"], precip.encoding["add_offset"]) == (0.25, 1.0)
    assert precip.encoding["_FillValue"] == -32768
    values = precip.values
    assert np.isnan(values[2, 3])
    expected = np.arange(80, dtype="float64").reshape(8, 10) / 4.0
    expected[2, 3] = np.nan
    np.testing.assert_array_equal(values, expected)
    assert np.isnan(ds["temp"].values[0, 0, :3]).all()
    assert ds["temp"].attrs["units"] == "K"
    assert ds["flag"].values.tolist() == ["a", "bb", "", "dddd", "e", "f", "g", "h", "i", "j"]
    assert ds["wait"].dtype.kind == "m"
    assert ds.attrs["levels"] == [1, 2, 3]


def test_encodings_describe_the_zarr_arrays(written: tuple[Path, dict[str, Any]]) -> None:
    root, _ = written
    ds = xr.open_dataset(root / "flat.zarr", engine="zarrio")
    assert ds["temp"].encoding["chunks"] == (2, 4, 5)
    assert ds["temp"].encoding["preferred_chunks"] == {"time": 2, "y": 4, "x": 5}
    assert ds["temp"].encoding["shards"] is None
    assert ds["lat"].encoding["chunks"] == (4, 5)
    assert ds["lat"].encoding["shards"] == (8, 10)
    assert ds["lat"].encoding["preferred_chunks"] == {"y": 8, "x": 10}  # whole shards per dask task
    assert ds["temp"].encoding["codecs"][0]["name"] == "bytes"
    chunked = xr.open_dataset(root / "flat.zarr", engine="zarrio", chunks={})
    assert chunked["temp"].chunks == ((2, 2, 2), (4, 4), (5, 5))
    np.testing.assert_array_equal(chunked["temp"].values, ds["temp"].values)


# ---------------------------------------------------------------- lazy loading, orthogonal indexing
def test_lazy_loading_reads_only_what_is_indexed(written: tuple[Path, dict[str, Any]]) -> None:
    root, _ = written
    counting = CountingStore(zarrio.stores.LocalStore(root / "flat.zarr", read_only=True))
    ds = xr.open_dataset(counting, engine="zarrio")  # type: ignore[arg-type]
    metadata_reads = counting.counts.total()
    temp = ds["temp"]
    assert counting.counts.total() == metadata_reads  # opening read no chunks
    full = temp.values
    counting.reset()
    ds2 = xr.open_dataset(counting, engine="zarrio")  # type: ignore[arg-type]
    counting.reset()
    picked = ds2["temp"][[0, 5], 1:7:3, [9, 0, 4]].values  # outer indexing with arrays and a stepped slice
    np.testing.assert_array_equal(picked, full[[0, 5]][:, 1:7:3][:, :, [9, 0, 4]])
    chunk_reads = counting.counts["get"] + counting.counts["get_partial"] + counting.counts["get_ranges"]
    assert chunk_reads == 2 * 2 * 2  # time chunks {0, 2}, y chunks {0, 1}, x chunks {0, 1}: 8 of the 24
    reversed_rows = ds2["temp"][1, ::-2, :].values
    np.testing.assert_array_equal(reversed_rows, full[1, ::-2, :])
    points = ds2["temp"].isel(time=xr.DataArray([0, 1]), x=xr.DataArray([2, 3])).values  # vectorized
    np.testing.assert_array_equal(points, full[[0, 1], :, [2, 3]])


def test_pointwise_isel_reads_only_the_chunks_holding_the_points(written: tuple[Path, dict[str, Any]]) -> None:
    """The backend declares vectorized indexing: DataArray indexers sharing a dimension go to
    zarrio's vindex (points), not to an outer read of every row and column they name."""
    root, _ = written
    expected = xr.open_dataset(root / "flat.zarr", engine="zarrio").load()  # the in-memory answer
    counting = CountingStore(zarrio.stores.LocalStore(root / "flat.zarr", read_only=True))
    ds = xr.open_dataset(counting, engine="zarrio")  # type: ignore[arg-type]
    pick = {
        "time": xr.DataArray([0, 5, 1], dims="p"),
        "y": xr.DataArray([0, 7, 1], dims="p"),
        "x": xr.DataArray([0, 9, 1], dims="p"),
    }
    counting.reset()
    points = ds["temp"].isel(pick).values  # temp chunks are (2, 4, 5): points in chunks (0,0,0) and (2,1,1)
    np.testing.assert_array_equal(points, expected["temp"].isel(pick).values)
    assert counting.counts["get"] + counting.counts["get_partial"] + counting.counts["get_ranges"] == 2
    grid = {
        "time": xr.DataArray([[0, 1], [4, 5]], dims=("a", "b")),
        "x": xr.DataArray([[0, 9], [3, 3]], dims=("a", "b")),
    }
    with_slice = ds["temp"].isel({**grid, "y": slice(1, 8, 3)})  # 2-D indexers beside a stepped slice
    xr.testing.assert_identical(with_slice.load(), expected["temp"].isel({**grid, "y": slice(1, 8, 3)}))


async def test_pointwise_isel_through_the_async_api(written: tuple[Path, dict[str, Any]]) -> None:
    root, _ = written
    expected = xr.open_dataset(root / "flat.zarr", engine="zarrio").load()
    pick = {"time": xr.DataArray([3, 0], dims="p"), "x": xr.DataArray([8, 2], dims="p")}
    lazy = xr.open_dataset(root / "flat.zarr", engine="zarrio")["temp"].isel(pick)
    loaded = await lazy.load_async()
    xr.testing.assert_identical(loaded, expected["temp"].isel(pick))


async def test_load_async_reads_through_the_async_api(written: tuple[Path, dict[str, Any]]) -> None:
    root, _ = written
    ds = xr.open_dataset(root / "flat.zarr", engine="zarrio")
    loaded = await ds[["temp", "precip"]].load_async()
    reference = xr.open_dataset(root / "flat.zarr", engine="zarrio").load()
    xr.testing.assert_identical(loaded, reference[["temp", "precip"]])


# ---------------------------------------------------------------- inputs and guessing
def test_accepts_stores_groups_and_guesses_zarr(written: tuple[Path, dict[str, Any]]) -> None:
    root, _ = written
    group = zarrio.open_group(root / "tree.zarr", mode="r")
    from_group = xr.open_dataset(group, engine="zarrio", group="upper")  # type: ignore[arg-type]
    assert from_group["wind"].values.tolist() == [1.5, 2.5, 3.5]
    entry = ZarrioBackendEntrypoint()
    assert entry.guess_can_open(str(root / "flat.zarr"))
    assert entry.guess_can_open(group)
    assert not entry.guess_can_open(str(root / "nothing.nc"))
    assert entry.guess_can_open("s3://bucket/data.zarr") and entry.guess_can_open("https://host/data.zarr/")
    assert not entry.guess_can_open("https://host/data.nc")
    v2 = root / "v2.zarr"
    v2.mkdir(exist_ok=True)
    (v2 / ".zgroup").write_text('{"zarr_format": 2}')
    assert entry.guess_can_open(str(v2))  # Zarr v2 too (tests/test_v2_interop.py reads one)
    assert "zarrio" in xr.backends.list_engines()


def test_arrays_without_dimension_names(tmp_path: Path) -> None:
    store = zarrio.stores.MemoryStore()
    zarrio.create_group(store, attributes={"source": "zarrio"})
    zarrio.create(store, (2, 3), "int8", path="named", dimension_names=["a", "b"])[...] = 1
    zarrio.create(store, (4,), "float32", path="legacy", attributes={"_ARRAY_DIMENSIONS": ["c"]})[...] = 2
    ds = xr.open_dataset(store, engine="zarrio")  # type: ignore[arg-type]
    assert ds["named"].dims == ("a", "b")
    assert ds["legacy"].dims == ("c",)
    assert "_ARRAY_DIMENSIONS" not in ds["legacy"].attrs
    assert ds.attrs == {"source": "zarrio"}


@pytest.mark.parametrize(
    ("value", "dtype", "expected"),
    [
        ("AAAAAAAA+H8=", "float32", "nan"),
        ("AAAAAAAA8L8=", "float64", -1.0),
        (-9999, "int16", -9999),
        (["AAAAAAAA8D8=", "AAAAAAAAAEA="], "complex64", complex(1, 2)),
        ("aGk=", "S2", b"hi"),
        (True, "bool", True),
    ],
)
def test_decode_fill_attribute(value: Any, dtype: str, expected: Any) -> None:
    got = decode_fill_attribute(value, np.dtype(dtype))
    if expected == "nan":
        assert np.isnan(got)
    else:
        assert got == expected


def test_lazy_datasets_pickle_for_distributed_workers(written: tuple[Path, dict[str, Any]]) -> None:
    import pickle

    root, _ = written
    lazy = xr.open_dataset(root / "flat.zarr", engine="zarrio")
    clone = pickle.loads(pickle.dumps(lazy))  # still lazy: the arrays travel as their configuration
    xr.testing.assert_identical(clone.load(), xr.open_dataset(root / "flat.zarr", engine="zarrio").load())
    chunked = pickle.loads(pickle.dumps(xr.open_dataset(root / "flat.zarr", engine="zarrio", chunks={})))
    np.testing.assert_array_equal(chunked["temp"].values, lazy["temp"].values)
