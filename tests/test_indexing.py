"""The selection -> chunk projection math, checked against NumPy's own indexing."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zarrio.errors import SelectionError
from zarrio.indexing import plan


def assemble(data: np.ndarray[Any, Any], selection: Any, chunks: tuple[int, ...]) -> np.ndarray[Any, Any]:
    """Read ``selection`` of ``data`` chunk by chunk, the way the engine does."""
    p = plan(selection, data.shape, chunks)
    out = np.full(p.shape, -1, dtype=data.dtype)
    for proj in p:
        region = tuple(slice(c * n, (c + 1) * n) for c, n in zip(proj.coords, chunks, strict=True))
        chunk = np.zeros(chunks, dtype=data.dtype)  # edge chunks are full-size, padded
        part = data[region]
        chunk[tuple(slice(0, n) for n in part.shape)] = part
        out[proj.out_index()] = chunk[proj.chunk_index()]
    return out


def orthogonal_reference(data: np.ndarray[Any, Any], selection: tuple[Any, ...]) -> np.ndarray[Any, Any]:
    """NumPy outer indexing: apply each axis' selection independently."""
    result = data
    axis = 0
    for sel in selection:
        if isinstance(sel, (int, np.integer)):
            result = np.take(result, sel, axis=axis)
            continue
        if isinstance(sel, slice):
            idx = np.arange(result.shape[axis])[sel]
        else:
            arr = np.asarray(sel)
            idx = np.flatnonzero(arr) if arr.dtype == bool else arr
        result = np.take(result, idx, axis=axis)
        axis += 1
    return result


@st.composite
def selections(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...], tuple[Any, ...]]:
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(0, 12)) for _ in range(ndim))
    chunks = tuple(draw(st.integers(1, 6)) for _ in range(ndim))
    sel: list[Any] = []
    for n in shape:
        kind = draw(st.sampled_from(["slice", "int", "array", "mask"] if n else ["slice", "array", "mask"]))
        if kind == "int":
            sel.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            start = draw(st.none() | st.integers(-n - 2, n + 2))
            stop = draw(st.none() | st.integers(-n - 2, n + 2))
            step = draw(st.none() | st.integers(-4, 4).filter(lambda s: s != 0))
            sel.append(slice(start, stop, step))
        elif kind == "array":
            sel.append(np.asarray(draw(st.lists(st.integers(-n, n - 1), max_size=8)) if n else [], dtype=np.intp))
        else:
            sel.append(np.asarray(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool))
    return shape, chunks, tuple(sel)


@settings(max_examples=300, deadline=None)
@given(selections())
def test_projections_reassemble_the_numpy_result(
    case: tuple[tuple[int, ...], tuple[int, ...], tuple[Any, ...]],
) -> None:
    shape, chunks, sel = case
    data = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    expected = orthogonal_reference(data, sel)
    got = assemble(data, sel, chunks)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)
    for proj in plan(sel, shape, chunks):  # the batch placer relies on output runs having no step
        assert all(s.step is None for s in proj.out_selection if isinstance(s, slice))
        # complete (a write needs no read): every axis selects each in-bounds element of the chunk, in order
        covers = []
        for c, within, n, edge in zip(proj.coords, proj.chunk_selection, shape, chunks, strict=True):
            in_bounds = min(edge, n - c * edge)
            picked = None if isinstance(within, int) else np.arange(in_bounds)[within].tolist()
            covers.append(picked == list(range(in_bounds)))
        assert proj.is_complete == all(covers), proj


def test_ellipsis_and_scalars() -> None:
    data = np.arange(60).reshape(3, 4, 5)
    np.testing.assert_array_equal(assemble(data, (..., 2), (2, 2, 2)), data[..., 2])
    np.testing.assert_array_equal(assemble(data, (1, ...), (2, 3, 2)), data[1, ...])
    assert plan((1, 2, 3), data.shape, (2, 2, 2)).shape == ()


def test_complete_chunks_are_flagged_including_edges() -> None:
    p = plan(slice(None), (10,), (4,))
    assert [proj.is_complete for proj in p] == [True, True, True]  # the edge chunk's in-bounds part is covered
    p = plan(slice(1, 10), (10,), (4,))
    assert [proj.is_complete for proj in p] == [False, True, True]
    p = plan(slice(0, 10, 2), (10,), (4,))
    assert not any(proj.is_complete for proj in p)
    # a stepped slice that picks the one in-bounds element of a chunk covers it (found by the property test)
    assert [proj.is_complete for proj in plan(slice(None, None, 2), (1,), (1,))] == [True]
    assert [proj.is_complete for proj in plan(slice(0, 9, 4), (9,), (4,))] == [False, False, True]
    varying = np.array([0, 1, 5], dtype=np.intp)  # chunks of 1 and 4
    assert [proj.is_complete for proj in plan(slice(0, 5, 3), (5,), (varying,))] == [True, False]


def test_only_touched_chunks_are_planned() -> None:
    p = plan((slice(5, 7), slice(0, 3)), (100, 100), (10, 10))
    assert [proj.coords for proj in p] == [(0, 0)]
    assert p.nchunks == 1


@pytest.mark.parametrize(
    "selection",
    [
        (10,),
        (-11,),
        (slice(None), 0),
        (np.array([10]),),
        (np.ones(3, dtype=bool),),
        (slice(0, 2, 0),),
        ("a",),
        (None,),
        (..., ...),
    ],
)
def test_bad_selections_raise_selection_error(selection: tuple[Any, ...]) -> None:
    with pytest.raises(SelectionError):
        plan(selection, (10,), (3,))


def test_selection_error_is_an_index_error() -> None:
    with pytest.raises(IndexError):
        plan(12, (10,), (3,))


@settings(max_examples=200, deadline=None)
@given(selections(), st.lists(st.integers(1, 4), min_size=3, max_size=3))
def test_by_block_groups_projections_as_chunk_by_chunk_grouping_does(
    case: tuple[tuple[int, ...], tuple[int, ...], tuple[Any, ...]], blocks: list[int]
) -> None:
    """A shard's members, grouped per axis, are those of grouping every projection by its
    block, in the same order, with the same C-order index within the block."""
    shape, chunks, sel = case
    blocks = blocks[: len(shape)]
    p = plan(sel, shape, chunks)
    expected: dict[tuple[int, ...], list[tuple[int, Any]]] = {}
    for proj in p:
        block = tuple(c // n for c, n in zip(proj.coords, blocks, strict=True))
        flat = int(np.ravel_multi_index(tuple(c % n for c, n in zip(proj.coords, blocks, strict=True)), blocks))
        expected.setdefault(block, []).append((flat, proj))

    def fields(proj: Any) -> tuple[Any, ...]:
        return proj.coords, repr(proj.chunk_selection), repr(proj.out_selection), proj.is_complete

    got = list(p.by_block(blocks))
    assert [block for block, _ in got] == list(expected)
    for (_, members), want in zip(got, expected.values(), strict=True):
        assert [(flat, fields(proj)) for flat, proj in members] == [(flat, fields(proj)) for flat, proj in want]
