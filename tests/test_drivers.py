"""The two plan drivers (``zarrio/engine/drivers.py``) run a bare ``Read`` as the plan that asks
it and returns its answer, of every kind, and a generator plan the same way."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from zarrio.codecs.plan import Plan, Read
from zarrio.engine.drivers import AsyncDriver, run_blocking
from zarrio.stores import MemoryStore
from zarrio.stores.blocking import blocking_access

VALUE = bytes(range(200)) * 5  # 1000 bytes
READS: dict[str, tuple[Read, Any]] = {
    "whole": (Read.whole(1 << 20), VALUE),
    "range": (Read.range(10, 20), VALUE[10:30]),
    "suffix": (Read.suffix(7), (VALUE[-7:], len(VALUE))),
    "ranges": (Read.of_ranges(((0, 3), (500, 4))), [VALUE[:3], VALUE[500:504]]),
}


def _as_bytes(answer: Any) -> Any:
    if isinstance(answer, tuple):
        return bytes(answer[0]), answer[1]
    if isinstance(answer, list):
        return [bytes(a) for a in answer]
    return bytes(answer)


def _two_reads() -> Plan[tuple[Any, Any]]:
    head = yield Read.range(0, 2)
    tail = yield Read.suffix(2)
    return bytes(head), _as_bytes(tail)


def _store() -> MemoryStore:
    store = MemoryStore()
    store.set_sync("k", VALUE)
    return store


@pytest.mark.parametrize("kind", sorted(READS))
def test_the_blocking_driver_answers_a_bare_read(kind: str) -> None:
    read, expected = READS[kind]
    access = blocking_access(_store())
    assert access is not None
    assert _as_bytes(run_blocking(read, access, "k", 64)) == expected
    assert run_blocking(read, access, "missing", 64) is None


@pytest.mark.parametrize("kind", sorted(READS))
def test_the_async_driver_answers_a_bare_read(kind: str) -> None:
    read, expected = READS[kind]

    async def main() -> tuple[Any, Any]:
        driver = AsyncDriver(_store())
        return await driver.run("k", read), await driver.run("missing", read)

    found, missing = asyncio.run(main())
    assert _as_bytes(found) == expected and missing is None


def test_both_drivers_run_a_generator_plan_to_its_result() -> None:
    store = _store()
    access = blocking_access(store)
    assert access is not None
    expected = (VALUE[:2], (VALUE[-2:], len(VALUE)))
    assert run_blocking(_two_reads(), access, "k", 64) == expected
    assert asyncio.run(AsyncDriver(store).run("k", _two_reads())) == expected


@pytest.mark.parametrize("kind", ["suffix", "ranges"])
def test_a_kept_layout_answer_holds_only_its_own_bytes(kind: str) -> None:
    """A multi-range or coalesced answer's parts are views of the whole response body; a layout
    answer (a shard's index) is kept, and must not keep that body alive with it."""
    body = bytes(1 << 20)  # the response an index of 8 bytes came in

    class ViewingStore(MemoryStore):
        consistency = "immutable"

        async def get_suffix_with_size(self, key: str, length: int) -> tuple[bytes, int | None] | None:
            return memoryview(body)[:length], len(body)  # type: ignore[return-value]

        async def get_ranges(self, key: str, ranges: Any) -> list[bytes] | None:
            return [memoryview(body)[offset : offset + length] for offset, length in ranges]  # type: ignore[misc]

    read = Read.suffix(8, cacheable=True) if kind == "suffix" else Read.of_ranges(((0, 8), (64, 8)), cacheable=True)

    async def main() -> Any:
        driver = AsyncDriver(ViewingStore())
        first = await driver.run("k", read)
        again = await driver.run("k", read)  # from what was kept
        return first, again

    first, again = asyncio.run(main())
    parts = [first[0], again[0]] if kind == "suffix" else [*first, *again]
    assert all(type(part) is bytes and len(part) == 8 for part in parts), [type(part) for part in parts]
