"""End-to-end tests of the ``zarrio`` command: every command run as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import zarrio

COMMANDS = ["info", "tree", "get", "consolidate", "rm", "cp", "serve"]
A_DATA = np.arange(95 * 60, dtype="int32").reshape(95, 60)
B_DATA = np.linspace(0, 1, 50, dtype="float32")


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zarrio.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        check=False,
    )


def ok(*args: str, cwd: Path | None = None) -> str:
    """Run the CLI, require success and an empty stderr; return stdout."""
    proc = run_cli(*args, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return proc.stdout


def fails(*args: str, status: int = 1) -> str:
    """Run the CLI, require the given failure status and one error line; return that line."""
    proc = run_cli(*args)
    assert proc.returncode == status, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("zarrio: error: ")
    assert "Traceback" not in proc.stderr
    return lines[0]


def expected_a() -> np.ndarray[Any, Any]:
    full = np.full((100, 60), -1, dtype="int32")
    full[:95] = A_DATA
    return full


def build_hierarchy(root: Path, *, consolidated: bool = True) -> Path:
    """A group with attributes; g/a (chunked, fill -1, partly written), b (sharded), s (rank 0, never written)."""
    zarrio.create_group(str(root), attributes={"kind": "demo"})
    a = zarrio.create(
        str(root),
        (100, 60),
        "int32",
        path="g/a",
        chunks=(10, 10),
        fill_value=-1,
        dimension_names=["y", "x"],
        attributes={"units": "m"},
    )
    a[0:95, :] = A_DATA
    b = zarrio.create(str(root), (50,), "float32", path="b", chunks=(7,), shards=(21,))
    b[:] = B_DATA
    zarrio.create(str(root), (), "int16", path="s", fill_value=5)
    if consolidated:
        zarrio.consolidate_metadata(str(root))
    return root


@pytest.fixture
def hierarchy(tmp_path: Path) -> Path:
    return build_hierarchy(tmp_path / "data.zarr")


def chunk_files(array_dir: Path) -> list[Path]:
    return [p for p in array_dir.rglob("*") if p.is_file() and p.name != "zarr.json"]


def file_tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


# ---------------------------------------------------------------- help and errors


def test_top_level_help_lists_every_command() -> None:
    # each command's --help and --version run in-process in test_cli_units.py
    out = ok("--help")
    for command in COMMANDS:
        assert f"    {command}" in out


def test_no_command_is_a_usage_error() -> None:
    proc = run_cli()
    assert proc.returncode == 2
    assert "usage: zarrio" in proc.stderr


def test_console_script_is_installed(hierarchy: Path) -> None:
    script = Path(sys.executable).parent / "zarrio"
    if not script.exists():
        pytest.skip(f"no console script next to {sys.executable}: the package is not installed with its scripts")
    argv = [str(script), "tree", str(hierarchy)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "a (100, 60) int32" in proc.stdout


def test_missing_target_is_one_line(tmp_path: Path) -> None:
    line = fails("info", str(tmp_path / "nowhere.zarr"))
    assert "nowhere.zarr" in line


def test_missing_node_names_the_target(hierarchy: Path) -> None:
    line = fails("info", f"{hierarchy}::g/nope")
    assert f"{hierarchy}::g/nope" in line


def test_debug_shows_the_traceback(hierarchy: Path) -> None:
    for argv in (["--debug", "info", f"{hierarchy}::nope"], ["info", f"{hierarchy}::nope", "--debug"]):
        proc = run_cli(*argv)
        assert proc.returncode != 0
        assert "Traceback" in proc.stderr
        assert "NodeNotFoundError" in proc.stderr


def test_invalid_node_path_is_an_error(hierarchy: Path) -> None:
    line = fails("info", f"{hierarchy}::a/../b")
    assert ".." in line


# ---------------------------------------------------------------- info


def test_info_array_json_matches_the_store(hierarchy: Path) -> None:
    info = json.loads(ok("info", f"{hierarchy}::g/a", "--json"))
    array = zarrio.open(str(hierarchy), path="g/a", mode="r")
    assert isinstance(array, zarrio.Array)
    files = chunk_files(hierarchy / "g" / "a")
    stored = sum(p.stat().st_size for p in files)
    assert info["node_type"] == "array"
    assert info["shape"] == [100, 60]
    assert info["data_type"] == "int32"
    assert info["chunks"] == [10, 10]
    assert info["shards"] is None
    assert info["codecs"] == array.codecs
    assert info["fill_value"] == -1
    assert info["dimension_names"] == ["y", "x"]
    assert info["attributes"] == {"units": "m"}
    assert info["nchunks"] == 60
    assert info["nchunks_stored"] == len(files) == array.nchunks_stored()
    assert info["stored_bytes"] == stored
    assert info["compression_ratio"] == pytest.approx(100 * 60 * 4 / stored, rel=1e-3)


def test_info_sharded_array_counts_shards(hierarchy: Path) -> None:
    info = json.loads(ok("info", f"{hierarchy}::b", "--json"))
    assert info["chunks"] == [7]
    assert info["shards"] == [21]
    assert info["codecs"][0]["name"] == "sharding_indexed"
    assert info["nchunks"] == 3
    assert info["nchunks_stored"] == len(chunk_files(hierarchy / "b")) == 3


def test_info_array_text(hierarchy: Path) -> None:
    out = ok("info", f"{hierarchy}::g/a")
    lines = {line.split(None, 1)[0]: line for line in out.splitlines()[1:] if line.strip()}
    assert "(100, 60)" in lines["shape"]
    assert "int32" in lines["dtype"]
    assert "(10, 10)" in lines["chunks"]
    assert "none" in lines["shards"]
    assert "bytes" in lines["codecs"] and "zstd" in lines["codecs"]
    assert "-1" in out.split("fill value", 1)[1].splitlines()[0]
    stored = len(chunk_files(hierarchy / "g" / "a"))
    assert f"{stored} of 60 chunks" in out
    assert "ratio" in out


def test_info_in_a_zip_matches_the_directory(hierarchy: Path, tmp_path: Path) -> None:
    archive = tmp_path / "verbatim.zip"
    ok("cp", str(hierarchy), str(archive))
    in_zip = json.loads(ok("info", f"{archive}::g/a", "--json"))
    in_directory = json.loads(ok("info", f"{hierarchy}::g/a", "--json"))
    assert in_zip.pop("target") != in_directory.pop("target")
    assert in_zip == in_directory


def test_info_group(hierarchy: Path) -> None:
    info = json.loads(ok("info", str(hierarchy), "--json"))
    assert info["node_type"] == "group"
    assert info["attributes"] == {"kind": "demo"}
    assert info["consolidated_metadata"] is True
    assert info["arrays"] == ["b", "s"]
    assert info["groups"] == ["g"]


# ---------------------------------------------------------------- tree


def test_tree_uses_consolidated_metadata(hierarchy: Path) -> None:
    lines = ok("tree", str(hierarchy)).splitlines()
    assert lines[0] == "/  (from consolidated metadata)"
    assert lines[1:] == ["  b (50,) float32", "  g/", "    a (100, 60) int32", "  s () int16"]


def test_tree_without_consolidated_metadata_lists_the_store(tmp_path: Path) -> None:
    root = build_hierarchy(tmp_path / "plain.zarr", consolidated=False)
    lines = ok("tree", str(root)).splitlines()
    assert lines[0] == "/"
    assert "    a (100, 60) int32" in lines


def test_tree_of_a_subgroup_and_an_array(hierarchy: Path) -> None:
    assert "a (100, 60) int32" in ok("tree", f"{hierarchy}::g")
    assert ok("tree", f"{hierarchy}::g/a").strip() == "/g/a (100, 60) int32"


# ---------------------------------------------------------------- get

# the parser's cases are in test_cli_units.py; these check the selection reaches the array intact
SELECTIONS = {
    "[0:10, ::2]": (slice(0, 10), slice(None, None, 2)),
    "-1, ...": (-1, Ellipsis),
    "[[1, 3, 97], 2:9:3]": ([1, 3, 97], slice(2, 9, 3)),
    "[::-7, 0]": (slice(None, None, -7), 0),
    "[[1, 3], [2, 4]]": ([1, 3], [2, 4]),  # two index lists: per axis (a 2x2 block), not two points
}


@pytest.mark.parametrize("text", list(SELECTIONS))
def test_get_saves_the_selection(hierarchy: Path, tmp_path: Path, text: str) -> None:
    out = tmp_path / "out.npy"
    ok("get", f"{hierarchy}::g/a", text, "-o", str(out))
    expected = expected_a()
    selection = SELECTIONS[text]
    for axis, item in enumerate(selection):  # orthogonal: apply one axis at a time
        if isinstance(item, list):
            expected = np.take(expected, item, axis=axis)
    plain: tuple[Any, ...] = tuple(slice(None) if isinstance(i, list) else i for i in selection)
    np.testing.assert_array_equal(np.load(out), expected[plain])


def test_get_prints_like_numpy(hierarchy: Path) -> None:
    out = ok("get", f"{hierarchy}::g/a", "[0:2, 0:3]")
    assert out == str(A_DATA[0:2, 0:3]) + "\n"
    assert ok("get", f"{hierarchy}::s").strip() == "5"


def test_get_full_prints_every_element(hierarchy: Path) -> None:
    assert "..." in ok("get", f"{hierarchy}::g/a")
    full = ok("get", f"{hierarchy}::g/a", "--full")
    assert "..." not in full
    assert str(A_DATA[94, 59]) in full


def test_get_into_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    big = zarrio.create(str(tmp_path / "big.zarr"), (3000, 100), "int64", chunks=(1000, 100))
    big[...] = np.arange(300_000).reshape(3000, 100)
    proc = subprocess.Popen(
        [sys.executable, "-m", "zarrio.cli", "get", str(tmp_path / "big.zarr"), "--full"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith(b"[[")
    proc.stdout.close()  # like "| head -1"
    assert proc.wait(timeout=60) == 1
    assert proc.stderr.read() == b""
    proc.stderr.close()


def test_get_from_a_sharded_array(hierarchy: Path, tmp_path: Path) -> None:
    out = tmp_path / "b.npy"
    ok("get", f"{hierarchy}::b", "3:45:4", "-o", str(out))
    np.testing.assert_array_equal(np.load(out), B_DATA[3:45:4])


@pytest.mark.parametrize("text", ["[0:3, ::3", "__import__('os')"])
def test_get_rejects_malformed_selections(hierarchy: Path, text: str) -> None:
    fails("get", f"{hierarchy}::g/a", text, status=2)


def test_get_out_of_bounds_is_an_error(hierarchy: Path) -> None:
    fails("get", f"{hierarchy}::g/a", "[100, 0]")


def test_get_of_a_group_is_refused(hierarchy: Path) -> None:
    line = fails("get", str(hierarchy), status=2)
    assert "group" in line


# ---------------------------------------------------------------- consolidate and rm


def test_consolidate(tmp_path: Path) -> None:
    root = build_hierarchy(tmp_path / "plain.zarr", consolidated=False)
    assert json.loads((root / "zarr.json").read_text()).get("consolidated_metadata") is None
    out = ok("consolidate", str(root))
    assert "4 nodes" in out
    document = json.loads((root / "zarr.json").read_text())
    assert sorted(document["consolidated_metadata"]["metadata"]) == ["b", "g", "g/a", "s"]
    assert ok("tree", str(root)).startswith("/  (from consolidated metadata)")


def test_consolidate_an_array_is_an_error(hierarchy: Path) -> None:
    fails("consolidate", f"{hierarchy}::g/a")


def test_rm_removes_the_node_and_updates_consolidated_metadata(hierarchy: Path) -> None:
    assert ok("rm", str(hierarchy), "g/a").strip() == "removed /g/a"
    assert not (hierarchy / "g" / "a").exists()
    document = json.loads((hierarchy / "zarr.json").read_text())
    assert sorted(document["consolidated_metadata"]["metadata"]) == ["b", "g", "s"]
    fails("info", f"{hierarchy}::g/a")


def test_rm_relative_to_a_target_node(hierarchy: Path) -> None:
    ok("rm", f"{hierarchy}::g", "a")
    assert not (hierarchy / "g" / "a").exists()
    assert (hierarchy / "b" / "zarr.json").exists()


def test_rm_errors(hierarchy: Path, tmp_path: Path) -> None:
    assert f"{hierarchy}::g/nope" in fails("rm", f"{hierarchy}::g", "nope")
    assert "no such file or directory" in fails("rm", str(tmp_path / "missing.zarr"), "a")
    assert "no such file or directory" in fails("consolidate", str(tmp_path / "missing.zarr"))
    assert not (tmp_path / "missing.zarr").exists()
    fails("rm", str(hierarchy), "/", status=2)


def test_rm_in_a_zip(hierarchy: Path, tmp_path: Path) -> None:
    archive = tmp_path / "copy.zip"
    ok("cp", str(hierarchy), str(archive))
    ok("rm", str(archive), "b")
    assert json.loads(ok("info", str(archive), "--json"))["arrays"] == ["s"]


# ---------------------------------------------------------------- cp


def test_cp_directory_verbatim_is_byte_identical(hierarchy: Path, tmp_path: Path) -> None:
    destination = tmp_path / "copy.zarr"
    ok("cp", str(hierarchy), str(destination))
    assert file_tree(destination) == file_tree(hierarchy)


def test_cp_rechunk_into_a_zip(hierarchy: Path, tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    ok("cp", f"{hierarchy}::g/a", str(archive), "--chunks", "16,32", "--codecs", "gzip:3")
    with zarrio.stores.ZipStore(archive) as store:
        array = zarrio.open(store)
        assert isinstance(array, zarrio.Array)
        assert array.chunks == (16, 32)
        assert [c["name"] for c in array.codecs] == ["bytes", "gzip"]
        assert array.fill_value == -1
        assert array.dimension_names == ("y", "x")
        assert dict(array.attrs) == {"units": "m"}
        np.testing.assert_array_equal(array[...], expected_a())
        # the rows never written are fill: no chunk covering only them is stored
        assert array.nchunks_stored() == len(range(0, 95, 16)) * 2


def test_cp_hierarchy_zip_to_directory_reshard_and_recompress(hierarchy: Path, tmp_path: Path) -> None:
    archive = tmp_path / "all.zip"
    ok("cp", str(hierarchy), str(archive))
    destination = tmp_path / "out.zarr"
    ok("cp", f"{archive}::g", f"{destination}::inner/g", "--chunks", "20,20", "--shards", "40,60", "--codecs", "zstd:3")
    array = zarrio.open(str(destination), path="inner/g/a")
    assert isinstance(array, zarrio.Array)
    assert array.chunks == (20, 20)
    assert array.shards == (40, 60)
    inner = array.codecs[0]["configuration"]["codecs"]
    assert [c["name"] for c in inner] == ["bytes", "zstd"] and inner[1]["configuration"]["level"] == 3
    np.testing.assert_array_equal(array[...], expected_a())


def test_cp_removes_sharding_and_keeps_consolidation(hierarchy: Path, tmp_path: Path) -> None:
    destination = tmp_path / "flat.zarr"
    ok("cp", str(hierarchy), str(destination), "--shards", "none", "--jobs", "1", "--memory", "1")
    b = zarrio.open(str(destination), path="b")
    assert isinstance(b, zarrio.Array)
    assert b.shards is None and b.chunks == (7,)
    np.testing.assert_array_equal(b[...], B_DATA)
    s = zarrio.open(str(destination), path="s")
    assert isinstance(s, zarrio.Array)
    assert int(s[...]) == 5
    document = json.loads((destination / "zarr.json").read_text())
    assert sorted(document["consolidated_metadata"]["metadata"]) == ["b", "g", "g/a", "s"]
    assert document["attributes"] == {"kind": "demo"}


def test_cp_into_a_consolidated_hierarchy_refreshes_it(hierarchy: Path, tmp_path: Path) -> None:
    destination = tmp_path / "target.zarr"
    ok("cp", str(hierarchy), str(destination))  # consolidated, like its source
    ok("cp", f"{hierarchy}::b", f"{destination}::g/b2", "--chunks", "10", "--shards", "none")
    document = json.loads((destination / "zarr.json").read_text())
    assert sorted(document["consolidated_metadata"]["metadata"]) == ["b", "g", "g/a", "g/b2", "s"]
    assert "    b2 (50,) float32" in ok("tree", str(destination)).splitlines()


def test_cp_rank_mismatch_writes_nothing(hierarchy: Path, tmp_path: Path) -> None:
    archive = tmp_path / "bad.zip"
    line = fails("cp", str(hierarchy), str(archive), "--chunks", "16,16", status=2)
    assert "rank" in line
    assert not archive.exists()
    directory = tmp_path / "bad.zarr"
    fails("cp", str(hierarchy), str(directory), "--chunks", "16,16", status=2)
    assert not (directory / "zarr.json").exists()


@pytest.mark.parametrize(
    "options",
    [["--chunks", "0,4"], ["--codecs", "lzma"]],
)
def test_cp_rejects_malformed_options(hierarchy: Path, tmp_path: Path, options: list[str]) -> None:
    fails("cp", f"{hierarchy}::g/a", str(tmp_path / "x.zarr"), *options, status=2)


def test_cp_refuses_an_existing_destination_unless_overwrite(hierarchy: Path, tmp_path: Path) -> None:
    destination = tmp_path / "copy.zarr"
    ok("cp", f"{hierarchy}::b", str(destination))
    assert "--overwrite" in fails("cp", f"{hierarchy}::g/a", str(destination))
    ok("cp", f"{hierarchy}::g/a", str(destination), "--overwrite")
    array = zarrio.open(str(destination))
    assert isinstance(array, zarrio.Array)
    assert array.shape == (100, 60)
    # nothing of the replaced array is left: exactly the source's chunk files
    source_files = {str(p.relative_to(hierarchy / "g" / "a")) for p in chunk_files(hierarchy / "g" / "a")}
    assert {str(p.relative_to(destination)) for p in chunk_files(destination)} == source_files


def test_cp_refuses_overlapping_source_and_destination(hierarchy: Path) -> None:
    assert "overlap" in fails("cp", str(hierarchy), f"{hierarchy}::backup", status=2)
    assert "overlap" in fails("cp", f"{hierarchy}::g", f"{hierarchy}::g", "--overwrite", status=2)
    ok("cp", f"{hierarchy}::g/a", f"{hierarchy}::a2")  # siblings in one store are fine
    np.testing.assert_array_equal(zarrio.open(str(hierarchy), path="a2")[...], expected_a())  # type: ignore[index]


def test_cp_is_quiet_when_not_a_terminal(hierarchy: Path, tmp_path: Path) -> None:
    proc = run_cli("cp", f"{hierarchy}::g/a", str(tmp_path / "quiet.zarr"), "--chunks", "5,5")
    assert proc.returncode == 0
    assert proc.stderr == "" and proc.stdout == ""
