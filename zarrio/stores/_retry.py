"""Retries with exponential backoff and full jitter, for stores that talk to a network.

An attempt either returns, raises :class:`Retryable` (a transient failure: a
reset, a timeout, a truncated body, 429/5xx) or raises anything else (final).
:func:`call_with_retries` re-runs the attempt until it succeeds, the retry
budget (count or deadline) is spent, or a final error escapes. When the budget
is spent it raises the error the last :class:`Retryable` carried.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from ..errors import StoreError

__all__ = ["RETRY_STATUSES", "RetryPolicy", "Retryable", "call_with_retries", "parse_retry_after"]

T = TypeVar("T")

#: HTTP statuses worth asking again for (rate limits and transient server trouble).
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class Retryable(Exception):
    """A transient failure. ``error`` is raised if no retry is left; ``retry_after`` is the server's hint."""

    def __init__(self, error: StoreError, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry.

    ``retries`` extra attempts at most; the n-th wait is drawn uniformly from
    ``[0, min(backoff_max, backoff_initial * 2**n)]`` (full jitter) unless the
    server sent ``Retry-After``, which is honoured. No wait extends past
    ``deadline`` seconds after the first attempt started.
    """

    retries: int = 6
    backoff_initial: float = 0.1
    backoff_max: float = 5.0
    deadline: float = 30.0

    def wait_before_retry(self, retry_number: int, retry_after: float | None, rng: random.Random) -> float:
        if retry_after is not None:
            return max(0.0, retry_after)
        ceiling = min(self.backoff_max, self.backoff_initial * 2.0**retry_number)
        return rng.uniform(0.0, ceiling)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date); ``None`` if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


async def call_with_retries(
    attempt: Callable[[int], Awaitable[T]],
    policy: RetryPolicy,
    rng: random.Random | None = None,
) -> T:
    """Run ``attempt(n)`` until it succeeds or the policy gives up (then raise the last failure's error).

    ``n`` counts the retries: 0 for the first try, then 1, 2, ... (each after its wait).
    """
    rng = rng or random.Random()
    loop = asyncio.get_running_loop()
    started = loop.time()
    retry_number = 0
    while True:
        try:
            return await attempt(retry_number)
        except Retryable as failure:
            remaining = policy.deadline - (loop.time() - started)
            if retry_number >= policy.retries or remaining <= 0:
                failure.error.message += f" (gave up after {retry_number + 1} attempts)"
                raise failure.error from failure.__cause__
            wait = policy.wait_before_retry(retry_number, failure.retry_after, rng)
            await asyncio.sleep(min(wait, remaining))
            retry_number += 1
