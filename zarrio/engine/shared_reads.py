"""Concurrent reads of regions in the same chunk share one read and decode of it
(stores with blocking access, unsharded arrays).

Readers that ask for a chunk before its read has begun join that read; the
worker that takes it places the chunk into every reader's output at once, so
sharing costs no decoded copy. A reader that comes once the read has begun
reads on its own, so it never sees data older than its request.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..indexing import ChunkProjection

__all__ = ["SharedRead", "SharedReads"]


class SharedRead:
    """One chunk's read and decode, shared by the concurrent readers that asked for the
    chunk before the read began: the worker that takes it places the chunk into every
    reader's output at once (a reader that comes once it has begun reads on its own, so it
    never sees data older than its request)."""

    __slots__ = ("__weakref__", "done", "error", "started", "targets")

    def __init__(self) -> None:
        self.targets: list[tuple[np.ndarray[Any, Any], ChunkProjection]] = []
        self.started = False
        #: set once the chunk is placed; made only when a second reader joins (only then does anyone wait)
        self.done: threading.Event | None = None
        self.error: BaseException | None = None


class SharedReads:
    """The reads of one array's chunks not yet begun, by chunk key (an entry lives as long
    as a job that holds it)."""

    def __init__(self) -> None:
        self._pending: weakref.WeakValueDictionary[str, SharedRead] = weakref.WeakValueDictionary()
        self._lock = threading.Lock()

    def join(self, out: np.ndarray[Any, Any], wanted: Sequence[tuple[str, ChunkProjection]]) -> list[SharedRead]:
        """Join each chunk's pending read (or start a new one), for ``(chunk key, projection)``
        pairs: many concurrent reads of regions in the same chunk (``gather`` of small windows)
        then read and decode it once."""
        shared = []
        with self._lock:
            for key, proj in wanted:
                entry = self._pending.get(key)
                if entry is None or entry.started:
                    entry = self._pending[key] = SharedRead()
                elif entry.done is None:
                    entry.done = threading.Event()
                entry.targets.append((out, proj))
                shared.append(entry)
        return shared

    def take(self, entry: SharedRead) -> bool:
        """Whether the calling worker is the one to read ``entry`` (no reader can join it after this)."""
        with self._lock:
            mine = not entry.started
            entry.started = True
        return mine
