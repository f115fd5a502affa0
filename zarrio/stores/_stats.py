"""What a network store has done and seen: counts, bytes and recent latencies.

:class:`StatsRecorder` is updated by the transport on every request; its
recent time-to-first-byte percentiles drive the adaptive timeouts and the
hedging delay. :class:`TransportStats` is the snapshot users get from
``store.stats()``.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["StatsRecorder", "TransportStats", "percentile"]

#: recent answers the percentiles are computed over
WINDOW = 512
#: percentiles are recomputed after this many new answers (sorting on every request costs)
REFRESH_EVERY = 16
#: answers needed before the percentiles steer timeouts and hedges (``ttfb_quantiles`` is ``None`` before)
MIN_SAMPLES = 4


def percentile(samples: list[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) of ``samples`` by nearest rank; ``None`` for no samples."""
    if not samples:
        return None
    return _ranked(sorted(samples), q)


def _ranked(ordered: list[float], q: float) -> float:
    """The ``q`` quantile of samples already sorted (not empty), by nearest rank."""
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


@dataclass(frozen=True)
class TransportStats:
    """A snapshot of one store's traffic since it was made (or since ``reset_stats()``).

    Times are in seconds; percentiles cover the last few hundred answers and are
    ``None`` before the first. ``read_timeout`` and ``hedge_delay`` are the values
    the store uses now (they adapt to the latencies seen).
    """

    requests: int
    bytes_received: int
    retries: int
    transient_failures: int
    hedges: int
    hedges_won: int
    multirange_requests: int
    multirange_fallbacks: int
    ttfb_p50: float | None
    ttfb_p95: float | None
    ttfb_p99: float | None
    latency_p50: float | None
    latency_p99: float | None
    read_timeout: float
    hedge_delay: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        """One line for a log or a command-line tool."""

        def ms(value: float | None) -> str:
            return "-" if value is None else f"{value * 1000:.1f} ms"

        return (
            f"{self.requests} requests, {self.bytes_received / 1e6:.2f} MB, {self.retries} retries, "
            f"{self.hedges} hedges ({self.hedges_won} won), {self.multirange_requests} multi-range; "
            f"first byte p50 {ms(self.ttfb_p50)} p99 {ms(self.ttfb_p99)}, "
            f"complete p50 {ms(self.latency_p50)} p99 {ms(self.latency_p99)}"
        )


class StatsRecorder:
    """Counters and a window of recent latencies, safe to update from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.requests = self.bytes_received = self.retries = self.transient_failures = 0
            self.hedges = self.hedges_won = self.multirange_requests = self.multirange_fallbacks = 0
            self._ttfb: deque[float] = deque(maxlen=WINDOW)
            self._latency: deque[float] = deque(maxlen=WINDOW)
            self._fresh = 0
            #: cached percentiles of the time to first byte: (p50, p95, p99), ``None`` before ``MIN_SAMPLES`` answers
            self.ttfb_quantiles: tuple[float, float, float] | None = None
            #: share of recent attempts that failed transiently (exponentially weighted)
            self.failure_rate = 0.0

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    def answered(self, ttfb: float, latency: float, nbytes: int, *, ok: bool = True) -> None:
        """An answer arrived; ``ok``: not a transient failure (those are counted by ``failed``)."""
        with self._lock:
            self.bytes_received += nbytes
            self._ttfb.append(ttfb)
            self._latency.append(latency)
            if ok:
                self.failure_rate *= 0.9
            self._fresh += 1
            seen = len(self._ttfb)
            if seen >= MIN_SAMPLES and (self._fresh >= REFRESH_EVERY or seen < REFRESH_EVERY + MIN_SAMPLES):
                self._fresh = 0
                ordered = sorted(self._ttfb)  # once for the three percentiles
                self.ttfb_quantiles = (_ranked(ordered, 0.5), _ranked(ordered, 0.95), _ranked(ordered, 0.99))

    def failed(self) -> None:
        with self._lock:
            self.transient_failures += 1
            self.failure_rate = self.failure_rate * 0.9 + 0.1

    def snapshot(self, read_timeout: float, hedge_delay: float | None) -> TransportStats:
        with self._lock:
            ttfb, latency = list(self._ttfb), list(self._latency)
            counts = (
                self.requests,
                self.bytes_received,
                self.retries,
                self.transient_failures,
                self.hedges,
                self.hedges_won,
                self.multirange_requests,
                self.multirange_fallbacks,
            )
        return TransportStats(
            *counts,
            ttfb_p50=percentile(ttfb, 0.5),
            ttfb_p95=percentile(ttfb, 0.95),
            ttfb_p99=percentile(ttfb, 0.99),
            latency_p50=percentile(latency, 0.5),
            latency_p99=percentile(latency, 0.99),
            read_timeout=read_timeout,
            hedge_delay=hedge_delay,
        )
