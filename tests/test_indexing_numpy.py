"""Every indexing form against NumPy (and the dispatch of ``z[...]`` against zarr-python 3.4):
get and set, sync and async, chunked and sharded, on a store with blocking access
(MemoryStore) and one without (a ForwardingStore around it)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import zarrio
from zarrio import aio
from zarrio.errors import SelectionError
from zarrio.indexing.coordinates import PointProjection, PointSelection
from zarrio.stores import MemoryStore
from zarrio.testing import ForwardingStore

SHAPE = (13, 17)
DATA = np.arange(np.prod(SHAPE), dtype="int32").reshape(SHAPE)
ROWS = DATA[:, 0] % 3 == 0  # a 1-D mask along axis 0
COLS = DATA[0, :] % 4 == 1  # a 1-D mask along axis 1
MASK = DATA % 7 == 2  # a mask of the whole shape
LAYOUTS = {"chunks": {"chunks": (4, 5)}, "sharded": {"chunks": (4, 5), "shards": (8, 10)}}
STORES: dict[str, Callable[[], Any]] = {"memory": MemoryStore, "forwarding": lambda: ForwardingStore(MemoryStore())}


@pytest.fixture(params=[(s, lay) for s in STORES for lay in LAYOUTS], ids=lambda p: f"{p[0]}-{p[1]}")
def z(request: pytest.FixtureRequest) -> zarrio.Array:
    store_kind, layout = request.param
    array = zarrio.create(STORES[store_kind](), SHAPE, "int32", fill_value=-1, **LAYOUTS[layout])
    array[...] = DATA
    return array


# (label, how zarrio reads it, the NumPy answer)
Reader = Callable[[Any], Any]
READS: list[tuple[str, Reader, Any]] = [
    ("int", lambda z: z[3], DATA[3]),
    ("ints", lambda z: z[3, -2], DATA[3, -2]),
    ("slices with steps", lambda z: z[1:12:3, ::-4], DATA[1:12:3, ::-4]),
    ("ellipsis", lambda z: z[..., 5], DATA[..., 5]),
    ("one list", lambda z: z[[4, 0, 4]], DATA[[4, 0, 4]]),
    ("list and slice", lambda z: z[[9, 2], 3:7], DATA[[9, 2], 3:7]),
    ("slice and list", lambda z: z[2:5, [16, 0]], DATA[2:5, [16, 0]]),
    ("two lists: points", lambda z: z[[1, 3], [2, 4]], DATA[[1, 3], [2, 4]]),
    ("int and list: points", lambda z: z[5, [1, 16, 1]], DATA[5, [1, 16, 1]]),
    ("negative coordinates", lambda z: z[[-1, -13], [0, -17]], DATA[[-1, -13], [0, -17]]),
    (
        "broadcast 2-D coordinates",
        lambda z: z[np.array([[0], [12]]), np.array([1, 8, 16])],
        DATA[[[0], [12]], [1, 8, 16]],
    ),
    ("nested lists", lambda z: z[[[1, 2], [3, 4]], [[0, 0], [9, 9]]], DATA[[[1, 2], [3, 4]], [[0, 0], [9, 9]]]),
    ("full-shape mask", lambda z: z[MASK], DATA[MASK]),
    ("mask per axis 0", lambda z: z[ROWS], DATA[ROWS]),
    ("mask and slice", lambda z: z[ROWS, 2:9], DATA[ROWS, 2:9]),
    ("list beside ...", lambda z: z[..., [3, 1]], DATA[..., [3, 1]]),
    ("empty coordinates", lambda z: z[[], []], DATA[[], []]),
    ("oindex lists", lambda z: z.oindex[[1, 3], [2, 4]], DATA[np.ix_([1, 3], [2, 4])]),
    ("oindex masks", lambda z: z.oindex[ROWS, COLS], DATA[np.ix_(ROWS, COLS)]),
    ("oindex mask and list", lambda z: z.oindex[ROWS, [16, 0]], DATA[np.ix_(ROWS, [16, 0])]),
    ("oindex int and list", lambda z: z.oindex[2, [3, 3]], DATA[2, [3, 3]]),
    ("vindex points", lambda z: z.vindex[[12, 0, 5], [16, 0, 5]], DATA[[12, 0, 5], [16, 0, 5]]),
    ("vindex mask", lambda z: z.vindex[MASK], DATA[MASK]),
    ("vindex ints", lambda z: z.vindex[2, 3], DATA[[2], [3]]),
    # blocks step over the stored objects: shards when sharded (as zarr-python)
    ("blocks int", lambda z: z.blocks[1], lambda r, c: DATA[r : 2 * r]),
    ("blocks last", lambda z: z.blocks[-1, 0], lambda r, c: DATA[(12 // r) * r :, :c]),
    ("blocks slices", lambda z: z.blocks[:2, 1:], lambda r, c: DATA[: 2 * r, c:]),
    ("get_basic_selection", lambda z: z.get_basic_selection((slice(2, 9), 4)), DATA[2:9, 4]),
    ("get_orthogonal_selection", lambda z: z.get_orthogonal_selection(([0, 7], COLS)), DATA[np.ix_([0, 7], COLS)]),
    ("get_coordinate_selection", lambda z: z.get_coordinate_selection(([0, 7], [8, 1])), DATA[[0, 7], [8, 1]]),
    ("get_mask_selection", lambda z: z.get_mask_selection(MASK), DATA[MASK]),
    ("get_block_selection", lambda z: z.get_block_selection((0, 1)), lambda r, c: DATA[:r, c : 2 * c]),
]


@pytest.mark.parametrize(("label", "read", "expected"), READS, ids=[r[0] for r in READS])
def test_reads_match_numpy(z: zarrio.Array, label: str, read: Reader, expected: Any) -> None:
    got = read(z)
    want = expected(*(z.shards or z.chunks)) if callable(expected) else expected
    assert np.shape(got) == np.shape(want)
    np.testing.assert_array_equal(got, want)


# (label, how zarrio writes it, how NumPy writes it)
Writer = Callable[[Any], None]
WRITES: list[tuple[str, Writer, Writer]] = [
    (
        "two points",
        lambda z: z.__setitem__(([1, 3], [2, 4]), [-7, -8]),
        lambda a: a.__setitem__(([1, 3], [2, 4]), [-7, -8]),
    ),
    ("mask", lambda z: z.__setitem__(MASK, -3), lambda a: a.__setitem__(MASK, -3)),
    (
        "mask values",
        lambda z: z.__setitem__(MASK, -np.arange(MASK.sum())),
        lambda a: a.__setitem__(MASK, -np.arange(MASK.sum())),
    ),
    (
        "duplicate points: the last wins",
        lambda z: z.vindex.__setitem__(([0, 0, 9], [0, 0, 9]), [5, 6, 7]),
        lambda a: a.__setitem__(([0, 0, 9], [0, 0, 9]), [5, 6, 7]),
    ),
    (
        "broadcast coordinates",
        lambda z: z.vindex.__setitem__((np.array([[0], [12]]), np.array([1, 16])), [[1, 2], [3, 4]]),
        lambda a: a.__setitem__((np.array([[0], [12]]), np.array([1, 16])), [[1, 2], [3, 4]]),
    ),
    (
        "oindex",
        lambda z: z.oindex.__setitem__(([1, 3], [2, 4]), -9),
        lambda a: a.__setitem__(np.ix_([1, 3], [2, 4]), -9),
    ),
    (
        "one list and slice",
        lambda z: z.__setitem__(([9, 2], slice(3, 7)), -4),
        lambda a: a.__setitem__(([9, 2], slice(3, 7)), -4),
    ),
    ("blocks", lambda z: z.blocks.__setitem__((0, 0), -2), lambda a: a.__setitem__((slice(0, 4), slice(0, 5)), -2)),
    (
        "set_coordinate_selection",
        lambda z: z.set_coordinate_selection(([12], [16]), 99),
        lambda a: a.__setitem__((12, 16), 99),
    ),
    ("set_mask_selection", lambda z: z.set_mask_selection(MASK, 0), lambda a: a.__setitem__(MASK, 0)),
    (
        "set_orthogonal_selection",
        lambda z: z.set_orthogonal_selection((ROWS, [0]), 1),
        lambda a: a.__setitem__(np.ix_(ROWS, [0]), 1),
    ),
    (
        "set_basic_selection",
        lambda z: z.set_basic_selection((slice(None), 3), 8),
        lambda a: a.__setitem__((slice(None), 3), 8),
    ),
]


@pytest.mark.parametrize(("label", "write", "model"), WRITES, ids=[w[0] for w in WRITES])
def test_writes_match_numpy(label: str, write: Writer, model: Writer) -> None:
    for store_kind in STORES:
        for layout in ("chunks", "sharded"):
            # blocks step over 4x5 chunks here: the sharded case gets the same grid by its shards
            options = dict(LAYOUTS[layout]) if label != "blocks" else {"chunks": (4, 5)}
            z = zarrio.create(STORES[store_kind](), SHAPE, "int32", fill_value=-1, **options)
            z[...] = DATA
            expected = DATA.copy()
            write(z)
            model(expected)
            np.testing.assert_array_equal(z[...], expected, err_msg=f"{store_kind}-{layout}")


def test_points_read_and_write_through_the_async_api() -> None:
    async def run(store: Any) -> None:
        a = await aio.create(store, shape=SHAPE, dtype="int32", chunks=(4, 5), shards=(8, 10))
        await a.setitem(..., DATA)
        np.testing.assert_array_equal(await a.getitem(([1, 3], [2, 4])), DATA[[1, 3], [2, 4]])
        np.testing.assert_array_equal(await a.vindex.getitem(MASK), DATA[MASK])
        np.testing.assert_array_equal(await a.oindex.getitem(([1, 3], [2, 4])), DATA[np.ix_([1, 3], [2, 4])])
        np.testing.assert_array_equal(await a.blocks.getitem((1, 1)), DATA[8:, 10:])
        np.testing.assert_array_equal(await a.get_coordinate_selection(([0], [0])), DATA[[0], [0]])
        np.testing.assert_array_equal(await a.get_mask_selection(MASK), DATA[MASK])
        np.testing.assert_array_equal(await a.get_basic_selection((2, slice(None))), DATA[2])
        np.testing.assert_array_equal(await a.get_block_selection((0, 0)), DATA[:8, :10])
        await a.vindex.setitem(([5, 6], [7, 8]), [-1, -2])
        await a.oindex.setitem(([0], [0, 16]), -3)
        await a.blocks.setitem((1, 1), -4)
        await a.set_mask_selection(DATA == 100, -5)
        await a.set_coordinate_selection(([12], [0]), -6)
        expected = DATA.copy()
        expected[[5, 6], [7, 8]] = [-1, -2]
        expected[np.ix_([0], [0, 16])] = -3
        expected[8:, 10:] = -4
        expected[DATA == 100] = -5
        expected[12, 0] = -6
        np.testing.assert_array_equal(await a.getitem(...), expected)

    asyncio.run(run(MemoryStore()))
    asyncio.run(run(ForwardingStore(MemoryStore())))


@pytest.mark.parametrize(
    "select",
    [
        lambda z: z[[0, 1], [2, 3], ...],  # two arrays beside '...'
        lambda z: z[[0, 1], 2:4, [1, 2]] if z.ndim == 3 else z[[0, 1], [2, 3], 1],
        lambda z: z[np.array([[0, 1]])],  # a 2-D integer array alone on a 2-D array
        lambda z: z[[1, 3], [2, 4, 5]],  # coordinates that do not broadcast
        lambda z: z[[1, 13], [0, 0]],  # out of bounds
        lambda z: z[None],
        lambda z: z[1.5],
        lambda z: z[True],
        lambda z: z.vindex[[1, 2]],  # one array for a 2-D array
        lambda z: z.vindex[1:3, [1, 2]],
        lambda z: z.vindex[ROWS],  # a mask not of the whole shape
        lambda z: z.vindex[np.array([1.0]), np.array([1])],
        lambda z: z.oindex[MASK],  # an N-d mask is not per axis
        lambda z: z.oindex[np.array([[1]]), 1],
        lambda z: z.get_basic_selection([1]),
        lambda z: z.get_mask_selection(ROWS),
        lambda z: z.blocks[0:2:2],
        lambda z: z.blocks[[0]],
        lambda z: z.blocks[100],
        lambda z: z.blocks[5:],
    ],
)
def test_bad_selections_are_selection_errors(z: zarrio.Array, select: Callable[[Any], Any]) -> None:
    with pytest.raises(SelectionError) as caught:
        select(z)
    assert isinstance(caught.value, IndexError)


def test_a_write_of_the_wrong_length_is_a_selection_error(z: zarrio.Array) -> None:
    with pytest.raises(SelectionError):
        z[[1, 3], [2, 4]] = [1, 2, 3]
    with pytest.raises(SelectionError):
        z[MASK] = [1, 2]
    np.testing.assert_array_equal(z[...], DATA)


class KeyRecordingStore(ForwardingStore):
    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.calls: list[tuple[str, str | None]] = []

    async def before(self, method: str, key: str | None) -> None:
        self.calls.append((method, key))


def test_points_read_each_chunk_that_holds_them_once() -> None:
    recording = KeyRecordingStore(MemoryStore())
    z = zarrio.create(recording, (64, 64), "int32", chunks=(8, 8))
    z[...] = np.arange(64 * 64, dtype="int32").reshape(64, 64)
    recording.calls.clear()
    got = z[[1, 2, 60, 3], [1, 7, 60, 0]]  # three points in chunk (0, 0), one in chunk (7, 7)
    assert got.tolist() == [65, 135, 3900, 192]
    assert sorted(key for _, key in recording.calls) == ["c/0/0", "c/7/7"]
    recording.calls.clear()
    z[[1, 2], [1, 7]] = -1  # one chunk read, merged and written back
    assert sorted(recording.calls) == [("get", "c/0/0"), ("set", "c/0/0")]
    assert z[0:3, 0:8][[1, 2], [1, 7]].tolist() == [-1, -1]


def test_a_mask_that_fills_chunks_writes_them_without_reading() -> None:
    recording = KeyRecordingStore(MemoryStore())
    z = zarrio.create(recording, (8, 8), "int32", chunks=(4, 4), fill_value=0)
    z[...] = 1
    mask = np.zeros((8, 8), dtype=bool)
    mask[:4, :4] = True  # all of chunk (0, 0)
    mask[4, 4] = True  # one element of chunk (1, 1)
    recording.calls.clear()
    z[mask] = 7
    assert sorted(recording.calls) == [("get", "c/1/1"), ("set", "c/0/0"), ("set", "c/1/1")]
    expected = np.ones((8, 8), dtype="int32")
    expected[mask] = 7
    np.testing.assert_array_equal(z[...], expected)
    # edge chunks of a 6x6 array in 4x4 chunks: complete when their in-bounds parts are all selected
    plan = PointSelection.from_arrays(np.nonzero(np.ones((6, 6), dtype=bool)), (6, 6)).plan((6, 6), (4, 4))
    assert [proj.is_complete for proj in plan] == [True, True, True, True]
    shuffled = PointSelection.from_arrays([np.array([0, 1, 0, 1]), np.array([1, 0, 0, 1])], (2, 2)).plan((2, 2), (2, 2))
    assert [proj.is_complete for proj in shuffled] == [False]  # every element, but not in order


def test_the_engine_places_points_by_projection_not_by_slices() -> None:
    """Coordinate planning gives one PointProjection per touched chunk, never complete (so a
    write merges and the decode-into-output shortcut, which needs slices, is never taken)."""
    points = PointSelection.from_arrays([np.array([0, 9, 1, 8]), np.array([0, 9, 1, 8])], (10, 10))
    p = points.plan((10, 10), (5, 5))
    projections = list(p)
    assert p.nchunks == len(projections) == 2
    assert all(isinstance(proj, PointProjection) and not proj.is_complete for proj in projections)
    assert [proj.coords for proj in projections] == [(0, 0), (1, 1)]
    assert [proj.out_index()[0].tolist() for proj in projections] == [[0, 2], [1, 3]]
    assert [proj.chunk_index()[0].tolist() for proj in projections] == [[0, 1], [4, 3]]


# ------------------------------------------------------------------ hypothesis: points and masks
@st.composite
def coordinate_cases(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...], tuple[np.ndarray[Any, Any], ...]]:
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 9), min_size=ndim, max_size=ndim)))
    chunks = tuple(draw(st.integers(1, 4)) for _ in shape)
    index_shape = tuple(draw(st.lists(st.integers(0, 4), min_size=1, max_size=2)))
    arrays = []
    for size in shape:
        # each array takes the index shape or broadcasts into it (a length-1 axis)
        own = tuple(n if draw(st.booleans()) else 1 for n in index_shape)
        n = int(np.prod(own))
        values = draw(st.lists(st.integers(-size, size - 1), min_size=n, max_size=n))
        arrays.append(np.array(values, dtype=np.int64).reshape(own))
    return shape, chunks, tuple(arrays)


SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(coordinate_cases(), st.booleans(), st.booleans())
def test_coordinate_selections_match_numpy(case: Any, sharded: bool, blocking: bool) -> None:
    shape, chunks, arrays = case
    model = np.arange(int(np.prod(shape)), dtype="int32").reshape(shape)
    store: Any = MemoryStore() if blocking else ForwardingStore(MemoryStore())
    options: dict[str, Any] = {"chunks": chunks}
    if sharded:
        options["shards"] = tuple(2 * c for c in chunks)
    z = zarrio.create(store, shape, "int32", fill_value=-1, **options)
    z[...] = model
    np.testing.assert_array_equal(z.vindex[arrays], model[arrays])
    value = -np.arange(model[arrays].size, dtype="int32").reshape(model[arrays].shape) - 5
    z.vindex[arrays] = value
    model[arrays] = value  # NumPy: with repeated points, the last value is the one assigned
    np.testing.assert_array_equal(z[...], model)


@SETTINGS
@given(st.data(), st.booleans())
def test_mask_selections_match_numpy(data: st.DataObject, sharded: bool) -> None:
    ndim = data.draw(st.integers(1, 3))
    shape = tuple(data.draw(st.lists(st.integers(1, 8), min_size=ndim, max_size=ndim)))
    chunks = tuple(data.draw(st.integers(1, 4)) for _ in shape)
    flags = data.draw(st.lists(st.booleans(), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    mask = np.array(flags, dtype=bool).reshape(shape)
    model = np.arange(int(np.prod(shape)), dtype="int32").reshape(shape)
    options: dict[str, Any] = {"chunks": chunks, **({"shards": tuple(2 * c for c in chunks)} if sharded else {})}
    z = zarrio.create(ForwardingStore(MemoryStore()), shape, "int32", **options)
    z[...] = model
    np.testing.assert_array_equal(z[mask], model[mask])
    z[mask] = -model[mask] - 1
    model[mask] = -model[mask] - 1
    np.testing.assert_array_equal(z[...], model)


# ------------------------------------------------------------------ the same selections under zarr-python 3.4
REF_EXPRESSIONS = [
    "z[3]",
    "z[3, -2]",
    "z[1:12:3, 2:9]",
    "z[..., 5]",
    "z[[4, 0, 4]]",
    "z[[9, 2], 3:7]",
    "z[2:5, [16, 0]]",
    "z[[1, 3], [2, 4]]",
    "z[5, [1, 16, 1]]",
    "z[[-1, -13], [0, -16]]",
    "z[np.array([[0], [12]]), np.array([1, 8, 16])]",
    "z[MASK]",
    "z[ROWS, 2:9]",
    "z[ROWS, COLS]",
    "z[ROWS, [2, 3]]",
    "z.oindex[[1, 3], [2, 4]]",
    "z.oindex[ROWS, COLS]",
    "z.vindex[[12, 0, 5], [16, 0, 5]]",
    "z.vindex[MASK]",
    "z.vindex[2, 3]",
    "z.blocks[1]",
    "z.blocks[-1, 0]",
    "z.blocks[:2, 1:]",
    "z.blocks[2:1]",
    "z.get_basic_selection((slice(2, 9), 4))",
    "z.get_orthogonal_selection(([0, 7], COLS))",
    "z.get_coordinate_selection(([0, 7], [8, 1]))",
    "z.get_mask_selection(MASK)",
    "z.get_block_selection((0, 1))",
    # refused by both
    "z[[0, 1], [2, 3], ...]",
    "z[np.array([[0, 1]])]",
    "z[[1, 13], [0, 0]]",
    "z[None]",
    "z[1.5]",
    "z.vindex[[1, 2]]",
    "z.vindex[1:3, [1, 2]]",
    "z.vindex[ROWS]",
    "z.oindex[MASK]",
    "z.get_basic_selection([1])",
    "z.get_mask_selection(ROWS)",
    "z.blocks[0:2:2]",
    "z.blocks[[0]]",
    "z.blocks[100]",
    "z.blocks[5:]",
]
REF_WRITES = [
    "z[[1, 3], [2, 4]] = [-7, -8]",
    "z[MASK] = -3",
    "z.vindex[[0, 0, 9], [0, 0, 9]] = [5, 6, 7]",
    "z.oindex[[1, 3], [2, 4]] = -9",
    "z.blocks[0, 1] = -2",
    "z[ROWS, COLS] = 4",
]
REF_SCRIPT = """
import json, sys, warnings
import numpy as np, zarr
warnings.simplefilter("ignore")
reads, writes, layout = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
DATA = np.arange(13 * 17, dtype="int32").reshape(13, 17)
ROWS, COLS, MASK = DATA[:, 0] % 3 == 0, DATA[0, :] % 4 == 1, DATA % 7 == 2
kw = {"chunks": (4, 5)} if layout == "chunks" else {"chunks": (4, 5), "shards": (8, 10)}
def fresh():
    z = zarr.create_array(zarr.storage.MemoryStore(), shape=DATA.shape, dtype="int32", fill_value=-1, **kw)
    z[...] = DATA
    return z
z, out = fresh(), {}
names = {"np": np, "ROWS": ROWS, "COLS": COLS, "MASK": MASK}
def family(e):
    return next(c.__name__ for c in type(e).__mro__ if c.__module__ == "builtins")
for expr in reads:
    try:
        v = np.asarray(eval(expr, {**names, "z": z}))
        out[expr] = {"value": v.tolist(), "shape": list(v.shape)}
    except Exception as e:
        out[expr] = {"error": family(e)}
for stmt in writes:
    z = fresh()
    exec(stmt, {**names, "z": z})
    out[stmt] = {"value": np.asarray(z[...]).tolist(), "shape": list(DATA.shape)}
print(json.dumps(out))
"""


@pytest.mark.parametrize("layout", ["chunks", "sharded"])
def test_the_same_selections_as_zarr_python(run_ref: Callable[..., str], layout: str) -> None:
    ref = json.loads(run_ref(REF_SCRIPT, json.dumps(REF_EXPRESSIONS), json.dumps(REF_WRITES), layout))
    names = {"np": np, "ROWS": ROWS, "COLS": COLS, "MASK": MASK}

    def fresh() -> zarrio.Array:
        z = zarrio.create(MemoryStore(), SHAPE, "int32", fill_value=-1, **LAYOUTS[layout])
        z[...] = DATA
        return z

    z = fresh()
    for expr in REF_EXPRESSIONS:
        want = ref[expr]
        if "error" in want:  # refused by zarr-python with an IndexError: a SelectionError (an IndexError) here
            assert want["error"] == "IndexError", (expr, want)
            with pytest.raises(SelectionError):
                eval(expr, {**names, "z": z})
            continue
        got = np.asarray(eval(expr, {**names, "z": z}))
        assert list(got.shape) == want["shape"], expr
        assert got.tolist() == want["value"], expr
    for stmt in REF_WRITES:
        z = fresh()
        exec(stmt, {**names, "z": z})
        assert np.asarray(z[...]).tolist() == ref[stmt]["value"], stmt


@pytest.mark.parametrize(
    "shape",
    [(64, 64), (2**20, 2**20), (2**40, 2**40)],  # 16-bit chunk ids, (chunk, position) keys, too many chunks
    ids=["radix", "composite", "lexsort"],
)
def test_points_group_by_chunk_in_order_on_any_grid(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(5)
    ys = np.r_[rng.integers(0, 8, 40), shape[0] - 1, 0, 0]
    xs = np.r_[rng.integers(0, 8, 40), shape[1] - 1, 0, 0]
    plan = PointSelection.from_arrays([ys, xs], shape).plan(shape, (2, 2))
    seen: list[tuple[int, ...]] = []
    placed = np.full(ys.size, -1)
    for proj in plan:
        positions = proj.out_index()[0]
        assert np.all(np.diff(positions) > 0)  # a chunk's points keep their order (the last duplicate wins)
        within = proj.chunk_index()
        np.testing.assert_array_equal(ys[positions], np.asarray(proj.coords[0]) * 2 + within[0])
        np.testing.assert_array_equal(xs[positions], np.asarray(proj.coords[1]) * 2 + within[1])
        placed[positions] = 1
        seen.append(proj.coords)
    assert len(seen) == len(set(seen))  # each chunk once
    assert np.all(placed == 1)  # every point placed
