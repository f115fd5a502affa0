"""Plain file operations behind :class:`~zarrio.stores.local.LocalStore`: what counts as a
missing value, reading a range clipped to the file, writing every byte, and an open file
as a range reader that keeps the version it opened."""

from __future__ import annotations

import errno
import os
import stat
from typing import Any

from ..errors import ResourceLimitError, TransportError

__all__ = ["FileReader", "is_missing", "read_bounded", "read_range", "too_large", "write_fully"]


# errors that mean "this key holds no value" when reading
_MISSING_ERRNOS = {errno.ENOENT, errno.ENOTDIR, errno.EISDIR}


def is_missing(error: OSError) -> bool:
    return isinstance(error, FileNotFoundError | NotADirectoryError | IsADirectoryError) or (
        error.errno in _MISSING_ERRNOS
    )


def write_fully(fd: int, data: bytes | memoryview) -> None:
    """Write every byte of ``data`` to ``fd`` (``os.write`` may write fewer)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_range(file: Any, size: int, offset: int, length: int) -> bytes:
    """``length`` bytes from ``offset``, clipped to the file's ``size`` (never over-allocates)."""
    offset = max(0, offset)
    length = min(length, size - offset)
    if length <= 0:
        return b""
    file.seek(offset)
    data: bytes = file.read(length)
    return data


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0)


def read_bounded(path: str, limit: int, hint: int) -> bytes | None:
    """The whole file at ``path`` (``None`` when missing), refused when larger than ``limit``.

    A file of at most ``hint`` bytes costs three system calls, each of which lets the GIL go:
    open, one read of ``hint + 1`` bytes, close. A read of a regular file returns fewer bytes
    than asked only at its end, so a short read is the whole file and its size need not be
    asked; a longer file is sized with ``fstat`` and read whole. Keep ``hint`` small (at most
    64 KiB): a read allocates what it asks for before it shrinks it to what it got. The file
    is read from the one version that was opened (a writer renames new versions onto the key)."""
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError as e:
        if is_missing(e):
            return None
        raise
    try:
        first = max(0, min(hint, limit)) + 1
        data = os.read(fd, first)  # a directory fails here with EISDIR: no value
        if len(data) < first:
            return data
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None  # a device or pipe at a key is no value (as FileReader)
        if info.st_size > limit:
            raise ResourceLimitError(f"a stored object of {info.st_size} bytes exceeds the limit of {limit} bytes")
        # the whole file in one read from its start (the first bytes again, from the page
        # cache: cheaper than joining pieces); pread may return fewer bytes
        data = os.pread(fd, info.st_size, 0)
        while len(data) < info.st_size:
            more = os.pread(fd, info.st_size - len(data), len(data))
            if not more:
                break
            data += more
        return data
    except OSError as e:
        if is_missing(e):
            return None
        raise
    finally:
        os.close(fd)


def too_large(key: str | None, path: str) -> ResourceLimitError:
    return ResourceLimitError(f"not enough memory to read the file {path!r} (key {key!r})")


class FileReader:
    """An open file: every read sees the version that was opened, even if a
    writer renames a new version onto the key meanwhile."""

    def __init__(self, fd: int, key: str, path: str) -> None:
        self._fd = fd
        self._key = key
        self._path = path
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, "not a regular file", path)
        self.size = info.st_size

    def read(self, offset: int, length: int) -> bytes:
        offset = max(0, offset)
        length = min(length, self.size - offset)
        if length <= 0:
            return b""
        try:
            data = os.pread(self._fd, length, offset)
            while len(data) < length:  # pread may return fewer bytes
                more = os.pread(self._fd, length - len(data), offset + len(data))
                if not more:
                    break
                data += more
        except OSError as e:
            raise TransportError(f"file system error: {e.strerror or e}", key=self._key, location=self._path) from e
        except MemoryError as e:
            raise too_large(self._key, self._path) from e
        return data

    def close(self) -> None:
        os.close(self._fd)
