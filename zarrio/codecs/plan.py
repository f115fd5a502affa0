"""Read plans: how a codec says which bytes of a stored value it needs, without doing I/O.

A plan is a generator. Each value it yields is a :class:`Read` of the one stored
value the plan is about; the driver that runs it sends back the answer, and what
the generator returns is the plan's result. Codecs stay pure and synchronous;
only the drivers (``zarrio.engine.drivers``) touch a store::

    request = next(plan)
    while True:
        answer = ...                   # the store's answer to ``request``
        try:
            request = plan.send(answer)
        except StopIteration as done:
            result = done.value
            break

Answers, by kind (``None`` always means the value is missing):

========  =====================================================  ======================================
kind      asks for                                               answer
========  =====================================================  ======================================
whole     the whole value, refused past ``limit`` bytes           ``bytes | None``
range     ``length`` bytes from ``offset``                        ``bytes | None``
suffix    the last ``length`` bytes                               ``(bytes, total size or None) | None``
ranges    several ``(offset, length)`` ranges                     ``list[bytes] | None``
========  =====================================================  ======================================

A plan that is one read whose answer is its result may be given as that :class:`Read`
alone (:data:`Runnable`): a plain chunk's plan is the bare ``Read.whole``, which a driver
answers without a generator to step (a whole read of many small chunks pays for nothing
else). The sharding codec's plan is :meth:`~zarrio.codecs.ShardingCodec.read_plan`.

Plans compose. A value that is a byte range of another (an inner shard inside its
shard, when sharding is nested) has its plan run through :func:`within`, which
turns every read into a range read of the outer value; :func:`gather` runs such
plans side by side, one read per step for all of them, and the outer plan takes
it over with ``yield from``. So a nested read asks for the outer index, then the
indexes of the inner shards it needs (one read), then their inner chunks and any
other inner chunks (one read).

A read marked ``cacheable`` describes the value's layout (a shard's index): a
driver may answer it from what it read before while the value cannot change,
and concurrent plans asking it share one request. ``followed_by`` is a hint of
how many reads the plan will make after it (a store may open connections
meanwhile).
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, TypeVar

from ..errors import ResourceLimitError

__all__ = ["Plan", "Read", "Runnable", "gather", "single", "within"]

T = TypeVar("T")

#: a generator of reads that is sent their answers and returns a ``T``
Plan = Generator["Read", Any, T]

ReadKind = Literal["whole", "range", "suffix", "ranges"]


@dataclass(slots=True, unsafe_hash=True)
class Read:
    """One request of a plan; build it with the class methods, and treat it as immutable (it is
    hashed, and shared: not frozen only because a frozen dataclass takes three times as long to
    make, and a sharded tile makes two)."""

    kind: ReadKind
    offset: int = 0
    length: int = 0
    ranges: tuple[tuple[int, int], ...] = ()
    cacheable: bool = False
    followed_by: int = field(default=0, compare=False)
    #: a whole read may ask the store not to transfer more than ``limit`` bytes (a ranged read of
    #: ``limit + 1`` where the store has them); otherwise the limit is checked on what arrived
    fetch_bounded: bool = True

    @classmethod
    def whole(cls, limit: int, *, fetch_bounded: bool = True) -> Read:
        return cls("whole", 0, limit, (), False, 0, fetch_bounded)

    @classmethod
    def range(cls, offset: int, length: int, *, cacheable: bool = False, followed_by: int = 0) -> Read:
        return cls("range", offset, length, (), cacheable, followed_by)

    @classmethod
    def suffix(cls, length: int, *, cacheable: bool = False, followed_by: int = 0) -> Read:
        return cls("suffix", 0, length, (), cacheable, followed_by)

    @classmethod
    def of_ranges(cls, ranges: tuple[tuple[int, int], ...], *, cacheable: bool = False, followed_by: int = 0) -> Read:
        return cls("ranges", 0, 0, ranges, cacheable, followed_by)


#: what a driver runs: a plan, or one read whose answer is the result (see the module docstring)
Runnable: TypeAlias = Plan[T] | Read


def single(read: Read) -> Plan[Any]:
    """The plan that asks ``read`` and returns its answer (a bare :class:`Read`, as a generator)."""
    answer = yield read
    return answer


def _clip(offset: int, length: int, base: int, size: int) -> tuple[int, int]:
    """A range of the inner value as a range of the outer one, clipped to the inner value as
    a store clips a read to its value (a corrupt index cannot reach the neighbours' bytes)."""
    start = min(offset, size)
    return base + start, max(0, min(length, size - start))


def _shifted(read: Read, base: int, size: int) -> Read:
    keep, then = read.cacheable, read.followed_by
    if read.kind == "whole":
        if size > read.length:
            raise ResourceLimitError(f"a stored object of {size} bytes exceeds the limit of {read.length} bytes")
        return Read.range(base, size, cacheable=keep, followed_by=then)
    if read.kind == "range":
        return Read.range(*_clip(read.offset, read.length, base, size), cacheable=keep, followed_by=then)
    if read.kind == "suffix":
        start = max(0, size - read.length)
        return Read.range(base + start, size - start, cacheable=keep, followed_by=then)
    return Read.of_ranges(
        tuple(_clip(offset, length, base, size) for offset, length in read.ranges), cacheable=keep, followed_by=then
    )


def within(plan: Plan[T], offset: int, size: int) -> Plan[T]:
    """``plan``, about a value that is the ``size`` bytes at ``offset`` of another value, as a
    plan about that other value: it only asks range and ranges reads (see :func:`gather`)."""
    answer: Any = None
    try:
        while True:
            try:
                read = plan.send(answer)
            except StopIteration as done:
                result: T = done.value
                return result
            answer = yield _shifted(read, offset, size)
            if read.kind == "suffix" and answer is not None:
                answer = (answer, size)
    finally:
        plan.close()


def gather(plans: Sequence[Plan[Any]]) -> Plan[list[Any] | None]:
    """Run ``plans`` about one value side by side, asking one ``ranges`` read per step.

    A step asks every pending layout (``cacheable``) read if there is one, kept apart so
    that a driver may keep their answer, else every pending read. The plans may ask only
    range and ranges reads (wrap them in :func:`within`). Returns their results in order,
    or None when the value is missing.
    """
    results: dict[int, Any] = {}
    pending: dict[int, Read] = {}

    def advance(number: int, answer: Any) -> None:
        try:
            read = plans[number].send(answer)
        except StopIteration as done:
            results[number] = done.value
            return
        if read.kind not in ("range", "ranges"):
            raise TypeError(f"gather runs plans of range reads, got a {read.kind} read (wrap the plan in within)")
        pending[number] = read

    try:
        for number in range(len(plans)):
            advance(number, None)
        while pending:
            layout = {number: read for number, read in pending.items() if read.cacheable}
            step = layout or dict(pending)
            asked = [read.ranges if read.kind == "ranges" else ((read.offset, read.length),) for read in step.values()]
            followed_by = sum(read.followed_by for read in step.values())
            merged = tuple(r for ranges in asked for r in ranges)
            blobs = yield Read.of_ranges(merged, cacheable=bool(layout), followed_by=followed_by)
            if blobs is None:
                return None
            at = 0
            for (number, read), ranges in zip(step.items(), asked, strict=True):
                answer = blobs[at : at + len(ranges)]
                at += len(ranges)
                del pending[number]
                advance(number, answer[0] if read.kind == "range" else list(answer))
        return [results[number] for number in range(len(plans))]
    finally:
        for plan in plans:
            plan.close()
