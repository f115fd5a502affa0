"""The retry helper behind HttpStore: Retry-After parsing, full-jitter backoff, budgets."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from zarrio.errors import StoreError, TransportError
from zarrio.stores._retry import Retryable, RetryPolicy, call_with_retries, parse_retry_after


def test_parse_retry_after() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-3") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    waited = parse_retry_after(later)
    assert waited is not None and 25 <= waited <= 30
    earlier = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    assert parse_retry_after(earlier) == 0.0


def test_full_jitter_stays_under_the_exponential_ceiling() -> None:
    policy = RetryPolicy(retries=10, backoff_initial=0.1, backoff_max=1.0)
    rng = random.Random(5)
    for n in range(10):
        ceiling = min(1.0, 0.1 * 2**n)
        waits = [policy.wait_before_retry(n, None, rng) for _ in range(200)]
        assert all(0.0 <= w <= ceiling for w in waits)
        assert max(waits) > ceiling * 0.8  # jitter spans the range, not a fixed wait
    assert policy.wait_before_retry(0, 2.5, rng) == 2.5  # the server's Retry-After wins


async def test_gives_up_after_the_retry_count() -> None:
    numbers: list[int] = []

    async def always_failing(retry: int) -> int:
        numbers.append(retry)
        raise Retryable(TransportError("flaky", location="http://x"))

    with pytest.raises(TransportError, match="gave up after 4 attempts"):
        await call_with_retries(always_failing, RetryPolicy(retries=3, backoff_initial=0.001, backoff_max=0.001))
    assert numbers == [0, 1, 2, 3]  # each try is told how many came before it


async def test_gives_up_at_the_deadline() -> None:
    attempts = 0

    async def always_failing(retry: int) -> int:
        nonlocal attempts
        attempts += 1
        raise Retryable(TransportError("flaky"), retry_after=0.05)

    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(TransportError):
        await call_with_retries(always_failing, RetryPolicy(retries=1000, deadline=1.0))
    assert loop.time() - started < 3
    assert 3 <= attempts <= 22  # about 1 s / 0.05 s, fewer when the machine is slow to wake sleepers


async def test_success_after_failures_and_final_errors_pass_through() -> None:
    outcomes: list[BaseException | int] = [Retryable(TransportError("a")), Retryable(TransportError("b")), 42]

    async def attempt(retry: int) -> int:
        outcome = outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    assert await call_with_retries(attempt, RetryPolicy(backoff_initial=0.001)) == 42

    async def final(retry: int) -> int:
        raise StoreError("not transient")

    with pytest.raises(StoreError, match="not transient"):
        await call_with_retries(final, RetryPolicy())
