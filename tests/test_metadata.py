"""Array, group and consolidated metadata: the conformance corpus and the zarr.json rules."""

from __future__ import annotations

import gc
import json
import math
import pathlib
import time
import zipfile
from typing import Any

import numpy as np
import pytest
from prerequisites import conformance_location

from zarrio.errors import MetadataError, UnsupportedError
from zarrio.metadata import (
    ArrayMetadata,
    ChunkKeyEncoding,
    ConsolidatedMetadata,
    GroupMetadata,
    create_array_metadata,
    default_codecs,
    parse_data_type,
    parse_metadata,
)

# the corpus the conformance_dir fixture serves (it skips, or fails in CI, when the corpus is missing);
# read here too to parametrize over its documents at collection time
STORES = conformance_location() / "stores"
ERROR_CASES = {
    "err_not_json": MetadataError,
    "err_zarr_format_2": MetadataError,
    "err_ext_field_must_understand_true": UnsupportedError,
    "err_unknown_dtype": UnsupportedError,
    "err_rank_mismatch": MetadataError,
}
ERROR_FIELDS = {
    "err_not_json": None,
    "err_zarr_format_2": "zarr_format",
    "err_ext_field_must_understand_true": "my_extension",
    "err_unknown_dtype": "data_type",
    "err_rank_mismatch": "chunk_grid",
}


def corpus_documents() -> list[str]:
    """Every zarr.json of the corpus but the error cases, relative to stores/; without a corpus one
    placeholder, so that the test still runs and its conformance_dir fixture skips (or fails in CI)."""
    found = sorted(p.relative_to(STORES) for p in STORES.rglob("zarr.json")) if STORES.is_dir() else []
    documents = [str(p) for p in found if p.parts[0] not in ERROR_CASES]
    return documents or ["<corpus missing>"]


def normalised(document: dict[str, Any]) -> dict[str, Any]:
    """The documented normalisations of a round trip (tensorstore omits what zarr-python always writes)."""
    out = dict(document)
    out.setdefault("attributes", {})
    if out.get("node_type") == "array":
        out.setdefault("storage_transformers", [])
        encoding = dict(out["chunk_key_encoding"])
        encoding.setdefault("configuration", {"separator": "/" if encoding["name"] == "default" else "."})
        out["chunk_key_encoding"] = encoding
    return out


@pytest.mark.parametrize("document", corpus_documents())
def test_corpus_document_round_trips(conformance_dir: pathlib.Path, document: str) -> None:
    relative = pathlib.PurePosixPath(document)
    raw = (conformance_dir / "stores" / relative).read_bytes()
    metadata = parse_metadata(raw, str(relative.parent))
    original = json.loads(raw)
    assert metadata.to_json() == normalised(original)
    assert parse_metadata(metadata.to_bytes()) == metadata
    if relative.parts[0].startswith("ts_"):
        return
    # zarr-python wrote these: we write the very same bytes back
    assert metadata.to_bytes() == raw


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_corpus_error_cases(conformance_dir: pathlib.Path, case: str) -> None:
    with pytest.raises(ERROR_CASES[case]) as info:
        parse_metadata((conformance_dir / "stores" / case / "zarr.json").read_bytes(), case)
    assert info.value.field == ERROR_FIELDS[case]
    assert info.value.path == case


def test_corpus_cases_metadata_fields_match(conformance_dir: pathlib.Path) -> None:
    cases = json.loads((conformance_dir / "cases.json").read_text())["cases"]
    checked = 0
    for case in cases:
        if case["store_kind"] != "dir" or case.get("expect_error") == "metadata" or "metadata" not in case:
            continue
        node = (conformance_dir / "stores").joinpath(
            case["store"].removeprefix("stores/"), case["node_path"], "zarr.json"
        )
        metadata = parse_metadata(node.read_bytes())
        assert isinstance(metadata, ArrayMetadata)
        expected = case["metadata"]
        written = metadata.to_json()
        assert list(metadata.shape) == expected["shape"]
        assert written["data_type"] == expected["data_type"]
        assert list(metadata.chunk_shape) == expected["chunk_grid"]["configuration"]["chunk_shape"]
        assert written["fill_value"] == expected["fill_value"]
        assert written["codecs"] == expected["codecs"]
        assert (metadata.dimension_names and list(metadata.dimension_names)) == expected["dimension_names"]
        checked += 1
    assert checked > 100


def test_zip_hierarchy_documents_parse(conformance_dir: pathlib.Path) -> None:
    with zipfile.ZipFile(conformance_dir / "stores" / "zip_hierarchy.zip") as archive:
        names = [name for name in archive.namelist() if name.endswith("zarr.json")]
        assert names
        for name in names:
            raw = archive.read(name)
            metadata = parse_metadata(raw, name)
            assert metadata.to_bytes() == raw


def test_specific_corpus_values(conformance_dir: pathlib.Path) -> None:
    def load(case: str) -> Any:
        return parse_metadata((conformance_dir / "stores" / case / "zarr.json").read_bytes())

    payload = load("fill_nan_payload_hex_float32")
    assert np.array([payload.fill_value]).view("<u4")[0] == 0x7FC00001
    assert load("fill_uint64_above_2_53").fill_value == np.uint64(18446744073709551613)
    assert load("fill_int64_min").fill_value == np.int64(-(2**63))
    assert math.copysign(1, load("fill_neg_zero_float64").fill_value) == -1
    assert load("fill_complex128").fill_value == np.complex128(1.5 - 2j)
    assert np.isnat(load("dtype_datetime64_10s_scaled").fill_value)
    assert load("dtype_datetime64_10s_scaled").dtype == np.dtype("M8[10s]")
    assert load("cke_v2_dot").encode_chunk_key((1, 2)) == "1.2"
    assert load("cke_default_dot").encode_chunk_key((1, 2)) == "c.1.2"
    assert load("shape_rank0").encode_chunk_key(()) == "c"
    assert load("ext_field_must_understand_false").extra_fields == {
        "my_extension": {"must_understand": False, "anything": [1, 2]}
    }
    attrs = load("attrs_nan_infinity").attributes
    assert math.isnan(attrs["nan"]) and attrs["inf"] == math.inf and attrs["ninf"] == -math.inf
    nested = load("hier_nested_groups/level1/level2/level3/data")
    assert nested.dimension_names == ("row", None)


def test_consolidated_hierarchy(conformance_dir: pathlib.Path) -> None:
    raw = (conformance_dir / "stores" / "consolidated_hierarchy" / "zarr.json").read_bytes()
    root = parse_metadata(raw)
    assert isinstance(root, GroupMetadata)
    consolidated = root.consolidated_metadata
    assert consolidated is not None
    assert sorted(consolidated.metadata) == ["sub", "sub/arr", "sub/empty"]
    array = consolidated.get("sub/arr")
    assert isinstance(array, ArrayMetadata) and array.shape == (6, 4) and array.dimension_names == (None, None)
    assert dict(consolidated.children()) == {"sub": consolidated.get("sub")}
    assert sorted(name for name, _ in consolidated.children("sub")) == ["arr", "empty"]
    assert list(consolidated.children("sub/arr")) == []
    sub = consolidated.subtree("sub")
    assert sorted(sub.metadata) == ["arr", "empty"]
    assert "sub/arr" in consolidated and len(consolidated) == 3
    assert root.to_bytes() == raw


def test_consolidated_null_is_not_consolidated() -> None:
    group = GroupMetadata.from_json({"zarr_format": 3, "node_type": "group", "consolidated_metadata": None})
    assert group.consolidated_metadata is None
    assert "consolidated_metadata" not in group.to_json()


def test_consolidated_writes_keys_by_depth_then_name() -> None:
    array = create_array_metadata(1, "int8")
    group = GroupMetadata()
    consolidated = ConsolidatedMetadata({"a/b/c": array, "x": array, "a/b": group, "a": group})
    assert list(consolidated.to_json()["metadata"]) == ["a", "x", "a/b", "a/b/c"]
    document = GroupMetadata(attributes={"k": 1}, consolidated_metadata=consolidated).to_json()
    assert list(document) == ["attributes", "zarr_format", "consolidated_metadata", "node_type"]
    assert document["consolidated_metadata"]["kind"] == "inline"
    assert document["consolidated_metadata"]["must_understand"] is False
    reparsed = parse_metadata(json.dumps(document).encode())
    assert isinstance(reparsed, GroupMetadata)
    assert reparsed.consolidated_metadata == consolidated


@pytest.mark.parametrize(
    "value",
    [
        {"kind": "other"},
        {"kind": "inline", "metadata": {"": {"zarr_format": 3, "node_type": "group"}}},
        {"kind": "inline", "metadata": {"a/../b": {"zarr_format": 3, "node_type": "group"}}},
        {"kind": "inline", "metadata": {"/a": {"zarr_format": 3, "node_type": "group"}}},
        {"kind": "inline", "metadata": {"a": {"zarr_format": 3, "node_type": "thing"}}},
        {"kind": "inline", "metadata": {"a": {"zarr_format": 2, "node_type": "group"}}},
        {"kind": "inline", "metadata": {"a": 5}},
        {"kind": "inline", "metadata": [1]},
        "inline",
    ],
)
def test_invalid_consolidated_metadata(value: Any) -> None:
    with pytest.raises(MetadataError):
        GroupMetadata.from_json({"zarr_format": 3, "node_type": "group", "consolidated_metadata": value})


def test_unknown_consolidated_kind_may_be_ignored() -> None:
    document = {
        "zarr_format": 3,
        "node_type": "group",
        "consolidated_metadata": {"kind": "x", "must_understand": False},
    }
    assert GroupMetadata.from_json(document).consolidated_metadata is None


def test_consolidated_error_names_the_node() -> None:
    document = {
        "zarr_format": 3,
        "node_type": "group",
        "consolidated_metadata": {"kind": "inline", "metadata": {"sub/arr": {"zarr_format": 3, "node_type": "array"}}},
    }
    with pytest.raises(MetadataError) as info:
        parse_metadata(json.dumps(document).encode(), "root")
    assert info.value.path == "root/sub/arr"
    assert info.value.field == "shape"


def _consolidated_document(groups: int) -> bytes:
    array_doc = create_array_metadata((6, 4), "uint16", chunks=(3, 2), dimension_names=["y", None]).to_json()
    time_doc = create_array_metadata((6,), "M8[s]").to_json()
    metadata: dict[str, Any] = {}
    for index in range(groups):
        metadata[f"g{index}"] = {"attributes": {"i": index}, "zarr_format": 3, "node_type": "group"}
        metadata[f"g{index}/a"] = array_doc
        metadata[f"g{index}/t"] = time_doc
    return json.dumps(
        {"zarr_format": 3, "node_type": "group", "consolidated_metadata": {"kind": "inline", "metadata": metadata}}
    ).encode()


def _best_parse_seconds(raw: bytes) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        root = parse_metadata(raw)
        best = min(best, time.perf_counter() - start)
    assert isinstance(root, GroupMetadata) and root.consolidated_metadata is not None
    return best


@pytest.mark.timing
def test_consolidated_parse_grows_linearly() -> None:
    """Parsing consolidated metadata costs the same per node at 1,500 and 6,000 nodes (a check of
    the algorithm's growth, not of speed: the ratio of two timings on the same machine, best of 5,
    with the cyclic garbage collector paused so that its passes over a growing heap do not count;
    linear growth gives about 4x, quadratic 16x). A wall-clock ratio, so it runs in the timing phase,
    one Python at a time (it failed at 8.4x once while three suites shared both cores). Its speed is
    the benchmarks' (H2)."""
    small, large = _consolidated_document(500), _consolidated_document(2000)
    root = parse_metadata(large)
    assert isinstance(root, GroupMetadata) and root.consolidated_metadata is not None
    assert len(root.consolidated_metadata) == 6000
    gc.collect()
    gc.disable()
    try:
        ratio = _best_parse_seconds(large) / _best_parse_seconds(small)
    finally:
        gc.enable()
    assert ratio < 8, f"4x the nodes took {ratio:.1f}x as long"


# ---- arrays ------------------------------------------------------------------------------------


def base_array_document(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "shape": [10, 7],
        "data_type": "int16",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [4, 3]}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": 0,
        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
        "attributes": {},
        "zarr_format": 3,
        "node_type": "array",
        "storage_transformers": [],
    }
    document.update(changes)
    return document


def test_array_conveniences() -> None:
    metadata = ArrayMetadata.from_json(base_array_document())
    assert metadata.ndim == 2
    assert metadata.chunk_grid_shape == (3, 3)
    assert metadata.nchunks == 9
    assert metadata.encode_chunk_key((2, 0)) == "c/2/0"
    assert metadata.dtype == np.dtype("int16")
    assert metadata.node_type == "array" and metadata.zarr_format == 3
    resized = metadata.update(shape=(0, 7))
    assert resized.chunk_grid_shape == (0, 3)
    assert metadata.shape == (10, 7)
    assert resized != metadata
    assert metadata.update(fill_value=3).fill_value == np.int16(3)
    with pytest.raises(MetadataError):
        metadata.update(shape=(10,))
    with pytest.raises(MetadataError):
        metadata.update(fill_value="x")


def test_array_field_order_matches_zarr_python() -> None:
    document = ArrayMetadata.from_json(base_array_document(dimension_names=["a", None])).to_json()
    assert list(document) == [
        "shape",
        "data_type",
        "chunk_grid",
        "chunk_key_encoding",
        "fill_value",
        "codecs",
        "attributes",
        "dimension_names",
        "zarr_format",
        "node_type",
        "storage_transformers",
    ]
    no_names = ArrayMetadata.from_json(base_array_document()).to_json()
    assert "dimension_names" not in no_names


def test_missing_optional_fields_get_defaults() -> None:
    document = base_array_document()
    del document["attributes"], document["storage_transformers"]
    metadata = ArrayMetadata.from_json(document)
    assert metadata.attributes == {}
    assert metadata.storage_transformers == ()
    assert metadata.dimension_names is None


def test_codec_names_are_normalised_but_otherwise_kept() -> None:
    codec = {"name": "gzip", "configuration": {"level": 5}, "extra": [1]}
    metadata = ArrayMetadata.from_json(base_array_document(codecs=["bytes", codec]))
    assert metadata.codecs == ({"name": "bytes"}, codec)


def test_metadata_equality_with_nan_fill() -> None:
    first = ArrayMetadata.from_json(base_array_document(data_type="float32", fill_value="NaN"))
    second = ArrayMetadata.from_json(base_array_document(data_type="float32", fill_value="NaN"))
    payload = ArrayMetadata.from_json(base_array_document(data_type="float32", fill_value="0x7fc00001"))
    assert first == second
    assert first != payload


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({"zarr_format": 2}, "zarr_format", MetadataError),
        ({"zarr_format": "3"}, "zarr_format", MetadataError),
        ({"zarr_format": True}, "zarr_format", MetadataError),
        ({"zarr_format": 3.0}, "zarr_format", MetadataError),
        ({"node_type": "group"}, "node_type", MetadataError),
        ({"shape": [-1, 7]}, "shape", MetadataError),
        ({"shape": [2**63, 7]}, "shape", MetadataError),
        ({"shape": [1.5, 7]}, "shape", MetadataError),
        ({"shape": [True, 7]}, "shape", MetadataError),
        ({"shape": "10,7"}, "shape", MetadataError),
        ({"shape": {"a": 1}}, "shape", MetadataError),
        ({"shape": None}, "shape", MetadataError),
        ({"chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [0, 3]}}}, "chunk_grid", MetadataError),
        ({"chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [4]}}}, "chunk_grid", MetadataError),
        ({"chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [4, 3, 1]}}}, "chunk_grid", MetadataError),
        (
            {"chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2**63, 3]}}},
            "chunk_grid",
            MetadataError,
        ),
        ({"chunk_grid": {"name": "regular", "configuration": {}}}, "chunk_grid", MetadataError),
        ({"chunk_grid": {"name": "regular"}}, "chunk_grid", MetadataError),
        ({"chunk_grid": {"name": "rectilinear", "configuration": {}}}, "chunk_grid", UnsupportedError),
        ({"chunk_grid": [4, 3]}, "chunk_grid", MetadataError),
        ({"chunk_key_encoding": {"name": "fancy"}}, "chunk_key_encoding", UnsupportedError),
        (
            {"chunk_key_encoding": {"name": "default", "configuration": {"separator": "-"}}},
            "chunk_key_encoding",
            MetadataError,
        ),
        ({"chunk_key_encoding": 5}, "chunk_key_encoding", MetadataError),
        ({"fill_value": None}, "fill_value", MetadataError),
        ({"fill_value": "zero"}, "fill_value", MetadataError),
        ({"fill_value": 70000}, "fill_value", MetadataError),
        ({"data_type": "int24"}, "data_type", UnsupportedError),
        ({"data_type": ["int8"]}, "data_type", MetadataError),
        ({"codecs": []}, "codecs", MetadataError),
        ({"codecs": {"name": "bytes"}}, "codecs", MetadataError),
        ({"codecs": [{"configuration": {}}]}, "codecs", MetadataError),
        ({"codecs": [{"name": 1}]}, "codecs", MetadataError),
        ({"codecs": [{"name": "bytes", "configuration": [1]}]}, "codecs", MetadataError),
        ({"codecs": [5]}, "codecs", MetadataError),
        ({"attributes": []}, "attributes", MetadataError),
        ({"dimension_names": ["a"]}, "dimension_names", MetadataError),
        ({"dimension_names": ["a", 1]}, "dimension_names", MetadataError),
        ({"dimension_names": "ab"}, "dimension_names", MetadataError),
        ({"storage_transformers": [{"name": "x"}]}, "storage_transformers", UnsupportedError),
        ({"storage_transformers": {}}, "storage_transformers", MetadataError),
        ({"my_ext": {"must_understand": True}}, "my_ext", UnsupportedError),
        ({"my_ext": {"anything": 1}}, "my_ext", UnsupportedError),
        ({"my_ext": 5}, "my_ext", UnsupportedError),
        ({"my_ext": {"must_understand": "false"}}, "my_ext", UnsupportedError),
    ],
)
def test_invalid_array_documents(changes: dict[str, Any], field: str, error: type[MetadataError]) -> None:
    with pytest.raises(error) as info:
        ArrayMetadata.from_json(base_array_document(**changes), "some/array")
    assert info.value.field == field
    assert info.value.path == "some/array"


@pytest.mark.parametrize("missing", ["shape", "data_type", "chunk_grid", "chunk_key_encoding", "fill_value", "codecs"])
def test_missing_required_fields(missing: str) -> None:
    document = base_array_document()
    del document[missing]
    with pytest.raises(MetadataError) as info:
        ArrayMetadata.from_json(document)
    assert info.value.field == missing


def test_missing_zarr_format() -> None:
    document = base_array_document()
    del document["zarr_format"]
    with pytest.raises(MetadataError) as info:
        parse_metadata(json.dumps(document).encode())
    assert info.value.field == "zarr_format"


def test_extension_fields_are_kept_and_written_back() -> None:
    extension = {"must_understand": False, "values": [1, {"x": None}]}
    metadata = ArrayMetadata.from_json(base_array_document(my_ext=extension))
    assert metadata.extra_fields == {"my_ext": extension}
    assert metadata.to_json()["my_ext"] == extension
    assert list(metadata.to_json())[-1] == "my_ext"
    group = GroupMetadata.from_json({"zarr_format": 3, "node_type": "group", "my_ext": extension})
    assert group.to_json()["my_ext"] == extension


# ---- parse_metadata and hostile input ---------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b'{"zarr_format": 3, "node_type": "array", ',
        b"[1, 2]",
        b'"group"',
        b"null",
        b"\xff\xfe{}",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"zarr_format": 3, "node_type": "array", "attributes": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"zarr_format": 3}',
        b'{"zarr_format": 3, "node_type": "dataset"}',
        b'{"zarr_format": 3, "node_type": ["array"]}',
        b'{"node_type": "group"}',
        b'{"zarr_format": 2, "node_type": "group"}',
        b'{"zarr_format": 3, "node_type": "group", "attributes": 1}',
        b'{"zarr_format": 3, "node_type": "array", "shape": [1e400]}',
        b'{"zarr_format": 3, "node_type": "array", "shape": [' + b"9" * 5000 + b"]}",
    ],
)
def test_hostile_documents_raise_metadata_error(raw: bytes) -> None:
    with pytest.raises(MetadataError):
        parse_metadata(raw, "x")


def test_deeply_nested_junk_in_a_field() -> None:
    junk: Any = 1
    for _ in range(500):
        junk = [junk]
    for field in ("shape", "data_type", "chunk_grid", "chunk_key_encoding", "fill_value", "codecs", "dimension_names"):
        with pytest.raises(MetadataError):
            ArrayMetadata.from_json(base_array_document(**{field: junk}))


def test_from_json_of_a_non_object() -> None:
    with pytest.raises(MetadataError):
        ArrayMetadata.from_json([1, 2])  # type: ignore[arg-type]
    with pytest.raises(MetadataError):
        GroupMetadata.from_json("group")  # type: ignore[arg-type]


def test_group_round_trip_and_order() -> None:
    raw = b'{"zarr_format": 3, "node_type": "group", "attributes": {"a": NaN, "b": [Infinity, -Infinity]}}'
    group = parse_metadata(raw)
    assert isinstance(group, GroupMetadata)
    assert list(group.to_json()) == ["attributes", "zarr_format", "node_type"]
    written = group.to_bytes()
    assert b"NaN" in written and b"-Infinity" in written
    again = parse_metadata(written)
    assert isinstance(again, GroupMetadata)
    assert math.isnan(again.attributes["a"]) and again.attributes["b"] == [math.inf, -math.inf]


def test_group_without_attributes() -> None:
    group = parse_metadata(b'{"zarr_format": 3, "node_type": "group"}')
    assert isinstance(group, GroupMetadata) and group.attributes == {}


def test_numpy_values_in_attributes_become_plain_json() -> None:
    attributes = {
        "i": np.int64(3),
        "f": np.float32(0.5),
        "b": np.bool_(True),
        "a": np.arange(3, dtype="u1"),
        "nested": {"m": np.array([[1.5, np.nan]])},
        "s": np.str_("x"),
    }
    group = GroupMetadata(attributes=attributes)
    document = json.loads(group.to_bytes().decode().replace("NaN", '"NaN"'))
    assert document["attributes"] == {
        "i": 3,
        "f": 0.5,
        "b": True,
        "a": [0, 1, 2],
        "nested": {"m": [[1.5, "NaN"]]},
        "s": "x",
    }
    with pytest.raises(MetadataError):
        GroupMetadata(attributes={"x": object()}).to_bytes()
    with pytest.raises(MetadataError):
        GroupMetadata(attributes={"x": b"bytes"}).to_bytes()


def test_to_bytes_is_ascii_with_escapes_like_zarr_python() -> None:
    group = GroupMetadata(attributes={"name": "Température"})
    raw = group.to_bytes()
    assert b"Temp\\u00e9rature" in raw
    assert raw.startswith(b'{\n  "attributes"')


# ---- create_array_metadata ----------------------------------------------------------------------


def test_create_array_metadata_defaults_match_zarr_python() -> None:
    metadata = create_array_metadata((10, 0), "float32")
    assert metadata.chunk_shape == (10, 1)
    document = metadata.to_json()
    assert document["fill_value"] == 0.0
    assert document["codecs"] == [
        {"name": "bytes", "configuration": {"endian": "little"}},
        {"name": "zstd", "configuration": {"level": 0, "checksum": False}},
    ]
    assert document["chunk_key_encoding"] == {"name": "default", "configuration": {"separator": "/"}}
    assert default_codecs(parse_data_type("uint8"))[0] == {"name": "bytes"}
    assert default_codecs(parse_data_type(str))[0] == {"name": "vlen-utf8", "configuration": {}}
    assert default_codecs(parse_data_type(bytes))[0] == {"name": "vlen-bytes", "configuration": {}}


def test_direct_construction_validates_and_defaults() -> None:
    metadata = ArrayMetadata(shape=[4, 2], data_type=parse_data_type("uint8"), chunk_shape=[2, 2])  # type: ignore[arg-type]
    assert metadata.shape == (4, 2) and metadata.chunk_shape == (2, 2)
    assert metadata.codecs == default_codecs(parse_data_type("uint8"))
    assert metadata.fill_value == np.uint8(0)
    with pytest.raises(MetadataError):
        ArrayMetadata(shape=(4,), data_type=parse_data_type("uint8"), chunk_shape=(0,))
    with pytest.raises(MetadataError):
        ArrayMetadata(shape=(4,), data_type="uint8", chunk_shape=(2,))  # type: ignore[arg-type]
    with pytest.raises(MetadataError):
        ArrayMetadata(shape=(4,), data_type=parse_data_type("uint8"), chunk_shape=(2,), codecs=({"x": 1},))
    with pytest.raises(UnsupportedError):
        ArrayMetadata(
            shape=(4,), data_type=parse_data_type("uint8"), chunk_shape=(2,), storage_transformers=({"name": "t"},)
        )
    with pytest.raises(MetadataError):
        ConsolidatedMetadata({"a//b": GroupMetadata()})
    with pytest.raises(MetadataError):
        ConsolidatedMetadata({"a": {"node_type": "group"}})  # type: ignore[dict-item]
    with pytest.raises(MetadataError):
        GroupMetadata(attributes=[1])  # type: ignore[arg-type]


def test_create_array_metadata_accepts_numpy_shapes() -> None:
    metadata = create_array_metadata(np.array([6, 4]), "int8", chunks=np.array([3, 2]))
    assert metadata.shape == (6, 4) and metadata.chunk_shape == (3, 2)
    assert create_array_metadata(np.int64(5), "int8", chunks=np.int32(2)).chunk_shape == (2,)


def test_create_array_metadata_user_inputs() -> None:
    class FakeCodec:
        def to_json(self) -> dict[str, Any]:
            return {"name": "gzip", "configuration": {"level": np.int64(3)}}

    metadata = create_array_metadata(
        5,
        "<f8",
        chunks=2,
        fill_value="NaN",
        codecs=["bytes", FakeCodec()],
        attributes={"scale": np.float64(2.5)},
        dimension_names=["x"],
        chunk_key_encoding="v2",
    )
    assert metadata.shape == (5,) and metadata.chunk_shape == (2,)
    assert metadata.codecs == ({"name": "bytes"}, {"name": "gzip", "configuration": {"level": 3}})
    assert metadata.encode_chunk_key((2,)) == "2"
    assert metadata.chunk_key_encoding == ChunkKeyEncoding("v2", ".")
    assert metadata.dimension_names == ("x",)
    assert metadata.to_json()["fill_value"] == "NaN"
    assert type(metadata.attributes["scale"]) is float
    reparsed = parse_metadata(metadata.to_bytes())
    assert reparsed == metadata
    rank2 = create_array_metadata((4, 6), "int8", chunks=3)
    assert rank2.chunk_shape == (3, 3)
    rank0 = create_array_metadata((), "int8")
    assert rank0.chunk_shape == () and rank0.chunk_grid_shape == () and rank0.nchunks == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"shape": -1, "dtype": "int8"},
        {"shape": (2,), "dtype": "int8", "chunks": (0,)},
        {"shape": (2,), "dtype": "int8", "chunks": (1, 1)},
        {"shape": (2,), "dtype": "int8", "fill_value": 1000},
        {"shape": (2,), "dtype": "object"},
        {"shape": (2,), "dtype": "int8", "codecs": []},
        {"shape": (2,), "dtype": "int8", "codecs": [3]},
        {"shape": (2,), "dtype": "int8", "dimension_names": ["a", "b"]},
        {"shape": (2,), "dtype": "int8", "chunk_key_encoding": "v3"},
        {"shape": (2.5,), "dtype": "int8"},
        {"shape": "12", "dtype": "int8"},
        {"shape": (2,), "dtype": "int8", "chunks": "1"},
    ],
)
def test_create_array_metadata_rejects(kwargs: dict[str, Any]) -> None:
    with pytest.raises(MetadataError):
        create_array_metadata(**kwargs)


@pytest.mark.parametrize("value", [{"must_understand": True}, {"x": 1}, [1], "text"])
def test_group_unknown_fields_must_be_optional(value: Any) -> None:
    with pytest.raises(UnsupportedError) as info:
        GroupMetadata.from_json({"zarr_format": 3, "node_type": "group", "ext": value}, "g")
    assert info.value.field == "ext"
    assert info.value.path == "g"


def test_metadata_pickles() -> None:
    import pickle

    array = create_array_metadata((3, 4), np.dtype([("a", "<i4"), ("t", "M8[10s]")]), chunks=2, fill_value=(1, 5))
    group = GroupMetadata(attributes={"a": 1}, consolidated_metadata=ConsolidatedMetadata({"x": array}))
    assert pickle.loads(pickle.dumps(array)) == array
    assert pickle.loads(pickle.dumps(group)) == group


@pytest.mark.parametrize(
    "encoding",
    [
        "default",
        {"name": "default", "configuration": {"separator": "."}},
        {"name": "v2", "configuration": {"separator": "."}},
        {"name": "v2", "configuration": {"separator": "/"}},
    ],
)
@pytest.mark.parametrize("prefix", ["", "group/array/"])
def test_the_engines_key_function_makes_the_encodings_keys(encoding: Any, prefix: str) -> None:
    from zarrio.metadata import parse_chunk_key_encoding

    parsed = parse_chunk_key_encoding(encoding)
    key = parsed.key_function(prefix)
    for coords in [(), (0,), (7, 0, 12), (123456789, 1)]:
        assert key(coords) == prefix + parsed.encode(coords)
