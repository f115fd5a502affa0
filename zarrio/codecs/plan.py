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

A plain chunk's plan is one ``Read.whole``; the sharding codec's is
:meth:`~zarrio.codecs.ShardingCodec.read_plan`.

A read marked ``cacheable`` describes the value's layout (a shard's index): a
driver may answer it from what it read before while the value cannot change,
and concurrent plans asking it share one request. ``followed_by`` is a hint of
how many reads the plan will make after it (a store may open connections
meanwhile).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

__all__ = ["Plan", "Read"]

T = TypeVar("T")

#: a generator of reads that is sent their answers and returns a ``T``
Plan = Generator["Read", Any, T]

ReadKind = Literal["whole", "range", "suffix", "ranges"]


@dataclass(frozen=True, slots=True)
class Read:
    """One request of a plan; build it with the class methods."""

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
        return cls("whole", length=limit, fetch_bounded=fetch_bounded)

    @classmethod
    def range(cls, offset: int, length: int, *, cacheable: bool = False, followed_by: int = 0) -> Read:
        return cls("range", offset=offset, length=length, cacheable=cacheable, followed_by=followed_by)

    @classmethod
    def suffix(cls, length: int, *, cacheable: bool = False, followed_by: int = 0) -> Read:
        return cls("suffix", length=length, cacheable=cacheable, followed_by=followed_by)

    @classmethod
    def of_ranges(cls, ranges: tuple[tuple[int, int], ...]) -> Read:
        return cls("ranges", ranges=ranges)
