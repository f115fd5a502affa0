"""A small one-line progress bar for copies: bytes and chunks done, rate and ETA.

It draws on a terminal only; when the stream is not a TTY (a pipe, a file, a
CI log) it writes nothing. Redraws are throttled to a few per second.
"""

from __future__ import annotations

import os
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
        """The progress line (without control characters), fitted to ``width`` characters.

        A narrow terminal shortens the bar, then drops it, then drops the rate too.
        """
        elapsed = max(self._clock() - self._started, 1e-9)
        fraction = self._fraction()
        rate = self.done_bytes / elapsed
        eta = (elapsed / fraction - elapsed) if fraction > 0 else None
        done = format_bytes(self.done_bytes)
        size = f"{done}/{format_bytes(self.total_bytes)}" if self.total_bytes is not None else done
        head = f"{self.label} {fraction * 100:3.0f}%"
        tail = [size, f"{self.done_chunks}/{self.total_chunks} chunks", f"{format_bytes(rate)}/s"]
        tail.append(f"ETA {format_duration(eta) if eta is not None else '--:--'}")
        for parts in (tail, [p for p in tail if not p.endswith("/s")]):
            for bar_width in (BAR_WIDTH, 16, 10, 0):
                bar = self._bar(fraction, bar_width)
                line = "  ".join([f"{head} {bar}" if bar else head, *parts])
                if len(line) <= width:
                    return line
        return line[:width]

    def _fraction(self) -> float:
        if self.total_bytes:
            fraction = self.done_bytes / self.total_bytes
        elif self.total_chunks:
            fraction = self.done_chunks / self.total_chunks
        else:
            fraction = 1.0
        return min(max(fraction, 0.0), 1.0)

    @staticmethod
    def _bar(fraction: float, width: int) -> str:
        if width <= 0:
            return ""
        filled = round(fraction * width)
        return "[" + "#" * filled + "-" * (width - filled) + "]"

    def _terminal_width(self) -> int:
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            columns = 0
        return max(20, (columns or shutil.get_terminal_size((80, 24)).columns) - 1)

    def _draw(self) -> None:
        self._last_draw = self._clock()
        self.stream.write("\r" + self.render(self._terminal_width()) + "\x1b[K")
        self.stream.flush()
