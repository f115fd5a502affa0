"""``zarrio cp`` over the shared conformance corpus (zarr-python and tensorstore data).

Every readable case is copied verbatim and re-encoded (new chunks, sharding removed,
gzip); both copies must read back exactly the expected values. The error cases must
fail with one line. ``main`` runs in-process here (the subprocess path is covered by
test_cli.py) to keep 250+ copies fast.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import zarrio
from zarrio.cli import main

# the same place as conftest's conformance_dir fixture (which skips, or fails in CI, when it is missing)
CORPUS = Path(
    os.environ.get("ZARRIO_CONFORMANCE") or Path(__file__).resolve().parent.parent.parent / "shared" / "conformance"
)


def _cases() -> list[dict[str, Any]]:
    index = CORPUS / "cases.json"
    if not index.is_file():
        return []
    cases: list[dict[str, Any]] = json.loads(index.read_text())["cases"]
    return cases


CASES = _cases()
READABLE = [c for c in CASES if not c["expect_error"] and c["expected"]]
FAILING = [c for c in CASES if c["expect_error"]]


def _expected(conformance_dir: Path, case: dict[str, Any]) -> Any:
    path = conformance_dir / case["expected"]
    if path.suffix == ".npy":
        return np.load(path, allow_pickle=False)
    document = json.loads(path.read_text())
    data = document["data"]
    if document["kind"] == "bytes":
        data = [base64.b64decode(v) for v in data]
    return np.array(data, dtype=object).reshape(document["shape"])


def _source(conformance_dir: Path, case: dict[str, Any]) -> str:
    store = str(conformance_dir / case["store"])
    return f"{store}::{case['node_path']}" if case["node_path"] else store


def _same(got: Any, expected: Any) -> bool:
    got = np.asarray(got)
    if expected.dtype == object:
        return bool(got.shape == expected.shape and got.tolist() == expected.tolist())
    return bool(got.dtype == expected.dtype and got.shape == expected.shape and got.tobytes() == expected.tobytes())


def _reencode_options(ndim: int) -> list[str]:
    if ndim == 0:
        return ["--codecs", "gzip:1"]
    return ["--chunks", ",".join(["3"] * ndim), "--shards", "none", "--codecs", "gzip:1"]


@pytest.mark.parametrize("case", READABLE, ids=[c["id"] for c in READABLE])
def test_cp_round_trips_conformance_data(
    case: dict[str, Any], conformance_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = _expected(conformance_dir, case)
    source = _source(conformance_dir, case)
    for name, options in (("verbatim", []), ("reencoded", _reencode_options(expected.ndim))):
        destination = tmp_path / f"{name}.zarr"
        assert main(["cp", source, str(destination), *options]) == 0, capsys.readouterr().err
        copy = zarrio.open(str(destination), mode="r")
        assert isinstance(copy, zarrio.Array)
        assert _same(copy[...], expected), name
    capsys.readouterr()
    assert main(["info", source, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["shape"] == list(expected.shape)
    assert info["data_type"] == case["metadata"]["data_type"]


@pytest.mark.parametrize("case", FAILING, ids=[c["id"] for c in FAILING])
def test_cp_of_broken_data_fails_with_one_line(
    case: dict[str, Any], conformance_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["cp", _source(conformance_dir, case), str(tmp_path / "x.zarr"), "--codecs", "gzip"])
    err = capsys.readouterr().err
    assert status == 1
    assert err.count("\n") == 1 and err.startswith("zarrio: error: ")
