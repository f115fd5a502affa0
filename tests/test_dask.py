# mypy: disable-error-code="no-untyped-call"
"""zarrio with dask (threaded scheduler): to_dask / from_dask / store_dask, dask's own
from_array and store, and arrays, groups and stores that pickle as their configuration."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from prerequisites import skip_without

import zarrio
from zarrio.errors import SelectionError
from zarrio.stores import LocalStore, MemoryStore
from zarrio.testing import CountingStore

try:
    import dask
    import dask.array as da

    from zarrio.integrations.dask import aligned_blocks, from_dask, is_aligned, store_dask, to_dask, write_unit
except ImportError as missing:  # pragma: no cover - depends on the environment
    skip_without("the dask extra", missing)


@pytest.fixture(autouse=True)
def threaded_scheduler() -> object:
    with dask.config.set(scheduler="threads", num_workers=4):
        yield None


def _data(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


# ---------------------------------------------------------------- reading
def test_to_dask_blocks_are_the_chunks_and_reads_are_lazy(tmp_path: Path) -> None:
    data = _data((50, 37))
    counting = CountingStore(LocalStore(tmp_path / "a.zarr"))
    z = zarrio.create(counting, data.shape, "float64", chunks=(20, 10))
    z[...] = data
    counting.reset()
    x = to_dask(z)
    assert x.chunks == ((20, 20, 10), (10, 10, 10, 7))
    assert x.dtype == data.dtype
    assert counting.counts.total() == 0  # building the graph reads nothing
    np.testing.assert_array_equal(x.compute(), data)
    np.testing.assert_allclose((x[5:45, ::3] * 2).sum().compute(), (data[5:45, ::3] * 2).sum())


def test_to_dask_of_a_sharded_array_uses_whole_shards(tmp_path: Path) -> None:
    data = _data((64, 40), seed=1)
    z = zarrio.create(tmp_path / "s.zarr", data.shape, "float64", chunks=(8, 8), shards=(32, 16))
    z[...] = data
    assert write_unit(z) == (32, 16)
    x = to_dask(z)
    assert x.chunks == ((32, 32), (16, 16, 8))
    np.testing.assert_array_equal(x.compute(), data)
    assert to_dask(z, chunks=(8, 8)).chunks[0] == (8,) * 8


def test_to_dask_names_are_deterministic(tmp_path: Path) -> None:
    z = zarrio.create(tmp_path / "n.zarr", (10,), "int32", path="one", chunks=(5,))
    assert to_dask(z).name == to_dask(z).name
    other = zarrio.create(tmp_path / "n.zarr", (10,), "int32", path="other", chunks=(5,))
    assert to_dask(z).name != to_dask(other).name
    assert to_dask(z, name="mine").name == "mine"


def test_to_dask_rank_zero_and_refuses_non_arrays() -> None:
    z = zarrio.create(MemoryStore(), (), "float32", fill_value=2.5)
    assert float(to_dask(z).compute()) == 2.5
    with pytest.raises(TypeError, match=r"expects a zarrio\.Array"):
        to_dask(np.zeros(3))  # type: ignore[arg-type]


def test_async_arrays_are_accepted(tmp_path: Path) -> None:
    z = zarrio.create(tmp_path / "async.zarr", (8,), "int16", chunks=(4,))
    store_dask(da.arange(8, dtype="int16", chunks=4), z.aio)
    assert to_dask(z.aio).compute().tolist() == list(range(8))


def test_dask_from_array_works_on_a_zarrio_array_directly(tmp_path: Path) -> None:
    data = np.arange(40 * 30, dtype="int64").reshape(40, 30)
    z = zarrio.create(tmp_path / "d.zarr", data.shape, "int64", chunks=(16, 16))
    z[...] = data
    x = da.from_array(z, chunks=z.chunks)
    np.testing.assert_array_equal(x[3:33, 1::4].compute(), data[3:33, 1::4])


# ---------------------------------------------------------------- writing
def test_dask_store_with_lock_false_into_chunk_aligned_blocks(tmp_path: Path) -> None:
    data = _data((60, 45), seed=2)
    target = zarrio.create(tmp_path / "t.zarr", data.shape, "float64", chunks=(15, 15))
    da.store(da.from_array(data, chunks=(30, 15)), target, lock=False)
    np.testing.assert_array_equal(zarrio.open_array(tmp_path / "t.zarr")[...], data)


def test_from_dask_creates_and_writes(tmp_path: Path) -> None:
    data = _data((33, 21), seed=3)
    x = da.from_array(data, chunks=(10, 7)) + 1
    z = from_dask(x, tmp_path / "f.zarr", path="result", attributes={"units": "K"}, dimension_names=["y", "x"])
    assert z.chunks == (10, 7)
    reopened = zarrio.open_array(tmp_path / "f.zarr", path="result")
    np.testing.assert_array_equal(reopened[...], data + 1)
    assert reopened.attrs["units"] == "K"
    assert reopened.dimension_names == ("y", "x")


def test_misaligned_blocks_are_rechunked_before_writing(tmp_path: Path) -> None:
    data = np.arange(100 * 90, dtype="int32").reshape(100, 90)
    x = da.from_array(data, chunks=(13, 17))  # no block edge on a chunk or shard edge
    z = from_dask(x, tmp_path / "m.zarr", chunks=(5, 5), shards=(20, 30))
    np.testing.assert_array_equal(zarrio.open_array(tmp_path / "m.zarr")[...], data)
    assert write_unit(z) == (20, 30)
    target = zarrio.create(tmp_path / "m2.zarr", data.shape, "int32", chunks=(10, 10))
    assert store_dask(x, target) is None
    np.testing.assert_array_equal(target[...], data)


def test_store_dask_without_compute_returns_a_delayed(tmp_path: Path) -> None:
    data = _data((12, 12), seed=4)
    target = zarrio.create(tmp_path / "l.zarr", data.shape, "float64", chunks=(4, 4))
    pending = store_dask(da.from_array(data, chunks=(4, 4)), target, compute=False)
    assert pending is not None
    assert target.nchunks_stored() == 0
    pending.compute()
    np.testing.assert_array_equal(target[...], data)


def test_store_dask_refuses_shape_mismatch_and_unknown_chunks(tmp_path: Path) -> None:
    target = zarrio.create(tmp_path / "x.zarr", (10,), "int32", chunks=(5,))
    with pytest.raises(SelectionError):
        store_dask(da.zeros((11,), dtype="int32", chunks=5), target)
    values = da.arange(10, chunks=5)
    unknown = values[values > 3]
    with pytest.raises(SelectionError, match="unknown chunk sizes"):
        from_dask(unknown, tmp_path / "u.zarr")


@pytest.mark.parametrize(
    ("shape", "unit", "per_block", "expected"),
    [
        ((10,), (4,), None, ((4, 4, 2),)),
        ((8, 9), (4, 3), [2, 1], ((8,), (3, 3, 3))),
        ((0,), (4,), None, ((0,),)),
    ],
)
def test_aligned_blocks(
    shape: tuple[int, ...], unit: tuple[int, ...], per_block: list[int] | None, expected: tuple[tuple[int, ...], ...]
) -> None:
    blocks = aligned_blocks(shape, unit, per_block)
    assert blocks == expected
    assert is_aligned(blocks, unit)
    assert [sum(b) for b in blocks] == list(shape)


def test_is_aligned() -> None:
    assert is_aligned(((8, 8, 3),), (4,))
    assert not is_aligned(((6, 6),), (4,))
    assert is_aligned(((5,),), (4,))  # one block: no inner edge


# ---------------------------------------------------------------- pickling as configuration
def test_arrays_groups_and_stores_pickle_as_configuration(tmp_path: Path) -> None:
    root = tmp_path / "p.zarr"
    zarrio.create_group(root, attributes={"title": "t"})
    z = zarrio.create(root, (6,), "int16", path="g/a", chunks=(3,), attributes={"k": 1})
    z[...] = np.arange(6, dtype="int16")
    clone = pickle.loads(pickle.dumps(z))
    assert isinstance(clone, zarrio.Array)
    assert clone.aio is not z.aio
    assert clone.aio.store == z.aio.store
    assert (clone.path, clone.shape, clone.chunks, clone.attrs.asdict()) == ("g/a", (6,), (3,), {"k": 1})
    np.testing.assert_array_equal(clone[...], np.arange(6, dtype="int16"))
    clone[0] = 100  # a working array, not a snapshot of values
    assert z[0] == 100

    read_only = zarrio.open_array(root, path="g/a", mode="r")
    assert pickle.loads(pickle.dumps(read_only)).read_only

    group = zarrio.open_group(root)
    group_clone = pickle.loads(pickle.dumps(group))
    assert isinstance(group_clone, zarrio.Group)
    assert group_clone.attrs["title"] == "t"
    assert group_clone.tree() == group.tree()

    zarrio.consolidate_metadata(root)
    consolidated = pickle.loads(pickle.dumps(zarrio.open_group(root)))
    assert consolidated.aio.consolidated is not None
    assert "g/a" in consolidated.aio.consolidated


def test_pickled_array_does_not_carry_the_engine(tmp_path: Path) -> None:
    z = zarrio.create(tmp_path / "e.zarr", (1000,), "float64", chunks=(10,))
    payload = pickle.dumps(z)
    assert b"ChunkEngine" not in payload
    assert b"Thread" not in payload and b"loop" not in payload.lower()
