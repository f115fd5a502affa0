"""The rectilinear chunk grid (zarr-extensions ``chunk-grids/rectilinear``): chunks of varying
sizes per axis, read and written, plain and as shards of regular inner chunks.

Interoperability both ways with zarr-python 3.4.2 (its experimental support, enabled with
``array.rectilinear_chunks``), bit for bit across selections; the JSON form (bare sizes, edge
lists, runs ``[V, N]``) as the registry defines it and as zarr-python writes it; properties over
random edges and selections against NumPy; the dask integration aligned to the edges.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import zarrio
from zarrio.errors import MetadataError, UnsupportedError
from zarrio.metadata import ArrayMetadata, parse_data_type
from zarrio.metadata.chunk_grids import RectilinearChunkGrid, RegularChunkGrid, parse_chunk_grid
from zarrio.stores import MemoryStore

# ---------------------------------------------------------------- the JSON form


def test_the_registry_example_expands_as_the_specification_says() -> None:
    grid = parse_chunk_grid(
        {
            "name": "rectilinear",
            "configuration": {"kind": "inline", "chunk_shapes": [4, [1, 2, 3], [[4, 2]], [[1, 3], 3], [4, 4, 4]]},
        }
    )
    assert isinstance(grid, RectilinearChunkGrid)
    assert grid.chunk_shapes == (4, (1, 2, 3), (4, 4), (1, 1, 1, 3), (4, 4, 4))
    shape = (6, 6, 6, 6, 6)
    assert grid.grid_shape(shape) == (2, 3, 2, 4, 2)  # the third edge of the last axis lies past the extent
    assert grid.chunk_sizes(shape) == ((4, 2), (1, 2, 3), (4, 2), (1, 1, 1, 3), (4, 2))
    assert grid.chunk_shape_at((1, 2, 1, 3, 1)) == (4, 3, 4, 3, 4)
    assert grid.chunk_box((1, 2, 1, 3, 1), shape) == ((4, 6), (3, 6), (4, 6), (3, 6), (4, 6))
    # written back as zarr-python writes it: bare sizes bare, runs where shorter
    assert grid.to_json()["configuration"]["chunk_shapes"] == [4, [1, 2, 3], [[4, 2]], [[1, 3], 3], [[4, 3]]]
    meta = ArrayMetadata(shape, parse_data_type("uint8"), chunk_grid=grid)
    assert ArrayMetadata.from_json(meta.to_json()) == meta
    with pytest.raises(UnsupportedError, match="varying"):
        _ = meta.chunk_shape


@pytest.mark.parametrize(
    ("config", "error", "match"),
    [
        ({"kind": "external", "chunk_shapes": [2]}, UnsupportedError, "kind"),
        ({"chunk_shapes": [2]}, UnsupportedError, "kind"),
        ({"kind": "inline"}, MetadataError, "chunk_shapes"),
        ({"kind": "inline", "chunk_shapes": [[0, 2]]}, MetadataError, "out of range"),
        ({"kind": "inline", "chunk_shapes": [[[2, 0]]]}, MetadataError, "out of range"),
        ({"kind": "inline", "chunk_shapes": [[[2, 3, 4]]]}, MetadataError, "run"),
        ({"kind": "inline", "chunk_shapes": [[]]}, MetadataError, "no chunk edges"),
        ({"kind": "inline", "chunk_shapes": [[[1, 2**40]]]}, UnsupportedError, "more than"),
        ({"kind": "inline", "chunk_shapes": [[1.5]]}, MetadataError, "integers"),
    ],
)
def test_malformed_grids_are_typed_errors(config: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        parse_chunk_grid({"name": "rectilinear", "configuration": config})


def test_edges_must_cover_the_shape_and_match_its_rank() -> None:
    u8 = parse_data_type("uint8")
    with pytest.raises(MetadataError, match="less than its extent"):
        ArrayMetadata((10,), u8, chunk_grid=RectilinearChunkGrid(((3, 4),)))
    with pytest.raises(MetadataError, match="rank"):
        ArrayMetadata((10, 2), u8, chunk_grid=RectilinearChunkGrid(((3, 7),)))
    with pytest.raises(UnsupportedError, match="chunk grid 'variable'"):
        parse_chunk_grid({"name": "variable", "configuration": {}})
    assert RegularChunkGrid((3, 4)).to_json() == {"name": "regular", "configuration": {"chunk_shape": [3, 4]}}


def test_create_takes_edges_and_refuses_what_cannot_be_stored() -> None:
    z = zarrio.create(MemoryStore(), (35, 16), "int32", chunks=[[10, 20, 5], 8])
    assert z.metadata.to_json()["chunk_grid"]["configuration"]["chunk_shapes"] == [[10, 20, 5], 8]
    assert z.write_chunk_sizes == ((10, 20, 5), (8, 8))
    with pytest.raises(UnsupportedError, match="read_chunk_sizes"):
        _ = z.chunks
    with pytest.raises(MetadataError, match="not its extent"):
        zarrio.create(MemoryStore(), (35,), "int32", chunks=[[10, 20, 6]])
    with pytest.raises(MetadataError, match="cannot be sharded"):
        zarrio.create(MemoryStore(), (35,), "int32", chunks=[[10, 20, 5]], shards=(35,))
    with pytest.raises(MetadataError, match="not a multiple"):
        zarrio.create(MemoryStore(), (35,), "int32", chunks=(5,), shards=[[10, 21, 4]])
    sharded = zarrio.create(MemoryStore(), (35,), "int32", chunks=(5,), shards=[[10, 20, 5]])
    assert sharded.chunks == (5,) and sharded.read_chunk_sizes == ((5,) * 7,)
    with pytest.raises(UnsupportedError, match="write_chunk_sizes"):
        _ = sharded.shards


def test_resize_grows_the_last_edge_as_zarr_python_does_and_shrinking_keeps_the_edges() -> None:
    z = zarrio.create(MemoryStore(), (10,), "int16", chunks=[[3, 7]], fill_value=-1)
    z[:] = np.arange(10, dtype="int16")
    z.resize(14)
    assert z.metadata.chunk_grid.chunk_shapes == ((3, 7, 4),)
    z[10:] = 5
    assert z[:].tolist() == [*range(10), 5, 5, 5, 5]
    z.resize(5)
    assert z.metadata.chunk_grid.chunk_shapes == ((3, 7, 4),)  # edges past the extent are allowed
    assert z.write_chunk_sizes == ((3, 2),)
    z.resize(12)
    # the chunk wholly past the shrunk extent was erased; the one across it kept (as for regular grids)
    assert z[:].tolist() == [*range(10), -1, -1]


# ---------------------------------------------------------------- zarr-python 3.4.2 both ways

ZP_WRITER = """
import json, sys
import numpy as np
import zarr
zarr.config.set({"array.rectilinear_chunks": True})
out = sys.argv[1]
def save(name, z):
    np.save(f"{out}/{name}.npy", z[...])
a = np.arange(35 * 16, dtype="int32").reshape(35, 16)
z = zarr.create_array(out, name="plain", shape=(35, 16), chunks=[[10, 20, 5], [8, 8]], dtype="int32", fill_value=-7)
z[:] = a; save("plain", z)
z = zarr.create_array(out, name="sharded", shape=(35, 16), chunks=(5, 4), shards=[[10, 20, 5], [8, 8]], dtype="int32")
z[:] = a; z[3:9, 5] = -1; save("sharded", z)
z = zarr.create_array(out, name="partial", shape=(35, 16), chunks=[[10, 20, 5], 6], dtype="float32", fill_value=np.nan)
z[12:, 3:] = 1.5; z[0, 0] = -0.0; save("partial", z)
z = zarr.create_array(out, name="cube", shape=(9, 7, 5), chunks=[[2, 3, 4], [1, 1, 1, 4], 5], dtype="<u2",
                      filters=[{"name": "transpose", "configuration": {"order": [2, 0, 1]}}])
z[:] = np.arange(9 * 7 * 5, dtype="uint16").reshape(9, 7, 5) * 7; save("cube", z)
z = zarr.create_array(out, name="shrunk", shape=(20,), chunks=[[5, 5, 10]], dtype="float64", fill_value=0.5)
z[:] = np.linspace(0, 1, 20); z.resize((7,)); save("shrunk", z)
z = zarr.create_array(out, name="grown", shape=(10,), chunks=[[3, 7]], dtype="int8")
z[:] = 3; z.resize((14,)); z[11:] = -4; save("grown", z)
print(json.dumps({n: json.load(open(f"{out}/{n}/zarr.json"))["chunk_grid"]
                  for n in ["plain", "sharded", "partial", "cube", "shrunk", "grown"]}))
"""

ZP_READER = """
import json, sys
import numpy as np
import zarr
zarr.config.set({"array.rectilinear_chunks": True})
out = sys.argv[1]
seen = {}
for name in sys.argv[2:]:
    z = zarr.open_array(f"{out}/{name}")
    np.save(f"{out}/{name}.theirs.npy", z[...])
    seen[name] = {"sizes": [list(s) for s in z.write_chunk_sizes], "nchunks": z.nchunks_initialized,
                  "window": z[3:30:4, 1:15:3].tolist() if z.ndim == 2 else None}
print(json.dumps(seen))
"""

NAMES = ["plain", "sharded", "partial", "cube", "shrunk", "grown"]


@pytest.fixture(scope="module")
def written_by_zarr_python(tmp_path_factory: pytest.TempPathFactory, run_ref: Callable[..., str]) -> Path:
    root = tmp_path_factory.mktemp("zp_rectilinear")
    grids = json.loads(run_ref(ZP_WRITER, str(root)))
    assert grids["plain"]["configuration"]["chunk_shapes"] == [[10, 20, 5], [[8, 2]]]
    assert grids["grown"]["configuration"]["chunk_shapes"] == [[3, 7, 4]]
    return root


def _selections(shape: tuple[int, ...], rng: np.random.Generator) -> list[tuple[str, Any]]:
    """Basic, strided, negative-step, orthogonal and point selections over ``shape``."""
    out: list[tuple[str, Any]] = [("basic", ...), ("basic", tuple(slice(1, None, 2) for _ in shape))]
    out.append(("basic", tuple(slice(None, None, -3) for _ in shape)))
    out.append(("basic", tuple(int(rng.integers(n)) for n in shape)))
    for _ in range(4):
        lo = [int(rng.integers(n)) for n in shape]
        out.append(
            (
                "basic",
                tuple(
                    slice(a, int(rng.integers(a, n + 1)), int(rng.integers(1, 4)))
                    for a, n in zip(lo, shape, strict=True)
                ),
            )
        )
        out.append(("oindex", tuple(rng.integers(0, n, size=int(rng.integers(1, 5))) for n in shape)))
        points = int(rng.integers(1, 9))
        out.append(("vindex", tuple(rng.integers(0, n, size=points) for n in shape)))
    return out


def _read(z: zarrio.Array, form: str, sel: Any) -> Any:
    return z[sel] if form == "basic" else getattr(z, form)[sel]


def _expected(a: np.ndarray[Any, Any], form: str, sel: Any) -> Any:
    if form == "oindex":
        return a[np.ix_(*sel)]
    return a[sel]


@pytest.mark.parametrize("name", NAMES)
def test_zarrio_reads_what_zarr_python_wrote(written_by_zarr_python: Path, name: str) -> None:
    want = np.load(written_by_zarr_python / f"{name}.npy")
    z = zarrio.open(str(written_by_zarr_python / name))
    assert z.shape == want.shape
    assert z[...].tobytes() == want.tobytes()
    rng = np.random.default_rng(len(name))
    for form, sel in _selections(want.shape, rng):
        got, expected = np.asarray(_read(z, form, sel)), np.asarray(_expected(want, form, sel))
        assert got.shape == expected.shape and got.tobytes() == expected.tobytes(), (form, sel)
    if z.ndim == 2 and name != "partial":
        assert z.blocks[1, 1].tobytes() == want[10:30, 8:16].tobytes()


def _write_ours(root: Path) -> dict[str, np.ndarray[Any, Any]]:
    a = np.arange(35 * 16, dtype="int32").reshape(35, 16)
    expected: dict[str, np.ndarray[Any, Any]] = {}
    z = zarrio.create(str(root / "plain"), (35, 16), "int32", chunks=[[10, 20, 5], [8, 8]], fill_value=-7)
    z[:] = a
    z[4:26, 3] = 9
    expected["plain"] = z[...]
    z = zarrio.create(str(root / "sharded"), (35, 16), "int32", chunks=(5, 4), shards=[[10, 20, 5], [8, 8]])
    z[2:33, 1:15] = a[2:33, 1:15]
    expected["sharded"] = z[...]
    z = zarrio.create(str(root / "runs"), (23,), "float64", chunks=[[[3, 4], 11]], fill_value=np.nan)
    z[5:20] = np.linspace(-1, 1, 15)
    expected["runs"] = z[...]
    assert json.loads((root / "runs" / "zarr.json").read_text())["chunk_grid"]["configuration"] == {
        "kind": "inline",
        "chunk_shapes": [[[3, 4], 11]],
    }
    return expected


def test_zarr_python_reads_what_zarrio_wrote(tmp_path: Path, run_ref: Callable[..., str]) -> None:
    expected = _write_ours(tmp_path)
    seen = json.loads(run_ref(ZP_READER, str(tmp_path), *expected))
    for name, want in expected.items():
        theirs = np.load(tmp_path / f"{name}.theirs.npy")
        assert theirs.shape == want.shape and theirs.tobytes() == want.tobytes(), name
        z = zarrio.open(str(tmp_path / name))
        assert [tuple(s) for s in seen[name]["sizes"]] == list(z.write_chunk_sizes)
        if want.ndim == 2:
            assert seen[name]["window"] == want[3:30:4, 1:15:3].tolist()
    assert seen["plain"]["nchunks"] == 6
    assert seen["sharded"]["nchunks"] == 28


# ---------------------------------------------------------------- properties against NumPy

settings.register_profile(
    "zarrio-rectilinear",
    max_examples=int(os.environ.get("ZARRIO_PROPERTY_EXAMPLES", "0")) or 60,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def _layouts(draw: st.DrawFn) -> tuple[tuple[int, ...], Any, tuple[int, ...] | None]:
    """A shape, a rectilinear grid (maybe with edges past the extent) and inner chunks (sharded) or None."""
    ndim = draw(st.integers(1, 3))
    sharded = draw(st.booleans())
    shape, axes, inner = [], [], []
    for _ in range(ndim):
        unit = draw(st.integers(1, 3)) if sharded else 1
        if draw(st.integers(0, 3)) == 0:
            axes.append(unit * draw(st.integers(1, 4)))
            shape.append(draw(st.integers(0, 12)))
        else:
            edges = draw(st.lists(st.integers(1, 4), min_size=1, max_size=5))
            axes.append(tuple(unit * e for e in edges))
            shape.append(draw(st.integers(0, sum(axes[-1]))))
        inner.append(unit)
    return tuple(shape), RectilinearChunkGrid(tuple(axes)), tuple(inner) if sharded else None


PROFILE = settings.get_profile("zarrio-rectilinear")


def _outer(model: np.ndarray[Any, Any], sel: tuple[Any, ...]) -> np.ndarray[Any, Any]:
    """NumPy's outer (per axis) selection, one axis at a time (an int drops its axis)."""
    out = model
    axis = 0
    for s, n in zip(sel, model.shape, strict=True):
        if isinstance(s, int):
            out = np.take(out, s, axis=axis)
            continue
        out = np.take(out, np.arange(n)[s] if isinstance(s, slice) else s, axis=axis)
        axis += 1
    return np.asarray(out)


def _index(draw: st.DrawFn, n: int) -> Any:
    kind = draw(st.sampled_from(["slice", "int", "array"] if n else ["slice"]))
    if kind == "slice":
        start = draw(st.none() | st.integers(-n - 2, n + 2))
        stop = draw(st.none() | st.integers(-n - 2, n + 2))
        return slice(start, stop, draw(st.sampled_from([None, 1, 2, 3, -1, -2])))
    if kind == "int":
        return draw(st.integers(-n, n - 1))
    return np.array(draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4)), dtype=np.intp)


@PROFILE
@given(layout=_layouts(), data=st.data())
def test_random_edges_and_selections_match_numpy(layout: Any, data: st.DataObject) -> None:
    shape, grid, inner = layout
    store = MemoryStore()
    z = zarrio.create(
        store, shape, "int16", chunks=inner if inner else grid, shards=grid if inner else None, fill_value=-3
    )
    model = np.full(shape, -3, dtype="int16")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    for _ in range(data.draw(st.integers(1, 3))):  # partial writes, through basic selections
        region = tuple(slice(*sorted(data.draw(st.tuples(st.integers(0, n), st.integers(0, n))))) for n in shape)
        values = rng.integers(-1000, 1000, size=model[region].shape, dtype="int16")
        z[region] = values
        model[region] = values
    assert z[...].tobytes() == model.tobytes()
    for _ in range(3):
        sel = tuple(_index(data.draw, n) for n in shape)
        got, want = z.oindex[sel], _outer(model, sel)
        assert np.shape(got) == want.shape and np.asarray(got).tobytes() == want.tobytes(), sel
    if all(shape):
        points = tuple(rng.integers(0, n, size=5) for n in shape)
        assert z.vindex[points].tobytes() == model[points].tobytes()
        z.vindex[points] = 11
        model[points] = 11
        assert z[...].tobytes() == model.tobytes()


# ---------------------------------------------------------------- dask


def test_dask_blocks_follow_the_edges() -> None:
    da = pytest.importorskip("dask.array")
    import dask

    from zarrio.integrations.dask import from_dask, store_dask, to_dask

    with dask.config.set(scheduler="threads"):
        a = np.arange(35 * 16, dtype="int32").reshape(35, 16)
        z = zarrio.create(MemoryStore(), (35, 16), "int32", chunks=[[10, 20, 5], 8])
        z[:] = a
        lazy = to_dask(z)
        assert lazy.chunks == ((10, 20, 5), (8, 8))
        assert lazy.compute().tobytes() == a.tobytes()
        assert da.from_array(z, chunks=z.read_chunk_sizes).sum().compute() == a.sum()

        target = zarrio.create(MemoryStore(), (35, 16), "int32", chunks=(5, 4), shards=[[10, 20, 5], [8, 8]])
        store_dask(da.from_array(-a, chunks=(7, 5)), target)  # rechunked to whole shards first
        assert target[...].tobytes() == (-a).tobytes()

        irregular = da.from_array(a, chunks=((3, 30, 2), (16,)))
        made = from_dask(irregular, MemoryStore())
        assert made.write_chunk_sizes == ((3, 30, 2), (16,))
        assert made[...].tobytes() == a.tobytes()


def test_regular_grids_keep_the_fast_path_and_bare_sizes_stay_rectilinear_in_json() -> None:
    regular = zarrio.create(MemoryStore(), (10, 10), "int8", chunks=(4, 5))
    assert regular.aio._engine.layout is None
    bare = zarrio.create(MemoryStore(), (10, 10), "int8", chunks=RectilinearChunkGrid((4, 5)))
    assert bare.aio._engine.layout is None  # every axis regular: one chunk shape, the regular kernels
    assert bare.chunks == (4, 5) and bare.metadata.chunk_shape == (4, 5)
    assert bare.metadata.to_json()["chunk_grid"] == {
        "name": "rectilinear",
        "configuration": {"kind": "inline", "chunk_shapes": [4, 5]},
    }
    bare[:] = np.arange(100, dtype="int8").reshape(10, 10)
    assert bare[3:9, 2:7].tobytes() == np.arange(100, dtype="int8").reshape(10, 10)[3:9, 2:7].tobytes()
