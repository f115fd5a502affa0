"""Reliability: writes lose nothing (issue 6, property 5).

* LocalStore: a writer killed with SIGKILL mid-write leaves every key holding its
  old or its new value, whole; the store lists no temporary files afterwards.
* ZipStore: a writer killed while writing the archive leaves the previous archive
  (or none) under the final name, never a half-written one.
* A read-modify-write that fails (a codec error, a corrupt old chunk, a failing
  store) leaves the stored chunk as it was.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

import zarrio
from zarrio.codecs import register_codec
from zarrio.codecs.base import JSON, Buffer, BytesBytesCodec
from zarrio.errors import CodecError, TransportError
from zarrio.stores import LocalStore, ZipStore
from zarrio.stores.local import TEMP_PREFIX
from zarrio.testing import ForwardingStore

needs_sigkill = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL needs a POSIX system")

VALUE_SIZE = 4 * 2**20

LOCAL_WRITER = """
    import asyncio, sys
    from zarrio.stores import LocalStore
    root, size = sys.argv[1], int(sys.argv[2])

    async def main() -> None:
        store = LocalStore(root)
        generation = 1
        while True:
            for key in ("a", "dir/b", "dir/sub/c"):
                # every value is one byte repeated: a partial or mixed value is easy to spot
                await store.set(key, bytes([generation % 251 + 1]) * size)
            if generation == 1:
                print("ready", flush=True)
            generation += 1

    asyncio.run(main())
"""


def _spawn(code: str, *args: str) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline().strip()
    if line != "ready":
        child.kill()
        child.wait(timeout=10)
        stderr = child.stderr.read() if child.stderr else ""
        pytest.fail(f"child did not start: {line!r} {stderr[-2000:]}")
    return child


def _kill(child: subprocess.Popen[str]) -> None:
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    for stream in (child.stdout, child.stderr):
        if stream is not None:
            stream.close()


def _wait_for_a_temp_file(root: Path, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for directory in (root, root / "dir", root / "dir" / "sub"):
            try:
                if any(name.startswith(TEMP_PREFIX) for name in os.listdir(directory)):
                    return
            except FileNotFoundError:
                pass


@needs_sigkill
async def test_local_store_writer_killed_mid_write_leaves_old_or_new_values(tmp_path: Path) -> None:
    root = tmp_path / "store"
    rng = random.Random(6)
    leftovers = 0
    for _ in range(4):
        child = _spawn(LOCAL_WRITER, str(root), str(VALUE_SIZE))
        time.sleep(rng.uniform(0.0, 0.05))
        _wait_for_a_temp_file(root)  # a write is under way: kill it there
        _kill(child)
        store = LocalStore(root)
        for key in ("a", "dir/b", "dir/sub/c"):
            value = await store.get(key)
            assert value is not None, f"{key} vanished"
            assert len(value) == VALUE_SIZE, f"{key}: a partial value of {len(value)} bytes"
            assert value == value[:1] * VALUE_SIZE, f"{key}: a value mixing two writes"
        listed = await store.list()
        assert sorted(listed) == ["a", "dir/b", "dir/sub/c"]
        assert (await store.list_dir("dir/"))[0] == ["b"]
        leftovers += sum(name.startswith(TEMP_PREFIX) for _, _, names in os.walk(root) for name in names)
    # the kills landed mid-write (a temp file was left behind) at least once: the test exercised the case
    assert leftovers > 0


ARRAY_WRITER = """
    import sys
    import numpy as np
    import zarrio
    root = sys.argv[1]
    a = zarrio.open_array(root, path="x")
    generation = 1
    while True:
        a[:] = np.full(a.shape, generation, dtype=a.dtype)
        if generation == 1:
            print("ready", flush=True)
        generation += 1
"""


@needs_sigkill
@pytest.mark.parametrize("sharded", [False, True], ids=["chunks", "shards"])
def test_array_writer_killed_mid_write_leaves_readable_consistent_chunks(tmp_path: Path, sharded: bool) -> None:
    root = tmp_path / "store"
    options: dict[str, Any] = {"chunks": (256, 256)}
    if sharded:
        options = {"chunks": (64, 64), "shards": (256, 256)}
    zarrio.create(str(root), shape=(512, 512), dtype="float64", path="x", **options)
    child = _spawn(ARRAY_WRITER, str(root))
    time.sleep(0.15)
    _kill(child)
    a = zarrio.open_array(str(root), path="x", mode="r", strict=True)  # every chunk must exist
    data = a[:]
    for i in range(0, 512, 256):
        for j in range(0, 512, 256):
            block = data[i : i + 256, j : j + 256]
            assert np.all(block == block[0, 0]) and block[0, 0] >= 1, f"chunk ({i}, {j}) is torn"
    assert not [k for k in zarrio.open_group(str(root), mode="r").store.list() if TEMP_PREFIX in k]


ZIP_WRITER = """
    import sys
    from zarrio.stores import ZipStore
    path, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    store = ZipStore(path, mode="w")
    import asyncio
    for i in range(count):
        asyncio.run(store.set(f"k{i}", bytes([i % 251 + 1]) * size))
    print("ready", flush=True)
    store.close()
    print("closed", flush=True)
"""


@needs_sigkill
def test_zip_writer_killed_while_writing_leaves_the_old_archive(tmp_path: Path) -> None:
    path = tmp_path / "out.zip"
    with ZipStore(path, mode="w") as old:
        zarrio.run(old.set("old", b"previous archive"))
    rng = random.Random(7)
    for _ in range(3):
        child = _spawn(ZIP_WRITER, str(path), "64", str(2**20))
        time.sleep(rng.uniform(0.0, 0.05))
        _kill(child)
        with zipfile.ZipFile(path) as archive:
            assert archive.testzip() is None
            names = archive.namelist()
        assert names == ["old"] or sorted(names) == sorted(f"k{i}" for i in range(64)), names[:5]
        if names != ["old"]:  # the writer finished first: put the old archive back for the next round
            path.unlink()
            with ZipStore(path, mode="w") as old:
                zarrio.run(old.set("old", b"previous archive"))
    assert [p.name for p in tmp_path.iterdir() if ".zarrio-tmp-" not in p.name] == ["out.zip"]


@pytest.mark.parametrize("existing", [False, True], ids=["new", "replacing"])
def test_zip_write_that_fails_midway_leaves_the_old_archive_or_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, existing: bool
) -> None:
    path = tmp_path / "out.zip"
    if existing:
        with ZipStore(path, mode="w") as old:
            zarrio.run(old.set("old", b"previous archive"))
    before = path.read_bytes() if existing else None
    store = ZipStore(path, mode="w")
    for i in range(3):
        zarrio.run(store.set(f"k{i}", bytes(1000)))
    real = zipfile.ZipFile.writestr
    written: list[object] = []

    def failing_writestr(self: zipfile.ZipFile, info: Any, data: Any, *args: Any, **kwargs: Any) -> None:
        if written:
            raise OSError(28, "No space left on device")
        written.append(info)
        real(self, info, data, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing_writestr)
    with pytest.raises(TransportError):
        store.close()
    monkeypatch.undo()
    assert written, "the failure was not midway"
    if existing:
        assert path.read_bytes() == before
    else:
        assert not path.exists()
    assert [p.name for p in tmp_path.iterdir()] == (["out.zip"] if existing else [])


# ------------------------------------------------------------------ failed read-modify-write
@register_codec("test.reliability.fail_on_encode")
class FailOnEncode(BytesBytesCodec):
    """Passes bytes through; encoding fails while ``failing`` is set."""

    failing: ClassVar[bool] = False

    @classmethod
    def from_config(cls, configuration: Mapping[str, JSON]) -> FailOnEncode:
        return cls()

    def to_json(self) -> dict[str, JSON]:
        return {"name": self.name}

    def encode(self, data: Buffer) -> bytes:
        if FailOnEncode.failing:
            raise RuntimeError("injected encode failure")
        return bytes(data)

    def decode(self, data: Buffer) -> Buffer:
        return data


@pytest.fixture
def failing_codec() -> Any:
    FailOnEncode.failing = False
    yield FailOnEncode
    FailOnEncode.failing = False


def _stored(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "zarr.json"
    }


@pytest.mark.parametrize("sharded", [False, True], ids=["chunks", "shards"])
def test_failed_encode_in_read_modify_write_keeps_old_chunks(tmp_path: Path, sharded: bool, failing_codec: Any) -> None:
    root = tmp_path / "store"
    codecs: list[Any] = [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": failing_codec.name}]
    if sharded:
        codecs = [{"name": "sharding_indexed", "configuration": {"chunk_shape": [4], "codecs": codecs}}]
    a = zarrio.create(str(root), shape=(16,), dtype="int32", chunks=(8,), codecs=codecs, path="x")
    a[:] = np.arange(16, dtype="int32")
    before = _stored(root)
    failing_codec.failing = True
    with pytest.raises(CodecError):
        a[2:5] = -1
    with pytest.raises(CodecError):
        a[:] = -1
    assert _stored(root) == before
    failing_codec.failing = False
    np.testing.assert_array_equal(a[:], np.arange(16, dtype="int32"))


@pytest.mark.parametrize("sharded", [False, True], ids=["chunks", "shards"])
def test_partial_write_over_a_corrupt_chunk_fails_and_leaves_it(tmp_path: Path, sharded: bool) -> None:
    """The old chunk cannot be decoded: the write raises instead of replacing it with fill + new values."""
    root = tmp_path / "store"
    options: dict[str, Any] = {"chunks": (8,), "codecs": [{"name": "crc32c"}]}
    if sharded:
        options = {"chunks": (4,), "shards": (8,), "codecs": [{"name": "crc32c"}]}
    a = zarrio.create(str(root), shape=(16,), dtype="int32", path="x", **options)
    a[:] = np.arange(16, dtype="int32")
    chunk = root / "x" / "c" / "0"
    corrupt = bytearray(chunk.read_bytes())
    corrupt[1] ^= 0x10
    chunk.write_bytes(bytes(corrupt))
    with pytest.raises(CodecError) as info:
        a[1:3] = 99
    assert info.value.key == "x/c/0"
    assert chunk.read_bytes() == bytes(corrupt)
    np.testing.assert_array_equal(a[8:], np.arange(8, 16, dtype="int32"))


def test_failed_store_write_keeps_old_chunk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "store"
    a = zarrio.create(str(root), shape=(16,), dtype="int32", chunks=(8,), path="x")
    a[:] = np.arange(16, dtype="int32")
    before = _stored(root)
    import zarrio.stores.local as local_module

    def disk_full(fd: int, data: bytes | memoryview) -> None:
        os.write(fd, bytes(data)[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(local_module, "write_fully", disk_full)
    with pytest.raises(TransportError) as info:
        a[3:12] = -5
    assert info.value.key is not None and info.value.key.startswith("x/c/")
    monkeypatch.undo()
    assert _stored(root) == before
    np.testing.assert_array_equal(a[:], np.arange(16, dtype="int32"))
    assert not any(TEMP_PREFIX in p.name for p in root.rglob("*"))


def test_local_store_fsync_setting_calls_fsync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = os.fsync

    def counting(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", counting)
    zarrio.run(LocalStore(tmp_path / "plain").set("a/b", b"v"))
    assert calls == []
    zarrio.run(LocalStore(tmp_path / "durable", fsync=True).set("a/b", b"v"))
    assert len(calls) == 2  # the file, then its directory (so the rename itself is durable)


def test_a_durable_write_of_many_chunks_syncs_each_directory_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An array write is a write batch: every chunk file is synced before its rename, and each
    directory the renames went into once, before the write returns (a single write, outside a
    batch, still syncs its directory itself)."""
    synced: list[str] = []
    real = os.fsync

    def recording(fd: int) -> None:
        synced.append("dir" if os.path.isdir(f"/proc/self/fd/{fd}") else "file")
        real(fd)

    store = LocalStore(tmp_path / "durable", fsync=True)
    a = zarrio.create(store, (40, 30), "int32", chunks=(4, 5), fill_value=-1, write_empty_chunks=True)
    monkeypatch.setattr(os, "fsync", recording)
    a[...] = np.arange(1200, dtype="int32").reshape(40, 30)
    assert synced.count("file") == 60  # 10 x 6 chunks
    # 10 directories (c/<row>), each synced once per write batch that renamed into it, not per chunk
    assert 10 <= synced.count("dir") < 60
    np.testing.assert_array_equal(a[...], np.arange(1200, dtype="int32").reshape(40, 30))
    synced.clear()
    with store.write_batch_sync():
        store.set_sync("x/a", b"1")
        store.set_sync("x/b", b"2")
        assert synced == ["file", "file"]  # no directory synced inside the batch
    assert synced == ["file", "file", "dir"]  # once, at its exit
    synced.clear()
    store.set_sync("x/c", b"3")
    assert synced == ["file", "dir"]


class RecordingStore(ForwardingStore):
    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.calls: list[tuple[str, str | None]] = []

    async def before(self, method: str, key: str | None) -> None:
        if method.startswith("erase"):
            self.calls.append((method, key))


def test_delete_node_erases_the_metadata_before_the_chunks(tmp_path: Path) -> None:
    store = RecordingStore(LocalStore(tmp_path / "store"))
    zarrio.create_group(store)
    zarrio.create(store, shape=(8,), dtype="int32", chunks=(2,), path="g/a")[:] = np.arange(8)
    store.calls.clear()
    zarrio.delete_node(store, "g/a")
    assert store.calls[0] == ("erase", "g/a/zarr.json"), store.calls
