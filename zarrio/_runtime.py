"""Process-wide execution resources the engine shares: the codec thread pool,
per-store request limiters, and running many tasks with one typed error out.

Everything here is fork-safe: a child process starts with a fresh pool and
fresh limiters (the parent's threads and loops do not exist in the child).
"""

from __future__ import annotations

import asyncio
import math
import mmap
import os
import threading
import weakref
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

from .errors import ZarrioError

__all__ = ["codec_pool", "empty_output", "gather_typed", "run_in_pool", "store_limiter"]

T = TypeVar("T")

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_limiters: weakref.WeakKeyDictionary[Any, weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)


def codec_workers() -> int:
    """Threads for codec work: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def codec_pool() -> ThreadPoolExecutor:
    """The shared thread pool for codec work (zstd, blosc, zlib and numpy release the GIL)."""
    global _pool
    if _pool is None:
        with _lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(max_workers=codec_workers(), thread_name_prefix="zarrio-codec")
    return _pool


async def run_in_pool(fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` on the codec pool and await its result."""
    return await asyncio.get_running_loop().run_in_executor(codec_pool(), fn, *args)


def store_limiter(store: Any) -> asyncio.Semaphore:
    """The request limiter of ``store`` on the running loop.

    One per store and event loop, shared by every caller on that loop, so many
    threads using the sync facade (which share its one loop) cannot multiply it.
    """
    loop = asyncio.get_running_loop()
    with _lock:
        per_loop = _limiters.get(store)
        if per_loop is None:
            per_loop = weakref.WeakKeyDictionary()
            _limiters[store] = per_loop
        sem = per_loop.get(loop)
        if sem is None:
            sem = asyncio.Semaphore(max(1, int(getattr(store, "max_concurrency", 64))))
            per_loop[loop] = sem
    return sem


#: outputs at least this large are backed by huge pages where the OS offers them
HUGE_OUTPUT_BYTES = 8 * 2**20


def empty_output(shape: tuple[int, ...], dtype: np.dtype[Any]) -> np.ndarray[Any, Any]:
    """An uninitialised array for a read's result.

    Large results are scattered into chunk by chunk, in a strided order; with
    4 KiB pages the first touch of every page costs more than the copy itself.
    Where the kernel offers transparent huge pages on request (Linux
    ``madvise`` mode), large outputs are mapped with ``MADV_HUGEPAGE``.
    """
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < HUGE_OUTPUT_BYTES or dtype.hasobject or not hasattr(mmap, "MADV_HUGEPAGE"):
        return np.empty(shape, dtype=dtype)
    buffer = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    try:
        buffer.madvise(mmap.MADV_HUGEPAGE)
    except OSError:  # pragma: no cover - kernels without THP
        pass
    return np.frombuffer(buffer, dtype=dtype, count=math.prod(shape)).reshape(shape)


def _pick_error(errors: list[BaseException]) -> BaseException:
    """The most useful of several errors: a zarrio error first, then any other."""
    flat: list[BaseException] = []
    stack = list(errors)
    while stack:
        e = stack.pop(0)
        if isinstance(e, BaseExceptionGroup):
            stack[:0] = list(e.exceptions)
        elif not isinstance(e, asyncio.CancelledError):
            flat.append(e)
    if not flat:
        return errors[0]
    first = next((e for e in flat if isinstance(e, ZarrioError)), flat[0])
    if isinstance(first, ZarrioError):
        first.others = tuple(e for e in flat if e is not first)
    return first


async def gather_typed(aws: Iterable[Awaitable[T]]) -> list[T]:
    """Run awaitables concurrently; on the first failure cancel the rest and
    raise one error (a zarrio error when there is one), never an ExceptionGroup."""
    try:
        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(_as_coro(a)) for a in aws]
    except BaseExceptionGroup as group:
        raise _pick_error(list(group.exceptions)) from None
    return [t.result() for t in tasks]


async def _as_coro(aw: Awaitable[T]) -> T:
    return await aw


def _reset_after_fork() -> None:
    global _pool, _lock
    _pool = None
    _lock = threading.Lock()
    _limiters.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
