"""HttpStore's request slots (zarrio/stores/_slots.py): a semaphore whose urgent waiters (retries
and hedges) are served before every ordinary waiter, within the same bound."""

from __future__ import annotations

import asyncio

import pytest

from zarrio.stores._slots import Slots


async def test_urgent_waiters_go_first_and_the_bound_holds() -> None:
    slots = Slots(2)
    order: list[str] = []
    inside = most = 0
    release = asyncio.Event()

    async def user(name: str, urgent: bool = False) -> None:
        nonlocal inside, most
        async with slots.held(urgent=urgent):
            inside += 1
            most = max(most, inside)
            order.append(name)
            await release.wait()
            inside -= 1

    holders = [asyncio.create_task(user(f"first{i}")) for i in range(2)]
    await asyncio.sleep(0)
    queued = [asyncio.create_task(user(f"queued{i}")) for i in range(5)]
    await asyncio.sleep(0)
    retry = asyncio.create_task(user("retry", urgent=True))
    await asyncio.sleep(0)
    assert order == ["first0", "first1"] and slots.waiting() == 6
    release.set()
    await asyncio.gather(*holders, *queued, retry)
    assert order[2] == "retry"  # the first slot freed went to it, ahead of five earlier waiters
    assert order[3:] == [f"queued{i}" for i in range(5)]
    assert most == 2 and slots.free == 2 and slots.waiting() == 0


async def test_a_cancelled_waiter_is_skipped() -> None:
    slots = Slots(1)
    await slots.acquire()
    waiter = asyncio.create_task(slots.acquire())
    behind = asyncio.create_task(slots.acquire(urgent=True))
    await asyncio.sleep(0)
    waiter.cancel()
    slots.release()  # to the urgent waiter
    await behind
    with pytest.raises(asyncio.CancelledError):
        await waiter
    slots.release()  # the cancelled waiter's future is skipped: the slot is free again
    assert slots.free == 1 and slots.waiting() == 0


async def test_a_waiter_cancelled_after_being_handed_the_slot_passes_it_on() -> None:
    slots = Slots(1)
    await slots.acquire()
    first = asyncio.create_task(slots.acquire())
    second = asyncio.create_task(slots.acquire())
    await asyncio.sleep(0)
    slots.release()  # handed to `first`, which is cancelled before it runs
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    await second  # the slot went on to the next waiter instead of being lost
    slots.release()
    assert slots.free == 1


def test_at_least_one_slot() -> None:
    with pytest.raises(ValueError):
        Slots(0)
