"""A store in one zip archive, compatible with zarr-python's ``ZipStore``.

Layout (what zarr-python writes and reads): one entry per key, the key as the
entry name, stored uncompressed (``ZIP_STORED``), no directory entries, ZIP64
extensions when the archive needs them (more than 65,535 entries or 4 GiB).

Modes:

* ``"r"`` (default): read-only. The central directory is read when the store
  is constructed; a file that is not a zip archive (or is truncated) raises
  :class:`~zarrio.errors.StoreError` naming the file. Reads of stored entries
  go straight to the file (``os.pread`` in a worker thread), so
  ``get_partial``/``get_suffix``/``get_ranges`` read only the bytes asked for.
  When an archive holds several entries with the same name (zarr-python
  appends a new entry on every overwrite) the last one wins. Entries whose
  names are not valid keys (``../x``, ``/abs``, backslashes; only archives
  made by other tools hold them) are ignored: never listed nor read.
* ``"w"``: a new archive. Values accumulate in memory (a key set twice is
  written once, last value wins) and the archive is written when the store is
  closed, to a temporary file that is then renamed onto ``path``, so a
  half-written archive never appears under its final name.
* ``"a"``: loads every entry of an existing archive (if any) into memory, then
  behaves like ``"w"``.

Closing: ``close()`` is synchronous (it writes the archive in modes "w"/"a")
and returns an already-finished awaitable, so both ``store.close()`` and
``await store.close()`` work; from async code prefer ``await store.aclose()``,
which writes the archive in a worker thread. Both ``with`` and ``async with``
close the store on exit (also when the block raises: what was set is written,
like a file opened for writing). A store that is never closed in mode "w"/"a"
writes nothing. Every operation on a closed store raises
:class:`~zarrio.errors.StoreClosedError`.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import os
import secrets
import struct
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

from ..errors import InvalidKeyError, ResourceLimitError, StoreClosedError, StoreError, TransportError
from ._finished import Finished
from .base import ByteRange, Store, validate_key, validate_prefix

__all__ = ["ZipStore"]

ZipMode = Literal["r", "w", "a"]

_T = TypeVar("_T")
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_LOCAL_HEADER_SIGNATURE = b"PK\x03\x04"


def _read_error(path: Path, error: BaseException) -> StoreError:
    if isinstance(error, OSError) and not isinstance(error, zipfile.BadZipFile):
        return TransportError(f"cannot read zip archive: {error.strerror or error}", location=str(path))
    return StoreError(f"not a valid zip archive (corrupt or truncated): {error}", location=str(path))


def _is_valid_key(name: str) -> bool:
    """Whether an entry name is a clean store key (archives from other tools may hold '../x', '/abs')."""
    try:
        validate_key(name)
    except InvalidKeyError:
        return False
    return True


class ZipStore(Store):
    """A zip archive as a store; see the module docstring for the modes."""

    partial_reads = True

    def __init__(self, path: str | os.PathLike[str], mode: ZipMode = "r") -> None:
        if mode not in ("r", "w", "a"):
            raise StoreError(f"ZipStore mode must be 'r', 'w' or 'a', not {mode!r}", location=os.fspath(path))
        self.path = Path(os.path.abspath(os.fspath(path)))
        self.mode: ZipMode = mode
        self.read_only = mode == "r"
        # the archive is read once and never rewritten in place
        self.consistency = "immutable" if mode == "r" else "mutable"
        self._closed = False
        # read mode: the archive on disk
        self._fd = -1
        self._entries: dict[str, zipfile.ZipInfo] = {}
        self._data_offsets: dict[str, int] = {}
        self._lock = threading.Lock()
        # write modes: the values to write on close
        self._pending: dict[str, bytes] = {}
        if mode == "r":
            self._open_for_reading()
        else:
            if not self.path.parent.is_dir():
                raise TransportError("the directory for the zip archive does not exist", location=str(self.path))
            if mode == "a" and self.path.exists():
                self._pending = self._load_all()

    def __reduce__(self) -> tuple[Any, ...]:
        """A read-only archive pickles as its path (each process opens its own file handle);
        a writable one holds unwritten values in memory and cannot be shipped."""
        if self.mode != "r":
            raise TypeError(f"a ZipStore in mode {self.mode!r} cannot be pickled; close it and reopen it with mode='r'")
        return (ZipStore, (str(self.path), "r"))

    # ------------------------------------------------------------ reading the archive
    def _open_for_reading(self) -> None:
        # the central directory is read once; the zipfile object is not kept open
        try:
            with zipfile.ZipFile(self.path, "r") as archive:
                infos = archive.infolist()
            self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except (OSError, zipfile.BadZipFile, EOFError, ValueError, struct.error) as e:
            raise _read_error(self.path, e) from e
        for info in infos:  # in archive order, so the last duplicate wins
            if not info.is_dir() and _is_valid_key(info.filename):
                self._entries[info.filename] = info

    def _load_all(self) -> dict[str, bytes]:
        try:
            with zipfile.ZipFile(self.path, "r") as archive:
                values: dict[str, bytes] = {}
                for info in archive.infolist():
                    if not info.is_dir() and _is_valid_key(info.filename):
                        values[info.filename] = archive.read(info)
                return values
        except (OSError, zipfile.BadZipFile, EOFError, ValueError, struct.error, zlib.error) as e:
            raise _read_error(self.path, e) from e

    def _pread(self, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes at ``offset`` (fewer only at the end of the file)."""
        parts: list[bytes] = []
        while length > 0:
            part = self._pread_once(offset, length)
            if not part:
                break
            parts.append(part)
            offset += len(part)
            length -= len(part)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _pread_once(self, offset: int, length: int) -> bytes:
        # one read may return less than asked (Linux caps a read near 2 GiB)
        if hasattr(os, "pread"):
            return os.pread(self._fd, length, offset)
        with self._lock:  # pragma: no cover - platforms without pread
            os.lseek(self._fd, offset, os.SEEK_SET)
            return os.read(self._fd, length)

    def _data_offset(self, key: str, info: zipfile.ZipInfo) -> int:
        """Where the bytes of an entry start, read once from its local header."""
        offset = self._data_offsets.get(key)
        if offset is None:
            header = self._pread(info.header_offset, _LOCAL_HEADER.size)
            if len(header) != _LOCAL_HEADER.size or header[:4] != _LOCAL_HEADER_SIGNATURE:
                raise StoreError("zip entry has no valid local header", key=key, location=str(self.path))
            fields = _LOCAL_HEADER.unpack(header)
            name_length, extra_length = fields[-2], fields[-1]
            offset = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length
            self._data_offsets[key] = offset
        return offset

    def _read_entry_range(self, key: str, info: zipfile.ZipInfo, start: int, length: int) -> bytes:
        """Bytes ``[start, start + length)`` of an entry, clipped to its size (runs in a worker thread)."""
        start = max(0, start)
        length = max(0, min(length, info.file_size - start))
        if info.compress_type != zipfile.ZIP_STORED:
            # compressed (written by another tool): decompress the whole entry
            with zipfile.ZipFile(self.path, "r") as archive:
                whole = archive.read(info)
            return whole[start : start + length]
        if length == 0:
            return b""
        data = self._pread(self._data_offset(key, info) + start, length)
        if len(data) != length:
            raise StoreError("zip entry is truncated", key=key, location=str(self.path))
        return data

    def _read_entry(self, key: str, info: zipfile.ZipInfo) -> bytes:
        data = self._read_entry_range(key, info, 0, info.file_size)
        if zlib.crc32(data) != info.CRC:
            raise StoreError("zip entry fails its CRC-32 check", key=key, location=str(self.path))
        return data

    async def _in_thread(self, fn: Callable[[], _T], key: str) -> _T:
        try:
            return await asyncio.get_running_loop().run_in_executor(None, fn)
        except (OSError, zipfile.BadZipFile, zlib.error, EOFError) as e:
            raise TransportError(f"cannot read zip entry: {e}", key=key, location=str(self.path)) from e
        except MemoryError as e:
            raise ResourceLimitError(f"not enough memory to read zip entry {key!r} of {str(self.path)!r}") from e

    # ------------------------------------------------------------ guards
    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosedError(f"{self!r} is closed", location=str(self.path))

    def _check_key(self, key: str) -> None:
        validate_key(key)
        self._check_open()

    # ------------------------------------------------------------ reads
    async def get(self, key: str) -> bytes | None:
        self._check_key(key)
        if not self.read_only:
            return self._pending.get(key)
        info = self._entries.get(key)
        if info is None:
            return None
        return await self._in_thread(lambda: self._read_entry(key, info), key)

    async def get_partial(self, key: str, offset: int, length: int) -> bytes | None:
        self._check_key(key)
        if not self.read_only:
            value = self._pending.get(key)
            return None if value is None else value[offset : offset + length]
        info = self._entries.get(key)
        if info is None:
            return None
        return await self._in_thread(lambda: self._read_entry_range(key, info, offset, length), key)

    async def get_suffix(self, key: str, length: int) -> bytes | None:
        self._check_key(key)
        if not self.read_only:
            value = self._pending.get(key)
            return None if value is None else value[max(0, len(value) - length) :]
        info = self._entries.get(key)
        if info is None:
            return None
        start = max(0, info.file_size - length)
        return await self._in_thread(lambda: self._read_entry_range(key, info, start, info.file_size - start), key)

    async def get_suffix_with_size(self, key: str, length: int) -> tuple[bytes, int | None] | None:
        """``get_suffix`` and the value's size (from the archive's directory): lets shard indexes be checked."""
        data = await self.get_suffix(key, length)
        if data is None:
            return None
        if not self.read_only:
            return data, len(self._pending[key]) if key in self._pending else None
        info = self._entries.get(key)
        return data, None if info is None else info.file_size

    async def get_ranges(self, key: str, ranges: Sequence[ByteRange]) -> builtins.list[bytes] | None:
        self._check_key(key)
        wanted = builtins.list(ranges)
        if not self.read_only:
            value = self._pending.get(key)
            return None if value is None else [value[o : o + n] for o, n in wanted]
        info = self._entries.get(key)
        if info is None:
            return None
        return await self._in_thread(lambda: [self._read_entry_range(key, info, o, n) for o, n in wanted], key)

    async def exists(self, key: str) -> bool:
        self._check_key(key)
        return key in (self._entries if self.read_only else self._pending)

    def _keys(self) -> builtins.list[str]:
        return builtins.list(self._entries if self.read_only else self._pending)

    async def list(self, prefix: str = "") -> builtins.list[str]:
        validate_prefix(prefix)
        self._check_open()
        return [key for key in self._keys() if key.startswith(prefix)]

    async def list_dir(self, prefix: str = "") -> tuple[builtins.list[str], builtins.list[str]]:
        validate_prefix(prefix)
        self._check_open()
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        keys: builtins.list[str] = []
        children: dict[str, None] = {}
        for key in self._keys():
            if key.startswith(prefix):
                head, sep, _ = key[len(prefix) :].partition("/")
                if sep:
                    children[head] = None
                else:
                    keys.append(head)
        return keys, builtins.list(children)

    # ------------------------------------------------------------ writes
    async def set(self, key: str, value: bytes) -> None:
        self._check_key(key)
        self.check_writable()
        self._pending[key] = bytes(value)

    async def erase(self, key: str) -> None:
        self._check_key(key)
        self.check_writable()
        self._pending.pop(key, None)

    async def erase_prefix(self, prefix: str) -> None:
        validate_prefix(prefix)
        self._check_open()
        self.check_writable()
        for key in [k for k in self._pending if k.startswith(prefix)]:
            del self._pending[key]

    def _write_archive(self, values: dict[str, bytes]) -> None:
        temp = self.path.with_name(f".{self.path.name}.zarrio-tmp-{secrets.token_hex(8)}")
        stamp = time.localtime(time.time())[:6]
        try:
            with open(temp, "wb") as file:
                with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
                    for key, value in values.items():
                        info = zipfile.ZipInfo(key, date_time=stamp)
                        info.compress_type = zipfile.ZIP_STORED
                        info.external_attr = 0o644 << 16
                        archive.writestr(info, value)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, self.path)
        except BaseException as e:
            with contextlib.suppress(OSError):
                os.remove(temp)
            if isinstance(e, OSError):
                raise TransportError(f"cannot write zip archive: {e.strerror or e}", location=str(self.path)) from e
            raise

    # ------------------------------------------------------------ closing
    def _begin_close(self) -> Callable[[], None] | None:
        """Mark the store closed; return the blocking work still to do, if any."""
        if self._closed:
            return None
        self._closed = True
        if self.read_only:
            fd, self._fd = self._fd, -1

            def release() -> None:
                if fd >= 0:
                    os.close(fd)

            return release
        values, self._pending = self._pending, {}
        return lambda: self._write_archive(values)

    def close(self) -> Finished:
        """Close now (writing the archive in modes "w"/"a"); idempotent.

        Returns an already-finished awaitable, so ``await store.close()`` works too.
        """
        work = self._begin_close()
        if work is not None:
            work()
        return Finished()

    async def aclose(self) -> None:
        """Close, doing the file work (writing the archive) in a worker thread; idempotent."""
        work = self._begin_close()
        if work is not None:
            await asyncio.get_running_loop().run_in_executor(None, work)

    def __del__(self) -> None:
        # a read-mode store that was never closed: release its file descriptor
        fd, self._fd = getattr(self, "_fd", -1), -1
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> ZipStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> ZipStore:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"ZipStore({str(self.path)!r}, mode={self.mode!r})"
