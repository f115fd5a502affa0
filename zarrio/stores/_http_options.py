"""HttpStore's settings, one documented field each (``HttpStore(url, **options)`` fills them)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import StoreError
from ._retry import RetryPolicy

__all__ = ["HttpOptions"]


@dataclass(frozen=True)
class HttpOptions:
    """How an :class:`~zarrio.stores.HttpStore` talks to its server. Times are in seconds."""

    #: requests in flight per event loop (hedges included), also the connection pool's size. 128: with
    #: 50 ms of latency, 8/16/32/64/128 in flight read 64 KiB ranges at 150/280/510/840/1160 requests/s
    max_concurrency: int = 128
    #: connections opened beside a store's first request on an event loop while it waits for its
    #: answer (an array's metadata), so that the reads after it find them open: no read of the first
    #: batch waits for a handshake the event loop has no time for (0: none; none with your own session)
    preconnect: int = 16
    #: the deadline of one store call, retries and hedges included: DeadlineExceededError after it
    #: (``None``: ``total_timeout``)
    timeout: float | None = None
    #: the deadline used when ``timeout`` is not given (``None``: no deadline)
    total_timeout: float | None = 120.0
    #: upper bounds of the connect and inactivity timeouts; measured latencies bring them down
    #: (3x / 10x the recent p99 time to first byte), but never below the ``*_min`` values
    connect_timeout: float = 10.0
    read_timeout: float = 10.0
    connect_timeout_min: float = 1.0
    read_timeout_min: float = 0.25
    #: a body arriving slower than this (bytes/s) after ``throughput_grace`` is abandoned (0: never):
    #: a trickle never trips an inactivity timeout
    min_throughput: float = 1024.0
    throughput_grace: float = 2.0
    #: retries of a transient failure, with full-jitter exponential backoff; none waits past the deadline
    retries: int = 6
    backoff_initial: float = 0.05
    backoff_max: float = 5.0
    retry_deadline: float = 60.0
    #: at most this share of requests is hedged by a second identical one (0: never)
    hedge_share: float = 0.05
    #: the shortest stall that is hedged (the delay is 3x the recent p95 time to first byte)
    hedge_min_delay: float = 0.05
    #: ask for several ranges of a value in one multi-range request when the server answers them
    multirange: bool = True
    #: ranges this close are fetched as one (over a network a 64 KiB gap costs far less than a round
    #: trip: 256 random tiles of 4096² shards take 114 instead of 172 requests on the dev server)
    coalesce_max_gap: int = 64 * 1024
    #: within one multi-range request a range costs a part header (about 100 bytes), not a round trip:
    #: there only gaps up to this are fetched (256 random tiles of 4096² shards: 7.6 instead of 8.9 MB)
    multirange_max_gap: int = 4096
    #: a merged range never grows past this
    coalesce_max_size: int = 16 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.max_concurrency < 1:
            raise StoreError(f"max_concurrency must be at least 1, got {self.max_concurrency}")
        if self.preconnect < 0:
            raise StoreError(f"preconnect must be at least 0, got {self.preconnect}")
        if not 0 <= self.hedge_share <= 1:
            raise StoreError(f"hedge_share must be between 0 and 1, got {self.hedge_share}")

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(self.retries, self.backoff_initial, self.backoff_max, self.retry_deadline)

    @property
    def deadline(self) -> tuple[float | None, str]:
        """The deadline of one store call and the name of the setting it came from."""
        if self.timeout is not None:
            return self.timeout, "timeout"
        return self.total_timeout, "total_timeout"
