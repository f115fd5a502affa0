"""Byte ranges of one value, and merging nearby ranges into fewer requests."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["ByteRange", "coalesce_ranges"]

#: ``(offset, length)`` of a byte range within one value.
ByteRange = tuple[int, int]


def coalesce_ranges(ranges: Sequence[ByteRange], *, max_gap: int, max_size: int) -> list[tuple[ByteRange, list[int]]]:
    """Merge nearby byte ranges into fewer, larger requests.

    Returns a list of ``((offset, length), member_indexes)``: each merged range
    and the indexes (into ``ranges``) of the ranges it serves. Two ranges merge
    when the gap between them is at most ``max_gap`` and the merged range stays
    at most ``max_size`` bytes (a single range larger than ``max_size`` is kept
    whole).
    """
    order = sorted(range(len(ranges)), key=lambda i: ranges[i][0])
    merged: list[tuple[ByteRange, list[int]]] = []
    cur_start = cur_end = -1
    members: list[int] = []
    for i in order:
        off, length = ranges[i]
        end = off + length
        if members and off - cur_end <= max_gap and max(end, cur_end) - cur_start <= max_size:
            cur_end = max(cur_end, end)
            members.append(i)
            continue
        if members:
            merged.append(((cur_start, cur_end - cur_start), members))
        cur_start, cur_end, members = off, end, [i]
    if members:
        merged.append(((cur_start, cur_end - cur_start), members))
    return merged
