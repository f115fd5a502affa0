"""zarr-python 3.4.2 as the writer, zarrio as the reader, NumPy as the judge (issue 13, item 2).

A fixed, seeded set of cases (shapes, chunks from one element to larger than the array, shards
at either index location, nested shards, transpose filters and transposes inside the shard's
inner chain, every compressor, blosc's cnames and shuffles, crc32c, both endians, every fixed
data type, fill values and partial writes) is written in ONE reference-interpreter run with
zarr-python's own API (``zarr.create_array(..., filters=..., compressors=..., serializer=...,
shards=...)``). zarrio then reads each case whole and through a set of selections, sync and
async, from a LocalStore (blocking access) and a ForwardingStore around it (the async driver).
The issue's case, zarr-python's default codecs with ``filters=[TransposeCodec(order=[1, 0])]``,
shape (4, 10), chunks (2, 10), is the first.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from engine_model import (
    BLOSC_CNAMES,
    BLOSC_SHUFFLES,
    CRC32C,
    FIXED_DTYPES,
    assert_same,
    blosc,
    bytes_codec,
    expected_selection,
    gzip,
    is_orthogonal,
    random_values,
    sharding,
    transpose,
    zstd,
)

import zarrio
from zarrio import aio
from zarrio.stores import LocalStore
from zarrio.testing import ForwardingStore

pytestmark = pytest.mark.interop

N_GENERATED = 48


def _compressors(rng: random.Random, itemsize: int) -> list[dict[str, Any]]:
    pool = [
        lambda: gzip(rng.choice([1, 6])),
        lambda: zstd(rng.choice([0, 3]), rng.random() < 0.5),
        lambda: blosc(rng.choice(BLOSC_CNAMES), rng.choice(BLOSC_SHUFFLES), rng.choice([1, 5]), itemsize),
        lambda: CRC32C,
    ]
    return [rng.choice(pool)() for _ in range(rng.choice([0, 1, 1, 2]))]


def _case(i: int) -> dict[str, Any]:
    """One generated case: what zarr-python is asked to write (codecs as zarr.json objects)."""
    rng = random.Random(f"issue-13-{i}")
    ndim = rng.choice([0, 1, 2, 2, 3])
    shape = [rng.randint(1, {1: 20, 2: 9, 3: 6}[ndim]) for _ in range(ndim)] if ndim else []
    chunks = [rng.randint(1, s + 2) for s in shape]  # one element, edge chunks, whole axis, larger
    dtype = FIXED_DTYPES[i % len(FIXED_DTYPES)]
    itemsize = np.dtype(dtype).itemsize
    endian = rng.choice(["little", "big"])
    order = rng.sample(range(ndim), ndim) if ndim and rng.random() < 0.6 else None
    case: dict[str, Any] = {
        "name": f"case{i:02d}",
        "shape": shape,
        "dtype": dtype,
        "fill_value": rng.choice([0, 1]) if dtype != "bool" else rng.choice([False, True]),
        "filters": [transpose(order)] if order else [],
        "compressors": _compressors(rng, itemsize),
        "serializer": bytes_codec(endian),
        "shards": None,
        "seed": i,
    }
    layout = rng.choice(["chunks", "shards", "shards", "inner-transpose", "nested"]) if ndim else "chunks"
    if layout == "chunks":
        case["chunks"] = chunks
        return case
    shard = [c * rng.randint(1, 3) for c in chunks]
    location = rng.choice(["start", "end"])
    if layout == "shards":  # zarr-python's shards= argument: the filters and compressors go inside
        case.update(chunks=chunks, shards={"shape": shard, "index_location": location})
        return case
    inner: list[dict[str, Any]] = [bytes_codec(endian), *_compressors(rng, itemsize)]
    # zarr-python 3.4.2 checks a sharding serializer's chunk_shape against the chunk grid as given,
    # not as a transpose filter in front turns it (ValueError at create_array): the transposes of
    # these layouts go inside the shards
    case["filters"] = []
    if layout == "inner-transpose":
        inner_order = rng.sample(range(ndim), ndim)
        inner.insert(0, transpose(inner_order))
        case.update(chunks=shard, serializer=sharding(chunks, inner, index_location=location, index_crc=True))
        return case
    outer = [s * rng.randint(1, 2) for s in shard]
    if rng.random() < 0.5:
        inner.insert(0, transpose(rng.sample(range(ndim), ndim)))
    nested = sharding(chunks, inner, index_location=rng.choice(["start", "end"]), index_crc=rng.random() < 0.5)
    case.update(chunks=outer, serializer=sharding(shard, [nested], index_location=location, index_crc=True))
    return case


ISSUE_CASE: dict[str, Any] = {
    "name": "issue13-transpose-filter",
    "shape": [4, 10],
    "dtype": "int32",
    "chunks": [2, 10],
    "fill_value": 0,
    "filters": [transpose([1, 0])],
    "compressors": "auto",
    "serializer": "auto",
    "shards": None,
    "seed": 10_000,
}
CASES = [ISSUE_CASE, *(_case(i) for i in range(N_GENERATED))]


def _written_region(case: dict[str, Any]) -> tuple[slice, ...]:
    """The region zarr-python writes: everything, or (one case in three) a part, the rest left as fill."""
    rng = random.Random(f"region-{case['name']}")
    if not case["shape"] or rng.random() < 0.67:
        return tuple(slice(None) for _ in case["shape"])
    region = []
    for s in case["shape"]:
        start = rng.randint(0, s - 1)
        region.append(slice(start, rng.randint(start + 1, s)))
    return tuple(region)


def _model(case: dict[str, Any]) -> np.ndarray[Any, Any]:
    model = np.full(case["shape"], case["fill_value"], dtype=case["dtype"])
    region = _written_region(case)
    model[region] = random_values(np.random.default_rng(case["seed"]), model[region].shape, case["dtype"])
    return model


def _selections(shape: tuple[int, ...], seed: int) -> list[Any]:
    """A fixed set of selections for one shape: whole, strided both ways, ints (negative too),
    ``...``, and orthogonal integer arrays and masks."""
    rng = np.random.default_rng(seed)
    out: list[Any] = [Ellipsis, ()]
    if not shape:
        return out
    out.append(tuple(slice(None, None, -1) for _ in shape))
    out.append(tuple(slice(1, None, 2) for _ in shape))
    out.append((-1, Ellipsis))
    out.append(tuple(slice(s - 1, 0, -2) for s in shape))
    out.append(tuple(np.flatnonzero(rng.random(s) < 0.5) for s in shape))
    out.append(tuple(rng.random(s) < 0.5 for s in shape))
    out.append((rng.integers(-shape[0], shape[0], 3), *(slice(None, None, -1) for _ in shape[1:])))
    return out


REF_WRITER = r"""
import json, sys
from pathlib import Path
import numpy as np
import zarr
from zarr.registry import get_codec_class

def codec(c):
    return get_codec_class(c["name"]).from_dict(c)

root = Path(sys.argv[1])
for case in json.loads((root / "cases.json").read_text()):
    data = np.load(root / (case["name"] + ".npy"))
    region = tuple(slice(a, b) for a, b in case["region"])
    serializer = case["serializer"] if case["serializer"] == "auto" else codec(case["serializer"])
    compressors = case["compressors"] if case["compressors"] == "auto" else [codec(c) for c in case["compressors"]]
    shards = case["shards"]
    if shards is not None:
        shards = {"shape": tuple(shards["shape"]), "index_location": shards["index_location"]}
    z = zarr.create_array(
        str(root / (case["name"] + ".zarr")), shape=tuple(case["shape"]), dtype=case["dtype"],
        chunks=tuple(case["chunks"]), shards=shards, filters=[codec(c) for c in case["filters"]],
        compressors=compressors, serializer=serializer, fill_value=case["fill_value"],
    )
    z[region] = data[region]
    print(case["name"], json.dumps(z.metadata.to_dict()["codecs"]))
"""


@pytest.fixture(scope="module")
def written(run_ref: Callable[..., str], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """Every case written by zarr-python in one reference run; returns (directory, codecs per case)."""
    root = tmp_path_factory.mktemp("zarr-python-cases")
    listed = []
    for case in CASES:
        region = _written_region(case)
        bounds = [[sl.indices(s)[0], sl.indices(s)[1]] for sl, s in zip(region, case["shape"], strict=True)]
        listed.append({**case, "region": bounds})
        np.save(root / f"{case['name']}.npy", _model(case))
    (root / "cases.json").write_text(json.dumps(listed))
    out = run_ref(REF_WRITER, str(root), timeout=300)
    codecs = {line.split(" ", 1)[0]: json.loads(line.split(" ", 1)[1]) for line in out.splitlines() if line.strip()}
    assert sorted(codecs) == sorted(c["name"] for c in CASES)
    return root, codecs


def test_the_cases_cover_the_space() -> None:
    """The generated set holds what it claims: every dtype, both endians, transpose filters and
    inner transposes, shards at both index locations, nested shards and every compressor kind."""
    text = json.dumps(CASES)
    assert {c["dtype"] for c in CASES} == set(FIXED_DTYPES)
    for needle in ['"endian": "big"', '"endian": "little"', '"index_location": "start"', '"index_location": "end"']:
        assert needle in text, needle
    for name in ["transpose", "gzip", "zstd", "blosc", "crc32c", "sharding_indexed"]:
        assert f'"name": "{name}"' in text, name
    assert any(c["shards"] for c in CASES)
    shard_serializers = [
        c["serializer"]
        for c in CASES
        if isinstance(c["serializer"], dict) and c["serializer"]["name"] == "sharding_indexed"
    ]
    nested = [s for s in shard_serializers if "sharding_indexed" in json.dumps(s["configuration"]["codecs"])]
    assert nested, "no nested sharding case"
    inner_t = [s for s in shard_serializers if '"transpose"' in json.dumps(s)]
    assert inner_t, "no transpose inside a shard"
    assert any(not c["shape"] for c in CASES), "no rank-0 case"


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_zarrio_reads_what_zarr_python_wrote(case: dict[str, Any], written: tuple[Path, dict[str, Any]]) -> None:
    root, codecs = written
    path = root / f"{case['name']}.zarr"
    model = np.load(root / f"{case['name']}.npy")
    shape = tuple(case["shape"])
    sels = _selections(shape, case["seed"])
    context = f"{case['name']} codecs={codecs[case['name']]}"
    for store in (LocalStore(path), ForwardingStore(LocalStore(path))):
        z = zarrio.open(store, mode="r")
        assert isinstance(z, zarrio.Array)
        for sel in sels:
            got = z.oindex[sel] if is_orthogonal(sel) else z[sel]
            assert_same(got, expected_selection(model, sel), f"sync {type(store).__name__} {sel!r}; {context}")

        async def read_all(store: Any = store) -> list[Any]:
            a = await aio.open_array(store, mode="r")
            reads = [a.oindex.getitem(s) if is_orthogonal(s) else a.getitem(s) for s in sels]
            return list(await asyncio.gather(*reads))

        for sel, got in zip(sels, asyncio.run(read_all()), strict=True):
            assert_same(got, expected_selection(model, sel), f"async {type(store).__name__} {sel!r}; {context}")
