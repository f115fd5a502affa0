"""A blocking read of many whole chunks of an unsharded array, a batch at a time (issue 18).

A read of a region that spans many small chunks spent, per chunk, about as much time in Python
as in the three system calls that read its file: a projection made, a unit and a plan for it, a
dict of its parts, its own decode and its own placing. Here the chunks are taken from the
plan's parts per axis (:meth:`~zarrio.indexing.IndexPlan.as_block`): which are whole and where
they go come from array operations, their keys are made in one loop and their values read in
another through the store's blocking access, and each batch is decoded and placed by the
:class:`~.placement.BatchPlacer` at once. The chunks that are not whole (edges, partly selected),
and missing ones, take the per-chunk path, one member each.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..indexing import IndexPlan
from ..stores.blocking import BlockingAccess
from .kernels import ChunkKernels
from .placement import BLOCK_MEMBERS, batch_placer

__all__ = ["read_whole_chunks"]


def read_whole_chunks(k: ChunkKernels, access: BlockingAccess, out: np.ndarray[Any, Any], p: IndexPlan) -> None:
    """Read, decode and place every chunk of ``p`` (a plan of an unsharded array of one chunk
    shape) into ``out``: whole chunks a batch at a time, the others through ``k.place``."""
    block = p.as_block()
    placer = batch_placer(out, k.chain, k.spec, k.layout is None)
    whole = None if block is None or placer is None or len(block) < BLOCK_MEMBERS else block.whole_chunks(k.chunk_shape)
    if block is None or placer is None or whole is None:
        k.read_units_job(access, out, k.iter_units(p), None)
        return
    picked, starts = whole
    coords = block.coords()
    key_of, get = k.chunk_key, access.get_bounded
    limit, hint = k.max_read_bytes, k.read_hint
    left = np.ones(len(coords), dtype=bool)
    for i in range(0, len(picked), placer.capacity):
        batch = picked[i : i + placer.capacity].tolist()
        keys = [key_of(coords[j]) for j in batch]
        found = [get(key, limit, hint) for key in keys]
        stored = np.array([frame is not None for frame in found], dtype=bool)
        frames = [frame for frame in found if frame is not None]
        if len(frames) < len(found):  # missing chunks are placed below, one by one (fill values, or strict)
            keys = [key for key, frame in zip(keys, found, strict=True) if frame is not None]
        for key, frame in zip(keys, frames, strict=True):
            k.check_stored_size(len(frame), key)
        placer.place_stored(frames, keys, starts[i : i + placer.capacity][stored])
        left[np.array(batch, dtype=np.intp)[stored]] = False
    for j in np.flatnonzero(left).tolist():
        _, proj = block.member(j)
        key = key_of(proj.coords)
        parts = k.parts_of(key, get(key, limit, hint))
        k.place(out, None if parts is None else parts[0], proj, key)
