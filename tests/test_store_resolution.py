"""What `as_store` makes of paths and URLs, and stores crossing process boundaries by pickle."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

import zarrio
from zarrio.stores import HttpStore, LocalStore, ZipStore, as_store


def test_paths_and_urls_pick_their_store(tmp_path: Path) -> None:
    assert isinstance(as_store(str(tmp_path / "d.zarr")), LocalStore)
    assert isinstance(as_store(tmp_path / "d.zarr"), LocalStore)
    archive = tmp_path / "a.zip"
    with ZipStore(archive, mode="w") as zs:
        zarrio.create_group(zs)
    assert isinstance(as_store(str(archive)), ZipStore)
    assert isinstance(as_store("http://127.0.0.1:9/data.zarr"), HttpStore)
    with pytest.raises(TypeError, match="cannot make a store"):
        as_store(42)  # type: ignore[arg-type]


def test_object_store_urls_make_object_stores() -> None:
    pytest.importorskip("obstore", reason="the obstore extra is not installed")
    from zarrio.stores import ObjectStore

    store = as_store("s3://some-bucket/prefix")
    assert isinstance(store, ObjectStore)


def test_a_read_only_zip_store_pickles_as_its_path(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    with ZipStore(archive, mode="w") as zs:
        zarrio.create(zs, (4,), "int16", path="x")[:] = np.arange(4)
    with ZipStore(archive) as zr:
        array = zarrio.open(zr, path="x")
        copy = pickle.loads(pickle.dumps(array))
        assert list(copy[:]) == [0, 1, 2, 3]
        assert copy.aio.store is not zr  # a fresh handle of its own
    with ZipStore(tmp_path / "w.zip", mode="w") as writing, pytest.raises(TypeError, match="reopen it with mode='r'"):
        pickle.dumps(writing)
