"""ZipStore: archive layout, modes, errors, ZIP64 and byte-level interop with zarr-python.

The interop tests run zarr-python through the shared `run_ref` fixture (tests/conftest.py):
the interpreter is $ZARRIO_REF_PYTHON or .venv-ref/bin/python; when it is missing they are
skipped locally (and fail under CI=true).
"""

from __future__ import annotations

import gc
import json
import os
import struct
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from zarrio.errors import ReadOnlyError, StoreClosedError, StoreError, TransportError
from zarrio.stores import ZipStore


def _write_zip(path: Path, entries: list[tuple[str, bytes]], compression: int = zipfile.ZIP_STORED) -> None:
    """An archive written by Python's zipfile, duplicates allowed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns about duplicate names
        with zipfile.ZipFile(path, "w", compression=compression) as archive:
            for name, data in entries:
                archive.writestr(name, data)


def _temp_files(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if "zarrio-tmp" in p.name]


# ---------------------------------------------------------------- layout and round trip
async def test_write_close_reopen(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    store = ZipStore(path, mode="w")
    await store.set("zarr.json", b'{"zarr_format": 3, "node_type": "group"}')
    await store.set("data/c/0", b"\x00\x01\x02")
    await store.set("data/c/0", b"last value wins")
    await store.set("data/zarr.json", b"{}")
    assert not path.exists()  # nothing on disk before close
    store.close()
    assert path.exists()
    assert _temp_files(tmp_path) == []

    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == ["zarr.json", "data/c/0", "data/zarr.json"]
        assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)
        assert not any(i.is_dir() for i in infos)
        assert archive.read("data/c/0") == b"last value wins"
        assert archive.testzip() is None

    reader = ZipStore(path)
    assert reader.read_only
    assert await reader.get("data/c/0") == b"last value wins"
    assert sorted(await reader.list()) == ["data/c/0", "data/zarr.json", "zarr.json"]
    assert await reader.list_dir("") == (["zarr.json"], ["data"])
    assert await reader.list_dir("data/") == (["zarr.json"], ["c"])
    reader.close()


async def test_empty_archive(tmp_path: Path) -> None:
    path = tmp_path / "empty.zip"
    ZipStore(path, mode="w").close()
    with zipfile.ZipFile(path) as archive:
        assert archive.infolist() == []
    reader = ZipStore(path)
    assert await reader.list() == []
    assert await reader.get("zarr.json") is None
    reader.close()


async def test_duplicate_entries_last_wins(tmp_path: Path) -> None:
    path = tmp_path / "dup.zip"
    _write_zip(path, [("k", b"first"), ("other", b"o"), ("k", b"second, longer"), ("dir/", b""), ("k2", b"x")])
    store = ZipStore(path)
    assert await store.get("k") == b"second, longer"
    assert await store.get_partial("k", 8, 100) == b"longer"
    assert await store.get_suffix("k", 6) == b"longer"
    assert sorted(await store.list()) == ["k", "k2", "other"]  # one "k", no directory entry
    store.close()


async def test_partial_reads_read_only_the_needed_bytes(tmp_path: Path) -> None:
    path = tmp_path / "big.zip"
    value = os.urandom(2_000_000)
    _write_zip(path, [("small", b"s"), ("big", value)])
    store = ZipStore(path)
    reads: list[tuple[int, int]] = []
    original = store._pread

    def recording_pread(offset: int, length: int) -> bytes:
        reads.append((offset, length))
        return original(offset, length)

    store._pread = recording_pread  # type: ignore[method-assign]
    assert await store.get_partial("big", 1_000_000, 100) == value[1_000_000:1_000_100]
    assert await store.get_suffix("big", 10) == value[-10:]
    assert await store.get_ranges("big", [(5, 5), (1_999_990, 50)]) == [value[5:10], value[1_999_990:]]
    assert await store.get_partial("big", 3_000_000, 10) == b""
    assert max(length for _, length in reads) <= 100
    # the local header is read once, then every read goes straight to the data
    header_reads = [r for r in reads if r[1] == 30]
    assert len(header_reads) == 1
    store.close()


async def test_short_os_reads_are_completed(tmp_path: Path) -> None:
    path = tmp_path / "short.zip"
    value = os.urandom(1000)
    _write_zip(path, [("k", value)])
    store = ZipStore(path)
    original = store._pread_once
    store._pread_once = lambda offset, length: original(offset, min(length, 7))  # type: ignore[method-assign]
    assert await store.get("k") == value
    assert await store.get_partial("k", 990, 100) == value[990:]
    store.close()


async def test_deflated_entries_written_by_others_are_readable(tmp_path: Path) -> None:
    path = tmp_path / "deflated.zip"
    value = bytes(range(256)) * 100
    _write_zip(path, [("k", value)], compression=zipfile.ZIP_DEFLATED)
    store = ZipStore(path)
    assert await store.get("k") == value
    assert await store.get_partial("k", 300, 20) == value[300:320]
    assert await store.get_suffix("k", 7) == value[-7:]
    store.close()


async def test_corrupt_entry_fails_its_crc_check(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.zip"
    _write_zip(path, [("k", b"0123456789")])
    raw = bytearray(path.read_bytes())
    start = raw.index(b"0123456789")
    raw[start] = ord("X")
    path.write_bytes(bytes(raw))
    store = ZipStore(path)
    with pytest.raises(StoreError, match="CRC") as info:
        await store.get("k")
    assert info.value.key == "k"
    assert info.value.location == str(path)
    store.close()


# ---------------------------------------------------------------- errors naming the file
async def test_not_a_zip_file(tmp_path: Path) -> None:
    path = tmp_path / "not.zip"
    path.write_bytes(b"this is not a zip archive at all" * 10)
    with pytest.raises(StoreError, match="not a valid zip archive") as info:
        ZipStore(path)
    assert info.value.location == str(path)
    assert str(path) in str(info.value)


async def test_truncated_zip_file(tmp_path: Path) -> None:
    path = tmp_path / "cut.zip"
    _write_zip(path, [(f"k{i}", os.urandom(100)) for i in range(20)])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(StoreError) as info:
        ZipStore(path)
    assert info.value.location == str(path)
    assert not isinstance(info.value, TransportError)


async def test_missing_zip_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.zip"
    with pytest.raises(TransportError) as info:
        ZipStore(path)
    assert info.value.location == str(path)
    assert isinstance(info.value.__cause__, FileNotFoundError)


def test_write_into_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(TransportError) as info:
        ZipStore(tmp_path / "no" / "such" / "dir.zip", mode="w")
    assert "dir.zip" in str(info.value)


def test_unknown_mode(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="mode"):
        ZipStore(tmp_path / "x.zip", mode="x")  # type: ignore[arg-type]


# ---------------------------------------------------------------- modes, closing
def test_unclosed_reader_releases_its_file_descriptor(tmp_path: Path) -> None:
    path = tmp_path / "leak.zip"
    _write_zip(path, [("k", b"v")])
    store = ZipStore(path)
    fd = store._fd
    os.fstat(fd)  # open while the store lives
    del store
    gc.collect()
    with pytest.raises(OSError):
        os.fstat(fd)


async def test_read_mode_is_read_only(tmp_path: Path) -> None:
    path = tmp_path / "r.zip"
    _write_zip(path, [("k", b"v")])
    store = ZipStore(path, mode="r")
    with pytest.raises(ReadOnlyError):
        await store.set("k", b"new")
    with pytest.raises(ReadOnlyError):
        await store.erase("k")
    with pytest.raises(ReadOnlyError):
        await store.erase_prefix("")
    assert await store.get("k") == b"v"
    store.close()


async def test_closed_store_raises(tmp_path: Path) -> None:
    path = tmp_path / "c.zip"
    _write_zip(path, [("k", b"v")])
    for store in (ZipStore(path), ZipStore(tmp_path / "w.zip", mode="w")):
        store.close()
        store.close()  # idempotent
        assert store.closed
        with pytest.raises(StoreClosedError) as info:
            await store.get("k")
        assert info.value.location == str(store.path)
        with pytest.raises(StoreClosedError):
            await store.get_partial("k", 0, 1)
        with pytest.raises(StoreClosedError):
            await store.exists("k")
        with pytest.raises(StoreClosedError):
            await store.list()
        with pytest.raises(StoreClosedError):
            await store.list_dir("")
    writer = ZipStore(tmp_path / "w2.zip", mode="w")
    await writer.aclose()
    with pytest.raises(StoreClosedError):
        await writer.set("k", b"v")


async def test_append_mode(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    _write_zip(path, [("keep", b"1"), ("change", b"old"), ("change", b"older duplicate"), ("drop", b"x")])
    store = ZipStore(path, mode="a")
    assert not store.read_only
    assert await store.get("change") == b"older duplicate"
    await store.set("change", b"new")
    await store.set("added/k", b"2")
    await store.erase("drop")
    await store.aclose()
    with zipfile.ZipFile(path) as archive:
        names = [i.filename for i in archive.infolist()]
        assert sorted(names) == ["added/k", "change", "keep"]  # each name once
        assert archive.read("change") == b"new"
        assert archive.read("keep") == b"1"
    assert _temp_files(tmp_path) == []


async def test_append_mode_creates_a_missing_archive(tmp_path: Path) -> None:
    path = tmp_path / "new.zip"
    store = ZipStore(path, mode="a")
    await store.set("k", b"v")
    store.close()
    with zipfile.ZipFile(path) as archive:
        assert archive.read("k") == b"v"


async def test_write_mode_replaces_an_existing_archive(tmp_path: Path) -> None:
    path = tmp_path / "w.zip"
    _write_zip(path, [("old", b"1")])
    store = ZipStore(path, mode="w")
    assert await store.get("old") is None
    await store.set("new", b"2")
    store.close()
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == ["new"]


async def test_sync_context_manager(tmp_path: Path) -> None:
    path = tmp_path / "ctx.zip"
    with ZipStore(path, mode="w") as store:
        await store.set("k", b"v")
    assert store.closed
    with ZipStore(path) as reader:
        assert await reader.get("k") == b"v"
    assert reader.closed


async def test_async_context_manager(tmp_path: Path) -> None:
    path = tmp_path / "actx.zip"
    async with ZipStore(path, mode="w") as store:
        await store.set("k", b"v")
    assert store.closed
    async with ZipStore(path) as reader:
        assert await reader.get("k") == b"v"
    assert reader.closed


async def test_close_can_be_awaited(tmp_path: Path) -> None:
    path = tmp_path / "awaited.zip"
    store = ZipStore(path, mode="w")
    await store.set("k", b"v")
    await store.close()  # generic Store code awaits close(); the archive is written either way
    with zipfile.ZipFile(path) as archive:
        assert archive.read("k") == b"v"


async def test_failed_archive_write_keeps_the_old_archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "keep.zip"
    _write_zip(path, [("k", b"old")])
    before = path.read_bytes()
    store = ZipStore(path, mode="a")
    await store.set("k", b"new")
    await store.set("k2", b"more")
    calls = 0
    original = zipfile.ZipFile.writestr

    def failing_writestr(self: zipfile.ZipFile, *args: object, **kwargs: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError(28, "No space left on device")
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing_writestr)
    with pytest.raises(TransportError) as info:
        store.close()
    assert info.value.location == str(path)
    assert path.read_bytes() == before
    assert _temp_files(tmp_path) == []


# ---------------------------------------------------------------- ZIP64
@pytest.mark.timeout(60)  # 66,535 entries written and read back: 3 s alone, 14 s on a loaded machine
async def test_zip64_archive_with_many_entries(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    count = 65_535 + 1_000
    store = ZipStore(path, mode="w")
    for i in range(count):
        await store.set(f"c/{i}", i.to_bytes(3, "little"))
    await store.aclose()
    raw = path.read_bytes()
    assert b"PK\x06\x06" in raw[-200:]  # the ZIP64 end-of-central-directory record
    with zipfile.ZipFile(path) as archive:
        assert len(archive.infolist()) == count
        assert archive.read("c/66000") == (66000).to_bytes(3, "little")
    reader = ZipStore(path)
    keys, prefixes = await reader.list_dir("c/")
    assert len(keys) == count and prefixes == []
    for i in (0, 65_535, 65_536, count - 1):
        assert await reader.get(f"c/{i}") == i.to_bytes(3, "little")
    reader.close()


# ---------------------------------------------------------------- interop with zarr-python
@pytest.mark.interop
async def test_reads_an_archive_written_by_zarr_python(tmp_path: Path, run_ref: Callable[..., str]) -> None:
    path = tmp_path / "ref.zip"
    run_ref(
        """
        import sys, numpy as np, zarr
        from zarr.storage import ZipStore
        store = ZipStore(sys.argv[1], mode="w")
        root = zarr.create_group(store, attributes={"kind": "archive"})
        a = root.create_array("data", shape=(6, 4), chunks=(3, 2), dtype="int32", fill_value=0, compressors=None)
        a[:] = np.arange(24, dtype="int32").reshape(6, 4)
        a[0, 0] = 99  # rewrites chunk c/0/0: a duplicate entry in the archive
        store.close()
        """,
        str(path),
    )
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        expected = {name: archive.read(name) for name in names}  # zipfile: last duplicate wins
    assert names.count("data/c/0/0") == 2
    store = ZipStore(path)
    assert sorted(await store.list()) == sorted(set(names))
    for name, value in expected.items():
        assert await store.get(name) == value, name
    chunk = await store.get("data/c/0/0")
    assert chunk is not None and struct.unpack("<6i", chunk)[0] == 99
    assert json.loads(await store.get("zarr.json") or b"")["attributes"] == {"kind": "archive"}
    assert await store.list_dir("data/") == (["zarr.json"], ["c"])
    store.close()


@pytest.mark.interop
async def test_zarr_python_reads_an_archive_written_by_zipstore(tmp_path: Path, run_ref: Callable[..., str]) -> None:
    path = tmp_path / "ours.zip"
    array_meta = {
        "zarr_format": 3,
        "node_type": "array",
        "shape": [6],
        "data_type": "int32",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [4]}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": -1,
        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
        "attributes": {"units": "m"},
    }
    entries = {
        "zarr.json": json.dumps({"zarr_format": 3, "node_type": "group", "attributes": {}}).encode(),
        "data/zarr.json": json.dumps(array_meta).encode(),
        "data/c/0": struct.pack("<4i", 10, 11, 12, 13),
        "data/c/1": struct.pack("<4i", 14, 15, 99, 99),
    }
    async with ZipStore(path, mode="w") as store:
        for key, value in entries.items():
            await store.set(key, value)
    out = run_ref(
        """
        import sys, json, asyncio, zarr
        from zarr.storage import ZipStore
        from zarr.core.buffer import default_buffer_prototype
        store = ZipStore(sys.argv[1], mode="r")
        async def raw():
            found = {}
            async for key in store.list():
                buf = await store.get(key, prototype=default_buffer_prototype())
                found[key] = buf.to_bytes().hex()
            return found
        a = zarr.open_array(store, path="data", mode="r")
        print(json.dumps({"values": a[:].tolist(), "attrs": dict(a.attrs), "raw": asyncio.run(raw())}))
        """,
        str(path),
    )
    result = json.loads(out)
    assert result["values"] == [10, 11, 12, 13, 14, 15]
    assert result["attrs"] == {"units": "m"}
    assert {key: bytes.fromhex(value) for key, value in result["raw"].items()} == entries
