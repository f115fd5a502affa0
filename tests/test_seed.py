"""The seed (../shared/MISSION.md, "The seed, in Python"), line by line, minus the
HTTP lines (those run against nginx in test_http_seed.py)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import zarrio
from zarrio.testing import CountingStore


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_seed() -> None:
    magic = np.arange(100, dtype="float64").reshape(10, 10)

    # LocalStore
    z = zarrio.create("storage_demo.zarr", (10, 10), "float64", path="x", chunks=(5, 5))
    z[:, :] = magic
    z2 = zarrio.open("storage_demo.zarr", path="x")
    assert np.array_equal(z2[:, :], magic)

    # MemoryStore
    mem = zarrio.stores.MemoryStore()
    zm = zarrio.create(mem, 5, "int32")
    zm[:] = np.arange(1, 6, dtype="int32")
    assert np.array_equal(zm[1:3], np.array([2, 3], dtype="int32"))

    # ZipStore
    zw = zarrio.stores.ZipStore("archive.zarr.zip", mode="w")
    zarrio.create_group(zw, attributes={"kind": "archive"})
    za = zarrio.create(zw, (4, 4), "float64", path="data")
    za[:, :] = magic[:4, :4]
    zw.close()
    zr = zarrio.stores.ZipStore("archive.zarr.zip")
    g = zarrio.open(zr)
    assert isinstance(g, zarrio.Group)
    assert np.array_equal(g["data"][...], magic[:4, :4])
    assert g.attrs["kind"] == "archive"
    zr.close()

    # Consolidated metadata
    zarrio.create("storage_demo.zarr", 3, "int8", path="deep/nested/y")
    zarrio.consolidate_metadata("storage_demo.zarr")
    gc = zarrio.open("storage_demo.zarr")
    node = gc["deep"]["nested"]["y"]
    assert node.shape == (3,)

    # Deleting nodes (recursive)
    zarrio.delete_node("storage_demo.zarr", "deep")
    assert not gc.store.exists("deep/nested/y/zarr.json")
    assert not os.path.exists("storage_demo.zarr/deep")


def test_consolidated_open_then_browse_makes_zero_store_reads() -> None:
    zarrio.create("h.zarr", 3, "int8", path="deep/nested/y")
    zarrio.create("h.zarr", (2, 2), "float32", path="deep/other")
    zarrio.consolidate_metadata("h.zarr")
    counting = CountingStore(zarrio.stores.LocalStore("h.zarr"))
    gc = zarrio.open(counting)
    after_open = sum(counting.counts.values())
    assert after_open == 1
    node = gc["deep"]["nested"]["y"]
    assert node.shape == (3,)
    assert [name for name, _ in gc["deep"].members()] == ["nested", "other"]
    assert "y" in gc.tree()
    assert sum(counting.counts.values()) == after_open, counting.counts
    node[:]  # reading data still reads chunks (or finds them missing)
    assert sum(counting.counts.values()) > after_open


def test_the_async_api_awaits_the_same_objects() -> None:
    async def service() -> list[np.ndarray]:
        store = zarrio.stores.MemoryStore()
        a = await zarrio.aio.create(store, (1024, 256), "uint16", path="temperature", chunks=(256, 256))
        await a.setitem(..., np.arange(1024 * 256, dtype="uint16").reshape(1024, 256))
        a = await zarrio.aio.open(store, path="temperature")
        import asyncio

        return await asyncio.gather(*(a.getitem((slice(i, i + 256), slice(0, 256))) for i in range(0, 1024, 256)))

    tiles = zarrio.run(service())
    full = np.arange(1024 * 256, dtype="uint16").reshape(1024, 256)
    for i, tile in zip(range(0, 1024, 256), tiles, strict=True):
        assert np.array_equal(tile, full[i : i + 256])
