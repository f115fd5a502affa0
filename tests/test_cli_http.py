"""End-to-end tests of the ``zarrio`` command over HTTP and on a terminal: ``serve``, HTTP sources,
``cp`` progress on a pseudo-terminal, and ``cp`` output read by zarr-python. Subprocesses throughout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_cli import B_DATA, build_hierarchy, chunk_files, expected_a, fails, file_tree, ok

import zarrio


@pytest.fixture
def hierarchy(tmp_path: Path) -> Path:
    return build_hierarchy(tmp_path / "data.zarr")


# ---------------------------------------------------------------- HTTP: serve, and HTTP sources


@pytest.fixture
def served(tmp_path: Path) -> Any:
    """``(url, directory)``: a directory holding data.zarr (consolidated) and plain.zarr, served on 127.0.0.1."""
    from zarrio.server import serve

    directory = tmp_path / "site"
    build_hierarchy(directory / "data.zarr")
    build_hierarchy(directory / "plain.zarr", consolidated=False)
    with serve(directory, host="127.0.0.1", port=0) as server:
        yield server.url.rstrip("/"), directory


@pytest.mark.timeout(60)  # five CLI subprocesses, each importing zarrio: 4 s alone, over 20 s on a loaded machine
def test_info_and_tree_over_http(served: tuple[str, Path]) -> None:
    url, directory = served
    info = json.loads(ok("info", f"{url}/data.zarr::g/a", "--json"))
    assert info["shape"] == [100, 60]
    assert info["nchunks_stored"] == len(chunk_files(directory / "data.zarr" / "g" / "a"))
    assert info["stored_bytes"] is None and info["compression_ratio"] is None  # HTTP cannot report sizes
    assert "unknown" in ok("info", f"{url}/data.zarr::g/a").split("stored size", 1)[1].splitlines()[0]
    assert ok("tree", f"{url}/data.zarr").splitlines()[0] == "/  (from consolidated metadata)"
    # a subgroup is browsed through the root's consolidated metadata
    assert ok("tree", f"{url}/data.zarr::g").splitlines() == ["/g  (from consolidated metadata)", "  a (100, 60) int32"]
    out = directory.parent / "tail.npy"
    ok("get", f"{url}/data.zarr::b", "40:", "-o", str(out))
    np.testing.assert_array_equal(np.load(out), B_DATA[40:])


def test_browsing_http_without_consolidated_metadata_says_so(served: tuple[str, Path]) -> None:
    url, _ = served
    line = fails("tree", f"{url}/plain.zarr")
    assert "consolidated metadata" in line and "zarrio consolidate" in line
    info = json.loads(ok("info", f"{url}/plain.zarr", "--json"))
    assert info["arrays"] is None and info["groups"] is None
    assert json.loads(ok("info", f"{url}/plain.zarr::g/a", "--json"))["shape"] == [100, 60]  # direct opens work


def test_http_targets_are_read_only(served: tuple[str, Path]) -> None:
    url, _ = served
    assert "read-only" in fails("rm", f"{url}/data.zarr", "b")
    assert "read-only" in fails("consolidate", f"{url}/plain.zarr")


def test_cp_from_http_verbatim_and_rechunked(served: tuple[str, Path], tmp_path: Path) -> None:
    url, directory = served
    verbatim = tmp_path / "mirror.zarr"
    ok("cp", f"{url}/data.zarr", str(verbatim))
    assert file_tree(verbatim) == file_tree(directory / "data.zarr")
    archive = tmp_path / "rechunked.zip"
    ok("cp", f"{url}/data.zarr::g", str(archive), "--chunks", "25,30", "--shards", "50,60", "--codecs", "zstd:1")
    with zarrio.stores.ZipStore(archive) as store:
        array = zarrio.open(store, path="a")
        assert isinstance(array, zarrio.Array)
        assert array.chunks == (25, 30) and array.shards == (50, 60)
        np.testing.assert_array_equal(array[...], expected_a())


def test_cp_from_http_needs_consolidated_metadata_for_a_group(served: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = served
    assert "consolidated metadata" in fails("cp", f"{url}/plain.zarr", str(tmp_path / "x.zarr"))
    ok("cp", f"{url}/plain.zarr::g/a", str(tmp_path / "a.zarr"))  # an array needs no listing
    np.testing.assert_array_equal(zarrio.open(str(tmp_path / "a.zarr"))[...], expected_a())  # type: ignore[index]


def test_serve_until_interrupted(hierarchy: Path) -> None:
    import signal

    proc = subprocess.Popen(
        [sys.executable, "-m", "zarrio.cli", "serve", str(hierarchy.parent), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        assert banner.startswith(f"serving {hierarchy.parent} at http://127.0.0.1:")
        url = banner.split(" at ", 1)[1].split()[0].rstrip("/")
        assert proc.stdout.readline() == f"  {url}/{hierarchy.name}\n"  # the Zarr data found there
        assert "a (100, 60) int32" in ok("tree", f"{url}/{hierarchy.name}")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert out.strip() == "stopped"
    assert err == ""


def test_serve_errors(tmp_path: Path) -> None:
    assert "not a directory" in fails("serve", str(tmp_path / "missing"))
    fails("serve", str(tmp_path), "--port", "70000")


# ---------------------------------------------------------------- progress on a terminal


def run_on_pty(argv: list[str], *, columns: int = 120, timeout: float = 60) -> tuple[int, str]:
    """Run the CLI with stderr on a pseudo-terminal; return (status, what the terminal received)."""
    import fcntl
    import pty
    import select
    import struct
    import termios
    import time

    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "zarrio.cli", *argv], stdout=subprocess.DEVNULL, stderr=terminal, close_fds=True
    )
    os.close(terminal)
    received = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.2)
            if ready:
                try:
                    data = os.read(controller, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                received += data
            elif proc.poll() is not None:
                break
        status = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        os.close(controller)
        if proc.poll() is None:
            proc.kill()
    return status, received.decode("utf-8", "replace")


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX only")
def test_cp_draws_progress_on_a_terminal(hierarchy: Path, tmp_path: Path) -> None:
    status, screen = run_on_pty(["cp", f"{hierarchy}::g/a", str(tmp_path / "tty.zarr"), "--chunks", "5,5"])
    assert status == 0, screen
    final = screen.replace("\r\n", "\n").split("\r")[-1]
    assert "100%" in final
    assert "240/240 chunks" in final  # (100/5) * (60/5) destination chunks
    assert "23.4 KiB/23.4 KiB" in final  # 100 * 60 int32
    assert "/s" in final and "ETA" in final and "[" + "#" * 24 + "]" in final
    np.testing.assert_array_equal(zarrio.open(str(tmp_path / "tty.zarr"))[...], expected_a())  # type: ignore[index]


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX only")
def test_cp_no_progress_on_a_terminal_when_asked(hierarchy: Path, tmp_path: Path) -> None:
    status, screen = run_on_pty(["cp", f"{hierarchy}::g/a", str(tmp_path / "tty.zarr"), "--no-progress"])
    assert status == 0
    assert screen == ""


def test_cp_output_is_readable_by_zarr_python(hierarchy: Path, tmp_path: Path, run_ref: Any) -> None:
    destination = tmp_path / "for-zarr-python.zarr"
    ok("cp", f"{hierarchy}::g/a", str(destination), "--chunks", "8,8", "--shards", "16,16", "--codecs", "blosc:lz4:5")
    code = """
import sys, zarr, numpy as np
a = zarr.open_array(sys.argv[1], mode="r")
print(a.chunks, a.shards, int(a[94, 59]), int(a[99, 0]), int(np.asarray(a[:]).sum()))
"""
    out = run_ref(code, str(destination)).split()
    expected = expected_a()
    assert " ".join(out[:4]) == "(8, 8) (16, 16)"
    assert [int(v) for v in out[4:]] == [int(expected[94, 59]), int(expected[99, 0]), int(expected.sum())]


def test_cp_interrupted_leaves_no_zip(tmp_path: Path) -> None:
    import signal

    from zarrio.server import serve

    build_hierarchy(tmp_path / "site" / "data.zarr")
    archive = tmp_path / "partial.zip"
    with serve(tmp_path / "site", latency=0.05) as server:  # 60 chunks one at a time: about 3 s
        argv = ["cp", f"{server.url}/data.zarr::g/a", str(archive), "--jobs", "1", "--progress"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "zarrio.cli", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            assert proc.stderr is not None
            assert proc.stderr.read(len(b"\rcopying")) == b"\rcopying"  # the copy has started
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 130
    assert err.decode().rstrip().splitlines()[-1] == "zarrio: error: interrupted"
    assert "Traceback" not in err.decode()
    assert not archive.exists()
