"""Groups, consolidated metadata and recursive deletion."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import zarrio
from zarrio.errors import InvalidKeyError, ListingNotSupportedError, NodeNotFoundError, ReadOnlyError
from zarrio.stores import LocalStore, MemoryStore, Store
from zarrio.testing import CountingStore


class UnlistableStore(MemoryStore):
    """A memory store that cannot list keys, like an HTTP server."""

    listable = False

    async def list(self, prefix: str = "") -> list[str]:
        raise ListingNotSupportedError("cannot list")

    async def list_dir(self, prefix: str = "") -> tuple[list[str], list[str]]:
        raise ListingNotSupportedError("cannot list")


def build(store: Store) -> None:
    zarrio.create_group(store, attributes={"root": True})
    zarrio.create(store, (4,), "int8", path="a/x", attributes={"n": 1})
    zarrio.create(store, (2, 2), "float32", path="a/b/y")
    zarrio.create_group(store, path="c", attributes={"empty": True})


def test_consolidated_form_matches_zarr_python_layout(tmp_path: Path) -> None:
    build(str(tmp_path / "h.zarr"))
    zarrio.consolidate_metadata(str(tmp_path / "h.zarr"))
    doc = json.loads((tmp_path / "h.zarr" / "zarr.json").read_text())
    cm = doc["consolidated_metadata"]
    assert cm["kind"] == "inline" and cm["must_understand"] is False
    assert sorted(cm["metadata"]) == ["a", "a/b", "a/b/y", "a/x", "c"]
    assert cm["metadata"]["a/x"]["attributes"] == {"n": 1}
    # child groups carry an empty consolidated block, as zarr-python writes them
    assert cm["metadata"]["c"]["consolidated_metadata"]["metadata"] == {}


def test_browsing_a_consolidated_group_reads_nothing_more() -> None:
    inner = MemoryStore()
    build(inner)
    zarrio.consolidate_metadata(inner)
    counting = CountingStore(inner)
    g = zarrio.open(counting)
    assert sum(counting.counts.values()) == 1
    assert [n for n, _ in g.members()] == ["a", "c"]
    assert g["a"]["b"]["y"].shape == (2, 2)
    assert g["a/x"].attrs["n"] == 1
    assert "y (2, 2) float32" in g.tree()
    assert sum(counting.counts.values()) == 1, counting.counts


def test_consolidation_is_a_snapshot_and_can_be_bypassed() -> None:
    store = MemoryStore()
    build(store)
    zarrio.consolidate_metadata(store)
    zarrio.create(store, (1,), "int8", path="late")
    assert "late" not in [n for n, _ in zarrio.open(store).members()]
    assert "late" in [n for n, _ in zarrio.open(store, use_consolidated=False).members()]
    assert zarrio.open(store, path="late").shape == (1,)  # direct opens always work
    zarrio.consolidate_metadata(store)
    assert "late" in [n for n, _ in zarrio.open(store).members()]


def test_browsing_an_unlistable_store_needs_consolidation() -> None:
    store = UnlistableStore()
    build(store)
    with pytest.raises(ListingNotSupportedError, match="consolidate"):
        zarrio.open(store).members()
    assert zarrio.open(store, path="a/x").shape == (4,)


def test_delete_node_is_recursive_and_updates_consolidated_metadata(tmp_path: Path) -> None:
    root = str(tmp_path / "d.zarr")
    build(root)
    zarrio.open(root, path="a/b/y")[...] = 1.0
    zarrio.consolidate_metadata(root)
    zarrio.delete_node(root, "a/b")
    assert not (tmp_path / "d.zarr" / "a" / "b").exists()
    g = zarrio.open(root)
    assert [n for n, _ in g["a"].members()] == ["x"]
    doc = json.loads((tmp_path / "d.zarr" / "zarr.json").read_text())
    assert sorted(doc["consolidated_metadata"]["metadata"]) == ["a", "a/x", "c"]


def test_delete_node_errors(tmp_path: Path) -> None:
    root = str(tmp_path / "e.zarr")
    build(root)
    with pytest.raises(InvalidKeyError):
        zarrio.delete_node(root, "")
    with pytest.raises(NodeNotFoundError):
        zarrio.delete_node(root, "nope")
    with pytest.raises(ReadOnlyError):
        zarrio.delete_node(LocalStore(root, read_only=True), "a")
    assert zarrio.open(root, path="a/x").shape == (4,)


def test_group_create_methods_and_attributes() -> None:
    store = MemoryStore()
    g = zarrio.create_group(store)
    sub = g.create_group("sub", attributes={"k": "v"})
    arr = sub.create_array("arr", shape=(3,), dtype="uint8", fill_value=9)
    assert list(zarrio.open(store, path="sub/arr")[:]) == [9, 9, 9]
    assert arr.path == "sub/arr"
    sub.attrs["k2"] = [1, 2]
    del sub.attrs["k"]
    assert zarrio.open(store, path="sub").attrs.asdict() == {"k2": [1, 2]}
    assert "sub" in g and "nope" not in g


def test_zarr_python_reads_our_consolidated_and_we_read_its_null_form(
    tmp_path: Path, run_ref: Callable[..., str]
) -> None:
    root = tmp_path / "zp.zarr"
    build(str(root))
    zarrio.open(str(root), path="a/x")[:] = np.arange(4, dtype="int8")
    zarrio.consolidate_metadata(str(root))
    out = run_ref(
        """
        import sys, zarr
        g = zarr.open_consolidated(sys.argv[1], mode="r")
        print(sorted(k for k, _ in g.members(max_depth=None)))
        print(list(g["a/x"][:]))
        """,
        str(root),
    )
    assert "'a/b/y'" in out and "[0, 1, 2, 3]" in out.replace("np.int8(", "").replace(")", "")
    # a group document with "consolidated_metadata": null (older zarr-python) is simply not consolidated
    doc = json.loads((root / "zarr.json").read_text())
    doc["consolidated_metadata"] = None
    (root / "zarr.json").write_text(json.dumps(doc))
    assert [n for n, _ in zarrio.open(str(root)).members()] == ["a", "c"]
