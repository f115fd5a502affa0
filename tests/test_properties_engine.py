"""Property tests over the engine's whole space, against a NumPy model (issue 13, item 2).

Each example draws an array (rank 0-3, small shapes, chunks from one element to larger than the
array), a layout (plain chunks, shards, shards nested in shards), a codec chain (a transpose in
front of any level, every compressor, blosc's cnames and shuffles, crc32c, both index locations,
both endians), a data type, a fill value and a store (memory and local: blocking access; a
ForwardingStore and a read-only zip archive: the async driver). It applies whole and partial
writes to zarrio and to a NumPy model, then reads every drawn selection (basic, negative steps,
``...``, orthogonal integer arrays and masks) through the sync facade and through ``zarrio.aio``
in a loop of the test's own, and compares bit for bit.

Each store kind is its own test. Profiles: ``ci`` (the default, and what CI runs) is derandomized
with a fixed number of examples (100 per store kind, 25 for strings) and no shrinking, so every run
checks the same cases within the per-test timeout; ``ZARRIO_PROPERTY_PROFILE=long`` runs ten times
as many, randomized and shrunk, without the timeout, for local hunting. ``ZARRIO_PROPERTY_EXAMPLES``
overrides the count.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from engine_model import (
    BLOSC_CNAMES,
    BLOSC_SHUFFLES,
    CRC32C,
    FIXED_DTYPES,
    STORE_KINDS,
    ChainChoice,
    assert_same,
    blosc,
    codec_chain,
    expected_selection,
    gzip,
    is_orthogonal,
    normalize_selection,
    random_values,
    single_advanced,
    store_case,
    zstd,
)
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import zarrio
from zarrio import aio

settings.register_profile(
    "zarrio-engine-ci",
    max_examples=int(os.environ.get("ZARRIO_PROPERTY_EXAMPLES", "0")) or 100,
    derandomize=True,
    database=None,
    deadline=None,
    # no shrinking: a failure is reported as found (derandomized, so it reproduces), within the
    # suite's per-test timeout; the long profile shrinks
    phases=[Phase.explicit, Phase.generate],
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "zarrio-engine-long",
    max_examples=int(os.environ.get("ZARRIO_PROPERTY_EXAMPLES", "0")) or 1000,
    derandomize=False,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE_NAME = os.environ.get("ZARRIO_PROPERTY_PROFILE", "ci").strip().lower() or "ci"
if PROFILE_NAME not in ("ci", "long"):
    raise RuntimeError(f"ZARRIO_PROPERTY_PROFILE must be 'ci' or 'long', not {PROFILE_NAME!r}")
#: the long profile runs for minutes: no per-test timeout then
pytestmark = [pytest.mark.timeout(0)] if PROFILE_NAME == "long" else []
#: applied per test (never loaded globally: other modules keep their own settings)
PROFILE = settings.get_profile(f"zarrio-engine-{PROFILE_NAME}")
#: the string test draws a narrower space and gets a quarter of the examples
STRING_PROFILE = settings(PROFILE, max_examples=max(1, PROFILE.max_examples // 4))
#: the row-block test draws the space of issue 13's transpose bug densely: a quarter of the examples
ROW_BLOCK_PROFILE = STRING_PROFILE


# ------------------------------------------------------------------ strategies
@dataclass(frozen=True)
class Case:
    shape: tuple[int, ...]
    dtype: str
    grid: tuple[int, ...]  # the chunk grid: chunks, or the outermost shards
    codecs: list[dict[str, Any]]
    fill_value: Any
    store: str
    seed: int

    def __repr__(self) -> str:  # what hypothesis prints for a falsifying example: enough to rebuild it
        return (
            f"Case(shape={self.shape}, dtype={self.dtype!r}, grid={self.grid}, fill_value={self.fill_value!r}, "
            f"store={self.store!r}, seed={self.seed},\n     codecs={self.codecs})"
        )


def compressors(
    itemsize: int, *, decompressors_only: bool = False, min_size: int = 0
) -> st.SearchStrategy[tuple[dict[str, Any], ...]]:
    """0-2 bytes->bytes codecs (crc32c among them unless ``decompressors_only``)."""
    squeezers = [
        st.builds(gzip, st.sampled_from([0, 1, 6, 9])),
        st.builds(zstd, st.sampled_from([-1, 0, 1, 3]), st.booleans()),
        st.builds(
            blosc,
            st.sampled_from(BLOSC_CNAMES),
            st.sampled_from(BLOSC_SHUFFLES),
            st.sampled_from([0, 1, 5]),
            st.sampled_from([None, itemsize]),
        ),
    ]
    one = st.one_of(*squeezers, *([] if decompressors_only else [st.just(CRC32C)]))
    return st.lists(one, min_size=min_size, max_size=2).map(tuple)


@st.composite
def chain_choice(draw: st.DrawFn, ndim: int, itemsize: int, forced: bool = False) -> ChainChoice:
    """One level's choices; ``forced``: a transpose that moves axes, and a decompressor last (the
    chain the engine once decoded straight into the output without undoing the transpose)."""
    order = None
    identity = tuple(range(ndim))
    if ndim > 1 and (forced or draw(st.booleans())):  # a transpose at one level in two (rank 1: only the identity)
        # the identity last (and never when forced): sampled_from leans to the front, st.permutations to the identity
        perms = sorted(itertools.permutations(identity), key=lambda p: p == identity)
        order = draw(st.sampled_from(perms[:-1] if forced else perms))
    squeezed = draw(compressors(itemsize))
    if forced:
        squeezed = (*squeezed, draw(compressors(itemsize, decompressors_only=True, min_size=1))[0])
    return ChainChoice(
        order=order,
        endian=draw(st.sampled_from(["little", "big"])),
        compressors=squeezed,
        index_location=draw(st.sampled_from(["start", "end"])),
        index_crc=draw(st.booleans()),
    )


@st.composite
def shapes_and_layouts(
    draw: st.DrawFn, row_blocks: bool = False
) -> tuple[tuple[int, ...], tuple[int, ...], list[tuple[int, ...]]]:
    """(shape, grid, inner levels): the chunk grid and, for sharded layouts, each inner level's
    chunk shape (outermost first); each is a multiple of the next. ``row_blocks``: rank 2-3 and
    chunks spanning every axis but the first, so a chunk's place in the output is one block."""
    ndim = draw(st.integers(2, 3) if row_blocks else st.integers(0, 3))
    top = {0: 0, 1: 12, 2: 7, 3: 5}[ndim]
    shape = tuple(
        draw(st.integers(0, top)) if draw(st.integers(0, 9)) == 0 else draw(st.integers(1, top)) for _ in range(ndim)
    )
    # one element, an edge chunk, larger than the array, and (one axis in two) the whole axis:
    # chunks spanning the trailing axes are whole contiguous blocks of the output
    chunks = tuple(max(s, 1) if draw(st.booleans()) else draw(st.integers(1, max(s, 1) + 2)) for s in shape)
    if row_blocks:
        chunks = (draw(st.integers(1, max(shape[0], 1))), *(max(s, 1) for s in shape[1:]))
    layout = draw(st.sampled_from(["chunks", "chunks", "shards", "shards", "nested"]))
    if layout == "chunks":
        return shape, chunks, []
    factors = tuple(draw(st.integers(1, 3)) for _ in shape)
    shard = tuple(c * f for c, f in zip(chunks, factors, strict=True))
    if layout == "shards":
        return shape, shard, [chunks]
    outer = tuple(s * draw(st.integers(1, 2)) for s in shard)
    return shape, outer, [shard, chunks]


@st.composite
def cases(draw: st.DrawFn, stores: tuple[str, ...] = STORE_KINDS, row_blocks: bool = False) -> Case:
    shape, grid, levels = draw(shapes_and_layouts(row_blocks))
    dtype = draw(st.sampled_from(FIXED_DTYPES))
    itemsize = np.dtype(dtype).itemsize
    choices = [draw(chain_choice(len(shape), itemsize)) for _ in range(len(levels))]
    choices.append(draw(chain_choice(len(shape), itemsize, forced=row_blocks)))  # the leaf's
    seed = draw(st.integers(0, 2**32 - 1))
    fill_kind = draw(st.sampled_from(["zero", "random"] + (["nan"] if np.dtype(dtype).kind in "fc" else [])))
    if fill_kind == "zero":
        fill = np.zeros((), dtype)[()]
    elif fill_kind == "nan":
        fill = np.array(np.nan, dtype)[()]
    else:
        fill = random_values(np.random.default_rng(seed + 1), (), dtype)[()]
    return Case(shape, dtype, grid, codec_chain(levels, choices), fill, draw(st.sampled_from(stores)), seed)


@st.composite
def basic_item(draw: st.DrawFn, size: int, allow_int: bool = True) -> Any:
    kinds = ["slice", "slice"] + (["int"] if size and allow_int else [])
    if draw(st.sampled_from(kinds)) == "int":
        return draw(st.integers(-size, size - 1))
    bound = st.none() | st.integers(-size - 2, size + 2)
    step = draw(st.none() | st.sampled_from([1, 2, 3, -1, -2, -3]))
    return slice(draw(bound), draw(bound), step)


@st.composite
def orthogonal_item(draw: st.DrawFn, size: int) -> Any:
    kind = draw(st.sampled_from(["array", "mask", "slice", "int"] if size else ["array", "mask", "slice"]))
    if kind == "array":
        picks = draw(st.lists(st.integers(-size, size - 1), max_size=5)) if size else []
        return np.array(
            picks, dtype=draw(st.sampled_from([np.intp, np.int32, np.uint8])) if all(p >= 0 for p in picks) else np.intp
        )
    if kind == "mask":
        return np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size)), dtype=bool)
    return draw(basic_item(size))


@st.composite
def selections(draw: st.DrawFn, shape: tuple[int, ...]) -> Any:
    """A selection in one of the forms users write: one entry per axis, ``...`` standing for some
    full axes, or trailing axes left out."""
    orthogonal = draw(st.booleans()) and bool(shape)
    items = [draw(orthogonal_item(s) if orthogonal else basic_item(s)) for s in shape]
    form = draw(st.sampled_from(["full", "ellipsis", "short"]))
    if form == "ellipsis":
        at = draw(st.integers(0, len(items)))
        span = draw(st.integers(0, len(items) - at))
        return (*items[:at], Ellipsis, *items[at + span :])
    if form == "short" and items:
        return tuple(items[: draw(st.integers(0, len(items)))])
    return tuple(items) if len(items) != 1 or draw(st.booleans()) else items[0]


@st.composite
def writes(draw: st.DrawFn, shape: tuple[int, ...]) -> list[tuple[str, Any, str]]:
    """1-3 writes: (kind, region, via) with kind whole / region / fill / scalar, via sync or async."""
    out = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["whole", "region", "region", "fill", "scalar"]))
        region: Any = Ellipsis
        if kind != "whole":
            region = tuple(draw(basic_item(s)) for s in shape)
        out.append((kind, region, draw(st.sampled_from(["sync", "async"]))))
    return out


# ------------------------------------------------------------------ the model run
def _apply_writes(case: Case, z: zarrio.Array, model: np.ndarray[Any, Any], ops: list[tuple[str, Any, str]]) -> None:
    rng = np.random.default_rng(case.seed)
    for kind, region, via in ops:
        target_shape = np.shape(model[region])
        if kind == "scalar":
            value: Any = random_values(rng, (), case.dtype)[()]
        elif kind == "fill":  # makes chunks all-fill: they must read back as the fill value, stored or not
            value = np.full(target_shape, case.fill_value, dtype=case.dtype)
        else:
            value = random_values(rng, target_shape, case.dtype)
        model[region] = value
        if via == "sync":
            z[region] = value
        else:
            asyncio.run(z.aio.setitem(region, value))


def _read_sync(z: zarrio.Array, selection: Any) -> Any:
    return z.oindex[selection] if is_orthogonal(selection) else z[selection]


async def _read_async(a: aio.AsyncArray, selection: Any) -> Any:
    return await (a.oindex.getitem(selection) if is_orthogonal(selection) else a.getitem(selection))


def check_case(case: Case, ops: list[tuple[str, Any, str]], sels: list[Any]) -> None:
    model = np.full(case.shape, case.fill_value, dtype=case.dtype)
    with tempfile.TemporaryDirectory() as tmp, store_case(case.store, Path(tmp)) as stores:
        z = zarrio.create(
            stores.writer, case.shape, case.dtype, chunks=case.grid, codecs=case.codecs, fill_value=case.fill_value
        )
        _apply_writes(case, z, model, ops)
        reader = zarrio.open(stores.reader(), mode="r")
        assert isinstance(reader, zarrio.Array)
        everything = [Ellipsis, *sels]
        for sel in everything:
            assert_same(_read_sync(reader, sel), expected_selection(model, sel), f"sync read of {sel!r}")
            if single_advanced(sel):  # one array or mask and no ints: ``[...]`` (NumPy's rules) agrees
                assert_same(reader[sel], model[sel], f"sync z[{sel!r}]")

        async def read_all() -> list[Any]:
            a = await aio.open_array(stores.reader(), mode="r")
            return await asyncio.gather(*(_read_async(a, sel) for sel in everything))

        for sel, got in zip(everything, asyncio.run(read_all()), strict=True):
            assert_same(got, expected_selection(model, sel), f"async read of {sel!r}")


@pytest.mark.parametrize("store", STORE_KINDS)
@PROFILE
@given(data=st.data())
def test_written_arrays_read_back_as_the_numpy_model(data: st.DataObject, store: str) -> None:
    case = data.draw(cases(stores=(store,)), label="case")
    ops = data.draw(writes(case.shape), label="writes")
    sels = data.draw(st.lists(selections(case.shape), min_size=1, max_size=4), label="selections")
    check_case(case, ops, sels)


@pytest.mark.parametrize("store", STORE_KINDS)
@ROW_BLOCK_PROFILE
@given(data=st.data())
def test_row_block_chunks_behind_a_transpose_read_back_as_the_numpy_model(data: st.DataObject, store: str) -> None:
    """The space of issue 13's wrong reads, drawn densely: chunks whose place in the output is one
    contiguous block (they span every axis but the first), a transpose that moves axes in front
    of the leaf's bytes codec, and a decompressor last."""
    case = data.draw(cases(stores=(store,), row_blocks=True), label="case")
    ops = data.draw(writes(case.shape), label="writes")
    sels = data.draw(st.lists(selections(case.shape), min_size=1, max_size=2), label="selections")
    check_case(case, ops, sels)


# ------------------------------------------------------------------ variable-length strings
TEXT = st.text(alphabet=st.sampled_from(["a", "Z", " ", "é", "\u2025", "\U0001f600", "\x00"]), max_size=6)


@pytest.mark.parametrize("store", STORE_KINDS)
@STRING_PROFILE
@given(data=st.data())
def test_string_arrays_read_back_as_the_numpy_model(data: st.DataObject, store: str) -> None:
    shape, grid, levels = data.draw(shapes_and_layouts(), label="shape, grid, inner levels")
    choices = [data.draw(chain_choice(len(shape), 1)) for _ in range(len(levels) + 1)]
    codecs = codec_chain(levels, choices, serializer={"name": "vlen-utf8"})
    fill = data.draw(st.sampled_from(["", "fill"]))
    model = np.full(shape, fill, dtype=object)
    with tempfile.TemporaryDirectory() as tmp, store_case(store, Path(tmp)) as stores:
        z = zarrio.create(stores.writer, shape, "string", chunks=grid, codecs=codecs, fill_value=fill)
        for _ in range(data.draw(st.integers(1, 2))):
            region = tuple(data.draw(basic_item(s)) for s in shape)
            target = np.shape(model[region])
            value = np.array(
                data.draw(st.lists(TEXT, min_size=int(np.prod(target)), max_size=int(np.prod(target)))), dtype=object
            ).reshape(target)
            if not target:
                value = value[()]  # one string: an object array would be stored in the model as an element
            model[region] = value
            z[region] = value
        reader = zarrio.open(stores.reader(), mode="r")
        assert isinstance(reader, zarrio.Array)
        sels = [Ellipsis, *data.draw(st.lists(selections(shape), min_size=1, max_size=3))]
        for sel in sels:
            assert_same(_read_sync(reader, sel), expected_selection(model, sel), f"sync read of {sel!r}")

        async def read_all() -> list[Any]:
            a = await aio.open_array(stores.reader(), mode="r")
            return await asyncio.gather(*(_read_async(a, sel) for sel in sels))

        for sel, got in zip(sels, asyncio.run(read_all()), strict=True):
            assert_same(got, expected_selection(model, sel), f"async read of {sel!r}")


# ------------------------------------------------------------------ the model itself
def test_the_selection_model_expands_ellipsis_and_short_selections() -> None:
    model = np.arange(24).reshape(2, 3, 4)
    assert normalize_selection((1, Ellipsis), 3) == (1, slice(None), slice(None))
    assert normalize_selection((Ellipsis, 1, 2, 3), 3) == (1, 2, 3)
    assert normalize_selection((), 3) == (slice(None),) * 3
    got = expected_selection(model, (np.array([1, 0]), Ellipsis, np.array([True, False, False, True])))
    assert got.tolist() == model[np.ix_([1, 0], range(3), [0, 3])].tolist()
    assert expected_selection(model, (0, np.array([2, 0]))).tolist() == [[8, 9, 10, 11], [0, 1, 2, 3]]
