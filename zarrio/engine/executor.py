"""The engine's executor: the codec thread pool (and the loop-wide queue that batches the
jobs of one loop iteration into a few thread hops) and uninitialised outputs for large
reads. The request limiters are the store layer's (:mod:`zarrio.stores.limits`);
:func:`store_limiter` gives a store's under ``zarrio.config``'s cap.

Everything here is fork-safe: a child process starts with a fresh pool and
fresh queues (the parent's threads and loops do not exist in the child).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import mmap
import os
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

from .._config import config
from .._tasks import pick_error
from ..stores.limits import NoLimit, request_limiter

__all__ = [
    "codec_pool",
    "codec_workers",
    "empty_output",
    "run_in_pool",
    "run_jobs_blocking",
    "store_limiter",
    "submit_to_pool",
]

T = TypeVar("T")

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_workers: int | None = None


def codec_workers() -> int:
    """Threads for codec work: ``zarrio.config``'s ``threading.max_workers`` when set, else the
    cores this process may use (``ZARRIO_CODEC_THREADS`` overrides), counted once per process."""
    global _workers
    configured = config.get("threading.max_workers")
    if configured is not None:
        return int(configured)
    if _workers is None:
        _workers = _count_workers()
    return _workers


def _count_workers() -> int:
    override = os.environ.get("ZARRIO_CODEC_THREADS", "").strip()
    if override.isdigit() and int(override) > 0:
        return int(override)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def codec_pool() -> ThreadPoolExecutor:
    """The shared thread pool for codec work (zstd, blosc, zlib and numpy release the GIL)."""
    global _pool
    workers = codec_workers()
    pool = _pool
    if pool is None or pool._max_workers != workers:  # a new size set through zarrio.config
        with _lock:
            if _pool is None or _pool._max_workers != workers:
                # the old pool (if any) finishes its queued jobs; its idle threads exit with it
                old, _pool = _pool, ThreadPoolExecutor(max_workers=workers, thread_name_prefix="zarrio-codec")
                if old is not None:
                    old.shutdown(wait=False)
            pool = _pool
    return pool


class _PoolQueue:
    """Batches the codec-pool jobs submitted during one loop iteration.

    Many concurrent small reads (500 tiles awaited with ``gather``) each submit
    a job in the same iteration; sending them to the pool as a few groups costs
    a few thread hops instead of one per job, and keeps every worker busy.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.pending: list[tuple[Callable[..., Any], tuple[Any, ...], asyncio.Future[Any]]] = []
        self.scheduled = False

    def submit(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> asyncio.Future[Any]:
        fut = self.loop.create_future()
        self.pending.append((fn, args, fut))
        if not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self.flush)
        return fut

    def flush(self) -> None:
        self.scheduled = False
        items, self.pending = self.pending, []
        if not items:
            return
        n_groups = min(len(items), codec_workers() * 2)
        size = math.ceil(len(items) / n_groups)
        for i in range(0, len(items), size):
            group = items[i : i + size]
            done = self.loop.run_in_executor(codec_pool(), _run_group, [(fn, args) for fn, args, _ in group])
            done.add_done_callback(lambda f, group=group: _settle(f, [fut for _, _, fut in group]))  # type: ignore[misc]


def _run_group(jobs: list[tuple[Callable[..., Any], tuple[Any, ...]]]) -> list[tuple[bool, Any]]:
    results: list[tuple[bool, Any]] = []
    for fn, args in jobs:
        try:
            results.append((True, fn(*args)))
        except BaseException as e:
            results.append((False, e))
    return results


def _settle(done: asyncio.Future[list[tuple[bool, Any]]], futures: list[asyncio.Future[Any]]) -> None:
    if done.cancelled() or done.exception() is not None:
        error = done.exception() if not done.cancelled() else asyncio.CancelledError()
        for fut in futures:
            if not fut.done():
                fut.set_exception(error or RuntimeError("codec job failed"))
        return
    for fut, (ok, value) in zip(futures, done.result(), strict=True):
        if fut.done():
            continue
        if ok:
            fut.set_result(value)
        else:
            fut.set_exception(value)


_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _PoolQueue] = weakref.WeakKeyDictionary()


def submit_to_pool(fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
    """Queue ``fn(*args)`` for the codec pool; a future of the running loop gets its
    result. Jobs submitted in the same loop iteration go to the pool together."""
    loop = asyncio.get_running_loop()
    queue = _queues.get(loop)
    if queue is None:
        queue = _queues[loop] = _PoolQueue(loop)
    return queue.submit(fn, args)


async def run_in_pool(fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` on the codec pool and await its result (batched with the
    other jobs submitted in the same loop iteration)."""
    return await submit_to_pool(fn, *args)


def run_jobs_blocking(jobs: list[tuple[Callable[..., Any], tuple[Any, ...]]]) -> None:
    """Run ``fn(*args)`` jobs to completion without an event loop: one job runs in
    the calling thread, several on the codec pool. The first error is raised
    (a zarrio error when there is one) after every started job has finished."""
    if len(jobs) == 1:
        fn, args = jobs[0]
        fn(*args)
        return
    futures = [codec_pool().submit(fn, *args) for fn, args in jobs]
    errors = [e for e in (f.exception() for f in futures) if e is not None]
    if errors:
        raise pick_error(errors)


def store_limiter(store: Any) -> asyncio.Semaphore | NoLimit:
    """The store layer's request limiter of ``store`` (:mod:`zarrio.stores.limits`), under
    ``zarrio.config``'s ``async.concurrency``: every store call the engine makes waits in it."""
    return request_limiter(store, config.get("async.concurrency"))


#: outputs at least this large are backed by huge pages where the OS offers them. Below it the
#: kernel's work to find (compact) 2 MiB pages costs more than the 4 KiB faults it saves: a 16 MiB
#: whole-shard read over HTTP (H1's window) took 73-81 ms with 4 KiB pages and 85-87 ms with huge
#: ones, where a 256 MiB read (L3 sharded) took 311-408 ms with them and 383-502 ms without
HUGE_OUTPUT_BYTES = 64 * 2**20


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
    with contextlib.suppress(OSError):  # kernels without THP still give a correct array
        buffer.madvise(mmap.MADV_HUGEPAGE)
    return np.frombuffer(buffer, dtype=dtype, count=math.prod(shape)).reshape(shape)


def _reset_after_fork() -> None:
    global _pool, _lock, _workers
    _pool = None
    _workers = None
    _lock = threading.Lock()
    _queues.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
