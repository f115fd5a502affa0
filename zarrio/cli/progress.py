"""A small one-line progress bar for copies: bytes and chunks done, rate and ETA.

It draws on a terminal only; when the stream is not a TTY (a pipe, a file, a
CI log) it writes nothing. Redraws are throttled to a few per second.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from typing import TextIO

from .formatting import format_bytes, format_duration

__all__ = ["Progress"]

REDRAW_INTERVAL = 0.1
BAR_WIDTH = 24


class Progress:
    """Progress of a job of ``total_bytes`` (``None``: not known ahead) and ``total_chunks``.

    Call ``start`` once, ``advance`` as work completes, ``close`` at the end.
    """

    def __init__(
        self,
        total_bytes: int | None,
        total_chunks: int,
        stream: TextIO,
        *,
        enabled: bool,
        label: str = "copying",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total_bytes = total_bytes
        self.total_chunks = total_chunks
        self.done_bytes = 0
        self.done_chunks = 0
        self.stream = stream
        self.enabled = enabled
        self.label = label
        self._clock = clock
        self._started = clock()
        self._last_draw = float("-inf")
        self._closed = False

    def advance(self, nbytes: int, nchunks: int) -> None:
        self.done_bytes += nbytes
        self.done_chunks += nchunks
        if self.enabled and self._clock() - self._last_draw >= REDRAW_INTERVAL:
            self._draw()

    def start(self) -> None:
        if self.enabled:
            self._draw()

    def close(self) -> None:
        """Draw the final state and end the line."""
        if self._closed:
            return
        self._closed = True
        if self.enabled:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def render(self, width: int = 100) -> str:
        """The progress line (without control characters), at most ``width`` characters."""
        elapsed = max(self._clock() - self._started, 1e-9)
        if self.total_bytes:
            fraction = self.done_bytes / self.total_bytes
        elif self.total_chunks:
            fraction = self.done_chunks / self.total_chunks
        else:
            fraction = 1.0
        fraction = min(max(fraction, 0.0), 1.0)
        filled = round(fraction * BAR_WIDTH)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        rate = self.done_bytes / elapsed
        eta = (elapsed / fraction - elapsed) if fraction > 0 else None
        parts = [
            f"{self.label} {fraction * 100:3.0f}% [{bar}]",
            format_bytes(self.done_bytes)
            + (f"/{format_bytes(self.total_bytes)}" if self.total_bytes is not None else ""),
            f"{self.done_chunks}/{self.total_chunks} chunks",
            f"{format_bytes(rate)}/s",
            f"ETA {format_duration(eta) if eta is not None else '--:--'}",
        ]
        return "  ".join(parts)[:width]

    def _draw(self) -> None:
        self._last_draw = self._clock()
        width = max(20, shutil.get_terminal_size((100, 24)).columns - 1)
        self.stream.write("\r" + self.render(width) + "\x1b[K")
        self.stream.flush()
