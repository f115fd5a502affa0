"""Appending to a file so that a reader sees the old file or the new one, never a mix.

Behind :meth:`LocalStore.append <zarrio.stores.local.LocalStore.append_sync>`.

Why not append in place (``O_APPEND``, then the new shard index at the new end,
as zarrs' filesystem store writes partial values): a reader of a shard reads its
size, then the index at its end. While a ``write`` extends a file, the kernel
makes the new size visible page by page (Linux updates ``i_size`` after each
page it copies), so a reader can find a size at which the last bytes are half of
an inner chunk, not an index: garbage offsets, or with a checksummed index a
``ChecksumError``, in zarrio, zarr-python and tensorstore alike. No order of
writes avoids it (an ``ftruncate`` to the final size first exposes a hole of
zeros as the index). So the append is **copy-on-write**: the old bytes are
cloned into a temporary file next to the key, the new bytes written after them,
and the temporary file renamed onto the key, like every LocalStore write. A
reader that opened the old file keeps reading it; a later reader opens the new.

The clone is a reflink (``FICLONE``: no data copied, only extents shared) where
the file system has them (XFS, btrfs, bcachefs, OCFS2), else
``os.copy_file_range`` (an in-kernel copy: no bytes pass through Python, and
NFS 4.2 / CIFS copy on the server), else a plain copy. What the library reads
and hands to the store is the same in each case (the shard index, the new inner
chunks); what the disk writes is the new bytes with reflinks, the whole file
without. :data:`CLONES` counts which way each append went.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections import Counter

from ._files import is_missing, write_fully

__all__ = ["CLONES", "append_file"]

#: how each append copied the old bytes: "reflink", "copy_file_range" or "copy"
CLONES: Counter[str] = Counter()

_FICLONE = 0x40049409  # _IOW(0x94, 9, int), Linux
_COPY_BLOCK = 1 << 20


def _clone(src: int, dst: int, size: int) -> str:
    """Make ``dst`` (empty) hold the first ``size`` bytes of ``src`` (``size`` is its size)."""
    try:
        import fcntl

        fcntl.ioctl(dst, _FICLONE, src)
        return "reflink"
    except (ImportError, OSError):
        pass
    copied = 0
    if hasattr(os, "copy_file_range"):
        try:
            while copied < size:
                n = os.copy_file_range(src, dst, size - copied, copied, copied)
                if n == 0:
                    break
                copied += n
            if copied == size:
                return "copy_file_range"
        except OSError:
            pass  # not across these file systems: copy what is left by hand
    while copied < size:
        block = os.pread(src, min(_COPY_BLOCK, size - copied), copied)
        if not block:
            raise OSError(f"the file shrank while it was copied ({copied} of {size} bytes)")
        os.lseek(dst, copied, os.SEEK_SET)
        write_fully(dst, block)
        copied += len(block)
    return "copy"


def _fsync_directory(directory: str) -> None:
    with contextlib.suppress(OSError):  # not every platform opens directories (Windows)
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def append_file(path: str, temp_prefix: str, data: bytes, expected_size: int, *, fsync: bool) -> bool:
    """Replace the file ``path`` by itself followed by ``data``, atomically (copy-on-write, then
    ``os.replace``), if it is ``expected_size`` bytes now; False when it is missing or of another
    size, or was replaced while it was copied."""
    try:
        src = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except OSError as e:
        if is_missing(e):
            return False
        raise
    try:
        info = os.fstat(src)
        if not stat.S_ISREG(info.st_mode) or info.st_size != expected_size:
            return False
        directory = os.path.dirname(path)
        temp = os.path.join(directory, temp_prefix + secrets.token_hex(8))
        dst = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        try:
            try:
                how = _clone(src, dst, expected_size)
                os.lseek(dst, expected_size, os.SEEK_SET)
                write_fully(dst, data)
                if fsync:
                    os.fsync(dst)
            finally:
                os.close(dst)
            try:  # the key must still name the file that was copied (another writer may have replaced it)
                now = os.stat(path)
            except OSError as e:
                if not is_missing(e):
                    raise
                now = None
            if now is None or (now.st_ino, now.st_dev, now.st_size) != (info.st_ino, info.st_dev, expected_size):
                os.remove(temp)
                return False
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.remove(temp)
            raise
    finally:
        os.close(src)
    CLONES[how] += 1
    if fsync:
        _fsync_directory(directory)
    return True
