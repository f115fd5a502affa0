"""A group's walk: one plan (zarrio._node_walk.walk_plan), a blocking and an async driver.

Both drivers find the same nodes, in either format; the blocking one reads a level in a few
thread hops (not one per key); consolidated zarr.json bytes are those json.dumps(indent=2) makes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import zarrio
import zarrio.aio
from zarrio import _node_walk
from zarrio.metadata import ConsolidatedMetadata, GroupMetadata, parse_metadata
from zarrio.metadata.jsonio import dump_json
from zarrio.stores import LocalStore, MemoryStore, Store
from zarrio.stores.blocking import blocking_access
from zarrio.testing import CountingStore

MEMBERS_AT = ("consolidated_metadata", "metadata")


def build(store: Store, zarr_format: int = 3) -> set[str]:
    """A hierarchy with chunk directories (prefixes that are no node) and two levels of groups."""
    zarrio.create_group(store, zarr_format=zarr_format)
    names = set()
    for g in range(3):
        zarrio.create_group(store, path=f"g{g}", zarr_format=zarr_format)
        names.add(f"g{g}")
        for a in range(4):
            z = zarrio.create(store, (4, 4), "int16", chunks=(2, 2), path=f"g{g}/a{a}", zarr_format=zarr_format)
            z[:, :] = np.arange(16, dtype="int16").reshape(4, 4)  # chunk keys below the array: no nodes
            names.add(f"g{g}/a{a}")
        zarrio.create_group(store, path=f"g{g}/deep/er", zarr_format=zarr_format)
        names |= {f"g{g}/deep", f"g{g}/deep/er"}
    return names


@pytest.mark.parametrize("zarr_format", [2, 3])
async def test_both_drivers_find_every_node_and_nothing_else(tmp_path: Path, zarr_format: int) -> None:
    store = LocalStore(tmp_path / "h.zarr")
    names = build(store, zarr_format)
    access = blocking_access(store)
    assert access is not None
    blocking = await _node_walk.walk_blocking(access, _node_walk.walk_plan("", zarr_format))
    wrapped = await _node_walk.walk_async(CountingStore(store), _node_walk.walk_plan("", zarr_format))
    assert set(blocking) == set(wrapped) == names
    assert blocking == wrapped
    assert all(m.zarr_format == zarr_format for m in blocking.values())
    group = await zarrio.aio.open_group(store, use_consolidated=False)
    assert await group.walk() == dict(sorted(blocking.items()))
    one_level = await _node_walk.walk_async(store, _node_walk.walk_plan("g1", zarr_format, depth=1))
    assert sorted(one_level) == ["a0", "a1", "a2", "a3", "deep"]


async def test_the_blocking_driver_reads_a_level_in_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    store = MemoryStore()
    zarrio.create_group(store)
    for i in range(600):
        zarrio.create_group(store, path=f"n{i:03d}")
    hops: list[int] = []
    access = blocking_access(store)
    assert access is not None
    real_call = type(access).call

    async def counted(self: Any, fn: Any) -> Any:
        answers = await real_call(self, fn)
        hops.append(len(answers))
        return answers

    monkeypatch.setattr(type(access), "call", counted)
    found = await _node_walk.walk(store, "", 3)
    assert len(found) == 600
    # the root's listing; 600 zarr.json in batches of HOP_REQUESTS; the 600 empty listings likewise
    batches = -(-600 // _node_walk.HOP_REQUESTS)
    assert len(hops) == 1 + 2 * batches, hops
    assert max(hops) == _node_walk.HOP_REQUESTS


async def test_members_read_only_the_direct_children() -> None:
    inner = MemoryStore()
    build(inner)
    counting = CountingStore(inner)
    group = await zarrio.aio.open_group(counting, use_consolidated=False)
    counting.reset()
    assert [name for name, _ in await group.members()] == ["g0", "g1", "g2"]
    assert counting.counts.get("get") == 3 and counting.counts.get("list_dir") == 1, counting.counts


def test_consolidated_bytes_are_what_indent_2_makes() -> None:
    store = MemoryStore()
    build(store)
    zarrio.consolidate_metadata(store)
    raw = zarrio.run(store.get("zarr.json"))
    assert raw is not None
    meta = parse_metadata(raw)
    assert isinstance(meta, GroupMetadata)
    eager = json.dumps(meta.to_json(), indent=2, allow_nan=True).encode("ascii")
    assert meta.to_bytes() == eager == raw
    document = json.loads(raw)
    assert len(document["consolidated_metadata"]["metadata"]) == 3 * 7


@pytest.mark.parametrize(
    "document",
    [
        {"a": 1},
        {"consolidated_metadata": None, "node_type": "group"},
        {"consolidated_metadata": {"kind": "inline", "metadata": {}}},
        {"attributes": {"x": [1, {"y": None}], "nan": float("nan")}, "consolidated_metadata": {"metadata": {"b": {}}}},
        {"consolidated_metadata": {"metadata": {"é/ü": {"q": [[]], "r": {"s": [1.5, "t"]}}, "z": {"k": True}}}},
    ],
)
def test_members_written_one_at_a_time_make_the_same_bytes(document: dict[str, Any]) -> None:
    expected = json.dumps(document, indent=2, allow_nan=True).encode("ascii")
    assert dump_json(document, members_at=MEMBERS_AT) == expected


def test_a_member_stand_in_found_in_the_attributes_too_falls_back_to_one_dump() -> None:
    stand_in = "\u0000zarrio-members\u0000"
    document = {"attributes": {"odd": stand_in}, "consolidated_metadata": {"metadata": {"a": {"b": 1}}}}
    assert dump_json(document, members_at=MEMBERS_AT) == json.dumps(document, indent=2).encode("ascii")


def test_member_documents_are_made_one_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    members: dict[str, Any] = {f"m{i}": GroupMetadata(attributes={"i": i}) for i in range(3)}
    consolidated = ConsolidatedMetadata(metadata=members)
    made: list[int] = []
    real_to_json = GroupMetadata.to_json

    def counted(self: GroupMetadata, *, lazy: bool = False) -> dict[str, Any]:
        made.append(self.attributes["i"])
        return real_to_json(self, lazy=lazy)

    monkeypatch.setattr(GroupMetadata, "to_json", counted)
    doc = consolidated.to_json(lazy=True)
    assert made == []  # nothing made until read
    text = dump_json({"consolidated_metadata": doc}, members_at=MEMBERS_AT)
    assert made == [0, 1, 2]
    assert json.loads(text)["consolidated_metadata"]["metadata"]["m1"]["attributes"] == {"i": 1}
    assert consolidated.to_json()["metadata"].keys() == {"m0", "m1", "m2"}  # eager: a plain dict
