"""Zarr v2 metadata and hierarchies in zarrio alone: parsing and its typed errors, fill values
and data types both ways, format detection and ``zarr_format=``, creating and changing v2
nodes, and consolidated ``.zmetadata`` serving a hierarchy from memory. What other
implementations write and read is tests/test_v2_interop.py."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import zarrio
from zarrio.errors import MetadataError, NodeNotFoundError, UnsupportedError
from zarrio.metadata.v2 import ArrayMetadataV2
from zarrio.metadata.v2_dtypes import v2_dtype_from_json, v2_dtype_to_json
from zarrio.metadata.v2_fill import v2_fill_from_json, v2_fill_to_json
from zarrio.metadata.v2_nodes import GroupMetadataV2, parse_v2_node, parse_zmetadata
from zarrio.stores import MemoryStore
from zarrio.testing.wrappers import CountingStore


def zarray(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "shape": [4, 6],
        "chunks": [2, 3],
        "dtype": "<f8",
        "fill_value": "NaN",
        "order": "C",
        "filters": None,
        "dimension_separator": ".",
        "compressor": {"id": "zlib", "level": 1},
        "zarr_format": 2,
    }
    document.update(changes)
    return document


# ---------------------------------------------------------------- data types and fill values
@pytest.mark.parametrize(
    "dtype",
    ["<f8", ">f4", "<f2", "|b1", "|i1", "|u1", ">i2", "<u8", "<c8", ">c16", "<M8[ns]", ">m8[10s]", "|S7", "<U3",
     ">U2", "|V5", [["a", "<i4"], ["b", "<f8"]], [["x", ">u2"], ["y", "|S3"]]],
)  # fmt: skip
def test_data_types_round_trip(dtype: Any) -> None:
    data_type, endian = v2_dtype_from_json(dtype)
    assert v2_dtype_to_json(data_type, endian) == dtype
    meta = ArrayMetadataV2.from_v2_json(zarray(dtype=dtype, fill_value=None))
    assert meta.to_json()["dtype"] == dtype
    text = json.dumps(dtype)
    stored_order = "big" if ">" in text else "little" if "<" in text else None
    bytes_codec = next(c for c in meta.codecs if c["name"] == "bytes")
    assert bytes_codec.get("configuration", {}).get("endian") == (stored_order if data_type.has_endianness else None)


@pytest.mark.parametrize(
    ("dtype", "stored", "value"),
    [
        ("<f8", "NaN", math.nan),
        ("<f4", "-Infinity", -math.inf),
        ("<f8", "Infinity", math.inf),
        ("<f8", -0.0, -0.0),
        ("<i8", -(2**63), -(2**63)),
        ("<u8", 2**64 - 1, 2**64 - 1),
        ("|b1", True, True),
        ("<c16", [1.5, "NaN"], complex(1.5, math.nan)),
        ("<M8[s]", -(2**63), np.datetime64("NaT", "s")),
        ("<m8[ms]", 12, np.timedelta64(12, "ms")),
        ("|S4", "YWIAAA==", b"ab"),
        ("<U3", "xyz", "xyz"),
        ("|V2", "AAE=", b"\x00\x01"),
    ],
)
def test_fill_values_both_ways(dtype: str, stored: Any, value: Any) -> None:
    data_type, endian = v2_dtype_from_json(dtype)
    parsed = v2_fill_from_json(stored, data_type, endian)
    expected = data_type.fill_from_user(value)
    assert np.asarray(parsed).tobytes() == np.asarray(expected).tobytes()
    assert v2_fill_to_json(parsed, data_type, endian) == stored


def test_structured_fill_is_base64_of_the_stored_bytes() -> None:
    data_type, endian = v2_dtype_from_json([["a", ">i2"], ["b", ">f4"]])
    stored = v2_fill_to_json(data_type.fill_from_user((258, 1.0)), data_type, endian)
    assert stored == "AQI/gAAA"  # 0x0102, then 1.0 as a big-endian float
    assert tuple(v2_fill_from_json(stored, data_type, endian).item()) == (258, 1.0)


def test_null_fill_reads_as_zero_and_is_written_back_as_null() -> None:
    meta = ArrayMetadataV2.from_v2_json(zarray(dtype="<i4", fill_value=None))
    assert meta.null_fill and meta.fill_value == 0
    assert meta.to_json()["fill_value"] is None
    assert meta.update(shape=(8, 6)).to_json()["fill_value"] is None


# ---------------------------------------------------------------- typed errors
@pytest.mark.parametrize(
    ("changes", "error", "field"),
    [
        ({"order": "X"}, MetadataError, "order"),
        ({"dimension_separator": "-"}, MetadataError, "dimension_separator"),
        ({"dtype": "<q9"}, UnsupportedError, "dtype"),
        ({"dtype": "<M8"}, UnsupportedError, "dtype"),
        ({"dtype": "|O"}, MetadataError, "dtype"),
        ({"dtype": "|O", "filters": [{"id": "msgpack2"}]}, UnsupportedError, "filters"),
        ({"dtype": "|O", "filters": [{"id": "pickle"}]}, UnsupportedError, "filters"),
        ({"dtype": [["a", "<i4", [2]]]}, UnsupportedError, "dtype"),
        ({"dtype": [["a", "<i4"], ["b", ">i4"]]}, UnsupportedError, "dtype"),
        ({"fill_value": "NaNs"}, MetadataError, "fill_value"),
        ({"dtype": "|S3", "fill_value": "not base64!"}, MetadataError, "fill_value"),
        ({"dtype": "<i4", "fill_value": 1.5}, MetadataError, "fill_value"),
        ({"shape": [4]}, MetadataError, "chunk_grid"),
        ({"chunks": [0, 3]}, MetadataError, "chunks"),
        ({"compressor": "zlib"}, MetadataError, "compressor"),
        ({"filters": [{"level": 1}]}, MetadataError, "filters"),
        ({"filters": {"id": "delta"}}, MetadataError, "filters"),
        ({"zarr_format": 3}, MetadataError, "zarr_format"),
        ({"filters": [{"id": "zlib"}, {"id": "delta", "dtype": "<f8"}]}, UnsupportedError, "filters"),
        ({"dtype": ">f8", "filters": [{"id": "delta", "dtype": ">f8"}]}, UnsupportedError, "filters"),
    ],
)
def test_invalid_zarray_is_a_typed_error_naming_the_field(
    changes: dict[str, Any], error: type[Exception], field: str
) -> None:
    with pytest.raises(error) as caught:
        ArrayMetadataV2.from_v2_json(zarray(**changes), path="x")
    assert caught.value.field == field  # type: ignore[attr-defined]
    assert caught.value.path == "x"  # type: ignore[attr-defined]


@pytest.mark.parametrize("missing", ["shape", "chunks", "dtype", "compressor", "fill_value", "order", "filters"])
def test_missing_field_is_named(missing: str) -> None:
    document = zarray()
    del document[missing]
    with pytest.raises(MetadataError) as caught:
        ArrayMetadataV2.from_v2_json(document)
    assert caught.value.field == missing


def test_node_with_both_zarray_and_zgroup_is_an_error() -> None:
    raws = {".zarray": json.dumps(zarray()).encode(), ".zgroup": b'{"zarr_format": 2}', ".zattrs": None}
    with pytest.raises(MetadataError, match=r"both \.zarray and \.zgroup"):
        parse_v2_node(raws, "n")
    assert parse_v2_node({".zarray": None, ".zgroup": None, ".zattrs": None}) is None


def test_unknown_codec_fails_on_open_naming_it() -> None:
    store = MemoryStore()
    zarrio.run(store.set("x/.zarray", json.dumps(zarray(compressor={"id": "no-such-codec"})).encode()))
    with pytest.raises(UnsupportedError, match="no-such-codec"):
        zarrio.open_array(store, path="x")


def test_zmetadata_errors_and_unknown_keys() -> None:
    with pytest.raises(UnsupportedError, match="zarr_consolidated_format"):
        parse_zmetadata({"metadata": {}, "zarr_consolidated_format": 2})
    with pytest.raises(MetadataError):
        parse_zmetadata({"metadata": [], "zarr_consolidated_format": 1})
    parsed = parse_zmetadata(
        {
            "metadata": {"a/.zgroup": {"zarr_format": 2}, "a/b/.zarray": zarray(), "a/notes.txt": {}},
            "zarr_consolidated_format": 1,
        }
    )
    assert sorted(parsed.metadata) == ["a", "a/b"]
    assert isinstance(parsed.metadata["a"], GroupMetadataV2)


# ---------------------------------------------------------------- format detection and zarr_format=
def test_open_finds_the_format_and_zarr_format_forces_one(tmp_path: Path) -> None:
    v2, v3 = tmp_path / "v2.zarr", tmp_path / "v3.zarr"
    zarrio.create_array(v2, shape=(3,), dtype="i2", zarr_format=2)[...] = [1, 2, 3]
    zarrio.create_array(v3, shape=(3,), dtype="i2")[...] = [1, 2, 3]
    assert zarrio.open(v2).aio.metadata.zarr_format == 2
    assert zarrio.open(v3).aio.metadata.zarr_format == 3
    assert zarrio.open(v2, zarr_format=2)[...].tolist() == [1, 2, 3]
    with pytest.raises(NodeNotFoundError, match=r"Zarr v2 metadata \(\.zarray\)"):
        zarrio.open(v2, mode="r", zarr_format=3)
    with pytest.raises(NodeNotFoundError):
        zarrio.open(v3, mode="r", zarr_format=2)
    with pytest.raises(UnsupportedError):
        zarrio.open(v3, zarr_format=1)
    assert sorted(p.name for p in v2.iterdir()) == [".zarray", ".zattrs", "0"]


def test_mode_a_keeps_the_existing_format_and_groups_create_their_own(tmp_path: Path) -> None:
    root = tmp_path / "h.zarr"
    zarrio.open(root, mode="w", zarr_format=2)
    group = zarrio.open(root, mode="a")
    assert isinstance(group, zarrio.Group)
    child = group.create_array("deep/x", shape=(4,), dtype="f4", chunks=(2,))
    sub = group.create_group("sub")
    assert child.aio.metadata.zarr_format == 2 and sub.aio.metadata.zarr_format == 2
    assert (root / "deep" / ".zgroup").is_file() and (root / "deep" / "x" / ".zarray").is_file()
    assert not list(root.rglob("zarr.json"))
    created = zarrio.open(root, path="new", mode="a", zarr_format=2)
    assert (root / "new" / ".zgroup").is_file() and isinstance(created, zarrio.Group)
    opened = zarrio.open_array(root, path="arr", mode="w", shape=(2, 2), dtype="<u2", zarr_format=2)
    assert json.loads((root / "arr" / ".zarray").read_text())["dtype"] == "<u2"
    assert opened.aio.metadata.zarr_format == 2
    f_order = zarrio.create_array(root, path="f", shape=(2, 3), dtype="<i2", zarr_format=2, order="F", compressors=None)
    f_order[...] = np.arange(6, dtype="i2").reshape(2, 3)
    assert (root / "f" / "0.0").read_bytes() == np.arange(6, dtype="<i2").reshape(2, 3).tobytes(order="F")


def test_changes_to_a_v2_array_are_stored_in_zarray_and_zattrs(tmp_path: Path) -> None:
    root = tmp_path / "a.zarr"
    a = zarrio.create_array(root, shape=(4,), chunks=(2,), dtype="<i4", zarr_format=2, attributes={"k": 1})
    a[...] = [1, 2, 3, 4]
    a.attrs["units"] = "m"
    assert json.loads((root / ".zattrs").read_text()) == {"k": 1, "units": "m"}
    a.resize(6)
    assert json.loads((root / ".zarray").read_text())["shape"] == [6]
    a.append(np.array([7, 8], dtype="i4"))
    again = zarrio.open_array(root, mode="r")
    assert again[...].tolist() == [1, 2, 3, 4, 0, 0, 7, 8] and again.attrs["units"] == "m"
    assert a.nchunks_stored() == 3  # chunks 0, 1, 3: .zarray and .zattrs are not chunks


def test_creating_v2_refuses_what_v2_cannot_store(tmp_path: Path) -> None:
    for bad in ({"shards": (4,)}, {"serializer": {"name": "bytes"}}, {"dimension_names": ["x"]},
                {"compressors": [{"id": "zlib"}, {"id": "gzip"}]}, {"chunk_key_encoding": "default"},
                {"compressors": {"name": "crc32c"}}):  # fmt: skip
        with pytest.raises((UnsupportedError, MetadataError)):
            zarrio.create_array(tmp_path / "x.zarr", shape=(8,), dtype="i1", zarr_format=2, overwrite=True, **bad)


# ---------------------------------------------------------------- consolidated metadata
def test_consolidated_v2_hierarchy_browses_from_memory() -> None:
    inner = MemoryStore()
    zarrio.create_group(inner, zarr_format=2, attributes={"top": True})
    zarrio.create_array(inner, path="a/b/x", shape=(5,), dtype="<f8", zarr_format=2)[...] = np.arange(5.0)
    zarrio.create_array(inner, path="a/y", shape=(2, 2), dtype="|u1", zarr_format=2)
    zarrio.consolidate_metadata(inner)
    document = json.loads(zarrio.run(inner.get(".zmetadata")) or b"")
    assert document["zarr_consolidated_format"] == 1
    assert {".zgroup", ".zattrs", "a/.zgroup", "a/b/x/.zarray", "a/y/.zattrs"} <= set(document["metadata"])
    store = CountingStore(inner)
    group = zarrio.open_group(store, mode="r")
    opened_with = sum(store.counts.values())
    store.reset()
    assert "x (5,) float64" in group.tree()
    node = group["a"]["b"]["x"]
    assert node.shape == (5,) and group.attrs["top"] is True
    assert sum(store.counts.values()) == 0  # served from .zmetadata
    assert opened_with <= 5  # zarr.json (absent), then .zarray, .zgroup, .zattrs, .zmetadata at once
    zarrio.delete_node(inner, "a/b")
    remaining = json.loads(zarrio.run(inner.get(".zmetadata")) or b"")["metadata"]
    assert not any(key.startswith("a/b") for key in remaining) and "a/y/.zarray" in remaining
    assert not zarrio.run(inner.exists("a/b/x/.zarray"))


@pytest.mark.timeout(90)
def test_consolidated_v2_hierarchy_over_http(nginx: Any) -> None:
    from zarrio.errors import ListingNotSupportedError
    from zarrio.stores import HttpStore

    local = nginx.root / "v2site.zarr"
    zarrio.create_group(local, zarr_format=2, attributes={"title": "v2 over http"})
    data = np.arange(40, dtype="<i4").reshape(4, 10)
    zarrio.create_array(local, path="grp/t", shape=(4, 10), chunks=(2, 5), dtype="<i4", zarr_format=2)[...] = data
    site = f"{nginx.url}/v2site.zarr"
    with pytest.raises(ListingNotSupportedError, match="consolidat"):
        zarrio.open(HttpStore(site)).members()
    zarrio.consolidate_metadata(local)
    mark = len(nginx.access_log())
    group = zarrio.open(HttpStore(site))
    opened = len(nginx.access_log()) - mark  # zarr.json (absent), then the four v2 files at once
    assert opened == 5
    assert "t (4, 10) int32" in group.tree() and group.attrs["title"] == "v2 over http"
    array = group["grp/t"]
    assert len(nginx.access_log()) - mark == opened  # browsing served from .zmetadata
    assert np.array_equal(array[2:4, 5:10], data[2:4, 5:10])
    assert len(nginx.access_log()) - mark == opened + 1  # one chunk
    direct = zarrio.open(HttpStore(site), path="grp/t", zarr_format=2)
    # zarr_format=2 skips zarr.json: .zarray, .zgroup, .zattrs and (it might be a group) .zmetadata, at once
    assert direct.shape == (4, 10) and len(nginx.access_log()) - mark == opened + 1 + 4
