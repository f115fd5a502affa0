"""The one request limiter of a store: how many of its requests are in flight at once.

Every caller that sends a store request waits in :func:`request_limiter` first
(the engine's drivers, its writes, a group's metadata reads). There is one per
store and event loop, of ``store.max_concurrency`` slots (at most the caller's
``cap``: the engine passes ``zarrio.config``'s ``async.concurrency``), so many
threads using the sync facade, which share its one loop, cannot multiply it.

A store that bounds its own requests sets ``limits_requests = True`` (HttpStore:
its transport holds ``max_concurrency`` slots per loop, hedges included) and
gets no limiter here: each of its requests waits in one queue only.

Fork-safe: a child process starts with no limiters (the parent's loops do not
exist in it).
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from typing import Any

__all__ = ["NoLimit", "request_limiter"]


class NoLimit:
    """``async with`` that waits for nothing: the limiter of a store that limits itself."""

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None


_NO_LIMIT = NoLimit()
_lock = threading.Lock()
#: per store, per event loop: (the limit it was made with, its semaphore)
_limiters: weakref.WeakKeyDictionary[
    Any, weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[int, asyncio.Semaphore]]
] = weakref.WeakKeyDictionary()


def request_limiter(store: Any, cap: int | None = None) -> asyncio.Semaphore | NoLimit:
    """The request limiter of ``store`` on the running loop, of at most ``cap`` slots (see the
    module docstring); a later call with another cap replaces it."""
    if getattr(store, "limits_requests", False):
        return _NO_LIMIT  # the store's own limiter is the one a request waits in
    loop = asyncio.get_running_loop()
    with _lock:
        per_loop = _limiters.get(store)
        if per_loop is None:
            per_loop = _limiters[store] = weakref.WeakKeyDictionary()
        limit = max(1, int(getattr(store, "max_concurrency", 64)))
        if cap is not None:
            limit = min(limit, int(cap))
        entry = per_loop.get(loop)
        if entry is None or entry[0] != limit:  # first use, or zarrio.config changed the cap
            entry = per_loop[loop] = (limit, asyncio.Semaphore(limit))
    return entry[1]


def _reset_after_fork() -> None:
    global _lock
    _lock = threading.Lock()
    _limiters.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
