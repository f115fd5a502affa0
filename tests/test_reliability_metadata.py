"""Reliability: hostile zarr.json gives a typed error at open, never a crash, a hang or a huge
allocation (issue 6, property 4). Reads whose result cannot fit are refused before allocating.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import zarrio
from zarrio.codecs import ChunkSpec, CodecChain
from zarrio.errors import CodecError, MetadataError, ResourceLimitError, UnsupportedError, ZarrioError
from zarrio.stores import MemoryStore

LE = {"name": "bytes", "configuration": {"endian": "little"}}


def base() -> dict[str, Any]:
    return {
        "zarr_format": 3,
        "node_type": "array",
        "shape": [10],
        "data_type": "int32",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [5]}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": 0,
        "codecs": [LE],
        "attributes": {},
    }


def grid(*chunks: Any) -> dict[str, Any]:
    return {"name": "regular", "configuration": {"chunk_shape": list(chunks)}}


def shard(chunk_shape: Any, **extra: Any) -> list[dict[str, Any]]:
    return [{"name": "sharding_indexed", "configuration": {"chunk_shape": chunk_shape, "codecs": [LE], **extra}}]


#: (id, fields to replace (None deletes), the field the error must name)
HOSTILE: list[tuple[str, dict[str, Any], str | None]] = [
    ("negative-shape", {"shape": [-1]}, "shape"),
    ("shape-2**63", {"shape": [2**63]}, "shape"),
    ("shape-float", {"shape": [10.0]}, "shape"),
    ("shape-bool", {"shape": [True]}, "shape"),
    ("shape-string", {"shape": "10"}, "shape"),
    ("shape-null", {"shape": None}, "shape"),
    ("shape-object", {"shape": {"0": 10}}, "shape"),
    ("shape-nested", {"shape": [[10]]}, "shape"),
    ("rank-33", {"shape": [1] * 33, "chunk_grid": grid(*[1] * 33)}, "shape"),
    ("rank-1000", {"shape": [1] * 1000, "chunk_grid": grid(*[1] * 1000)}, "shape"),
    ("zero-chunk", {"chunk_grid": grid(0)}, "chunk_grid"),
    ("negative-chunk", {"chunk_grid": grid(-5)}, "chunk_grid"),
    ("chunk-2**63", {"chunk_grid": grid(2**63)}, "chunk_grid"),
    ("chunk-float", {"chunk_grid": grid(2.5)}, "chunk_grid"),
    ("chunk-rank-mismatch", {"chunk_grid": grid(5, 5)}, "chunk_grid"),
    ("grid-irregular", {"chunk_grid": {"name": "rectilinear", "configuration": {"chunk_shape": [5]}}}, "chunk_grid"),
    ("grid-not-object", {"chunk_grid": [5]}, "chunk_grid"),
    ("missing-shape", {"shape": None}, "shape"),
    ("missing-codecs", {"codecs": None}, "codecs"),
    ("codecs-empty", {"codecs": []}, "codecs"),
    ("codecs-string", {"codecs": "bytes,gzip"}, "codecs"),
    ("codec-unknown", {"codecs": [LE, {"name": "lz77"}]}, "codecs"),
    ("codec-number", {"codecs": [LE, 7]}, "codecs"),
    ("codec-bad-config", {"codecs": [LE, {"name": "gzip", "configuration": {"level": "max"}}]}, "codecs"),
    ("codec-config-list", {"codecs": [LE, {"name": "gzip", "configuration": [1]}]}, "codecs"),
    ("codec-zstd-level", {"codecs": [LE, {"name": "zstd", "configuration": {"level": 10**30}}]}, "codecs"),
    ("codecs-order", {"codecs": [{"name": "gzip"}, LE]}, "codecs"),
    ("two-serializers", {"codecs": [LE, LE]}, "codecs"),
    ("transpose-bad", {"codecs": [{"name": "transpose", "configuration": {"order": [3]}}, LE]}, "codecs"),
    ("sharding-zero", {"codecs": shard([0])}, "codecs"),
    ("sharding-not-divisible", {"codecs": shard([3])}, "codecs"),
    ("sharding-rank", {"codecs": shard([5, 5])}, "codecs"),
    ("sharding-variable-index", {"codecs": shard([5], index_codecs=[LE, {"name": "gzip"}])}, "codecs"),
    ("sharding-bad-location", {"codecs": shard([5], index_location="middle")}, "codecs"),
    ("dtype-unknown", {"data_type": "int128"}, "data_type"),
    ("dtype-number", {"data_type": 4}, "data_type"),
    ("dtype-object", {"data_type": {"name": "nope"}}, "data_type"),
    (
        "dtype-huge-string",
        {"data_type": {"name": "fixed_length_utf32", "configuration": {"length_bytes": 2**40}}},
        None,
    ),
    ("dtype-huge-rawbits", {"data_type": "r" + str(8 * 2**40), "fill_value": "0x00"}, "data_type"),
    ("fill-string-for-int", {"fill_value": "zero"}, "fill_value"),
    ("fill-too-big", {"fill_value": 2**40}, "fill_value"),
    ("fill-list", {"fill_value": [0]}, "fill_value"),
    ("separator", {"chunk_key_encoding": {"name": "default", "configuration": {"separator": "/../"}}}, None),
    ("key-encoding-unknown", {"chunk_key_encoding": {"name": "mine"}}, "chunk_key_encoding"),
    ("zarr-format-2", {"zarr_format": 2}, "zarr_format"),
    ("node-type", {"node_type": "table"}, "node_type"),
    ("attributes-list", {"attributes": [1, 2]}, "attributes"),
    ("dimension-names-count", {"dimension_names": ["x", "y"]}, "dimension_names"),
    ("storage-transformer", {"storage_transformers": [{"name": "chunk-manifest"}]}, "storage_transformers"),
    ("unknown-must-understand", {"some_extension": {"must_understand": True}}, None),
]


def _document(changes: dict[str, Any]) -> bytes:
    doc = base()
    for name, value in changes.items():
        if value is None:
            doc.pop(name, None)
        else:
            doc[name] = value
    return json.dumps(doc).encode()


def _open(raw: bytes) -> Any:
    store = MemoryStore()
    asyncio.run(store.set("a/zarr.json", raw))
    return zarrio.open(store, path="a", mode="r")


@pytest.mark.parametrize(("changes", "field"), [pytest.param(c, f, id=i) for i, c, f in HOSTILE])
def test_hostile_array_metadata_is_a_metadata_error(changes: dict[str, Any], field: str | None) -> None:
    with pytest.raises(MetadataError) as info:
        _open(_document(changes))
    if field is not None:
        assert info.value.field == field, str(info.value)
    assert info.value.path == "a"


def test_codec_errors_at_open_name_the_node_path() -> None:
    with pytest.raises(MetadataError) as info:
        _open(_document({"codecs": shard([3])}))
    assert info.value.path == "a"


def test_the_unmodified_document_opens() -> None:
    a = _open(_document({}))
    assert a.shape == (10,)
    np.testing.assert_array_equal(a[:], np.zeros(10, dtype="int32"))


@pytest.mark.parametrize("changes", [{"data_type": "int128"}, {"codecs": [LE, {"name": "lz77"}]}], ids=str)
def test_unknown_types_and_codecs_are_unsupported(changes: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedError):
        _open(_document(changes))


RAW_DOCUMENTS = {
    "not-utf8": b"\xff\xfe{",
    "not-json": b"{'shape': [1]}",
    "empty": b"",
    "truncated": _document({})[:-7],
    "list": b"[1, 2]",
    "null": b"null",
    "deep-nesting": b"[" * 100_000 + b"]" * 100_000,
    "deep-attributes": b'{"zarr_format": 3, "node_type": "group", "attributes": '
    + b'{"a":' * 50_000
    + b"1"
    + b"}" * 50_001,
    "nan-literal": _document({}).replace(b'"fill_value": 0', b'"fill_value": NaN').replace(b"[10]", b"[NaN]"),
    "huge-integer": _document({}).replace(b"[10]", b"[1" + b"0" * 5000 + b"]"),
    "huge-exponent": _document({}).replace(b"[10]", b"[1e999999]"),
    "duplicate-keys": b'{"zarr_format": 3, "zarr_format": "3", "node_type": "array"}',
    "nul-bytes": _document({}).replace(b'"attributes": {}', b'"attributes": {"a\\u0000": 1}')[:-1] + b"\x00",
}


@pytest.mark.parametrize("raw", list(RAW_DOCUMENTS.values()), ids=list(RAW_DOCUMENTS))
def test_malformed_zarr_json_is_a_metadata_error(raw: bytes) -> None:
    with pytest.raises(MetadataError):
        _open(raw)


def test_group_metadata_with_hostile_consolidated_entries() -> None:
    for name in ["../x", "/abs", "a//b", "a\\b"]:
        doc = {
            "zarr_format": 3,
            "node_type": "group",
            "attributes": {},
            "consolidated_metadata": {"kind": "inline", "must_understand": False, "metadata": {name: base()}},
        }
        with pytest.raises(ZarrioError):
            _open(json.dumps(doc).encode())


# ------------------------------------------------------------------ reads too large for memory
def test_a_read_larger_than_the_limit_is_refused_before_allocating() -> None:
    a = _open(_document({"shape": [2**40], "chunk_grid": grid(2**30), "data_type": "uint8"}))
    started = time.perf_counter()
    with pytest.raises(ResourceLimitError):
        a[...]
    assert time.perf_counter() - started < 2
    assert a[2**40 - 1] == 0  # a small read of the same array still works


def _run_bounded(code: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter limited to 4 GiB of address space and ``timeout`` seconds,
    so a hang, a crash or a huge allocation fails the test instead of the test run."""
    prelude = (
        "try:\n    import resource\nexcept ImportError:  # not POSIX: no address-space limit\n    pass\nelse:\n"
        "    resource.setrlimit(resource.RLIMIT_AS, (4 * 2**30, 4 * 2**30))\n"
    )
    try:
        return subprocess.run(
            [sys.executable, "-c", prelude + textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"did not finish within {timeout} s")


HUGE_READ = """
    import asyncio, json, sys, zarrio
    from zarrio.errors import ResourceLimitError
    from zarrio.stores import MemoryStore
    shape, chunk = json.loads(sys.argv[1]) if len(sys.argv) > 1 else ({shape}, {chunk})
    doc = {{"zarr_format": 3, "node_type": "array", "shape": shape, "data_type": "float64",
           "chunk_grid": {{"name": "regular", "configuration": {{"chunk_shape": chunk}}}},
           "chunk_key_encoding": {{"name": "default"}}, "fill_value": 0.0,
           "codecs": [{{"name": "bytes", "configuration": {{"endian": "little"}}}}]}}
    store = MemoryStore()
    asyncio.run(store.set("zarr.json", json.dumps(doc).encode()))
    a = zarrio.open(store, mode="r")
    try:
        a[...]
    except ResourceLimitError:
        print("refused")
"""


@pytest.mark.parametrize(
    ("shape", "chunk"),
    [
        pytest.param([2**62], [2**50], id="2**62-elements-few-chunks"),
        pytest.param([2**31, 2**31], [2**20, 2**20], id="2**62-elements-2d"),
    ],
)
def test_a_2_62_element_read_is_refused_without_crashing_the_interpreter(shape: list[int], chunk: list[int]) -> None:
    """tensorstore aborts the whole interpreter here; zarrio must raise ResourceLimitError."""
    done = _run_bounded(HUGE_READ.format(shape=shape, chunk=chunk), timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "refused"


@pytest.mark.parametrize(
    ("shape", "chunk"),
    [
        pytest.param([2**62], [5], id="2**62-elements-tiny-chunks"),
        pytest.param([2**62, 2**62], [1, 1], id="2**124-elements"),
    ],
)
def test_a_huge_read_over_tiny_chunks_is_refused_quickly(shape: list[int], chunk: list[int]) -> None:
    done = _run_bounded(HUGE_READ.format(shape=shape, chunk=chunk), timeout=4)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "refused"


HUGE_CHUNK_WRITE = """
    import asyncio, json, zarrio
    from zarrio.errors import ResourceLimitError
    from zarrio.stores import MemoryStore
    doc = {"zarr_format": 3, "node_type": "array", "shape": [2**40], "data_type": "uint8",
           "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2**40]}},
           "chunk_key_encoding": {"name": "default"}, "fill_value": 0,
           "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}]}
    store = MemoryStore()
    asyncio.run(store.set("zarr.json", json.dumps(doc).encode()))
    a = zarrio.open(store)
    try:
        a[0] = 1
    except ResourceLimitError:
        print("refused")
"""


def test_a_write_into_a_chunk_too_large_for_memory_is_refused() -> None:
    done = _run_bounded(HUGE_CHUNK_WRITE, timeout=20)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "refused"


def test_the_read_size_limit_is_configurable() -> None:
    store = MemoryStore()
    asyncio.run(store.set("a/zarr.json", _document({"shape": [1000], "chunk_grid": grid(100)})))
    a = zarrio.open_array(store, path="a", mode="r", max_read_bytes=400)
    assert a[:100].shape == (100,)
    with pytest.raises(ResourceLimitError):
        a[:101]


def test_size_and_nbytes_of_a_huge_array_are_exact() -> None:
    a = _open(_document({"shape": [2**62, 4], "chunk_grid": grid(2**20, 4), "data_type": "int16"}))
    assert a.size == 2**64
    assert a.nbytes == 2**65


HUGE_CHUNK_FILE = """
    import os, sys, zarrio
    from zarrio.errors import ResourceLimitError
    from zarrio.stores import LocalStore
    from zarrio.testing import CountingStore
    root = sys.argv[1]
    a = zarrio.create(root, shape=(100,), dtype="uint8", chunks=(100,), codecs=[{"name": "zstd"}])
    a[:] = 1
    with open(os.path.join(root, "c", "0"), "r+b") as f:
        f.truncate(20 * 2**30)  # a sparse 20 GiB file where a 100-byte chunk belongs
    for store in (LocalStore(root), CountingStore(LocalStore(root))):  # blocking and async read paths
        try:
            zarrio.open_array(store, mode="r")[:]
        except ResourceLimitError:
            print("refused")
"""


def test_a_chunk_file_too_large_for_memory_is_a_typed_error(tmp_path: Path) -> None:
    done = _run_bounded(HUGE_CHUNK_FILE.replace("sys.argv[1]", repr(str(tmp_path / "a.zarr"))), timeout=30)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["refused", "refused"]


def test_an_oversized_chunk_object_is_refused_without_reading_it(tmp_path: Path) -> None:
    root = tmp_path / "a.zarr"
    a = zarrio.create(str(root), shape=(100,), dtype="uint8", chunks=(100,), codecs=[{"name": "zstd"}])
    a[:] = 1
    with open(root / "c" / "0", "r+b") as file:
        file.truncate(64 * 2**20)
    capped = zarrio.open_array(str(root), mode="r", max_read_bytes=10_000)
    tracemalloc.start()
    try:
        with pytest.raises((ResourceLimitError, CodecError)):
            capped[:]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20, f"read {peak} bytes of a file that could not be a chunk"


def _astype(encode: str) -> dict[str, Any]:
    return {"name": "numcodecs.astype", "configuration": {"encode_dtype": encode, "decode_dtype": "int8"}}


@pytest.mark.parametrize("encode", ["V1000000000", "S1000000000", "U100", "O", "int32,int32", "not a type"])
def test_filters_encoding_to_non_numeric_types_are_refused_at_open(encode: str) -> None:
    """A hostile 'V1000000000' would make the fill value and every chunk a gigabyte per element."""
    started = time.perf_counter()
    with pytest.raises(MetadataError) as info:
        _open(_document({"data_type": "int8", "codecs": [_astype(encode), LE]}))
    assert info.value.field == "codecs"
    assert time.perf_counter() - started < 0.5


def test_codec_chain_reports_the_largest_stage_of_a_chunk() -> None:
    spec = ChunkSpec((5,), np.dtype("int8"), np.int8(0))
    assert CodecChain.from_json([LE, {"name": "zstd"}], spec).largest_nbytes() == 5
    assert CodecChain.from_json([_astype("complex128"), LE, {"name": "zstd"}], spec).largest_nbytes() == 80
    assert CodecChain.from_json([_astype("float32"), _astype("int16"), LE], spec).largest_nbytes() == 20


def test_a_codec_that_widens_chunks_past_the_limit_is_refused_before_allocating() -> None:
    store = MemoryStore()
    document = _document(
        {
            "shape": [2**17],
            "chunk_grid": grid(2**17),
            "data_type": "int8",
            "codecs": [_astype("complex128"), LE, {"name": "zstd"}],
        }
    )
    asyncio.run(store.set("a/zarr.json", document))
    asyncio.run(store.set("a/c/0", b"\x28\xb5\x2f\xfd\x20\x0a\x51\x00\x00xxxxxxxxxx"))
    a = zarrio.open_array(store, path="a", mode="r", max_read_bytes=2**20)  # the chunk is 128 KiB, its stage 2 MiB
    with pytest.raises(ResourceLimitError):
        a[:5]
